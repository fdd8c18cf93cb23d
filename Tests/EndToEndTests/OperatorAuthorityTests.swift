import Foundation
import Testing

/// The wrapped server is the adversary: whatever it tries, it must not act as the operator.
/// A hostile fixture server (`attacker` mode) attacks from its main thread, a second thread, a
/// double-forked daemon and a retrying thread while its own destructive call waits for a grant.
@Suite("a wrapped server cannot act as the operator", .serialized)
struct OperatorAuthorityTests {
    static let policy = """
        version: 1
        rules:
          - match: {tool: delete_everything}
            action: grant
            grant: {timeout: 6s}
        """

    /// The Python SDK client drives the attacker through `warden wrap`: list, attack (and keep
    /// attacking for 9 s), the held destructive call, then the attacks' report.
    func attack(home: String, attacks: String, config: String, sandbox: Bool, environment: [String: String] = [:]) async throws -> [Any] {
        var policy = Self.policy
        if !sandbox { policy += "\nsandbox: {enabled: false}\n" }
        try policy.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        let command = [Harness.warden, "wrap", "--name", "attack", "--", Harness.fixtureServer, "attacker", home, config, attacks]
        let report = try await pythonClient(command: command, steps: [
            ["op": "list"],
            ["op": "call", "name": "attack", "arguments": ["seconds": 9]],
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true], "timeout": 40],
            ["op": "call", "name": "report"],
        ], home: home, environment: environment)
        return report["results"] as! [Any]
    }

    func snapshot(_ paths: [String]) -> [String: Data] {
        var out: [String: Data] = [:]
        for p in paths {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: p) {
                for n in names { out[p + "/" + n] = FileManager.default.contents(atPath: p + "/" + n) ?? Data() }
            } else {
                out[p] = FileManager.default.contents(atPath: p) ?? Data()
            }
        }
        return out
    }

    /// What the attacks could have changed: the held call, the grants, the quarantined tool.
    func expectNoDecisionChanged(_ results: [Any], home: String) async throws {
        let tools = ((results[0] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(!tools.contains("poisoned_add"))
        let held = results[2]
        #expect(!resultText(held).contains("EVERYTHING DELETED"), "the held call must not run: \(resultText(held))")
        #expect(decisionMeta(held)["decision"] as? String == "expired", "\(held)")
        let grants = try await wardenJSON(["grants", "list"], home: home)["grants"] as? [[String: Any]] ?? []
        #expect(!grants.isEmpty)
        for g in grants {
            #expect(!["approved", "active"].contains(g["state"] as? String ?? ""), "grant \(g["id"] ?? "") was \(g["state"] ?? "")")
            let decidedBy = g["decidedBy"] as? String ?? ""
            #expect(!decidedBy.contains("alice"))
        }
        let poisoned = try await wardenJSON(["tools", "show", "attack/poisoned_add"], home: home)["tool"] as? [String: Any]
        #expect(poisoned?["review"] as? String == "quarantined", "\(poisoned ?? [:])")
        let verify = try await warden(["audit", "verify"], home: home)
        #expect(verify.status == 0, "\(verify.stdoutText)")
    }

    @Test("sandbox off: every attempt that reaches the hub is refused on the hub's own checks and audited, from thread and double-forked child alike")
    func hubChecksAlone() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        let results = try await attack(home: home, attacks: "hub-own,fds", config: "", sandbox: false)
        let report = resultText(results[1]) + "\n" + resultText(results[3])
        #expect(report.contains("fds: no inherited socket"), "the relay's own hub connection is not inherited: \(report.prefix(2000))")
        #expect(report.contains("hub.sock: hello"), "the unsandboxed attacker reaches the socket: \(report.prefix(2000))")
        #expect(report.contains("daemon pid"), "the double-forked daemon ran: \(report.suffix(2000))")
        try await expectNoDecisionChanged(results, home: home)

        let audit = try await wardenJSON(["audit", "list", "--limit", "1000"], home: home)["records"] as? [[String: Any]] ?? []
        let refused = audit.filter { $0["action"] as? String == "authority.refused" }
        let methods = Set(refused.compactMap { $0["subject"] as? String })
        for m in ["grants.list", "grants.approve", "tools.approve", "tools.suppress", "baselines.reset", "alerts.list", "audit.list", "response.run"] {
            #expect(methods.contains(m), "a refused \(m) is audited (saw \(methods.sorted()))")
        }
        // The refusals come from the server's main process and from the daemon, and name the kernel's facts.
        let pids = Set(refused.compactMap { ($0["details"] as? [String: Any])?["pid"] as? Int })
        #expect(pids.count >= 2, "main process and double-forked daemon: \(pids)")
        for r in refused {
            let actor = r["actor"] as? String ?? ""
            #expect(actor.contains("(uid \(getuid()), pid ") && !actor.contains("alice"), "\(actor)")
            let reason = (r["details"] as? [String: Any])?["reason"] as? String ?? ""
            #expect(reason.contains("descends from"), "\(reason)")
        }
        // The attacker's own grant request is held, and its approval refused.
        let own = (try await wardenJSON(["grants", "list"], home: home)["grants"] as? [[String: Any]] ?? []).filter { ($0["id"] as? String ?? "").hasPrefix("g-attacker-") }
        #expect(!own.isEmpty && own.allSatisfy { $0["state"] as? String != "approved" && $0["state"] as? String != "active" })

        // An operator outside the tree still decides, and the record names the kernel's facts.
        let r = try await warden(["tools", "approve", "attack/poisoned_add", "--reason", "reviewed by hand"], home: home)
        #expect(r.status == 0, "\(r.stderr)")
        let last = (try await wardenJSON(["audit", "list", "--limit", "1"], home: home)["records"] as? [[String: Any]])?.first
        let actor = last?["actor"] as? String ?? ""
        #expect(actor.contains("(uid \(getuid()), pid "), "\(actor)")
    }

    @Test("sandbox on: the hub socket, Warden's files, the client config, signals, terminals and tmux are all out of reach")
    func sandboxed() async throws {
        try Harness.requirePeers()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap") else {
            Issue.record("bubblewrap is missing: .ci/run installs it (apt-get install bubblewrap)")
            return
        }
        let home = Harness.temporaryHome()
        // A user home outside /tmp, so its client config is visible in the sandbox (read-only).
        let userHome = Harness.repoRoot + "/.build/e2e-home-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try FileManager.default.createDirectory(atPath: userHome + "/.cursor", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: userHome) }
        let config = userHome + "/.cursor/mcp.json"
        try #"{"mcpServers": {"attack": {"command": "warden", "args": ["wrap", "--name", "attack", "--", "attacker"]}}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        try "{}".write(toFile: home + "/controls.json", atomically: true, encoding: .utf8)
        try Self.policy.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)

        // The operator's tmux, with a pane whose text shows anything typed into it.
        let tmuxDir = "/tmp/tmux-\(getuid())"
        try FileManager.default.createDirectory(atPath: tmuxDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let socket = tmuxDir + "/warden-e2e-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let started = try await runProcess(["/usr/bin/tmux", "-S", socket, "new-session", "-d", "-x", "80", "-y", "24", "cat"])
        #expect(started.status == 0, "\(started.stderr)")
        defer { Task { _ = try? await runProcess(["/usr/bin/tmux", "-S", socket, "kill-server"]) } }

        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        // Pins exist before the attack: a first session lists the tools.
        _ = try await pythonClient(command: [Harness.warden, "wrap", "--name", "attack", "--", Harness.fixtureServer, "attacker"], steps: [["op": "list"]], home: home)
        let before = snapshot([home + "/policy.yaml", home + "/controls.json", home + "/pins", config])

        let results = try await attack(home: home, attacks: "hub,fds,files,signals,terminals,tmux", config: config, sandbox: true, environment: ["HOME": userHome])
        let report = resultText(results[1]) + "\n" + resultText(results[3])
        #expect(report.contains("main hub: no socket visible"), "\(report.prefix(3000))")
        #expect(report.contains("fds: no inherited socket"), "\(report.prefix(3000))")
        #expect(report.contains("signals: no hub or console process visible"))
        #expect(report.contains("terminals: no /dev/pts terminal visible"))
        #expect(report.contains("tmux: no socket visible"))
        #expect(report.contains("write \(config): Read-only file system"), "\(report.prefix(3000))")

        try await expectNoDecisionChanged(results, home: home)
        #expect(snapshot([home + "/policy.yaml", home + "/controls.json", home + "/pins", config]) == before, "no Warden file or client config changed")
        // The hub was neither stopped nor signalled, and nothing reached it.
        #expect(kill(hub.pid, 0) == 0)
        let state = (try? String(contentsOfFile: "/proc/\(hub.pid)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ").first
        #expect(state != "T", "the hub was stopped")
        let audit = try await wardenJSON(["audit", "list", "--limit", "1000"], home: home)["records"] as? [[String: Any]] ?? []
        #expect(!audit.contains { $0["action"] as? String == "authority.refused" }, "nothing from the sandbox reached the hub")
        let pane = try await runProcess(["/usr/bin/tmux", "-S", socket, "capture-pane", "-p"])
        #expect(!pane.stdoutText.contains("PWNED"), "\(pane.stdoutText)")

        // The session says it was sandboxed.
        let sessions = try await wardenJSON(["sessions", "list"], home: home)["sessions"] as? [[String: Any]] ?? []
        let isolation = sessions.first?["isolation"] as? [String: Any]
        #expect(isolation?["mechanism"] as? String == "bubblewrap", "\(sessions.first ?? [:])")
    }
}

