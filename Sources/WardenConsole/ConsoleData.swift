import Crypto
import Foundation
import WardenCore
import WardenHubAPI

/// What the console shows, as the hub API returns it (docs/hub-api.md). Strings are raw; the frame
/// escapes them when they are drawn.
public struct ConsoleData: Sendable {
    public var hub = HubSummary()
    public var sessions: [SessionRow] = []
    public var grants: [HubGrant] = []
    public var tools: [ToolRow] = []
    public var alerts: [AlertRow] = []
    public var incidents: [IncidentRow] = []
    public var audit: [AuditRow] = []
    /// `audit.verify`'s answer, shown above the audit log.
    public var chain: ChainStatus = .unknown
    public var sessionDetail: SessionDetail?
    /// The calls the grant in the detail let through (`grants.show`).
    public var grantCalls: GrantCalls?
    /// Whether alerts were loaded once: alerts on the first load are not news.
    public var alertsLoaded = false
    public var toolDetail: ToolDetail?
    public var runDetail: PlaybookRunDetail?

    public init() {}
}

public struct HubSummary: Sendable {
    public var connected = false
    public var pid = 0
    public var events = 0
    /// Why the console is not connected, when it is not.
    public var problem: String?
    public init() {}
}

public enum ChainStatus: Sendable, Equatable {
    case unknown
    case intact(records: Int, head: String)
    case broken(sequence: Int, problem: String)
}

public struct SessionRow: Sendable, Equatable {
    public var id: String
    public var server: String
    public var client: String
    public var protocolVersion: String
    public var wardenPID: Int
    public var serverPID: Int
    public var startedAt: Double
    public var lastActivity: Double
    public var calls: Int
    public var denials: Int
    public var risk: Int
    public var live: Bool
    public var endStatus: String?
    /// What isolation the server runs under (nil: not reported, from a relay older than the sandbox).
    public var isolation: Isolation?

    public init(id: String, server: String, client: String, protocolVersion: String = "", wardenPID: Int = 0, serverPID: Int = 0,
                startedAt: Double, lastActivity: Double, calls: Int = 0, denials: Int = 0, risk: Int = 0, live: Bool = true, endStatus: String? = nil,
                isolation: Isolation? = nil) {
        self.isolation = isolation
        self.id = id
        self.server = server
        self.client = client
        self.protocolVersion = protocolVersion
        self.wardenPID = wardenPID
        self.serverPID = serverPID
        self.startedAt = startedAt
        self.lastActivity = lastActivity
        self.calls = calls
        self.denials = denials
        self.risk = risk
        self.live = live
        self.endStatus = endStatus
    }

    /// From the hub API's JSON form (docs/hub-api.md).
    public init?(_ j: JSONValue) {
        guard let id = j["id"]?.stringValue else { return nil }
        let client = [j["client"]?.stringValue, j["clientVersion"]?.stringValue].compactMap { $0 }.joined(separator: " ")
        self.init(id: id, server: j["server"]?.stringValue ?? "?", client: client.isEmpty ? "?" : client,
                  protocolVersion: j["protocolVersion"]?.stringValue ?? "", wardenPID: j["wardenPid"]?.intValue ?? 0,
                  serverPID: j["serverPid"]?.intValue ?? 0, startedAt: j["startedAt"]?.doubleValue ?? 0,
                  lastActivity: j["lastActivity"]?.doubleValue ?? 0, calls: j["calls"]?.intValue ?? 0, denials: j["denials"]?.intValue ?? 0,
                  risk: j["risk"]?.intValue ?? 0, live: j["live"]?.boolValue ?? false, endStatus: j["endStatus"]?.stringValue,
                  isolation: Isolation(json: j["isolation"]))
    }
}

public struct FindingRow: Sendable, Equatable {
    public var rule: String
    public var severity: String
    public var field: String
    public var start: Int
    public var end: Int
    public var evidence: String
    public var message: String

