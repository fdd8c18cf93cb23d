/// Where an alert stands in triage.
public enum AlertStatus: String, Sendable, Codable, CaseIterable {
    case new, acknowledged
    case inProgress = "in-progress"
    case resolved
    case falsePositive = "false-positive"

    public var isOpen: Bool { self != .resolved && self != .falsePositive }
}

/// Something an operator should look at, raised by correlating events. Duplicates (the same rule
/// on the same subject) are grouped: the count and last-seen time grow, the event list keeps the
/// most recent ids.
public struct Alert: Sendable, Equatable, Codable {
    public var id: String
    public var rule: String
    public var severity: Severity
    public var layer: MaestroLayer
    public var title: String
    /// What identifies duplicates: rule plus subject (server, tool, session or destination).
    public var key: String
    public var server: String
    public var session: String?
    public var tool: String?
    /// Ids of the events that raised it (the most recent 100).
    public var events: [String]
    public var firstSeen: Double
    public var lastSeen: Double
    public var count: Int
    public var status: AlertStatus
    public var assignee: String?
    public var notes: [Note]
    public var incident: String?
    /// Rule-specific facts (the baseline and the observed value, the destination, the fingerprint…).
    public var details: JSONObject

    public struct Note: Sendable, Equatable, Codable {
        public var time: Double
        public var actor: String
        public var text: String
        public init(time: Double, actor: String, text: String) {
            self.time = time
            self.actor = actor
            self.text = text
        }
    }

    public init(id: String, rule: String, severity: Severity, layer: MaestroLayer, title: String, key: String, server: String,
                session: String? = nil, tool: String? = nil, events: [String], firstSeen: Double, lastSeen: Double, count: Int = 1,
                status: AlertStatus = .new, assignee: String? = nil, notes: [Note] = [], incident: String? = nil, details: JSONObject = JSONObject()) {
        self.id = id
        self.rule = rule
        self.severity = severity
        self.layer = layer
        self.title = title
        self.key = key
        self.server = server
        self.session = session
        self.tool = tool
        self.events = events
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.count = count
        self.status = status
        self.assignee = assignee
        self.notes = notes
        self.incident = incident
        self.details = details
    }

    /// The JSON form the hub API and the store use.
    public var json: JSONValue {
        var o = JSONObject(pairs: [
            ("id", .string(id)), ("rule", .string(rule)), ("severity", .string(severity.rawValue)), ("layer", .string(layer.rawValue)),
            ("title", .string(title)), ("key", .string(key)), ("server", .string(server)),
            ("events", .array(events.map { .string($0) })), ("firstSeen", .number(String(firstSeen))), ("lastSeen", .number(String(lastSeen))),
            ("count", .int(count)), ("status", .string(status.rawValue)),
            ("notes", .array(notes.map { .object(JSONObject(pairs: [("time", .number(String($0.time))), ("actor", .string($0.actor)), ("text", .string($0.text))])) })),
            ("details", .object(details)),
        ])
        if let session { o["session"] = .string(session) }
        if let tool { o["tool"] = .string(tool) }
        if let assignee { o["assignee"] = .string(assignee) }
        if let incident { o["incident"] = .string(incident) }
        return .object(o)
    }

    public init?(json j: JSONValue) {
        guard let id = j["id"]?.stringValue, let rule = j["rule"]?.stringValue,
              let severity = j["severity"]?.stringValue.flatMap(Severity.init(rawValue:)),
              let layer = j["layer"]?.stringValue.flatMap(MaestroLayer.init(rawValue:)),
              let status = j["status"]?.stringValue.flatMap(AlertStatus.init(rawValue:)) else { return nil }
        func num(_ v: JSONValue?) -> Double { v?.doubleValue ?? 0 }
        self.init(id: id, rule: rule, severity: severity, layer: layer, title: j["title"]?.stringValue ?? "", key: j["key"]?.stringValue ?? id,
                  server: j["server"]?.stringValue ?? "", session: j["session"]?.stringValue, tool: j["tool"]?.stringValue,
                  events: j["events"]?.arrayValue?.compactMap(\.stringValue) ?? [], firstSeen: num(j["firstSeen"]), lastSeen: num(j["lastSeen"]),
                  count: Int(num(j["count"])), status: status, assignee: j["assignee"]?.stringValue,
                  notes: (j["notes"]?.arrayValue ?? []).map { Note(time: num($0["time"]), actor: $0["actor"]?.stringValue ?? "", text: $0["text"]?.stringValue ?? "") },
                  incident: j["incident"]?.stringValue, details: j["details"]?.objectValue ?? JSONObject())
    }
}

/// A group of alerts being handled together; owns playbook runs.
public struct Incident: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable { case open, closed }

    public var id: String
    public var title: String
    public var severity: Severity
    public var status: Status
    public var alerts: [String]
    public var runs: [String]
    public var openedAt: Double
    public var openedBy: String
    public var closedAt: Double?
    public var resolution: String?

    public init(id: String, title: String, severity: Severity, status: Status = .open, alerts: [String], runs: [String] = [],
                openedAt: Double, openedBy: String, closedAt: Double? = nil, resolution: String? = nil) {
        self.id = id
        self.title = title
        self.severity = severity
        self.status = status
        self.alerts = alerts
        self.runs = runs
        self.openedAt = openedAt
        self.openedBy = openedBy
        self.closedAt = closedAt
        self.resolution = resolution
    }

    public var json: JSONValue {
        var o = JSONObject(pairs: [
            ("id", .string(id)), ("title", .string(title)), ("severity", .string(severity.rawValue)), ("status", .string(status.rawValue)),
            ("alerts", .array(alerts.map { .string($0) })), ("runs", .array(runs.map { .string($0) })),
            ("openedAt", .number(String(openedAt))), ("openedBy", .string(openedBy)),
        ])
        if let closedAt { o["closedAt"] = .number(String(closedAt)) }
        if let resolution { o["resolution"] = .string(resolution) }
        return .object(o)
    }

    public init?(json j: JSONValue) {
        guard let id = j["id"]?.stringValue, let severity = j["severity"]?.stringValue.flatMap(Severity.init(rawValue:)),
              let status = j["status"]?.stringValue.flatMap(Status.init(rawValue:)) else { return nil }
        func num(_ v: JSONValue?) -> Double? { v?.doubleValue }
        self.init(id: id, title: j["title"]?.stringValue ?? "", severity: severity, status: status,
                  alerts: j["alerts"]?.arrayValue?.compactMap(\.stringValue) ?? [], runs: j["runs"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  openedAt: num(j["openedAt"]) ?? 0, openedBy: j["openedBy"]?.stringValue ?? "", closedAt: num(j["closedAt"]),
                  resolution: j["resolution"]?.stringValue)
    }
}
