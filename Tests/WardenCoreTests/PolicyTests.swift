import Testing
@testable import WardenCore

@Suite("policy")
struct PolicyTests {
    static let sample = """
        version: 1
        defaults: {action: allow}          # allow | grant | deny
        rules:
          - match: {server: "git", tool: "git_commit"}
            action: grant
            grant: {timeout: 60s, max_ttl: 30m}
          - match: {tool: "*delete*"}
            action: deny
            reason: deleting is never allowed here
        """

    @Test("the documented contract parses; first match wins; globs apply")
    func contract() throws {
        let p = try PolicyLoader.parse(Self.sample, source: "p.yaml")
        let commit = p.decide(server: "git", tool: "git_commit", definition: nil)
        #expect(commit.action == .grant && commit.rule == "rules[0]" && commit.grant.timeout == 60 && commit.grant.maxTTL == 1800)
        #expect(p.decide(server: "fs", tool: "bulk_delete_files", definition: nil).action == .deny)
        #expect(p.decide(server: "fs", tool: "bulk_delete_files", definition: nil).reason == "deleting is never allowed here")
        #expect(p.decide(server: "other", tool: "git_commit", definition: nil).action == .allow)
        #expect(p.decide(server: "other", tool: "read", definition: nil).rule == "defaults")
    }

    @Test("built-in default: read-only passes, destructive needs a grant, the rest passes")
    func builtIn() {
        let p = Policy.builtIn
        let readOnly = ToolDefinition(raw: JSONObject(pairs: [("name", "delete_cache"), ("annotations", ["readOnlyHint": true])]))
        let destructive = ToolDefinition(raw: JSONObject(pairs: [("name", "update"), ("annotations", ["destructiveHint": true])]))
        #expect(p.decide(server: "s", tool: "delete_cache", definition: readOnly).action == .allow)
        #expect(p.decide(server: "s", tool: "update", definition: destructive).action == .grant)
        for name in ["delete_file", "removeBranch", "exec", "run_command", "send-email", "write_file", "pay", "transfer_funds", "executeQuery"] {
            #expect(p.decide(server: "s", tool: name, definition: nil).action == .grant, "\(name)")
        }
        for name in ["get_current_time", "list_directory", "runtime_info", "search", "read_file", "git_status"] {
            #expect(p.decide(server: "s", tool: name, definition: nil).action == .allow, "\(name)")
        }
    }

