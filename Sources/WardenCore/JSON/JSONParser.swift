/// A strict RFC 8259 JSON parser over raw bytes.
///
/// Strict on purpose: the relay must never forward a message that two parsers could read
/// differently, so it rejects duplicate keys, invalid UTF-8, unescaped control characters,
/// trailing data and nesting deeper than `maxDepth` (which also bounds stack use on hostile input).
/// It runs in linear time and allocates nothing in `scan` mode beyond keys and top-level spans.
public enum JSONParser {
    /// Deepest nesting accepted. MCP messages and JSON Schemas stay far below it.
    public static let maxDepth = 512

    /// Parses a complete JSON text into a value.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        var cursor = Cursor(bytes, build: true)
        return try cursor.parseDocument(collectSpans: false)
    }

    /// Parses a complete JSON text into a value.
    public static func parse(_ bytes: some Sequence<UInt8>) throws(JSONError) -> JSONValue {
        let array = Array(bytes)
        do {
            return try array.withUnsafeBytes { raw in try parse(raw) }
        } catch let error as JSONError {
            throw error
        } catch {
            fatalError("unreachable: \(error)")
        }
    }

    /// Parses a complete JSON text into a value.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Validates a complete JSON text without building it, and reports where the top-level
    /// members (of an object) or elements (of an array) lie, so a caller can parse just those.
    /// Top-level keys must be unique; nested objects are only checked for validity (the relay
    /// scans server output this way; client input goes through `parse`, which checks every object).
    public static func scan(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONScan {
        var cursor = Cursor(bytes, build: false)
        _ = try cursor.parseDocument(collectSpans: true)
        return cursor.scanResult
    }
}

/// The outline of a validated JSON text: its shape and where its top-level parts are.
public struct JSONScan: Sendable {
    /// The kind of the top-level value.
    public enum Shape: Sendable { case object, array, scalar }
    /// The kind of the top-level value.
    public var shape: Shape = .scalar
    /// Top-level object members: key and the byte range of the value.
    public var members: [(key: String, range: Range<Int>)] = []
    /// Top-level array elements: byte ranges.
    public var elements: [Range<Int>] = []
    /// Members of a top-level `result` object (a JSON-RPC result), so a caller can read one flag
    /// of a many-MiB result without scanning it again.
    public var resultMembers: [(key: String, range: Range<Int>)] = []
    /// The decoded top-level `id` member, if any (always decoded: the relay keys requests on it).
    public var id: JSONValue?

    /// The byte range of a top-level member's value.
    public func range(of key: String) -> Range<Int>? {
        members.first(where: { $0.key == key })?.range
    }
}

private let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C, comma: UInt8 = 0x2C, colon: UInt8 = 0x3A
private let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D, openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D

private struct Cursor {
    let base: UnsafePointer<UInt8>?
    let end: Int
    var pos = 0
    var build: Bool
    var scanResult = JSONScan()
    var recoveredID: JSONValue?