    public init(rule: String, severity: String, field: String, start: Int, end: Int, evidence: String, message: String) {
        self.rule = rule
        self.severity = severity
        self.field = field
        self.start = start
        self.end = end
        self.evidence = evidence
        self.message = message
    }

    /// From the hub API's JSON form (docs/hub-api.md).
    public init?(_ j: JSONValue) {
        guard let rule = j["rule"]?.stringValue else { return nil }
        self.init(rule: rule, severity: j["severity"]?.stringValue ?? "info", field: j["field"]?.stringValue ?? "",
                  start: j["start"]?.intValue ?? 0, end: j["end"]?.intValue ?? 0, evidence: j["evidence"]?.stringValue ?? "",
                  message: j["message"]?.stringValue ?? "")
    }
}

public struct ToolRow: Sendable, Equatable {
    public var server: String
    public var name: String
    public var verdict: String
    public var score: Int
    public var review: String
    public var quarantineReason: String?
    public var pin: String
    public var trustedPin: String?
    public var findings: [FindingRow]

    public init(server: String, name: String, verdict: String, score: Int, review: String, quarantineReason: String? = nil,
                pin: String = "", trustedPin: String? = nil, findings: [FindingRow] = []) {
        self.server = server
        self.name = name
        self.verdict = verdict
        self.score = score
        self.review = review
        self.quarantineReason = quarantineReason
        self.pin = pin
        self.trustedPin = trustedPin
        self.findings = findings
    }

    /// From the hub API's JSON form (docs/hub-api.md).
    public init?(_ j: JSONValue) {
        guard let name = j["name"]?.stringValue, let server = j["server"]?.stringValue else { return nil }
        self.init(server: server, name: name, verdict: j["verdict"]?.stringValue ?? "?", score: j["score"]?.intValue ?? 0,
                  review: j["review"]?.stringValue ?? "?", quarantineReason: j["quarantineReason"]?.stringValue,
                  pin: j["pin"]?.stringValue ?? "", trustedPin: j["trustedPin"]?.stringValue,
                  findings: (j["findings"]?.arrayValue ?? []).compactMap(FindingRow.init))
    }

    /// `SERVER/TOOL`, as the CLI and the hub name tools.
    public var qualifiedName: String { "\(server)/\(name)" }
    public var isFlagged: Bool { verdict != "clean" || review == "quarantined" || review == "changed" }
}

public struct ToolDetail: Sendable, Equatable {
    public var tool: ToolRow
    public var definition: JSONObject
    /// Word diff since the trusted definition: (`equal`|`insert`|`delete`, text).
    public var diff: [(op: String, text: String)]
    /// What the hub learnt of the tool's behaviour, once it has been called.
    public var baseline: BaselineSummary?

    public init(tool: ToolRow, definition: JSONObject, diff: [(op: String, text: String)] = [], baseline: BaselineSummary? = nil) {
        self.tool = tool
        self.definition = definition
        self.diff = diff
        self.baseline = baseline
    }

    /// From the hub API's JSON form (docs/hub-api.md).
    public init?(_ j: JSONValue) {
        guard let tool = ToolRow(j) else { return nil }
        self.init(tool: tool, definition: j["definition"]?.objectValue ?? JSONObject(),
                  diff: (j["diff"]?.arrayValue ?? []).map { ($0["op"]?.stringValue ?? "equal", $0["text"]?.stringValue ?? "") },
                  baseline: j["baseline"].flatMap(BaselineSummary.init))
    }

    public static func == (a: ToolDetail, b: ToolDetail) -> Bool {
        a.tool == b.tool && a.definition == b.definition && a.diff.map(\.op) == b.diff.map(\.op) && a.diff.map(\.text) == b.diff.map(\.text)
            && a.baseline == b.baseline
    }
}

