import Foundation
import WardenCore

/// What the content of one message carries: instructions aimed at the model and secrets, each
/// with the field it sits in.
public struct ContentFindings: Sendable {
    public var injections: [Finding] = []
    public var secrets: [SecretMatch] = []

    public init() {}

    public var isEmpty: Bool { injections.isEmpty && secrets.isEmpty }
}

/// Reads every string of a message, at every depth and under every key, as the peer will read it:
/// decoded (JSON escapes resolved by the one strict parse), with invisible characters taken out,
/// and with base64, hex and percent-encoded runs decoded and read again.
///
/// This replaces looking at raw bytes or at the few fields a well-behaved server uses
/// (`content[].text`): a result can put its text in `structuredContent`, in `_meta`, behind an
/// escaped key, or in a field nobody thought of, and the model may still read it.
public enum ContentScanner {
    /// Texts longer than this are read in overlapping windows of this size, so nothing past a
    /// budget goes unread; the overlap is longer than any phrase a rule matches.
    static let window = AnalyzedText.maxScalars
    static let overlap = 4096

    /// Whether a member holds a binary payload (a resource's `blob`, an image's or audio's `data`):
    /// decoded for secrets, never read as prose. A log message's `data` is prose.
    static func isBinary(key: String, in object: JSONObject) -> Bool {
        if key == "blob" { return true }
        guard key == "data", let type = object["type"]?.stringValue else { return false }
        return type == "image" || type == "audio"
    }

    /// Scans `value`. `skipping` names top-level members already reviewed another way (the tool
    /// definitions of a `tools/list` result); `path` prefixes every field name.
    public static func scan(_ value: JSONValue, path: String = "", skipping: Set<String> = [], injections: Bool = true) -> ContentFindings {
        var out = ContentFindings()
        // Every string and key in order, for the joined reading below.
        var pieces: [String] = [], values: [String] = []
        var keyed: [UInt8] = []
        // Bare words (`text`, `content`, `isError`): no rule reads anything in one alone, and none
        // holds a secret, so they are only read joined with the rest (below) — or alone, when there
        // is nothing to join them with.
        var words: [(String, String)] = []
        var sentenceKeys = false
        func read(_ s: String, field: String, prose: Bool, key: Bool = false) {
            if prose { pieces.append(s) }
            if prose && !key { values.append(s) }
            if key && !Self.isBareWord(s) { sentenceKeys = true }
            if prose && Self.isBareWord(s) {
                words.append((s, field))
                return
            }
            if injections && prose { out.injections += injectionFindings(s, field: field) }
            out.secrets += SecretScanner.scanText(s)
        }
        func walk(_ v: JSONValue, path: String, key: String, depth: Int) {
            switch v {
            case .string(let s):
                read(s, field: path, prose: true)
            case .array(let items):
                for (i, item) in items.enumerated() { walk(item, path: path + "[" + String(i) + "]", key: key, depth: depth + 1) }
            case .object(let o):
                for (k, x) in o.members {
                    if depth == 0 && skipping.contains(k) { continue }
                    let child = path.isEmpty ? k : path + "." + k
                    // Keys are text too: a place to put a sentence or a token.
                    read(k, field: child + "(key)", prose: true, key: true)
                    if case .string(let v) = x, v.utf8.count <= 600 {
                        // `"password": "…"`: the key names the value, as in the arguments' reading.
                        keyed.append(contentsOf: k.utf8)
                        keyed.append(contentsOf: [0x3A, 0x20])
                        keyed.append(contentsOf: v.utf8)
                        keyed.append(0x0A)
                    }
                    if case .string(let payload) = x, isBinary(key: k, in: o) {
                        read(payload, field: child, prose: false)
                        continue
                    }
                    walk(x, path: child, key: k, depth: depth + 1)
                }
            case .null, .bool, .number: break
            }
        }
        walk(value, path: path, key: "", depth: 0)
        // Joined twice: keys and values in order (a sentence spread over keys), and values alone (a
        // client shows text blocks together, without the keys between them).
        if pieces.count < 2 {
            for (s, field) in words where injections { out.injections += injectionFindings(s, field: field) }
        }
        if values.count >= 2 { joinedReading(values, path: path, injections: injections, into: &out) }
        if sentenceKeys && pieces.count >= 2 { joinedReading(pieces, path: path, injections: injections, secrets: false, into: &out) }
        if !keyed.isEmpty {
            var known = Set(out.secrets.map(\.fingerprint))
            for var m in keyed.withUnsafeBytes({ SecretScanner.scanDecoded($0) }) where !known.contains(m.fingerprint) {
                known.insert(m.fingerprint)
                m.via = "key"
                out.secrets.append(m)
            }
        }
        return out
    }

