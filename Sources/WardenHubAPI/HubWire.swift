import Foundation
import WardenCore

/// Typed parameters and results to and from the `JSONValue` the hub's lines carry.
///
/// Through Foundation's coders, which is a second pass over a small record; the event stream, the
/// one high-volume method, keeps its raw form and does not come here.
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
            return try JSONDecoder().decode(type, from: Data(JSONWriter.compactBytes(value)))
        } catch let DecodingError.keyNotFound(key, _) {
            throw DecodingFailure(description: "\(T.self): missing \(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw DecodingFailure(description: "\(T.self): \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            // What is decoded here was written from a parsed value, so it is valid JSON: Foundation
            // says "not valid JSON" of a number its field cannot hold (1.5 or 1e300 for an integer).
            throw DecodingFailure(description: "\(T.self): a number does not fit its field (a whole number of ordinary size is expected)")
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
