import ArgumentParser
import Foundation
import WardenCore
import WardenHubAPI

/// `warden alerts …`: triage from the command line (the console's Alerts view does the same).
struct Alerts: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Alerts raised from the event stream: list and triage them.",
                                                    subcommands: [List.self, Show.self, Ack.self, Assign.self, Resolve.self, FalsePositive.self, Note.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Alerts, most recent first.")
        @OptionGroup var options: HubOptions
        @Flag(help: "Only alerts still open (new, acknowledged, in progress).") var open = false

        func run() throws {
            try options.output(AlertsList(open: open)) { v in
                let rows = v.alerts.map { (a: Alert) -> [String] in
                    [CLI.s(a.id), a.severity.rawValue, a.status.rawValue, CLI.s(a.rule), String(a.layer.rawValue.prefix(2)), String(a.count),
                     CLI.clock(a.lastSeen), CLI.s(a.assignee), CLI.s(a.incident), CLI.s(a.title)]
                }
                CLI.table(["ID", "SEVERITY", "STATUS", "RULE", "LAYER", "N", "LAST SEEN", "ASSIGNEE", "INCIDENT", "TITLE"], rows)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One alert: its facts, notes and the events that raised it.")
        @OptionGroup var options: HubOptions
        @Argument(help: "Alert id.") var id: String

        func run() throws {
            try options.output(AlertsShow(id: id)) { v in
                let a = v.alert
                CLI.fields([("alert", CLI.s(a.id)), ("title", CLI.s(a.title)), ("rule", CLI.s(a.rule)), ("severity", a.severity.rawValue),
                            ("MAESTRO layer", a.layer.rawValue), ("status", a.status.rawValue), ("assignee", CLI.s(a.assignee)),
                            ("server", CLI.s(a.server)), ("tool", CLI.s(a.tool)), ("session", CLI.s(a.session)), ("count", String(a.count)),
                            ("first seen", CLI.clock(a.firstSeen)), ("last seen", CLI.clock(a.lastSeen)), ("incident", CLI.s(a.incident)),
                            ("details", CLI.s(.object(a.details)))])
                for n in a.notes { print("note (\(CLI.s(n.actor))): \(CLI.s(n.text))") }
                print("\nevents:")
                for e in v.events { print("  \(CLI.clock(e["time"]))  \(CLI.s(e["kind"]))  \(CLI.s(e["fields"]))") }
            }
        }
    }

    /// Options of a triage command.
    struct Triage: ParsableArguments {
        @OptionGroup var options: HubOptions
        @Argument(help: "Alert id.") var id: String
        @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?

        func send<C: HubCall>(_ call: C, done: String) throws where C.Answer == HubAlertAnswer {
            try options.output(call) { v in print("\(done) \(CLI.s(v.alert.id)): now \(v.alert.status.rawValue)") }
        }
    }

    struct Ack: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge a new alert.")
        @OptionGroup var triage: Triage
        func run() throws { try triage.send(AlertsAck(id: triage.id, actor: triage.actor), done: "acknowledged") }
    }

    struct Assign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign an alert to someone.")
        @OptionGroup var triage: Triage
        @Option(help: "Who handles it.") var to: String
        func run() throws { try triage.send(AlertsAssign(id: triage.id, assignee: to, actor: triage.actor), done: "assigned") }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an alert resolved.")
        @OptionGroup var triage: Triage
        @Option(help: "How it was resolved.") var reason: String?
        func run() throws { try triage.send(AlertsResolve(id: triage.id, reason: reason, actor: triage.actor), done: "resolved") }
    }

    struct FalsePositive: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "false-positive", abstract: "Close an alert as a false positive (reason required).")
        @OptionGroup var triage: Triage
        @Option(help: "Why it is not a problem.") var reason: String
        func run() throws { try triage.send(AlertsFalsePositive(id: triage.id, reason: reason, actor: triage.actor), done: "closed") }
    }

    struct Note: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note to an alert.")
        @OptionGroup var triage: Triage
        @Option(help: "The note.") var text: String
        func run() throws { try triage.send(AlertsNote(id: triage.id, text: text, actor: triage.actor), done: "noted") }
    }
}

