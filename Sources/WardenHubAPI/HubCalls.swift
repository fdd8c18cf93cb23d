import WardenCore

/// A hub method's parameters as a type, and the type of its answer: the hub decodes the one and
/// encodes the other, its clients the reverse, and the field names live only here. Every method has
/// one (`HubMethod.call`; `TypedHubAPITests` holds the answers to their types against a real hub).
/// The two records whose exact text matters — events and audit records, which are hashed and
/// verified — travel as JSON inside their answers and are read by `Event(json:)` and
/// `AuditRecord(hubJSON:)`.
public protocol HubCall: Codable, Sendable {
    associatedtype Answer: Codable & Sendable
    static var method: HubMethod { get }
}

/// An answer with nothing in it (`{}`).
public struct HubEmpty: Codable, Sendable, Equatable {
    public init() {}
}

extension HubCall {
    /// The parameters as the hub's lines carry them.
    public var params: JSONObject { HubWire.encode(self).objectValue ?? JSONObject() }
}

/// What a grant decision answers: the grant as it now is.
public struct HubGrantChange: Codable, Sendable {
    public var grant: HubGrant
    public init(grant: HubGrant) { self.grant = grant }
}

/// `grants.approve`: the held call goes through; `scope` says what else the grant covers.
public struct GrantsApprove: HubCall {
    public typealias Answer = HubGrantChange
    public static let method = HubMethod.grantsApprove
    public var id: String
    /// `call` when absent.
    public var scope: GrantScope?
    /// A duration (`30s`, `15m`, `2h`), capped by the rule's `max_ttl`.
    public var ttl: String?
    public var reason: String?
    /// A label for the audit log beside the identity the kernel reports.
    public var actor: String?
    public init(id: String, scope: GrantScope? = nil, ttl: String? = nil, reason: String? = nil, actor: String? = nil) {
        (self.id, self.scope, self.ttl, self.reason, self.actor) = (id, scope, ttl, reason, actor)
    }
}

/// `grants.deny`: the client is told who refused and why (the reason is required).
public struct GrantsDeny: HubCall {
    public typealias Answer = HubGrantChange
    public static let method = HubMethod.grantsDeny
    public var id: String
    public var reason: String
    public var actor: String?
    public init(id: String, reason: String, actor: String? = nil) { (self.id, self.reason, self.actor) = (id, reason, actor) }
}

/// `grants.revoke`: an active grant stops covering calls now.
public struct GrantsRevoke: HubCall {
    public typealias Answer = HubGrantChange
    public static let method = HubMethod.grantsRevoke
    public var id: String
    public var reason: String?
    public var actor: String?
    public init(id: String, reason: String? = nil, actor: String? = nil) { (self.id, self.reason, self.actor) = (id, reason, actor) }
}

/// `response.run`: one playbook action run now by the operator (the reason is required).
public struct ResponseRun: HubCall {
    public struct Answer: Codable, Sendable {
        /// What it did, in words ("terminated session S", "session S has no live relay").
        public var outcome: String
        /// Where `export-bundle` wrote the bundle.
        public var bundle: String?
        public init(outcome: String, bundle: String? = nil) { (self.outcome, self.bundle) = (outcome, bundle) }
    }
    public static let method = HubMethod.responseRun
    public var action: PlaybookAction
    public var args: [String]
    public var reason: String
    public var actor: String?
    public init(action: PlaybookAction, args: [String], reason: String, actor: String? = nil) {
        (self.action, self.args, self.reason, self.actor) = (action, args, reason, actor)
    }
}

// MARK: Connection and events

/// `hello`: who is connecting; a role, once said, is for the life of the connection.
public struct Hello: HubCall {
    public struct Answer: Codable, Sendable {
        public var api: Int
        public var pid: Int
        public init(api: Int, pid: Int) { (self.api, self.pid) = (api, pid) }
    }
    public static let method = HubMethod.hello
    public var api: Int?
    /// `wrap`, `console`, `cli`.
    public var role: String?
    public var pid: Int?
    /// A relay's session.
    public var session: String?
    public init(api: Int? = nil, role: String? = nil, pid: Int? = nil, session: String? = nil) { (self.api, self.role, self.pid, self.session) = (api, role, pid, session) }
}