    /// A client shows a result's text blocks together, and a model reads a message whole: a phrase
    /// or a secret split across strings (`"Ignore all previous"`, `"instructions and …"`) is read
    /// once more with the strings joined. Each string was read whole already, so of a long one only
    /// its ends take part: what lies inside it was found there.
    /// Identifier-like and short: letters, digits, `_ - . $`, at most 15 bytes.
    static func isBareWord(_ s: String) -> Bool {
        let u = s.utf8
        guard !u.isEmpty, u.count < 16 else { return false }
        return u.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E || $0 == 0x24 }
    }

    static func joinedReading(_ pieces: [String], path: String, injections: Bool, secrets: Bool = true, into out: inout ContentFindings) {
        var text: [UInt8] = []
        for piece in pieces {
            let u = Array(piece.utf8)
            if u.count > 2048 {
                text += u[..<1024] + Array("\n\n".utf8) + u[(u.count - 1024)...]
            } else {
                text += u
            }
            text.append(0x0A)
        }
        if injections {
            let seen = Set(out.injections.map(\.rule))
            out.injections += injectionFindings(String(decoding: text, as: UTF8.self), field: path + "(joined)").filter { !seen.contains($0.rule) }
        }
        guard secrets else { return }
        var known = Set(out.secrets.map(\.fingerprint))
        for m in spanning(pieces.map { Array($0.utf8) }) where !known.contains(m.fingerprint) {
            known.insert(m.fingerprint)
            out.secrets.append(m)
        }
    }

    /// The result rules over one text: whole, in windows when it is long, and again with invisible
    /// characters removed when it has any (`ig\u{200B}nore` reads as `ignore` to a model).
    public static func injectionFindings(_ text: String, field: String) -> [Finding] {
        var text = text
        // ASCII text goes through the screen: only the ranges where some rule's anchors occur are analysed.
        let ranges = text.withUTF8 { ResultScreen.shared.ranges($0) }
        if ranges.count == 1, ranges[0] == 0..<text.utf8.count {
            return wholeText(text, field: field)
        }
        return screened(Array(text.utf8), ranges, field: field, rules: RuleSet.resultRules)
    }

    /// `rules` over the `ranges` of ASCII `bytes` (the screen's), each read in windows like a
    /// whole text: a range can be longer than one AnalyzedText holds. Byte offsets are scalar offsets.
    static func screened(_ bytes: [UInt8], _ ranges: [Range<Int>], field: String, rules: [DetectionRule]) -> [Finding] {
        var findings: [Finding] = []
        for range in ranges {
            for r in windows(range) {
                findings += offset(rules, AnalyzedText(field: field, text: String(decoding: bytes[r], as: UTF8.self)), by: r.lowerBound)
            }
        }
        return findings
    }

    /// `rules`' findings in `text`, moved by `offset` scalars (where the window starts).
    static func offset(_ rules: [DetectionRule], _ text: AnalyzedText, by offset: Int) -> [Finding] {
        rules.flatMap { rule in
            rule.findings(in: text).map { f in
                var f = f
                f.start += offset
                f.end += offset
                return f
            }
        }
    }

    /// `range` cut into windows of at most `window` positions, each overlapping the one before by
    /// `overlap` (longer than any phrase a rule matches), so nothing goes unread at a cut. An
    /// empty range is one empty window: an empty text is still read.
    static func windows(_ range: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = range.lowerBound
        repeat {
            let end = min(range.upperBound, start + window)
            out.append(start..<end)
            if end == range.upperBound { break }
            start = end - overlap
        } while true
        return out
    }

    /// The result rules over all of a text, in windows when it is long. A text with invisible
    /// characters is read as a model reads it, with them removed (findings then point into that
    /// visible text, field `…(visible)`), and the invisible-character rule runs on it as written.
    ///
    /// Non-ASCII text is screened too (`screen`, the default): through its ASCII projection, and
    /// around every foreign-language needle. `screen: false` reads every window with every rule —
    /// the reference the screen is tested against.
    static func wholeText(_ text: String, field: String, screen: Bool = true) -> [Finding] {
        var scalars = Array(text.unicodeScalars)
        var field = field
        var findings: [Finding] = []
        var rules = RuleSet.resultRules
        if scalars.contains(where: InvisibleCharacters.isInvisible) {
            let original = AnalyzedText(field: field, text: text)
            for rule in rules where rule.id == "unicode.invisible" { findings += rule.findings(in: original) }
            rules = rules.filter { $0.id != "unicode.invisible" }
            scalars.removeAll(where: InvisibleCharacters.isInvisible)
            field += "(visible)"
        }
        func read(_ scalars: [Unicode.Scalar]) {
            for range in screen ? nonASCIIRanges(scalars) : [0..<scalars.count] {
                for r in Self.windows(range) {
                    findings += offset(rules, AnalyzedText(field: field, scalars: r == scalars.indices ? scalars : Array(scalars[r])), by: r.lowerBound)
                }
            }
        }
        read(scalars)
        // Look-alikes read as what they look like: compatibility forms (full-width, mathematical
        // letters), accents and combining marks, and Cyrillic and Greek letters shaped like Latin
        // ones. All of the folded text is read: in windows, or through the screen when it is ASCII.
        let folded = Folding.fold(text)
        if folded.unicodeScalars.elementsEqual(text.unicodeScalars) == false {
            let seen = Set(findings.map(\.rule))
            let before = findings.count
            field += "(folded)"
            if folded.utf8.allSatisfy({ $0 < 0x80 }) {
                // Accented text usually folds to ASCII, which the screen can read: only where some
                // rule's words occur is analysed. (The Unicode rules read the text as written, above.)
                let ascii = Array(folded.utf8)
                findings += screened(ascii, ascii.withUnsafeBufferPointer { ResultScreen.shared.ranges($0) }, field: field, rules: rules)
            } else {
                read(Array(folded.unicodeScalars))
            }
            let added = findings[before...].filter { !seen.contains($0.rule) }
            findings.removeSubrange(before...)
            findings += added
        }
        return findings
    }

    /// Where the result rules can fire in text that is not all ASCII. The rules' words are ASCII and
    /// a non-ASCII scalar ends a word, so the screen reads the text with each non-ASCII scalar as a
    /// space (the same words at the same offsets) — and finds the rules' anchors as it does in ASCII
    /// text. What only non-ASCII text holds is added: every foreign-language needle (they are
    /// looked for in all of it), with the screen's margin. Text the screen does not read (control
    /// characters) is read whole. Look-alikes and accents are the folded reading's, which follows.
    static func nonASCIIRanges(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        // U+009B is the one-scalar form of ESC [: projected as ESC, so the screen anchors it as it
        // anchors any terminal escape.
        let projection = scalars.map { $0.value < 0x80 ? UInt8($0.value) : $0.value == 0x9B ? 0x1B : 0x20 }
        var ranges = projection.withUnsafeBufferPointer { ResultScreen.shared.ranges($0) }
        if ranges.count == 1, ranges[0] == 0..<scalars.count { return ranges }
        for hit in ForeignOverride.occurrences(in: scalars) {
            ranges.append(max(0, hit.lowerBound - ResultScreen.margin)..<min(scalars.count, hit.upperBound + ResultScreen.margin))
        }
        // In order and merged, so no stretch is read twice and findings keep their order.
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for r in ranges {
            if let last = merged.last, r.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        return merged
    }

    /// `value` with every secret replaced by `[REDACTED:kind]`: in place where the secret is in the
    /// string as written, the whole string where it was only found decoded or across invisible
    /// characters.
    public static func redacting(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s):
            let matches = SecretScanner.scanText(s)
            guard !matches.isEmpty else { return value }
            if let hidden = matches.first(where: { $0.via != nil }) { return .string("[REDACTED:\(hidden.kind)]") }
            let bytes = Array(s.utf8)
            let redacted = bytes.withUnsafeBytes { SecretScanner.redact($0, matches) }
            return .string(String(decoding: redacted, as: UTF8.self))
        case .array(let items):
            return .array(items.map(redacting))
        case .object(let o):
            var pairs: [(String, JSONValue)] = []
            for (k, v) in o.members {
                let key = redacting(.string(k)).stringValue ?? k
                pairs.append((pairs.contains { $0.0 == key } ? key + "#\(pairs.count)" : key, redacting(v)))
            }
            return .object(JSONObject(pairs: pairs))
        case .null, .bool, .number:
            return value
        }
    }

    /// Secrets in a call's arguments, read together: each string as written and decoded, each
    /// member as `name: value` (a credential word in the key names the value), and all strings
    /// joined in order (a secret split across two arguments).
    public static func argumentSecrets(_ arguments: JSONValue) -> [SecretMatch] {
        var view: [UInt8] = []
        var pieces: [[UInt8]] = []
        var found: [SecretMatch] = []
        func line(_ key: String, _ value: String) {
            view.append(contentsOf: key.utf8)
            view.append(contentsOf: [0x3A, 0x20])
            view.append(contentsOf: value.utf8)
            view.append(0x0A)
        }
        func walk(_ v: JSONValue, key: String) {
            switch v {
            case .string(let s):
                found += SecretScanner.scanText(s)
                line(key, s)
                pieces.append(Array(s.utf8))
            case .number(let n):
                line(key, n)
                pieces.append(Array(n.utf8))
            case .array(let items):
                for i in items { walk(i, key: key) }
            case .object(let o):
                for (k, x) in o.members {
                    // Keys are data too (`{"AKIA…": true}`), whatever their values are.
                    found += SecretScanner.scanText(k)
                    view.append(contentsOf: k.utf8)
                    view.append(0x0A)
                    walk(x, key: k)
                }
            case .null, .bool: break
            }
        }
        walk(arguments, key: "")
        var seen = Set(found.map(\.fingerprint))
        for m in view.withUnsafeBytes({ SecretScanner.scanDecoded($0) }) + spanning(pieces) where !seen.contains(m.fingerprint) {
            seen.insert(m.fingerprint)
            var m = m
            m.via = m.via ?? "key"
            found.append(m)
        }
        return found
    }

    /// Secrets split across consecutive strings: from each string's last 512 bytes on, the strings
    /// that follow are joined with nothing between them (up to 1 KiB) and scanned, so a token
    /// begins at a string's start as well as anywhere inside it.
    static func spanning(_ pieces: [[UInt8]]) -> [SecretMatch] {
        guard pieces.count >= 2 else { return [] }
        var out: [SecretMatch] = []
        for k in 0..<(pieces.count - 1) {
            var buffer = Array(pieces[k].suffix(512))
            var j = k + 1
            while j < pieces.count, buffer.count < 1024 {
                buffer += pieces[j].prefix(1024 - buffer.count)
                j += 1
            }
            for var m in buffer.withUnsafeBytes({ SecretScanner.scanDecoded($0) }) {
                m.via = "joined"
                out.append(m)
            }
        }
        return out
    }
}

