import ArgumentParser
import Foundation
import WardenCore
import WardenHubAPI
import WardenDetect
import WardenHubClient
import WardenStore

/// `warden sessions …`
struct Sessions: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "MCP sessions seen through warden wrap.", subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sessions, live first.")
        @OptionGroup var options: HubOptions
        @Flag(help: "Only live sessions.") var live = false

        func run() throws {
            try options.output(SessionsList(live: live)) { v in
                let rows = v.sessions.map { s in
                    [CLI.s(s.id), s.live ? "live" : "ended", CLI.s(s.client), CLI.s(s.server), CLI.s(s.protocolVersion),
                     String(s.serverPid), CLI.s(s.isolation?.label), CLI.time(s.startedAt), CLI.time(s.lastActivity),
                     String(s.calls), String(s.denials), String(s.risk)]
                }
                CLI.table(["ID", "STATE", "CLIENT", "SERVER", "PROTOCOL", "PID", "ISOLATION", "STARTED", "ACTIVE", "CALLS", "DENIED", "RISK"], rows)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A session and its event timeline.")
        @OptionGroup var options: HubOptions
        @Argument var id: String

        func run() throws {
            try options.output(SessionsShow(id: id)) { v in
                let s = v.session
                CLI.fields([("session", CLI.s(s.id)), ("client", "\(CLI.s(s.client)) \(CLI.s(s.clientVersion))"),
                            ("server", "\(CLI.s(s.server)) (\(CLI.s(s.serverName)) \(CLI.s(s.serverVersion)))"),
                            ("protocol", CLI.s(s.protocolVersion)), ("pids", "warden \(s.wardenPid), server \(s.serverPid)"),
                            ("isolation", s.isolation.map { CLI.s($0.summary) } ?? "not reported (relay older than the sandbox)"),
                            ("started", CLI.time(s.startedAt)), ("ended", s.endedAt == nil ? "live" : "\(CLI.time(s.endedAt)) (\(CLI.s(s.endStatus)))"),
                            ("calls", String(s.calls)), ("denials", String(s.denials))])
                print("\ntimeline (newest first):")
                for e in v.events { print("  " + Events.line(e)) }
            }
        }
    }
}

/// `warden baselines …`
struct Baselines: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Behaviour baselines the hub learnt per tool; reset one when its normal use really changed.",
                                                    subcommands: [List.self, Reset.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List baselines: calls seen, argument keys, destinations, working directories.")
        @OptionGroup var options: HubOptions

        func run() throws {
            try options.output(BaselinesList()) { v in
                let rows = v.baselines.map { b in
                    [CLI.s(b.id), b.warm ? "learnt" : "warming up", String(b.calls), CLI.list(b.keys), String(b.maxArgBytes),
                     String(b.maxResultBytes), DurationText.format(micros: b.p95Micros), CLI.list(b.destinations), CLI.list(b.pathRoots)]
                }
                CLI.table(["TOOL", "STATE", "CALLS", "KEYS", "MAX ARGS", "MAX RESULT", "P95", "DESTINATIONS", "DIRECTORIES"], rows)
            }
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a tool's baseline (or every tool's of a server): it is learnt again from the next calls.")
        @OptionGroup var options: HubOptions
        @Argument(help: "SERVER/TOOL, or SERVER for all its tools.") var name: String
        @Option(help: "Why (required; recorded in the audit log).") var reason: String
        @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?

        func run() throws {
            try options.output(BaselinesReset(name: name, reason: reason, actor: actor)) { v in
                for id in v.reset { print("reset \(CLI.s(id)): learnt again from its next calls") }
            }
        }
    }
}

