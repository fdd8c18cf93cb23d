/// A first look at ASCII text for the result rules, fast enough for every byte of every result.
///
/// A result rule can only fire where the text holds what it is anchored on: every step of one of
/// its phrase patterns (some alternative of each), or the words and characters its finder starts
/// from (a role label and a colon, a sending verb and an `@`, a tag name and a bracket, `<!--`,
/// `javascript`). The screen reads the text in overlapping windows, one pass per window with no
/// allocation, and names the byte ranges where some rule's anchors all occur; only those are
/// analysed, with a margin. Windows overlap by more than any phrase a rule matches, so a phrase is
/// always wholly inside some window. Text with any non-ASCII byte or control character is not
/// screened (the Unicode rules need all of it) and is analysed whole.
struct ResultScreen: Sendable {
    static let window = 4096
    static let overlap = 1024
    static let margin = 512

    /// Each phrase pattern as its steps: exact word ids and indices into `prefixes`.
    let patterns: [[(ids: [Int32], prefixes: [Int])]]
    let prefixes: [[UInt8]]
    /// By first byte: indices of the prefixes starting with it.
    let prefixesByFirst: [[Int]]
    let vocabulary: Vocabulary.Lookup
    let labels: [Int32], senders: [Int32], stems: [Int32], tags: [Int32], handlers: [Int32], javascript: Int32
    /// Some result rule the screen does not know how to anchor: everything is analysed.
    let screensAll: Bool

    static let shared = ResultScreen(rules: RuleSet.resultRules)

    /// Rules whose finders the screen anchors below (all others must be phrase rules).
    static let anchored: Set<String> = ["exfiltration.recipient", "instruction.role-label", "instruction.foreign-override",
                                        "markup.pseudo-tag", "markup.active", "unicode.invisible", "markup.ansi"]

    init(rules: [DetectionRule]) {
        var prefixes: [[UInt8]] = []
        func prefixIndex(_ p: [UInt8]) -> Int {
            if let i = prefixes.firstIndex(of: p) { return i }
            prefixes.append(p)
            return prefixes.count - 1
        }
        var patterns: [[(ids: [Int32], prefixes: [Int])]] = []
        var all = false
        for rule in rules {
            if rule.patterns.isEmpty {
                if !Self.anchored.contains(rule.id) { all = true }
                continue
            }
            for p in rule.patterns {
                patterns.append(p.compiled.map { step in (step.ids.map(Int32.init), step.prefixes.map(prefixIndex)) })
            }
        }
        func ids(_ words: [String]) -> [Int32] { words.map { Int32(Vocabulary.id(for: $0)) } }
        labels = ids(["system", "admin", "administrator", "developer", "assistant", "root", "operator", "supervisor"])
        senders = ids(Array(HiddenRecipient.senders))
        stems = ids(["ignorez", "oubliez", "ignora", "olvida", "ignoriere", "vergiss", "negeer", "zignoruj", "dimentica",
                     "systemanweisung", "systemanweisungen", "instrucciones", "istruzioni", "gib"])
        tags = ids(Array(PseudoTags.tagNames) + ["inst", "directive", "override"])
        handlers = ids(["onclick", "onerror", "onload", "onmouseover", "onfocus", "onsubmit"])
        javascript = Int32(Vocabulary.id(for: "javascript"))
        self.patterns = patterns
        self.prefixes = prefixes
        var byFirst = [[Int]](repeating: [], count: 256)
        for (i, p) in prefixes.enumerated() { byFirst[Int(p[0])].append(i) }
        prefixesByFirst = byFirst
        screensAll = all
        // Taken after every anchor word is registered, so the table knows them all.
        vocabulary = Vocabulary.lookup()
    }

    /// Byte ranges of `text` that need the rules, merged and in order; the whole text when it
    /// cannot be screened.
    func ranges(_ text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        let n = text.count
        guard !screensAll, !text.contains(where: { $0 >= 0x80 || ($0 < 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D) || $0 == 0x7F }) else {
            return [0..<n]
        }
        var out: [Range<Int>] = []
        var scratch = Scratch(vocabulary: vocabulary.count, prefixes: prefixes.count)
        var start = 0
        while start < n {
            let end = min(n, start + Self.window)
            if flags(text, start..<end, &scratch) {
                let r = max(0, start - Self.margin)..<min(n, end + Self.margin)
                if let last = out.last, last.upperBound >= r.lowerBound { out[out.count - 1] = last.lowerBound..<r.upperBound } else { out.append(r) }
            }
            if end == n { break }
            start = end - Self.overlap
        }
        return out
    }

