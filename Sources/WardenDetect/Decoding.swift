/// The decodings a reader may apply to a string before a secret in it is recognisable: invisible
/// characters removed, percent-encoding, and base64 or hex runs. Each is one linear pass and
/// returns nothing when it does not apply, so ordinary text costs a scan and no copies.
enum Decoding {
    /// `bytes` without zero-width characters, joiners, soft hyphens, BOMs, bidi controls and tag
    /// characters; nil when it has none.
    static func withoutInvisible(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        guard bytes.contains(where: { $0 >= 0xC2 }) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.unicodeScalars.contains(where: InvisibleCharacters.isInvisible) else { return nil }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: text.unicodeScalars.filter { !InvisibleCharacters.isInvisible($0) })
        return Array(String(out).utf8)
    }

    /// `bytes` with every `%XX` decoded; nil when there is none.
    static func percentDecoded(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var i = 0, found = false
        let n = bytes.count
        while i + 2 < n {
            if bytes[i] == 0x25, hex(bytes[i + 1]) != nil, hex(bytes[i + 2]) != nil { found = true; break }
            i += 1
        }
        guard found else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        i = 0
        while i < n {
            if bytes[i] == 0x25, i + 2 < n, let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// Decoded runs of base64 (standard or URL-safe, 20+ characters) and hex (32+ digits) whose
    /// decoding is mostly printable text: a secret hidden by encoding it is text once decoded.
    static func encodedRuns(_ bytes: UnsafeRawBufferPointer) -> [(kind: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        let n = bytes.count
        var i = 0
        while i < n {
            guard isBase64(bytes[i]) else { i += 1; continue }
            var j = i
            var allHex = true
            while j < n, isBase64(bytes[j]) || bytes[j] == 0x3D {
                if hex(bytes[j]) == nil { allHex = false }
                j += 1
            }
            let length = j - i
            if allHex, length >= 32, length % 2 == 0 {
                var decoded: [UInt8] = []
                decoded.reserveCapacity(length / 2)
                var k = i
                while k + 1 < j { decoded.append(hex(bytes[k])! << 4 | hex(bytes[k + 1])!); k += 2 }
                if mostlyPrintable(decoded) { out.append(("hex", decoded)) }
            } else if length >= 20, let decoded = base64(bytes, i..<j), mostlyPrintable(decoded) {
                out.append(("base64", decoded))
            }
            i = j
        }
        return out
    }

    static func base64(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(range.count * 3 / 4)
        var buffer: UInt32 = 0, bits = 0
        for i in range {
            let b = bytes[i]
            if b == 0x3D { break }
            guard let v = base64Value(b) else { return nil }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }

    static func mostlyPrintable(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 8 else { return false }
        let printable = bytes.reduce(0) { $0 + (($1 >= 0x20 && $1 < 0x7F) || $1 == 0x0A || $1 == 0x09 ? 1 : 0) }
        return printable * 10 >= bytes.count * 9
    }

    @inline(__always) static func isBase64(_ b: UInt8) -> Bool { base64Value(b) != nil }

    @inline(__always) static func base64Value(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x41...0x5A: b - 0x41
        case 0x61...0x7A: b - 0x61 + 26
        case 0x30...0x39: b - 0x30 + 52
        case 0x2B, 0x2D: 62
        case 0x2F, 0x5F: 63
        default: nil
        }
    }

    @inline(__always) static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }
}
