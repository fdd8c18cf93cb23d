import WardenCore

// The records the hub's answers carry, each defined once here: the hub builds them, the console
// and the CLI decode them. States and verdicts are enums; untrusted strings (names, descriptions,
// arguments, reasons) stay raw and are escaped by whoever displays them.

/// A relay session (`sessions.list`, `sessions.show`).
public struct HubSession: Codable, Sendable, Equatable {
    public var id: String
    /// The name `warden wrap --name` gave the server.
    public var server: String
    public var client: String?
    public var clientVersion: String?
    /// What the server calls itself in its `initialize` answer.
    public var serverName: String?
    public var serverVersion: String?
    public var protocolVersion: String?
    public var instructions: String?
    public var wardenPid: Int
    public var serverPid: Int
    public var startedAt: Double
    public var lastActivity: Double
    public var endedAt: Double?
    public var endStatus: String?
    public var live: Bool
    public var calls: Int
    public var denials: Int
    public var risk: Int
    /// What isolation the server runs under (nil: not reported, from a relay older than the sandbox).
    public var isolation: Isolation?

    public init(id: String, server: String, client: String? = nil, clientVersion: String? = nil, serverName: String? = nil,
                serverVersion: String? = nil, protocolVersion: String? = nil, instructions: String? = nil, wardenPid: Int = 0, serverPid: Int = 0,
                startedAt: Double, lastActivity: Double, endedAt: Double? = nil, endStatus: String? = nil, live: Bool = true,
                calls: Int = 0, denials: Int = 0, risk: Int = 0, isolation: Isolation? = nil) {
        (self.id, self.server, self.client, self.clientVersion, self.serverName, self.serverVersion) = (id, server, client, clientVersion, serverName, serverVersion)
        (self.protocolVersion, self.instructions, self.wardenPid, self.serverPid) = (protocolVersion, instructions, wardenPid, serverPid)
        (self.startedAt, self.lastActivity, self.endedAt, self.endStatus, self.live) = (startedAt, lastActivity, endedAt, endStatus, live)
        (self.calls, self.denials, self.risk, self.isolation) = (calls, denials, risk, isolation)
    }

    /// `NAME VERSION` of the client, or `?`.
    public var clientLabel: String {
        let label = [client, clientVersion].compactMap { $0 }.joined(separator: " ")
        return label.isEmpty ? "?" : label
    }
}

/// A tool as the hub knows it (`tools.list`; `tools.show` adds the definitions, the diff and the baseline).
public struct HubTool: Codable, Sendable, Equatable {
    public var server: String
    public var name: String
    public var pin: String
    public var verdict: Verdict
    public var score: Int
    public var review: ToolReviewState
    public var quarantineReason: String?
    public var trustedPin: String?
    public var firstSeen: Double
    public var lastSeen: Double
    public var findings: [Finding]
    /// `tools.show` only.
    public var definition: JSONValue?
    public var trustedDefinition: JSONValue?
    /// `tools.show`, when the definition changed since it was trusted: a word diff.
    public var diff: [HubDiffPart]?
    /// `tools.show`, once the tool has been called.
    public var baseline: HubBaseline?

    public init(server: String, name: String, verdict: Verdict, score: Int, review: ToolReviewState, quarantineReason: String? = nil,
                pin: String = "", trustedPin: String? = nil, firstSeen: Double = 0, lastSeen: Double = 0, findings: [Finding] = [],
                definition: JSONValue? = nil, trustedDefinition: JSONValue? = nil, diff: [HubDiffPart]? = nil, baseline: HubBaseline? = nil) {
        (self.server, self.name, self.pin, self.verdict, self.score, self.review) = (server, name, pin, verdict, score, review)
        (self.quarantineReason, self.trustedPin, self.firstSeen, self.lastSeen, self.findings) = (quarantineReason, trustedPin, firstSeen, lastSeen, findings)
        (self.definition, self.trustedDefinition, self.diff, self.baseline) = (definition, trustedDefinition, diff, baseline)
    }

