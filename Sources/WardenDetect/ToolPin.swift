import Crypto
import WardenCore

/// A tool definition's pin: SHA-256 over its canonical JSON (sorted keys, NFC strings, normalised
/// numbers), so that re-serialising the same definition never looks like a change and any real
/// change, however small, does.
public enum ToolPin {
    /// Lower-case hex SHA-256 of the definition's canonical JSON.
    public static func digest(of definition: JSONObject) -> String {
        digest(of: .object(definition))
    }

    /// Lower-case hex SHA-256 of any value's canonical JSON (also used for argument digests).
    public static func digest(of value: JSONValue) -> String {
        hex(SHA256.hash(data: JSONWriter.canonicalBytes(value)))
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let table = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest {
            out.append(table[Int(b >> 4)])
            out.append(table[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
