import Foundation
import GRDB
import WardenCore

/// What an ingest did.
public struct IngestResult: Sendable, Equatable {
    public var inserted: Int
    /// Events whose id was already stored (a replayed spool): skipped.
    public var duplicates: Int
}

extension Store {
    /// Stores a batch of events in one transaction and updates what they imply (sessions, tools).
    /// Idempotent: an event id seen before is skipped, so replaying a spool never duplicates.
    public func ingest(_ events: [Event], receivedAt: Double = Date().timeIntervalSince1970) throws(StoreError) -> IngestResult {
        try write { db in
            var inserted = 0
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO events (id, session, server, kind, time, fields, received_at) VALUES (?,?,?,?,?,?,?)")
            for e in events {
                try insert.execute(arguments: [e.id, e.session, e.server, e.kind.rawValue, e.time, JSONColumn.text(e.fields), receivedAt])
                guard db.changesCount > 0 else { continue }
                inserted += 1
                try Self.apply(e, db)
            }
            return IngestResult(inserted: inserted, duplicates: events.count - inserted)
        }
    }

    /// Derived state. Only first-time events get here, so counters stay exact under replay.
    static func apply(_ e: Event, _ db: Database) throws {
        let f = e.fields
        switch e.kind {
        case .sessionStarted:
            try db.run("""
                INSERT INTO sessions (id, server, warden_pid, server_pid, started_at, last_activity, isolation) VALUES (?,?,?,?,?,?,?)
                ON CONFLICT(id) DO NOTHING
                """, arguments: [e.session, e.server, f["wardenPid"]?.intValue, f["serverPid"]?.intValue, e.time, e.time,
                                 Isolation(json: f["isolation"]).map { JSONColumn.text($0.json) }])
        case .sessionInitialized:
            try ensureSession(e, db)
            try db.run("""
                UPDATE sessions SET client_name = ?, client_version = ?, server_name = ?, server_version = ?,
                  protocol_version = ?, instructions = ?, last_activity = max(last_activity, ?) WHERE id = ?
                """, arguments: [f["client"]?.stringValue, f["clientVersion"]?.stringValue, f["serverName"]?.stringValue,
                                 f["serverVersion"]?.stringValue, f["protocolVersion"]?.stringValue, f["instructions"]?.stringValue,
                                 e.time, e.session])
        case .sessionEnded, .serverExited:
            try ensureSession(e, db)
            try db.run("UPDATE sessions SET ended_at = coalesce(ended_at, ?), end_status = coalesce(?, end_status), last_activity = max(last_activity, ?) WHERE id = ?",
                           arguments: [e.time, f["status"]?.stringValue, e.time, e.session])
        case .callCompleted:
            try ensureSession(e, db)
            try db.run("UPDATE sessions SET calls = calls + 1, last_activity = max(last_activity, ?) WHERE id = ?", arguments: [e.time, e.session])
        case .callDecided:
            try ensureSession(e, db)
            let refused = e.decision?.forwarded != true
            try db.run("UPDATE sessions SET denials = denials + ?, last_activity = max(last_activity, ?) WHERE id = ?",
                           arguments: [refused ? 1 : 0, e.time, e.session])
        case .toolReviewed:
            try upsertTool(e, db)
        case .toolQuarantined:
            try db.run("UPDATE tools SET review_state = CASE WHEN review_state = 'approved' AND trusted_pin = pin THEN review_state ELSE 'quarantined' END, quarantine_reason = ? WHERE server = ? AND name = ?",
                           arguments: [f["reason"]?.stringValue, e.server, f["tool"]?.stringValue])
            try db.run("UPDATE sessions SET risk = min(100, risk + 20) WHERE id = ?", arguments: [e.session])
        case .toolChanged:
            try db.run("UPDATE tools SET review_state = 'changed', trusted_pin = coalesce(trusted_pin, ?), trusted_definition = coalesce(trusted_definition, ?) WHERE server = ? AND name = ?",
                           arguments: [f["trustedPin"]?.stringValue, f["trustedDefinition"].map(JSONColumn.text), e.server, f["tool"]?.stringValue])
        case .dlpFinding, .resultInjection, .sandboxNetwork:
            try ensureSession(e, db)
            try db.run("UPDATE sessions SET risk = min(100, risk + 30), last_activity = max(last_activity, ?) WHERE id = ?", arguments: [e.time, e.session])
        case .notification, .response, .callHeld, .callCancelled, .callForwarded, .toolsListed, .protocolError:
            try db.run("UPDATE sessions SET last_activity = max(last_activity, ?) WHERE id = ?", arguments: [e.time, e.session])
        }
    }