/// `warden incidents …`: alerts escalated and handled together.
struct Incidents: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Incidents: alerts escalated together, with their playbook runs.",
                                                    subcommands: [List.self, Show.self, Open.self, Close.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Incidents, newest first, with their playbook runs.")
        @OptionGroup var options: HubOptions
        func run() throws {
            try options.output(IncidentsList()) { v in
                let rows = v.incidents.map { i in
                    let runs = i.runs.map { "\(CLI.s($0.id)) \(CLI.s($0.playbook)) (\($0.status.rawValue))" }.joined(separator: ", ")
                    return [CLI.s(i.id), i.severity.rawValue, i.status.rawValue, String(i.alerts.count), runs.isEmpty ? "-" : runs, CLI.s(i.title)]
                }
                CLI.table(["ID", "SEVERITY", "STATUS", "ALERTS", "RUNS", "TITLE"], rows)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "An incident, its alerts and its playbook runs.")
        @OptionGroup var options: HubOptions
        @Argument(help: "Incident id.") var id: String
        func run() throws {
            try options.output(IncidentsShow(id: id)) { v in
                let i = v.incident
                CLI.fields([("incident", CLI.s(i.id)), ("title", CLI.s(i.title)), ("severity", i.severity.rawValue), ("status", i.status.rawValue),
                            ("opened by", CLI.s(i.openedBy)), ("resolution", CLI.s(i.resolution))])
                print("\nalerts:")
                for a in v.alerts { print("  \(CLI.s(a.id))  \(a.severity.rawValue)  \(a.status.rawValue)  \(CLI.s(a.title))") }
                print("\nplaybook runs:")
                for r in v.runs { print("  \(CLI.s(r.id))  \(CLI.s(r.playbook))  \(r.status.rawValue)  current: \(CLI.s(r.currentStep))") }
            }
        }
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Escalate alerts to a new incident.")
        @OptionGroup var options: HubOptions
        @Option(name: .customLong("alert"), help: "An alert to include (repeat for several).") var alerts: [String]
        @Option(help: "A title (default: the first alert's).") var title: String?
        @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?
        func run() throws {
            try options.output(IncidentsOpen(alerts: alerts, title: title, actor: actor)) { v in print("opened \(CLI.s(v.incident.id)): \(CLI.s(v.incident.title))") }
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close an incident (its open alerts are resolved).")
        @OptionGroup var options: HubOptions
        @Argument(help: "Incident id.") var id: String
        @Option(help: "The resolution.") var resolution: String?
        @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?
        func run() throws {
            try options.output(IncidentsClose(id: id, resolution: resolution, actor: actor)) { v in print("closed \(CLI.s(v.incident.id))") }
        }
    }
}

/// `warden playbooks …`: incident-response playbooks (OASIS CACAO 2.0) and their runs.
struct Playbooks: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Incident-response playbooks (CACAO 2.0): list, import, export, start and walk them.",
                                                    subcommands: [List.self, Show.self, Import.self, Export.self, Start.self, Step.self, Run.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Built-in and imported playbooks.")
        @OptionGroup var options: HubOptions
        func run() throws {
            try options.output(PlaybooksList()) { v in
                CLI.table(["NAME", "STEPS", "SOURCE", "DESCRIPTION"], v.playbooks.map {
                    [CLI.s($0.name), String($0.steps), CLI.s($0.source), CLI.s($0.description)]
                })
            }
        }
    }

    /// A run printed for people: every step with its phase and state, the current one marked.
    static func printRun(_ r: HubRun) {
        print("run \(CLI.s(r.id)): playbook \(CLI.s(r.playbook)) for incident \(CLI.s(r.incident)) — \(r.status.rawValue)")
        for s in r.steps {
            let status = s.status
            let mark = status == .current ? "▶" : status.isFinished ? "✓" : status == .skipped ? "↷" : status == .failed ? "✗" : "·"
            print("  \(mark) \(CLI.s(s.name))  [\(CLI.s(s.phase))] \(s.kind.rawValue)  \(CLI.s(status.description))\(s.outcome.map { " — \(CLI.s($0))" } ?? "")")
            if status == .current {
                print("      \(CLI.s(s.description))")
                for c in s.commands { print("      \(c.type == "manual" ? "checklist" : "runs"): \(CLI.s(c.command))") }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A playbook's steps.")
        @OptionGroup var options: HubOptions
        @Argument(help: "Playbook name.") var name: String
        func run() throws {
            // The CACAO document as the hub wrote it (its members in order), not through the coder.
            options.output(try options.call(PlaybooksShow(name: name))) { v in
                let pb = v["playbook"]
                print("\(CLI.s(pb?["name"])): \(CLI.s(pb?["description"]))")
                for (id, s) in pb?["workflow"]?.objectValue?.members ?? JSONObject().members where s["type"]?.stringValue == "action" {
                    print("  \(CLI.s(s["name"]))  [\(CLI.s(s["x_warden_phase"]))]  (\(SafeText.escape(id)))")
                    for c in s["commands"]?.arrayValue ?? [] { print("      \(CLI.s(c["type"])): \(CLI.s(c["command"]))") }
                }
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import a CACAO 2.0 playbook (JSON).")
        @OptionGroup var options: HubOptions
        @Argument(help: "The playbook file.") var file: String
        func run() throws {
            guard let data = FileManager.default.contents(atPath: file) else { CLI.fail("cannot read \(file)", code: 2) }
            let document: JSONValue
            do { document = try JSONParser.parse(data) } catch { CLI.fail("\(file) is not valid JSON: \(error)", code: 2) }
            // The document as read, not through the coder (which would sort its members): `PlaybooksImport`'s one field.
            options.output(try options.call(.playbooksImport, ["document": document])) { v in print("imported \(CLI.s(v["name"])) (\(CLI.s(v["steps"])) steps)") }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a playbook as CACAO 2.0 JSON.")
        @OptionGroup var options: HubOptions
        @Argument(help: "Playbook name.") var name: String
        func run() throws { print(JSONWriter.safe(try options.call(PlaybooksExport(name: name))["playbook"] ?? .null)) }
    }

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a playbook for an incident.")
        @OptionGroup var options: HubOptions
        @Argument(help: "Playbook name (warden playbooks list).") var name: String
        @Option(help: "The incident it is for.") var incident: String
        @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?
        func run() throws {
            try options.output(PlaybooksStart(name: name, incident: incident, actor: actor)) { Playbooks.printRun($0) }
        }
    }

    struct Step: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Act on a run's current step: --done, --skip --reason, --run (its Warden actions), or --note alone.")
        @OptionGroup var options: HubOptions
        @Argument(help: "Run id.") var runID: String
        @Flag(help: "The operator did it.") var done = false
        @Flag(help: "Skip it (needs --reason).") var skip = false
        @Flag(name: .customLong("run"), help: "Run its automated Warden actions.") var execute = false
        @Option(help: "Why it is skipped.") var reason: String?
        @Option(help: "A note (alone: adds a note without moving on).") var note: String?
        @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?

        func validate() throws {
            let chosen = [done, skip, execute].filter { $0 }.count
            guard chosen <= 1 else { throw ValidationError("choose one of --done, --skip, --run") }
            guard chosen == 1 || note != nil else { throw ValidationError("say what to do: --done, --skip --reason TEXT, --run, or --note TEXT") }
            if skip && (reason ?? "").isEmpty { throw ValidationError("--skip needs --reason") }
        }

        func run() throws {
            let action: PlaybooksStep.Action = done ? .done : skip ? .skip : execute ? .run : .note
            try options.output(PlaybooksStep(run: runID, action: action, note: note, reason: reason, actor: actor)) { Playbooks.printRun($0) }
        }
    }

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A run's steps and where it stands.")
        @OptionGroup var options: HubOptions
        @Argument(help: "Run id.") var runID: String
        func run() throws { try options.output(PlaybooksRun(run: runID)) { Playbooks.printRun($0) } }
    }
}

/// `warden respond ACTION ARGS… --reason TEXT`: one containment action now, outside a playbook.
struct Respond: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one response action now: revoke-grants, terminate-session, quarantine-tool, block-server, …",
        discussion: """
        The actions a playbook step runs, for the operator to run directly (the console's K, G and B keys \
        do the same). Actions: \(PlaybookAction.names.joined(separator: ", ")).
        Examples: warden respond terminate-session S1 --reason "exfiltration"; \
        warden respond revoke-grants session S1 --reason …; warden respond block-server files --reason …
        """)
    @OptionGroup var options: HubOptions
    @Argument(help: "The action.") var action: String
    @Argument(help: "Its arguments (a session, a server, SERVER/TOOL, an incident).") var args: [String] = []
    @Option(help: "Why (required; recorded in the audit log).") var reason: String
    @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?
    func run() throws {
        guard let chosen = PlaybookAction(rawValue: action) else {
            CLI.fail("no action \(action) (one of \(PlaybookAction.names.joined(separator: ", ")))", code: 2)
        }
        try options.output(ResponseRun(action: chosen, args: args, reason: reason, actor: actor)) { v in print(CLI.s(v.outcome)) }
    }
}