/// `warden tools …`
struct Tools: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Tool definitions, their analysis and review.",
                                                    subcommands: [List.self, Show.self, Approve.self, Quarantine.self, Suppress.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tools, flagged first.")
        @OptionGroup var options: HubOptions
        @Flag(help: "Only flagged, quarantined or changed tools.") var flagged = false

        func run() throws {
            try options.output(ToolsList(flagged: flagged)) { v in
                let rows = v.tools.map { t in
                    // Rule ids arrive in relay events: escaped like any other untrusted text.
                    ["\(CLI.s(t.server))/\(CLI.s(t.name))", t.verdict.rawValue, String(t.score), t.review.rawValue,
                     String(CLI.s(t.pin).prefix(12)), CLI.list(Set(t.findings.map(\.rule)).sorted())]
                }
                CLI.table(["TOOL", "VERDICT", "SCORE", "REVIEW", "PIN", "RULES"], rows)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A tool's definition and findings (evidence escaped).")
        @OptionGroup var options: HubOptions
        @Argument(help: "SERVER/TOOL") var name: String

        func run() throws {
            try options.output(ToolsShow(name: name)) { v in
                let t = v.tool
                CLI.fields([("tool", "\(CLI.s(t.server))/\(CLI.s(t.name))"), ("verdict", "\(t.verdict.rawValue) (score \(t.score))"),
                            ("review", t.review.rawValue), ("pin", CLI.s(t.pin)), ("trusted pin", CLI.s(t.trustedPin)),
                            ("quarantine", CLI.s(t.quarantineReason))])
                print("\ndescription:\n  " + SafeText.escape(t.definition?["description"]?.stringValue ?? "", multiline: true)
                    .replacingOccurrences(of: "\n", with: "\n  "))
                if let changes = t.diff, !changes.isEmpty {
                    // What changed since the definition was trusted (the hub's word diff): [-removed-] {+added+}.
                    let diff = changes.map { change in
                        let shown = SafeText.escape(change.text, multiline: true)
                        return switch change.op {
                        case .delete: "[-\(shown)-]"
                        case .insert: "{+\(shown)+}"
                        case .equal: shown
                        }
                    }.joined()
                    print("\nchanged since pinned:\n  " + diff.replacingOccurrences(of: "\n", with: "\n  "))
                }
                if let b = t.baseline {
                    print("\nbehaviour baseline (\(b.warm ? "learnt" : "warming up")): \(b.calls) calls; keys \(CLI.list(b.keys, separator: ", ")); "
                        + "destinations \(CLI.list(b.destinations, separator: ", ")); directories \(CLI.list(b.pathRoots, separator: ", "))")
                }
                print("\nfindings:")
                for f in t.findings {
                    print("  [\(f.severity.rawValue)] \(CLI.s(f.rule)) at \(CLI.s(f.field))[\(f.start)..<\(f.end)]: \(CLI.s(f.message))")
                    print("      evidence: \(CLI.s(f.evidence))")
                }
            }
        }
    }

    /// The options an operator's tool review takes.
    struct Review: ParsableArguments {
        @OptionGroup var options: HubOptions
        @Argument(help: "SERVER/TOOL") var name: String
        @Option(help: "Why (recorded in the audit log; shown to clients for a quarantine).") var reason: String?
        @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?

        func send(_ call: some HubCall, done: String) throws {
            try options.output(call) { _ in print("\(done) \(SafeText.escape(name))") }
        }
    }

    struct Suppress: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Switch one analysis rule off for one tool (recorded with your reason; relays re-judge the tool).")
        @OptionGroup var options: HubOptions
        @Argument(help: "SERVER/TOOL") var name: String
        @Option(help: "The rule id, as `warden tools show` lists it.") var rule: String
        @Option(help: "Why (required; recorded in the audit log).") var reason: String
        @Option(name: .customLong("as"), help: "A label for you in the audit log (the identity it records is what the kernel says: uid, pid, executable, terminal).") var actor: String?

        func run() throws {
            try options.output(ToolsSuppress(name: name, rule: rule, reason: reason, actor: actor)) { v in
                print("suppressed \(SafeText.escape(rule)) for \(SafeText.escape(name)): now \(v.tool.verdict.rawValue) (score \(v.tool.score))")
            }
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trust the tool's current definition (pin it); it is shown to clients again.")
        @OptionGroup var review: Review
        func run() throws { try review.send(ToolsApprove(name: review.name, reason: review.reason, actor: review.actor), done: "approved (current definition pinned):") }
    }

    struct Quarantine: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hide the tool from clients and refuse its calls.")
        @OptionGroup var review: Review
        func run() throws { try review.send(ToolsQuarantine(name: review.name, reason: review.reason, actor: review.actor), done: "quarantined") }
    }
}

