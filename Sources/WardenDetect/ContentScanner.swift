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
        func read(_ s: String, field: String, prose: Bool) {
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
                    // Keys are text too: a long key is a place to put a sentence.
                    if k.utf8.count > 24 { read(k, field: child + "(key)", prose: true) }
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
        return out
    }

    /// The result rules over one text: whole, in windows when it is long, and again with invisible
    /// characters removed when it has any (`ig\u{200B}nore` reads as `ignore` to a model).
    public static func injectionFindings(_ text: String, field: String) -> [Finding] {
        var findings: [Finding] = []
        var text = text
        // ASCII text goes through the screen: only the ranges where some rule's anchors occur are analysed.
        let ranges = text.withUTF8 { ResultScreen.shared.ranges($0) }
        let utf8Count = text.utf8.count
        if ranges.count == 1, ranges[0] == 0..<utf8Count {
            return wholeText(text, field: field)
        }
        let bytes = Array(text.utf8)
        for r in ranges {
            // ASCII: byte offsets are scalar offsets.
            let part = String(decoding: bytes[r], as: UTF8.self)
            for f in ResultScanner.scan(AnalyzedText(field: field, text: part)) {
                var f = f
                f.start += r.lowerBound
                f.end += r.lowerBound
                findings.append(f)
            }
        }
        return findings
    }

    /// The result rules over all of a text, in windows when it is long. A text with invisible
    /// characters is read as a model reads it, with them removed (findings then point into that
    /// visible text, field `…(visible)`), and the invisible-character rule runs on it as written.
    static func wholeText(_ text: String, field: String) -> [Finding] {
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
        func scanned(_ s: ArraySlice<Unicode.Scalar>, offset: Int) {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: s)
            let analysed = AnalyzedText(field: field, text: String(view))
            for rule in rules {
                for f in rule.findings(in: analysed) {
                    var f = f
                    f.start += offset
                    f.end += offset
                    findings.append(f)
                }
            }
        }
        var start = 0
        repeat {
            let end = min(scalars.count, start + window)
            scanned(scalars[start..<end], offset: start)
            if end == scalars.count { break }
            start = end - overlap
        } while start < scalars.count
        return findings
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
            var copy = o
            for (k, v) in o.members { copy[k] = redacting(v) }
            return .object(copy)
        case .null, .bool, .number:
            return value
        }
    }

    /// Secrets in a call's arguments, read together: each string as written and decoded, each
    /// member as `name: value` (a credential word in the key names the value), and all strings
    /// joined in order (a secret split across two arguments).
    public static func argumentSecrets(_ arguments: JSONValue) -> [SecretMatch] {
        var view: [UInt8] = []
        var joined: [UInt8] = []
        var found: [SecretMatch] = []
        func walk(_ v: JSONValue, key: String) {
            switch v {
            case .string(let s):
                found += SecretScanner.scanText(s)
                view += Array(key.utf8) + Array(": ".utf8) + Array(s.utf8) + [0x0A]
                joined += Array(s.utf8)
            case .number(let n):
                view += Array(key.utf8) + Array(": ".utf8) + Array(n.utf8) + [0x0A]
                joined += Array(n.utf8)
            case .array(let items):
                for i in items { walk(i, key: key) }
            case .object(let o):
                for (k, x) in o.members { walk(x, key: k) }
            case .null, .bool: break
            }
        }
        walk(arguments, key: "")
        var seen = Set(found.map(\.fingerprint))
        for (buffer, via) in [(view, "key"), (joined, "joined")] {
            for m in buffer.withUnsafeBytes({ SecretScanner.scanDecoded($0) }) where !seen.contains(m.fingerprint) {
                seen.insert(m.fingerprint)
                var m = m
                m.via = m.via ?? via
                found.append(m)
            }
        }
        return found
    }
}

/// Characters that change what a reader sees without being seen: zero-width characters, joiners,
/// the byte-order mark, soft hyphens, tag characters and bidirectional controls.
public enum InvisibleCharacters {
    @inline(__always) public static func isInvisible(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x206F, 0x3164, 0xFE00...0xFE0F,
             0xFEFF, 0xFFA0, 0xE0000...0xE007F, 0xE0100...0xE01EF: true
        default: false
        }
    }
}
