import Foundation
import Testing
import WardenCore

/// Held, approved, denied and timed-out calls, end to end: Python SDK client → real `warden wrap` →
/// fixture server, with decisions coming over the hub socket.
@Suite("just-in-time grants through wrap", .serialized)
struct GrantFlowTests {
    static let policy = """
        version: 1
        defaults: {action: allow}
        rules:
          - match: {tool: "delete_*"}
            action: grant
            grant: {timeout: 2s, max_ttl: 30m}
        """

    func command(home: String) throws -> [String] {
        try Self.policy.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        return [Harness.warden, "wrap", "--name", "store", "--progress-interval", "0.3", "--", Harness.fixtureServer, "hostile"]
    }

    @Test("approved: the held call reaches the server and the client gets the server's result")
    func approved() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let hub = try TestHub(home: home) { _ in .approve(by: "alice") }
        defer { hub.stop() }
        let report = try await pythonClient(command: try command(home: home), steps: [
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true]],
        ], home: home)
        let result = (report["results"] as! [Any])[0]
        #expect(!isError(result))
        #expect(resultText(result) == #"delete_everything: {"confirm":true}"#)
        let request = try #require(hub.requests.first)
        #expect(request["tool"]?.stringValue == "delete_everything")
        #expect(request["server"]?.stringValue == "store")
        #expect(request["rule"]?.stringValue == "rules[0]")
        #expect(request["arguments"]?.stringValue == #"{"confirm":true}"#)
        #expect(request["client"]?.stringValue?.hasPrefix("mcp") == true)
    }

    @Test("denied: the client gets an attributable refusal, and the server never sees the call")
    func denied() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let hub = try TestHub(home: home) { _ in .deny(by: "alice", reason: "change freeze until Friday") }
        defer { hub.stop() }
        let report = try await pythonClient(command: try command(home: home), steps: [
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true]],
        ], home: home)
        let result = (report["results"] as! [Any])[0]
        #expect(isError(result))
        #expect(resultText(result).contains("alice denied access to tool 'delete_everything' on server 'store'"))
        #expect(resultText(result).contains("change freeze until Friday"))
        #expect(!resultText(result).contains("delete_everything: {"))
        let meta = decisionMeta(result)
        #expect(meta["decision"] as? String == "denied")
        #expect(meta["decidedBy"] as? String == "alice")
        #expect((meta["grantId"] as? String)?.hasPrefix("g-") == true)
    }

    @Test("timed out: nobody decides before the rule's timeout; the client hears so, with progress meanwhile")
    func timedOut() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let hub = try TestHub(home: home) { _ in .ignore }
        defer { hub.stop() }
        let report = try await pythonClient(command: try command(home: home), steps: [
            ["op": "concurrent", "calls": [
                ["name": "delete_everything", "arguments": ["confirm": true], "progress": true],
                ["name": "echo", "arguments": ["text": "not blocked"]],
                ["name": "slow"],
            ]],
        ], home: home)
        let calls = (report["results"] as! [[String: Any]])[0]["concurrent"] as! [[String: Any]]
        let held = calls[0], echo = calls[1], slow = calls[2]
        #expect(isError(held))
        #expect(decisionMeta(held)["decision"] as? String == "expired")
        #expect(resultText(held).contains("no operator approved access to tool 'delete_everything' on server 'store' within 2s"))
        #expect((held["ms"] as! Double) >= 1900)
        // No head-of-line blocking: other calls completed while the first was held.
        #expect(resultText(echo).contains("not blocked"))
        #expect((echo["ms"] as! Double) < 1000)
        #expect(resultText(slow) == "slow done")
        #expect((slow["ms"] as! Double) < 1800)
        let progress = held["progress"] as? [[String: Any]] ?? []
        #expect(progress.count >= 3)
        #expect((progress.first?["message"] as? String)?.contains("Waiting for an operator to approve 'delete_everything'") == true)
    }

    @Test("hub down: calls that need a decision fail closed, others pass; events are spooled, then replayed exactly once")
    func failClosedAndSpool() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let steps: [[String: Any]] = [
            ["op": "list"],
            ["op": "call", "name": "delete_everything", "arguments": ["confirm": true]],
            ["op": "call", "name": "echo", "arguments": ["text": "hi"]],
        ]
        let report = try await pythonClient(command: try command(home: home), steps: steps, home: home)
        let results = report["results"] as! [Any]
        #expect(isError(results[1]))
        #expect(decisionMeta(results[1])["decision"] as? String == "unavailable")
        #expect(resultText(results[1]).contains("Failing closed"))
        #expect(resultText(results[2]).contains("hi"))

        let spooled = try FileManager.default.contentsOfDirectory(atPath: home + "/spool").filter { $0.hasSuffix(".jsonl") }
        #expect(spooled.count == 1)
        let spooledEvents = try String(contentsOfFile: home + "/spool/" + spooled[0], encoding: .utf8).split(separator: "\n").count
        #expect(spooledEvents >= 8)

        // The hub comes back: the next wrapper replays the spool; the hub sees every event once.
        let hub = try TestHub(home: home) { _ in .approve(by: "bob") }
        defer { hub.stop() }
        let second = try await pythonClient(command: try command(home: home), steps: steps, home: home)
        #expect(!isError((second["results"] as! [Any])[1]))
        #expect(hub.uniqueEventCount == hub.totalEventCount)
        #expect(hub.uniqueEventCount >= spooledEvents + 8)
        let left = try FileManager.default.contentsOfDirectory(atPath: home + "/spool")
        #expect(left.isEmpty, "spool files left behind: \(left)")
    }
}
