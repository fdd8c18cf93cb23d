import Foundation
import WardenCore
import WardenHubAPI
import WardenStore

/// Alerts, incidents and playbooks: triage, escalation, and the playbook runner with its actions.
extension HubService {
    /// Correlates newly stored events into alerts; subscribers hear about new and grown alerts.
    func raiseAlerts(_ events: [Event]) {
        let candidates = correlator.alerts(for: events)
        guard !candidates.isEmpty else { return }
        var changed: [JSONValue] = []
        for c in candidates {
            if let (alert, _) = try? store.raise(c) { changed.append(HubWire.encode(alert)) }
        }
        afterChange()
        for p in peers.all { p.push(.alerts, ["alerts": .array(changed)]) }
    }

    func responseCall(_ method: HubMethod, _ p: JSONObject, from peer: HubPeer) throws -> JSONValue {
        let actor = peer.actor(p["actor"]?.stringValue)
        let now = clock()
        switch method {
        case .alertsList:
            let q = try Self.typedParams(AlertsList.self, p)
            return HubWire.encode(AlertsList.Answer(alerts: try store.alerts(openOnly: q.open ?? false, limit: q.limit ?? 1000)))
        case .alertsShow:
            let id = try Self.typedParams(AlertsShow.self, p).id
            guard let a = try store.alert(id) else { throw HubAPIError.refused("no alert \(id)") }
            let events = try a.events.suffix(50).compactMap { eid -> JSONValue? in
                try store.events(session: a.session, limit: 2000).first { $0.id == eid }?.json
            }
            return HubWire.encode(AlertsShow.Answer(alert: a, events: events))
        case .alertsAck:
            return try triage(Self.typedParams(AlertsAck.self, p).id, actor: actor, action: "alert.acknowledged", now: now) { a in
                guard a.status == .new else { return "alert is \(a.status.rawValue), not new" }
                a.status = .acknowledged
                return nil
            }
        case .alertsAssign:
            let q = try Self.typedParams(AlertsAssign.self, p)
            let assignee = q.assignee
            guard !assignee.isEmpty else { throw HubAPIError.usage("missing assignee") }
            return try triage(q.id, actor: actor, action: "alert.assigned", now: now, details: ["assignee": .string(assignee)]) { a in
                a.assignee = assignee
                if a.status == .new { a.status = .acknowledged }
                return nil
            }
        case .alertsResolve, .alertsFalsePositive:
            let fp = method == .alertsFalsePositive
            if fp && (p["reason"]?.stringValue ?? "").trimmingCharacters(in: .whitespaces).isEmpty { throw HubAPIError.usage("a false positive needs a reason (--reason TEXT)") }
            let id: String, reason: String
            if fp {
                let q = try Self.typedParams(AlertsFalsePositive.self, p)
                (id, reason) = (q.id, q.reason)
            } else {
                let q = try Self.typedParams(AlertsResolve.self, p)
                (id, reason) = (q.id, q.reason ?? "")
            }
            return try triage(id, actor: actor, action: fp ? "alert.false-positive" : "alert.resolved", now: now, details: ["reason": .string(reason)]) { a in
                guard a.status.isOpen else { return "alert is already \(a.status.rawValue)" }
                a.status = fp ? .falsePositive : .resolved
                if !reason.isEmpty { a.notes.append(Alert.Note(time: now, actor: actor, text: reason)) }
                return nil
            }
        case .alertsNote:
            let q = try Self.typedParams(AlertsNote.self, p)
            let note = q.text
            guard !note.isEmpty else { throw HubAPIError.usage("missing text") }
            return try triage(q.id, actor: actor, action: "alert.noted", now: now, details: ["text": .string(note)]) { a in
                a.notes.append(Alert.Note(time: now, actor: actor, text: note))
                return nil
            }
        case .incidentsList:
            let runs = Dictionary(grouping: try store.runs(), by: \.incident)
            return HubWire.encode(IncidentsList.Answer(incidents: try store.incidents().map { i in
                HubIncident(i, runs: (runs[i.id] ?? []).map { r in
                    HubIncident.Run(id: r.id, playbook: r.playbook.name, status: r.status, currentStep: r.current?.name, phase: r.current?.phase,
                                 currentKind: r.current.map { $0.isAutomated ? .automated : .manual })
                })
            }))
        case .incidentsShow:
            let id = try Self.typedParams(IncidentsShow.self, p).id
            guard let i = try store.incident(id) else { throw HubAPIError.refused("no incident \(id)") }
            return HubWire.encode(IncidentsShow.Answer(incident: i, alerts: try i.alerts.compactMap { try store.alert($0) },
                                                       runs: try store.runs().filter { $0.incident == id }.map(Self.hubRun)))
        case .incidentsOpen:
            let q = try Self.typedParams(IncidentsOpen.self, p)
            let ids = q.alert.map { [$0] } ?? q.alerts ?? []
            guard !ids.isEmpty else { throw HubAPIError.usage("incidents.open needs alert (an alert id)") }
            var alerts: [Alert] = []
            for id in ids {
                guard let a = try store.alert(id) else { throw HubAPIError.refused("no alert \(id)") }
                if let existing = a.incident { throw HubAPIError.refused("alert \(id) is already in incident \(existing)") }
                alerts.append(a)
            }
            let incident = Incident(id: "i-" + Self.shortID(), title: q.title ?? alerts[0].title,
                                    severity: alerts.map(\.severity).max()!, alerts: ids, openedAt: now, openedBy: actor)
            let saved = try store.openIncident(incident, actor: actor)
            afterChange()
            pushAlerts()
            return HubWire.encode(HubIncidentAnswer(incident: saved))
        case .incidentsClose:
            let q = try Self.typedParams(IncidentsClose.self, p)
            let id = q.id
            let resolution = q.resolution ?? ""
            guard let i = try store.updateIncident(id, actor: actor, action: "incident.closed", at: now, details: ["resolution": .string(resolution)], { i in
                i.status = .closed
                i.closedAt = now
                i.resolution = resolution
            }) else { throw HubAPIError.refused("no incident \(id)") }
            for a in i.alerts { _ = try store.updateAlert(a, actor: actor, action: "alert.resolved", at: now, details: ["incident": .string(id)]) { $0.status = $0.status.isOpen ? .resolved : $0.status } }
            afterChange()
            pushAlerts()
            return HubWire.encode(HubIncidentAnswer(incident: i))
        case .playbooksList:
            let imported = try store.importedPlaybooks()
            let builtIn = BuiltInPlaybooks.all.filter { b in !imported.contains { $0.name == b.name } }
            return HubWire.encode(PlaybooksList.Answer(playbooks: (builtIn.map { ($0, "built-in") } + imported.map { ($0, "imported") }).map { pb, source in
                PlaybooksList.Entry(name: pb.name, id: pb.id, description: pb.description, steps: pb.steps.values.filter { $0.kind == .action }.count, source: source)
            }))
        case .playbooksShow:
            return HubWire.encode(HubPlaybookAnswer(playbook: try playbook(named: try Self.typedParams(PlaybooksShow.self, p).name).cacao))
        case .playbooksExport:
            return HubWire.encode(HubPlaybookAnswer(playbook: try playbook(named: try Self.typedParams(PlaybooksExport.self, p).name).cacao))
        case .playbooksImport:
            guard p["document"] != nil else { throw HubAPIError.usage("playbooks.import needs document (CACAO JSON)") }
            // The document as sent, not through the coder: member order and numbers as written.
            let document = p["document"]!
            let pb: Playbook
            do { pb = try Playbook.cacao(document) } catch { throw HubAPIError.usage("not a playbook Warden can run: \(error)") }
            try store.savePlaybook(pb, actor: actor, at: now)
            afterChange()
            return HubWire.encode(PlaybooksImport.Answer(name: pb.name, steps: pb.steps.count))
        case .playbooksStart:
            let q = try Self.typedParams(PlaybooksStart.self, p)
            let pb = try playbook(named: q.name)
            let incidentID = q.incident
            guard let incident = try store.incident(incidentID) else { throw HubAPIError.refused("no incident \(incidentID)") }
            guard incident.status == .open else { throw HubAPIError.refused("incident \(incidentID) is closed") }
            let first = try incident.alerts.first.flatMap { try store.alert($0) }
            let leaked = try incident.alerts.compactMap { try store.alert($0) }.contains { $0.rule == "flow.toxic" || ($0.rule == "dlp.secret" && $0.details["direction"]?.stringValue == "arguments") }
            let run = PlaybookRun(id: "r-" + Self.shortID(), playbook: pb, incident: incidentID, variables: [
                "$$incident$$": incidentID, "$$server$$": first?.server ?? "", "$$tool$$": first?.tool ?? "", "$$session$$": first?.session ?? "",
                "$$secret_leaked$$": leaked ? "true" : "false",
            ], actor: actor, at: now)
            try store.saveRun(run, actor: actor, action: "playbook.started", at: now, details: ["playbook": .string(pb.name), "incident": .string(incidentID)])
            _ = try store.updateIncident(incidentID, actor: actor, action: "incident.playbook-attached", at: now, details: ["run": .string(run.id)]) { $0.runs.append(run.id) }
            afterChange()
            pushAlerts()
            return HubWire.encode(try Self.hubRun(run))
        case .playbooksRun:
            let id = try Self.typedParams(PlaybooksRun.self, p).run
            guard let run = try store.run(id) else { throw HubAPIError.refused("no playbook run \(id)") }
            return HubWire.encode(try Self.hubRun(run))
        case .playbooksRuns:
            return HubWire.encode(PlaybooksRuns.Answer(runs: try store.runs().map(Self.hubRun)))
        case .playbooksStep:
            if let name = p["action"]?.stringValue, PlaybooksStep.Action(rawValue: name) == nil { throw HubAPIError.usage("action must be done, skip, run or note") }
            return HubWire.encode(try Self.hubRun(step(Self.typedParams(PlaybooksStep.self, p), actor: actor, now: now)))
        case .responseRun:
            // The console's and the CLI's containment keys: the same actions a playbook step runs,
            // with the operator's own reason (required: it is what the audit log shows).
            if let name = p["action"]?.stringValue, PlaybookAction(rawValue: name) == nil {
                throw HubAPIError.usage("no action \(name) (one of \(PlaybookAction.names.joined(separator: ", ")))")
            }
            let q = try Self.typedParams(ResponseRun.self, p)
            guard !q.reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw HubAPIError.usage("\(q.action.rawValue) needs a reason (--reason TEXT)") }
            let done = try perform(q.action, q.args, reason: q.reason, incident: q.action == .exportBundle ? q.args.first : nil, actor: actor, now: now)
            afterChange()
            pushAlerts()
            return HubWire.encode(ResponseRun.Answer(outcome: done.outcome, bundle: done.bundle))
        default:
            // `call` sends only the methods above here.
            throw HubAPIError(code: HubErrorCode.methodNotFound.rawValue, message: "unknown method \(method.rawValue)")
        }
    }

    static func shortID() -> String { String(format: "%06x", UInt32.random(in: 0...0xFFFFFF)) }

    func pushAlerts() { for p in peers.all { p.push(.alerts, [:]) } }

    func playbook(named name: String) throws -> Playbook {
        if let imported = try store.importedPlaybooks().first(where: { $0.name == name }) { return imported }
        if let b = BuiltInPlaybooks.all.first(where: { $0.name == name }) { return b }
        throw HubAPIError.refused("no playbook \(name) (warden playbooks list)")
    }

    func triage(_ id: String, actor: String, action: String, now: Double, details: JSONObject = JSONObject(),
                _ change: @escaping (inout Alert) -> String?) throws -> JSONValue {
        var problem: String?
        guard let alert = try store.updateAlert(id, actor: actor, action: action, at: now, details: details, { a in problem = change(&a) }) else {
            throw HubAPIError.refused("no alert \(id)")
        }
        if let problem { throw HubAPIError.refused(problem) }
        afterChange()
        pushAlerts()
        return HubWire.encode(HubAlertAnswer(alert: alert))
    }

    /// A run in the hub API's form. The run's own JSON (what the store keeps) computes each step's
    /// status; read through `HubRun`, what leaves the hub is what the type says.
    static func hubRun(_ run: PlaybookRun) throws -> HubRun {
        do { return try HubWire.decode(HubRun.self, from: run.json) } catch { throw HubAPIError.refused("run \(run.id) cannot be shown: \(error)") }
    }

    /// `done`, `skip` (reason required), `run` (the step's Warden actions), or `note`.
    func step(_ q: PlaybooksStep, actor: String, now: Double) throws -> PlaybookRun {
        let id = q.run
        guard var run = try store.run(id) else { throw HubAPIError.refused("no playbook run \(id)") }
        let action = (q.action ?? .done).rawValue
        let note = q.note
        if action == "note" {
            guard let note, !note.isEmpty else { throw HubAPIError.usage("a note needs text (--note TEXT)") }
            run.note(note, actor: actor, at: now)
            try store.saveRun(run, actor: actor, action: "playbook.noted", at: now, details: ["note": .string(note)])
            afterChange()
            return run
        }
        guard run.status == .running, let step = run.current else { throw HubAPIError.refused("run \(id) is \(run.status.rawValue); no step is waiting") }
        switch action {
        case "done":
            run.complete(outcome: "done", actor: actor, at: now, note: note)
        case "skip":
            guard let reason = q.reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HubAPIError.usage("skipping a step needs a reason (--reason TEXT)")
            }
            run.complete(outcome: "skipped", actor: actor, at: now, note: reason)
        case "run":
            guard step.isAutomated else { throw HubAPIError.refused("step \"\(step.name)\" is a manual step: nothing to run. Do it, then mark it done (playbooks step \(run.id) --done)") }
            var outcomes: [String] = []
            for command in step.commands where command.type == "x-warden" {
                let expanded = run.expand(command.command)
                guard let (a, args) = PlaybookAction.parse(expanded) else { throw HubAPIError.usage("cannot run \(expanded)") }
                let done = try perform(a, args, reason: "playbook \(run.playbook.name) (\(run.id))", incident: run.incident, actor: actor, now: now)
                if let bundle = done.bundle { run.variables["$$bundle$$"] = bundle }
                outcomes.append(done.outcome)
            }
            run.complete(outcome: "ran", actor: actor, at: now, note: [note].compactMap { $0 }.first.map { "\($0); " + outcomes.joined(separator: "; ") } ?? outcomes.joined(separator: "; "))
        default:
            throw HubAPIError.usage("action must be done, skip, run or note")
        }
        try store.saveRun(run, actor: actor, action: "playbook.step", at: now,
                          details: ["step": .string(step.name), "outcome": .string(action), "note": note.map { .string($0) } ?? .null])
        afterChange()
        pushAlerts()
        return run
    }

    /// Runs one Warden action; returns what it did (recorded in the run and the audit log) and, for
    /// `export-bundle`, where the bundle went.
    func perform(_ action: PlaybookAction, _ args: [String], reason: String, incident: String?, actor: String,
                 now: Double) throws -> (outcome: String, bundle: String?) {
        func arg(_ i: Int, _ what: String) throws -> String {
            guard i < args.count, !args[i].isEmpty else { throw HubAPIError.refused("\(action.rawValue) needs \(what) (none was named)") }
            return args[i]
        }
        switch action {
        case .revokeGrants:
            let scope = try arg(0, "session or server"), subject = try arg(1, "a \(args.first ?? "subject")")
            var n = 0
            for g in try store.grants(states: [.active, .approved], limit: 100_000)
            where (scope == "session" && g.request.sessionID == subject) || (scope == "server" && g.request.server == subject) {
                if case .success = try broker.revoke(g.id, actor: actor, reason: reason) { n += 1 }
            }
            return ("revoked \(n) grant(s) of \(scope) \(subject)", nil)
        case .terminateSession:
            let session = try arg(0, "a session")
            var sent = 0
            for peer in peers.all where peer.role == "wrap" && peer.state.withLock({ $0.sessions.contains(session) }) {
                peer.send(["jsonrpc": "2.0", "method": "session.terminate", "params": ["session": .string(session), "reason": .string(reason)]])
                sent += 1
            }
            _ = try store.audit(actor: actor, action: "session.terminated", subject: session, details: ["reason": .string(reason), "relays": .int(sent)], time: now)
            return (sent > 0 ? "terminated session \(session)" : "session \(session) has no live relay (already ended)", nil)
        case .quarantineTool:
            let name = try arg(0, "SERVER/TOOL")
            _ = try review(.quarantined, name: name, reason: reason, actor: actor)
            return ("quarantined \(name)", nil)
        case .blockServer, .unblockServer:
            let server = try arg(0, "a server")
            var controls = Controls.load(path: home.controlsPath)
            if action == .blockServer { controls.blocked[server] = reason } else { controls.blocked[server] = nil }
            try controls.save(path: home.controlsPath)
            _ = try store.audit(actor: actor, action: action == .blockServer ? "server.blocked" : "server.unblocked", subject: server, details: ["reason": .string(reason)], time: now)
            notifyRelays(server: server)
            return ("\(action == .blockServer ? "blocked" : "unblocked") \(server)", nil)
        case .tightenEgress, .restoreEgress:
            let server = try arg(0, "a server")
            var controls = Controls.load(path: home.controlsPath)
            if action == .tightenEgress { controls.egressLockdown.insert(server) } else { controls.egressLockdown.remove(server) }
            try controls.save(path: home.controlsPath)
            _ = try store.audit(actor: actor, action: action == .tightenEgress ? "egress.tightened" : "egress.restored", subject: server, details: ["reason": .string(reason)], time: now)
            notifyRelays(server: server)
            return (action == .tightenEgress ? "egress of \(server) cut to its allow list" : "egress of \(server) restored", nil)
        case .isolateServer, .releaseServer:
            let server = try arg(0, "a server")
            var controls = Controls.load(path: home.controlsPath)
            if action == .isolateServer { controls.isolated.insert(server) } else { controls.isolated.remove(server) }
            try controls.save(path: home.controlsPath)
            _ = try store.audit(actor: actor, action: action == .isolateServer ? "server.isolated" : "server.released", subject: server,
                                details: ["reason": .string(reason)], time: now)
            notifyRelays(server: server)
            return (action == .isolateServer ? "\(server)'s next sessions start with no network (sandbox required)" : "\(server) starts with its policy's network again", nil)
        case .exportBundle:
            guard let id = incident else { throw HubAPIError.refused("export-bundle needs an incident") }
            guard let incident = try store.incident(id) else { throw HubAPIError.refused("no incident \(id)") }
            let (path, files) = try ForensicBundle.write(incident: incident, store: store, signer: signer, home: home, at: now)
            _ = try store.audit(actor: actor, action: "evidence.exported", subject: incident.id, details: ["path": .string(path), "files": .int(files)], time: now)
            return ("evidence bundle \(path) (\(files) files, SHA256SUMS)", path)
        }
    }

    /// Tells relays to re-read pins, suppressions and controls (`tools.changed`).
    func notifyRelays(server: String) {
        let note: JSONValue = ["server": .string(server)]
        for peer in peers.all where peer.role == "wrap" {
            peer.push(.toolsChanged, note)
        }
        for peer in peers.all { peer.push(.tools, note) }
    }
}
