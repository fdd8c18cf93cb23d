import Synchronization

/// A first look at ASCII text for the result rules, fast enough for every byte of every result.
///
/// A result rule can only fire where the text holds what it is anchored on: some alternative of
/// every step of one of its phrase patterns, near each other, or the words and characters its
/// finder starts from (a role label and a colon, a sending verb and an `@`, a tag name and a
/// bracket, `<!--`, `javascript`). The screen finds, in one pass that passes most words on their
/// first two bytes, where the rules' words occur; then, for each pattern, at each occurrence of its
/// rarest step it asks whether every other step occurs within `reachWords` words (more than any
/// phrase a rule matches spans: gaps are counted in words, as the rules count them, so padding
/// between words does not move them apart). Only the regions where that holds are analysed, with a margin. Text with any
/// non-ASCII byte or control character is not screened (the Unicode rules need all of it) and is
/// analysed whole.
struct ResultScreen: Sendable {
    /// How far a phrase's words can lie from its anchor, in words (the longest pattern spans
    /// fewer: steps plus gaps), and how far around markup the text is read, in bytes.
    static let reachWords = 48
    static let reach = 1024
    static let margin = 512

    /// A pattern as step alternatives (term ids: vocabulary ids, then prefixes after them), with
    /// the index of its rarest step.
    struct Pattern: Sendable {
        var steps: [[Int32]]
        var anchor: Int
    }

    let patterns: [Pattern]
    /// By term id: the patterns whose anchor step has that term.
    let anchoredBy: [[Int32]]
    let vocabulary: Vocabulary.Lookup
    let prefixes: [[UInt8]]
    /// By first folded byte: the prefixes starting with it, as term ids.
    let prefixesByFirst: [[Int32]]
    /// By first folded byte: whether some prefix starts with it.
    let hasPrefix: [Bool]
    /// By the folded first two bytes of a word: whether some term starts so.
    let pairs: [Bool]
    let singles: [Bool]
    let labels: [Int32], senders: [Int32], tags: [Int32], triggers: [Int32]
    /// Some result rule the screen does not know how to anchor: everything is analysed.
    let screensAll: Bool

    static let shared = ResultScreen(rules: RuleSet.resultRules)
    static let pool = Mutex<[Occurrences]>([])

    /// Rules whose finders the screen anchors below (all others must be phrase rules).
    static let anchored: Set<String> = ["exfiltration.recipient", "instruction.role-label", "instruction.foreign-override",
                                        "markup.pseudo-tag", "markup.active", "unicode.invisible", "markup.ansi"]

    init(rules: [DetectionRule]) {
        func ids(_ words: [String]) -> [Int32] { words.map { Int32(Vocabulary.id(for: $0)) } }
        // Registered first, so the snapshot below knows them.
        labels = ids(["system", "admin", "administrator", "developer", "assistant", "root", "operator", "supervisor"])
        senders = ids(Array(HiddenRecipient.senders).sorted())
        tags = ids(Array(PseudoTags.tagNames).sorted() + ["inst", "directive", "override"])
        triggers = ids(["javascript", "onclick", "onerror", "onload", "onmouseover", "onfocus", "onsubmit", "ignorez", "oubliez", "ignora", "olvida",
                        "ignoriere", "vergiss", "negeer", "zignoruj", "dimentica", "systemanweisung", "systemanweisungen", "instrucciones", "istruzioni", "gib"])
        var all = false
        var stepWords: [[[String]]] = []
        for rule in rules {
            if rule.patterns.isEmpty {
                if !Self.anchored.contains(rule.id) { all = true }
                continue
            }
            for p in rule.patterns { stepWords.append(p.steps) }
        }
        for steps in stepWords { for step in steps { for w in step where !w.hasSuffix("*") { _ = Vocabulary.id(for: w) } } }
        vocabulary = Vocabulary.lookup()
        let base = Int32(vocabulary.count)
        var prefixes: [[UInt8]] = []
        func term(_ alternative: String) -> Int32 {
            guard alternative.hasSuffix("*") else { return Int32(Vocabulary.id(for: alternative)) }
            let p = Array(alternative.dropLast().utf8)
            if let i = prefixes.firstIndex(of: p) { return base + Int32(i) }
            prefixes.append(p)
            return base + Int32(prefixes.count - 1)
        }
        patterns = stepWords.map { steps in
            let anchor = steps.indices.min { Self.commonness(steps[$0]) < Self.commonness(steps[$1]) } ?? 0
            return Pattern(steps: steps.map { $0.map(term) }, anchor: anchor)
        }
        self.prefixes = prefixes
        var anchoredBy = [[Int32]](repeating: [], count: vocabulary.count + prefixes.count)
        for (i, p) in patterns.enumerated() { for term in p.steps[p.anchor] { anchoredBy[Int(term)].append(Int32(i)) } }
        self.anchoredBy = anchoredBy
        var byFirst = [[Int32]](repeating: [], count: 256)
        for (i, p) in prefixes.enumerated() { byFirst[Int(p[0])].append(base + Int32(i)) }
        prefixesByFirst = byFirst
        hasPrefix = byFirst.map { !$0.isEmpty }
        var pairs = [Bool](repeating: false, count: 65536), singles = [Bool](repeating: false, count: 256)
        for key in vocabulary.keys where !key.isEmpty {
            if key.count == 1 { singles[Int(key[0])] = true } else { pairs[Int(key[0]) << 8 | Int(key[1])] = true }
        }
        for p in prefixes {
            if p.count == 1 { for b in 0..<256 { pairs[Int(p[0]) << 8 | b] = true }; singles[Int(p[0])] = true } else { pairs[Int(p[0]) << 8 | Int(p[1])] = true }
        }
        self.pairs = pairs
        self.singles = singles
        screensAll = all
    }

