import Synchronization
import WardenCore

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
    /// How many terms there are: vocabulary ids, then prefixes.
    let terms: Int
    let tables: Tables
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
        let vocabulary = Vocabulary.lookup()
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
        terms = vocabulary.count + prefixes.count
        var anchoredBy = [[Int32]](repeating: [], count: terms)
        for (i, p) in patterns.enumerated() { for term in p.steps[p.anchor] { anchoredBy[Int(term)].append(Int32(i)) } }
        self.anchoredBy = anchoredBy
        var words: [([UInt8], Int32)] = []
        for (slot, key) in vocabulary.keys.enumerated() where vocabulary.ids[slot] >= 0 { words.append((key, vocabulary.ids[slot])) }
        tables = Tables(words: words, prefixes: prefixes.enumerated().map { ($0.element, base + Int32($0.offset)) })
        screensAll = all
    }

    /// Byte ranges of `text` that need the rules, merged and in order; the whole text when it
    /// cannot be screened.
    func ranges(_ text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        let n = text.count
        guard !screensAll else { return [0..<n] }
        // The per-term lists are reused across texts: allocating one per text would cost more than
        // reading a short one (the relay reads every string of every message).
        let seen = Self.pool.withLock { $0.popLast() } ?? Occurrences(terms: terms)
        defer {
            seen.clear()
            Self.pool.withLock { if $0.count < 8 { $0.append(seen) } }
        }
        // Text with a non-ASCII byte or a control character is not screened.
        guard read(text, into: seen) else { return [0..<n] }
        seen.group()
        guard !seen.used.isEmpty || !seen.markup.isEmpty else { return [] }
        // Words are counted as the rules count them (a phrase's gap is in words, whatever lies
        // between them), so nearness is measured in words; characters are placed by byte.
        let starts = seen.words
        func byteOf(word w: Int) -> Int { w < 0 ? 0 : w >= starts.count ? n : Int(starts[w]) }
        func near<C: RandomAccessCollection<Int32>>(_ positions: C, _ p: Int32, within: Int32) -> Bool where C.Index == Int {
            // Positions are ascending: the first at or after p - within decides.
            var lo = 0, hi = positions.count
            while lo < hi { let mid = (lo + hi) / 2; if positions[mid] < p - within { lo = mid + 1 } else { hi = mid } }
            return lo < positions.count && positions[lo] <= p + within
        }
        let byteHits = seen.markup.map { Int($0) }
        var wordHits: [Int] = []
        for id in triggers { wordHits += seen.positions(id).map { Int($0) } }
        // Finders anchored on a word and a character: the character within a few words of it.
        for (words, chars, before, after) in [(senders, seen.at, 2, 12), (labels, seen.colon, 0, 3), (tags, seen.bracket, 2, 8)] where !chars.isEmpty {
            for id in words {
                for w in seen.positions(id) {
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
            for step in pattern.steps where !step.contains(where: { !positions($0).isEmpty }) { continue patternLoop }
            for term in pattern.steps[pattern.anchor] {
                for p in positions(term) {
                    var all = true
                    for (s, step) in pattern.steps.enumerated() where s != pattern.anchor {
                        if !step.contains(where: { near(positions($0), p, within: reach) }) { all = false; break }
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

    /// Where the rules' words and characters occur in one text. A class so the pool can hand one
    /// out and take it back; only the thread that took it touches it. Plain memory, grown as
    /// needed and kept: the relay reads every string of every message.
    final class Occurrences: @unchecked Sendable {
        /// By term id: how many occurrences, and where its word numbers start in `flat` (valid
        /// for the terms in `used` after `group`; zero for the others).
        private let counts: UnsafeMutablePointer<Int32>
        private let offsets: UnsafeMutablePointer<Int32>
        private var flat: Buffer<Int32>
        /// Terms with occurrences, so clearing touches only them.
        private(set) var used: [Int32] = []
        /// Every (term, word number) found, in word order, before `group`.
        fileprivate var hits: Buffer<UInt64>
        /// Byte offset of every word, in order: positions are word numbers.
        fileprivate var wordStarts: Buffer<Int32>
        var at: [Int32] = [], colon: [Int32] = [], bracket: [Int32] = []
        /// `<!--`, `<script`, `<iframe`, `<|…`, `[|…`, `![`: analysed wherever they are.
        var markup: [Int32] = []

        /// A growable run of plain values.
        struct Buffer<T> {
            var base: UnsafeMutablePointer<T>
            var capacity: Int
            var count = 0
            init() { base = .allocate(capacity: 16); capacity = 16 }
            @inline(__always) mutating func append(_ value: T) {
                if count == capacity { reserve(capacity * 2) }
                base[count] = value
                count += 1
            }

            mutating func reserve(_ n: Int) {
                guard capacity < n else { return }
                let bigger = UnsafeMutablePointer<T>.allocate(capacity: max(n, capacity * 2))
                bigger.moveInitialize(from: base, count: count)
                base.deallocate()
                base = bigger
                capacity = max(n, capacity * 2)
            }
        }

        init(terms: Int) {
            counts = .allocate(capacity: terms)
            counts.initialize(repeating: 0, count: terms)
            offsets = .allocate(capacity: terms)
            offsets.initialize(repeating: 0, count: terms)
            flat = Buffer()
            hits = Buffer()
            wordStarts = Buffer()
        }

        deinit {
            counts.deallocate()
            offsets.deallocate()
            flat.base.deallocate()
            hits.base.deallocate()
            wordStarts.base.deallocate()
        }

        /// Word numbers of the term's occurrences, ascending.
        @inline(__always) func positions(_ term: Int32) -> UnsafeBufferPointer<Int32> {
            UnsafeBufferPointer(start: flat.base + Int(offsets[Int(term)]), count: Int(counts[Int(term)]))
        }

        var words: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(start: wordStarts.base, count: wordStarts.count) }

        /// Sorts the hits by term (a counting sort: they stay in word order within a term).
        func group() {
            let h = hits.base
            for k in 0..<hits.count {
                let term = Int(h[k] >> 32)
                if counts[term] == 0 { used.append(Int32(term)) }
                counts[term] += 1
            }
            var at: Int32 = 0
            for t in used {
                offsets[Int(t)] = at
                at += counts[Int(t)]
            }
            flat.reserve(Int(at))
            let f = flat.base
            for k in 0..<hits.count {
                let term = Int(h[k] >> 32)
                f[Int(offsets[term])] = Int32(truncatingIfNeeded: h[k])
                offsets[term] += 1
            }
            for t in used { offsets[Int(t)] -= counts[Int(t)] }
            flat.count = Int(at)
        }

        func clear() {
            for t in used { counts[Int(t)] = 0; offsets[Int(t)] = 0 }
            used.removeAll(keepingCapacity: true)
            hits.count = 0
            flat.count = 0
            wordStarts.count = 0
            at.removeAll(keepingCapacity: true)
            colon.removeAll(keepingCapacity: true)
            bracket.removeAll(keepingCapacity: true)
            markup.removeAll(keepingCapacity: true)
        }
    }

    /// The screen's lookup tables as plain memory, built once and never freed (the screen is
    /// shared for the life of the process): the loop below runs on every byte of every result, and
    /// array or class accesses there would cost more than the work. A value of plain pointers, so
    /// using it costs no reference counting.
    struct Tables: @unchecked Sendable {
        /// By byte: the byte folded to lower case if it belongs to a word (letters, digits, `'`,
        /// `_`, as `AnalyzedText` cuts words), else 0.
        let classes: UnsafePointer<UInt8>
        /// By byte outside words: 0 for most, 1 for the characters finders start from (`@ : < [ !`),
        /// 2 for a byte that stops screening (non-ASCII, control characters but tab and newlines).
        let kinds: UnsafePointer<UInt8>
        /// Open addressing over the words' keys: a word of up to 8 bytes is its bytes (lower-cased
        /// as `b | 0x20`, which keeps word bytes apart), a longer one its first and last 8; a slot
        /// with length 0 is empty. A word of more than 16 bytes is confirmed against its bytes in
        /// `long`, from `longAt` of its slot.
        let first: UnsafePointer<UInt64>, last: UnsafePointer<UInt64>
        let lengths: UnsafePointer<Int32>, ids: UnsafePointer<Int32>, longAt: UnsafePointer<Int32>
        let long: UnsafePointer<UInt8>
        let mask: Int
        /// Prefix terms in two groups: four bytes or longer, compared with a word only when a hash
        /// of its first four key bytes is in `starts` (a bit set of 4096); shorter (`cop`, `'`),
        /// compared with a word whose first byte starts one of them (`shortFirst`).
        let long4: PrefixGroup, short: PrefixGroup
        let starts: UnsafePointer<UInt64>
        let shortFirst: UnsafePointer<Bool>

        init(words: [([UInt8], Int32)], prefixes: [([UInt8], Int32)]) {
            classes = Self.table(256) { b -> UInt8 in
                switch b {
                case 0x41...0x5A: UInt8(b + 32)
                case 0x61...0x7A, 0x30...0x39, 0x27, 0x5F: UInt8(b)
                default: 0
                }
            }
            kinds = Self.table(256) { b -> UInt8 in
                switch b {
                case 0x40, 0x3A, 0x3C, 0x5B, 0x21: 1
                case 0x09, 0x0A, 0x0D: 0
                case 0..<0x20, 0x7F...: 2
                default: 0
                }
            }
            var capacity = 64
            while capacity < words.count * 4 { capacity *= 2 }
            mask = capacity - 1
            var first = [UInt64](repeating: 0, count: capacity), last = first
            var lengths = [Int32](repeating: 0, count: capacity), ids = [Int32](repeating: -1, count: capacity), longAt = lengths
            var long: [UInt8] = []
            for (word, id) in words where !word.isEmpty {
                let folded = word.map { $0 | 0x20 }
                let (k0, k1) = folded.withUnsafeBufferPointer { Self.key($0.baseAddress!, 0, folded.count, count: folded.count) }
                var slot = Self.slot(k0, k1, folded.count, capacity - 1)
                while lengths[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
                (first[slot], last[slot], lengths[slot], ids[slot]) = (k0, k1, Int32(folded.count), id)
                if folded.count > 16 {
                    longAt[slot] = Int32(long.count)
                    long += folded
                }
            }
            self.first = Self.table(first.count) { first[$0] }
            self.last = Self.table(last.count) { last[$0] }
            self.lengths = Self.table(lengths.count) { lengths[$0] }
            self.ids = Self.table(ids.count) { ids[$0] }
            self.longAt = Self.table(longAt.count) { longAt[$0] }
            self.long = Self.table(max(1, long.count)) { $0 < long.count ? long[$0] : 0 }
            long4 = PrefixGroup(prefixes.filter { $0.0.count >= 4 }, m: 4)
            short = PrefixGroup(prefixes.filter { $0.0.count < 4 }, m: 0)
            let shortFirst = Set(prefixes.filter { $0.0.count < 4 }.map { Int($0.0[0] | 0x20) })
            self.shortFirst = Self.table(256) { shortFirst.contains($0) }
            var starts = [UInt64](repeating: 0, count: 64)
            for (p, _) in prefixes where p.count >= 4 {
                var key: UInt64 = 0
                for k in 0..<4 { key |= UInt64(p[k] | 0x20) << UInt64(k * 8) }
                let bit = Self.startBit(key, 4)
                starts[bit >> 6] |= 1 << UInt64(bit & 63)
            }
            self.starts = Self.table(starts.count) { starts[$0] }
        }

        static func table<T>(_ count: Int, _ value: (Int) -> T) -> UnsafePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: count)
            for i in 0..<count { (p + i).initialize(to: value(i)) }
            return UnsafePointer(p)
        }

        /// Prefixes as plain memory: each one's first four key bytes, length, term and bytes.
        struct PrefixGroup: @unchecked Sendable {
            let heads: UnsafePointer<UInt32>, counts: UnsafePointer<Int32>, terms: UnsafePointer<Int32>
            let bytes: UnsafePointer<UInt8>, offsets: UnsafePointer<Int32>
            let count: Int
            /// By bit (of `startBit`, for the group's `m` bytes; all in bit 0 when `m` is 0): where
            /// its prefixes begin, in order of bit, so a word is compared only with the prefixes
            /// that share its bit.
            let buckets: UnsafePointer<Int32>

            init(_ unsorted: [([UInt8], Int32)], m: Int) {
                func bit(_ p: [UInt8]) -> Int {
                    guard m > 0 else { return 0 }
                    var key: UInt64 = 0
                    for k in 0..<min(m, p.count) { key |= UInt64(p[k] | 0x20) << UInt64(k * 8) }
                    return Tables.startBit(key, m)
                }
                let prefixes = unsorted.sorted { bit($0.0) < bit($1.0) }
                count = prefixes.count
                var buckets = [Int32](repeating: 0, count: 4097)
                for (p, _) in prefixes { buckets[bit(p) + 1] += 1 }
                for b in 1...4096 { buckets[b] += buckets[b - 1] }
                self.buckets = Tables.table(4097) { buckets[$0] }
                heads = Tables.table(max(1, count)) { i in
                    guard i < prefixes.count else { return 0 }
                    let p = prefixes[i].0
                    var h: UInt32 = 0
                    for k in 0..<min(4, p.count) { h |= UInt32(p[k] | 0x20) << UInt32(k * 8) }
                    return h
                }
                counts = Tables.table(max(1, count)) { $0 < prefixes.count ? Int32(prefixes[$0].0.count) : 0 }
                terms = Tables.table(max(1, count)) { $0 < prefixes.count ? prefixes[$0].1 : 0 }
                let flat = prefixes.flatMap(\.0)
                bytes = Tables.table(max(1, flat.count)) { $0 < flat.count ? flat[$0] : 0 }
                var at: [Int32] = [0]
                for (p, _) in prefixes { at.append(at.last! + Int32(p.count)) }
                offsets = Tables.table(at.count) { at[$0] }
            }

            /// Adds a hit for word number `word` with each prefix the word at `start..<end` (key `k0`) starts with.
            @inline(never) func match(_ k0: UInt64, bit: Int, _ text: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ classes: UnsafePointer<UInt8>, _ word: Int, _ hits: inout Occurrences.Buffer<UInt64>) {
                let length = end - start
                let head = UInt32(truncatingIfNeeded: k0)
                for p in Int(buckets[bit])..<Int(buckets[bit + 1]) {
                    // A head is a prefix's first four key bytes, or all of a shorter one's.
                    let c = Int(counts[p])
                    guard c <= length, heads[p] == (c >= 4 ? head : head & ((1 << UInt32(c * 8)) - 1)) else { continue }
                    var same = true
                    let o = Int(offsets[p])
                    for k in 1..<max(1, c) where classes[Int(text[start + k])] != bytes[o + k] { same = false; break }
                    if same { hits.append(UInt64(UInt32(bitPattern: terms[p])) << 32 | UInt64(word)) }
                }
            }
        }

        /// Where a word's first `m` key bytes fall in a group's bit set.
        @inline(__always) static func startBit(_ key: UInt64, _ m: Int) -> Int {
            let mask: UInt64 = m == 4 ? 0xFFFF_FFFF : (1 << UInt64(m * 8)) - 1
            return Int(truncatingIfNeeded: ((key & mask) &* 0x9E37_79B9_7F4A_7C15) >> 52)
        }

        /// Adds a hit for word number `word` with each prefix term the word at `start..<end` (key `k0`) starts with.
        @inline(__always) func matchPrefixes(_ k0: UInt64, _ text: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ word: Int, _ hits: inout Occurrences.Buffer<UInt64>) {
            if shortFirst[Int(k0 & 0xFF)] { short.match(k0, bit: 0, text, start, end, classes, word, &hits) }
            guard end - start >= 4 else { return }
            let bit = Self.startBit(k0, 4)
            if starts[bit >> 6] & (1 << UInt64(bit & 63)) != 0 { long4.match(k0, bit: bit, text, start, end, classes, word, &hits) }
        }

        /// The key of the word at `start..<end` of `text` (whose length is `count`): its bytes
        /// lower-cased as `b | 0x20`, the first 8 and the last 8 (none when it is no longer than 8).
        @inline(__always) static func key(_ text: UnsafePointer<UInt8>, _ start: Int, _ end: Int, count: Int) -> (UInt64, UInt64) {
            let length = end - start
            let case20: UInt64 = 0x2020_2020_2020_2020
            if length > 8 {
                let a = Words.load(text + start)
                let b = Words.load(text + end - 8)
                return (a | case20, b | case20)
            }
            guard start + 8 <= count else { return (shortKeyAtEnd(text, start, end), 0) }
            let mask: UInt64 = length == 8 ? ~0 : (1 << UInt64(length * 8)) - 1
            return ((Words.load(text + start) | case20) & mask, 0)
        }

        /// A short word's key within the last eight bytes, where a word load would read past the end.
        @inline(never) static func shortKeyAtEnd(_ text: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> UInt64 {
            var a: UInt64 = 0
            for k in 0..<(end - start) { a |= UInt64(text[start + k] | 0x20) << UInt64(k * 8) }
            return a
        }

        @inline(__always) static func slot(_ k0: UInt64, _ k1: UInt64, _ length: Int, _ mask: Int) -> Int {
            var h = k0 &* 0x9E37_79B9_7F4A_7C15 ^ k1 &* 0xC2B2_AE3D_27D4_EB4F ^ UInt64(length) &* 0x1656_67B1_9E37_79F9
            h ^= h >> 29
            return Int(truncatingIfNeeded: h) & mask
        }

        /// The vocabulary id of the word at `start..<end`, whose key is `k0, k1`, or -1.
        @inline(__always) func id(_ k0: UInt64, _ k1: UInt64, _ text: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int32 {
            let length = end - start
            var slot = Self.slot(k0, k1, length, mask)
            while true {
                let l = Int(lengths[slot])
                if l == 0 { return -1 }
                if l == length, first[slot] == k0, last[slot] == k1 {
                    guard length > 16 else { return ids[slot] }
                    let at = Int(longAt[slot])
                    var same = true
                    for k in 0..<length where long[at + k] != text[start + k] | 0x20 { same = false; break }
                    if same { return ids[slot] }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    /// One pass: words are cut with a class table and looked up by a key made of their first and
    /// last eight bytes. False when the text cannot be screened (a non-ASCII byte or a control
    /// character), which ends the pass at once.
    func read(_ buffer: UnsafeBufferPointer<UInt8>, into seen: Occurrences) -> Bool {
        let n = buffer.count
        guard n > 0, let text = buffer.baseAddress else { return true }
        let tables = self.tables
        let classes = tables.classes, kinds = tables.kinds
        // Locals, written back at the end: a class's members are checked for exclusive access at
        // every use. A word and its separator take two bytes, so `n / 2 + 1` words at most.
        var wordStarts = seen.wordStarts, hits = seen.hits
        wordStarts.reserve(n / 2 + 1)
        hits.reserve(n / 2 + 1)
        var at: [Int32] = [], colon: [Int32] = [], bracket: [Int32] = [], markup: [Int32] = []
        swap(&at, &seen.at)
        swap(&colon, &seen.colon)
        swap(&bracket, &seen.bracket)
        swap(&markup, &seen.markup)
        defer {
            seen.wordStarts = wordStarts
            seen.hits = hits
            swap(&at, &seen.at)
            swap(&colon, &seen.colon)
            swap(&bracket, &seen.bracket)
            swap(&markup, &seen.markup)
        }
        var i = 0
        while i < n {
            let b = text[i]
            let c = classes[Int(b)]
            if c == 0 {
                let kind = kinds[Int(b)]
                if kind != 0 {
                    if kind == 2 { return false }
                    switch b {
                    case 0x40: at.append(Int32(i))
                    case 0x3A: colon.append(Int32(i))
                    default:
                        if b != 0x21 { bracket.append(Int32(i)) }
                        if i + 1 < n {
                            let next = Self.fold(text[i + 1])
                            if (b != 0x21 && (next == 0x21 || next == 0x7C)) || (b == 0x3C && (next == 0x73 || next == 0x69)) || (b == 0x21 && next == 0x5B) {
                                markup.append(Int32(i))
                            }
                        }
                    }
                }
                i += 1
                continue
            }
            let start = i
            i += 1
            while i < n, classes[Int(text[i])] != 0 { i += 1 }
            let word = wordStarts.count
            wordStarts.base[word] = Int32(truncatingIfNeeded: start)
            wordStarts.count += 1
            let (k0, k1) = Tables.key(text, start, i, count: n)
            var id = tables.id(k0, k1, text, start, i)
            // A word in single quotes is the word (as AnalyzedText reads it): 'ignore is ignore.
            if id < 0, text[start] == 0x27 || text[i - 1] == 0x27 {
                var a = start, b = i
                while a < b, text[a] == 0x27 { a += 1 }
                while b > a, text[b - 1] == 0x27 { b -= 1 }
                if a < b {
                    let (t0, t1) = Tables.key(text, a, b, count: n)
                    id = tables.id(t0, t1, text, a, b)
                }
            }
            if id >= 0 { hits.append(UInt64(UInt32(bitPattern: id)) << 32 | UInt64(word)) }
            tables.matchPrefixes(k0, text, start, i, word, &hits)
        }
        return true
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