    /// Events can arrive before their session's first event (a spool replayed late): make a row.
    static func ensureSession(_ e: Event, _ db: Database) throws {
        try db.run("INSERT INTO sessions (id, server, started_at, last_activity) VALUES (?,?,?,?) ON CONFLICT(id) DO NOTHING",
                       arguments: [e.session, e.server, e.time, e.time])
    }

    static func upsertTool(_ e: Event, _ db: Database) throws {
        let f = e.fields
        guard let name = f["tool"]?.stringValue, let pin = f["pin"]?.stringValue else { return }
        let verdict = f["verdict"]?.stringValue ?? "clean"
        let definition = JSONColumn.text(f["definition"] ?? .null)
        let findings = JSONColumn.text(f["findings"] ?? .array([]))
        let score = f["score"]?.intValue ?? 0
        let state = verdict == "clean" ? "unreviewed" : "flagged"
        try db.run("""
            INSERT INTO tools (server, name, pin, definition, verdict, score, findings, review_state, trusted_pin, trusted_definition, first_seen, last_seen)
            VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
            ON CONFLICT(server, name) DO UPDATE SET
              review_state = CASE WHEN tools.pin = excluded.pin THEN tools.review_state
                                  WHEN tools.trusted_pin = excluded.pin THEN 'approved'
                                  ELSE 'changed' END,
              pin = excluded.pin, definition = excluded.definition, verdict = excluded.verdict, score = excluded.score,
              findings = excluded.findings, last_seen = excluded.last_seen
            """, arguments: [e.server, name, pin, definition, verdict, score, findings, state, pin, definition, e.time, e.time])
    }

    /// Events, newest first (or after `afterTime`, oldest first, for tailing).
    public func events(session: String? = nil, since: Double? = nil, limit: Int = 100, ascending: Bool = false) throws(StoreError) -> [Event] {
        try read { db in
            var sql = "SELECT * FROM events WHERE time >= ?"
            var args: [any DatabaseValueConvertible] = [since ?? 0]
            if let session {
                sql += " AND session = ?"
                args.append(session)
            }
            sql += ascending ? " ORDER BY time ASC, rowid ASC LIMIT ?" : " ORDER BY time DESC, rowid DESC LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap(Self.event)
        }
    }

    /// The calls a grant let through, oldest first: the `call.decided` approvals that name it
    /// (the held call it was made for, then every later call in its scope).
    /// Only rows of the grant's own server and tool count: any process of the uid can append
    /// events, and a record naming the grant from elsewhere is not a call it let through.
    public func callsCovered(byGrant id: String, server: String, tool: String, limit: Int = 500) throws(StoreError) -> (calls: [Event], total: Int) {
        try read { db in
            let filter = """
                FROM events WHERE kind = 'call.decided' AND json_extract(fields, '$.grantId') = ? AND server = ?
                  AND json_extract(fields, '$.tool') = ? AND json_extract(fields, '$.decision') = 'approved'
                """
            let total = try Int.fetchOne(db, sql: "SELECT count(*) " + filter, arguments: [id, server, tool]) ?? 0
            let calls = try Row.fetchAll(db, sql: "SELECT * " + filter + " ORDER BY time ASC, rowid ASC LIMIT ?",
                                         arguments: [id, server, tool, limit]).compactMap(Self.event)
            return (calls, total)
        }
    }

    static func event(_ row: Row) -> Event? {
        let id: String = row["id"]
        guard let colon = id.lastIndex(of: ":"), let sequence = Int(id[id.index(after: colon)...]),
              let kind = EventKind(rawValue: row["kind"]) else { return nil }
        return Event(sequence: sequence, time: row["time"], session: row["session"], server: row["server"], kind: kind,
                     fields: JSONColumn.object(row["fields"]))
    }

    /// Number of stored events.
    public func eventCount() throws(StoreError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0 }
    }

    /// Deletes raw events older than `cutoff` (audit records are never pruned). Returns how many.
    @discardableResult
    public func pruneEvents(before cutoff: Double) throws(StoreError) -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM events WHERE time < ?", arguments: [cutoff])
            return db.changesCount
        }
    }

    /// First and last `call.completed` time per server/tool: what standing access would have spanned.
    public func callSpans() throws(StoreError) -> [(server: String, tool: String, first: Double, last: Double, calls: Int)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT server, json_extract(fields, '$.tool') AS tool, min(time) AS first, max(time) AS last, count(*) AS calls
                FROM events WHERE kind = 'call.completed' GROUP BY server, tool
                """).map { ($0["server"], $0["tool"] ?? "", $0["first"], $0["last"], $0["calls"]) }
        }
    }
}

extension Database {
    /// Runs one of the ingest path's fixed statements from the connection's statement cache: every
    /// event runs one to three of them, and compiling each afresh (with GRDB's authorizer looking at
    /// every column) was about a sixth of the hub's time under a flood of calls.
    func run(_ sql: String, arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
