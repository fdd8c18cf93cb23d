/// Makes untrusted text (tool names, descriptions, arguments, results) safe to show on a terminal
/// or to hand to a log pipeline.
///
/// Nothing that could move the cursor, change colours, write the clipboard (OSC 52), reorder text or
/// hide characters survives: C0 controls, DEL and C1 controls, bidi controls (embeddings,
/// overrides, isolates, marks), zero-width and other invisible characters, variation selectors and
/// Unicode tag characters are replaced with visible escapes. Printable text, including CJK and
/// emoji, is untouched. How the escapes are written is the `Notation`.
public enum SafeText {
    /// How an escaped character is written.
    public enum Notation: Sendable {
        /// For people at a terminal: C0 controls as their control pictures (ESC shows as `␛`, so
        /// `\e[31m` reads `␛[31m`, DEL as `␡`), everything else as `<U+XXXX>`.
        case pictures
        /// For logs and SIEMs (CEF, syslog): every escaped character as `<U+XXXX>`, ASCII only, so
        /// it survives any collector's character set and can be searched for (`<U+001B>`).
        case codePoints
    }

    /// The escaped form of `text`. With `multiline`, newlines and tabs are kept as they are.
    public static func escape(_ text: String, multiline: Bool = false, notation: Notation = .pictures) -> String {
        // Most text needs nothing: return it without copying.
        if isClean(text, multiline: multiline) { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            let v = s.value
            if multiline && (v == 0x0A || v == 0x09) {
                out.append(s)
            } else if !isUnsafe(s) {
                out.append(s)
            } else if notation == .pictures && v < 0x20 {
                out.append(Unicode.Scalar(0x2400 + v)!)
            } else if notation == .pictures && v == 0x7F {
                out.append("\u{2421}")
            } else {
                out.append(contentsOf: "<U+\(hex(v))>".unicodeScalars)
            }
        }
        return String(out)
    }

    /// Whether `text` contains anything `escape` would change (besides newlines/tabs when multiline).
    public static func isClean(_ text: String, multiline: Bool = false) -> Bool {
        text.unicodeScalars.allSatisfy { s in
            if multiline && (s.value == 0x0A || s.value == 0x09) { return true }
            return !isUnsafe(s)
        }
    }

    /// Whether `scalar` is one `escape` replaces: a control (C0, DEL, C1), a bidi control, or an
    /// invisible or formatting character. JSON output escapes the same set as `\uXXXX`.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || v == 0x7F || needsCodePoint(v)
    }

    static func needsCodePoint(_ v: UInt32) -> Bool {
        switch v {
        case 0x80...0x9F, 0xAD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180E, 0x200B...0x200F, 0x2028...0x202E,
             0x2060...0x206F, 0x3164, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0, 0xFFF0...0xFFFB, 0x1D173...0x1D17A,
             0xE0000...0xE0FFF:
            return true
        default:
            return false
        }
    }

    static func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
