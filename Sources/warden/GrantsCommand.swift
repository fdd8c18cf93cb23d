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
            options.output(try options.call(GrantsList(state: state))) { v in
                let grants = (v["grants"]?.arrayValue ?? []).compactMap { try? HubWire.decode(HubGrant.self, from: $0) }
                let rows = grants.map { g -> [String] in
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
            options.output(try options.call(GrantsShow(id: id))) { v in
                let g = v["grant"]
                CLI.fields([("grant", CLI.s(g?["id"])), ("state", CLI.s(g?["state"])), ("tool", "\(CLI.s(g?["server"]))/\(CLI.s(g?["tool"]))"),
                            ("client", CLI.s(g?["client"])), ("session", CLI.s(g?["session"])), ("arguments", CLI.s(g?["arguments"])),
                            ("digest", CLI.s(g?["argumentDigest"])), ("rule", CLI.s(g?["rule"])), ("requested", CLI.time(g?["requestedAt"])),
                            ("deadline", CLI.time(g?["deadline"])), ("scope", CLI.s(g?["scope"])), ("expires", CLI.time(g?["expiresAt"])),
                            ("decided by", CLI.s(g?["decidedBy"])), ("reason", CLI.s(g?["decisionReason"])), ("uses", CLI.s(g?["uses"]))])
                print("\nhistory:")
                for t in v["transitions"]?.arrayValue ?? [] {
                    print("  \(CLI.time(t["time"]))  \(CLI.s(t["from"])) → \(CLI.s(t["to"]))  by \(CLI.s(t["actor"]))\(t["reason"] == .null ? "" : ": \(CLI.s(t["reason"]))")")
                }
                let calls = v["calls"]?.arrayValue ?? []
                let total = v["callsTotal"]?.intValue ?? calls.count
                print("\ncalls it let through (\(total)\(total > calls.count ? ", the first \(calls.count) shown" : "")):")
                CLI.table(["WHEN", "SESSION", "ARGUMENTS"], calls.map { c in
                    [CLI.time(c["time"]), CLI.s(c["session"]), CLI.s(c["fields"]?["arguments"])]
                }, maxWidth: 200)
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
            options.output(try options.call(GrantsApprove(id: id, scope: scope, ttl: ttl, reason: reason, actor: actor))) { v in
                print("approved \(CLI.s(v["grant"]?["id"])): \(CLI.s(v["grant"]?["server"]))/\(CLI.s(v["grant"]?["tool"])), scope \(CLI.s(v["grant"]?["scope"])), ends \(CLI.time(v["grant"]?["expiresAt"]))")
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
            options.output(try options.call(GrantsDeny(id: id, reason: reason, actor: actor))) { v in print("denied \(CLI.s(v["grant"]?["id"]))") }
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
            options.output(try options.call(GrantsRevoke(id: id, reason: reason, actor: actor))) { v in print("revoked \(CLI.s(v["grant"]?["id"]))") }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Exposure window of JIT grants against standing access.")
        @OptionGroup var options: HubOptions

        func run() throws {
            options.output(try options.call(GrantsStats())) { v in
                CLI.fields([("grants", CLI.s(v["grants"])), ("by state", CLI.s(v["byState"])),
                            ("exposure (grants active)", "\(CLI.s(v["exposureSeconds"])) s"),
                            ("standing access would be", "\(CLI.s(v["standingSeconds"])) s (first to last call of each granted tool)"),
                            ("calls under grants", CLI.s(v["grantedCalls"])),
                            ("exposure reduction", v["reductionPercent"] == .null ? "n/a (no calls yet)" : "\(CLI.s(v["reductionPercent"]))%")])
            }
        }
    }
}
