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
    /// sequence numbers run 1, 2, 3… without gaps (so a deleted or reordered row is found too), and
    /// checks it passes through every checkpoint: the chain is not shorter than any of them and has
    /// their hash at their sequence (hashes link, so every record before a checkpoint is then the
    /// one it covered). A checkpoint that `isEnd` must also be the last record.
    ///
    /// Checkpoints come from outside the database (the signed `audit.head`, exported anchors, the
    /// hub's memory): without them, deleting records from the end or rewriting the whole chain with
    /// fresh hashes cannot be told from an intact log.
    public func verifyAudit(checkpoints: [AuditCheckpoint] = []) throws(StoreError) -> AuditVerification {
        try read { db in
            var expectedSequence = 1
            var previous = AuditRecord.genesisHash
            let bySequence = Dictionary(grouping: checkpoints, by: \.sequence)
            for checkpoint in bySequence[0] ?? [] where checkpoint.hash != AuditRecord.genesisHash {
                return .broken(sequence: 1, problem: "\(checkpoint.name) is for an empty log but does not carry the empty log's hash")
            }
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
                for checkpoint in bySequence[record.sequence] ?? [] where checkpoint.hash != record.hash {
                    return .broken(sequence: record.sequence, problem: "does not match \(checkpoint.name): the log was rewritten at or before record \(record.sequence)")
                }
                previous = record.hash
                expectedSequence += 1
            }
            let last = expectedSequence - 1
            if let longest = checkpoints.max(by: { $0.sequence < $1.sequence }), longest.sequence > last {
                return .broken(sequence: expectedSequence, problem: "the log ends at record \(last) but \(longest.name) has \(longest.sequence) records: records \(expectedSequence)…\(longest.sequence) were removed from the end (the log was truncated)")
            }
            if let end = checkpoints.first(where: { $0.isEnd && $0.sequence < last }) {
                return .broken(sequence: end.sequence + 1, problem: "records \(end.sequence + 1)…\(last) come after \(end.name) and are not signed (they were added to the database directly, or the hub refused to sign a head that does not extend the one it signed before)")
            }
            return .intact(records: last, head: previous)
        }
    }
}

/// A point the audit chain must pass through, known from outside the database.
public struct AuditCheckpoint: Sendable, Equatable {
    /// The record's sequence (0: the empty chain).
    public var sequence: Int
    /// That record's hash.
    public var hash: String
    /// What it is, for problems: `the signed head in audit.head`, `anchor 12 (signed 2026-…)`.
    public var name: String
    /// The chain must end exactly here (a signed head: later records are not signed).
    public var isEnd: Bool

    public init(sequence: Int, hash: String, name: String, isEnd: Bool = false) {
        self.sequence = sequence
        self.hash = hash
        self.name = name
        self.isEnd = isEnd
    }
}
