import Foundation
import GRDB
import Testing
import WardenCore
@testable import WardenStore

func temporaryStore() throws -> Store {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ws-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return try Store(path: dir + "/warden.db")
}

func event(_ seq: Int, _ kind: EventKind, session: String = "s-1", _ fields: JSONObject = JSONObject()) -> Event {
    Event(sequence: seq, time: 1000 + Double(seq), session: session, server: "git", kind: kind, fields: fields)
}

@Suite("store")
struct StoreTests {
    @Test("ingest is idempotent: a replayed batch adds nothing and counts nothing twice")
    func idempotent() throws {
        let store = try temporaryStore()
        let batch = [event(1, .sessionStarted, ["wardenPid": 10, "serverPid": 11]),
                     event(2, .callCompleted, ["tool": "git_status", "decision": "allowed"]),
                     event(3, .callCompleted, ["tool": "git_status", "decision": "allowed"])]
        #expect(try store.ingest(batch) == IngestResult(inserted: 3, duplicates: 0))
        #expect(try store.ingest(batch) == IngestResult(inserted: 0, duplicates: 3))
        #expect(try store.eventCount() == 3)
        #expect(try store.session("s-1")?.calls == 2)
    }

    @Test("sessions, tools and their review states follow the events")
    func derived() throws {
        let store = try temporaryStore()
        _ = try store.ingest([
            event(1, .sessionInitialized, ["client": "claude", "clientVersion": "1", "serverName": "mcp-git", "protocolVersion": "2025-06-18"]),
            event(2, .toolReviewed, ["tool": "add", "pin": "p1", "verdict": "malicious", "score": 100, "findings": [], "definition": ["name": "add"]]),
            event(3, .toolQuarantined, ["tool": "add", "reason": "verdict malicious"]),
        ])
        #expect(try store.session("s-1")?.info.clientName == "claude")
        let tool = try #require(try store.tool(server: "git", name: "add"))
        #expect(tool.reviewState == .quarantined && tool.verdict == .malicious)
        let approved = try store.review(server: "git", name: "add", state: .approved, actor: "alice", reason: "false positive", at: 2000)
        #expect(approved?.reviewState == .approved)
        #expect(try store.auditRecords().first?.action == "tool.approved")
    }

    @Test("quarantining a tool already quarantined keeps why it was; the new reason is audited")
    func quarantineKeepsReason() throws {
        let store = try temporaryStore()
        _ = try store.ingest([
            event(1, .toolReviewed, ["tool": "add", "pin": "p1", "verdict": "malicious", "score": 100, "findings": [], "definition": ["name": "add"]]),
            event(2, .toolQuarantined, ["tool": "add", "reason": "verdict malicious: instructions addressed to the model"]),
        ])
        let again = try store.review(server: "git", name: "add", state: .quarantined, actor: "playbook", reason: "playbook tool-poisoning (r-1)", at: 3000)
        #expect(again?.quarantineReason == "verdict malicious: instructions addressed to the model")
        #expect(try store.auditRecords().first?.details["reason"]?.stringValue == "playbook tool-poisoning (r-1)")
        _ = try store.review(server: "git", name: "add", state: .approved, actor: "alice", reason: "checked", at: 3001)
        let fresh = try store.review(server: "git", name: "add", state: .quarantined, actor: "bob", reason: "by hand", at: 3002)
        #expect(fresh?.quarantineReason == "by hand", "a tool not quarantined takes the new reason")
    }

    @Test("the audit chain verifies, and any edit, deletion or reordering is found")
    func auditChain() throws {
        let store = try temporaryStore()
        for i in 1...5 { try store.audit(actor: "alice", action: "grant.approved", subject: "g-\(i)", time: Double(i)) }
        #expect(try store.verifyAudit() == .intact(records: 5, head: try #require(try store.auditHead()).hash))

        try store.pool.write { try $0.execute(sql: "UPDATE audit SET actor = 'mallory' WHERE seq = 3") }
        guard case .broken(3, _) = try store.verifyAudit() else { Issue.record("edit not found"); return }
        try store.pool.write { try $0.execute(sql: "UPDATE audit SET actor = 'alice' WHERE seq = 3") }
        #expect(try store.verifyAudit() != .broken(sequence: 3, problem: ""))

        try store.pool.write { try $0.execute(sql: "DELETE FROM audit WHERE seq = 2") }
        guard case .broken(2, let problem) = try store.verifyAudit() else { Issue.record("deletion not found"); return }
        #expect(problem.contains("missing"))
    }