    /// `SERVER/TOOL`, as the CLI and the hub name tools.
    public var qualifiedName: String { "\(server)/\(name)" }
    /// Whether an operator should look at it: judged other than clean, quarantined, or changed.
    public var isFlagged: Bool { verdict != .clean || review == .quarantined || review == .changed }
}

/// One piece of a word diff between the trusted and the current definition.
public struct HubDiffPart: Codable, Sendable, Equatable {
    public enum Op: String, Codable, Sendable { case equal, insert, delete }
    public var op: Op
    public var text: String
    public init(op: Op, text: String) { (self.op, self.text) = (op, text) }
}

/// What the hub learnt of a tool's behaviour (`baselines.list`, `tools.show`).
public struct HubBaseline: Codable, Sendable, Equatable {
    /// `SERVER/TOOL` (`baselines.list`).
    public var id: String?
    public var calls: Int
    /// Calls before deviations are judged.
    public var warmUp: Int
    public var warm: Bool
    public var keys: [String]
    public var destinations: [String]
    public var pathRoots: [String]
    public var maxArgBytes: Int
    public var maxResultBytes: Int
    public var p95Micros: Int
    public var errors: Int
    public var firstCall: Double

    public init(id: String? = nil, calls: Int, warmUp: Int = 20, keys: [String] = [], destinations: [String] = [], pathRoots: [String] = [],
                maxArgBytes: Int = 0, maxResultBytes: Int = 0, p95Micros: Int = 0, errors: Int = 0, firstCall: Double = 0) {
        (self.id, self.calls, self.warmUp, self.warm, self.keys, self.destinations) = (id, calls, warmUp, calls >= warmUp, keys, destinations)
        (self.pathRoots, self.maxArgBytes, self.maxResultBytes, self.p95Micros, self.errors, self.firstCall) = (pathRoots, maxArgBytes, maxResultBytes, p95Micros, errors, firstCall)
    }
}

/// An incident with a summary of each playbook run it owns (`incidents.list`).
public struct HubIncident: Codable, Sendable, Equatable {
    public struct Run: Codable, Sendable, Equatable {
        public var id: String
        public var playbook: String
        public var status: PlaybookRun.Status
        public var currentStep: String?
        public var phase: String?
        /// Whether the current step has an action Warden runs (`R`), or is a person's to do.
        public var currentKind: Step.Kind?
        public typealias Step = HubRun.Step
        public init(id: String, playbook: String, status: PlaybookRun.Status, currentStep: String? = nil, phase: String? = nil, currentKind: Step.Kind? = nil) {
            (self.id, self.playbook, self.status, self.currentStep, self.phase, self.currentKind) = (id, playbook, status, currentStep, phase, currentKind)
        }
    }
    public var id: String
    public var title: String
    public var severity: Severity
    public var status: Incident.Status
    public var alerts: [String]
    public var runs: [Run]
    public var openedAt: Double
    public var openedBy: String
    public var closedAt: Double?
    public var resolution: String?

    public init(_ i: Incident, runs: [Run]) {
        (id, title, severity, status, alerts, self.runs) = (i.id, i.title, i.severity, i.status, i.alerts, runs)
        (openedAt, openedBy, closedAt, resolution) = (i.openedAt, i.openedBy, i.closedAt, i.resolution)
    }
}

/// A playbook run as the operator follows it (`playbooks.start`, `playbooks.step`, `playbooks.run`).
public struct HubRun: Codable, Sendable, Equatable {
    public struct Step: Codable, Sendable, Equatable {
        public struct Command: Codable, Sendable, Equatable {
            public var type: String
            public var command: String
            public init(type: String, command: String) { (self.type, self.command) = (type, command) }
        }
        public var id: String
        public var name: String
        public var phase: String
        /// An automated step has an action Warden runs; a manual one is a person's checklist item.
        public enum Kind: String, Codable, Sendable { case automated, manual }
        public var kind: Kind
        public var description: String
        /// Where the step stands: ahead (`current`, `pending`, `to do`) or what happened to it.
        public enum Status: Codable, Sendable, Equatable, CustomStringConvertible {
            case current, pending, toDo, done, skipped, ran, failed
            /// An outcome this build does not know (a newer hub): shown as written, never as done.
            case other(String)

