import Foundation
import WardenCore

/// Typed parameters and results to and from the `JSONValue` the hub's lines carry.
///
/// Encoding goes through Foundation's encoder (a second pass over a record); decoding reads the
/// `JSONValue` directly (`JSONValueDecoder`). The event stream, the one high-volume method, keeps its
/// raw form and does not come here.
public enum HubWire {
    /// A malformed record: names what did not decode.
    public struct DecodingFailure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ value: some Encodable) -> JSONValue {
        // Encoding a struct of strings, numbers and enums cannot fail; `.null` keeps the API total.
        guard let data = try? encoder.encode(value), let json = try? JSONParser.parse(data) else { return .null }
        return json
    }

    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(DecodingFailure) -> T {
        do {
            return try JSONValueDecoder.decode(type, from: value, path: [])
        } catch let DecodingError.keyNotFound(key, _) {
            throw DecodingFailure(description: "\(T.self): missing \(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw DecodingFailure(description: "\(T.self): \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            throw DecodingFailure(description: "\(T.self): \(context.codingPath.map(\.stringValue).joined(separator: ".")) is not valid (\(context.debugDescription))")
        } catch {
            throw DecodingFailure(description: "\(T.self): \(error)")
        }
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()
}