    @Test("errors name the file, line and key", arguments: [
        ("version: 1\nrules:\n  - match: {tool: x}\n    actoin: deny\n", "p.yaml:4: rules[0].actoin: is not a known key"),
        ("version: 1\ndefaults: {action: maybe}\n", "p.yaml:2: defaults.action: must be allow, grant or deny"),
        ("version: 1\nrules:\n  - match: {tool: x}\n    action: grant\n    grant: {timeout: soon}\n", "p.yaml:5: rules[0].grant.timeout: must be a duration"),
        ("rules: []\n", "version: is missing"),
        ("version: 2\n", "p.yaml:1: version: must be 1"),
        ("version: 1\nrules: [\n", "(syntax): is not valid YAML"),
        ("version: 1\nrules:\n  - match: {tool: x}\n", "rules[0].action: is missing"),
    ])
    func errors(_ text: String, _ expected: String) {
        do {
            _ = try PolicyLoader.parse(text, source: "p.yaml")
            Issue.record("accepted a bad policy")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test("globs", arguments: [("*delete*", "bulk_delete_x", true), ("git_*", "git_commit", true), ("git_?", "git_ab", false),
                               ("*", "", true), ("a*b*c", "axxbyyc", true), ("a*b*c", "axxbyy", false)])
    func globs(_ pattern: String, _ name: String, _ expected: Bool) {
        #expect(Glob(pattern).matches(name) == expected)
    }

    @Test("durations", arguments: [("60s", 60.0), ("30m", 1800.0), ("2h", 7200.0), ("500ms", 0.5), ("15", 15.0)])
    func durations(_ text: String, _ seconds: Double) {
        #expect(DurationText.seconds(text) == seconds)
    }
}

@Suite("policy: analysis and DLP settings")
struct PolicyAnalysisTests {
    @Test("thresholds, suppressions (global and per tool, reason required) and DLP actions parse")
    func settings() throws {
        let p = try PolicyLoader.parse("""
            version: 1
            analysis:
              thresholds: {suspicious: 30, malicious: 80}
              suppress:
                - {rule: resource.sensitive, reason: "our ssh tool reads keys by design"}
                - {rule: payload.shell, tool: "ops/run_*", reason: "documents shell usage"}
            dlp: {results: redact, arguments: deny}
            """, source: "p.yaml")
        #expect(p.analysis.suspiciousAt == 30 && p.analysis.maliciousAt == 80)
        #expect(p.analysis.suppresses(rule: "resource.sensitive", server: "any", tool: "x"))
        #expect(p.analysis.suppresses(rule: "payload.shell", server: "ops", tool: "run_script"))
        #expect(!p.analysis.suppresses(rule: "payload.shell", server: "web", tool: "run_script"))
        #expect(p.dlpResults == .redact && p.dlpArguments == .deny)
    }

    @Test("a suppression without a reason, or a bad DLP action, names the key", arguments: [
        ("version: 1\nanalysis:\n  suppress:\n    - {rule: payload.shell}\n", "analysis.suppress[0].reason: is missing"),
        ("version: 1\ndlp: {results: block}\n", "dlp.results: must be alert or redact or deny"),
        ("version: 1\ndlp: {arguments: redact}\n", "dlp.arguments: must be alert or deny"),
        ("version: 1\nanalysis:\n  thresholds: {suspicious: 90, malicious: 50}\n", "suspicious must not be above malicious"),
    ])
    func errors(_ text: String, _ expected: String) {
        do {
            _ = try PolicyLoader.parse(text, source: "p.yaml")
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }
}

@Suite("policy: egress and limits")
struct EgressPolicyTests {
    @Test("destinations and patterns are compared canonically: every spelling of a denied host is denied", arguments: [
        "evil.com", "EVIL.com.", "ｅｖｉｌ.com", "evil%2ecom", "evil。com", "x.Evil.Com", "eve@EVIL.com", "127.0.0.1", "0x7f.1", "2130706433",
        "0177.0.0.1", "::ffff:127.0.0.1", "::FFFF:7F00:1", "[::ffff:7f00:1]", "xn--bcher-kva.de", "BÜCHER.de", "b%C3%BCcher.de",
    ])
    func canonicalMatching(_ destination: String) {
        var egress = EgressPolicy()
        egress.servers = [.init(server: Glob("*"), allow: ["*.good.com*", "*@partner.org"].map(Glob.init), deny: ["EVIL.COM", "*.evil.com", "0x7F.1", "*.Bücher.de.", "bücher.de"].map(Glob.init))]
        #expect(egress.decide(server: "s", destination: destination, lockdown: false) == .deny, "\(destination)")
    }

    @Test("an allow of a host is not satisfied by an address whose local part names it, nor by a longer host")
    func allowIsAboutTheHost() {
        var egress = EgressPolicy()
        egress.servers = [.init(server: Glob("*"), allow: ["docs.example.*", "*@partner.org"].map(Glob.init), defaultAction: .grant)]
        #expect(egress.decide(server: "s", destination: "docs.example.org", lockdown: false) == .allow)
        #expect(egress.decide(server: "s", destination: "docs.example.com@evil.net", lockdown: false) == .grant)
        #expect(egress.decide(server: "s", destination: "bob@partner.org", lockdown: false) == .allow)
        #expect(egress.decide(server: "s", destination: "partner.org", lockdown: false) == .grant)
        // Assigned after creation, patterns are still canonical.
        egress.servers[0].deny = [Glob("[::FFFF:127.0.0.1]")]
        #expect(egress.servers[0].deny.map(\.pattern) == ["::ffff:7f00:1"])
        #expect(egress.decide(server: "s", destination: "::ffff:127.0.0.1", lockdown: false) == .deny)
    }

    @Test("egress lists decide per destination; lockdown denies what no list allows; limits parse; bad values name the key")
    func egress() throws {
        let yaml = """
            version: 1
            egress:
              default: allow
              servers:
                web: {allow: ["docs.example.org", "*.github.com"], deny: ["*.ngrok.io"], default: deny}
                mail: {allow: ["example.com"], default: grant}
            limits: {per_minute: 30, concurrent: 4, tools: {"delete_*": 2}}
            """
        let p = try PolicyLoader.parse(yaml, source: "t.yaml")
        #expect(p.egress.decide(server: "web", destination: "api.github.com", lockdown: false) == .allow)
        #expect(p.egress.decide(server: "web", destination: "x.ngrok.io", lockdown: false) == .deny)
        #expect(p.egress.decide(server: "web", destination: "evil.net", lockdown: false) == .deny)
        #expect(p.egress.decide(server: "mail", destination: "bob@example.com", lockdown: false) == .allow)
        #expect(p.egress.decide(server: "mail", destination: "eve@evil.net", lockdown: false) == .grant)
        #expect(p.egress.decide(server: "other", destination: "anything.org", lockdown: false) == .allow)
        #expect(p.egress.decide(server: "other", destination: "anything.org", lockdown: true) == .deny)
        #expect(p.limits.perMinute == 30 && p.limits.concurrent == 4 && p.limits.tools.first?.perMinute == 2)
        #expect(p.egress.decide(server: "mail", destination: "docs.example.com@evil.net", lockdown: false) == .grant)
        do {
            _ = try PolicyLoader.parse("version: 1\nlimits: {per_minute: -3}\n", source: "t.yaml")
            Issue.record("accepted a negative limit")
        } catch {
            #expect("\(error)".contains("limits.per_minute"))
        }
    }
}
