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

    /// From the hub API's record.
    public init(_ s: HubSession) {
        self.init(id: s.id, server: s.server, client: s.clientLabel, protocolVersion: s.protocolVersion ?? "", wardenPID: s.wardenPid,
                  serverPID: s.serverPid, startedAt: s.startedAt, lastActivity: s.lastActivity, calls: s.calls, denials: s.denials,
                  risk: s.risk, live: s.live, endStatus: s.endStatus, isolation: s.isolation)
    }
}

/// A finding as the console shows it: the analysis' own record.
public typealias FindingRow = Finding
/// A tool as the console lists it: the hub API's record.
public typealias ToolRow = HubTool

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

    /// From `tools.show`'s record.
    public init(_ t: HubTool) {
        var tool = t
        (tool.definition, tool.trustedDefinition, tool.diff, tool.baseline) = (nil, nil, nil, nil)
        self.init(tool: tool, definition: t.definition?.objectValue ?? JSONObject(), diff: (t.diff ?? []).map { ($0.op.rawValue, $0.text) },
                  baseline: t.baseline)
    }

    public static func == (a: ToolDetail, b: ToolDetail) -> Bool {
        a.tool == b.tool && a.definition == b.definition && a.diff.map(\.op) == b.diff.map(\.op) && a.diff.map(\.text) == b.diff.map(\.text)
            && a.baseline == b.baseline
    }
}

/// A tool's behaviour baseline as the hub reports it (`baselines.list`, `tools.show`).
public typealias BaselineSummary = HubBaseline

public struct EventRow: Sendable, Equatable {
    public var time: Double
    public var kind: String
    public var summary: String
    /// The JSON-RPC id of the call the event belongs to (compact JSON), if it belongs to one: the
    /// events of one call (held, decided, completed, findings) share it.
    public var call: String?
    /// Every field as the relay recorded it, for the call's detail.
    public var fields: JSONObject
    /// A `call.*` event's fields, typed.
    public var callFields: CallFields?
    /// The event's own id (unique in the store).
    public var id: String

    public init(time: Double, kind: String, summary: String, call: String? = nil, fields: JSONObject = JSONObject(), id: String = "") {
        self.id = id
        self.time = time
        self.kind = kind
        self.summary = summary
        self.call = call
        self.fields = fields
        self.callFields = kind.hasPrefix("call.") ? CallFields(fields) : nil
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

    /// From the hub API's record (`AuditRecord(hubJSON:)`, which keeps its text as hashed).
    public init(_ r: AuditRecord) {
        self.init(sequence: r.sequence, time: r.time, actor: r.actor, action: r.action, subject: r.subject, hash: r.hash, previousHash: r.previousHash,
                  details: r.details)
    }
}

/// An alert as the console lists it: the hub API's record.
public typealias AlertRow = Alert

/// An incident and the playbook runs it owns (one row per run, or one for an incident without runs).
public struct IncidentRow: Sendable, Equatable {
    public var id: String
    public var title: String
    public var status: Incident.Status
    public var severity: Severity
    public var run: String?
    public var playbook: String?
    public var runStatus: PlaybookRun.Status?
    /// The run's current step: its name, phase, and what it needs from the operator.
    public var step: String?
    public var phase: String?
    /// Whether the current step is automated (`R` runs it) or manual (`d` marks it done).
    public var stepKind: HubRun.Step.Kind?
    /// When the incident was opened.
    public var openedAt: Double = 0

    public init(id: String, title: String, status: Incident.Status, severity: Severity, run: String? = nil, playbook: String? = nil,
                runStatus: PlaybookRun.Status? = nil, step: String? = nil, phase: String? = nil) {
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

    /// One row per playbook run of an incident (or one for an incident with none).
    public static func rows(_ i: HubIncident) -> [IncidentRow] {
        var base = IncidentRow(id: i.id, title: i.title, status: i.status, severity: i.severity)
        base.openedAt = i.openedAt
        if i.runs.isEmpty { return [base] }
        return i.runs.map { r in
            var row = base
            (row.run, row.playbook, row.runStatus, row.step, row.phase, row.stepKind) = (r.id, r.playbook, r.status, r.currentStep, r.phase, r.currentKind)
            return row
        }
    }
}

/// A playbook run's steps for the detail view.
public struct PlaybookRunDetail: Sendable, Equatable {
    /// A step as the hub API reports it.
    public typealias Step = HubRun.Step
    public var run: String
    public var playbook: String
    public var incident: String
    public var status: PlaybookRun.Status
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

    public init(run: String, playbook: String, incident: String, status: PlaybookRun.Status, current: String?, steps: [Step]) {
        self.run = run
        self.playbook = playbook
        self.incident = incident
        self.status = status
        self.current = current
        self.steps = steps
    }

    /// From the hub API's record.
    public init(_ r: HubRun) {
        self.init(run: r.id, playbook: r.playbook, incident: r.incident, status: r.status, current: r.currentStepId,
                  steps: r.steps)
        notes = r.notes.map { Note(time: $0.time, actor: $0.actor, text: $0.note ?? "") }
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

extension SessionRow {
    /// What a stored event does to its session, as the hub's store derives it (`Store.apply`):
    /// the console follows the event stream with these instead of re-listing every session.
    mutating func apply(_ e: Event) {
        let f = e.fields
        switch e.kind {
        case .sessionStarted, .toolReviewed, .toolChanged:
            return
        case .sessionInitialized:
            client = HubSession(id: id, server: server, client: f["client"]?.stringValue, clientVersion: f["clientVersion"]?.stringValue,
                                startedAt: startedAt, lastActivity: lastActivity).clientLabel
            if let v = f["protocolVersion"]?.stringValue { protocolVersion = v }
        case .sessionEnded, .serverExited:
            live = false
            endStatus = endStatus ?? f["status"]?.stringValue
        case .callCompleted:
            calls += 1
        case .callDecided:
            if e.decision?.forwarded != true { denials += 1 }
        case .toolQuarantined:
            risk = min(100, risk + 20)
            return
        case .dlpFinding, .resultInjection, .sandboxNetwork:
            risk = min(100, risk + 30)
        case .notification, .response, .callHeld, .callCancelled, .callForwarded, .toolsListed, .protocolError:
            break
        }
        lastActivity = max(lastActivity, e.time)
    }
}

extension ConsoleData {
    /// Applies events the hub pushed to the sessions they belong to, and to the timeline of the
    /// session in the detail. Returns whether some event names a session not in the list (its
    /// row has to be fetched: a new session, or one beyond the list's length).
    mutating func apply(events: [Event]) -> Bool {
        var index: [String: Int] = [:]
        for (i, s) in sessions.enumerated() { index[s.id] = i }
        var unknown = false
        for e in events {
            if let i = index[e.session] { sessions[i].apply(e) } else { unknown = true }
        }
        if var d = sessionDetail {
            let mine = events.filter { $0.session == d.session.id }
            if !mine.isEmpty {
                for e in mine { d.session.apply(e) }
                // Newest first, as `sessions.show` answers, and no longer than it.
                d.events = (mine.reversed().compactMap { EventRow($0.json) } + d.events).prefix(max(d.events.count, ConsoleData.timelineEvents)).map { $0 }
                sessionDetail = d
            }
        }
        return unknown
    }

    /// How many of a session's events its timeline holds (`sessions.show`'s limit).
    static let timelineEvents = 300
}
