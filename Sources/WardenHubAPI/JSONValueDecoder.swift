import WardenCore

/// Decodes a `Decodable` straight from a `JSONValue`: no bytes in between, and a `JSONValue` field
/// gets the value as it was parsed (numbers keep their text). Used by `HubWire.decode`; half the
/// cost of writing the value out and reading it again through Foundation's decoder.
struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, path: [any CodingKey] = []) {
        self.value = value
        codingPath = path
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let o) = value else { throw Self.mismatch([String: JSONValue].self, value, codingPath) }
        return KeyedDecodingContainer(Keyed<Key>(object: o, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let a) = value else { throw Self.mismatch([JSONValue].self, value, codingPath) }
        return Unkeyed(items: a, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
        .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(JSONWriter.compact(value).prefix(40))"))
    }

    /// A value as the type asked for; numbers are read from their text and must fit.
    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, path: [any CodingKey]) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        // Members in the order they came (the coder's keyed container would sort them).
        if T.self == JSONObject.self {
            guard case .object(let o) = value else { throw mismatch(type, value, path) }
            return o as! T
        }
        switch type {
        case is String.Type:
            guard case .string(let s) = value else { throw mismatch(type, value, path) }
            return s as! T
        case is Bool.Type:
            guard case .bool(let b) = value else { throw mismatch(type, value, path) }
            return b as! T
        case is Int.Type:
            guard case .number(let n) = value else { throw mismatch(type, value, path) }
            if let i = Int(n) { return i as! T }
            guard let d = Double(n), let i = Int(exactly: d) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(n): a number does not fit its field (a whole number of ordinary size is expected)"))
            }
            return i as! T
        case is Double.Type:
            guard case .number(let n) = value, let d = Double(n), d.isFinite else { throw mismatch(type, value, path) }
            return d as! T
        default:
            return try T(from: JSONValueDecoder(value, path: path))
        }
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let object: JSONObject
        let codingPath: [any CodingKey]
        var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }
        func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

        func value(_ key: Key) throws -> JSONValue {
            guard let v = object[key.stringValue] else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no \(key.stringValue)"))
            }
            return v
        }

        func decodeNil(forKey key: Key) throws -> Bool { object[key.stringValue] == nil || object[key.stringValue] == .null }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try JSONValueDecoder.decode(type, from: value(key), path: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONValueDecoder(value(key), path: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try JSONValueDecoder(value(key), path: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder { JSONValueDecoder(.object(object), path: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder { JSONValueDecoder(try value(key), path: codingPath + [key]) }
    }

    struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "\(intValue ?? 0)" }
        init(_ i: Int) { intValue = i }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let codingPath: [any CodingKey]
        var currentIndex = 0
        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        init(items: [JSONValue], codingPath: [any CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        mutating func next() throws -> (JSONValue, [any CodingKey]) {
            guard !isAtEnd else { throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "the list ended")) }
            defer { currentIndex += 1 }
            return (items[currentIndex], codingPath + [Index(currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, items[currentIndex] == .null else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (v, path) = try next()
            return try JSONValueDecoder.decode(type, from: v, path: path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let (v, path) = try next()
            return try JSONValueDecoder(v, path: path).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            let (v, path) = try next()
            return try JSONValueDecoder(v, path: path).unkeyedContainer()
        }

        mutating func superDecoder() throws -> any Decoder {
            let (v, path) = try next()
            return JSONValueDecoder(v, path: path)
        }
    }

    struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [any CodingKey]
        func decodeNil() -> Bool { value == .null }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONValueDecoder.decode(type, from: value, path: codingPath) }
    }
}
