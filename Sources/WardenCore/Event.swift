/// Kinds of event the relay reports to the hub.
public enum EventKind: String, Sendable, Codable, CaseIterable {
    case sessionStarted = "session.started"
    case sessionInitialized = "session.initialized"
    case sessionEnded = "session.ended"
    case request
    case notification
    case response
    case callDecided = "call.decided"
    case callHeld = "call.held"
    case callCancelled = "call.cancelled"
    case toolsListed = "tools.listed"
    case toolReviewed = "tool.reviewed"
    case toolQuarantined = "tool.quarantined"
    case toolChanged = "tool.changed"
    case protocolError = "protocol.error"
    case serverExited = "server.exited"
}

/// One thing that happened in a session. `id` is unique and stable, so a replayed spool never
/// duplicates an event at the hub.
public struct Event: Sendable, Hashable {
    /// `<session id>:<sequence number>`.
    public var id: String
    /// Seconds since 1970.
    public var time: Double
    public var session: String
    public var server: String
    public var kind: EventKind
    /// Kind-specific details (untrusted strings stay raw here; escape on display).
    public var fields: JSONObject

    public init(id: String, time: Double, session: String, server: String, kind: EventKind, fields: JSONObject) {
        self.id = id
        self.time = time
        self.session = session
        self.server = server
        self.kind = kind
        self.fields = fields
    }

    /// The event as a JSON object (the hub API and spool format).
    public var json: JSONValue {
        .object(JSONObject(pairs: [
            ("id", .string(id)), ("time", .number(String(time))), ("session", .string(session)),
            ("server", .string(server)), ("kind", .string(kind.rawValue)), ("fields", .object(fields)),
        ]))
    }

    /// Reads an event back from its JSON form; `nil` when it is not one.
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let session = json["session"]?.stringValue,
              let server = json["server"]?.stringValue, let kindText = json["kind"]?.stringValue,
              let kind = EventKind(rawValue: kindText), case .number(let t)? = json["time"], let time = Double(t)
        else { return nil }
        self.init(id: id, time: time, session: session, server: server, kind: kind, fields: json["fields"]?.objectValue ?? JSONObject())
    }
}

/// Where events go: the hub, a spool, or a test's collector. Must not block the caller for long:
/// the relay calls it on its data path.
public protocol EventSink: Sendable {
    func record(_ event: Event)
}
