import Foundation
import GRDB
import Testing

/// The console in a real terminal: tmux runs `warden console` against a real hub while the Python
/// SDK client's calls go through a real `warden wrap`; keys are typed with `send-keys` and the
/// screen read with `capture-pane`.
@Suite("console end to end in tmux", .serialized)
struct ConsoleEndToEndTests {
    static let policy = """
        version: 1
        defaults: {action: allow}
        rules:
          - match: {tool: "delete_*"}
            action: grant
            grant: {timeout: 60s, max_ttl: 30m}
        """

    /// A tmux server of its own (`-L`), so tests never touch the user's sessions.
    struct Tmux {
        let socket = "warden-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        @discardableResult
        func run(_ args: [String]) async throws -> Finished {
            try await runProcess([ConsoleEndToEndTests.tmuxPath, "-L", socket] + args, timeout: 20)
        }

        func capture() async throws -> String { try await run(["capture-pane", "-p", "-t", "console"]).stdoutText }

        func keys(_ keys: String...) async throws { try await run(["send-keys", "-t", "console"] + keys) }

        /// Polls the screen until `predicate` holds; returns the screen and when it first did.
        func waitFor(_ what: String, timeout: Double = 10, _ predicate: (String) -> Bool) async throws -> (screen: String, at: Date) {
            let deadline = Date().addingTimeInterval(timeout)
            var last = ""
            while Date() < deadline {
                last = try await capture()
                if predicate(last) { return (last, Date()) }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("the console never showed \(what); last screen:\n\(last)")
            throw CancellationError()
        }

        func kill() async { _ = try? await run(["kill-server"]) }

        /// Starts `warden console` on `home` in a window of this size. Its stderr goes to a file,
        /// so a crash leaves its message behind (`consoleErrors` prints it).
        func startConsole(home: String, cols: Int, rows: Int, view: String) async throws {
            try await run(["new-session", "-d", "-s", "console", "-x", String(cols), "-y", String(rows),
                           "sh", "-c", "WARDEN_HOME='\(home)' TZ=UTC exec '\(Harness.warden)' console --view \(view) 2>>'\(home)/console.err'"])
        }
    }

    static let tmuxPath = ["/usr/bin/tmux", "/usr/local/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/tmux"

    static func tmuxAvailable() -> Bool { FileManager.default.isExecutableFile(atPath: tmuxPath) }

    /// What each console test starts from: real peers, a home with `policy`, a real hub, a tmux
    /// server of its own. The caller stops the hub and the tmux server.
    static func rig(policy: String = Self.policy) async throws -> (home: String, hub: HubProcess, tmux: Tmux) {
        try Harness.requirePeers()
        try #require(tmuxAvailable(), "tmux is needed (.ci/run installs it)")
        let home = Harness.temporaryHome()
        try policy.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        return (home, try await HubProcess(home: home), Tmux())
    }

    /// What the console wrote to stderr, printed when there is something.
    static func consoleErrors(_ home: String) {
        if let err = try? String(contentsOfFile: home + "/console.err", encoding: .utf8), !err.isEmpty { print("console stderr:\n" + err) }
    }

    @Test("a held call that expires while the operator looks at another view shows a notice there")
    func expiryNotice() async throws {
        let (home, hub, tmux) = try await Self.rig(policy: Self.policy.replacingOccurrences(of: "timeout: 60s", with: "timeout: 3s"))
        defer { Task { await hub.stop(); await tmux.kill() } }
        try await tmux.startConsole(home: home, cols: 100, rows: 24, view: "tools")
        _ = try await tmux.waitFor("its header") { $0.contains("WARDEN") }
        let wrap = [Harness.warden, "wrap", "--name", "store", "--", Harness.fixtureServer, "hostile"]
        let client = pythonClientTask(command: wrap, steps: [
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true], "timeout": 30],
        ], home: home)
        _ = try await tmux.waitFor("the pending count in the header", timeout: 30) { $0.contains("PENDING") }
        let notice = try await tmux.waitFor("the expiry notice", timeout: 15) { $0.contains("expired unanswered") }
        #expect(notice.screen.contains("store/delete_everything"), "\(notice.screen)")
        let results = try await client.value["results"] as! [Any]
        #expect(decisionMeta(results[0])["decision"] as? String == "expired")
    }

