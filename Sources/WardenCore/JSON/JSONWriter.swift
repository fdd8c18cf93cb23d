import Foundation

/// Serialises `JSONValue`s: compactly for messages Warden writes itself, canonically for pinning,
/// and safely for output people and SIEMs read (`safe`).
///
/// Canonical form (used for tool pins and signatures): keys sorted by their UTF-8 bytes, no
/// whitespace, strings in Unicode NFC with minimal escaping, numbers normalised so that `1.0`,
/// `1` and `1e0` pin the same.
public enum JSONWriter {
    /// Compact JSON text, members in their stored order, numbers as stored.
    public static func compact(_ value: JSONValue) -> String {
        var out = [UInt8]()
        out.reserveCapacity(256)
        write(value, canonical: false, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Compact JSON bytes, members in their stored order, numbers as stored.
    public static func compactBytes(_ value: JSONValue) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(256)
        write(value, canonical: false, into: &out)
        return out
    }

    /// Compact JSON in which every character `SafeText` escapes (controls, DEL, C1, bidi controls,
    /// invisible and tag characters) is written as a `\uXXXX` escape (a surrogate pair above
    /// U+FFFF): a terminal, log viewer or SIEM shows the escape, never acts on the character, and a
    /// JSON parser still reads back exactly the original text. For every JSON Warden prints or
    /// exports that carries untrusted text.
    public static func safe(_ value: JSONValue) -> String {
        var out = [UInt8]()
        out.reserveCapacity(256)
        write(value, canonical: false, safe: true, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Canonical JSON bytes (see the type's documentation).
    public static func canonicalBytes(_ value: JSONValue) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(512)
        write(value, canonical: true, into: &out)
        return out
    }

    static func write(_ value: JSONValue, canonical: Bool, safe: Bool = false, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: (canonical ? canonicalNumber(text) : text).utf8)
        case .string(let s): safe ? writeSafeString(s, into: &out) : writeString(canonical ? nfc(s) : s, into: &out)
        case .array(let elements):
            out.append(0x5B)
            for (i, e) in elements.enumerated() {
                if i > 0 { out.append(0x2C) }
                write(e, canonical: canonical, safe: safe, into: &out)
            }
            out.append(0x5D)
        case .object(let object):
            out.append(0x7B)
            if canonical {
                var members = Array(object.members).map { (nfc($0.0), $0.1) }
                members.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
                for (i, (k, v)) in members.enumerated() {
                    if i > 0 { out.append(0x2C) }
                    writeString(k, into: &out)
                    out.append(0x3A)
                    write(v, canonical: true, into: &out)
                }
            } else {
                for i in 0..<object.count {
                    if i > 0 { out.append(0x2C) }
                    if safe { writeSafeString(object.keys[i], into: &out) } else { writeString(object.keys[i], into: &out) }
                    out.append(0x3A)
                    write(object.values[i], canonical: false, safe: safe, into: &out)
                }
            }
            out.append(0x7D)
        }
    }

    /// NFC, skipping the (costly) normalisation for ASCII, which is always already normalised.
    static func nfc(_ s: String) -> String {
        s.utf8.allSatisfy { $0 < 0x80 } ? s : s.precomposedStringWithCanonicalMapping
    }

    /// Appends `s` as a JSON string literal.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            // Most strings need no escaping: copy them whole.
            var clean = 0
            while clean < bytes.count, bytes[clean] >= 0x20, bytes[clean] != 0x22, bytes[clean] != 0x5C { clean += 1 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[0..<clean]))
            for b in bytes[clean...] {
                switch b {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x0A: out.append(0x5C); out.append(0x6E)
                case 0x0D: out.append(0x5C); out.append(0x72)
                case 0x09: out.append(0x5C); out.append(0x74)
                case 0..<0x20:
                    out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hexDigits[Int(b >> 4)], hexDigits[Int(b & 0xF)]])
                default: out.append(b)
                }
            }
        }
        out.append(0x22)
    }

    /// Appends `s` as a JSON string literal with every character `SafeText.isUnsafe` names escaped
    /// as `\uXXXX` (RFC 8259 §7 allows any character to be escaped so).
    static func writeSafeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        for scalar in s.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case _ where SafeText.isUnsafe(scalar):
                if v > 0xFFFF {
                    let u = v - 0x10000
                    appendUnicodeEscape(UInt16(0xD800 + (u >> 10)), into: &out)
                    appendUnicodeEscape(UInt16(0xDC00 + (u & 0x3FF)), into: &out)
                } else {
                    appendUnicodeEscape(UInt16(v), into: &out)
                }
            case 0..<0x80:
                out.append(UInt8(v))
            default:
                UTF8.encode(scalar) { out.append($0) }
            }
        }
        out.append(0x22)
    }

    private static func appendUnicodeEscape(_ unit: UInt16, into out: inout [UInt8]) {
        out.append(contentsOf: [0x5C, 0x75, hexDigits[Int(unit >> 12)], hexDigits[Int((unit >> 8) & 0xF)],
                                hexDigits[Int((unit >> 4) & 0xF)], hexDigits[Int(unit & 0xF)]])
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Normalises a JSON number's text: integers keep all their digits, anything with a fraction or
    /// exponent goes through `Double` and back (shortest round-trip form), integral values print
    /// without a fraction.
    public static func canonicalNumber(_ text: String) -> String {
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return text == "-0" ? "0" : text
        }
        guard let d = Double(text), d.isFinite else { return text }
        if d == d.rounded(), abs(d) < 9_007_199_254_740_992 { return String(Int64(d)) }
        return "\(d)"
    }
}
