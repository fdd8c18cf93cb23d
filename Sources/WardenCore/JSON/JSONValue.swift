/// A JSON value that keeps what a relay must not change: member order and the exact text of numbers.
///
/// Numbers are kept as their source text so that big integers and odd exponents survive a round trip
/// through Warden unchanged; `JSONWriter` normalises them only when asked for canonical form.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// The number exactly as it was written (or formatted by Warden).
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string payload, or `nil` for other kinds.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The object payload, or `nil` for other kinds.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The array payload, or `nil` for other kinds.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The boolean payload, or `nil` for other kinds.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number as a `Double`, or `nil` for other kinds (and for `nan`/`inf`, which JSON cannot hold).
    public var doubleValue: Double? {
        if case .number(let n) = self, let d = Double(n), d.isFinite { return d }
        return nil
    }

    /// The number as an `Int` (a fraction is cut off), or `nil` for other kinds and for numbers
    /// outside `Int`'s range: converting those would trap, and peers send what they like.
    public var intValue: Int? {
        guard case .number(let n) = self else { return nil }
        if let i = Int(n) { return i }
        guard let d = Double(n), d.isFinite else { return nil }
        return Int(exactly: d.rounded(.towardZero))
    }

    /// Member lookup on objects; `nil` for other kinds or a missing key.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// A number value from an integer.
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }
}

/// An ordered JSON object. Keys are unique (the parser rejects duplicates).
public struct JSONObject: Sendable, Hashable {
    /// Keys in source order.
    public private(set) var keys: [String]
    /// Values, parallel to `keys`.
    public private(set) var values: [JSONValue]

    /// An empty object.
    public init() {
        keys = []
        values = []
    }

    /// An object from ordered pairs; a later duplicate key replaces the earlier value.
    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.init()
        for (k, v) in pairs { self[k] = v }
    }

    /// An object from ordered pairs; a later duplicate key replaces the earlier value.
    public init(pairs: [(String, JSONValue)]) {
        keys = []
        values = []
        keys.reserveCapacity(pairs.count)
        values.reserveCapacity(pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    /// Members in order.
    public var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }

    /// Number of members.
    public var count: Int { keys.count }

    /// Reads or writes a member; writing `nil` removes it, writing a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            // Linear: MCP objects are small, and a dictionary would cost more to build than it saves.
            guard let i = keys.firstIndex(of: key) else { return nil }
            return values[i]
        }
        set {
            if let i = keys.firstIndex(of: key) {
                if let newValue {
                    values[i] = newValue
                } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByNilLiteral,
    ExpressibleByIntegerLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(pairs: elements))
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(pairs: elements)
    }
}