    @Test("under an event flood, with new sessions arriving above and below, the cursor stays on the session the operator chose")
    func stableCursorUnderFlood() async throws {
        let (home, hub, tmux) = try await Self.rig()
        defer { Task { await hub.stop(); await tmux.kill() } }
        for name in ["alpha", "beta", "gamma"] {
            _ = try await pythonClientTask(command: [Harness.warden, "wrap", "--name", name, "--", Harness.fixtureServer, "hostile"],
                                           steps: [["op": "call", "name": "echo", "arguments": ["text": name]]], home: home).value
        }
        try await tmux.startConsole(home: home, cols: 100, rows: 24, view: "sessions")
        defer { Self.consoleErrors(home) }
        _ = try await tmux.waitFor("three sessions") { s in ["alpha", "beta", "gamma"].allSatisfy(s.contains) }
        try await tmux.keys("j")
        let chosen = try await tmux.waitFor("the cursor on the second row") { s in
            s.split(separator: "\n").dropFirst(4).first?.hasPrefix("▶") == true
        }
        let selectedLine = { (screen: String) in screen.split(separator: "\n").first { $0.hasPrefix("▶") }.map(String.init) ?? "" }
        let server = try #require(["alpha", "beta", "gamma"].first { selectedLine(chosen.screen).contains($0) })

        // 30,000 log notifications through one relay (events pushed to the console as they are
        // stored), and two more sessions starting meanwhile.
        let flood = pythonClientTask(command: [Harness.warden, "wrap", "--name", "delta", "--", Harness.fixtureServer, "hostile"],
                                     steps: Array(repeating: ["op": "call", "name": "flood", "arguments": [String: Any](), "timeout": 120], count: 3), home: home)
        let newcomers = Task {
            for name in ["epsilon", "zeta"] {
                _ = try await pythonClientTask(command: [Harness.warden, "wrap", "--name", name, "--", Harness.fixtureServer, "hostile"],
                                               steps: [["op": "call", "name": "echo", "arguments": ["text": name]]], home: home).value
            }
        }
        var samples = 0, moved: [String] = []
        var sawFlood = false
        while !(sawFlood && samples > 40), samples < 2000 {
            let screen = try await tmux.capture()
            samples += 1
            let line = selectedLine(screen)
            if !line.contains(server) { moved.append(screen) }
            sawFlood = sawFlood || (screen.contains("delta") && screen.contains("zeta"))
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try await flood.value
        _ = try await newcomers.value
        #expect(sawFlood, "the flood's and the newcomers' sessions never showed")
        #expect(moved.isEmpty, "the cursor left \(server) in \(moved.count) of \(samples) captures; first:\n\(moved.first ?? "")")
        // The relay delivers its events after the client has its answers (a busy machine may still
        // be storing them when the flood ends), so the count is awaited, not read once.
        let database = try DatabaseQueue(path: home + "/warden.db")
        var events = 0
        let deadline = Date().addingTimeInterval(30)
        while events <= 30_000, Date() < deadline {
            events = try await database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events WHERE server = 'delta'") } ?? 0
            if events <= 30_000 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(events > 30_000, "the flood stored \(events) events")
    }

    @Test("at 60x20 the approve dialog shows the arguments and what the scope allows; a session grant's detail lists every call it let through")
    func approveDialogAndUses() async throws {
        let (home, hub, tmux) = try await Self.rig()
        defer { Task { await hub.stop(); await tmux.kill() } }
        try await tmux.startConsole(home: home, cols: 60, rows: 20, view: "grants")
        defer { Self.consoleErrors(home) }
        _ = try await tmux.waitFor("its header") { $0.contains("WARDEN") && $0.contains("no grant requests") }
        let wrap = [Harness.warden, "wrap", "--name", "store", "--", Harness.fixtureServer, "hostile"]
        let client = pythonClientTask(command: wrap, steps: [
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true, "target": "notes/alpha"], "timeout": 60],
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true, "target": "notes/beta"]],
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true, "target": "notes/gamma"]],
        ], home: home)
        _ = try await tmux.waitFor("the pending grant", timeout: 30) { $0.contains("pending") && $0.contains("notes/al") }
        try await tmux.keys("a")
        let dialog = try await tmux.waitFor("the approve dialog") { $0.contains("Approve store/delete_everything") }
        #expect(dialog.screen.contains(#""target":"notes/alpha""#), "the dialog shows the arguments:\n\(dialog.screen)")
        #expect(dialog.screen.contains("allows:") && dialog.screen.contains("exactly"), "\(dialog.screen)")
        try await tmux.keys("Right")
        let session = try await tmux.waitFor("the session scope") { $0.contains("[session]") }
        #expect(session.screen.contains("every call of") && session.screen.contains("any"), "\(session.screen)")
        try await tmux.keys("Enter")
        let results = try await client.value["results"] as! [Any]
        #expect(results.allSatisfy { !isError($0) })
        _ = try await tmux.waitFor("three uses on the row") { $0.contains("active") && $0.contains(" 3 ") }
        try await tmux.keys("Enter")
        _ = try await tmux.waitFor("the calls in the grant's detail") { $0.contains("Calls it let through (3)") }
        // Twenty rows hold the grant's fields; the calls are a page down.
        try await tmux.keys("NPage")
        let detail = try await tmux.waitFor("the calls it let through") { $0.contains("gamma") }
        let calls = detail.screen.components(separatedBy: "Calls it let through (3)").last ?? ""
        for target in ["alpha", "beta", "gamma"] { #expect(calls.contains(target), "\(detail.screen)") }
        // The live filter works on the detail's lines, as it is typed.
        try await tmux.keys("/")
        try await tmux.run(["send-keys", "-t", "console", "-l", "beta"])
        let filtered = try await tmux.waitFor("the filtered detail") { $0.contains("/beta/:") }
        #expect(filtered.screen.contains("beta") && !filtered.screen.contains("gamma") && !filtered.screen.contains("alpha"), "\(filtered.screen)")
    }

    @Test("a held call appears within 1 s; approve and deny from the keyboard reach the client; resizing to 60x20 keeps the screen intact")
    func approveDenyResize() async throws {
        let (home, hub, tmux) = try await Self.rig()
        defer { Task { await hub.stop(); await tmux.kill() } }
        try await tmux.startConsole(home: home, cols: 110, rows: 30, view: "grants")
        defer { Self.consoleErrors(home) }
        _ = try await tmux.waitFor("its header") { $0.contains("WARDEN") && $0.contains("no grant requests") }

        let wrap = [Harness.warden, "wrap", "--name", "store", "--", Harness.fixtureServer, "hostile"]
        let client = pythonClientTask(command: wrap, steps: [
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true], "timeout": 60],
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": false], "timeout": 60],
        ], home: home)

        // 1. The first call is held: the console shows it, pending, within a second of the request.
        let (shown, at) = try await tmux.waitFor("the pending grant", timeout: 30) { $0.contains("PENDING") && $0.contains("store/delete_everything") }
        let pending = try await wardenJSON(["grants", "list", "--state", "pending"], home: home)
        let requestedAt = try #require(((pending["grants"] as? [[String: Any]])?.first?["requestedAt"]) as? Double)
        let latency = at.timeIntervalSince1970 - requestedAt
        print("console: pending grant on screen \(Int(latency * 1000)) ms after the relay asked")
        #expect(latency < 1.0, "pending grant shown \(latency) s after the request")
        #expect(shown.contains(#"{"confirm":true}"#), "the arguments are shown")

        // 2. Approve with the keys: a, enter (scope call, TTL 15m). The client's call completes.
        try await tmux.keys("a")
        _ = try await tmux.waitFor("the approve dialog") { $0.contains("Approve store/delete_everything") }
        try await tmux.keys("Enter")

        // 3. The second call (other arguments: not covered by a call-scoped grant) is held; deny it.
        _ = try await tmux.waitFor("the second request") { $0.contains(#"{"confirm":false}"#) && $0.contains("pending") }
        try await tmux.keys("d")
        _ = try await tmux.waitFor("the reason prompt") { $0.contains("reason (required)") }
        try await tmux.run(["send-keys", "-t", "console", "-l", "change freeze"])
        try await tmux.keys("Enter")
        _ = try await tmux.waitFor("the confirmation") { $0.contains("Deny") && $0.contains("y confirm") }
        try await tmux.keys("y")

        let results = try await client.value["results"] as! [Any]
        #expect(!isError(results[0]), "approved call: \(resultText(results[0]))")
        #expect(resultText(results[0]).contains("delete_everything"))
        #expect(isError(results[1]))
        #expect(decisionMeta(results[1])["decision"] as? String == "denied")
        #expect(resultText(results[1]).contains("change freeze"))

        // 4. Resize to the smallest supported size: header, tabs and footer still there, nothing wraps.
        try await tmux.run(["resize-window", "-t", "console", "-x", "60", "-y", "20"])
        let small = try await tmux.waitFor("the compact layout") { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            return lines.first?.contains("WARDEN") == true && screen.contains("1 Sess")
        }
        let lines = small.screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 60 }, "a line is wider than the terminal")
        #expect(lines.contains { $0.contains("denied") } && lines.contains { $0.contains("active") })

        // 5. q quits: the tmux session ends with the console.
        try await tmux.keys("q")
        let deadline = Date().addingTimeInterval(5)
        var gone = false
        while Date() < deadline {
            if try await tmux.run(["has-session", "-t", "console"]).status != 0 { gone = true; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(gone, "the console did not exit on q")
        await tmux.kill()
    }

    @Test("TERM=dumb is refused with a clear message; a hub that is down shows in the header")
    func refusals() async throws {
        let home = Harness.temporaryHome()
        let dumb = try await runProcess([Harness.warden, "console", "--home", home], environment: ["TERM": "dumb", "WARDEN_NO_AUTOSTART": "1"])
        #expect(dumb.status == 2)
        #expect(dumb.stderr.contains("TERM is dumb"))

        try #require(Self.tmuxAvailable())
        let tmux = Tmux()
        defer { Task { await tmux.kill() } }
        try await tmux.run(["new-session", "-d", "-s", "console", "-x", "140", "-y", "24",
                            "env", "WARDEN_HOME=\(home)", "WARDEN_NO_AUTOSTART=1", Harness.warden, "console"])
        let (screen, _) = try await tmux.waitFor("the hub's state") { $0.contains("hub ✗") }
        #expect(screen.contains("auto-start is off"))
        try await tmux.keys("q")
        await tmux.kill()
    }

    @Test("--mouse: a click selects the row under it and opens a tab; the wheel scrolls; enter shows the clicked session")
    func mouse() async throws {
        try Harness.requirePeers()
        try #require(Self.tmuxAvailable(), "tmux is needed (.ci/run installs it)")
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        for name in ["alpha", "beta", "gamma"] {
            _ = try await pythonClient(command: [Harness.warden, "wrap", "--name", name, "--", Harness.fixtureServer, "echo"], steps: [["op": "list"]], home: home)
        }
        let tmux = Tmux()
        defer { Task { await tmux.kill() } }
        try await tmux.run(["new-session", "-d", "-s", "console", "-x", "120", "-y", "30",
                            "sh", "-c", "WARDEN_HOME='\(home)' TZ=UTC exec '\(Harness.warden)' console --mouse 2>>'\(home)/console.err'"])
        let (screen, _) = try await tmux.waitFor("three sessions") { s in ["alpha", "beta", "gamma"].allSatisfy { s.contains($0) } }

        /// An xterm mouse report (X10 encoding, what ncurses asks tmux's terminal type for): button
        /// code, then column and row, each offset by 33.
        func mouse(_ button: Int, row: Int, col: Int) async throws {
            let report = "\u{1B}[M" + String(UnicodeScalar(UInt8(32 + button))) + String(UnicodeScalar(UInt8(33 + col))) + String(UnicodeScalar(UInt8(33 + row)))
            try await tmux.run(["send-keys", "-t", "console", "-l", report])
        }
        func click(row: Int, col: Int) async throws {
            try await mouse(0, row: row, col: col)
            try await mouse(3, row: row, col: col)  // release
        }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
        let alphaRow = try #require(lines.firstIndex { $0.contains("alpha") })
        try await click(row: alphaRow, col: 5)
        _ = try await tmux.waitFor("alpha selected") { $0.split(separator: "\n").contains { $0.hasPrefix("▶alpha") } }
        try await mouse(64, row: alphaRow, col: 5)  // wheel up: three rows up, to the top
        _ = try await tmux.waitFor("the top row selected") { !$0.split(separator: "\n").contains { $0.hasPrefix("▶alpha") } && $0.contains("▶") }
        try await click(row: alphaRow, col: 5)
        _ = try await tmux.waitFor("alpha selected again") { $0.split(separator: "\n").contains { $0.hasPrefix("▶alpha") } }
        try await tmux.keys("Enter")
        _ = try await tmux.waitFor("alpha's detail") { $0.contains("server:") && $0.contains("alpha") && !$0.contains("gamma") }
        try await tmux.keys("Escape")

        // Row 1 holds the tabs: a click on " 4 Alerts " opens the Alerts view.
        let tabs = try #require(lines.dropFirst().first)
        let alertsCol = try #require(tabs.range(of: "4 Alerts")).lowerBound.utf16Offset(in: tabs)
        try await click(row: 1, col: alertsCol + 1)
        _ = try await tmux.waitFor("the Alerts view") { $0.contains("SEVERITY") || $0.contains("no alerts") }
        try await tmux.keys("q")
        await tmux.kill()
    }
}