/// `warden events tail`
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The event stream.", subcommands: [Tail.self])

    static func line(_ e: JSONValue) -> String {
        let f = e["fields"]?.objectValue ?? JSONObject()
        let summary = f.members.filter { !["definition", "trustedDefinition", "findings"].contains($0.0) }
            .map { "\($0.0)=\(CLI.s($0.1))" }.joined(separator: " ")
        return "\(CLI.time(e["time"]))  \(CLI.s(e["server"]))  \(CLI.s(e["kind"]))  \(summary)"
    }

    struct Tail: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent events; with --follow, new ones as they arrive.")
        @OptionGroup var options: HubOptions
        @Flag(help: "Keep printing new events.") var follow = false
        @Option(help: "How many recent events.") var limit = 20
        @Option(help: "Only this session.") var session: String?

        func run() throws {
            let recent = (try options.call(EventsTail(session: session, limit: limit))["events"]?.arrayValue ?? []).reversed()
            for e in recent { FileHandle.standardOutput.write(Data(((options.json ? JSONWriter.safe(e) : Events.line(e)) + "\n").utf8)) }
            guard follow else { return }
            let json = options.json
            let connection = try HubLauncher.connect(home: options.wardenHome) { method, params in
                guard method == "hub.events" else { return }
                for e in params["events"]?.arrayValue ?? [] where session == nil || e["session"]?.stringValue == session {
                    FileHandle.standardOutput.write(Data(((json ? JSONWriter.safe(e) : Events.line(e)) + "\n").utf8))
                }
            }
            _ = try connection.callBlocking(.subscribe, Subscribe(topics: ["events"]).params, timeout: 10)
            while connection.isOpen { usleep(200_000) }
        }
    }
}

/// `warden audit verify|list|export`
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The tamper-evident audit log.", subcommands: [Verify.self, Export.self, List.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain and its signed head; exit 1 naming the first broken record.",
            discussion: """
                Without --anchor: every record's hash and link, and that $WARDEN_HOME/audit.head is signed by the \
                hub's audit key and names the last record. With --anchor: also that the chain still passes through \
                each anchor given (an exported SIEM file or line, a saved audit.head, or the token itself), so records \
                removed or rewritten since the anchor was exported are found even if the head was signed again.
                """)
        @OptionGroup var options: HubOptions
        @Option(name: .customLong("anchor"), help: "A file or value holding audit anchors (warden-anchor.1.…): an export, a saved audit.head. Repeatable.")
        var anchors: [String] = []

        func run() throws {
            var tokens: [String] = []
            for source in anchors {
                // A path when one exists, else the value itself (a pasted anchor or export line).
                let text = FileManager.default.fileExists(atPath: source)
                    ? (try? String(contentsOfFile: source, encoding: .utf8)) ?? "" : source
                let found = AuditAnchor.all(in: text)
                if found.isEmpty { CLI.fail("no audit anchor (warden-anchor.1.…) in \(source)", code: 2) }
                tokens += found.map(\.token)
            }
            // Read here, not only for the text: the exit status says whether the chain holds, with --json too.
            let value = try options.call(AuditVerify(anchors: tokens.isEmpty ? nil : tokens))
            guard let v = try? HubWire.decode(HubChainStatus.self, from: value) else { CLI.fail("the hub's answer to audit.verify does not read", code: 1) }
            options.output(value) { _ in
                if v.intact {
                    var line = "audit log intact: \(v.records ?? 0) records, head \(CLI.s(v.head)), signed by key \(CLI.s(v.keyId))"
                    if let n = v.anchors, n > 0 { line += "; \(n) anchor\(n == 1 ? "" : "s") matched (latest: record \(v.latestAnchor.map(String.init) ?? "-"))" }
                    print(line)
                } else {
                    print("audit log BROKEN at record \(v.sequence.map(String.init) ?? "-"): \(CLI.s(v.problem))")
                }
            }
            if !v.intact { throw ExitCode(1) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Audit records, newest first.")
        @OptionGroup var options: HubOptions
        @Option(help: "How many.") var limit = 50

        func run() throws {
            try options.output(AuditList(limit: limit)) { v in
                let rows = v.records.map { r in
                    [CLI.s(r["sequence"]), CLI.time(r["time"]), CLI.s(r["actor"]), CLI.s(r["action"]), CLI.s(r["subject"]), String(CLI.s(r["hash"]).prefix(12))]
                }
                CLI.table(["SEQ", "WHEN", "ACTOR", "ACTION", "SUBJECT", "HASH"], rows)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export events and audit records for a SIEM.")
        @OptionGroup var options: HubOptions
        @Option(help: "ocsf (OCSF 1.3 JSON lines), cef or syslog (RFC 5424).") var format = "ocsf"
        @Option(help: "Only records since this long ago (e.g. 24h) or this Unix time.") var since: String?

        func run() throws {
            var from: Double?
            if let since {
                if let seconds = DurationText.seconds(since), since.last?.isLetter == true {
                    from = Date().timeIntervalSince1970 - seconds
                } else if let t = Double(since) {
                    from = t
                } else {
                    CLI.fail("--since takes a duration such as 24h or a Unix time", code: 2)
                }
            }
            for line in try options.call(AuditExport(format: format, since: from))["lines"]?.arrayValue ?? [] { print(line.stringValue ?? "") }
        }
    }
}