/// A tool's behaviour baseline as the hub reports it (`baselines.list`, `tools.show`).
public struct BaselineSummary: Sendable, Equatable {
    public var calls: Int
    public var warmUp: Int
    public var keys: [String]
    public var destinations: [String]
    public var pathRoots: [String]
    public var maxArgBytes: Int
    public var maxResultBytes: Int
    public var p95Micros: Int

    public var isWarm: Bool { calls >= warmUp }

    public init(calls: Int, warmUp: Int = 20, keys: [String] = [], destinations: [String] = [], pathRoots: [String] = [],
                maxArgBytes: Int = 0, maxResultBytes: Int = 0, p95Micros: Int = 0) {
        self.calls = calls
        self.warmUp = warmUp
        self.keys = keys
        self.destinations = destinations
        self.pathRoots = pathRoots
        self.maxArgBytes = maxArgBytes
        self.maxResultBytes = maxResultBytes
        self.p95Micros = p95Micros
    }

    public init?(_ j: JSONValue) {
        guard let calls = j["calls"]?.intValue else { return nil }
        func strings(_ key: String) -> [String] { j[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        self.init(calls: calls, warmUp: j["warmUp"]?.intValue ?? 20, keys: strings("keys"), destinations: strings("destinations"), pathRoots: strings("pathRoots"),
                  maxArgBytes: j["maxArgBytes"]?.intValue ?? 0, maxResultBytes: j["maxResultBytes"]?.intValue ?? 0, p95Micros: j["p95Micros"]?.intValue ?? 0)
    }
}

public struct EventRow: Sendable, Equatable {
    public var time: Double
    public var kind: String
    public var summary: String
    /// The JSON-RPC id of the call the event belongs to (compact JSON), if it belongs to one: the
    /// events of one call (held, decided, completed, findings) share it.
    public var call: String?
    /// Every field as the relay recorded it, for the call's detail.
    public var fields: JSONObject
    /// The event's own id (unique in the store).
    public var id: String

    public init(time: Double, kind: String, summary: String, call: String? = nil, fields: JSONObject = JSONObject(), id: String = "") {
        self.id = id
        self.time = time
        self.kind = kind
        self.summary = summary
        self.call = call
        self.fields = fields
    }

    /// From the hub API's JSON form (docs/hub-api.md).
    public init?(_ j: JSONValue) {
        guard let kind = j["kind"]?.stringValue else { return nil }
        let f = j["fields"]
        var parts: [String] = []
        let labels = ["grantId": "grant", "decidedBy": "by"]
        for key in ["tool", "method", "decision", "verdict", "reason", "status", "action", "problem", "client", "serverName", "grantId", "decidedBy"] {
            if let v = f?[key]?.stringValue, !v.isEmpty { parts.append(key == "tool" || key == "method" ? v : "\(labels[key] ?? key)=\(v)") }
        }
        if let micros = f?["micros"]?.intValue { parts.append(DurationText.format(micros: micros)) }
        // Last, as it is the longest: what a held or granted call carried.
        if let arguments = f?["arguments"]?.stringValue { parts.append("args " + arguments) }
        if let kinds = f?["kinds"]?.arrayValue { parts.append("secrets: " + kinds.compactMap(\.stringValue).joined(separator: ",")) }
        if let rules = f?["rules"]?.arrayValue { parts.append("rules: " + rules.compactMap(\.stringValue).joined(separator: ",")) }
        let call = f?["id"].flatMap { $0 == .null ? nil : JSONWriter.compact($0) }
        self.init(time: j["time"]?.doubleValue ?? 0, kind: kind, summary: parts.joined(separator: "  "), call: call, fields: f?.objectValue ?? JSONObject(),
                  id: j["id"]?.stringValue ?? "")
    }
}

/// Every call a grant let through: the held call it was made for, then the calls in its scope.
public struct GrantCalls: Sendable, Equatable {
    public struct Call: Sendable, Equatable {
        public var time: Double
        public var session: String
        public var arguments: String
        /// The call's JSON-RPC id in its session (compact JSON): where its detail is found.
        public var call: String?
        public init(time: Double, session: String, arguments: String, call: String? = nil) {
            self.time = time
            self.session = session
            self.arguments = arguments
            self.call = call
        }
    }

    public var grant: String
    public var calls: [Call]
    /// How many there are in all (`calls` holds the first ones).
    public var total: Int
    public init(grant: String, calls: [Call], total: Int? = nil) {
        self.grant = grant
        self.calls = calls
        self.total = total ?? calls.count
    }
}

public struct SessionDetail: Sendable, Equatable {
    public var session: SessionRow
    public var events: [EventRow]
    public init(session: SessionRow, events: [EventRow]) {
        self.session = session
        self.events = events
    }
}

public struct AuditRow: Sendable, Equatable {
    public var sequence: Int
    public var time: Double
    public var actor: String
    public var action: String
    public var subject: String
    public var hash: String
    public var previousHash: String
    /// What the record says beyond who did what to what: the reason of a denial or a revocation,
    /// the scope of an approval, the rule of a suppression.
    public var details: JSONObject

    public init(sequence: Int, time: Double, actor: String, action: String, subject: String, hash: String, previousHash: String = "",
                details: JSONObject = JSONObject()) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.action = action
        self.subject = subject
        self.hash = hash
        self.previousHash = previousHash
        self.details = details
    }

    /// From the hub API's JSON form (docs/hub-api.md).
    public init?(_ j: JSONValue) {
        guard let seq = j["sequence"]?.intValue else { return nil }
        self.init(sequence: seq, time: j["time"]?.doubleValue ?? 0, actor: j["actor"]?.stringValue ?? "?", action: j["action"]?.stringValue ?? "?",
                  subject: j["subject"]?.stringValue ?? "", hash: j["hash"]?.stringValue ?? "", previousHash: j["previousHash"]?.stringValue ?? "",
                  details: j["details"]?.objectValue ?? JSONObject())
    }
}

public struct AlertRow: Sendable, Equatable {
    public var id: String
    public var severity: String
    public var rule: String
    public var layer: String
    public var status: String
    public var assignee: String?
    public var title: String
    public var count: Int
    public var firstSeen: Double
    public var lastSeen: Double
    public var incident: String?

