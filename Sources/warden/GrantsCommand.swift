import ArgumentParser
import Foundation
import WardenCore
import WardenHubAPI

/// `warden grants …`: just-in-time access requests and grants.
struct Grants: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, approve, deny and revoke just-in-time grants.",
        subcommands: [List.self, Show.self, Approve.self, Deny.self, Revoke.self, Stats.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List grants, pending first.")
        @OptionGroup var options: HubOptions
        @Option(help: "Only these states (comma-separated): pending, active, approved, denied, expired, cancelled, revoked.")
        var state: String?

        func run() throws {
            try options.output(GrantsList(state: state)) { v in
                let rows = v.grants.map { g -> [String] in
                    let when = switch g.state {
                    case .pending: "expires \(CLI.time(g.deadline))"
                    case .active, .approved: "ends \(CLI.time(g.expiresAt))"
                    default: CLI.time(g.endedAt)
                    }
                    return [SafeText.escape(g.id), g.state.rawValue.uppercased(), SafeText.escape("\(g.server)/\(g.tool)"), SafeText.escape(g.arguments),
                            g.scope?.rawValue ?? "-", String(g.uses), when, g.decidedBy.map { SafeText.escape($0) } ?? "-"]
                }
                CLI.table(["ID", "STATE", "TOOL", "ARGUMENTS", "SCOPE", "USES", "WHEN", "BY"], rows)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a grant and its history.")
        @OptionGroup var options: HubOptions
        @Argument var id: String

        func run() throws {
            try options.output(GrantsShow(id: id)) { v in
                let g = v.grant
                CLI.fields([("grant", CLI.s(g.id)), ("state", g.state.rawValue), ("tool", "\(CLI.s(g.server))/\(CLI.s(g.tool))"),
                            ("client", CLI.s(g.client)), ("session", CLI.s(g.session)), ("arguments", CLI.s(g.arguments)),
                            ("digest", CLI.s(g.argumentDigest)), ("rule", CLI.s(g.rule)), ("requested", CLI.time(g.requestedAt)),
                            ("deadline", CLI.time(g.deadline)), ("scope", g.scope?.rawValue ?? "-"), ("expires", CLI.time(g.expiresAt)),
                            ("decided by", CLI.s(g.decidedBy)), ("reason", CLI.s(g.decisionReason)), ("uses", String(g.uses))])
                print("\nhistory:")
                for t in v.transitions {
                    print("  \(CLI.time(t.time))  \(t.from?.rawValue ?? "-") → \(t.to.rawValue)  by \(CLI.s(t.actor))\(t.reason.map { ": \(CLI.s($0))" } ?? "")")
                }
                let calls = v.calls
                let total = v.callsTotal
                print("\ncalls it let through (\(total)\(total > calls.count ? ", the first \(calls.count) shown" : "")):")
                CLI.table(["WHEN", "SESSION", "ARGUMENTS"], calls.map { c in
                    [CLI.time(c["time"]), CLI.s(c["session"]), CLI.s(c["fields"]?["arguments"])]
                })
            }
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a pending request; the held call goes through.")
        @OptionGroup var options: HubOptions
        @Argument var id: String
        @Option(help: "call (this call's arguments only), session (this tool in this session) or server (this tool, any session).")
        var scope: String = "call"
        @Option(help: "How long the grant lasts, e.g. 15m (capped by the policy rule's max_ttl).")
        var ttl: String = "15m"
        @Option(help: "Why (recorded in the audit log).")
        var reason: String?
        @Option(name: .customLong("as"), help: "Your name in the audit log (default: your user name).")
        var actor: String?

        func run() throws {
            guard let scope = GrantScope(rawValue: scope) else { CLI.fail("--scope must be call, session or server", code: 2) }
            try options.output(GrantsApprove(id: id, scope: scope, ttl: ttl, reason: reason, actor: actor)) { v in
                print("approved \(CLI.s(v.grant.id)): \(CLI.s(v.grant.server))/\(CLI.s(v.grant.tool)), scope \(v.grant.scope?.rawValue ?? "-"), ends \(CLI.time(v.grant.expiresAt))")
            }
        }
    }

    struct Deny: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deny a pending request; the client is told why.")
        @OptionGroup var options: HubOptions
        @Argument var id: String
        @Option(help: "Why (required; the client and the audit log see it).")
        var reason: String
        @Option(name: .customLong("as"), help: "Your name in the audit log (default: your user name).")
        var actor: String?

        func run() throws {
            try options.output(GrantsDeny(id: id, reason: reason, actor: actor)) { v in print("denied \(CLI.s(v.grant.id))") }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End an active grant now.")
        @OptionGroup var options: HubOptions
        @Argument var id: String
        @Option(help: "Why (recorded in the audit log).")
        var reason: String?
        @Option(name: .customLong("as"), help: "Your name in the audit log (default: your user name).")
        var actor: String?

        func run() throws {
            try options.output(GrantsRevoke(id: id, reason: reason, actor: actor)) { v in print("revoked \(CLI.s(v.grant.id))") }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Exposure window of JIT grants against standing access.")
        @OptionGroup var options: HubOptions

        func run() throws {
            try options.output(GrantsStats()) { v in
                let states = v.byState.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                CLI.fields([("grants", String(v.grants)), ("by state", states.isEmpty ? "-" : states),
                            ("exposure (grants active)", String(format: "%.1f s", v.exposureSeconds)),
                            ("standing access would be", String(format: "%.1f s (first to last call of each granted tool)", v.standingSeconds)),
                            ("calls under grants", String(v.grantedCalls)),
                            ("exposure reduction", v.reductionPercent.map { String(format: "%.1f%%", $0) } ?? "n/a (no calls yet)")])
            }
        }
    }
}