/// Characters that change what a reader sees without being seen: zero-width characters, joiners,
/// the byte-order mark, soft hyphens, tag characters and bidirectional controls.
public enum InvisibleCharacters {
    @inline(__always) public static func isInvisible(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180E, 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x206F, 0x3164,
             0xFE00...0xFE0F, 0xFEFF, 0xFFA0, 0xFFF9...0xFFFB, 0x1BCA0...0x1BCA3, 0x1D173...0x1D17A, 0xE0000...0xE007F, 0xE0100...0xE01EF: true
        default: false
        }
    }
}

/// Text as a reader sees it, for the rules' second reading of non-ASCII text.
public enum Folding {
    /// Latin look-alikes in Cyrillic and Greek (the letters confusable at a glance in most fonts).
    static let confusables: [UInt32: Character] = [
        0x0430: "a", 0x0435: "e", 0x043E: "o", 0x0440: "p", 0x0441: "c", 0x0443: "y", 0x0445: "x", 0x0456: "i", 0x0458: "j", 0x0455: "s",
        0x0501: "d", 0x0261: "g", 0x04BB: "h", 0x0410: "A", 0x0415: "E", 0x041E: "O", 0x0420: "P", 0x0421: "C", 0x0425: "X", 0x0406: "I",
        0x0408: "J", 0x0405: "S", 0x041A: "K", 0x041C: "M", 0x041D: "H", 0x0422: "T", 0x0412: "B", 0x03BF: "o", 0x03B1: "a", 0x03B5: "e",
        0x03B9: "i", 0x03BA: "k", 0x03BD: "v", 0x03C1: "p", 0x03C4: "t", 0x03C5: "u", 0x03C7: "x", 0x039F: "O", 0x0391: "A", 0x0395: "E",
        0x0399: "I", 0x039A: "K", 0x039C: "M", 0x039D: "N", 0x03A1: "P", 0x03A4: "T", 0x03A7: "X", 0x0392: "B", 0x0396: "Z", 0x0397: "H",
    ]

