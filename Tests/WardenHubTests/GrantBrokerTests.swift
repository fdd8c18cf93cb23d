import Foundation
import Synchronization
import Testing
import WardenCore
@testable import WardenHub
@testable import WardenStore

/// A clock the test moves.
final class ManualClock: Sendable {
    let now = Mutex<Double>(1_000)
    func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
    var read: @Sendable () -> Double { { [self] in now.withLock { $0 } } }
}

final class Replies: Sendable {
    let values = Mutex<[String: JSONValue]>([:])
    func reply(for id: String) -> @Sendable (JSONValue) -> Void { { v in self.values.withLock { $0[id] = v } } }
    func outcome(_ id: String) -> String? { values.withLock { $0[id]?["outcome"]?.stringValue } }
}

func brokerRig() throws -> (GrantBroker, ManualClock, Replies, Store) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wb-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let store = try Store(path: dir + "/warden.db")
    let clock = ManualClock()
    return (try GrantBroker(store: store, clock: clock.read), clock, Replies(), store)
}

func request(_ id: String, session: String = "s-1", tool: String = "git_commit", digest: String = "d1", at clock: ManualClock, timeout: Double = 60, maxTTL: Double = 1800) -> GrantRequest {
    let now = clock.read()
    return GrantRequest(id: id, sessionID: session, client: "claude", server: "git", tool: tool, arguments: "{}", argumentDigest: digest,
                        rule: "rules[0]", reason: nil, requestedAt: now, deadline: now + timeout, maxTTL: maxTTL)
}

@Suite("grant broker")
struct GrantBrokerTests {
    @Test("approval releases the waiting call; TTL is capped by max_ttl; later calls in scope pass at once")
    func approveAndScope() throws {
        let (broker, clock, replies, _) = try brokerRig()
        broker.request(request("g-1", at: clock, maxTTL: 600), connection: 1, reply: replies.reply(for: "g-1"))
        #expect(replies.outcome("g-1") == nil)
        guard case .success(let g) = try broker.approve("g-1", scope: .call, ttl: 3600, actor: "alice", reason: nil) else { Issue.record(); return }
        #expect(g.ttl == 600 && g.state == .active)
        #expect(replies.outcome("g-1") == "approved")
        // Same arguments: covered. Other arguments: asks again (call scope).
        broker.request(request("g-2", at: clock), connection: 1, reply: replies.reply(for: "g-2"))
        #expect(replies.outcome("g-2") == "approved")
        broker.request(request("g-3", digest: "other", at: clock), connection: 1, reply: replies.reply(for: "g-3"))
        #expect(replies.outcome("g-3") == nil)
        // Another session: not covered by a call grant either.
        broker.request(request("g-4", session: "s-2", at: clock), connection: 2, reply: replies.reply(for: "g-4"))
        #expect(replies.outcome("g-4") == nil)
    }

    @Test("scopes: session covers other arguments in the session; server covers every session")
    func scopes() throws {
        let (broker, clock, replies, _) = try brokerRig()
        broker.request(request("g-1", at: clock), connection: 1, reply: replies.reply(for: "g-1"))
        _ = try broker.approve("g-1", scope: .session, ttl: nil, actor: "alice", reason: nil)
        broker.request(request("g-2", digest: "other", at: clock), connection: 1, reply: replies.reply(for: "g-2"))
        #expect(replies.outcome("g-2") == "approved")
        broker.request(request("g-3", session: "s-2", at: clock), connection: 2, reply: replies.reply(for: "g-3"))
        #expect(replies.outcome("g-3") == nil)
        _ = try broker.approve("g-3", scope: .server, ttl: nil, actor: "alice", reason: nil)
        broker.request(request("g-4", session: "s-3", digest: "x", at: clock), connection: 3, reply: replies.reply(for: "g-4"))
        #expect(replies.outcome("g-4") == "approved")
        broker.request(request("g-5", session: "s-3", tool: "git_push", at: clock), connection: 3, reply: replies.reply(for: "g-5"))
        #expect(replies.outcome("g-5") == nil, "a grant never widens to another tool")
    }

    @Test("pending requests expire at their deadline; active grants at their TTL")
    func expiry() throws {
        let (broker, clock, replies, store) = try brokerRig()
        broker.request(request("g-1", at: clock, timeout: 30), connection: 1, reply: replies.reply(for: "g-1"))
        clock.advance(29)
        broker.tick()
        #expect(replies.outcome("g-1") == nil)
        clock.advance(2)
        broker.tick()
        #expect(replies.outcome("g-1") == "expired")
        #expect(try store.grant("g-1")?.state == .expired)

        broker.request(request("g-2", at: clock), connection: 1, reply: replies.reply(for: "g-2"))
        _ = try broker.approve("g-2", scope: .session, ttl: 60, actor: "alice", reason: nil)
        clock.advance(61)
        broker.tick()
        #expect(try store.grant("g-2")?.state == .expired)
        broker.request(request("g-3", at: clock), connection: 1, reply: replies.reply(for: "g-3"))
        #expect(replies.outcome("g-3") == nil, "an expired grant covers nothing")
    }

