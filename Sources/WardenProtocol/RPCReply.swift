import WardenCore

/// Standard JSON-RPC 2.0 error codes (§5.1).
public enum RPCErrorCode {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    /// Implementation-defined server error range: the server went away before answering.
    public static let serverExited = -32000
}

/// Builds the messages Warden writes itself, each as one newline-terminated line.
public enum RPCReply {
    /// `_meta` key under which Warden explains its decisions (MCP `_meta` naming: reverse-DNS prefix).
    public static let metaKey = "dev.warden/decision"

    /// A JSON-RPC error response; `id` nil becomes `null` as §5 requires when it cannot be known.
    public static func error(id: JSONValue?, code: Int, message: String, data: JSONValue? = nil) -> [UInt8] {
        var error = JSONObject(pairs: [("code", .int(code)), ("message", .string(message))])
        if let data { error["data"] = data }
        return line(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", id ?? .null), ("error", .object(error))])))
    }

    /// A `tools/call` result with `isError: true`: the model reads `text`; programs read `meta`.
    ///
    /// MCP (server/tools, "Error Handling"): errors in a tool's execution are reported in the result so
    /// the model can see them, which is what a refused call is from the client's point of view.
    public static func toolError(id: JSONValue, text: String, meta: JSONObject) -> [UInt8] {
        let result = JSONObject(pairs: [
            ("content", .array([.object(JSONObject(pairs: [("type", "text"), ("text", .string(text))]))])),
            ("isError", .bool(true)),
            ("_meta", .object(JSONObject(pairs: [(metaKey, .object(meta))]))),
        ])
        return line(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", id), ("result", .object(result))])))
    }

    /// A `notifications/progress` for a held call (MCP basic/utilities/progress: progress must increase).
    public static func progress(token: JSONValue, progress: Int, message: String) -> [UInt8] {
        let params = JSONObject(pairs: [("progressToken", token), ("progress", .int(progress)), ("message", .string(message))])
        return line(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("method", "notifications/progress"), ("params", .object(params))])))
    }

    /// Any value as one line.
    public static func line(_ value: JSONValue) -> [UInt8] {
        var bytes = JSONWriter.compactBytes(value)
        bytes.append(0x0A)
        return bytes
    }
}
