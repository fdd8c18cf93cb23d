import Crypto
import Foundation
import GRDB
import WardenCore

/// The result of checking the audit chain.
public enum AuditVerification: Sendable, Equatable {
    /// Every record hashes correctly and links to the one before; `records` were checked.
    case intact(records: Int, head: String)
    /// The first record that does not verify, and why.
    case broken(sequence: Int, problem: String)
}

extension Store {
    /// Appends an audit record inside the caller's transaction (so the state change and its record
    /// land together or not at all).
    @discardableResult
    static func appendAudit(_ db: Database, time: Double, actor: String, action: String, subject: String, details: JSONObject) throws -> AuditRecord {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        let sequence = (last?["seq"] as Int? ?? 0) + 1
        let previous = last?["hash"] as String? ?? AuditRecord.genesisHash
        var record = AuditRecord(sequence: sequence, time: time, actor: actor, action: action, subject: subject,
                                 details: details, previousHash: previous, hash: "")
        record.hash = Self.hash(record)
        try db.execute(sql: "INSERT INTO audit (seq, time, actor, action, subject, details, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?)",
                       arguments: [sequence, time, actor, action, subject, JSONColumn.text(details), previous, record.hash])
        return record
    }

    static func hash(_ record: AuditRecord) -> String {
        SHA256.hash(data: record.hashedContent).map { String(format: "%02x", $0) }.joined()
    }

    /// Appends an audit record on its own (for changes that touch nothing else, like a refused connection).
    @discardableResult
    public func audit(actor: String, action: String, subject: String, details: JSONObject = JSONObject(), time: Double = Date().timeIntervalSince1970) throws(StoreError) -> AuditRecord {
        try write { db in try Self.appendAudit(db, time: time, actor: actor, action: action, subject: subject, details: details) }
    }

    /// The last record's sequence and hash (nil when the log is empty).
    public func auditHead() throws(StoreError) -> (sequence: Int, hash: String)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").map { ($0["seq"], $0["hash"]) }
        }
    }

    /// Records after `sequence`, oldest first (live export, subscriptions).
    public func auditRecords(after sequence: Int) throws(StoreError) -> [AuditRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq", arguments: [sequence]).map(Self.auditRecord)
        }
    }

    /// Audit records, newest first.
    public func auditRecords(limit: Int = 100, since: Double? = nil) throws(StoreError) -> [AuditRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE time >= ? ORDER BY seq DESC LIMIT ?", arguments: [since ?? 0, limit]).map(Self.auditRecord)
        }
    }

    static func auditRecord(_ row: Row) -> AuditRecord {
        AuditRecord(sequence: row["seq"], time: row["time"], actor: row["actor"], action: row["action"], subject: row["subject"],
                    details: JSONColumn.object(row["details"]), previousHash: row["prev_hash"], hash: row["hash"])
    }

    /// Re-computes the whole chain: each record's hash, its link to the previous record, and that
    /// sequence numbers run 1, 2, 3… without gaps (so a deleted or reordered row is found too).
    ///
    /// `knownHead` is the last (sequence, hash) recorded outside the database (the hub keeps it in
    /// `audit.head`): with it, deleting records from the end is detected too.
    public func verifyAudit(knownHead: (sequence: Int, hash: String)? = nil) throws(StoreError) -> AuditVerification {
        try read { db in
            var expectedSequence = 1
            var previous = AuditRecord.genesisHash
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY rowid")
            while let row = try rows.next() {
                let record = Self.auditRecord(row)
                if record.sequence != expectedSequence {
                    return .broken(sequence: expectedSequence, problem: record.sequence > expectedSequence
                        ? "record \(expectedSequence) is missing (the next one is \(record.sequence))"
                        : "records are out of order (found \(record.sequence) after \(expectedSequence - 1))")
                }
                if record.previousHash != previous {
                    return .broken(sequence: record.sequence, problem: "does not link to record \(record.sequence - 1) (a record before it was changed or removed)")
                }
                if Self.hash(record) != record.hash {
                    return .broken(sequence: record.sequence, problem: "its content does not match its hash (it was edited)")
                }
                previous = record.hash
                expectedSequence += 1
            }
            if let knownHead, knownHead.sequence > expectedSequence - 1 {
                return .broken(sequence: expectedSequence, problem: "records \(expectedSequence)…\(knownHead.sequence) were removed from the end (the log ends at \(expectedSequence - 1))")
            }
            if let knownHead, knownHead.sequence > 0, knownHead.sequence <= expectedSequence - 1 {
                let stored = try String.fetchOne(db, sql: "SELECT hash FROM audit WHERE seq = ?", arguments: [knownHead.sequence])
                if stored != knownHead.hash {
                    return .broken(sequence: knownHead.sequence, problem: "does not match the recorded chain head (the log was rewritten)")
                }
            }
            return .intact(records: expectedSequence - 1, head: previous)
        }
    }
}
