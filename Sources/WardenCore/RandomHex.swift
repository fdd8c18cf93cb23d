/// Identifiers and secrets as hex: `bytes` bytes from the system's secure generator (the default
/// for `random(in:)`), two lowercase digits each. Grant and session ids, gateway session ids and
/// tokens, the transport's origin mark.
public enum RandomHex {
    public static func make(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var out = ""
        out.reserveCapacity(bytes * 2)
        for _ in 0..<bytes {
            let b = UInt8.random(in: 0...255, using: &generator)
            out.append(Self.digits[Int(b >> 4)])
            out.append(Self.digits[Int(b & 0x0F)])
        }
        return out
    }

    private static let digits: [Character] = Array("0123456789abcdef")
}
