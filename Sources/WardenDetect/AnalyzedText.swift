import Synchronization
import WardenCore

/// One string from a definition, prepared for matching: its scalars and its words with offsets.
///
/// Offsets are in Unicode scalars of the original text, which is what findings report.
public struct AnalyzedText: Sendable {
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

    /// Texts longer than this are analysed up to it (the rest is reported by the size rule).
    public static let maxScalars = 256 * 1024

    public init(field: String, text: String) {
        self.field = field
        var scalars = Array(text.unicodeScalars)
        if scalars.count > Self.maxScalars { scalars.removeLast(scalars.count - Self.maxScalars) }
        self.scalars = scalars
        // One pass builds the lower-cased scalars and the words; word characters are ASCII, so a
        // word is built from bytes (a small string, no allocation for words under 16 bytes).
        var lower = [Unicode.Scalar]()
        lower.reserveCapacity(scalars.count)
        var ascii = true
        var words: [(String, Range<Int>)] = []
        var ids: [Int32] = []
        var firsts: [UInt8] = []
        var current: [UInt8] = []
        current.reserveCapacity(32)
        var start = 0
        // Word ids are found from the bytes as each word ends (FNV-1a into a small open-addressing
        // table), not by hashing a String per word.
        let vocabulary = Vocabulary.lookup()
        func end(_ at: Int) {
            words.append((String(decoding: current, as: UTF8.self), start..<at))
            ids.append(vocabulary.id(current))
            firsts.append(current[0])
            current.removeAll(keepingCapacity: true)
        }
        for i in 0..<scalars.count {
            let v = scalars[i].value
            if v >= 0x80 { ascii = false }
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
        self.lower = lower
        self.isASCII = ascii
        self.words = words
        self.wordIDs = ids
        self.firstBytes = firsts
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
    }

    /// This pattern, matching only when an identifier follows (another tool's name).
    public func requiringIdentifier() -> PhrasePattern { PhrasePattern(steps, gap: gap, requirement: .identifierAfter) }

    /// One step, compiled: exact words in a set, `prefix*` alternatives in a short list.
    struct Step: Sendable {
        /// Indexed by vocabulary id: whether that word is an exact alternative of this step.
        let exact: [Bool]
        let prefixes: [[UInt8]]
        /// First bytes of the prefixes: most words are rejected without a comparison.
        let prefixStarts: [Bool]

        init(_ alternatives: [String]) {
            let ids = alternatives.filter { !$0.hasSuffix("*") }.map(Vocabulary.id(for:))
            var table = [Bool](repeating: false, count: (ids.max() ?? 0) + 1)
            for id in ids { table[id] = true }
            exact = table
            prefixes = alternatives.filter { $0.hasSuffix("*") }.map { Array($0.dropLast().utf8) }
            var starts = [Bool](repeating: false, count: 256)
            for p in prefixes { if let b = p.first { starts[Int(b)] = true } }
            prefixStarts = starts
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
        guard let first = compiled.first, !text.words.isEmpty else { return [] }
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
