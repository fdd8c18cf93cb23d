import Foundation

/// One walk through a playbook for an incident. Persisted after every step, so a run resumes where
/// it was after a restart. `queue` holds the steps still to do; its first is the current step.
public struct PlaybookRun: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case running, completed, aborted }

    /// What happened at a step, by whom, when.
    public struct Record: Sendable, Equatable, Codable {
        public var step: String
        public var name: String
        /// `done`, `skipped`, `ran`, `failed`, `note`, `branch`.
        public var outcome: String
        public var actor: String
        public var time: Double
        public var note: String?
        public init(step: String, name: String, outcome: String, actor: String, time: Double, note: String? = nil) {
            self.step = step
            self.name = name
            self.outcome = outcome
            self.actor = actor
            self.time = time
            self.note = note
        }
    }

    public var id: String
    public var playbook: Playbook
    public var incident: String
    public var status: Status
    public var queue: [String]
    public var variables: [String: String]
    public var log: [Record]
    public var startedAt: Double
    public var startedBy: String

    /// Starts a run: variables from the playbook's defaults overlaid with the incident's facts, then
    /// moves past the start step (and any condition it reaches) to the first step for a person.
    public init(id: String, playbook: Playbook, incident: String, variables: [String: String], actor: String, at time: Double) {
        self.id = id
        self.playbook = playbook
        self.incident = incident
        self.status = .running
        self.queue = [playbook.start]
        self.variables = playbook.variables.merging(variables) { $1 }
        self.log = []
        self.startedAt = time
        self.startedBy = actor
        settle(actor: "warden", at: time)
    }

    /// The step waiting for the operator, if the run is not over.
    public var current: Playbook.Step? { queue.first.flatMap { playbook.steps[$0] } }

    /// `$$var$$` references replaced by the run's values.
    public func expand(_ text: String) -> String {
        var out = text
        for (k, v) in variables { out = out.replacingOccurrences(of: k, with: v) }
        return out
    }

    /// Finishes the current step with `outcome` and moves on.
    public mutating func complete(outcome: String, actor: String, at time: Double, note: String? = nil) {
        guard let step = current else { return }
        log.append(Record(step: step.id, name: step.name, outcome: outcome, actor: actor, time: time, note: note))
        queue.removeFirst()
        enqueue(after: step)
        settle(actor: actor, at: time)
    }

    /// A note on the current step (or the run), without moving on.
    public mutating func note(_ text: String, actor: String, at time: Double) {
        log.append(Record(step: current?.id ?? "", name: current?.name ?? "", outcome: "note", actor: actor, time: time, note: text))
    }

    mutating func enqueue(after step: Playbook.Step) {
        switch step.kind {
        case .parallel:
            // Every branch must be done (in any order), then what follows the parallel step.
            queue.insert(contentsOf: step.nextSteps + (step.onCompletion.map { [$0] } ?? []), at: 0)
        case .ifCondition:
            break  // handled in settle
        case .end:
            break
        default:
            if let next = step.onCompletion, !queue.contains(next) { queue.insert(next, at: 0) }
        }
    }

    /// Moves through steps no person needs to act on: start, conditions, end.
    mutating func settle(actor: String, at time: Double) {
        var guardCount = 0
        while let step = current, guardCount < 1000 {
            guardCount += 1
            switch step.kind {
            case .start:
                queue.removeFirst()
                enqueue(after: step)
            case .ifCondition:
                queue.removeFirst()
                let result = Self.evaluate(step.condition ?? "", variables)
                log.append(Record(step: step.id, name: step.name, outcome: "branch", actor: "warden", time: time,
                                  note: "\(step.condition ?? "") is \(result)"))
                if let next = result ? step.onTrue : step.onFalse { queue.insert(next, at: 0) } else if let next = step.onCompletion { queue.insert(next, at: 0) }
            case .end:
                queue.removeFirst()
            case .action, .parallel:
                if step.kind == .parallel {
                    queue.removeFirst()
                    enqueue(after: step)
                    continue
                }
                return
            }
        }
        if queue.isEmpty { status = .completed }
    }

    /// Conditions Warden evaluates: `$$var$$ == value`, `$$var$$ != value`, or `$$var$$` (true
    /// unless empty, `false` or `0`).
    public static func evaluate(_ condition: String, _ variables: [String: String]) -> Bool {
        func value(_ s: Substring) -> String {
            let t = s.trimmingCharacters(in: .whitespaces)
            return variables[t] ?? t.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
        }
        if let r = condition.range(of: "!=") { return value(condition[..<r.lowerBound]) != value(condition[r.upperBound...]) }
        if let r = condition.range(of: "==") { return value(condition[..<r.lowerBound]) == value(condition[r.upperBound...]) }
        let v = value(Substring(condition))
        return !(v.isEmpty || v == "false" || v == "0")
    }

    public var json: JSONValue {
        let steps: [JSONValue] = playbook.order.compactMap { id in
            guard let s = playbook.steps[id], s.kind == .action else { return nil }
            let record = log.last { $0.step == id && $0.outcome != "note" }
            let status = record?.outcome ?? (queue.first == id ? "current" : queue.contains(id) ? "pending" : "to do")
            var o = JSONObject(pairs: [("id", .string(id)), ("name", .string(s.name)), ("phase", .string(s.phase ?? "")),
                                       ("kind", .string(s.isAutomated ? "automated" : "manual")),
                                       ("description", .string(expand(s.description))), ("status", .string(status)),
                                       ("commands", .array(s.commands.map { .object(JSONObject(pairs: [("type", .string($0.type)), ("command", .string(expand($0.command)))])) }))])
            if let r = record {
                o["outcome"] = .string("\(r.outcome) by \(r.actor)" + (r.note.map { ": \($0)" } ?? ""))
            }
            return .object(o)
        }
        var o = JSONObject(pairs: [
            ("id", .string(id)), ("playbook", .string(playbook.name)), ("incident", .string(incident)), ("status", .string(status.rawValue)),
            ("queue", .array(queue.map { .string($0) })), ("steps", .array(steps)),
            ("variables", .object(JSONObject(pairs: variables.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))),
            ("log", .array(log.map { r in .object(JSONObject(pairs: [("step", .string(r.step)), ("name", .string(r.name)), ("outcome", .string(r.outcome)),
                                                                        ("actor", .string(r.actor)), ("time", .number(String(r.time))), ("note", r.note.map { .string($0) } ?? .null)])) })),
            ("startedAt", .number(String(startedAt))), ("startedBy", .string(startedBy)), ("definition", playbook.cacao),
        ])
        if let c = current {
            o["currentStep"] = .string(c.name)
            o["currentStepId"] = .string(c.id)
            o["phase"] = .string(c.phase ?? "")
        }
        return .object(o)
    }

    public init?(json j: JSONValue) {
        guard let id = j["id"]?.stringValue, let definition = j["definition"], let playbook = try? Playbook.cacao(definition),
              let status = j["status"]?.stringValue.flatMap(Status.init(rawValue:)) else { return nil }
        func num(_ v: JSONValue?) -> Double { v?.doubleValue ?? 0 }
        self.id = id
        self.playbook = playbook
        self.incident = j["incident"]?.stringValue ?? ""
        self.status = status
        self.queue = j["queue"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var vars: [String: String] = [:]
        for (k, v) in j["variables"]?.objectValue?.members ?? JSONObject().members { vars[k] = v.stringValue ?? "" }
        self.variables = vars
        self.log = (j["log"]?.arrayValue ?? []).map { r in
            Record(step: r["step"]?.stringValue ?? "", name: r["name"]?.stringValue ?? "", outcome: r["outcome"]?.stringValue ?? "",
                   actor: r["actor"]?.stringValue ?? "", time: num(r["time"]), note: r["note"]?.stringValue)
        }
        self.startedAt = num(j["startedAt"])
        self.startedBy = j["startedBy"]?.stringValue ?? ""
    }
}
