import Testing
import WardenCore

@Suite("call event fields, typed")
struct CallFieldsTests {
    @Test("every field survives the wire form; only what is set is written")
    func roundTrip() {
        let full = CallFields(id: 7, tool: "delete_note", decision: .approved, rule: "grant-deletes", grantID: "g-1", decidedBy: "alice",
                              reason: "cleanup", argumentDigest: "sha256:ab", arguments: #"{"name":"a"}"#, destination: "evil.example:443",
                              deadline: 1_700_000_000.5, limit: 10, secretKinds: "github-token", micros: 1_234, bytes: 99, isError: true,
                              rpcError: true, batch: true, argBytes: 12, argKeys: ["name"], targets: ["/home/me/a"])
        #expect(CallFields(JSONObject(pairs: full.pairs)) == full)
        let held = CallFields(id: "x", tool: "t", grantID: "g-2")
        #expect(held.pairs.map(\.0) == ["id", "tool", "grantId"])
        #expect(CallFields(JSONObject(pairs: held.pairs)) == held)
    }

    @Test("a decision this build does not know is kept by name and never read as allowed; a field of the wrong type reads as absent")
    func unknownAndMalformed() throws {
        let newer = CallFields(["id": 1, "tool": "t", "decision": "denied-by-oracle", "micros": "fast", "targets": [1, "/tmp/a"]])
        #expect(newer.decision == nil)
        #expect(newer.decisionName == "unknown decision denied-by-oracle")
        #expect(newer.micros == nil)
        #expect(newer.targets == ["/tmp/a"])
        #expect(JSONObject(pairs: newer.pairs)["decision"] == "denied-by-oracle")
        let event = Event(sequence: 1, time: 1, session: "s", server: "srv", kind: .callDecided, call: newer)
        #expect(event.call?.unknownDecision == "denied-by-oracle")
        #expect(event.decision == nil)
        #expect(Event(sequence: 2, time: 1, session: "s", server: "srv", kind: .dlpFinding, fields: ["tool": "t"]).call == nil)
    }
}