/// `hub.status`.
public struct HubStatusCall: HubCall {
    public struct Answer: Codable, Sendable {
        public var api: Int
        public var pid: Int
        public var home: String
        public var database: String
        public var uptimeSeconds: Double
        public var liveSessions: Int
        public var pendingGrants: Int
        public var connections: Int
        public var events: Int
        public init(api: Int, pid: Int, home: String, database: String, uptimeSeconds: Double, liveSessions: Int, pendingGrants: Int, connections: Int, events: Int) {
            self.api = api
            self.pid = pid
            self.home = home
            self.database = database
            self.uptimeSeconds = uptimeSeconds
            self.liveSessions = liveSessions
            self.pendingGrants = pendingGrants
            self.connections = connections
            self.events = events
        }
    }
    public static let method = HubMethod.hubStatus
    public init() {}
}

/// `subscribe`: which pushes this connection gets (`HubPush.topic`; all when absent).
public struct Subscribe: HubCall {
    public struct Answer: Codable, Sendable {
        public var topics: [String]
        public init(topics: [String]) { self.topics = topics }
    }
    public static let method = HubMethod.subscribe
    public var topics: [String]?
    public init(topics: [String]? = nil) { self.topics = topics }
}

/// `events.append`: a relay's events, idempotent by event id. (The hub reads this one, its
/// busiest method, without the coder: `Event(json:)` over the raw list.)
public struct EventsAppend: HubCall {
    public struct Answer: Codable, Sendable {
        public var accepted: Int
        public var duplicates: Int
        public init(accepted: Int, duplicates: Int) { (self.accepted, self.duplicates) = (accepted, duplicates) }
    }
    public static let method = HubMethod.eventsAppend
    public var events: [JSONValue]
    public init(events: [JSONValue]) { self.events = events }
}

/// `events.tail`: stored events, newest first, or ascending from `since`.
public struct EventsTail: HubCall {
    public struct Answer: Codable, Sendable {
        public var events: [JSONValue]
        public init(events: [JSONValue]) { self.events = events }
    }
    public static let method = HubMethod.eventsTail
    public var session: String?
    public var since: Double?
    public var limit: Int?
    public init(session: String? = nil, since: Double? = nil, limit: Int? = nil) { (self.session, self.since, self.limit) = (session, since, limit) }
}

// MARK: Grants

/// `grants.withdraw`: the relay that asked no longer waits (its client cancelled the call).
public struct GrantsWithdraw: HubCall {
    public typealias Answer = HubEmpty
    public static let method = HubMethod.grantsWithdraw
    public var id: String
    public var reason: String?
    public init(id: String, reason: String? = nil) { (self.id, self.reason) = (id, reason) }
}

/// `grants.list`: pending first.
public struct GrantsList: HubCall {
    public struct Answer: Codable, Sendable {
        public var grants: [HubGrant]
        public init(grants: [HubGrant]) { self.grants = grants }
    }
    public static let method = HubMethod.grantsList
    /// Comma-separated states.
    public var state: String?
    public init(state: String? = nil) { self.state = state }
}

/// `grants.show`: a grant, its history, and every call it let through.
public struct GrantsShow: HubCall {
    public struct Transition: Codable, Sendable, Equatable {
        public var time: Double
        public var from: GrantState?
        public var to: GrantState
        public var actor: String
        public var reason: String?
        public init(time: Double, from: GrantState? = nil, to: GrantState, actor: String, reason: String? = nil) {
            self.time = time
            self.from = from
            self.to = to
            self.actor = actor
            self.reason = reason
        }
    }
    public struct Answer: Codable, Sendable {
        public var grant: HubGrant
        public var transitions: [Transition]
        /// The `call.decided` events of the calls it let through, oldest first (the first 500).
        public var calls: [JSONValue]
        public var callsTotal: Int
        public init(grant: HubGrant, transitions: [Transition], calls: [JSONValue], callsTotal: Int) {
            self.grant = grant
            self.transitions = transitions
            self.calls = calls
            self.callsTotal = callsTotal
        }
    }
    public static let method = HubMethod.grantsShow
    public var id: String
    public init(id: String) { self.id = id }
}

