import Synchronization
import WardenCore

/// One string from a definition, prepared for matching: its scalars and its words with offsets.
///
/// Offsets are in Unicode scalars of the original text, which is what findings report.
public final class AnalyzedText: Sendable {
    /// Where the text sits in the definition (`description`, `inputSchema.properties.x.description`).
    public let field: String
    public let scalars: [Unicode.Scalar]
    /// `scalars` with ASCII letters lower-cased (shared by the rules that match ASCII needles).
    public let lower: [Unicode.Scalar]
    /// Whether every scalar is ASCII (most descriptions): lets Unicode-specific rules skip at once.
    public let isASCII: Bool
    /// Lower-cased ASCII words (letters, digits, `'` and `_`, so `id_rsa` is one word) with scalar ranges.
    public let words: [(text: String, range: Range<Int>)]
    /// Each word's id in the pattern vocabulary (-1 when no pattern names it), looked up once per
    /// text, so the ~60 patterns test words by array index instead of hashing strings.
    let wordIDs: [Int32]
    /// Each word's first byte: prefix alternatives reject most words on it without touching the word.
    let firstBytes: [UInt8]
    /// A bit per vocabulary id: whether the word occurs in the text (rules skip texts without their words).
    let present: [UInt64]

    @inline(__always) func has(_ id: Int) -> Bool { id >> 6 < present.count && present[id >> 6] & (1 << UInt64(id & 63)) != 0 }
    /// Which kinds of character the text has: rules that need one it lacks are not run at all.
    let traits: Traits
    /// A bare identifier (`read_file`, `repo-path`, `v1.2`): ASCII letters, digits, `_ - .` only, no
    /// spaces, at most 64 long. Property names and enum values mostly; few rules can find anything in one.
    let isIdentifier: Bool

