import Foundation
import WardenCore

/// A secret found in data flowing through the relay. The secret itself is never kept: only its
/// kind, where it is, and a masked form a person can recognise.
public struct SecretMatch: Sendable, Hashable {
    /// `aws-access-key`, `github-token`, `slack-token`, `stripe-key`, `google-api-key`, `private-key`,
    /// `jwt`, `credential` (a high-entropy value next to a credential word).
    public var kind: String
    /// Byte range in the scanned buffer.
    public var range: Range<Int>
    /// First four and last two characters, the rest elided.
    public var masked: String
    /// Hex SHA-256 prefix of the value, so the same secret can be followed across calls without storing it.
    public var fingerprint: String
    /// How it was found when not as written: `invisible` (after removing invisible characters),
    /// `base64`, `hex`, `percent` (in a decoded run), `key` or `joined` (arguments read together).
    /// Such a match's range is not in the scanned text.
    public var via: String? = nil
}

/// Finds secrets in raw UTF-8 bytes (a JSON-RPC line as it crosses the relay) in one linear pass.
/// Secrets are ASCII, and JSON escapes never occur inside them, so scanning the raw line finds them
/// without parsing, and a match can be replaced in place without breaking the JSON around it.
public enum SecretScanner {
    static let prefixes: [(String, String, Int)] = [
        // (prefix, kind, minimum length of the token including the prefix)
        ("AKIA", "aws-access-key", 20), ("ASIA", "aws-access-key", 20),
        ("ghp_", "github-token", 40), ("gho_", "github-token", 40), ("ghu_", "github-token", 40), ("ghs_", "github-token", 40),
        ("ghr_", "github-token", 40), ("github_pat_", "github-token", 50),
        ("xoxb-", "slack-token", 20), ("xoxp-", "slack-token", 20), ("xoxa-", "slack-token", 20), ("xoxr-", "slack-token", 20),
        ("sk_live_", "stripe-key", 24), ("rk_live_", "stripe-key", 24), ("sk-ant-", "anthropic-key", 40), ("AIza", "google-api-key", 39),
    ]
    static let credentialWords = ["password", "passwd", "secret", "token", "api_key", "apikey", "api-key", "access_key", "private_key", "auth"]

