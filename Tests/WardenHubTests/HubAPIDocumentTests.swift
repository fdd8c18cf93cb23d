import Foundation
import Testing
import WardenCore
import WardenHubAPI
@testable import WardenHub

/// `docs/hub-api.md` is the hub API's reference for people; `HubMethod` and `HubPush` are the one
/// definition the code uses. This holds the page to the enums, both ways.
@Suite("the hub API document matches the API")
struct HubAPIDocumentTests {
    static let page: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("docs/hub-api.md"), encoding: .utf8)) ?? ""
    }()

    /// The names in the first cell of every method table row: "| `alerts.ack` / `alerts.assign` | …".
    static var documentedMethods: Set<String> {
        var names: Set<String> = []
        for line in page.split(separator: "\n") where line.hasPrefix("| `") {
            let cell = line.dropFirst(2).prefix { $0 != "|" }
            for (i, part) in cell.split(separator: "`", omittingEmptySubsequences: false).enumerated() where i % 2 == 1 { names.insert(String(part)) }
        }
        return names
    }

    @Test("every method is documented, and every documented method exists")
    func methods() {
        #expect(!Self.page.isEmpty, "docs/hub-api.md not found")
        let code = Set(HubMethod.allCases.map(\.rawValue))
        let documented = Self.documentedMethods
        #expect(code.subtracting(documented).sorted() == [], "methods missing from docs/hub-api.md")
        #expect(documented.subtracting(code).sorted() == [], "docs/hub-api.md documents methods the hub does not have")
    }

    @Test("every push and every error code is named on the page")
    func pushesAndErrors() {
        for push in HubPush.allCases { #expect(Self.page.contains("`\(push.rawValue)`"), "push \(push.rawValue) is not documented") }
        for code in HubErrorCode.allCases { #expect(Self.page.contains("\(code.rawValue)"), "error code \(code.rawValue) is not documented") }
    }

    @Test("every call decision the relay can report is documented")
    func decisions() {
        for d in CallDecision.allCases { #expect(Self.page.contains("`\(d.rawValue)`"), "decision \(d.rawValue) is not in docs/hub-api.md") }
    }

    @Test("grants.request and its answer, read by hand, agree with their Codable forms")
    func handWrittenForms() throws {
        let request = GrantRequest(id: "g-1", sessionID: "s", client: "c", server: "fs", tool: "rm", arguments: #"{"p":1}"#, argumentDigest: "d",
                                   rule: "r", reason: nil, requestedAt: 1_700_000_000.5, deadline: 1_700_000_060, maxTTL: 1800)
        let wire = HubGrantRequest(request)
        #expect(HubGrantRequest(json: wire.json) == wire)
        #expect(try HubWire.decode(HubGrantRequest.self, from: .object(wire.json)) == wire)
        let minimal: JSONObject = ["id": "g-2", "session": "s", "server": "fs", "tool": "rm", "deadline": 1_700_000_060, "reason": .null]
        let byHand = try #require(HubGrantRequest(json: minimal))
        #expect(byHand.client == "unknown client" && byHand.arguments == "{}" && byHand.maxTTL == 3600 && byHand.reason == nil)
        for broken: JSONObject in [["id": "g", "session": "s", "server": "fs", "tool": "rm"], ["id": "g", "session": "s", "server": "fs", "tool": "rm", "deadline": 1, "client": 7],
                                   ["id": 1, "session": "s", "server": "fs", "tool": "rm", "deadline": 1], ["id": "g", "session": "s", "server": "fs", "tool": "rm", "deadline": 1, "maxTTL": "1h"]] {
            #expect(HubGrantRequest(json: broken) == nil)
            #expect((try? HubWire.decode(HubGrantRequest.self, from: .object(broken))) == nil)
        }
        let answer = HubGrantAnswer(outcome: .approved, grantId: "g-1", decidedBy: "alice", scope: .session, expiresAt: 1_700_000_900)
        let decoded = try HubWire.decode(HubGrantAnswer.self, from: answer.json)
        #expect(HubGrantAnswer(json: answer.json) == answer && decoded == answer)
        #expect(HubGrantAnswer(json: ["outcome": "maybe", "grantId": "g"]) == nil)
    }

    @Test("a grant survives the wire: typed state and scope, raw untrusted text")
    func grantRoundTrip() throws {
        let grant = HubGrant(id: "g-1", state: .active, session: "s", client: "c", server: "fs", tool: "rm\u{202E}", arguments: #"{"p":"\u001B[2J"}"#,
                             rule: "r", requestedAt: 1_700_000_000.25, deadline: 1_700_000_060, scope: .session, expiresAt: 1_700_000_900, uses: 4)
        let wire = HubWire.encode(grant)
        #expect(wire["state"]?.stringValue == "active" && wire["scope"]?.stringValue == "session")
        #expect(try HubWire.decode(HubGrant.self, from: wire) == grant)
        #expect(throws: HubWire.DecodingFailure.self) { try HubWire.decode(HubGrant.self, from: ["id": "g-1", "state": "sideways"]) }
    }
}

@Suite("typed hub calls")
struct HubCallTests {
    @Test("a typed call encodes to the parameters the hub reads, and decodes back; absent optionals are absent")
    func roundTrip() throws {
        let approve = GrantsApprove(id: "g-1", scope: .session, ttl: "30m")
        #expect(approve.params["id"] == "g-1" && approve.params["scope"] == "session" && approve.params["ttl"] == "30m")
        #expect(approve.params["actor"] == nil)
        let back = try HubWire.decode(GrantsApprove.self, from: .object(approve.params))
        #expect(back.id == "g-1" && back.scope == .session && back.reason == nil)
        let run = ResponseRun(action: .blockServer, args: ["web"], reason: "beaconing")
        #expect(run.params["action"] == "block-server" && run.params["args"] == ["web"])
        #expect(ResponseRun.method == .responseRun && GrantsDeny.method == .grantsDeny)
    }

    @Test("the hub names what a typed call lacks: a usage error, not a crash or a guess")
    func missing() {
        do throws(HubAPIError) {
            _ = try HubService.typedParams(GrantsDeny.self, ["reason": "no"])
            Issue.record("decoded without an id")
        } catch {
            #expect(error.code == HubErrorCode.usage.rawValue && error.message == "grants.deny: missing id", "\(error.message)")
        }
        #expect(throws: HubAPIError.self) { try HubService.typedParams(ResponseRun.self, ["action": "block-server", "args": [1], "reason": "x"]) }
    }
}