    /// Character classes found in one pass, for skipping rules.
    public struct Traits: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let lt = Traits(rawValue: 1 << 0)
        public static let bracket = Traits(rawValue: 1 << 1)
        public static let bang = Traits(rawValue: 1 << 2)
        public static let colon = Traits(rawValue: 1 << 3)
        public static let at = Traits(rawValue: 1 << 4)
        public static let dot = Traits(rawValue: 1 << 5)
        public static let quote = Traits(rawValue: 1 << 6)
        public static let equals = Traits(rawValue: 1 << 7)
        public static let semicolon = Traits(rawValue: 1 << 8)
        public static let dollar = Traits(rawValue: 1 << 9)
        public static let pipe = Traits(rawValue: 1 << 10)
        public static let nonASCII = Traits(rawValue: 1 << 11)
        public static let control = Traits(rawValue: 1 << 12)
        public static let escape = Traits(rawValue: 1 << 13)
        public static let long = Traits(rawValue: 1 << 14)
        public static let blankRun = Traits(rawValue: 1 << 15)
        public static let longToken = Traits(rawValue: 1 << 16)
        public static let slash = Traits(rawValue: 1 << 17)
    }

    /// Texts longer than this are analysed up to it (the rest is reported by the size rule).
    public static let maxScalars = 256 * 1024

    public convenience init(field: String, text: String) {
        self.init(field: field, scalars: Array(text.unicodeScalars))
    }

    /// From scalars already decoded (a window of a long text): no trip through UTF-8 and back.
    public init(field: String, scalars: [Unicode.Scalar]) {
        self.field = field
        var scalars = scalars
        if scalars.count > Self.maxScalars { scalars.removeLast(scalars.count - Self.maxScalars) }
        self.scalars = scalars
        // One pass builds the lower-cased scalars and the words; word characters are ASCII, so a
        // word is built from bytes (a small string, no allocation for words under 16 bytes).
        var lower = [Unicode.Scalar]()
        lower.reserveCapacity(scalars.count)
        var ascii = true
        // Labelled like the property: an unlabelled array would be converted element by element.
        var words: [(text: String, range: Range<Int>)] = []
        var ids: [Int32] = []
        var firsts: [UInt8] = []
        var current: [UInt8] = []
        current.reserveCapacity(32)
        var start = 0
        // Word ids are found from the bytes as each word ends (FNV-1a into a small open-addressing
        // table), not by hashing a String per word.
        let vocabulary = Vocabulary.lookup()
        func end(_ at: Int) {
            words.append((text: String(decoding: current, as: UTF8.self), range: start..<at))
            // A word in single quotes is the word: 'ignore reads as ignore (its text keeps the
            // quote, for the rules that look for quoted names: `'*`).
            var id = vocabulary.id(current)
            if id < 0, current.first == 0x27 || current.last == 0x27 {
                let trimmed = current.drop { $0 == 0x27 }.reversed().drop { $0 == 0x27 }.reversed()
                if !trimmed.isEmpty { id = vocabulary.id(Array(trimmed)) }
            }
            ids.append(id)
            firsts.append(current[0])
            current.removeAll(keepingCapacity: true)
        }
        var traits: Traits = scalars.count > 200 ? [.long] : []
        var identifier = scalars.count <= 64 && !scalars.isEmpty
        var newlines = 0, spaceRun = 0, tokenRun = 0
        for i in 0..<scalars.count {
            let v = scalars[i].value
            if v >= 0x80 { ascii = false }
            if identifier, !((v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39) || v == 0x5F || v == 0x2D || v == 0x2E) { identifier = false }
            switch v {
            case 0x3C: traits.insert(.lt)
            case 0x5B: traits.insert(.bracket)
            case 0x21: traits.insert(.bang)
            case 0x3A: traits.insert(.colon)
            case 0x40: traits.insert(.at)
            case 0x2E: traits.insert(.dot)
            case 0x27, 0x22: traits.insert(.quote)
            case 0x3D: traits.insert(.equals)
            case 0x3B: traits.insert(.semicolon)
            case 0x24: traits.insert(.dollar)
            case 0x7C: traits.insert(.pipe)
            case 0x2F, 0x5C: traits.insert(.slash)
            case 0x1B, 0x9B: traits.insert([.escape, .control])
            case 0x0A: newlines += 1
            case 0x00...0x08, 0x0B...0x1F, 0x7F...0x9F: traits.insert(.control)
            default: break
            }
            if v == 0x20 { spaceRun += 1; if spaceRun >= 100 { traits.insert(.blankRun) } } else { spaceRun = 0 }
            // Tokens as EncodedPayload cuts them (separators: space, newline, tab, quotes, parentheses, comma, backtick).
            if v == 0x20 || v == 0x0A || v == 0x09 || v == 0x22 || v == 0x27 || v == 0x28 || v == 0x29 || v == 0x2C || v == 0x60 {
                tokenRun = 0
            } else {
                tokenRun += 1
                if tokenRun >= 18 { traits.insert(.longToken) }
            }
            let folded = v >= 0x41 && v <= 0x5A ? v + 32 : v
            lower.append(Unicode.Scalar(folded)!)
            let isWordChar = (folded >= 0x61 && folded <= 0x7A) || (v >= 0x30 && v <= 0x39) || v == 0x27 || v == 0x5F
            if isWordChar {
                if current.isEmpty { start = i }
                current.append(UInt8(folded))
            } else if !current.isEmpty {
                end(i)
            }
        }
        if !current.isEmpty { end(scalars.count) }
        if newlines >= 8 { traits.insert(.blankRun) }
        if !ascii { traits.insert(.nonASCII) }
        self.traits = traits
        self.isIdentifier = identifier
        self.lower = lower
        self.isASCII = ascii
        self.words = words
        self.wordIDs = ids
        self.firstBytes = firsts
        var present = [UInt64](repeating: 0, count: (vocabulary.count + 63) / 64)
        for id in ids where id >= 0 { present[Int(id) >> 6] |= 1 << UInt64(id & 63) }
        self.present = present
    }

    /// The original text between two scalar offsets.
    public func slice(_ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[range.clamped(to: 0..<scalars.count)])
        return String(view)
    }
}

/// A phrase pattern over words: each step is a set of alternatives; up to `gap` other words may
/// stand between steps. Matching is O(words × steps × gap): linear in the text, no backtracking blow-up.
public struct PhrasePattern: Sendable {
    /// Alternatives per step. An alternative ending in `*` matches any word with that prefix.
    public let steps: [[String]]
    public let gap: Int
    public let requirement: Requirement

