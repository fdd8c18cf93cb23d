import Foundation

/// An incident-response playbook: the OASIS CACAO 2.0 subset Warden runs — `start`, `end`,
/// `action` (manual checklist commands, or Warden's own `x-warden` commands), `if-condition` and
/// `parallel` steps, and playbook variables. Imported from and exported to CACAO JSON.
public struct Playbook: Sendable, Equatable {
    public enum StepKind: String, Sendable {
        case start, end, action
        case ifCondition = "if-condition"
        case parallel
    }

    /// A command of an action step: `manual` (an instruction for the operator) or `x-warden`
    /// (`warden ACTION ARGS…`, run by the hub when the operator runs the step).
    public struct Command: Sendable, Equatable {
        public var type: String
        public var command: String
        public var description: String?
        public init(type: String, command: String, description: String? = nil) {
            self.type = type
            self.command = command
            self.description = description
        }
    }

    public struct Step: Sendable, Equatable {
        public var id: String
        public var kind: StepKind
        public var name: String
        public var description: String
        /// Incident-response phase (`x_warden_phase`): detection-analysis, containment, eradication,
        /// recovery, evidence-preservation, communication, post-incident-review.
        public var phase: String?
        public var commands: [Command]
        public var onCompletion: String?
        public var condition: String?
        public var onTrue: String?
        public var onFalse: String?
        public var nextSteps: [String]

        public init(id: String, kind: StepKind, name: String = "", description: String = "", phase: String? = nil, commands: [Command] = [],
                    onCompletion: String? = nil, condition: String? = nil, onTrue: String? = nil, onFalse: String? = nil, nextSteps: [String] = []) {
            self.id = id
            self.kind = kind
            self.name = name
            self.description = description
            self.phase = phase
            self.commands = commands
            self.onCompletion = onCompletion
            self.condition = condition
            self.onTrue = onTrue
            self.onFalse = onFalse
            self.nextSteps = nextSteps
        }

        /// Whether running it needs Warden (it has `x-warden` commands) rather than a person.
        public var isAutomated: Bool { commands.contains { $0.type == "x-warden" } }
    }

    public static let phases = ["detection-analysis", "containment", "eradication", "recovery", "evidence-preservation", "communication", "post-incident-review"]

    public var id: String
    public var name: String
    public var description: String
    public var start: String
    public var steps: [String: Step]
    /// Step ids in document order (for display and export).
    public var order: [String]
    /// `$$name$$` → default value.
    public var variables: [String: String]

    public init(id: String, name: String, description: String, start: String, steps: [Step], variables: [String: String] = [:]) {
        self.id = id
        self.name = name
        self.description = description
        self.start = start
        self.steps = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        self.order = steps.map(\.id)
        self.variables = variables
    }

    /// A CACAO document's problem, naming the JSON path.
    public struct ImportError: Error, CustomStringConvertible {
        public var path: String
        public var problem: String
        public var description: String { "\(path): \(problem)" }
    }

    /// Reads a CACAO 2.0 playbook (JSON). Unsupported step types and dangling references are errors.
    public static func cacao(_ value: JSONValue) throws(ImportError) -> Playbook {
        guard value["type"]?.stringValue == "playbook" else { throw ImportError(path: "type", problem: "must be \"playbook\"") }
        guard let spec = value["spec_version"]?.stringValue, spec.hasPrefix("cacao-2") else {
            throw ImportError(path: "spec_version", problem: "must be cacao-2.0")
        }
        guard let id = value["id"]?.stringValue else { throw ImportError(path: "id", problem: "is missing") }
        guard let name = value["name"]?.stringValue else { throw ImportError(path: "name", problem: "is missing") }
        guard let start = value["workflow_start"]?.stringValue else { throw ImportError(path: "workflow_start", problem: "is missing") }
        guard let workflow = value["workflow"]?.objectValue else { throw ImportError(path: "workflow", problem: "must be an object of steps") }
        var steps: [Step] = []
        for (stepID, s) in workflow.members {
            let path = "workflow.\(stepID)"
            guard let typeText = s["type"]?.stringValue, let kind = StepKind(rawValue: typeText) else {
                throw ImportError(path: "\(path).type", problem: "\(s["type"]?.stringValue ?? "nothing") is not a supported step type (start, end, action, if-condition, parallel)")
            }
            var commands: [Command] = []
            for (i, c) in (s["commands"]?.arrayValue ?? []).enumerated() {
                guard let type = c["type"]?.stringValue, let command = c["command"]?.stringValue else {
                    throw ImportError(path: "\(path).commands[\(i)]", problem: "needs type and command")
                }
                guard type == "manual" || type == "x-warden" else {
                    throw ImportError(path: "\(path).commands[\(i)].type", problem: "\(type) is not supported (manual, x-warden)")
                }
                if type == "x-warden", !PlaybookAction.known(command) {
                    throw ImportError(path: "\(path).commands[\(i)].command", problem: "unknown Warden action in \"\(command)\" (\(PlaybookAction.names.joined(separator: ", ")))")
                }
                commands.append(Command(type: type, command: command, description: c["description"]?.stringValue))
            }
            steps.append(Step(id: stepID, kind: kind, name: s["name"]?.stringValue ?? "", description: s["description"]?.stringValue ?? "",
                              phase: s["x_warden_phase"]?.stringValue, commands: commands, onCompletion: s["on_completion"]?.stringValue,
                              condition: s["condition"]?.stringValue, onTrue: s["on_true"]?.stringValue, onFalse: s["on_false"]?.stringValue,
                              nextSteps: s["next_steps"]?.arrayValue?.compactMap(\.stringValue) ?? []))
        }
        let ids = Set(steps.map(\.id))
        guard ids.contains(start) else { throw ImportError(path: "workflow_start", problem: "names no step (\(start))") }
        for s in steps {
            for (field, target) in [("on_completion", s.onCompletion), ("on_true", s.onTrue), ("on_false", s.onFalse)] {
                if let target, !ids.contains(target) { throw ImportError(path: "workflow.\(s.id).\(field)", problem: "names no step (\(target))") }
            }
            for target in s.nextSteps where !ids.contains(target) { throw ImportError(path: "workflow.\(s.id).next_steps", problem: "names no step (\(target))") }
            if s.kind == .ifCondition, s.condition == nil { throw ImportError(path: "workflow.\(s.id).condition", problem: "is missing") }
        }
        var variables: [String: String] = [:]
        for (k, v) in value["playbook_variables"]?.objectValue?.members ?? JSONObject().members {
            variables[k] = v["value"]?.stringValue ?? ""
        }
        return Playbook(id: id, name: name, description: value["description"]?.stringValue ?? "", start: start, steps: steps, variables: variables)
    }