    struct Scratch {
        var present: [Bool]
        var setIDs: [Int32] = []
        var prefixHit: [Bool]
        var setPrefixes: [Int] = []
        init(vocabulary: Int, prefixes: Int) {
            present = [Bool](repeating: false, count: vocabulary)
            prefixHit = [Bool](repeating: false, count: prefixes)
        }
        mutating func reset() {
            for id in setIDs { present[Int(id)] = false }
            for p in setPrefixes { prefixHit[p] = false }
            setIDs.removeAll(keepingCapacity: true)
            setPrefixes.removeAll(keepingCapacity: true)
        }
    }

    /// Whether some result rule has all its anchors in `range`.
    func flags(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ s: inout Scratch) -> Bool {
        s.reset()
        var at = false, colon = false, bracket = false, markup = false
        var wordStart = -1
        var hash: UInt64 = 0xcbf29ce484222325
        func endWord(_ end: Int) {
            let id = vocabulary.id(hash: hash, folding: text, wordStart..<end)
            if id >= 0, !s.present[Int(id)] { s.present[Int(id)] = true; s.setIDs.append(id) }
            let first = Self.fold(text[wordStart])
            for p in prefixesByFirst[Int(first)] where !s.prefixHit[p] {
                let prefix = prefixes[p]
                guard end - wordStart >= prefix.count else { continue }
                var same = true
                for k in 1..<prefix.count where Self.fold(text[wordStart + k]) != prefix[k] { same = false; break }
                if same { s.prefixHit[p] = true; s.setPrefixes.append(p) }
            }
        }
        var i = range.lowerBound
        while i < range.upperBound {
            let b = text[i]
            let f = Self.fold(b)
            if (f >= 0x61 && f <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == 0x27 || b == 0x5F {
                if wordStart < 0 { wordStart = i; hash = 0xcbf29ce484222325 }
                hash = (hash ^ UInt64(f)) &* 0x100000001b3
            } else {
                if wordStart >= 0 { endWord(i); wordStart = -1 }
                switch b {
                case 0x40: at = true
                case 0x3A: colon = true
                case 0x3C, 0x5B:
                    bracket = true
                    if i + 1 < range.upperBound {
                        let next = Self.fold(text[i + 1])
                        // `<!--`, `<script`, `<iframe`, `<|im_start|>`, `[|…|]`
                        if next == 0x21 || next == 0x7C || (b == 0x3C && (next == 0x73 || next == 0x69)) { markup = true }
                    }
                case 0x21:
                    if i + 1 < range.upperBound, text[i + 1] == 0x5B { markup = true }
                default: break
                }
            }
            i += 1
        }
        if wordStart >= 0 { endWord(range.upperBound) }
        if markup { return true }
        let present = s.present, hit = s.prefixHit
        func any(_ ids: [Int32]) -> Bool { ids.contains { present[Int($0)] } }
        if at && any(senders) { return true }
        if colon && any(labels) { return true }
        if bracket && any(tags) { return true }
        if present[Int(javascript)] || any(handlers) || any(stems) { return true }
        for steps in patterns {
            var all = true
            for step in steps where !(step.ids.contains { present[Int($0)] } || step.prefixes.contains { hit[$0] }) {
                all = false
                break
            }
            if all { return true }
        }
        return false
    }

    @inline(__always) static func fold(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 32 : b }
}

extension Vocabulary.Lookup {
    /// The id of the lower-cased ASCII word at `range` of `text`, whose folded FNV-1a hash is `hash`.
    func id(hash: UInt64, folding text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int32 {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while ids[slot] >= 0 {
            let key = keys[slot]
            if key.count == range.count {
                var same = true
                for k in 0..<key.count where ResultScreen.fold(text[range.lowerBound + k]) != key[k] { same = false; break }
                if same { return ids[slot] }
            }
            slot = (slot + 1) & mask
        }
        return -1
    }
}