    /// Byte ranges of `text` that need the rules, merged and in order; the whole text when it
    /// cannot be screened.
    func ranges(_ text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        let n = text.count
        guard !screensAll, !text.contains(where: { $0 >= 0x80 || ($0 < 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D) || $0 == 0x7F }) else {
            return [0..<n]
        }
        // The per-term lists are reused across texts: allocating one per text would cost more than
        // reading a short one (the relay reads every string of every message).
        var seen = Self.pool.withLock { $0.popLast() } ?? Occurrences(terms: vocabulary.count + prefixes.count)
        defer {
            seen.clear()
            Self.pool.withLock { if $0.count < 8 { $0.append(seen) } }
        }
        read(text, into: &seen)
        guard !seen.used.isEmpty || !seen.markup.isEmpty else { return [] }
        // Words are counted as the rules count them (a phrase's gap is in words, whatever lies
        // between them), so nearness is measured in words; characters are placed by byte.
        let starts = seen.wordStarts
        func byteOf(word w: Int) -> Int { w < 0 ? 0 : w >= starts.count ? n : Int(starts[w]) }
        func near(_ positions: [Int32], _ p: Int32, within: Int32) -> Bool {
            // Positions are ascending: the first at or after p - within decides.
            var lo = 0, hi = positions.count
            while lo < hi { let mid = (lo + hi) / 2; if positions[mid] < p - within { lo = mid + 1 } else { hi = mid } }
            return lo < positions.count && positions[lo] <= p + within
        }
        let byteHits = seen.markup.map { Int($0) }
        var wordHits: [Int] = []
        for id in triggers { wordHits += seen.positions[Int(id)].map { Int($0) } }
        // Finders anchored on a word and a character: the character within a few words of it.
        for (words, chars, before, after) in [(senders, seen.at, 2, 12), (labels, seen.colon, 0, 3), (tags, seen.bracket, 2, 8)] where !chars.isEmpty {
            for id in words {
                for w in seen.positions[Int(id)] {
                    let lo = Int32(byteOf(word: Int(w) - before)), hi = Int32(byteOf(word: Int(w) + after + 1) + 64)
                    if near(chars, (lo + hi) / 2, within: (hi - lo) / 2 + 1) { wordHits.append(Int(w)) }
                }
            }
        }
        let positions = seen.positions
        let reach = Int32(Self.reachWords)
        // Only the patterns whose anchor step occurs: most texts hold a few of the words.
        var candidates: [Int32] = []
        for term in seen.used { candidates += anchoredBy[Int(term)] }
        if candidates.count > 1 { candidates.sort(); candidates = candidates.enumerated().compactMap { $0.offset > 0 && candidates[$0.offset - 1] == $0.element ? nil : $0.element } }
        patternLoop: for index in candidates {
            let pattern = patterns[Int(index)]
            // Cheap rejections first, without allocating: every step must occur somewhere.
            for step in pattern.steps where !step.contains(where: { !positions[Int($0)].isEmpty }) { continue patternLoop }
            for term in pattern.steps[pattern.anchor] {
                for p in positions[Int(term)] {
                    var all = true
                    for (s, step) in pattern.steps.enumerated() where s != pattern.anchor {
                        if !step.contains(where: { near(positions[Int($0)], p, within: reach) }) { all = false; break }
                    }
                    if all { wordHits.append(Int(p)) }
                }
            }
        }
        guard !byteHits.isEmpty || !wordHits.isEmpty else { return [] }
        var regions: [Range<Int>] = byteHits.map { max(0, $0 - Self.reach)..<min(n, $0 + Self.reach) }
        regions += wordHits.map { byteOf(word: $0 - Self.reachWords)..<byteOf(word: $0 + Self.reachWords + 1) }
        regions.sort { $0.lowerBound < $1.lowerBound }
        var out: [Range<Int>] = []
        for region in regions {
            let r = max(0, region.lowerBound - Self.margin)..<min(n, region.upperBound + Self.margin)
            if let last = out.last, last.upperBound >= r.lowerBound { out[out.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound) } else { out.append(r) }
        }
        return out
    }