    /// The CACAO 2.0 JSON form.
    public var cacao: JSONValue {
        var workflow = JSONObject()
        for id in order {
            guard let s = steps[id] else { continue }
            var o = JSONObject(pairs: [("type", .string(s.kind.rawValue))])
            if !s.name.isEmpty { o["name"] = .string(s.name) }
            if !s.description.isEmpty { o["description"] = .string(s.description) }
            if let p = s.phase { o["x_warden_phase"] = .string(p) }
            if !s.commands.isEmpty {
                o["commands"] = .array(s.commands.map { c in
                    var co = JSONObject(pairs: [("type", .string(c.type)), ("command", .string(c.command))])
                    if let d = c.description { co["description"] = .string(d) }
                    return .object(co)
                })
            }
            if let v = s.onCompletion { o["on_completion"] = .string(v) }
            if let v = s.condition { o["condition"] = .string(v) }
            if let v = s.onTrue { o["on_true"] = .string(v) }
            if let v = s.onFalse { o["on_false"] = .string(v) }
            if !s.nextSteps.isEmpty { o["next_steps"] = .array(s.nextSteps.map { .string($0) }) }
            workflow[id] = .object(o)
        }
        var vars = JSONObject()
        for (k, v) in variables.sorted(by: { $0.key < $1.key }) {
            vars[k] = .object(JSONObject(pairs: [("type", "string"), ("value", .string(v)), ("constant", false)]))
        }
        return .object(JSONObject(pairs: [
            ("type", "playbook"), ("spec_version", "cacao-2.0"), ("id", .string(id)), ("name", .string(name)),
            ("description", .string(description)), ("playbook_types", ["remediation", "investigation"]),
            ("created_by", "identity--warden"), ("created", "2025-01-01T00:00:00Z"), ("modified", "2025-01-01T00:00:00Z"),
            ("workflow_start", .string(start)), ("workflow", .object(workflow)), ("playbook_variables", .object(vars)),
        ]))
    }
}

/// The automated actions a playbook step can run (`x-warden` commands: `warden NAME ARGS…`).
public enum PlaybookAction: String, Sendable, CaseIterable, Codable {
    case revokeGrants = "revoke-grants"
    case terminateSession = "terminate-session"
    case quarantineTool = "quarantine-tool"
    case blockServer = "block-server"
    case unblockServer = "unblock-server"
    case tightenEgress = "tighten-egress"
    case restoreEgress = "restore-egress"
    /// The server's next sessions start sandboxed with no network (and not at all without a sandbox).
    case isolateServer = "isolate-server"
    case releaseServer = "release-server"
    case exportBundle = "export-bundle"

    public static var names: [String] { allCases.map(\.rawValue) }

    /// The action and its arguments in a command line `warden ACTION ARGS…`.
    public static func parse(_ command: String) -> (PlaybookAction, [String])? {
        let words = command.split(separator: " ").map(String.init)
        guard words.count >= 2, words[0] == "warden", let action = PlaybookAction(rawValue: words[1]) else { return nil }
        return (action, Array(words.dropFirst(2)))
    }

    static func known(_ command: String) -> Bool { parse(command) != nil }
}
