import Foundation
import Testing

/// The tool-poisoning playbook walked from the CLI against a live session: the quarantine step
/// hides the tool from the next `tools/list` the client receives, the evidence step writes a bundle
/// whose hashes verify, and the run survives a hub restart.
@Suite("playbooks end to end", .serialized)
struct PlaybookTests {
    @Test("tool-poisoning playbook: confirm, quarantine (client's next list loses the tool), revoke, evidence bundle (sha256sum -c), resume after restart")
    func toolPoisoning() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        let client = pythonClientTask(command: [Harness.warden, "wrap", "--name", "notes", "--", Harness.fixtureServer, "hostile"], steps: [
            ["op": "list"], ["op": "wait_file", "path": home + "/quarantined", "seconds": 60], ["op": "list"],
        ], home: home)

        // The suspicious tool is shown to clients but alerted.
        var alertID: String?
        let deadline = Date().addingTimeInterval(30)
        while alertID == nil, Date() < deadline {
            let alerts = (try await wardenJSON(["alerts", "list"], home: home)["alerts"] as? [[String: Any]]) ?? []
            alertID = alerts.first { $0["rule"] as? String == "tool.poisoned" && $0["tool"] as? String == "sync_notes" }?["id"] as? String
            if alertID == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let alert = try #require(alertID)
        #expect(try await warden(["alerts", "ack", alert, "--as", "alice"], home: home).status == 0)
        let incident = try #require(((try await wardenJSON(["incidents", "open", "--alert", alert], home: home))["incident"] as? [String: Any])?["id"] as? String)
        let run = try #require(try await wardenJSON(["playbooks", "start", "tool-poisoning", "--incident", incident], home: home)["id"] as? String)

        func step(_ args: [String]) async throws -> [String: Any] { try await wardenJSON(["playbooks", "step", run] + args + ["--as", "alice"], home: home) }
        func current(_ r: [String: Any]) -> String? { r["currentStep"] as? String }

        let notRunnable = try await warden(["playbooks", "step", run, "--run"], home: home)
        #expect(notRunnable.status == 1 && notRunnable.stderr.contains("is a manual step: nothing to run"), "a manual step is not run by Warden")
        var r = try await step(["--done", "--note", "tells the model to hide its actions"])
        #expect(current(r) == "Quarantine the tool")
        r = try await step(["--run"])
        #expect(current(r) == "Revoke the server's grants")
        // The client lists again once the quarantine is in (not after a guess at how long it takes).
        _ = FileManager.default.createFile(atPath: home + "/quarantined", contents: Data())
        r = try await step(["--run"])
        r = try await step(["--run"])
        #expect(current(r) == "Remove or replace the server")
        let bundle = try #require(((r["variables"] as? [String: Any])?["$$bundle$$"]) as? String)
        let check = try await runProcess(["/bin/sh", "-c", "cd \"$1\" && sha256sum -c SHA256SUMS", "sh", bundle], environment: ["PATH": "/usr/bin:/bin"], timeout: 20)
        #expect(check.status == 0, "sha256sum -c: \(check.stdoutText) \(check.stderr)")
        #expect(check.stdoutText.contains("audit.jsonl: OK") && check.stdoutText.contains("events.jsonl: OK"))
        let verification = try String(contentsOfFile: bundle + "/audit-verification.json", encoding: .utf8)
        #expect(verification.contains(#""intact":true"#))

        // The client's next list (after the quarantine step) no longer has the tool.
        let results = try await client.value["results"] as! [Any]
        let before = ((results[0] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["name"] as! String }
        let after = ((results[2] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(before.contains("sync_notes"))
        #expect(!after.contains("sync_notes"))

        // The run persists: a new hub resumes it where it was.
        await hub.stop()
        let restarted = try await HubProcess(home: home)
        defer { Task { await restarted.stop() } }
        let resumed = try await wardenJSON(["playbooks", "run", run], home: home)
        #expect(current(resumed) == "Remove or replace the server")
        let noReason = try await warden(["playbooks", "step", run, "--skip"], home: home)
        #expect(noReason.status == 2)
        r = try await step(["--skip", "--reason", "the server is ours; pinned a reviewed version instead"])
        r = try await step(["--done"])
        r = try await step(["--done"])
        #expect(r["status"] as? String == "completed")
        let audit = (try await wardenJSON(["audit", "list", "--limit", "200"], home: home)["records"] as? [[String: Any]]) ?? []
        #expect(audit.filter { $0["action"] as? String == "playbook.step" }.count == 7)
        #expect(audit.contains { $0["action"] as? String == "evidence.exported" })

        // CACAO round trip: export, import under the same name, same steps.
        let exported = try await warden(["playbooks", "export", "data-exfiltration"], home: home)
        try exported.stdout.write(to: URL(fileURLWithPath: home + "/pb.json"))
        let imported = try await warden(["playbooks", "import", home + "/pb.json"], home: home)
        #expect(imported.status == 0 && imported.stdoutText.contains("imported data-exfiltration"))
        try #"{"type":"playbook","spec_version":"cacao-2.0","id":"playbook--x","name":"x","workflow_start":"start--1","workflow":{"start--1":{"type":"start","on_completion":"nowhere"}}}"#
            .write(toFile: home + "/bad.json", atomically: true, encoding: .utf8)
        let bad = try await warden(["playbooks", "import", home + "/bad.json"], home: home)
        #expect(bad.status == 2 && bad.stderr.contains("workflow.start--1.on_completion: names no step"))
    }
}

@Suite("playbook containment actions end to end", .serialized)
struct ContainmentTests {
    /// `warden wrap` in front of the hostile fixture, initialised and with its tools listed (the
    /// relay judges calls from the list it saw); its output so far is in `seen`.
    static func listedRelay(home: String, seen: inout String) async throws -> Child {
        let wrap = try Child.spawn([Harness.warden, "wrap", "--name", "store", "--", Harness.fixtureServer, "hostile"],
                                   environment: ProcessInfo.processInfo.environment.merging(["WARDEN_HOME": home]) { $1 })
        send(wrap, #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        send(wrap, #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#)
        await read(wrap, into: &seen, until: #""id":2"#)
        return wrap
    }

    static func send(_ child: Child, _ line: String) { _ = (line + "\n").withCString { write(child.stdin, $0, strlen($0)) } }

    /// Reads the relay's output into `seen` until it holds `text` (or 15 s pass).
    /// Polls without waiting and sleeps between tries: a blocking `poll` would hold one of the
    /// suite's two cooperative threads for as long as the relay takes.
    static func read(_ child: Child, into seen: inout String, until text: String) async {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(15)
        while !seen.contains(text), Date() < deadline {
            var fds = pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0)
            if poll(&fds, 1, 0) > 0 {
                let n = Glibc.read(child.stdout, &buffer, buffer.count)
                if n > 0 { seen += String(decoding: buffer[0..<n], as: UTF8.self) }
                if n <= 0 { try? await Task.sleep(for: .milliseconds(20)) }
            } else {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// The child's exit status, or nil if it is still running after `seconds`.
    static func exitStatus(_ child: Child, within seconds: Double) async -> Int32? {
        await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await child.status }
            group.addTask { try? await Task.sleep(for: .seconds(seconds)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    @Test("unauthorised-access playbook: revoke the session's grants, then terminate the session: the live relay and its server exit")
    func terminateSession() async throws {
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        var seen = ""
        let wrap = try await Self.listedRelay(home: home, seen: &seen)
        func send(_ line: String) { Self.send(wrap, line) }
        send(#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"poisoned_add","arguments":{"a":1,"b":2}}}"#)

        var alertID: String?
        let deadline = Date().addingTimeInterval(30)
        while alertID == nil, Date() < deadline {
            let alerts = (try await wardenJSON(["alerts", "list"], home: home)["alerts"] as? [[String: Any]]) ?? []
            alertID = alerts.first { $0["rule"] as? String == "call.blocked" }?["id"] as? String
            if alertID == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let blocked = try #require(alertID)
        let incident = try #require(((try await wardenJSON(["incidents", "open", "--alert", blocked], home: home))["incident"] as? [String: Any])?["id"] as? String)
        let run = try #require(try await wardenJSON(["playbooks", "start", "unauthorised-access", "--incident", incident], home: home)["id"] as? String)
        _ = try await wardenJSON(["playbooks", "step", run, "--done"], home: home)
        let revoked = try await wardenJSON(["playbooks", "step", run, "--run"], home: home)
        #expect(revoked["currentStep"] as? String == "End the session")
        let ended = try await wardenJSON(["playbooks", "step", run, "--run"], home: home)
        let note = ((ended["log"] as? [[String: Any]])?.last?["note"] as? String) ?? ""
        #expect(note.hasPrefix("terminated session"), "\(note)")
        let status = await Self.exitStatus(wrap, within: 10)
        #expect(status != nil, "the relay did not exit after terminate-session")
        let audit = (try await wardenJSON(["audit", "list", "--limit", "100"], home: home)["records"] as? [[String: Any]]) ?? []
        #expect(audit.contains { $0["action"] as? String == "session.terminated" })
        close(wrap.stdin)
    }

    @Test("warden respond: block-server refuses the next call, terminate-session stops the relay; a missing reason or an unknown action is a usage error")
    func respondCLI() async throws {
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        var seen = ""
        let wrap = try await Self.listedRelay(home: home, seen: &seen)
        func send(_ line: String) { Self.send(wrap, line) }
        func wait(for text: String) async { await Self.read(wrap, into: &seen, until: text) }

        let usage = try await warden(["respond", "block-server", "store"], home: home)
        #expect(usage.status == 64 || usage.status == 2, "no --reason: \(usage.status)")
        let unknown = try await warden(["respond", "delete-everything", "store", "--reason", "x"], home: home)
        #expect(unknown.status == 2 && unknown.stderr.contains("no action delete-everything"), "\(unknown.stderr)")

        let blocked = try await warden(["respond", "block-server", "store", "--reason", "beaconing", "--as", "alice"], home: home)
        #expect(blocked.status == 0 && blocked.stdoutText.contains("blocked store"), "\(blocked.stdoutText) \(blocked.stderr)")
        // The relay re-reads controls on the hub's tools.changed push: the next call is refused.
        var refused = false
        for id in 10..<60 where !refused {
            send(#"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#)
            await wait(for: #""id":\#(id)"#)
            refused = seen.split(separator: "\n").contains { $0.contains(#""id":\#(id)"#) && $0.contains("beaconing") }
            if !refused { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(refused, "the call was not refused after block-server: \(seen.suffix(600))")

        let sessions = (try await wardenJSON(["sessions", "list"], home: home)["sessions"] as? [[String: Any]]) ?? []
        let session = try #require(sessions.first { $0["server"] as? String == "store" }?["id"] as? String)
        let ended = try await warden(["respond", "terminate-session", session, "--reason", "contained"], home: home)
        #expect(ended.stdoutText.contains("terminated session \(session)"), "\(ended.stdoutText) \(ended.stderr)")
        let status = await Self.exitStatus(wrap, within: 10)
        #expect(status != nil, "the relay did not exit after warden respond terminate-session")
        let audit = (try await wardenJSON(["audit", "list", "--limit", "100"], home: home)["records"] as? [[String: Any]]) ?? []
        let blockRecord = audit.first { $0["action"] as? String == "server.blocked" }
        #expect((blockRecord?["details"] as? [String: Any])?["reason"] as? String == "beaconing")
        #expect(audit.contains { $0["action"] as? String == "session.terminated" })
        close(wrap.stdin)
    }
}
