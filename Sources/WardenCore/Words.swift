/// Eight bytes at a time, for the passes over long text (the parser's strings, the secret
/// outline): the usual word tricks, little-endian.
public enum Words {
    @inlinable public static var ones: UInt64 { 0x0101_0101_0101_0101 }
    @inlinable public static var high: UInt64 { 0x8080_8080_8080_8080 }

    /// The eight bytes at `p`, unaligned.
    @inlinable @inline(__always) public static func load(_ p: UnsafePointer<UInt8>) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
    }

    /// Nonzero when some byte of `x` is `b`: a zero after the XOR borrows into its high bit. Exact
    /// for whether; a byte above a true one may be marked too.
    @inlinable @inline(__always) public static func equal(_ x: UInt64, _ b: UInt8) -> UInt64 {
        let y = x ^ (ones &* UInt64(b))
        return (y &- ones) & ~y & high
    }

    /// Nonzero when some byte of `x` is below `b` (at most 0x80), provided no byte has its high
    /// bit set: such a byte borrows into its high bit when `b` is subtracted.
    @inlinable @inline(__always) public static func below(_ x: UInt64, _ b: UInt8) -> UInt64 {
        (x &- ones &* UInt64(b)) & high
    }

    /// Whether `test` holds for some word of `n` bytes at `p` (the tail padded with zeros).
    @inlinable public static func any(_ p: UnsafePointer<UInt8>, _ n: Int, _ test: (UInt64) -> Bool) -> Bool {
        var i = 0
        while i + 8 <= n {
            if test(load(p + i)) { return true }
            i += 8
        }
        var tail: UInt64 = 0
        for k in i..<n { tail |= UInt64(p[k]) << UInt64((k - i) * 8) }
        return i < n && test(tail)
    }

    /// Where `needle` first occurs in the `n` bytes at `p`, looking for its byte at `anchor` (pick
    /// a rare one) eight bytes at a time.
    public static func find(_ p: UnsafePointer<UInt8>, _ n: Int, _ needle: [UInt8], anchor: Int) -> Int? {
        guard needle.count <= n else { return nil }
        let a = needle[anchor]
        var i = anchor
        let last = n - (needle.count - anchor)
        while i <= last {
            if i + 8 <= n, equal(load(p + i), a) == 0 { i += 8; continue }
            if p[i] == a {
                let start = i - anchor
                var same = true
                for k in 0..<needle.count where p[start + k] != needle[k] { same = false; break }
                if same { return start }
            }
            i += 1
        }
        return nil
    }
}
