import Crypto
import Foundation
import WardenCore

/// The Ed25519 key that signs audit chain heads and anchors (`$WARDEN_HOME/keys/audit.key`,
/// 0600 in a 0700 directory).
///
/// It lives outside the database so that rewriting `warden.db` is not enough to make a chain
/// verify: the head must be signed again too. The sandbox hides the whole home from wrapped servers,
/// so a sandboxed server cannot read it; an unsandboxed process of the same uid can, and can then
/// sign what it likes — only anchors already exported (SIEM, a saved copy) catch that (docs/audit.md).
public struct AuditKey: Sendable {
    /// The private key's 32 raw bytes (kept as bytes: the Crypto key type is not `Sendable`).
    private let raw: [UInt8]
    /// The public key's 32 raw bytes.
    public let publicKey: [UInt8]
    /// The first 16 hex digits of SHA-256 of the public key: named by every anchor it signs.
    public let id: String

    init(raw: [UInt8]) throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        self.raw = raw
        publicKey = Array(key.publicKey.rawRepresentation)
        id = String(Self.hex(SHA256.hash(data: publicKey)).prefix(16))
    }

    /// A new random key (not yet saved).
    public static func generate() -> AuditKey {
        // A fresh key's raw form is always valid.
        try! AuditKey(raw: Array(Curve25519.Signing.PrivateKey().rawRepresentation))
    }

    /// The key saved at `path`, or nil when there is no file. A file that is there but not a key is
    /// an error, never silently replaced: a new key would make every exported anchor unverifiable.
    public static func load(path: String) throws(StoreError) -> AuditKey? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw StoreError(path: path, problem: "cannot be read; check its permissions (it must be the hub user's, mode 0600)", file: "audit key")
            }
            return nil
        }
        PrivateFile.tighten(path)
        PrivateFile.tighten((path as NSString).deletingLastPathComponent)
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Self.bytes(hex: text), bytes.count == 32, let key = try? AuditKey(raw: bytes) else {
            throw StoreError(path: path, problem: "is not an audit signing key (64 hex digits). Restore it from a backup, or move it aside to make a new key (anchors exported before then will no longer verify against it).", file: "audit key")
        }
        return key
    }

    /// Saves the key owner-only, creating its directory owner-only.
    public func save(path: String) throws(StoreError) {
        do {
            try PrivateFile.makeDirectory((path as NSString).deletingLastPathComponent)
            try PrivateFile.write(Array((Self.hex(raw) + "\n").utf8), to: path)
        } catch {
            throw StoreError(path: path, problem: error.reason, file: "audit key")
        }
    }

    /// An anchor for the chain head (`sequence`, `head`) signed now.
    public func sign(sequence: Int, head: String, time: Double) -> AuditAnchor {
        var anchor = AuditAnchor(sequence: sequence, head: head, milliseconds: Int64((time * 1000).rounded()), keyID: id, signature: "")
        // A key that loaded signs; BoringSSL's Ed25519 signing has no other failure.
        let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        anchor.signature = Self.hex(try! key.signature(for: Array(anchor.signedText.utf8)))
        return anchor
    }

    /// Whether `anchor` names this key and its signature verifies with it.
    public func signed(_ anchor: AuditAnchor) -> Bool {
        guard anchor.keyID == id, let signature = Self.bytes(hex: anchor.signature),
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: Array(anchor.signedText.utf8))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[i]), let low = nibble(digits[i + 1]) else { return nil }
            out.append(high << 4 | low)
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