/// `grants.stats`: time grants were active against the length of the sessions that needed them.
public struct GrantsStats: HubCall {
    public struct Answer: Codable, Sendable {
        public var grants: Int
        public var byState: [String: Int]
        public var exposureSeconds: Double
        public var standingSeconds: Double
        public var grantedCalls: Int
        /// nil until a granted session has a length.
        public var reductionPercent: Double?
        public init(grants: Int, byState: [String: Int], exposureSeconds: Double, standingSeconds: Double, grantedCalls: Int, reductionPercent: Double? = nil) {
            self.grants = grants
            self.byState = byState
            self.exposureSeconds = exposureSeconds
            self.standingSeconds = standingSeconds
            self.grantedCalls = grantedCalls
            self.reductionPercent = reductionPercent
        }
    }
    public static let method = HubMethod.grantsStats
    public init() {}
}

// MARK: Sessions, tools, baselines, audit

/// `sessions.list`: live first, then by last activity.
public struct SessionsList: HubCall {
    public struct Answer: Codable, Sendable {
        public var sessions: [HubSession]
        public init(sessions: [HubSession]) { self.sessions = sessions }
    }
    public static let method = HubMethod.sessionsList
    public var live: Bool?
    public var limit: Int?
    public init(live: Bool? = nil, limit: Int? = nil) { (self.live, self.limit) = (live, limit) }
}

/// `sessions.show`: a session and its latest events.
public struct SessionsShow: HubCall {
    public struct Answer: Codable, Sendable {
        public var session: HubSession
        public var events: [JSONValue]
        public init(session: HubSession, events: [JSONValue]) { (self.session, self.events) = (session, events) }
    }
    public static let method = HubMethod.sessionsShow
    public var id: String
    public var limit: Int?
    public init(id: String, limit: Int? = nil) { (self.id, self.limit) = (id, limit) }
}

/// What the tool methods answer: the tool as it now is.
public struct HubToolAnswer: Codable, Sendable {
    public var tool: HubTool
    public init(tool: HubTool) { self.tool = tool }
}

/// `tools.list`: quarantined and changed first.
public struct ToolsList: HubCall {
    public struct Answer: Codable, Sendable {
        public var tools: [HubTool]
        public init(tools: [HubTool]) { self.tools = tools }
    }
    public static let method = HubMethod.toolsList
    public var flagged: Bool?
    public init(flagged: Bool? = nil) { self.flagged = flagged }
}

/// `tools.show`: with the definitions, the diff since it was trusted, and its baseline.
public struct ToolsShow: HubCall {
    public typealias Answer = HubToolAnswer
    public static let method = HubMethod.toolsShow
    /// `SERVER/TOOL`.
    public var name: String
    public init(name: String) { self.name = name }
}

/// `tools.approve`: pins the current definition; relays show it again.
public struct ToolsApprove: HubCall {
    public typealias Answer = HubToolAnswer
    public static let method = HubMethod.toolsApprove
    public var name: String
    public var reason: String?
    public var actor: String?
    public init(name: String, reason: String? = nil, actor: String? = nil) { (self.name, self.reason, self.actor) = (name, reason, actor) }
}

/// `tools.quarantine`: relays hide the tool and refuse its calls.
public struct ToolsQuarantine: HubCall {
    public typealias Answer = HubToolAnswer
    public static let method = HubMethod.toolsQuarantine
    public var name: String
    public var reason: String?
    public var actor: String?
    public init(name: String, reason: String? = nil, actor: String? = nil) { (self.name, self.reason, self.actor) = (name, reason, actor) }
}

/// `tools.suppress`: the tool re-judged without a rule (the reason is required).
public struct ToolsSuppress: HubCall {
    public typealias Answer = HubToolAnswer
    public static let method = HubMethod.toolsSuppress
    public var name: String
    public var rule: String
    public var reason: String
    public var actor: String?
    public init(name: String, rule: String, reason: String, actor: String? = nil) { (self.name, self.rule, self.reason, self.actor) = (name, rule, reason, actor) }
}

/// `baselines.list`.
public struct BaselinesList: HubCall {
    public struct Answer: Codable, Sendable {
        public var warmUp: Int
        public var baselines: [HubBaseline]
        public init(warmUp: Int, baselines: [HubBaseline]) { (self.warmUp, self.baselines) = (warmUp, baselines) }
    }
    public static let method = HubMethod.baselinesList
    public init() {}
}