@Suite("sandbox network policy", .serialized)
struct SandboxNetworkTests {
    /// A TCP listener on 127.0.0.1 (an ephemeral port); `accepted` says whether anyone connected.
    final class Listener: Sendable {
        let fd: Int32
        let port: Int
        init() throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let fd = self.fd
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard bound == 0, listen(fd, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            port = Int(UInt16(bigEndian: address.sin_port))
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        var accepted: Bool {
            let c = accept(fd, nil, nil)
            if c >= 0 { close(c) }
            return c >= 0
        }
        deinit { close(fd) }
    }

    @Test("network: none — the server's connection to a loopback listener fails, the listener gets nothing, and Warden records the attempt")
    func noNetwork() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        try "version: 1\nsandbox:\n  servers:\n    offline: {network: none}\n".write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        let listener = try Listener()
        let report = try await pythonClient(command: [Harness.warden, "wrap", "--name", "offline", "--", Harness.fixtureServer, "attacker"], steps: [
            ["op": "call", "name": "connect_out", "arguments": ["host": "127.0.0.1", "port": listener.port]],
            ["op": "sleep", "seconds": 1.5],
        ], home: home)
        let text = resultText((report["results"] as! [Any])[0])
        #expect(text.contains("failed"), "\(text)")
        #expect(!listener.accepted, "the listener must receive nothing")
        // The same server with the network allowed does reach it: the test can tell the two apart.
        let control = try await pythonClient(command: [Harness.warden, "wrap", "--name", "online", "--", Harness.fixtureServer, "attacker"], steps: [
            ["op": "call", "name": "connect_out", "arguments": ["host": "127.0.0.1", "port": listener.port]],
        ], home: home)
        #expect(resultText((control["results"] as! [Any])[0]).contains("connected"))
        #expect(listener.accepted)