    /// Where the rules' words and characters occur in one text.
    struct Occurrences {
        /// By term id: ascending byte offsets of the words.
        var positions: [[Int32]]
        /// Terms with positions, so clearing touches only them.
        var used: [Int32] = []
        /// Byte offset of every word, in order: positions are word numbers.
        var wordStarts: [Int32] = []
        init(terms: Int) { positions = [[Int32]](repeating: [], count: terms) }

        @inline(__always) mutating func add(_ term: Int32, _ position: Int) {
            if positions[Int(term)].isEmpty { used.append(term) }
            positions[Int(term)].append(Int32(position))
        }

        mutating func clear() {
            for t in used { positions[Int(t)].removeAll(keepingCapacity: true) }
            used.removeAll(keepingCapacity: true)
            wordStarts.removeAll(keepingCapacity: true)
            at.removeAll(keepingCapacity: true)
            colon.removeAll(keepingCapacity: true)
            bracket.removeAll(keepingCapacity: true)
            markup.removeAll(keepingCapacity: true)
        }
        var at: [Int32] = [], colon: [Int32] = [], bracket: [Int32] = []
        /// `<!--`, `<script`, `<iframe`, `<|…`, `[|…`, `![`: analysed wherever they are.
        var markup: [Int32] = []
    }

    /// One pass: words are found with a class table; a word is hashed and looked up only when its
    /// first two bytes start some term.
    func read(_ text: UnsafeBufferPointer<UInt8>, into seen: inout Occurrences) {
        Self.classes.withUnsafeBufferPointer { classes in
            pairs.withUnsafeBufferPointer { pairs in
                read(text, classes: classes, pairs: pairs, into: &seen)
            }
        }
    }