/// `baselines.reset`: forgotten, learnt again from the next calls (the reason is required).
public struct BaselinesReset: HubCall {
    public struct Answer: Codable, Sendable {
        public var reset: [String]
        public init(reset: [String]) { self.reset = reset }
    }
    public static let method = HubMethod.baselinesReset
    /// `SERVER/TOOL`, or `SERVER` for all its tools.
    public var name: String
    public var reason: String
    public var actor: String?
    public init(name: String, reason: String, actor: String? = nil) { (self.name, self.reason, self.actor) = (name, reason, actor) }
}

/// `audit.verify`: the chain, its signed head, and each anchor given.
public struct AuditVerify: HubCall {
    public typealias Answer = HubChainStatus
    public static let method = HubMethod.auditVerify
    /// Anchor tokens (`warden-anchor.1.…`).
    public var anchors: [String]?
    public init(anchors: [String]? = nil) { self.anchors = anchors }
}

/// `audit.list`: newest first. Records travel as written (`AuditRecord(hubJSON:)` reads them) so
/// that their hashes can be checked.
public struct AuditList: HubCall {
    public struct Answer: Codable, Sendable {
        public var records: [JSONValue]
        public init(records: [JSONValue]) { self.records = records }
    }
    public static let method = HubMethod.auditList
    public var limit: Int?
    public init(limit: Int? = nil) { self.limit = limit }
}

/// `audit.export`: SIEM lines, the last one the chain's signed head.
public struct AuditExport: HubCall {
    public struct Answer: Codable, Sendable {
        public var lines: [String]
        public init(lines: [String]) { self.lines = lines }
    }
    public static let method = HubMethod.auditExport
    /// `ocsf` (default), `cef`, `syslog`.
    public var format: String?
    public var since: Double?
    public init(format: String? = nil, since: Double? = nil) { (self.format, self.since) = (format, since) }
}

// MARK: Alerts and incidents

/// What the triage methods answer: the alert as it now is.
public struct HubAlertAnswer: Codable, Sendable {
    public var alert: Alert
    public init(alert: Alert) { self.alert = alert }
}

/// `alerts.list`: most recently seen first.
public struct AlertsList: HubCall {
    public struct Answer: Codable, Sendable {
        public var alerts: [Alert]
        public init(alerts: [Alert]) { self.alerts = alerts }
    }
    public static let method = HubMethod.alertsList
    public var open: Bool?
    public var limit: Int?
    public init(open: Bool? = nil, limit: Int? = nil) { (self.open, self.limit) = (open, limit) }
}

/// `alerts.show`: an alert and the events that raised it.
public struct AlertsShow: HubCall {
    public struct Answer: Codable, Sendable {
        public var alert: Alert
        public var events: [JSONValue]
        public init(alert: Alert, events: [JSONValue]) { (self.alert, self.events) = (alert, events) }
    }
    public static let method = HubMethod.alertsShow
    public var id: String
    public init(id: String) { self.id = id }
}

/// `alerts.ack`.
public struct AlertsAck: HubCall {
    public typealias Answer = HubAlertAnswer
    public static let method = HubMethod.alertsAck
    public var id: String
    public var actor: String?
    public init(id: String, actor: String? = nil) { (self.id, self.actor) = (id, actor) }
}

/// `alerts.assign`.
public struct AlertsAssign: HubCall {
    public typealias Answer = HubAlertAnswer
    public static let method = HubMethod.alertsAssign
    public var id: String
    public var assignee: String
    public var actor: String?
    public init(id: String, assignee: String, actor: String? = nil) { (self.id, self.assignee, self.actor) = (id, assignee, actor) }
}

/// `alerts.resolve`.
public struct AlertsResolve: HubCall {
    public typealias Answer = HubAlertAnswer
    public static let method = HubMethod.alertsResolve
    public var id: String
    public var reason: String?
    public var actor: String?
    public init(id: String, reason: String? = nil, actor: String? = nil) { (self.id, self.reason, self.actor) = (id, reason, actor) }
}