    /// Scalars folding can change: Latin with accents, combining marks, Greek and Cyrillic, phonetic
    /// and letterlike forms, super- and subscripts, enclosed and full-width forms, mathematical
    /// letters, invisible characters. Text without any (most CJK, emoji, ASCII) is not folded.
    static func mayFold(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00A0...0x052F, 0x1D00...0x1EFF, 0x2000...0x24FF, 0xFB00...0xFB4F, 0xFE00...0xFE0F, 0xFE30...0xFE6F, 0xFF00...0xFFEF,
             0x1D400...0x1D7FF, 0x1F100...0x1F1FF, 0xE0000...0xE01EF: true
        default: false
        }
    }

    /// NFKC, then combining marks and invisible characters removed, then confusables mapped.
    ///
    /// Scalar by scalar: compatibility decomposition is per character, and the canonical
    /// reordering it adds only moves the marks that are then removed, so each distinct scalar is
    /// folded once (with Foundation, which is slow on long text) and ASCII passes through. The
    /// result is recomposed only when something in it can compose (Hangul jamo, spacing marks).
    public static func fold(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 }), text.unicodeScalars.contains(where: mayFold) else { return text }
        // Built as UTF-8 bytes: appending to a string's scalar view one scalar at a time is slow.
        // Latin letters with accents (most non-ASCII text) come from a table built once; other
        // scalars are folded once per text.
        let latin = latinTable
        var cache: [UInt32: (utf8: [UInt8], composes: Bool)] = [:]
        let latinEnd = 0x80 + UInt32(latin.starts.count - 1)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var composes = false
        for s in text.unicodeScalars {
            if s.isASCII {
                out.append(UInt8(s.value))
                continue
            }
            if s.value < latinEnd {
                let k = Int(s.value) - 0x80
                out.append(contentsOf: latin.bytes[Int(latin.starts[k])..<Int(latin.starts[k + 1])])
                composes = composes || latin.composes[k]
                continue
            }
            let folded: (utf8: [UInt8], composes: Bool)
            if let known = cache[s.value] {
                folded = known
            } else {
                let f = fold(scalar: s)
                var utf8: [UInt8] = []
                for x in f.scalars { UTF8.encode(x) { utf8.append($0) } }
                folded = (utf8, f.composes)
                cache[s.value] = folded
            }
            out.append(contentsOf: folded.utf8)
            composes = composes || folded.composes
        }
        let result = String(decoding: out, as: UTF8.self)
        return composes ? result.precomposedStringWithCanonicalMapping : result
    }

    /// U+0080 to U+024F (Latin-1, Latin Extended-A and -B) folded, as UTF-8 in one array:
    /// scalar `0x80 + k` folds to `bytes[starts[k]..<starts[k + 1]]`.
    static let latinTable: (bytes: [UInt8], starts: [UInt32], composes: [Bool]) = {
        var bytes: [UInt8] = [], starts: [UInt32] = [0], composes: [Bool] = []
        for v in UInt32(0x80)..<0x250 {
            let f = fold(scalar: Unicode.Scalar(v)!)
            for x in f.scalars { UTF8.encode(x) { bytes.append($0) } }
            starts.append(UInt32(bytes.count))
            composes.append(f.composes)
        }
        return (bytes, starts, composes)
    }()

    /// One scalar folded, and whether what it folds to may compose with its neighbours.
    static func fold(scalar: Unicode.Scalar) -> (scalars: [Unicode.Scalar], composes: Bool) {
        var out: [Unicode.Scalar] = []
        var composes = false
        for d in String(scalar).decomposedStringWithCompatibilityMapping.unicodeScalars {
            let category = d.properties.generalCategory
            if category == .nonspacingMark || InvisibleCharacters.isInvisible(d) { continue }
            if let c = confusables[d.value] { out.append(contentsOf: c.unicodeScalars); continue }
            out.append(d)
            if category == .spacingMark || category == .enclosingMark || (0x1100...0x11FF).contains(d.value) || (0xA960...0xA97F).contains(d.value)
                || (0xD7B0...0xD7FF).contains(d.value) || d.properties.canonicalCombiningClass != .notReordered {
                composes = true
            }
        }
        return (out, composes)
    }
}
