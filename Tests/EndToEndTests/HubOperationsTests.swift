import Foundation
import Testing

/// The hub's audit, export and fault handling, end to end through the real binary and a real
/// SQLite file.
@Suite("hub audit, export and faults", .serialized)
struct HubOperationsTests {
    static let policy = "version: 1\nrules:\n  - match: {tool: \"delete_*\"}\n    action: grant\n    grant: {timeout: 30s}\n"

    /// Produces some audited history: a grant approved, one denied, a tool quarantined by an operator.
    func history(_ home: String) async throws {
        try Self.policy.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        let client = pythonClientTask(command: [Harness.warden, "wrap", "--name", "store", "--", Harness.fixtureServer, "hostile"], steps: [
            ["op": "list"],
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true], "timeout": 30],
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": false], "timeout": 30],
        ], home: home)
        let first = try await waitForPending(home: home).grant["id"] as! String
        _ = try await warden(["grants", "approve", first, "--as", "alice"], home: home)
        let second = try await waitForPending(home: home).grant["id"] as! String
        _ = try await warden(["grants", "deny", second, "--reason", "no", "--as", "bob"], home: home)
        _ = try await client.value
        let q = try await warden(["tools", "quarantine", "store/echo", "--reason", "suspicious output"], home: home)
        #expect(q.status == 0, "\(q.stderr)")
    }

    func sqlite(_ home: String, _ sql: String) async throws {
        let r = try await runProcess(["/usr/bin/sqlite3", home + "/warden.db", sql])
        #expect(r.status == 0, "sqlite3: \(r.stderr)")
    }

    @Test("audit verify passes, then finds an edited, a deleted and a reordered row (edited with sqlite3)")
    func tamper() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        try await history(home)
        let ok = try await warden(["audit", "verify"], home: home)
        #expect(ok.status == 0)
        #expect(ok.stdoutText.contains("audit log intact"))

        try await sqlite(home, "UPDATE audit SET actor = 'mallory' WHERE seq = 3")
        let edited = try await warden(["audit", "verify"], home: home)
        #expect(edited.status == 1)
        #expect(edited.stdoutText.contains("BROKEN at record 3"))

        let second = Harness.temporaryHome()
        let hub2 = try await HubProcess(home: second)
        defer { Task { await hub2.stop() } }
        try await history(second)
        try await sqlite(second, "DELETE FROM audit WHERE seq = 2")
        let deleted = try await warden(["audit", "verify"], home: second)
        #expect(deleted.status == 1 && deleted.stdoutText.contains("record 2"), "\(deleted.stdoutText)")

        let third = Harness.temporaryHome()
        let hub3 = try await HubProcess(home: third)
        defer { Task { await hub3.stop() } }
        try await history(third)
        try await sqlite(third, "UPDATE audit SET seq = -seq WHERE seq IN (2, 3); UPDATE audit SET seq = 3 WHERE seq = -2; UPDATE audit SET seq = 2 WHERE seq = -3")
        let reordered = try await warden(["audit", "verify"], home: third)
        #expect(reordered.status == 1, "\(reordered.stdoutText)")
        // Truncating the tail is caught against the recorded head.
        let fourth = Harness.temporaryHome()
        let hub4 = try await HubProcess(home: fourth)
        defer { Task { await hub4.stop() } }
        try await history(fourth)
        try await sqlite(fourth, "DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)")
        let truncated = try await warden(["audit", "verify"], home: fourth)
        #expect(truncated.status == 1 && truncated.stdoutText.contains("removed from the end"), "\(truncated.stdoutText)")
    }

    @Test("an operator quarantine hides the tool from the next tools/list and refuses its calls")
    func operatorQuarantine() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        try await history(home)
        let report = try await pythonClient(command: [Harness.warden, "wrap", "--name", "store", "--", Harness.fixtureServer, "hostile"], steps: [
            ["op": "list"], ["op": "call", "name": "echo", "arguments": ["text": "x"]],
        ], home: home)
        let results = report["results"] as! [Any]
        let names = ((results[0] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(!names.contains("echo"))
        #expect(decisionMeta(results[1])["decision"] as? String == "quarantined")
        #expect(resultText(results[1]).contains("suspicious output"))
        // Approving it again brings it back.
        _ = try await warden(["tools", "approve", "store/echo"], home: home)
        let again = try await pythonClient(command: [Harness.warden, "wrap", "--name", "store", "--", Harness.fixtureServer, "hostile"], steps: [["op": "list"]], home: home)
        let shown = (((again["results"] as! [Any])[0] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(shown.contains("echo"))
        let audit = try await wardenJSON(["audit", "list"], home: home)["records"] as! [[String: Any]]
        #expect(audit.contains { $0["action"] as? String == "tool.quarantined" && $0["subject"] as? String == "store/echo" })
    }

    @Test("suppressing a tool's rules (with reasons) re-judges it: the next session shows it; each suppression is audited")
    func suppressRules() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        let wrap = [Harness.warden, "wrap", "--name", "store", "--", Harness.fixtureServer, "hostile"]
        let first = try await pythonClient(command: wrap, steps: [["op": "list"]], home: home)
        let names = (((first["results"] as! [Any])[0] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(!names.contains("poisoned_add"))
        let shown = try await wardenJSON(["tools", "show", "store/poisoned_add"], home: home)
        let rules = Set(((shown["tool"] as! [String: Any])["findings"] as! [[String: Any]]).map { $0["rule"] as! String }).sorted()
        #expect(rules.count >= 3)
        let noReason = try await warden(["tools", "suppress", "store/poisoned_add", "--rule", rules[0], "--reason", " "], home: home)
        #expect(noReason.status == 2 && noReason.stderr.contains("reason is required"))
        let unknown = try await warden(["tools", "suppress", "store/poisoned_add", "--rule", "no.such-rule", "--reason", "x"], home: home)
        #expect(unknown.status == 1)
        for rule in rules {
            let r = try await warden(["tools", "suppress", "store/poisoned_add", "--rule", rule, "--reason", "fixture text, reviewed", "--as", "alice"], home: home)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let after = try await wardenJSON(["tools", "show", "store/poisoned_add"], home: home)["tool"] as! [String: Any]
        #expect(after["verdict"] as? String == "clean")
        let again = try await pythonClient(command: wrap, steps: [["op": "list"]], home: home)
        let visible = (((again["results"] as! [Any])[0] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(visible.contains("poisoned_add"))
        let audit = try await wardenJSON(["audit", "list"], home: home)["records"] as! [[String: Any]]
        #expect(audit.filter { $0["action"] as? String == "tool.rule-suppressed" }.count == rules.count)
    }

    @Test("baselines: learnt from real calls, kept across a hub restart, listed; a reset (reason required) forgets them for good and is audited")
    func baselines() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let first = try await HubProcess(home: home)
        let wrap = [Harness.warden, "wrap", "--name", "notes", "--", Harness.fixtureServer, "echo"]
        _ = try await pythonClient(command: wrap, steps: (0..<22).map { ["op": "call", "name": "echo", "arguments": ["text": "n\($0)"], "timeout": 60] }, home: home)
        func listed() async throws -> [[String: Any]] { try await wardenJSON(["baselines", "list"], home: home)["baselines"] as? [[String: Any]] ?? [] }
        // The hub stores what it learnt: a restart keeps it.
        await first.stop()
        let second = try await HubProcess(home: home)
        let learnt = try await listed()
        let echo = try #require(learnt.first { $0["id"] as? String == "notes/echo" })
        #expect(echo["calls"] as? Int == 22 && echo["warm"] as? Bool == true && echo["keys"] as? [String] == ["text"])
        let text = try await warden(["baselines", "list"], home: home)
        #expect(text.stdoutText.contains("notes/echo") && text.stdoutText.contains("learnt"))
        let shown = try await warden(["tools", "show", "notes/echo"], home: home)
        #expect(shown.stdoutText.contains("behaviour baseline (learnt): 22 calls; keys text"), "\(shown.stdoutText)")

        let noReason = try await warden(["baselines", "reset", "notes"], home: home)
        #expect(noReason.status == 2)
        let unknown = try await warden(["baselines", "reset", "nothing/here", "--reason", "x"], home: home)
        #expect(unknown.status == 1 && unknown.stderr.contains("no baseline for nothing/here"))
        let reset = try await warden(["baselines", "reset", "notes", "--reason", "notes v2 changed its arguments", "--as", "alice"], home: home)
        #expect(reset.status == 0 && reset.stdoutText.contains("reset notes/echo"), "\(reset.stderr)")
        #expect(try await listed().allSatisfy { ($0["id"] as? String)?.hasPrefix("notes/") != true })
        let audit = try await wardenJSON(["audit", "list"], home: home)["records"] as! [[String: Any]]
        #expect(audit.contains { $0["action"] as? String == "baseline.reset" && ($0["actor"] as? String)?.hasSuffix("label \"alice\"") == true })
        await second.stop()
        let third = try await HubProcess(home: home)
        defer { Task { await third.stop() } }
        #expect(try await listed().allSatisfy { ($0["id"] as? String)?.hasPrefix("notes/") != true })
    }

    @Test("SIEM export: OCSF, CEF and RFC 5424 syslog, on demand and live to a file")
    func export() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        try "export:\n  - {format: ocsf, file: \(home)/live.ocsf.jsonl}\n".write(toFile: home + "/config.yaml", atomically: true, encoding: .utf8)
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        try await history(home)
        let ocsf = try await warden(["audit", "export", "--format", "ocsf"], home: home)
        let lines = ocsf.stdoutText.split(separator: "\n")
        let classes = Set(lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["class_uid"] as? Int })
        // 1008 (Event Log Activity) is the signed chain head every export ends with.
        #expect(classes == [6003, 2004, 3005, 1008], "\(classes)")
        #expect(lines.last?.contains("\"class_uid\":1008") == true && lines.last?.contains("warden-anchor.1.") == true)
        for line in lines {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            for key in ["category_uid", "class_uid", "activity_id", "type_uid", "time", "severity_id", "metadata"] { #expect(o[key] != nil) }
        }
        let cef = try await warden(["audit", "export", "--format", "cef"], home: home)
        #expect(cef.stdoutText.split(separator: "\n").allSatisfy { $0.hasPrefix("CEF:0|Warden|Warden|") })
        let syslog = try await warden(["audit", "export", "--format", "syslog", "--since", "1h"], home: home)
        let pattern = #/^<\d{1,3}>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ warden \d+ \S+ \[warden@32473 .*\] .*$/#
        #expect(syslog.stdoutText.split(separator: "\n").allSatisfy { (try? pattern.wholeMatch(in: String($0))) != nil })
        // Live export wrote as things happened.
        try await Task.sleep(for: .milliseconds(300))
        let live = (try? String(contentsOfFile: home + "/live.ocsf.jsonl", encoding: .utf8)) ?? ""
        #expect(live.contains("\"class_uid\":3005") && live.contains("\"class_uid\":6003"))
    }

    @Test("a corrupt database and a second hub are refused with clear errors")
    func startFailures() async throws {
        let home = Harness.temporaryHome()
        try Data(repeating: 0x5A, count: 16384).write(to: URL(fileURLWithPath: home + "/warden.db"))
        let corrupt = try await warden(["hub"], home: home, timeout: 10)
        #expect(corrupt.status == 2)
        #expect(corrupt.stderr.contains("is corrupt or not a SQLite database"))

        let other = Harness.temporaryHome()
        let hub = try await HubProcess(home: other)
        defer { Task { await hub.stop() } }
        let second = try await warden(["hub", "--home", other], home: other, timeout: 10)
        #expect(second.status == 1)
        #expect(second.stderr.contains("already running") && second.stderr.contains("pid \(hub.pid)"))
        // The socket is owner-only in an owner-only directory.
        let socketMode = try FileManager.default.attributesOfItem(atPath: other + "/hub.sock")[.posixPermissions] as? Int
        let dirMode = try FileManager.default.attributesOfItem(atPath: other)[.posixPermissions] as? Int
        #expect(socketMode == 0o600 && dirMode == 0o700)
    }

    @Test("a peer with another uid is refused, and the refusal is audited", .enabled(if: getuid() == 0, "needs root to act as another user"))
    func refusedUID() async throws {
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        // Open the door on purpose (as a misconfiguration would), then knock as `nobody`.
        chmod(home, 0o755)
        chmod(home + "/hub.sock", 0o666)
        let script = """
            import os, socket
            os.setgid(65534); os.setuid(65534)
            s = socket.socket(socket.AF_UNIX); s.connect('\(home)/hub.sock')
            s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"grants.list","params":{}}\\n')
            print(s.recv(4096).decode())
            """
        let r = try await runProcess(["/usr/bin/python3", "-c", script])
        #expect(r.stdoutText.contains("refused"), "\(r.stdoutText) \(r.stderr)")
        #expect(!r.stdoutText.contains("grants\""))
        let audit = try await wardenJSON(["audit", "list"], home: home)["records"] as! [[String: Any]]
        #expect(audit.contains { $0["action"] as? String == "connection.refused" && $0["subject"] as? String == "uid 65534" })
    }
}