/// `alerts.false-positive` (the reason is required).
public struct AlertsFalsePositive: HubCall {
    public typealias Answer = HubAlertAnswer
    public static let method = HubMethod.alertsFalsePositive
    public var id: String
    public var reason: String
    public var actor: String?
    public init(id: String, reason: String, actor: String? = nil) { (self.id, self.reason, self.actor) = (id, reason, actor) }
}

/// `alerts.note`.
public struct AlertsNote: HubCall {
    public typealias Answer = HubAlertAnswer
    public static let method = HubMethod.alertsNote
    public var id: String
    public var text: String
    public var actor: String?
    public init(id: String, text: String, actor: String? = nil) { (self.id, self.text, self.actor) = (id, text, actor) }
}

/// What opening and closing an incident answer.
public struct HubIncidentAnswer: Codable, Sendable {
    public var incident: Incident
    public init(incident: Incident) { self.incident = incident }
}

/// `incidents.list`.
public struct IncidentsList: HubCall {
    public struct Answer: Codable, Sendable {
        public var incidents: [HubIncident]
        public init(incidents: [HubIncident]) { self.incidents = incidents }
    }
    public static let method = HubMethod.incidentsList
    public init() {}
}

/// `incidents.show`: an incident, its alerts and its runs.
public struct IncidentsShow: HubCall {
    public struct Answer: Codable, Sendable {
        public var incident: Incident
        public var alerts: [Alert]
        public var runs: [HubRun]
        public init(incident: Incident, alerts: [Alert], runs: [HubRun]) { (self.incident, self.alerts, self.runs) = (incident, alerts, runs) }
    }
    public static let method = HubMethod.incidentsShow
    public var id: String
    public init(id: String) { self.id = id }
}

/// `incidents.open`: from one alert or several; they move to `in-progress`.
public struct IncidentsOpen: HubCall {
    public typealias Answer = HubIncidentAnswer
    public static let method = HubMethod.incidentsOpen
    public var alert: String?
    public var alerts: [String]?
    public var title: String?
    public var actor: String?
    public init(alert: String? = nil, alerts: [String]? = nil, title: String? = nil, actor: String? = nil) {
        (self.alert, self.alerts, self.title, self.actor) = (alert, alerts, title, actor)
    }
}

/// `incidents.close`: its open alerts are resolved.
public struct IncidentsClose: HubCall {
    public typealias Answer = HubIncidentAnswer
    public static let method = HubMethod.incidentsClose
    public var id: String
    public var resolution: String?
    public var actor: String?
    public init(id: String, resolution: String? = nil, actor: String? = nil) { (self.id, self.resolution, self.actor) = (id, resolution, actor) }
}

// MARK: Playbooks

/// `playbooks.list`: the built-in ones and those imported.
public struct PlaybooksList: HubCall {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var id: String
        public var description: String
        public var steps: Int
        /// `built-in` or `imported`.
        public var source: String
        public init(name: String, id: String, description: String, steps: Int, source: String) {
            self.name = name
            self.id = id
            self.description = description
            self.steps = steps
            self.source = source
        }
    }
    public struct Answer: Codable, Sendable {
        public var playbooks: [Entry]
        public init(playbooks: [Entry]) { self.playbooks = playbooks }
    }
    public static let method = HubMethod.playbooksList
    public init() {}
}

/// What `playbooks.show` and `playbooks.export` answer: the playbook as CACAO 2.0 JSON.
public struct HubPlaybookAnswer: Codable, Sendable {
    public var playbook: JSONValue
    public init(playbook: JSONValue) { self.playbook = playbook }
}

/// `playbooks.show`.
public struct PlaybooksShow: HubCall {
    public typealias Answer = HubPlaybookAnswer
    public static let method = HubMethod.playbooksShow
    public var name: String
    public init(name: String) { self.name = name }
}

/// `playbooks.export`.
public struct PlaybooksExport: HubCall {
    public typealias Answer = HubPlaybookAnswer
    public static let method = HubMethod.playbooksExport
    public var name: String
    public init(name: String) { self.name = name }
}

