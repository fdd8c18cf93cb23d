import Foundation
import Synchronization
import Testing
import WardenCore
import WardenHub
import WardenHubAPI
import WardenHubClient
@testable import WardenConsole

/// The whole console in-process: `ConsoleApp` on a `MemoryScreen`, keys typed into it, talking to a
/// real `HubServer` (SQLite store, grant broker, audit chain) on a temporary home over its socket.
@Suite("the console app against an in-process hub")
struct ConsoleAppTests {
    /// A hub on a fresh home, a console on a memory screen connected to it, and a way to turn the
    /// console's loop until the screen shows what a test waits for.
    final class Rig {
        let home = WardenHome(path: "/tmp/wc-" + String(UInt32.random(in: 0...UInt32.max), radix: 36))
        let hub: HubServer
        let screen: MemoryScreen
        let app: ConsoleApp
        let now = Date().timeIntervalSince1970

        init(rows: Int = 24, cols: Int = 80, bell: Bool = true) throws {
            try home.prepare()
            hub = try HubServer(home: home)
            hub.start()
            screen = MemoryScreen(rows: rows, cols: cols)
            let socket = home.socketPath
            app = ConsoleApp(screen: screen, bell: bell) { onPush in try HubConnection.connect(path: socket, onNotification: onPush) }
            app.start()
        }

        deinit {
            app.finish()
            hub.stop()
            try? FileManager.default.removeItem(atPath: home.path)
        }

        var text: String { screen.frame?.text ?? "" }

        /// Turns the loop until `done` holds for the screen's text (or 10 s pass); returns the text.
        @discardableResult
        func pump(until done: (String) -> Bool) async -> String {
            let deadline = Date().addingTimeInterval(10)
            repeat {
                await stepOffPool()
                if screen.pendingKeys == 0, done(text) { return text }
                // Sleeping, not blocking: the suite shares two cooperative threads with timing-sensitive tests.
                try? await Task.sleep(for: .milliseconds(5))
            } while Date() < deadline
            return text
        }

        /// One turn of the console's loop on a thread of its own: the loop makes blocking hub
        /// calls, and two of them on the two cooperative threads would starve every other test.
        func stepOffPool() async {
            nonisolated(unsafe) let app = app
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread { app.step(); done.resume() }.start()
            }
        }

        /// A session of `server` as a relay reports it: started and initialised.
        func session(_ id: String, server: String, client: String = "claude-code") throws {
            try hub.service.ingest([
                Event(sequence: 1, time: now, session: id, server: server, kind: .sessionStarted, fields: ["wardenPid": 1, "serverPid": 2]),
                Event(sequence: 2, time: now, session: id, server: server, kind: .sessionInitialized,
                      fields: ["client": .string(client), "protocolVersion": "2025-06-18"]),
            ])
        }

        /// A relay's grant request, as the broker gets it from the socket; the answer lands in `answer`.
        func request(_ id: String, session: String, server: String, tool: String, arguments: String) -> Answer {
            let answer = Answer()
            let r = GrantRequest(id: id, sessionID: session, client: "claude-code", server: server, tool: tool, arguments: arguments,
                                 argumentDigest: String(repeating: "a", count: 64), rule: "destructive", reason: "writes need a person",
                                 requestedAt: now, deadline: now + 120, maxTTL: 3600)
            hub.service.broker.request(r, connection: -1) { answer.set($0) }
            return answer
        }