            public init(_ text: String) {
                switch text {
                case "current": self = .current
                case "pending": self = .pending
                case "to do": self = .toDo
                case "done": self = .done
                case "skipped": self = .skipped
                case "ran": self = .ran
                case "failed": self = .failed
                default: self = .other(text)
                }
            }
            public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
            public func encode(to encoder: any Encoder) throws {
                var c = encoder.singleValueContainer()
                try c.encode(description)
            }
            public var description: String {
                switch self {
                case .current: "current"
                case .pending: "pending"
                case .toDo: "to do"
                case .done: "done"
                case .skipped: "skipped"
                case .ran: "ran"
                case .failed: "failed"
                case .other(let text): text
                }
            }
            /// Done by a person or by Warden.
            public var isFinished: Bool { self == .done || self == .ran }
        }
        public var status: Status
        public var commands: [Command]
        /// `OUTCOME by ACTOR: NOTE`, once the step is behind.
        public var outcome: String?
        public init(id: String, name: String, phase: String, kind: Kind, description: String, status: Status, outcome: String? = nil, commands: [Command] = []) {
            self.id = id
            self.name = name
            self.phase = phase
            self.kind = kind
            self.description = description
            self.status = status
            self.commands = commands
            self.outcome = outcome
        }
    }
    /// What happened at a step, by whom, when (`note` records are the operators' notes).
    public typealias Record = PlaybookRun.Record
    public var id: String
    public var playbook: String
    public var incident: String
    public var status: PlaybookRun.Status
    public var queue: [String]
    public var steps: [Step]
    public var variables: [String: String]
    public var log: [Record]
    public var startedAt: Double
    public var startedBy: String
    /// The playbook as CACAO 2.0 JSON.
    public var definition: JSONValue
    public var currentStep: String?
    public var currentStepId: String?
    public var phase: String?

    /// The operators' notes, oldest first.
    public var notes: [Record] { log.filter { $0.outcome == "note" && $0.note != nil } }

    public init(id: String, playbook: String, incident: String, status: PlaybookRun.Status, queue: [String], steps: [Step], variables: [String: String], log: [Record], startedAt: Double, startedBy: String, definition: JSONValue, currentStep: String? = nil, currentStepId: String? = nil, phase: String? = nil) {
        self.id = id
        self.playbook = playbook
        self.incident = incident
        self.status = status
        self.queue = queue
        self.steps = steps
        self.variables = variables
        self.log = log
        self.startedAt = startedAt
        self.startedBy = startedBy
        self.definition = definition
        self.currentStep = currentStep
        self.currentStepId = currentStepId
        self.phase = phase
    }
}

/// `audit.verify`'s answer: the chain is intact up to its head, or broken at a record.
public struct HubChainStatus: Codable, Sendable, Equatable {
    public var intact: Bool
    public var records: Int?
    public var head: String?
    public var keyId: String?
    /// How many anchors were checked, and the sequence of the latest.
    public var anchors: Int?
    public var latestAnchor: Int?
    /// Where it breaks, when it does.
    public var sequence: Int?
    public var problem: String?
    public init(intact: Bool, records: Int? = nil, head: String? = nil, keyId: String? = nil, anchors: Int? = nil, latestAnchor: Int? = nil,
                sequence: Int? = nil, problem: String? = nil) {
        (self.intact, self.records, self.head, self.keyId, self.anchors, self.latestAnchor, self.sequence, self.problem) =
            (intact, records, head, keyId, anchors, latestAnchor, sequence, problem)
    }
}
