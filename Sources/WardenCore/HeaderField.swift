/// What an HTTP header may hold (RFC 9110): shared by `wrap --connect`, which reads header files,
/// and `install`, which writes them from client configs.
public enum HeaderField {
    private static let tokenBytes = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".unicodeScalars)

    /// A header name: one or more token characters.
    public static func isName(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy(tokenBytes.contains)
    }

    /// A header value: no control characters (a CR or LF would start another header).
    public static func isValue(_ value: some StringProtocol) -> Bool {
        value.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }
}