    @Test("removing records from the end is found against the recorded head")
    func tailTruncation() throws {
        let store = try temporaryStore()
        for i in 1...4 { try store.audit(actor: "a", action: "x", subject: "\(i)") }
        let head = try #require(try store.auditHead())
        try store.pool.write { try $0.execute(sql: "DELETE FROM audit WHERE seq = 4") }
        #expect(try store.verifyAudit() == .intact(records: 3, head: try #require(try store.auditHead()).hash))
        let recorded = AuditCheckpoint(sequence: head.sequence, hash: head.hash, name: "the recorded head")
        guard case .broken(4, let problem) = try store.verifyAudit(checkpoints: [recorded]) else { Issue.record("truncation not found"); return }
        #expect(problem.contains("truncated"))
    }

    @Test("grant transitions: legal ones pass, the second decision is told who decided first")
    func transitions() throws {
        let store = try temporaryStore()
        let r = GrantRequest(id: "g-1", sessionID: "s", client: "c", server: "git", tool: "git_commit", arguments: "{}", argumentDigest: "d",
                             rule: "rules[0]", reason: nil, requestedAt: 1, deadline: 61, maxTTL: 600)
        try store.insertPending(r, actor: "wrap:s")
        guard case .success = try store.transition("g-1", to: .denied, actor: "alice", reason: "no", at: 2, update: { $0.decidedBy = "alice" }) else {
            Issue.record("deny failed"); return
        }
        #expect(try store.transition("g-1", to: .approved, actor: "bob", reason: nil, at: 3)
                == .failure(.alreadyDecided(id: "g-1", state: .denied, by: "alice", at: nil)))
        #expect(try store.grantTransitions("g-1").count == 2)
        #expect(try store.verifyAudit() == .intact(records: 2, head: try #require(try store.auditHead()).hash))
    }

    @Test("a file that is not a database gives a clear error")
    func corrupt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString).db").path
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: path))
        #expect { try Store(path: path) } throws: { error in
            (error as? StoreError)?.description.contains("is corrupt or not a SQLite database") == true
        }
    }

    @Test("a prior marked a false positive is learnt: the same subject later counts on that alert, raises no new one; a broad anomaly still raises")
    func falsePositivesLearnt() throws {
        let store = try temporaryStore()
        func candidate(_ rule: String, _ key: String, _ t: Double) -> Alert {
            Alert(id: "a-\(rule)-\(Int(t))", rule: rule, severity: .high, layer: .deploymentInfrastructure, title: "t", key: key, server: "web",
                  session: "s", tool: "fetch", events: ["s:\(Int(t))"], firstSeen: t, lastSeen: t, details: JSONObject())
        }
        let first = try store.raise(candidate("behaviour.prior", "behaviour.prior|web|fetch|destination.port|ci.example:8081", 1))
        #expect(first.isNew)
        _ = try store.updateAlert(first.alert.id, actor: "alice", action: "alert.false-positive", at: 2) { $0.status = .falsePositive }
        let again = try store.raise(candidate("behaviour.prior", "behaviour.prior|web|fetch|destination.port|ci.example:8081", 3))
        #expect(!again.isNew && again.alert.id == first.alert.id && again.alert.status == .falsePositive && again.alert.count == 2)
        let broad = try store.raise(candidate("behaviour.anomaly", "behaviour.anomaly|web|fetch|new destination", 4))
        _ = try store.updateAlert(broad.alert.id, actor: "alice", action: "alert.false-positive", at: 5) { $0.status = .falsePositive }
        #expect(try store.raise(candidate("behaviour.anomaly", "behaviour.anomaly|web|fetch|new destination", 6)).isNew)
    }
}