        var alerts: [[String: Any]] = []
        for _ in 0..<50 where alerts.isEmpty {
            alerts = (try await wardenJSON(["alerts", "list"], home: home)["alerts"] as? [[String: Any]] ?? []).filter { $0["rule"] as? String == "sandbox.network" }
            if alerts.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(alerts.count == 1 && alerts.first?["server"] as? String == "offline", "\(alerts)")
        let sessions = try await wardenJSON(["sessions", "list"], home: home)["sessions"] as? [[String: Any]] ?? []
        let offline = sessions.first { $0["server"] as? String == "offline" }?["isolation"] as? [String: Any]
        #expect(offline?["network"] as? String == "none")
    }

    @Test("required: true with no way to sandbox refuses to start the server, and says why")
    func requiredButUnavailable() async throws {
        let home = Harness.temporaryHome()
        try "version: 1\nsandbox: {required: true}\n".write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        // No bwrap on this PATH: the fixture is named by its full path, so only the sandbox is missing.
        let r = try await runProcess([Harness.warden, "wrap", "--name", "x", "--", Harness.fixtureServer, "echo"], input: Data(),
                                     environment: ["WARDEN_HOME": home, "PATH": "/nonexistent"])
        #expect(r.status == 127)
        #expect(r.stderr.contains("bubblewrap") && r.stderr.contains("required: true"), "\(r.stderr)")
        let unrequired = try await runProcess([Harness.warden, "wrap", "--name", "x", "--", Harness.fixtureServer, "echo"], input: Data(),
                                              environment: ["WARDEN_HOME": home + "-2", "PATH": "/nonexistent"])
        #expect(unrequired.stderr.contains("UNSANDBOXED"), "\(unrequired.stderr)")
    }
}

extension SandboxNetworkTests {
    @Test("a server the isolate-server action isolated starts its next session with no network")
    func isolatedByPlaybook() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        // What the hub writes for `warden isolate-server iso` (policy would allow the network).
        try #"{"blocked": {}, "egressLockdown": [], "isolated": ["iso"]}"#.write(toFile: home + "/controls.json", atomically: true, encoding: .utf8)
        let listener = try Listener()
        let report = try await pythonClient(command: [Harness.warden, "wrap", "--name", "iso", "--", Harness.fixtureServer, "attacker"], steps: [
            ["op": "call", "name": "connect_out", "arguments": ["host": "127.0.0.1", "port": listener.port]],
        ], home: home)
        #expect(resultText((report["results"] as! [Any])[0]).contains("failed"))
        #expect(!listener.accepted)
    }
}