        func auditActions() throws -> [String] { try hub.service.store.auditRecords(limit: 1000, since: 0).map(\.action) }
    }

    final class Answer: Sendable {
        private let value = Mutex<JSONValue?>(nil)
        func set(_ v: JSONValue) { value.withLock { $0 = v } }
        var outcome: String? { value.withLock { $0?["outcome"]?.stringValue } }
    }

    @Test("a pushed grant request shows up, the approve dialog shows its arguments, and enter approves it in the hub")
    func approveGrant() async throws {
        let rig = try Rig(rows: 20, cols: 60)
        try rig.session("s-1", server: "files")
        await rig.pump { $0.contains("files") }
        let answer = rig.request("g-1", session: "s-1", server: "files", tool: "delete_note", arguments: #"{"name":"groceries"}"#)
        rig.screen.type("2")
        #expect(await rig.pump { $0.contains("delete_note") }.contains("delete_note"))
        rig.screen.type("a")
        let dialog = await rig.pump { $0.contains("Approve files/delete_note") }
        #expect(dialog.contains(#"{"name":"groceries"}"#), "the dialog shows the arguments:\n\(dialog)")
        rig.screen.type(.enter)
        await rig.pump { _ in answer.outcome != nil }
        #expect(answer.outcome == "approved")
        #expect(try rig.auditActions().contains("grant.approved"))
        #expect(await rig.pump { $0.contains("done: warden grants approve g-1") }.contains("done: warden grants approve g-1"))
    }

    @Test("pushed events update the rows of their sessions as the hub's store does, and the timeline on screen, without re-listing; a new session is fetched")
    func sessionDeltas() async throws {
        let rig = try Rig(rows: 24, cols: 120)
        try rig.session("s-1", server: "fs")
        try rig.session("s-2", server: "web", client: "cursor")
        await rig.pump { $0.contains("web") && $0.contains("fs") }
        rig.screen.type(.enter)
        await rig.pump { _ in rig.app.model.data.sessionDetail != nil }
        let shown = try #require(rig.app.model.data.sessionDetail?.session.id)
        let other = shown == "s-1" ? "s-2" : "s-1"
        func call(_ n: Int, _ session: String, _ kind: EventKind, _ fields: CallFields) -> Event {
            Event(sequence: n, time: rig.now + Double(n), session: session, server: session == "s-1" ? "fs" : "web", kind: kind, call: fields)
        }
        try rig.hub.service.ingest([
            call(3, shown, .callCompleted, CallFields(id: 1, tool: "read", decision: .allowed, rule: "defaults", micros: 120, bytes: 40)),
            call(4, shown, .callDecided, CallFields(id: 2, tool: "rm", decision: .deniedByPolicy, rule: "no-rm", arguments: #"{"path":"/"}"#)),
            call(5, other, .callCompleted, CallFields(id: 1, tool: "fetch", decision: .approved, rule: "g", micros: 90, bytes: 10)),
            Event(sequence: 6, time: rig.now + 6, session: other, server: "web", kind: .dlpFinding, fields: ["tool": "fetch", "direction": "result", "kinds": ["aws-key"]]),
            Event(sequence: 7, time: rig.now + 7, session: other, server: "web", kind: .sessionEnded, fields: ["status": "exit 0"]),
        ])
        let rows = { (id: String) in rig.app.model.data.sessions.first { $0.id == id } }
        await rig.pump { _ in rows(other)?.live == false && rows(shown)?.denials == 1 }
        let delta = rig.app.model.data.sessions.sorted { $0.id < $1.id }
        #expect(rows(shown)?.calls == 1 && rows(shown)?.denials == 1)
        #expect(rows(other)?.risk == 30 && rows(other)?.endStatus == "exit 0")
        // The timeline on screen has the new events on top, arguments and all.
        let timeline = rig.app.model.data.sessionDetail?.events.map(\.kind) ?? []
        #expect(timeline.prefix(2) == ["call.decided", "call.completed"], "\(timeline)")
        #expect(rig.app.model.data.sessionDetail?.events.first?.callFields?.arguments == #"{"path":"/"}"#)
        // What the deltas made is what the store says.
        rig.app.reload([.sessions])
        #expect(rig.app.model.data.sessions.sorted { $0.id < $1.id } == delta)
        // A session the list does not hold is fetched.
        try rig.session("s-3", server: "git")
        await rig.pump { _ in rows("s-3") != nil }
        #expect(rows("s-3")?.client == "claude-code")
    }

    @Test("a critical alert the correlator pushes is applied as it comes, becomes a notice and rings the bell; with console.bell off it is silent")
    func criticalNotice() async throws {
        for bell in [true, false] {
            let rig = try Rig(rows: 24, cols: 100, bell: bell)
            try rig.session("s-1", server: "fs")
            rig.screen.type("4")
            await rig.pump { $0.contains("no alerts") }
            try rig.hub.service.ingest([
                Event(sequence: 3, time: rig.now, session: "s-1", server: "fs", kind: .dlpFinding,
                      fields: ["tool": "read_file", "direction": "result", "kinds": ["github-token"], "findings": [["fingerprint": "abc"]]]),
                Event(sequence: 4, time: rig.now, session: "s-1", server: "fs", kind: .dlpFinding,
                      fields: ["tool": "send", "direction": "arguments", "kinds": ["github-token"], "findings": [["fingerprint": "abc"]]]),
            ])
            let screen = await rig.pump { $0.contains("critical alert") && $0.contains("flow.toxic") }
            #expect(screen.contains("critical alert") && screen.contains("flow.toxic"), "\(screen)")
            #expect(rig.screen.bells == (bell ? 1 : 0), "bell \(bell): rang \(rig.screen.bells) times")
        }
    }

    @Test("K terminates the session, R revokes its grants, X blocks its server: each a response action the hub audits")
    func containment() async throws {
        let rig = try Rig()
        try rig.session("s-9", server: "web")
        await rig.pump { $0.contains("web ") }
        rig.screen.type("K")
        #expect(await rig.pump { $0.contains("Terminate session s-9") }.contains("— reason:"))
        rig.screen.type("exfiltrating notes")
        rig.screen.type(.enter)
        #expect(await rig.pump { $0.contains("Terminate session s-9?") }.contains("the client sees the"))
        rig.screen.type("y")
        // No relay is connected for s-9 here: the hub says so rather than pretending.
        #expect(await rig.pump { $0.contains("no live relay") }.contains("session s-9 has no live relay (already ended)"))

        rig.screen.type("R")
        await rig.pump { $0.contains("Revoke the grants of session s-9") }
        rig.screen.type("contain")
        rig.screen.type(.enter)
        await rig.pump { $0.contains("Revoke every active grant") }
        rig.screen.type("y")
        #expect(await rig.pump { $0.contains("revoked 0 grant(s) of session s-9") }.contains("revoked 0 grant(s)"))

        rig.screen.type("X")
        await rig.pump { $0.contains("Block server web") }
        rig.screen.type(.enter)
        // A reason is required: an empty answer is refused, not sent.
        #expect(await rig.pump { $0.contains("required") }.contains("required"))
        rig.screen.type("beaconing")
        rig.screen.type(.enter)
        await rig.pump { $0.contains("Block web?") }
        rig.screen.type("y")
        await rig.pump { $0.contains("blocked web") }
        #expect(Controls.load(path: rig.home.controlsPath).blocked["web"] == "beaconing")
        let actions = try rig.auditActions()
        #expect(actions.contains("session.terminated") && actions.contains("server.blocked"))
    }

    @Test("on a wide terminal the selected row's detail sits beside the list and follows the cursor; narrow, enter shows it full screen")
    func sidePane() async throws {
        let rig = try Rig(rows: 50, cols: 200)
        try rig.session("s-a", server: "files")
        try rig.session("s-b", server: "web")
        try rig.hub.service.ingest([Event(sequence: 3, time: rig.now + 1, session: "s-b", server: "web", kind: .callCompleted,
                                          fields: ["id": 4, "tool": "fetch_page", "decision": "allowed", "micros": 900, "bytes": 2048])])
        await rig.pump { $0.contains("files") && $0.contains("web") }
        // The list's order is the hub's (newest first); the pane shows whichever is selected.
        let first = await rig.pump { $0.contains("Session s-") && $0.contains("(enter opens it)") }
        let firstID = first.contains("Session s-a") ? "s-a" : "s-b"
        let otherID = firstID == "s-a" ? "s-b" : "s-a"
        rig.screen.type("j")
        let moved = await rig.pump { $0.contains("Session \(otherID)") }
        #expect(moved.contains("Session \(otherID)   (enter opens it)"), "\(moved)")
        // s-b's pane holds its timeline, fetched when the cursor reached it.
        if otherID == "s-a" { rig.screen.type("k") }
        #expect(await rig.pump { $0.contains("fetch_page") }.contains("Session s-b   (enter opens it)"))
        if otherID == "s-a" { rig.screen.type("j") }
        rig.screen.resize(rows: 20, cols: 60)
        let narrow = await rig.pump { !$0.contains("(enter opens it)") }
        #expect(!narrow.contains("│ Session"), "\(narrow)")
        rig.screen.type(.enter)
        #expect(await rig.pump { $0.contains("(esc back)") }.contains("Session \(otherID)   (esc back)"))
    }

    @Test("a hub that goes away is said on screen, and the console comes back when it returns")
    func hubDown() async throws {
        let rig = try Rig(rows: 20, cols: 60)
        try rig.session("s-1", server: "files")
        await rig.pump { $0.contains("files") }
        rig.hub.stop()
        // The next call finds the connection closed.
        rig.screen.type("4")
        let down = await rig.pump { $0.contains("hub:") }
        #expect(down.contains("hub:"), "\(down)")
        #expect(rig.app.quit == false)
        // A new hub on the same home: the console reconnects (every 2 s) and reloads.
        let again = try HubServer(home: rig.home)
        again.start()
        defer { again.stop() }
        rig.screen.type("1")
        let back = await rig.pump { !$0.contains("hub:") && $0.contains("files") }
        #expect(back.contains("files") && !back.contains("hub:"), "\(back)")
    }
}
