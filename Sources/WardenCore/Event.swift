/// Kinds of event the relay reports to the hub.
public enum EventKind: String, Sendable, Codable, CaseIterable {
    case sessionStarted = "session.started"
    case sessionInitialized = "session.initialized"
    case sessionEnded = "session.ended"
    case notification
    /// A request other than `tools/call` was answered (method, latency, size, error).
    case response
    /// A forwarded `tools/call` was answered: the decision that let it through, latency, size, `isError`.
    case callCompleted = "call.completed"
    /// A `tools/call` was refused or decided by an operator (denied, expired, quarantined, approved…).
    case callDecided = "call.decided"
    case callHeld = "call.held"
    /// A `tools/call` went to the server, with what the priors found in it (`CallFields.priors`,
    /// its hosts as `targets`); only for calls that reach the network or break a prior. Recorded
    /// as the call leaves, so a server that never answers cannot hide it.
    case callForwarded = "call.forwarded"
    case callCancelled = "call.cancelled"
    case toolsListed = "tools.listed"
    case toolReviewed = "tool.reviewed"
    case toolQuarantined = "tool.quarantined"
    case toolChanged = "tool.changed"
    case protocolError = "protocol.error"
    /// A secret crossed the relay (masked values and fingerprints only; never the secret).
    case dlpFinding = "dlp.finding"
    /// A tool result carries instructions aimed at the model (tool output injection).
    case resultInjection = "result.injection"
    case serverExited = "server.exited"
    /// A server sandboxed with no network tried to reach the network (counted by its namespace's
    /// kernel counters; the namespace refused every attempt).
    case sandboxNetwork = "sandbox.network"
}

/// One thing that happened in a session. Its id (`<session>:<sequence>`) is unique and stable, so
/// a replayed spool never duplicates an event at the hub.
public struct Event: Sendable, Hashable {
    /// Position in the session's event stream, from 1.
    public var sequence: Int
    /// Seconds since 1970.
    public var time: Double
    public var session: String
    public var server: String
    public var kind: EventKind
    /// Kind-specific details (untrusted strings stay raw here; escape on display).
    public var fields: JSONObject

    public init(sequence: Int, time: Double, session: String, server: String, kind: EventKind, fields: JSONObject) {
        self.sequence = sequence
        self.time = time
        self.session = session
        self.server = server
        self.kind = kind
        self.fields = fields
    }

    /// `<session id>:<sequence number>`. Built on demand: the relay creates events on its data path.
    public var id: String { "\(session):\(sequence)" }

    /// The event as a JSON object (the hub API and spool format).
    public var json: JSONValue {
        .object(JSONObject(pairs: [
            ("id", .string(id)), ("time", .number(String(time))), ("session", .string(session)),
            ("server", .string(server)), ("kind", .string(kind.rawValue)), ("fields", .object(fields)),
        ]))
    }

    /// Appends the event's JSON form (as `json` would give) plus a newline, without building a tree:
    /// the spool and the hub link write many of these.
    public func appendLine(to out: inout [UInt8]) {
        append(to: &out)
        out.append(0x0A)
    }

    /// Appends the event's JSON form (no newline) without building a tree.
    public func append(to out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":"#.utf8)
        JSONWriter.writeString(id, into: &out)
        out.append(contentsOf: #","time":"#.utf8)
        out.append(contentsOf: String(time).utf8)
        out.append(contentsOf: #","session":"#.utf8)
        JSONWriter.writeString(session, into: &out)
        out.append(contentsOf: #","server":"#.utf8)
        JSONWriter.writeString(server, into: &out)
        out.append(contentsOf: #","kind":""#.utf8)
        out.append(contentsOf: kind.rawValue.utf8)
        out.append(contentsOf: #"","fields":"#.utf8)
        JSONWriter.write(.object(fields), canonical: false, into: &out)
        out.append(0x7D)
    }

    /// Times an event may carry (1970 to the year 5138): what arrives from a peer is checked once here,
    /// so the hub's arithmetic on times (alert ids, per-second buckets, SIEM milliseconds) cannot trap.
    public static let plausibleTimes: ClosedRange<Double> = 0...1e11

    /// Reads an event back from its JSON form; `nil` when it is not one.
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let colon = id.lastIndex(of: ":"), let sequence = Int(id[id.index(after: colon)...]),
              let session = json["session"]?.stringValue,
              let server = json["server"]?.stringValue, let kindText = json["kind"]?.stringValue,
              let kind = EventKind(rawValue: kindText), let time = json["time"]?.doubleValue, Self.plausibleTimes.contains(time)
        else { return nil }
        self.init(sequence: sequence, time: time, session: session, server: server, kind: kind, fields: json["fields"]?.objectValue ?? JSONObject())
    }
}

/// Where events go: the hub, a spool, or a test's collector. Must not block the caller for long:
/// the relay calls it on its data path.
public protocol EventSink: Sendable {
    func record(_ event: Event)
}
