import Foundation
import WardenCore

/// A JSON-RPC 2.0 message after validation, with the id in a form usable as a table key.
public struct RPCMessage: Sendable {
    /// What kind of JSON-RPC message it is.
    public enum Kind: Sendable, Equatable {
        case request(method: String)
        case notification(method: String)
        case response
        case errorResponse
    }

    public var kind: Kind
    /// The `id` member, if present.
    public var id: JSONValue?
    /// The whole message.
    public var object: JSONObject

    /// The method of a request or notification.
    public var method: String? {
        switch kind {
        case .request(let m), .notification(let m): m
        case .response, .errorResponse: nil
        }
    }

    /// `params` as an object, when it is one.
    public var params: JSONObject? { object["params"]?.objectValue }

    /// The id as a key for pending-request tables: `1` and `"1"` stay distinct.
    public var idKey: String? { id.map(RPCMessage.key(for:)) }

    /// The table key for an id value. Numbers are keyed by value (`1`, `1.0` and `1e0` are one id),
    /// strings by their text.
    public static func key(for id: JSONValue) -> String {
        switch id {
        case .number(let n): "n:" + (integer(number: n).map(String.init) ?? n)
        case .string(let s): "s:" + s
        default: "j:" + JSONWriter.compact(id)
        }
    }

    /// Every key a client may match a *response* id to, exact first. The official SDKs read a
    /// string id as the integer it spells when they match responses (Python `int(id)`, TypeScript
    /// `Number(id)`), so a server answering `"1"` (or `" 1"`, `"0x1"`, `"1e0"`) to request `1` is
    /// answering it as far as the client is concerned, and Warden must review it as that answer.
    public static func responseKeys(for id: JSONValue) -> [String] {
        var keys = [key(for: id)]
        if case .string(let s) = id {
            for n in [pythonInteger(s), javaScriptInteger(s)].compactMap({ $0 }) where !keys.contains("n:\(n)") { keys.append("n:\(n)") }
        }
        return keys
    }

    /// The integer a JSON number's text denotes, if it is one within `Int`'s range.
    static func integer(number text: String) -> Int? {
        if let i = Int(text) { return i == 0 ? 0 : i }
        guard let d = Double(text), d.isFinite, d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    /// Python's `int(str)`: surrounding whitespace, a sign, decimal digits of any script, single `_` between digits.
    static func pythonInteger(_ s: String) -> Int? {
        // Python's `str.isspace`: Unicode whitespace and the separators U+001C–U+001F.
        let space: (Character) -> Bool = { $0.isWhitespace || $0.unicodeScalars.allSatisfy { (0x1C...0x1F).contains($0.value) } }
        var chars = Substring(s)
        while let f = chars.first, space(f) { chars = chars.dropFirst() }
        while let l = chars.last, space(l) { chars = chars.dropLast() }
        var negative = false
        if let f = chars.first, f == "+" || f == "-" { negative = f == "-"; chars = chars.dropFirst() }
        guard !chars.isEmpty, chars.first != "_", chars.last != "_", !chars.contains("__") else { return nil }
        var value = 0
        for c in chars where c != "_" {
            guard c.unicodeScalars.count == 1, c.unicodeScalars.first!.properties.numericType == .decimal,
                  let digit = c.wholeNumberValue else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(digit)
            guard !o1, !o2 else { return nil }
            value = a
        }
        return negative ? -value : value
    }

    /// JavaScript's `Number(str)` when it yields an integer: whitespace trimmed, empty is 0, `0x`/`0o`/`0b`
    /// prefixes, decimal literals with fraction and exponent.
    static func javaScriptInteger(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return 0 }
        let lower = t.lowercased()
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
            return Int(lower.dropFirst(2), radix: radix)
        }
        guard t.allSatisfy({ $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }) else { return nil }
        return integer(number: t)
    }
}

/// Why a JSON value is not a valid JSON-RPC 2.0 message.
public struct RPCInvalid: Error, Sendable, Equatable {
    public var reason: String
    /// The id, if one could be read (error replies carry it).
    public var id: JSONValue?
}

/// Validates JSON values against JSON-RPC 2.0 (§4–§5) as MCP uses it.
public enum RPCValidator {
    /// Classifies one message object, or says why it is not one.
    public static func classify(_ value: JSONValue) -> Result<RPCMessage, RPCInvalid> {
        guard case .object(let object) = value else {
            return .failure(RPCInvalid(reason: "a JSON-RPC message must be an object", id: nil))
        }
        let rawID = object["id"]
        // An id we can answer to: a string or number. (JSON-RPC allows null only in error replies.)
        let usableID: JSONValue? = switch rawID {
        case .string?, .number?: rawID
        default: nil
        }
        func invalid(_ reason: String) -> Result<RPCMessage, RPCInvalid> {
            .failure(RPCInvalid(reason: reason, id: usableID))
        }
        guard object["jsonrpc"] == .string("2.0") else { return invalid("\"jsonrpc\" must be \"2.0\"") }
        if let method = object["method"] {
            guard case .string(let name) = method else { return invalid("\"method\" must be a string") }
            if object["result"] != nil || object["error"] != nil { return invalid("a request cannot carry \"result\" or \"error\"") }
            if let params = object["params"] {
                switch params {
                case .object, .array: break
                default: return invalid("\"params\" must be an object or an array")
                }
            }
            guard let rawID else { return .success(RPCMessage(kind: .notification(method: name), id: nil, object: object)) }
            // MCP (basic/index, "Requests"): the id must be a string or integer, and must not be null.
            guard usableID != nil else { return invalid("\"id\" must be a string or a number") }
            _ = rawID
            return .success(RPCMessage(kind: .request(method: name), id: usableID, object: object))
        }
        let hasResult = object["result"] != nil
        let hasError = object["error"] != nil
        guard hasResult != hasError else {
            return invalid(hasResult ? "a response cannot carry both \"result\" and \"error\"" : "not a request, notification or response")
        }
        guard let rawID else { return invalid("a response must carry an \"id\"") }
        if hasError {
            guard let error = object["error"]?.objectValue, case .number? = error["code"], case .string? = error["message"] else {
                return invalid("\"error\" must be an object with a numeric \"code\" and a string \"message\"")
            }
            guard usableID != nil || rawID == .null else { return invalid("\"id\" must be a string, a number or null") }
            return .success(RPCMessage(kind: .errorResponse, id: rawID, object: object))
        }
        guard usableID != nil else { return invalid("\"id\" must be a string or a number") }
        return .success(RPCMessage(kind: .response, id: usableID, object: object))
    }
}
