import Foundation
import Testing
import WardenCore
@testable import WardenStore

/// Signed chain heads and anchors: what a copy of the head kept outside the database catches.
@Suite("audit anchors and checkpoints")
struct AuditAnchorTests {
    @Test("an anchor's token reads back exactly, and is found in any line that carries it")
    func tokenRoundTrip() throws {
        let key = AuditKey.generate()
        let anchor = key.sign(sequence: 42, head: String(repeating: "ab", count: 32), time: 1_800_000_000.123)
        #expect(AuditAnchor(token: anchor.token) == anchor)
        #expect(AuditAnchor(token: "  \(anchor.token)\n") == anchor)
        #expect(key.signed(anchor))
        let cef = "CEF:0|Warden|Warden|0.1.0|audit.anchor|audit chain head 42 \(anchor.token)|1|cs4Label=anchor cs4=\(anchor.token)"
        #expect(AuditAnchor.all(in: "noise\n" + cef + "\nmore noise") == [anchor])
        #expect(AuditAnchor(token: anchor.token + "0") == nil)
        #expect(AuditAnchor(token: "warden-anchor.1.42.zz") == nil)
    }

    @Test("a changed field, another key's signature or a forged signature does not verify", arguments: ["sequence", "head", "time", "key", "signature"])
    func forged(_ field: String) {
        let key = AuditKey.generate()
        var anchor = key.sign(sequence: 7, head: String(repeating: "0", count: 63) + "1", time: 100)
        switch field {
        case "sequence": anchor.sequence = 6
        case "head": anchor.head = String(repeating: "0", count: 64)
        case "time": anchor.milliseconds += 1
        case "key": anchor = AuditKey.generate().sign(sequence: 7, head: anchor.head, time: 100)
        default: anchor.signature = String(repeating: "0", count: 128)
        }
        #expect(!key.signed(anchor))
    }

    @Test("the key is saved owner-only, loads back as the same key, and a damaged key file is refused rather than replaced")
    func keyFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wk-\(UUID().uuidString)").path
        let path = dir + "/keys/audit.key"
        #expect(try AuditKey.load(path: path) == nil)
        let key = AuditKey.generate()
        try key.save(path: path)
        #expect(try AuditKey.load(path: path)?.id == key.id)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: dir + "/keys")[.posixPermissions] as? Int == 0o700)
        try "not a key\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: StoreError.self) { try AuditKey.load(path: path) }
    }

    @Test("checkpoints: a chain shorter than one, different at one, or longer than the signed end is broken")
    func checkpoints() throws {
        let store = try temporaryStore()
        for i in 1...5 { try store.audit(actor: "alice", action: "grant.approved", subject: "g-\(i)", time: Double(i)) }
        let records = try store.auditRecords(after: 0)
        let at3 = AuditCheckpoint(sequence: 3, hash: records[2].hash, name: "anchor 3")
        let end = AuditCheckpoint(sequence: 5, hash: records[4].hash, name: "the signed head", isEnd: true)
        #expect(try store.verifyAudit(checkpoints: [at3, end]) == .intact(records: 5, head: records[4].hash))
        #expect(try store.verifyAudit(checkpoints: [AuditCheckpoint(sequence: 0, hash: AuditRecord.genesisHash, name: "empty")]) == .intact(records: 5, head: records[4].hash))

        // A head that is not the end: the records after it are unsigned.
        guard case .broken(4, let unsigned) = try store.verifyAudit(checkpoints: [AuditCheckpoint(sequence: 3, hash: records[2].hash, name: "the signed head", isEnd: true)]) else {
            Issue.record("unsigned records after the head not found"); return
        }
        #expect(unsigned.contains("not signed"))
        // A different hash at the anchor's sequence: rewritten.
        guard case .broken(3, let rewritten) = try store.verifyAudit(checkpoints: [AuditCheckpoint(sequence: 3, hash: records[1].hash, name: "anchor 3")]) else {
            Issue.record("rewrite not found"); return
        }
        #expect(rewritten.contains("rewritten"))
        // An anchor beyond the end: truncated.
        guard case .broken(6, let truncated) = try store.verifyAudit(checkpoints: [AuditCheckpoint(sequence: 9, hash: records[4].hash, name: "anchor 9")]) else {
            Issue.record("truncation not found"); return
        }
        #expect(truncated.contains("truncated") && truncated.contains("6…9"))
    }

    @Test("the database and its -wal and -shm are owner-only, and an existing 0644 database is tightened on open")
    func databaseModes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/warden.db"
        let store = try Store(path: path)
        try store.audit(actor: "a", action: "x", subject: "y")
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o600, "\(file)")
        }
        chmod(path, 0o644)
        chmod(path + "-wal", 0o644)
        _ = try Store(path: path)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.posixPermissions] as? Int == 0o600)
    }
}