    @Test("revocation ends coverage at once and releases waiting calls in its scope with a denial")
    func revoke() throws {
        let (broker, clock, replies, _) = try brokerRig()
        broker.request(request("g-1", at: clock), connection: 1, reply: replies.reply(for: "g-1"))
        _ = try broker.approve("g-1", scope: .server, ttl: nil, actor: "alice", reason: nil)
        broker.request(request("g-2", tool: "git_commit", digest: "zzz", at: clock), connection: 1, reply: replies.reply(for: "g-2"))
        #expect(replies.outcome("g-2") == "approved")
        _ = try broker.revoke("g-1", actor: "bob", reason: "incident")
        broker.request(request("g-3", at: clock), connection: 1, reply: replies.reply(for: "g-3"))
        #expect(replies.outcome("g-3") == nil)
        // g-3 waits; a second revoke of the same grant is refused, a new grant's revoke releases g-3? No: g-3 is pending under no grant.
        guard case .failure(.illegal) = try broker.revoke("g-1", actor: "bob", reason: nil) else { Issue.record("double revoke allowed"); return }
    }

    @Test("the first decision wins; a withdrawn or abandoned request is cancelled")
    func races() throws {
        let (broker, clock, replies, store) = try brokerRig()
        broker.request(request("g-1", at: clock), connection: 1, reply: replies.reply(for: "g-1"))
        _ = try broker.deny("g-1", actor: "alice", reason: "no")
        guard case .failure(.alreadyDecided(_, .denied, "alice", _)) = try broker.approve("g-1", scope: .call, ttl: nil, actor: "bob", reason: nil) else {
            Issue.record("second decision was not refused"); return
        }
        #expect(replies.outcome("g-1") == "denied")
        broker.request(request("g-2", at: clock), connection: 7, reply: replies.reply(for: "g-2"))
        broker.withdraw("g-2", reason: "client cancelled")
        #expect(try store.grant("g-2")?.state == .cancelled)
        broker.request(request("g-3", at: clock), connection: 7, reply: replies.reply(for: "g-3"))
        broker.connectionClosed(7)
        #expect(try store.grant("g-3")?.state == .cancelled)
        #expect(broker.waitingCount == 0)
    }

    @Test("a restarted broker cancels requests nobody waits for and keeps active grants")
    func restart() throws {
        let (broker, clock, replies, store) = try brokerRig()
        broker.request(request("g-1", at: clock), connection: 1, reply: replies.reply(for: "g-1"))
        _ = try broker.approve("g-1", scope: .session, ttl: nil, actor: "alice", reason: nil)
        broker.request(request("g-2", tool: "git_push", at: clock), connection: 1, reply: replies.reply(for: "g-2"))
        let again = try GrantBroker(store: store, clock: clock.read)
        #expect(try store.grant("g-2")?.state == .cancelled)
        again.request(request("g-3", digest: "new", at: clock), connection: 1, reply: replies.reply(for: "g-3"))
        #expect(replies.outcome("g-3") == "approved")
    }
}

@Suite("SIEM formats")
struct SIEMFormatTests {
    let call = SIEMRecord(kind: .toolCall, uid: "s-1:5", time: 1_764_000_000.25, severity: .info, name: "tool.call",
                          message: "tools/call a|b=c on git", server: "git", tool: "a|b=c", session: "s-1", actor: "claude", outcome: "allowed",
                          extra: JSONObject())

    @Test("OCSF lines carry every required attribute of their class")
    func ocsf() throws {
        let v = try JSONParser.parse(SIEMFormat.ocsf.encode(call))
        for key in ["category_uid", "class_uid", "activity_id", "type_uid", "time", "severity_id", "metadata", "actor", "api", "src_endpoint"] {
            #expect(v[key] != nil, "missing \(key)")
        }
        #expect(v["class_uid"] == 6003 && v["type_uid"] == 600399)
        #expect(v["metadata"]?["product"]?["vendor_name"] == "Warden")
        #expect(v["api"]?["operation"] == "tools/call")
        var finding = call
        finding.kind = .finding
        let f = try JSONParser.parse(SIEMFormat.ocsf.encode(finding))
        #expect(f["class_uid"] == 2004 && f["finding_info"]?["uid"] != nil && f["finding_info"]?["title"] != nil)
        var access = call
        access.kind = .access
        access.outcome = "approved"
        let a = try JSONParser.parse(SIEMFormat.ocsf.encode(access))
        #expect(a["class_uid"] == 3005 && a["activity_id"] == 1 && a["user"] != nil)
    }

    @Test("CEF escapes pipes in the header and = and backslashes in extensions")
    func cef() {
        let line = SIEMFormat.cef.encode(call)
        #expect(line.hasPrefix("CEF:0|Warden|Warden|"))
        #expect(line.contains(#"tools/call a\|b=c on git"#))
        #expect(line.contains(#"cs2=a|b\=c"#))
    }

    @Test("syslog is RFC 5424 with escaped structured data and no raw control characters")
    func syslog() {
        var r = call
        r.tool = "x\"]\u{1B}[31m"
        let line = SIEMFormat.syslog.encode(r, hostname: "host")
        #expect(line.hasPrefix("<86>1 2025-11-24T16:00:00.250Z host warden "))
        // Escapes are written ASCII-only for collectors: ESC as <U+001B>.
        #expect(line.contains(#"tool="x\"\]<U+001B>[31m""#))
        #expect(!line.contains("\u{1B}"))
    }
}
