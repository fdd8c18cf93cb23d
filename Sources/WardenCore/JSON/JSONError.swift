/// Why a byte sequence is not acceptable JSON, where, and what could still be read from it.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem.
    public enum Kind: Sendable, Equatable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case invalidUTF8
        case invalidEscape
        case invalidNumber
        case controlCharacterInString
        /// A `\u` escape of a UTF-16 surrogate without its partner: no character, and parsers read it differently.
        case loneSurrogate
        /// The same key twice in one object: parsers disagree on which value wins, so Warden refuses it.
        case duplicateKey(String)
        case tooDeep(limit: Int)
        case trailingData
        case empty
    }

    /// The kind of problem.
    public var kind: Kind
    /// Byte offset of the problem in the input.
    public var offset: Int
    /// The top-level object's `id`, if it was read completely before the problem (JSON-RPC error replies need it).
    public var recoveredID: JSONValue?

    public init(kind: Kind, offset: Int, recoveredID: JSONValue? = nil) {
        self.kind = kind
        self.offset = offset
        self.recoveredID = recoveredID
    }

    public var description: String {
        switch kind {
        case .unexpectedEnd: return "unexpected end of input at byte \(offset)"
        case .unexpectedByte(let b): return "unexpected byte 0x\(String(b, radix: 16)) at byte \(offset)"
        case .invalidUTF8: return "invalid UTF-8 at byte \(offset)"
        case .invalidEscape: return "invalid escape sequence at byte \(offset)"
        case .invalidNumber: return "invalid number at byte \(offset)"
        case .controlCharacterInString: return "unescaped control character in string at byte \(offset)"
        case .loneSurrogate: return "unpaired UTF-16 surrogate escape at byte \(offset)"
        case .duplicateKey(let k): return "duplicate key \"\(k)\" at byte \(offset)"
        case .tooDeep(let limit): return "nesting deeper than \(limit) at byte \(offset)"
        case .trailingData: return "unexpected data after the JSON value at byte \(offset)"
        case .empty: return "empty input"
        }
    }
}
