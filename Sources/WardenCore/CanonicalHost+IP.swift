/// The WHATWG URL Standard's IP address parsers and serializers
/// (https://url.spec.whatwg.org/#ipv4-parser, #concept-ipv6-parser, #concept-ipv6-serializer).
///
/// Browsers and Node read hosts with these, and libc's `inet_aton` (behind `getaddrinfo`, so behind
/// Python's and curl's connections) accepts the same legacy IPv4 spellings: `2130706433`,
/// `0x7f000001`, `0177.0.0.1`, `127.1`. Egress policy must see each as `127.0.0.1`.
extension CanonicalHost {
    /// Whether an ASCII host ends in a number, so that it must parse as IPv4 or not at all
    /// (https://url.spec.whatwg.org/#ends-in-a-number-checker).
    static func endsInANumber(_ host: ArraySlice<UInt8>) -> Bool {
        var end = host.endIndex
        if end > host.startIndex, host[end - 1] == 0x2E {
            end -= 1  // one trailing dot is allowed; `.` alone has no number
            if end == host.startIndex { return false }
        }
        var start = end
        while start > host.startIndex, host[start - 1] != 0x2E { start -= 1 }
        let last = host[start..<end]
        guard !last.isEmpty else { return false }
        if last.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { return true }
        return ipv4Number(last) != nil
    }