    public init(id: String, severity: String, rule: String, layer: String, status: String, assignee: String? = nil, title: String,
                count: Int = 1, firstSeen: Double, lastSeen: Double, incident: String? = nil) {
        self.id = id
        self.severity = severity
        self.rule = rule
        self.layer = layer
        self.status = status
        self.assignee = assignee
        self.title = title
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.incident = incident
    }

    /// From the hub API's JSON form (docs/hub-api.md).
    public init?(_ j: JSONValue) {
        guard let id = j["id"]?.stringValue else { return nil }
        self.init(id: id, severity: j["severity"]?.stringValue ?? "info", rule: j["rule"]?.stringValue ?? "?", layer: j["layer"]?.stringValue ?? "",
                  status: j["status"]?.stringValue ?? "new", assignee: j["assignee"]?.stringValue, title: j["title"]?.stringValue ?? "",
                  count: j["count"]?.intValue ?? 1, firstSeen: j["firstSeen"]?.doubleValue ?? 0, lastSeen: j["lastSeen"]?.doubleValue ?? 0,
                  incident: j["incident"]?.stringValue)
    }

    public var isOpen: Bool { status != "resolved" && status != "false-positive" }
}

/// An incident and the playbook runs it owns (one row per run, or one for an incident without runs).
public struct IncidentRow: Sendable, Equatable {
    public var id: String
    public var title: String
    public var status: String
    public var severity: String
    public var run: String?
    public var playbook: String?
    public var runStatus: String?
    /// The run's current step: its name, phase, and what it needs from the operator.
    public var step: String?
    public var phase: String?