    init(_ bytes: UnsafeRawBufferPointer, build: Bool) {
        base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        end = bytes.count
        self.build = build
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 { base.unsafelyUnwrapped[i] }

    func fail(_ kind: JSONError.Kind, at offset: Int? = nil) -> JSONError {
        JSONError(kind: kind, offset: offset ?? pos, recoveredID: recoveredID)
    }

    @inline(__always) mutating func skipWhitespace() {
        while pos < end {
            let b = byte(pos)
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    mutating func parseDocument(collectSpans: Bool) throws(JSONError) -> JSONValue {
        skipWhitespace()
        guard pos < end else { throw fail(.empty) }
        let value = try parseValue(depth: 0, collectSpans: collectSpans)
        skipWhitespace()
        guard pos == end else { throw fail(.trailingData) }
        return value
    }

    mutating func parseValue(depth: Int, collectSpans: Bool = false) throws(JSONError) -> JSONValue {
        guard pos < end else { throw fail(.unexpectedEnd) }
        switch byte(pos) {
        case openBrace: return try parseObject(depth: depth + 1, collectSpans: collectSpans)
        case openBracket: return try parseArray(depth: depth + 1, collectSpans: collectSpans)
        case quote:
            let s = try parseString(decode: build)
            return build ? .string(s) : .null
        case 0x74: try expectLiteral("true"); return .bool(true)
        case 0x66: try expectLiteral("false"); return .bool(false)
        case 0x6E: try expectLiteral("null"); return .null
        case 0x2D, 0x30...0x39: return try parseNumber()
        default: throw fail(.unexpectedByte(byte(pos)))
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let n = literal.utf8CodeUnitCount
        guard pos + n <= end else { throw fail(.unexpectedEnd) }
        let p = literal.utf8Start
        for i in 0..<n where byte(pos + i) != p[i] { throw fail(.unexpectedByte(byte(pos + i)), at: pos + i) }
        pos += n
    }

    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = pos
        if byte(pos) == 0x2D { pos += 1 }
        guard pos < end else { throw fail(.invalidNumber) }
        if byte(pos) == 0x30 {
            pos += 1
        } else if byte(pos) >= 0x31 && byte(pos) <= 0x39 {
            while pos < end, byte(pos) >= 0x30, byte(pos) <= 0x39 { pos += 1 }
        } else {
            throw fail(.invalidNumber)
        }
        if pos < end, byte(pos) == 0x2E {
            pos += 1
            let digits = pos
            while pos < end, byte(pos) >= 0x30, byte(pos) <= 0x39 { pos += 1 }
            guard pos > digits else { throw fail(.invalidNumber) }
        }
        if pos < end, byte(pos) == 0x65 || byte(pos) == 0x45 {
            pos += 1
            if pos < end, byte(pos) == 0x2B || byte(pos) == 0x2D { pos += 1 }
            let digits = pos
            while pos < end, byte(pos) >= 0x30, byte(pos) <= 0x39 { pos += 1 }
            guard pos > digits else { throw fail(.invalidNumber) }
        }
        guard build else { return .null }
        return .number(String(decoding: UnsafeBufferPointer(start: base.unsafelyUnwrapped + start, count: pos - start), as: UTF8.self))
    }

    /// Reads a string starting at the opening quote. Validates escapes and UTF-8 either way;
    /// decodes only when asked.
    mutating func parseString(decode: Bool) throws(JSONError) -> String {
        pos += 1
        let start = pos
        var escaped = false
        let p = base.unsafelyUnwrapped
        while true {
            // Eight bytes at a time while none is a quote, a backslash, a control byte or non-ASCII:
            // most of a long result is plain text, and this loop is most of the parse.
            while pos + 8 <= end {
                if Self.plainASCII(Words.load(p + pos)) { pos += 8 } else { break }
            }
            guard pos < end else { throw fail(.unexpectedEnd) }
            let b = byte(pos)
            if b == quote { break }
            if b == backslash {
                escaped = true
                guard pos + 1 < end else { throw fail(.unexpectedEnd) }
                switch byte(pos + 1) {
                case quote, backslash, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: pos += 2
                case 0x75:
                    // A lone surrogate has no scalar value and parsers disagree on what it reads as
                    // (U+FFFD, an error, a WTF-8 string), so Warden refuses it rather than pick one.
                    let unit = try escapedUnit(at: pos)
                    if (0xDC00...0xDFFF).contains(unit) { throw fail(.loneSurrogate) }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard pos + 12 <= end, byte(pos + 6) == backslash, byte(pos + 7) == 0x75,
                              (0xDC00...0xDFFF).contains(try escapedUnit(at: pos + 6)) else { throw fail(.loneSurrogate) }
                        pos += 12
                    } else {
                        pos += 6
                    }
                default: throw fail(.invalidEscape)
                }
            } else if b < 0x20 {
                throw fail(.controlCharacterInString)
            } else if b < 0x80 {
                pos += 1
            } else {
                try skipUTF8Sequence(lead: b)
            }
        }
        let stop = pos
        pos += 1
        guard decode else { return "" }
        let raw = UnsafeBufferPointer(start: base.unsafelyUnwrapped + start, count: stop - start)
        return escaped ? Self.unescape(raw) : String(decoding: raw, as: UTF8.self)
    }

    /// Whether none of the eight bytes in `x` is `"`, `\`, below 0x20 or above 0x7F (the high
    /// bits of `x` itself make `Words.below` exact).
    @inline(__always) static func plainASCII(_ x: UInt64) -> Bool {
        (x | Words.below(x, 0x20) | Words.equal(x, quote) | Words.equal(x, backslash)) & Words.high == 0
    }

    /// The UTF-16 code unit of the `\\uXXXX` escape at `at` (the backslash).
    func escapedUnit(at: Int) throws(JSONError) -> UInt32 {
        guard at + 6 <= end else { throw fail(.unexpectedEnd) }
        var v: UInt32 = 0
        for i in 2..<6 {
            guard let h = hexValue(byte(at + i)) else { throw fail(.invalidEscape, at: at + i) }
            v = v << 4 | UInt32(h)
        }
        return v
    }

    mutating func skipUTF8Sequence(lead: UInt8) throws(JSONError) {
        let need: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE, 0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: throw fail(.invalidUTF8)
        }
        guard pos + need < end else { throw fail(.invalidUTF8) }
        let second = byte(pos + 1)
        guard second >= lo && second <= hi else { throw fail(.invalidUTF8, at: pos + 1) }
        for i in 2...max(2, need) where i <= need {
            let c = byte(pos + i)
            guard c & 0xC0 == 0x80 else { throw fail(.invalidUTF8, at: pos + i) }
        }
        pos += need + 1
    }

    /// The decoded text of a string's raw bytes. Escapes only shrink (`\n` is two bytes for one,
    /// `\uXXXX` six for at most three, a surrogate pair twelve for four), so the text is written
    /// straight into a string of the raw length.
    static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String {
        let n = raw.count
        let source = raw.baseAddress.unsafelyUnwrapped
        return String(unsafeUninitializedCapacity: max(1, n)) { out in
            let o = out.baseAddress.unsafelyUnwrapped
            var w = 0, i = 0
            var pendingHigh: UInt32?
            func appendScalar(_ v: UInt32) {
                let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                UTF8.encode(scalar) { o[w] = $0; w += 1 }
            }
            while i < n {
                guard source[i] == backslash else {
                    if let h = pendingHigh { appendScalar(h); pendingHigh = nil }
                    // The run up to the next escape, in one copy.
                    var j = i + 1
                    while j + 8 <= n, Words.equal(Words.load(source + j), backslash) == 0 { j += 8 }
                    while j < n, source[j] != backslash { j += 1 }
                    (o + w).update(from: source + i, count: j - i)
                    w += j - i
                    i = j
                    continue
                }
                let e = source[i + 1]
                if e == 0x75 {
                    var v: UInt32 = 0
                    for k in 2..<6 { v = v << 4 | UInt32(hexValue(source[i + k])!) }
                    i += 6
                    // `parseString` refused lone surrogates, so a high one is always followed by a low one.
                    if (0xD800...0xDBFF).contains(v) {
                        pendingHigh = v
                    } else if (0xDC00...0xDFFF).contains(v), let h = pendingHigh {
                        appendScalar(0x10000 + ((h - 0xD800) << 10) + (v - 0xDC00))
                        pendingHigh = nil
                    } else {
                        appendScalar(v)
                    }
                    continue
                }
                if let h = pendingHigh { appendScalar(h); pendingHigh = nil }
                switch e {
                case 0x62: o[w] = 0x08
                case 0x66: o[w] = 0x0C
                case 0x6E: o[w] = 0x0A
                case 0x72: o[w] = 0x0D
                case 0x74: o[w] = 0x09
                default: o[w] = e
                }
                w += 1
                i += 2
            }
            if let h = pendingHigh { appendScalar(h) }
            return w
        }
    }

    mutating func parseObject(depth: Int, collectSpans: Bool, collectResult: Bool = false) throws(JSONError) -> JSONValue {
        guard depth <= JSONParser.maxDepth else { throw fail(.tooDeep(limit: JSONParser.maxDepth)) }
        if collectSpans { scanResult.shape = .object }
        // In scan mode only the top level's keys matter (spans, the id, uniqueness).
        let checkKeys = build || depth == 1 || collectResult
        pos += 1
        var object = JSONObject()
        var keys: [String] = []
        var keySet: Set<String>?
        skipWhitespace()
        guard pos < end else { throw fail(.unexpectedEnd) }
        if byte(pos) == closeBrace {
            pos += 1
            return build ? .object(object) : .null
        }
        while true {
            skipWhitespace()
            guard pos < end else { throw fail(.unexpectedEnd) }
            guard byte(pos) == quote else { throw fail(.unexpectedByte(byte(pos))) }
            let keyOffset = pos
            let key = try parseString(decode: checkKeys)
            // Duplicate keys: linear for the small objects MCP sends, a set once an object grows.
            if !checkKeys {
                // validated above; not decoded, not compared
            } else if let set = keySet {
                if set.contains(key) { throw fail(.duplicateKey(key), at: keyOffset) }
                keySet!.insert(key)
            } else {
                if keys.contains(key) { throw fail(.duplicateKey(key), at: keyOffset) }
                keys.append(key)
                if keys.count > 16 { keySet = Set(keys) }
            }
            skipWhitespace()
            guard pos < end else { throw fail(.unexpectedEnd) }
            guard byte(pos) == colon else { throw fail(.unexpectedByte(byte(pos))) }
            pos += 1
            skipWhitespace()
            let valueStart = pos
            let value: JSONValue
            if depth == 1 && key == "id" {
                // The id is what lets a JSON-RPC error reach the right request, so it is always decoded.
                let saved = build
                build = true
                value = try parseValue(depth: depth)
                build = saved
                recoveredID = value
                if collectSpans { scanResult.id = value }
            } else if collectSpans && key == "result" && pos < end && byte(pos) == openBrace {
                value = try parseObject(depth: depth + 1, collectSpans: false, collectResult: true)
            } else {
                value = try parseValue(depth: depth)
            }
            if collectSpans { scanResult.members.append((key, valueStart..<pos)) }
            if collectResult { scanResult.resultMembers.append((key, valueStart..<pos)) }
            if build { object[key] = value }
            skipWhitespace()
            guard pos < end else { throw fail(.unexpectedEnd) }
            let b = byte(pos)
            pos += 1
            if b == comma { continue }
            if b == closeBrace { break }
            throw fail(.unexpectedByte(b), at: pos - 1)
        }
        return build ? .object(object) : .null
    }

    mutating func parseArray(depth: Int, collectSpans: Bool) throws(JSONError) -> JSONValue {
        guard depth <= JSONParser.maxDepth else { throw fail(.tooDeep(limit: JSONParser.maxDepth)) }
        if collectSpans { scanResult.shape = .array }
        pos += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        guard pos < end else { throw fail(.unexpectedEnd) }
        if byte(pos) == closeBracket {
            pos += 1
            return build ? .array([]) : .null
        }
        while true {
            skipWhitespace()
            let start = pos
            let value = try parseValue(depth: depth)
            if collectSpans { scanResult.elements.append(start..<pos) }
            if build { elements.append(value) }
            skipWhitespace()
            guard pos < end else { throw fail(.unexpectedEnd) }
            let b = byte(pos)
            pos += 1
            if b == comma { continue }
            if b == closeBracket { break }
            throw fail(.unexpectedByte(b), at: pos - 1)
        }
        return build ? .array(elements) : .null
    }
}

@inline(__always) private func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x41...0x46: return b - 0x41 + 10
    case 0x61...0x66: return b - 0x61 + 10
    default: return nil
    }
}
