import Foundation
import Testing
import WardenCore
import WardenHubAPI
import WardenHubClient
@testable import WardenHub

func temporaryHome() -> WardenHome {
    WardenHome(path: "/tmp/wl-" + String(UInt32.random(in: 0...UInt32.max), radix: 36))
}

func benchEvent(_ n: Int, session: String) -> Event {
    Event(sequence: n, time: Double(n), session: session, server: "s", kind: .callCompleted, fields: ["tool": "t", "decision": "allowed"])
}

@Suite("event link and the hub socket")
struct EventLinkTests {
    @Test("past the high-water mark events spill to disk; with no hub every one is spooled exactly once")
    func spill() throws {
        let home = temporaryHome()
        let link = EventLink(home: home, sessionID: "s-spill")
        let total = EventLink.highWater * 3 + 123
        for n in 1...total { link.record(benchEvent(n, session: "s-spill")) }
        link.close(timeout: 10)
        var ids = Set<String>()
        var lines = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: home.spoolPath) where name.hasSuffix(".jsonl") {
            for line in try String(contentsOfFile: home.spoolPath + "/" + name, encoding: .utf8).split(separator: "\n") {
                lines += 1
                if let e = Event(json: try JSONParser.parse(String(line))) { ids.insert(e.id) }
            }
        }
        #expect(lines == total && ids.count == total)
    }

    @Test("with no hub, a steady trickle of events is written at most once per retry interval, not one spool file per event")
    func trickle() async throws {
        let home = temporaryHome()
        let link = EventLink(home: home, sessionID: "s-trickle", retryInterval: 0.25)
        let start = Date()
        for n in 1...300 {
            link.record(benchEvent(n, session: "s-trickle"))
            try? await Task.sleep(for: .milliseconds(2))
        }
        let seconds = Date().timeIntervalSince(start)
        link.close(timeout: 10)
        let files = try FileManager.default.contentsOfDirectory(atPath: home.spoolPath).filter { $0.hasSuffix(".jsonl") }
        let lines = try files.reduce(0) { $0 + (try String(contentsOfFile: home.spoolPath + "/" + $1, encoding: .utf8).split(separator: "\n").count) }
        #expect(lines == 300)
        #expect(Double(files.count) <= seconds / 0.25 + 3, "\(files.count) files in \(seconds) s")
    }

    @Test("a spool claimed by a relay that died mid-replay is taken over and delivered")
    func staleClaim() async throws {
        let home = temporaryHome()
        try home.prepare()
        var bytes: [UInt8] = []
        for n in 1...500 { benchEvent(n, session: "s-dead").appendLine(to: &bytes) }
        // pid 2^22 + 1 is above Linux's pid_max: no such process.
        try Data(bytes).write(to: URL(fileURLWithPath: home.spoolPath + "/s-dead-000001.jsonl.replay-4194305"))
        let hub = try HubServer(home: home)
        hub.start()
        defer { hub.stop() }
        let link = EventLink(home: home, sessionID: "s-live", retryInterval: 0.05)
        link.record(benchEvent(1, session: "s-live"))
        let deadline = Date().addingTimeInterval(10)
        let left = { try FileManager.default.contentsOfDirectory(atPath: home.spoolPath).filter { !$0.hasPrefix(".") } }
        // Whoever takes the file (the relay, or the hub's own intake) removes it once its last batch is stored.
        while Date() < deadline, try hub.service.store.eventCount() < 501 || !left().isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
        link.close()
        #expect(try hub.service.store.eventCount() == 501)
        #expect(try left().isEmpty)
    }

    @Test("spool files a relay left when it exited are taken in by the hub itself, with no relay connecting; one a live relay is replaying is left to it")
    func hubTakesOrphanedSpool() async throws {
        let home = temporaryHome()
        try home.prepare()
        var left: [UInt8] = [], claimed: [UInt8] = []
        for n in 1...2500 { benchEvent(n, session: "s-gone").appendLine(to: &left) }
        for n in 1...10 { benchEvent(n, session: "s-busy").appendLine(to: &claimed) }
        try Data(left).write(to: URL(fileURLWithPath: home.spoolPath + "/s-gone-000001.jsonl"))
        // pid 1 is alive: its claim stands.
        try Data(claimed).write(to: URL(fileURLWithPath: home.spoolPath + "/s-busy-000001.jsonl.replay-1"))
        let hub = try HubServer(home: home)
        hub.start()
        defer { hub.stop() }
        let remaining = { try FileManager.default.contentsOfDirectory(atPath: home.spoolPath).filter { !$0.hasPrefix(".") } }
        let deadline = Date().addingTimeInterval(15)
        // The file goes once its last batch is stored: both are awaited.
        while Date() < deadline, try hub.service.store.eventCount() < 2500 || remaining().count > 1 { try? await Task.sleep(for: .milliseconds(50)) }
        let count = try hub.service.store.eventCount(), spooled = try remaining()
        #expect(count == 2500, "stored \(count); spool now \(spooled)")
        #expect(try remaining() == ["s-busy-000001.jsonl.replay-1"])
    }

    @Test("behaviour baselines survive a hub restart: a real hub learns over its socket, stops, and the next one alerts without a new warm-up")
    func baselinesAcrossRestart() async throws {
        let home = temporaryHome()
        try home.prepare()
        let now = Date().timeIntervalSince1970  // recent: the hub prunes events past their retention
        func call(_ n: Int, destination: String) -> Event {
            Event(sequence: n, time: now + Double(n), session: "s-\(n > 30 ? 2 : 1)", server: "web", kind: .callCompleted,
                  fields: ["tool": "fetch", "argKeys": ["url"], "argBytes": 80, "bytes": 400, "micros": 900, "targets": [.string(destination)]])
        }
        func deliver(_ events: [Event], to hub: HubServer, expecting total: Int) async throws {
            let link = EventLink(home: home, sessionID: events[0].session, retryInterval: 0.05)
            events.forEach(link.record)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, (try hub.service.store.eventCount()) < total { try? await Task.sleep(for: .milliseconds(20)) }
            link.close()
        }
        let first = try HubServer(home: home)
        first.start()
        try await deliver((1...25).map { call($0, destination: "docs.example.org") }, to: first, expecting: 25)
        first.stop()
        #expect(try first.service.store.baselines().map(\.id) == ["web/fetch"])

        let second = try HubServer(home: home)
        second.start()
        defer { second.stop() }
        try await deliver([call(31, destination: "c2.evil.net")], to: second, expecting: 26)
        let deadline = Date().addingTimeInterval(5)
        var alerts: [Alert] = []
        while Date() < deadline, alerts.isEmpty {
            alerts = try second.service.store.alerts().filter { $0.rule == "behaviour.anomaly" }
            try? await Task.sleep(for: .milliseconds(20))
        }
        #expect(alerts.contains { $0.title.contains("c2.evil.net") })
    }

    @Test("numbers a peer sends that do not fit (a limit of 1e300, an event time of 1e300) are refused, and the hub stays up")
    func hostileNumbers() throws {
        let home = temporaryHome()
        try home.prepare()
        let hub = try HubServer(home: home)
        hub.start()
        defer { hub.stop() }
        let connection = try HubConnection.connect(path: home.socketPath)
        defer { connection.close() }
        _ = try connection.callBlocking(.hello, ["api": 1, "role": "test"], timeout: 5)
        #expect {
            _ = try connection.callBlocking(.alertsList, ["limit": .number("1e300")], timeout: 5)
        } throws: { error in
            guard case HubError.remote(let code, let message) = error else { return false }
            return code == HubErrorCode.usage.rawValue && message.contains("number does not fit")
        }
        let far = #"{"events":[{"id":"s-x:1","session":"s-x","server":"web","kind":"call.completed","time":1e300,"fields":{"tool":"t"}}]}"#
        let appended = try connection.callBlocking(.eventsAppend, rawParams: Array(far.utf8), timeout: 5)
        #expect(appended["accepted"] == 0)
        #expect((try? connection.callBlocking(.hubStatus, [:], timeout: 5)) != nil, "the hub still answers")
    }

    @Test("a grant request is withdrawn only by a connection of its own session")
    func withdrawOnlyOwn() async throws {
        let home = temporaryHome()
        try home.prepare()
        let hub = try HubServer(home: home)
        hub.start()
        defer { hub.stop() }
        let relay = try HubConnection.connect(path: home.socketPath)
        defer { relay.close() }
        let other = try HubConnection.connect(path: home.socketPath)
        defer { other.close() }
        _ = try relay.callBlocking(.hello, ["api": 1, "role": "wrap", "session": "s-a"], timeout: 5)
        _ = try other.callBlocking(.hello, ["api": 1, "role": "wrap", "session": "s-b"], timeout: 5)
        // The request is held until decided: sent without waiting for its answer.
        Thread { _ = try? relay.callBlocking(.grantsRequest, ["id": "g-a", "session": "s-a", "server": "srv", "tool": "rm",
                                                                "deadline": .number(String(Date().timeIntervalSince1970 + 30))], timeout: 30) }.start()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (try? hub.service.store.grant("g-a")) == nil { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(throws: HubError.self) { try other.callBlocking(.grantsWithdraw, ["id": "g-a", "reason": "not mine"], timeout: 5) }
        #expect(try hub.service.store.grant("g-a")?.state == .pending)
        _ = try relay.callBlocking(.grantsWithdraw, ["id": "g-a", "reason": "client cancelled"], timeout: 5)
        #expect(try hub.service.store.grant("g-a")?.state == .cancelled)
    }

    @Test("every API method, called with hostile parameters (wrong types, huge numbers, long strings, bad events), gets an answer and the hub stays up")
    func hostileParameters() async throws {
        let home = temporaryHome()
        try home.prepare()
        let hub = try HubServer(home: home)
        hub.start()
        defer { hub.stop() }
        let methods = HubMethod.allCases
        let keys = ["id", "limit", "since", "name", "reason", "scope", "ttl", "state", "session", "server", "tool", "events", "format", "playbook",
                    "incident", "alert", "run", "step", "action", "note", "assignee", "actor", "open", "topics", "deadline", "requestedAt", "maxTTL", "cacao", "rule"]
        let event: JSONValue = ["id": "s:1", "session": "s", "server": "x", "kind": "call.completed", "time": .number("1e300"),
                                "fields": ["micros": .number("1e300"), "argBytes": .number("-1e300"), "targets": [1, 2], "argKeys": "x"]]
        let values: [JSONValue] = [.number("1e300"), .number("-1"), .number("0"), .number("1.5"), .number("18446744073709551616"), "", .string(String(repeating: "x", count: 5000)),
                                   .null, true, [], [:], [.number("1e300")], ["a": .number("1e300")], "../../etc/passwd", "\u{202E}", "1e300", [event]]
        let answered = await withCheckedContinuation { (done: CheckedContinuation<Int, Never>) in
            // Blocking socket calls: on a thread of their own, not the tests' cooperative pool.
            Thread {
                var rng = SystemRandomNumberGenerator()
                var answered = 0
                var connection = try? HubConnection.connect(path: home.socketPath)
                for _ in 0..<800 {
                    var params = JSONObject()
                    for key in keys.shuffled(using: &rng).prefix(Int.random(in: 0...6, using: &rng)) { params[key] = values.randomElement(using: &rng)! }
                    let method = methods.randomElement(using: &rng)!
                    do {
                        _ = try connection?.callBlocking(method, params, timeout: 5)
                        answered += 1
                    } catch HubError.remote {
                        answered += 1  // refused with a reason: an answer
                    } catch {
                        connection = try? HubConnection.connect(path: home.socketPath)
                    }
                }
                done.resume(returning: answered)
            }.start()
        }
        #expect(answered == 800)
        let check = try HubConnection.connect(path: home.socketPath)
        defer { check.close() }
        #expect((try? check.callBlocking(.hubStatus, [:], timeout: 5)) != nil, "the hub still answers")
    }
}