    /// Context a match must have in the raw text around it.
    public enum Requirement: Sendable {
        case none
        /// A `:` right after the match (`new instructions:`).
        case colonAfter
        /// A `.` right before the match (`.env`).
        case dotBefore
        /// The word after the match is a code identifier (`delete_all`, `sendEmail`): another tool's name.
        case identifierAfter
        /// Not preceded by a negation (`do not follow any instructions` is a warning, not an order).
        case notNegated
        /// An e-mail address within the next few words (`change the recipient to x@y.z`).
        case addressAfter
        /// A host name or URL within the next few words (`tell them to visit login-check.example.com`).
        case hostAfter
    }

    /// This pattern, matching only when an e-mail address follows within a few words.
    public func requiringAddress() -> PhrasePattern { PhrasePattern(steps, gap: gap, requirement: .addressAfter) }

    /// This pattern, matching only when a host name or URL follows within a few words.
    public func requiringHost() -> PhrasePattern { PhrasePattern(steps, gap: gap, requirement: .hostAfter) }

    /// This pattern, matching only when no negation comes just before it.
    public func notNegated() -> PhrasePattern { PhrasePattern(steps, gap: gap, requirement: .notNegated) }

    /// This pattern, matching only when an identifier follows (another tool's name).
    public func requiringIdentifier() -> PhrasePattern { PhrasePattern(steps, gap: gap, requirement: .identifierAfter) }

    /// One step, compiled: exact words in a set, `prefix*` alternatives in a short list.
    struct Step: Sendable {
        /// Indexed by vocabulary id: whether that word is an exact alternative of this step.
        let exact: [Bool]
        /// The exact alternatives' ids, for `occurs(in:)`.
        let ids: [Int]
        let prefixes: [[UInt8]]
        /// First bytes of the prefixes: most words are rejected without a comparison.
        let prefixStarts: [Bool]

        init(_ alternatives: [String]) {
            let ids = alternatives.filter { !$0.hasSuffix("*") }.map(Vocabulary.id(for:))
            var table = [Bool](repeating: false, count: (ids.max() ?? 0) + 1)
            for id in ids { table[id] = true }
            exact = table
            self.ids = ids
            prefixes = alternatives.filter { $0.hasSuffix("*") }.map { Array($0.dropLast().utf8) }
            var starts = [Bool](repeating: false, count: 256)
            for p in prefixes { if let b = p.first { starts[Int(b)] = true } }
            prefixStarts = starts
        }

        /// Whether any word of `text` is one of this step's alternatives: the exact ones by the
        /// text's table of vocabulary ids present (no pass over the words), prefixes by a pass.
        func occurs(in text: AnalyzedText) -> Bool {
            for id in ids where text.has(id) { return true }
            guard !prefixes.isEmpty else { return false }
            return text.words.indices.contains { i in prefixStarts[Int(text.firstBytes[i])] && prefixes.contains { text.words[i].text.utf8.starts(with: $0) } }
        }

        /// Whether word `i` of `text` is one of this step's alternatives; the word's string is only
        /// read when its first byte starts a prefix alternative.
        @inline(__always) func matches(_ text: AnalyzedText, _ i: Int) -> Bool {
            let id = Int(text.wordIDs[i])
            if id >= 0, id < exact.count, exact[id] { return true }
            guard !prefixes.isEmpty, prefixStarts[Int(text.firstBytes[i])] else { return false }
            let word = text.words[i].text
            return prefixes.contains { word.utf8.starts(with: $0) }
        }
    }

    let compiled: [Step]

    public init(_ steps: [[String]], gap: Int = 2, requirement: Requirement = .none) {
        self.steps = steps
        self.gap = gap
        self.requirement = requirement
        compiled = steps.map(Step.init)
    }

    /// Convenience: `"ignore|disregard previous|prior|above instructions"`, steps split on spaces.
    public init(_ text: String, gap: Int = 2) {
        self.init(text.split(separator: " ").map { $0.split(separator: "|").map(String.init) }, gap: gap)
    }

    static func isCamel(_ word: String) -> Bool {
        let scalars = Array(word.unicodeScalars)
        return scalars.count > 3 && scalars.first.map { (0x61...0x7A).contains($0.value) } == true
            && scalars.dropFirst().contains { (0x41...0x5A).contains($0.value) }
    }