    /// The WHATWG IPv4 parser: the address, or `nil` for failure.
    static func parseIPv4(_ host: ArraySlice<UInt8>) -> UInt32? {
        var parts = host.split(separator: 0x2E, omittingEmptySubsequences: false)
        if parts.last?.isEmpty == true, parts.count > 1 { parts.removeLast() }
        guard parts.count <= 4 else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let n = ipv4Number(part) else { return nil }
            numbers.append(n)
        }
        for n in numbers.dropLast() where n > 255 { return nil }
        let last = numbers.removeLast()
        guard last < UInt64(1) << (8 * (5 - UInt64(numbers.count + 1))) else { return nil }
        var address = last
        for (i, n) in numbers.enumerated() { address += n << (8 * (3 - UInt64(i))) }
        return UInt32(address)
    }

    /// The WHATWG IPv4 number parser: decimal, `0x` hex or `0` octal; values above 2³² saturate
    /// (they fail the range checks either way) so a thousand-digit label costs only its length.
    static func ipv4Number(_ input: ArraySlice<UInt8>) -> UInt64? {
        guard !input.isEmpty else { return nil }
        var digits = input
        var radix: UInt64 = 10
        if digits.count >= 2, digits.first == 0x30, digits[digits.startIndex + 1] | 0x20 == 0x78 {
            digits = digits.dropFirst(2)
            radix = 16
        } else if digits.count >= 2, digits.first == 0x30 {
            digits = digits.dropFirst()
            radix = 8
        }
        var value: UInt64 = 0
        for b in digits {
            let d: UInt64
            switch b {
            case 0x30...0x39: d = UInt64(b - 0x30)
            case 0x61...0x66: d = UInt64(b - 0x61 + 10)
            case 0x41...0x46: d = UInt64(b - 0x41 + 10)
            default: return nil
            }
            guard d < radix else { return nil }
            value = min(value * radix + d, 1 << 33)
        }
        return value
    }

    /// Dotted-quad text of an IPv4 address.
    static func ipv4Text(_ a: UInt32) -> String {
        "\(a >> 24).\(a >> 16 & 0xFF).\(a >> 8 & 0xFF).\(a & 0xFF)"
    }

    /// The WHATWG IPv6 parser (the text between the brackets): eight pieces, or `nil` for failure.
    static func parseIPv6(_ input: ArraySlice<UInt8>) -> [UInt16]? {
        let s = Array(input)
        var address = [UInt16](repeating: 0, count: 8)
        var pieceIndex = 0
        var compress: Int?
        var p = 0
        func c(_ i: Int) -> UInt8? { i < s.count ? s[i] : nil }
        func hex(_ b: UInt8?) -> UInt16? {
            guard let b else { return nil }
            switch b {
            case 0x30...0x39: return UInt16(b - 0x30)
            case 0x61...0x66: return UInt16(b - 0x61 + 10)
            case 0x41...0x46: return UInt16(b - 0x41 + 10)
            default: return nil
            }
        }
        if c(p) == 0x3A {
            guard c(p + 1) == 0x3A else { return nil }
            p += 2
            pieceIndex += 1
            compress = pieceIndex
        }
        while p < s.count {
            guard pieceIndex < 8 else { return nil }
            if c(p) == 0x3A {
                guard compress == nil else { return nil }
                p += 1
                pieceIndex += 1
                compress = pieceIndex
                continue
            }
            var value: UInt16 = 0, length = 0
            while length < 4, let h = hex(c(p)) {
                value = value << 4 | h
                p += 1
                length += 1
            }
            if c(p) == 0x2E {
                // An IPv4 address in the last 32 bits: decimal only, no leading zeros, four parts.
                guard length > 0, pieceIndex <= 6 else { return nil }
                p -= length
                var numbersSeen = 0
                while p < s.count {
                    var piece: Int?
                    if numbersSeen > 0 {
                        guard c(p) == 0x2E, numbersSeen < 4 else { return nil }
                        p += 1
                    }
                    guard let first = c(p), first >= 0x30, first <= 0x39 else { return nil }
                    while let d = c(p), d >= 0x30, d <= 0x39 {
                        let n = Int(d - 0x30)
                        if let v = piece {
                            guard v != 0 else { return nil }
                            piece = v * 10 + n
                        } else {
                            piece = n
                        }
                        guard piece! <= 255 else { return nil }
                        p += 1
                    }
                    address[pieceIndex] = address[pieceIndex] << 8 | UInt16(piece!)
                    numbersSeen += 1
                    if numbersSeen == 2 || numbersSeen == 4 { pieceIndex += 1 }
                }
                guard numbersSeen == 4 else { return nil }
                break
            } else if c(p) == 0x3A {
                p += 1
                guard p < s.count else { return nil }
            } else if p < s.count {
                return nil
            }
            address[pieceIndex] = value
            pieceIndex += 1
        }
        if let compress {
            var swaps = pieceIndex - compress
            pieceIndex = 7
            while pieceIndex != 0, swaps > 0 {
                address.swapAt(pieceIndex, compress + swaps - 1)
                pieceIndex -= 1
                swaps -= 1
            }
        } else if pieceIndex != 8 {
            return nil
        }
        return address
    }

    /// RFC 5952 text (the WHATWG serializer): lower-case hex without leading zeros, the first longest
    /// run of two or more zero pieces written `::`.
    static func ipv6Text(_ pieces: [UInt16]) -> String {
        var bestStart = -1, bestLength = 1
        var i = 0
        while i < 8 {
            guard pieces[i] == 0 else { i += 1; continue }
            var j = i
            while j < 8, pieces[j] == 0 { j += 1 }
            if j - i > bestLength { bestStart = i; bestLength = j - i }
            i = j
        }
        var out = ""
        i = 0
        while i < 8 {
            if i == bestStart {
                out += i == 0 ? "::" : ":"
                i += bestLength
                continue
            }
            out += String(pieces[i], radix: 16)
            if i < 7 { out += ":" }
            i += 1
        }
        return out
    }

    /// The IPv4 address an IPv6 address stands for, where a host's stack or the network would reach
    /// it: IPv4-mapped `::ffff:a.b.c.d`, SIIT `::ffff:0:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, and the
    /// deprecated compatible `::a.b.c.d` (but not `::` and `::1`, which are IPv6's own).
    static func embeddedIPv4(_ p: [UInt16]) -> UInt32? {
        let low = UInt32(p[6]) << 16 | UInt32(p[7])
        let zeroPrefix = p[0] == 0 && p[1] == 0 && p[2] == 0 && p[3] == 0
        if zeroPrefix, p[4] == 0, p[5] == 0xFFFF { return low }
        if zeroPrefix, p[4] == 0xFFFF, p[5] == 0 { return low }
        if zeroPrefix, p[4] == 0, p[5] == 0, low > 1 { return low }
        if p[0] == 0x64, p[1] == 0xFF9B, p[2] == 0, p[3] == 0, p[4] == 0, p[5] == 0 { return low }
        return nil
    }
}