    private func read(_ text: UnsafeBufferPointer<UInt8>, classes: UnsafeBufferPointer<UInt8>, pairs: UnsafeBufferPointer<Bool>, into seen: inout Occurrences) {
        let n = text.count
        let singles = self.singles, vocabulary = self.vocabulary, hasPrefix = self.hasPrefix
        var i = 0
        while i < n {
            let c = classes[Int(text[i])]
            if c == 0 {
                let b = text[i]
                // Most separators are spaces and newlines: nothing to note.
                if b > 0x20 {
                    switch b {
                    case 0x40: seen.at.append(Int32(i))
                    case 0x3A: seen.colon.append(Int32(i))
                    case 0x3C, 0x5B, 0x21:
                        if b != 0x21 { seen.bracket.append(Int32(i)) }
                        if i + 1 < n {
                            let next = Self.fold(text[i + 1])
                            if (b != 0x21 && (next == 0x21 || next == 0x7C)) || (b == 0x3C && (next == 0x73 || next == 0x69)) || (b == 0x21 && next == 0x5B) {
                                seen.markup.append(Int32(i))
                            }
                        }
                    default: break
                    }
                }
                i += 1
                continue
            }
            let start = i
            i += 1
            while i < n, classes[Int(text[i])] != 0 { i += 1 }
            let length = i - start
            let word = seen.wordStarts.count
            seen.wordStarts.append(Int32(start))
            if length == 1 {
                guard singles[Int(c)] else { continue }
            } else {
                guard pairs[Int(c) << 8 | Int(classes[Int(text[start + 1])])] else { continue }
            }
            var hash: UInt64 = 0xcbf29ce484222325
            for k in start..<i { hash = (hash ^ UInt64(classes[Int(text[k])])) &* 0x100000001b3 }
            let id = vocabulary.id(hash: hash, folding: text, start..<i)
            if id >= 0 { seen.add(id, word) }
            guard hasPrefix[Int(c)] else { continue }
            for term in prefixesByFirst[Int(c)] {
                let prefix = prefixes[Int(term) - vocabulary.count]
                guard length >= prefix.count else { continue }
                var same = true
                for k in 1..<prefix.count where classes[Int(text[start + k])] != prefix[k] { same = false; break }
                if same { seen.add(term, word) }
            }
        }
    }

    /// Word bytes folded to lower case (letters, digits, `'`, `_`, as `AnalyzedText` cuts words); 0 for every other byte.
    static let classes: [UInt8] = (0..<256).map { b -> UInt8 in
        switch b {
        case 0x41...0x5A: UInt8(b + 32)
        case 0x61...0x7A, 0x30...0x39, 0x27, 0x5F: UInt8(b)
        default: 0
        }
    }

    static let commonWords: Set<String> = [
        "the", "a", "an", "and", "or", "to", "of", "in", "on", "at", "for", "with", "by", "from", "is", "are", "was", "were", "be", "been", "it",
        "this", "that", "these", "those", "you", "your", "i", "we", "our", "they", "them", "their", "he", "she", "his", "her", "not", "no", "do",
        "don't", "does", "all", "any", "each", "every", "if", "then", "when", "as", "so", "but", "can", "will", "would", "should", "must", "may",
        "has", "have", "had", "use", "using", "call", "new", "first", "also", "only", "more", "than", "other", "some", "what", "which", "who",
        "how", "there", "here", "up", "out", "into", "about", "after", "before", "just", "get", "set", "make", "one", "now", "time", "data",
        "file", "files", "user", "users", "return", "value", "name", "run", "add", "send", "read", "write", "list", "see", "show", "tell", "ask",
        "please", "always", "never", "way", "need", "like", "over", "via", "per", "its", "my", "me", "us", "same", "such", "very", "well",
        "back", "own", "through", "where", "while", "without", "within", "task", "request", "message", "result", "results", "output", "input",
        "code", "test", "line", "text", "type", "key", "keys", "true", "false", "null", "let", "var", "func", "self", "path", "string", "object",
    ]

    /// How common a step's words are in ordinary text (lower is rarer): common words and short
    /// prefixes count a hundred, every alternative one.
    static func commonness(_ step: [String]) -> Int {
        step.reduce(0) { sum, w in
            let prefix = w.hasSuffix("*")
            let bare = prefix ? String(w.dropLast()) : w
            return sum + 1 + (commonWords.contains(bare) || (prefix && bare.count <= 3) ? 100 : 0)
        }
    }

    @inline(__always) static func fold(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 32 : b }
}

extension Vocabulary.Lookup {
    /// The id of the lower-cased ASCII word at `range` of `text`, whose folded FNV-1a hash is `hash`.
    func id(hash: UInt64, folding text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int32 {
        var slot = Int(truncatingIfNeeded: hash) & mask
        let length = range.count
        while slotIDs[slot] >= 0 {
            let start = Int(starts[slot])
            if Int(starts[slot + 1]) - start == length {
                var same = true
                for k in 0..<length where ResultScreen.fold(text[range.lowerBound + k]) != flat[start + k] { same = false; break }
                if same { return slotIDs[slot] }
            }
            slot = (slot + 1) & mask
        }
        return -1
    }
}