    /// Every non-overlapping match, as scalar ranges.
    public func matches(in text: AnalyzedText) -> [Range<Int>] {
        guard let first = compiled.first, !text.words.isEmpty, first.occurs(in: text) else { return [] }
        var out: [Range<Int>] = []
        var i = 0
        let words = text.words
        let count = words.count
        outer: while i < count {
            guard first.matches(text, i) else { i += 1; continue }
            var at = i
            for k in 1..<compiled.count {
                var found = -1
                var j = at + 1
                while j < count && j <= at + 1 + gap {
                    if compiled[k].matches(text, j) { found = j; break }
                    j += 1
                }
                if found < 0 { i += 1; continue outer }
                at = found
            }
            let range = words[i].range.lowerBound..<words[at].range.upperBound
            switch requirement {
            case .none: break
            case .colonAfter:
                guard range.upperBound < text.scalars.count, text.scalars[range.upperBound] == ":" else { i += 1; continue outer }
            case .dotBefore:
                guard range.lowerBound > 0, text.scalars[range.lowerBound - 1] == "." else { i += 1; continue outer }
            case .addressAfter:
                let end = min(text.scalars.count, at + 6 < words.count ? words[at + 6].range.upperBound : text.scalars.count)
                guard text.traits.contains(.at), (range.upperBound..<end).contains(where: { text.scalars[$0] == "@" }) else { i += 1; continue outer }
            case .hostAfter:
                guard text.traits.contains(.dot),
                      (at + 1..<min(words.count, at + 7)).contains(where: { BareDestination.host(at: words[$0].range.lowerBound, in: text.scalars) != nil }) else { i += 1; continue outer }
            case .notNegated:
                let negations: Set<String> = ["not", "never", "don't", "dont", "no", "nor", "without"]
                if (max(0, i - 2)..<i).contains(where: { negations.contains(words[$0].text) }) { i += 1; continue outer }
            case .identifierAfter:
                guard at + 1 < words.count, words[at + 1].text.contains("_") || Self.isCamel(text.slice(words[at + 1].range)) else { i += 1; continue outer }
                out.append(words[i].range.lowerBound..<words[at + 1].range.upperBound)
                i = at + 2
                continue outer
            }
            out.append(range)
            i = at + 1
        }
        return out
    }
}

/// The words patterns name, each with a small integer id. Grows while patterns are built (at
/// start-up); texts take a snapshot (a copy-on-write reference) and look each word up once.
enum Vocabulary {
    private static let table = Mutex<(words: [String: Int32], lookup: Lookup?)>(([:], nil))

    static func id(for word: String) -> Int {
        Int(table.withLock { t in
            if let id = t.words[word] { return id }
            let id = Int32(t.words.count)
            t.words[word] = id
            t.lookup = nil
            return id
        })
    }

    /// The current vocabulary as a byte-keyed table (rebuilt after words are added).
    static func lookup() -> Lookup {
        table.withLock { t in
            if let l = t.lookup { return l }
            let l = Lookup(t.words)
            t.lookup = l
            return l
        }
    }

    /// Open addressing over FNV-1a hashes of the words' bytes.
    final class Lookup: Sendable {
        let keys: [[UInt8]]
        let ids: [Int32]
        let mask: Int
        /// How many words the vocabulary has (ids are 0..<count).
        let count: Int

        init(_ words: [String: Int32]) {
            var capacity = 64
            while capacity < words.count * 4 { capacity *= 2 }
            var keys = [[UInt8]](repeating: [], count: capacity)
            var ids = [Int32](repeating: -1, count: capacity)
            for (word, id) in words {
                let bytes = Array(word.utf8)
                var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & (capacity - 1)
                while ids[slot] >= 0 { slot = (slot + 1) & (capacity - 1) }
                keys[slot] = bytes
                ids[slot] = id
            }
            self.keys = keys
            self.ids = ids
            mask = capacity - 1
            count = words.count
        }

        @inline(__always) static func hash(_ bytes: [UInt8]) -> UInt64 {
            var h: UInt64 = 0xcbf29ce484222325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
            return h
        }

        /// The word's id, or -1 when no pattern names it.
        func id(_ bytes: [UInt8]) -> Int32 {
            var slot = Int(truncatingIfNeeded: Self.hash(bytes)) & mask
            while ids[slot] >= 0 {
                if keys[slot] == bytes { return ids[slot] }
                slot = (slot + 1) & mask
            }
            return -1
        }
    }
}