    public init(id: String, title: String, status: String, severity: String, run: String? = nil, playbook: String? = nil,
                runStatus: String? = nil, step: String? = nil, phase: String? = nil) {
        self.id = id
        self.title = title
        self.status = status
        self.severity = severity
        self.run = run
        self.playbook = playbook
        self.runStatus = runStatus
        self.step = step
        self.phase = phase
    }
}

/// A playbook run's steps for the detail view.
public struct PlaybookRunDetail: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var id: String
        public var name: String
        public var phase: String
        public var kind: String
        public var description: String
        public var status: String
        public var outcome: String?
        public init(id: String, name: String, phase: String, kind: String, description: String, status: String, outcome: String? = nil) {
            self.id = id
            self.name = name
            self.phase = phase
            self.kind = kind
            self.description = description
            self.status = status
            self.outcome = outcome
        }
    }
    public var run: String
    public var playbook: String
    public var incident: String
    public var status: String
    public var current: String?
    public var steps: [Step]
    /// Notes the operators wrote on the run (`n`), oldest first: (time, who, text).
    public var notes: [Note] = []

    public struct Note: Sendable, Equatable {
        public var time: Double
        public var actor: String
        public var text: String
        public init(time: Double, actor: String, text: String) {
            self.time = time
            self.actor = actor
            self.text = text
        }
    }

    public init(run: String, playbook: String, incident: String, status: String, current: String?, steps: [Step]) {
        self.run = run
        self.playbook = playbook
        self.incident = incident
        self.status = status
        self.current = current
        self.steps = steps
    }
}

extension ConsoleData {
    /// Applies pushed grants: a known id is replaced where it stands (the cursor stays on it), a
    /// new one joins the pending requests at the top, as `grants.list` orders them.
    public mutating func apply(_ pushed: [HubGrant]) {
        for g in pushed {
            if let i = grants.firstIndex(where: { $0.id == g.id }) {
                // Pushes from the hub's threads can arrive out of order: a grant that has ended
                // does not come back to life from a late push (the next full load settles it).
                if grants[i].state.isFinal, !g.state.isFinal { continue }
                grants[i] = g
            } else {
                grants.insert(g, at: g.isPending ? 0 : grants.firstIndex { !$0.isPending } ?? grants.count)
            }
        }
        // What `grants.list` loads at most: a flood of requests cannot grow the console without bound.
        if grants.count > Self.grantRows {
            let keep = grants.filter { !$0.state.isFinal }
            grants = Array((keep + grants.filter(\.state.isFinal)).prefix(Self.grantRows))
        }
    }

    public static let grantRows = 500
}

extension ConsoleData {
    /// How many audit records the console holds (what `audit.list` loads).
    public static let auditRows = 500

    /// Applies a pushed audit record: it joins the top of the log, and the verified head moves to
    /// it when it is the next record after that head, links to it, and hashes to what it says.
    /// That costs the same however long the log is. Returns false when it does not extend the
    /// verified head (not verified yet, a gap, a bad link or hash): the whole chain is verified then.
    public mutating func appendAudit(_ record: AuditRecord) -> Bool {
        // Already here (the reload after an action loaded it before its push came): nothing to do,
        // and the head already covers it when it is at or before it.
        let row = AuditRow(sequence: record.sequence, time: record.time, actor: record.actor, action: record.action,
                           subject: record.subject, hash: record.hash, previousHash: record.previousHash, details: record.details)
        if audit.prefix(64).contains(row) {
            if case .intact(let records, _) = chain, record.sequence <= records { return true }
            return false
        }
        audit.insert(row, at: 0)
        if audit.count > Self.auditRows { audit.removeLast(audit.count - Self.auditRows) }
        guard case .intact(let records, let head) = chain, record.sequence == records + 1, record.previousHash == head,
              SHA256.hash(data: record.hashedContent).map({ String(format: "%02x", $0) }).joined() == record.hash else {
            return false
        }
        chain = .intact(records: record.sequence, head: record.hash)
        return true
    }
}
