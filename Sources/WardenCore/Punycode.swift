/// RFC 3492 Punycode, the encoding behind IDNA's `xn--` labels: a Unicode label turned into the
/// ASCII form resolvers look up, so a policy's `*.bücher.de` and a URL's `BÜCHER.de` meet as
/// `xn--bcher-kva.de`.
public enum Punycode {
    // RFC 3492 section 5, parameter values for Punycode.
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    /// The Punycode encoding of a label's scalars (without the `xn--` prefix), or `nil` when the
    /// arithmetic would overflow (RFC 3492 section 6.4), which no label a resolver accepts reaches.
    ///
    /// Quadratic in the number of distinct non-ASCII scalars, as the RFC's algorithm is; callers
    /// bound the label length (DNS labels are at most 63 octets).
    public static func encode(_ scalars: [Unicode.Scalar]) -> String? {
        let input = scalars.map { Int($0.value) }
        var output: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append(0x2D) }  // the delimiter, only when basic code points exist
        var n = initialN, delta = 0, bias = initialBias
        while handled < input.count {
            // The smallest code point not yet handled; every one below it has been encoded.
            var m = Int.max
            for c in input where c >= n && c < m { m = c }
            let (step, overflowA) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflowA, delta <= Int(Int32.max) - step else { return nil }
            delta += step
            n = m
            for c in input {
                if c < n {
                    delta += 1
                    guard delta <= Int(Int32.max) else { return nil }
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta: delta, points: handled + 1, first: handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func digit(_ d: Int) -> UInt8 {
        d < 26 ? UInt8(0x61 + d) : UInt8(0x30 + d - 26)  // a–z then 0–9, lower case as IDNA writes it
    }

    // RFC 3492 section 6.1, bias adaptation.
    private static func adapt(delta: Int, points: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
