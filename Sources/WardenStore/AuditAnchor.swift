import Foundation

/// A signed statement that the audit chain had `sequence` records ending in `head` at `time`.
///
/// The hub writes one to `$WARDEN_HOME/audit.head` after every change and puts one into every SIEM
/// export, so a copy of the chain's head lives outside the database: a chain later found shorter
/// than an anchor, or different at or before it, was truncated or rewritten (`warden audit verify
/// --anchor`). Its text form is one token of ASCII letters, digits, dots and hyphens, which no
/// export format escapes, so it is found again in an OCSF, CEF or syslog line, a saved head file or
/// a value pasted on the command line:
///
/// `warden-anchor.1.<sequence>.<head: 64 hex>.<time: ms since 1970>.<key id: 16 hex>.<Ed25519 signature: 128 hex>`
///
/// The signature covers everything before its own dot, so it binds the key id too.
public struct AuditAnchor: Sendable, Hashable {
    /// How many records the chain had (0 for an empty chain).
    public var sequence: Int
    /// The hash of record `sequence` (`AuditRecord.genesisHash` for an empty chain).
    public var head: String
    /// When it was signed, in milliseconds since 1970 (an integer, so the text form is exact).
    public var milliseconds: Int64
    /// Which key signed it: the first 16 hex digits of SHA-256 of the Ed25519 public key.
    public var keyID: String
    /// The Ed25519 signature of `signedText`, in hex.
    public var signature: String

    public static let prefix = "warden-anchor.1."

    public init(sequence: Int, head: String, milliseconds: Int64, keyID: String, signature: String) {
        self.sequence = sequence
        self.head = head
        self.milliseconds = milliseconds
        self.keyID = keyID
        self.signature = signature
    }

    /// Seconds since 1970.
    public var time: Double { Double(milliseconds) / 1000 }

    /// The bytes the signature covers.
    public var signedText: String { "\(Self.prefix)\(sequence).\(head).\(milliseconds).\(keyID)" }

    /// The one-token text form (see the type's documentation).
    public var token: String { "\(signedText).\(signature)" }

    /// Reads a token exactly (surrounding whitespace allowed); nil for anything else.
    public init?(token: some StringProtocol) {
        let text = token.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let match = try? Self.pattern.wholeMatch(in: text) else { return nil }
        self.init(match.output)
    }

    /// Every anchor token in `text` (an export file, a head file, a pasted value), in order, each
    /// once: the same anchor may appear in several fields of one exported line.
    public static func all(in text: String) -> [AuditAnchor] {
        var seen = Set<AuditAnchor>()
        var found: [AuditAnchor] = []
        for match in text.matches(of: pattern) {
            guard let anchor = AuditAnchor(match.output), seen.insert(anchor).inserted else { continue }
            found.append(anchor)
        }
        return found
    }

    private init?(_ parts: (Substring, Substring, Substring, Substring, Substring, Substring)) {
        guard let sequence = Int(parts.1), let ms = Int64(parts.3) else { return nil }
        self.init(sequence: sequence, head: String(parts.2), milliseconds: ms, keyID: String(parts.4), signature: String(parts.5))
    }

    // Word boundaries are the token's own: a longer run of hex digits is not a shorter valid field.
    private static var pattern: Regex<(Substring, Substring, Substring, Substring, Substring, Substring)> {
        #/warden-anchor\.1\.([0-9]{1,18})\.([0-9a-f]{64})\.([0-9]{1,18})\.([0-9a-f]{16})\.([0-9a-f]{128})(?![0-9a-f])/#
    }
}
