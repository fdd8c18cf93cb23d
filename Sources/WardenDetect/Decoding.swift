import WardenCore

/// The decodings a reader may apply to a string before a secret in it is recognisable: invisible
/// characters removed, percent-encoding, and base64 or hex runs. Each is one linear pass and
/// returns nothing when it does not apply, so ordinary text costs a scan and no copies.
enum Decoding {
    /// `bytes` without zero-width characters, joiners, soft hyphens, BOMs, bidi controls and tag
    /// characters; nil when it has none.
    static func withoutInvisible(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        // Decoded by hand: the input is valid UTF-8 (it is a parsed string), and every invisible
        // character is two to four bytes long.
        let n = bytes.count
        var out: [UInt8]?
        var i = 0
        while i < n {
            let b = bytes[i]
            guard b >= 0xC2 else {
                out?.append(b)
                i += 1
                continue
            }
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
            guard i + length <= n else { out?.append(contentsOf: bytes[i...]); break }
            var v = UInt32(b) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
            for k in 1..<length { v = v << 6 | UInt32(bytes[i + k] & 0x3F) }
            if let s = Unicode.Scalar(v), InvisibleCharacters.isInvisible(s) {
                if out == nil {
                    out = []
                    out!.reserveCapacity(n)
                    out!.append(contentsOf: bytes[0..<i])
                }
            } else {
                out?.append(contentsOf: bytes[i..<(i + length)])
            }
            i += length
        }
        return out
    }

    /// `bytes` with every `%XX` decoded; nil when there is none.
    static func percentDecoded(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var i = 0
        let n = bytes.count
        while i + 2 < n {
            if bytes[i] == 0x25, hex(bytes[i + 1]) != nil, hex(bytes[i + 2]) != nil { return CanonicalHost.percentDecoded(bytes) }
            i += 1
        }
        return nil
    }

    /// What one pass learns about a text: its runs of 16+ token characters (letters, digits,
    /// `+ / = _ - . %`), and whether it has non-ASCII bytes, a `-----BEGIN` or a `%XX`.
    struct Outline {
        var runs: [Range<Int>] = []
        var nonASCII = false, keyBlock = false, percent = false

        /// The runs widened to where a scan must look: a credential word stands up to 64 bytes
        /// before its value. Merged, in order.
        func regions(count: Int) -> [Range<Int>] {
            var out: [Range<Int>] = []
            for r in runs {
                let w = max(0, r.lowerBound - 64)..<min(count, r.upperBound + 1)
                if let last = out.last, last.upperBound >= w.lowerBound { out[out.count - 1] = last.lowerBound..<w.upperBound } else { out.append(w) }
            }
            return out
        }
    }

    /// The outline without reading every byte through the table: a run of 16 or more token
    /// characters covers one of any 16 consecutive positions, so only every 16th position is
    /// looked at until one is a token character, and then its run is measured both ways. Non-ASCII
    /// bytes and a key block's `-----BEGIN ` are looked for eight bytes at a time.
    static func outline(_ bytes: UnsafeRawBufferPointer) -> Outline {
        var o = Outline()
        let n = bytes.count
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return o }
        o.nonASCII = Words.any(base, n) { $0 & Words.high != 0 }
        // Anchored on its `G`, an uncommon byte in text and code (a dash is common in both).
        o.keyBlock = Words.find(base, n, SecretScanner.begin, anchor: 7) != nil
        runTable.withUnsafeBufferPointer { table in
            // Every run ending before `done` is known; a run starting after it covers `done + 16`.
            var done = 0
            var probe = 15
            while probe < n {
                guard table[Int(base[probe])] else { probe += 16; continue }
                var start = probe
                while start > done, table[Int(base[start - 1])] { start -= 1 }
                var end = probe + 1
                while end < n, table[Int(base[end])] { end += 1 }
                if end - start >= 16 {
                    o.runs.append(start..<end)
                    if !o.percent {
                        var k = start
                        while k + 2 < end { if base[k] == 0x25, hex(base[k + 1]) != nil, hex(base[k + 2]) != nil { o.percent = true; break }; k += 1 }
                    }
                }
                done = end
                probe = end + 16
            }
        }
        return o
    }

    /// Token characters for `outline`: what secrets and their encodings are made of.
    static let runTable: [Bool] = (0..<256).map { b in
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || [0x2B, 0x2F, 0x3D, 0x5F, 0x2D, 0x2E, 0x25].contains(b)
    }

    /// Decoded base64 (standard or URL-safe, 20+ characters) and hex (32+ digits) stretches of
    /// the long runs, where the decoding is mostly printable text: a secret hidden by encoding it
    /// is text once decoded.
    static func encodedRuns(_ bytes: UnsafeRawBufferPointer, _ runs: [Range<Int>]) -> [(kind: String, bytes: [UInt8])] {
        var out: [(String, [UInt8])] = []
        let table = base64Table
        for run in runs {
            var i = run.lowerBound
            let n = run.upperBound
            while i < n {
                guard table[Int(bytes[i])] != 0xFF else { i += 1; continue }
                var j = i
                var allHex = true
                while j < n, table[Int(bytes[j])] != 0xFF || bytes[j] == 0x3D {
                    if allHex, hex(bytes[j]) == nil { allHex = false }
                    j += 1
                }
                let length = j - i
                if allHex, length >= 32, length % 2 == 0 {
                    // Counted before anything is kept: most hex runs are hashes and ids, not text.
                    var printable = 0, k = i
                    while k + 1 < j { printable += isPrintable(hex(bytes[k])! << 4 | hex(bytes[k + 1])!) ? 1 : 0; k += 2 }
                    if printable * 10 >= length / 2 * 9 {
                        var decoded: [UInt8] = []
                        decoded.reserveCapacity(length / 2)
                        k = i
                        while k + 1 < j { decoded.append(hex(bytes[k])! << 4 | hex(bytes[k + 1])!); k += 2 }
                        out.append(("hex", decoded))
                    }
                } else if length >= 20, let decoded = base64(bytes, i..<j), mostlyPrintable(decoded) {
                    out.append(("base64", decoded))
                }
                i = j
            }
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
        let printable = bytes.reduce(0) { $0 + (isPrintable($1) ? 1 : 0) }
        return printable * 10 >= bytes.count * 9
    }

    @inline(__always) static func isPrintable(_ b: UInt8) -> Bool { (b >= 0x20 && b < 0x7F) || b == 0x0A || b == 0x09 }

    @inline(__always) static func isBase64(_ b: UInt8) -> Bool { base64Table[Int(b)] != 0xFF }

    @inline(__always) static func base64Value(_ b: UInt8) -> UInt8? {
        let v = base64Table[Int(b)]
        return v == 0xFF ? nil : v
    }

    /// Base64 digit values (standard and URL-safe alphabets), 0xFF for other bytes.
    static let base64Table: [UInt8] = (0..<256).map { b -> UInt8 in
        switch b {
        case 0x41...0x5A: UInt8(b - 0x41)
        case 0x61...0x7A: UInt8(b - 0x61 + 26)
        case 0x30...0x39: UInt8(b - 0x30 + 52)
        case 0x2B, 0x2D: 62
        case 0x2F, 0x5F: 63
        default: 0xFF
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
