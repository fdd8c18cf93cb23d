import Crypto
import Foundation
import WardenCore

/// A signed list of trusted tool definitions: each entry signs (server, tool, pin) with Ed25519, so
/// a relay can require that every tool a server lists is one somebody signed, unchanged.
public struct SignedRegistry: Sendable {
    public struct Entry: Sendable, Hashable {
        public var server: String
        public var tool: String
        public var pin: String
        /// Base64 Ed25519 signature over `signedBytes`.
        public var signature: String
    }

    /// What the registry says about one listed tool.
    public enum Status: Sendable, Equatable {
        case signed
        case unsigned
        /// Signed, but the tool's definition is not the one that was signed.
        case changed(signedPin: String)
        case badSignature
    }

    public var publicKey: String
    public var entries: [Entry]

    public init(publicKey: String, entries: [Entry] = []) {
        self.publicKey = publicKey
        self.entries = entries
    }

    /// The bytes an entry's signature covers: canonical JSON of server, tool and pin.
    public static func signedBytes(server: String, tool: String, pin: String) -> [UInt8] {
        JSONWriter.canonicalBytes(["server": .string(server), "tool": .string(tool), "pin": .string(pin)])
    }

    /// A new signing key: (private, public), both base64.
    public static func generateKey() -> (privateKey: String, publicKey: String) {
        let key = Curve25519.Signing.PrivateKey()
        return (key.rawRepresentation.base64EncodedString(), key.publicKey.rawRepresentation.base64EncodedString())
    }

    /// Signs every definition for `server` with `privateKey` (base64), replacing earlier entries for the same tools.
    public mutating func sign(_ definitions: [JSONObject], server: String, privateKey: String) throws {
        guard let raw = Data(base64Encoded: privateKey.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw RegistryError("the private key is not base64") }
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        guard key.publicKey.rawRepresentation.base64EncodedString() == publicKey else { throw RegistryError("the private key does not match the registry's public key") }
        for d in definitions {
            let tool = d["name"]?.stringValue ?? ""
            let pin = ToolPin.digest(of: d)
            let signature = try key.signature(for: Self.signedBytes(server: server, tool: tool, pin: pin)).base64EncodedString()
            entries.removeAll { $0.server == server && $0.tool == tool }
            entries.append(Entry(server: server, tool: tool, pin: pin, signature: signature))
        }
    }

    /// Whether one entry's signature verifies.
    public func verifies(_ e: Entry) -> Bool {
        guard let keyData = Data(base64Encoded: publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
              let signature = Data(base64Encoded: e.signature) else { return false }
        return key.isValidSignature(signature, for: Self.signedBytes(server: e.server, tool: e.tool, pin: e.pin))
    }

    /// The status of a listed tool.
    public func status(server: String, tool: String, pin: String) -> Status {
        guard let e = entries.first(where: { $0.server == server && $0.tool == tool }) else { return .unsigned }
        guard verifies(e) else { return .badSignature }
        return e.pin == pin ? .signed : .changed(signedPin: e.pin)
    }

    // MARK: File form

    public var json: JSONValue {
        .object(JSONObject(pairs: [
            ("version", 1), ("publicKey", .string(publicKey)),
            ("entries", .array(entries.map { .object(["server": .string($0.server), "tool": .string($0.tool), "pin": .string($0.pin), "signature": .string($0.signature)]) })),
        ]))
    }

    public static func load(path: String) throws -> SignedRegistry {
        guard let data = FileManager.default.contents(atPath: path) else { throw RegistryError("cannot read \(path)") }
        let v: JSONValue
        do { v = try JSONParser.parse(data) } catch { throw RegistryError("\(path) is not valid JSON (\(error))") }
        guard let key = v["publicKey"]?.stringValue else { throw RegistryError("\(path) has no publicKey") }
        let entries = (v["entries"]?.arrayValue ?? []).compactMap { e -> Entry? in
            guard let s = e["server"]?.stringValue, let t = e["tool"]?.stringValue, let p = e["pin"]?.stringValue, let sig = e["signature"]?.stringValue else { return nil }
            return Entry(server: s, tool: t, pin: p, signature: sig)
        }
        return SignedRegistry(publicKey: key, entries: entries)
    }
}

/// A registry that cannot be used, and why.
public struct RegistryError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}