    // Byte forms, built once: the scanner runs on every call that crosses the relay.
    static let prefixBytes: [([UInt8], String, Int)] = prefixes.map { (Array($0.0.utf8), $0.1, $0.2) }
    static let wordBytes: [[UInt8]] = credentialWords.map { Array($0.utf8) }
    static let firstBytes: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for p in prefixes { table[Int(p.0.utf8.first!)] = true }
        table[Int(UInt8(ascii: "e"))] = true  // eyJ (JWT)
        return table
    }()
    /// By a token's first two bytes: whether a known prefix (or a JWT's `ey`) starts so.
    static let prefixPairs: [Bool] = {
        var table = [Bool](repeating: false, count: 65536)
        for p in prefixes { let u = Array(p.0.utf8); table[Int(u[0]) << 8 | Int(u[1])] = true }
        table[Int(UInt8(ascii: "e")) << 8 | Int(UInt8(ascii: "y"))] = true
        return table
    }()
    static let begin = Array("-----BEGIN ".utf8), keyMarker = Array("PRIVATE KEY-----".utf8), endMarker = Array("-----END ".utf8)
    static let jwtStart = Array("eyJ".utf8)

    /// Every secret in `bytes`, in order, non-overlapping.
    public static func scan(_ bytes: UnsafeRawBufferPointer) -> [SecretMatch] {
        scan(bytes, within: [0..<bytes.count])
    }

    /// Every secret that starts in one of `regions` (ascending, not overlapping) of `bytes`; a
    /// secret may run past its region's end. Credentials (a word, then a value) are looked for in
    /// `credentialRegions` instead when given: their word stands before the value's run.
    static func scan(_ bytes: UnsafeRawBufferPointer, within regions: [Range<Int>], credentialRegions: [Range<Int>]? = nil) -> [SecretMatch] {
        var out: [SecretMatch] = []
        let n = bytes.count
        var footers = MarkerCache(endMarker)
        // Statics read into locals once: inside the loop each read would be a lazy-initialisation check.
        let firstBytes = Self.firstBytes, prefixPairs = Self.prefixPairs, prefixBytes = Self.prefixBytes, begin = Self.begin, keyMarker = Self.keyMarker, jwtStart = Self.jwtStart
        var i = 0
        for region in regions {
            i = max(i, region.lowerBound)
            while i < region.upperBound {
                let b = bytes[i]
                // Private key blocks. Every search is bounded or cached so that hostile input full of
                // headers without footers stays linear.
                if b == 0x2D, matches(bytes, i, begin), let header = find(bytes, from: i + 11, keyMarker, before: i + 64) {
                    // The whole block, up to the matching END line (or just the header if it is cut off).
                    var close = header + 16
                    if let footer = footers.next(in: bytes, from: close), let tail = find(bytes, from: footer + 9, keyMarker, before: footer + 64) { close = tail + 16 }
                    out.append(match("private-key", bytes, i..<min(n, close)))
                    i = min(n, close)
                    continue
                }
                // Known token prefixes, at a token boundary.
                if firstBytes[Int(b)], i + 1 < n, prefixPairs[Int(b) << 8 | Int(bytes[i + 1])], i == 0 || !isTokenChar(bytes[i - 1]) {
                    if let hit = prefixBytes.first(where: { matches(bytes, i, $0.0) }) {
                        var j = i
                        while j < n, isTokenChar(bytes[j]) { j += 1 }
                        if j - i >= hit.2 {
                            out.append(match(hit.1, bytes, i..<j))
                            i = j
                            continue
                        }
                    }
                    // JWT: three base64url segments, the first starting eyJ ({").
                    if b == 0x65, matches(bytes, i, jwtStart) {
                        var j = i, dots = 0
                        while j < n, isTokenChar(bytes[j]) || (bytes[j] == 0x2E && dots < 2) { if bytes[j] == 0x2E { dots += 1 }; j += 1 }
                        if dots == 2, j - i >= 36 {
                            out.append(match("jwt", bytes, i..<j))
                            i = j
                            continue
                        }
                    }
                }
                i += 1
            }
        }
        out += credentials(bytes, excluding: out.map(\.range), within: credentialRegions ?? regions)  // in order: `scan` appends as it goes
        return out.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// Secrets in a decoded string: as written, and as `scanDecoded` finds them.
    public static func scanText(_ text: String) -> [SecretMatch] {
        var text = text
        return text.withUTF8 { scanDecoded(UnsafeRawBufferPointer($0)) }
    }

    /// Secrets in `bytes` as written, then in what a reader would make of them: with invisible
    /// characters removed, and in base64, hex and percent-encoded runs decoded (twice at most, so
    /// base64 of percent-encoding is read too). Matches found only in a derived text carry `via`.
    public static func scanDecoded(_ bytes: UnsafeRawBufferPointer, depth: Int = 0) -> [SecretMatch] {
        // Every secret kind but a private key block is (or, encoded, is inside) a run of 16 or more
        // token characters, so ordinary text is read once, and only the regions around long runs
        // are scanned and decoded. Text with non-ASCII bytes (invisible characters can split a
        // token) or a key block is scanned whole.
        let outline = Decoding.outline(bytes)
        if outline.runs.isEmpty && !outline.nonASCII && !outline.keyBlock { return [] }
        var out: [SecretMatch] = []
        if outline.nonASCII || outline.keyBlock {
            out = scan(bytes)
        } else {
            // Tokens lie inside the runs; a credential's word may stand up to 64 bytes before its run.
            out = scan(bytes, within: outline.runs, credentialRegions: outline.regions(count: bytes.count))
        }
        guard depth < 2 else { return out }
        var seen = Set(out.map(\.fingerprint))
        func add(_ derived: [UInt8], _ via: String) {
            for m in derived.withUnsafeBytes({ scanDecoded($0, depth: depth + 1) }) where !seen.contains(m.fingerprint) {
                seen.insert(m.fingerprint)
                var m = m
                m.via = m.via ?? via
                out.append(m)
            }
        }
        if outline.nonASCII, let visible = Decoding.withoutInvisible(bytes) { add(visible, "invisible") }
        if outline.nonASCII {
            // Full-width and other compatibility forms of a token's characters.
            let text = String(decoding: bytes, as: UTF8.self)
            let folded = Folding.fold(text)
            if folded != text { add(Array(folded.utf8), "folded") }
        }
        if outline.percent, let decoded = Decoding.percentDecoded(bytes) { add(decoded, "percent") }
        for run in Decoding.encodedRuns(bytes, outline.runs) { add(run.bytes, run.kind) }
        return out
    }

    /// High-entropy values within a few characters after a credential word (`"password":"…"`, `token=…`).
    static func credentials(_ bytes: UnsafeRawBufferPointer, excluding taken: [Range<Int>], within regions: [Range<Int>]) -> [SecretMatch] {
        var out: [SecretMatch] = []
        let n = bytes.count
        var nextTaken = 0  // `taken` is sorted and `i` only grows: earlier matches are passed once, not searched per candidate
        let wordBytes = Self.wordBytes
        var runStart = 0, runEnd = 0  // the last maximal run of value bytes measured
        var i = 0
        for region in regions {
            i = max(i, region.lowerBound)
            while i < region.upperBound {
                // Credential words start with p, s, t or a: check the first byte before the words.
                // Two bytes settle most positions: every credential word starts pa, se, to, ap, ac, pr or au.
                let first = bytes[i] | 0x20
                guard first == 0x70 || first == 0x73 || first == 0x74 || first == 0x61, i + 1 < n else { i += 1; continue }
                let second = bytes[i + 1] | 0x20
                let pair = UInt16(first) << 8 | UInt16(second)
                guard pair == 0x7061 || pair == 0x7365 || pair == 0x746F || pair == 0x6170 || pair == 0x6163 || pair == 0x7072 || pair == 0x6175,
                      let word = wordBytes.first(where: { matchesFolded(bytes, i, $0) }) else { i += 1; continue }
                // Skip the rest of the key's name (`_KEY`), then the separator (`": "`, `=`, `='`, or JSON-escaped `\": \"`).
                var j = i + word.count
                while j < n, j - i < 32, isTokenChar(bytes[j]) { j += 1 }
                var separators = 0
                while j < n, separators < 8, isSeparator(bytes[j]) { j += 1; separators += 1 }
                guard separators > 0 else { i += word.count; continue }
                // Where the value ends. Values are maximal runs of value bytes, and a run measured once is
                // reused by every later candidate inside it (`token=token=token=…`), so the scan stays
                // linear however many credential words one long run holds.
                var k: Int
                if j >= runStart, j < runEnd {
                    k = runEnd
                } else {
                    k = j
                    while k < n, isValueByte(bytes[k]) {
                        if k == runStart, runEnd > k { k = runEnd; break }
                        k += 1
                    }
                    (runStart, runEnd) = (j, k)
                }
                let range = j..<k
                while nextTaken < taken.count, taken[nextTaken].upperBound <= i { nextTaken += 1 }
                var overlaps = false
                var t = nextTaken
                while t < taken.count, taken[t].lowerBound < k, !overlaps { overlaps = taken[t].overlaps(range); t += 1 }
                if k - j >= 16, k - j <= maxCredentialLength, !overlaps, entropy(bytes, range) >= 3.5 {
                    out.append(match("credential", bytes, range))
                    i = k
                    continue
                }
                i += word.count
            }
        }
        return out
    }

    static let maxCredentialLength = 512

    @inline(__always) static func isValueByte(_ b: UInt8) -> Bool {
        isTokenChar(b) || b == 0x2B || b == 0x2F || b == 0x3D
    }

    @inline(__always) static func isSeparator(_ b: UInt8) -> Bool {
        b == 0x22 || b == 0x3D || b == 0x3A || b == 0x20 || b == 0x27 || b == 0x5C
    }

    /// Shannon entropy in bits per character.
    static func entropy(_ bytes: UnsafeRawBufferPointer, _ r: Range<Int>) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for i in r { counts[Int(bytes[i])] += 1 }
        let total = Double(r.count)
        return counts.reduce(0.0) { sum, c in c == 0 ? sum : sum - Double(c) / total * log2(Double(c) / total) }
    }

    static func match(_ kind: String, _ bytes: UnsafeRawBufferPointer, _ r: Range<Int>) -> SecretMatch {
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
        let masked = value.count > 10 ? "\(value.prefix(4))…\(value.suffix(2))" : "…"
        let fingerprint = String(ToolPin.digest(of: .string(value)).prefix(16))
        return SecretMatch(kind: kind, range: r, masked: kind == "private-key" ? "-----BEGIN … PRIVATE KEY-----" : masked, fingerprint: fingerprint)
    }

    /// `bytes` with every match replaced by `[REDACTED:kind]` (JSON-safe: matches hold no quotes or escapes).
    public static func redact(_ bytes: UnsafeRawBufferPointer, _ matches: [SecretMatch]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var at = 0
        for m in matches where m.range.lowerBound >= at {
            out.append(contentsOf: bytes[at..<m.range.lowerBound])
            out.append(contentsOf: Array("[REDACTED:\(m.kind)]".utf8))
            at = m.range.upperBound
        }
        out.append(contentsOf: bytes[at...])
        return out
    }

    @inline(__always) static func isTokenChar(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
    }

    @inline(__always) static func matches(_ bytes: UnsafeRawBufferPointer, _ i: Int, _ u: [UInt8]) -> Bool {
        guard i + u.count <= bytes.count else { return false }
        for k in 0..<u.count where bytes[i + k] != u[k] { return false }
        return true
    }

    @inline(__always) static func matchesFolded(_ bytes: UnsafeRawBufferPointer, _ i: Int, _ u: [UInt8]) -> Bool {
        guard i + u.count <= bytes.count else { return false }
        for k in 0..<u.count {
            var b = bytes[i + k]
            if b >= 0x41 && b <= 0x5A { b += 32 }
            if b != u[k] { return false }
        }
        return true
    }

    /// The first occurrence of `u` starting at or after `from` and before `limit`.
    static func find(_ bytes: UnsafeRawBufferPointer, from: Int, _ u: [UInt8], before limit: Int = .max) -> Int? {
        var i = from
        let end = min(bytes.count, limit)
        while i < end {
            if bytes[i] == u[0], matches(bytes, i, u) { return i }
            i += 1
        }
        return nil
    }

    /// Finds the next occurrence of a marker for positions that only grow, remembering the last
    /// answer: the whole buffer is searched at most once however many times it is asked.
    struct MarkerCache {
        let marker: [UInt8]
        var searchedFrom = Int.max
        var found: Int?

        init(_ marker: [UInt8]) { self.marker = marker }

        mutating func next(in bytes: UnsafeRawBufferPointer, from position: Int) -> Int? {
            if position >= searchedFrom, found.map({ $0 >= position }) ?? true { return found }
            searchedFrom = position
            found = find(bytes, from: position, marker)
            return found
        }
    }
}