/// `playbooks.import`: a CACAO 2.0 document Warden can run.
public struct PlaybooksImport: HubCall {
    public struct Answer: Codable, Sendable {
        public var name: String
        public var steps: Int
        public init(name: String, steps: Int) { (self.name, self.steps) = (name, steps) }
    }
    public static let method = HubMethod.playbooksImport
    public var document: JSONValue
    public var actor: String?
    public init(document: JSONValue, actor: String? = nil) { (self.document, self.actor) = (document, actor) }
}

/// `playbooks.start`: a run of a playbook on an open incident.
public struct PlaybooksStart: HubCall {
    public typealias Answer = HubRun
    public static let method = HubMethod.playbooksStart
    public var name: String
    public var incident: String
    public var actor: String?
    public init(name: String, incident: String, actor: String? = nil) { (self.name, self.incident, self.actor) = (name, incident, actor) }
}

/// `playbooks.step`: the current step done, skipped (with a reason) or run, or a note on the run.
public struct PlaybooksStep: HubCall {
    public enum Action: String, Codable, Sendable { case done, skip, run, note }
    public typealias Answer = HubRun
    public static let method = HubMethod.playbooksStep
    public var run: String
    /// `done` when absent.
    public var action: Action?
    public var note: String?
    public var reason: String?
    public var actor: String?
    public init(run: String, action: Action, note: String? = nil, reason: String? = nil, actor: String? = nil) {
        (self.run, self.action, self.note, self.reason, self.actor) = (run, action, note, reason, actor)
    }
}

/// `playbooks.run`: one run as it stands.
public struct PlaybooksRun: HubCall {
    public typealias Answer = HubRun
    public static let method = HubMethod.playbooksRun
    public var run: String
    public init(run: String) { self.run = run }
}

/// `playbooks.runs`: every run.
public struct PlaybooksRuns: HubCall {
    public struct Answer: Codable, Sendable {
        public var runs: [HubRun]
        public init(runs: [HubRun]) { self.runs = runs }
    }
    public static let method = HubMethod.playbooksRuns
    public init() {}
}

extension HubMethod {
    /// The typed call of each method: the one place a method's parameters are named.
    public var call: any HubCall.Type {
        switch self {
        case .hello: Hello.self
        case .hubStatus: HubStatusCall.self
        case .subscribe: Subscribe.self
        case .eventsAppend: EventsAppend.self
        case .eventsTail: EventsTail.self
        case .grantsRequest: HubGrantRequest.self
        case .grantsWithdraw: GrantsWithdraw.self
        case .grantsList: GrantsList.self
        case .grantsShow: GrantsShow.self
        case .grantsApprove: GrantsApprove.self
        case .grantsDeny: GrantsDeny.self
        case .grantsRevoke: GrantsRevoke.self
        case .grantsStats: GrantsStats.self
        case .sessionsList: SessionsList.self
        case .sessionsShow: SessionsShow.self
        case .toolsList: ToolsList.self
        case .toolsShow: ToolsShow.self
        case .toolsApprove: ToolsApprove.self
        case .toolsQuarantine: ToolsQuarantine.self
        case .toolsSuppress: ToolsSuppress.self
        case .baselinesList: BaselinesList.self
        case .baselinesReset: BaselinesReset.self
        case .auditVerify: AuditVerify.self
        case .auditList: AuditList.self
        case .auditExport: AuditExport.self
        case .alertsList: AlertsList.self
        case .alertsShow: AlertsShow.self
        case .alertsAck: AlertsAck.self
        case .alertsAssign: AlertsAssign.self
        case .alertsResolve: AlertsResolve.self
        case .alertsFalsePositive: AlertsFalsePositive.self
        case .alertsNote: AlertsNote.self
        case .incidentsList: IncidentsList.self
        case .incidentsShow: IncidentsShow.self
        case .incidentsOpen: IncidentsOpen.self
        case .incidentsClose: IncidentsClose.self
        case .playbooksList: PlaybooksList.self
        case .playbooksShow: PlaybooksShow.self
        case .playbooksExport: PlaybooksExport.self
        case .playbooksImport: PlaybooksImport.self
        case .playbooksStart: PlaybooksStart.self
        case .playbooksStep: PlaybooksStep.self
        case .playbooksRun: PlaybooksRun.self
        case .playbooksRuns: PlaybooksRuns.self
        case .responseRun: ResponseRun.self
        }
    }
}
