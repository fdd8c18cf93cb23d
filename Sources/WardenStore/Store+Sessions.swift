import Foundation
import GRDB
import WardenCore

/// A session as the hub knows it (from the relay's events).
public struct SessionRecord: Sendable, Hashable {
    public var info: SessionInfo
    public var lastActivity: Double
    public var endedAt: Double?
    public var endStatus: String?
    public var calls: Int
    public var denials: Int
    public var risk: Int
}

extension Store {
    /// Sessions, live ones first, then by last activity.
    public func sessions(limit: Int = 1000, liveOnly: Bool = false) throws(StoreError) -> [SessionRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sessions \(liveOnly ? "WHERE ended_at IS NULL" : "") ORDER BY (ended_at IS NULL) DESC, last_activity DESC LIMIT ?",
                             arguments: [limit]).map(Self.session)
        }
    }

    public func session(_ id: String) throws(StoreError) -> SessionRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE id = ?", arguments: [id]).map(Self.session) }
    }

    /// Marks sessions whose wrapper is gone without a goodbye as ended (called at hub start and when
    /// a wrapper's connection drops).
    public func endSession(_ id: String, status: String, at time: Double) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE sessions SET ended_at = coalesce(ended_at, ?), end_status = coalesce(end_status, ?) WHERE id = ?", arguments: [time, status, id])
        }
    }

    static func session(_ row: Row) -> SessionRecord {
        var info = SessionInfo(id: row["id"], server: row["server"], wardenPID: Int32(row["warden_pid"] as Int? ?? 0),
                               serverPID: Int32(row["server_pid"] as Int? ?? 0), startedAt: row["started_at"])
        info.clientName = row["client_name"]
        info.clientVersion = row["client_version"]
        info.serverName = row["server_name"]
        info.serverVersion = row["server_version"]
        info.protocolVersion = row["protocol_version"]
        info.instructions = row["instructions"]
        info.isolation = Isolation(json: JSONColumn.value(row["isolation"]))
        return SessionRecord(info: info, lastActivity: row["last_activity"], endedAt: row["ended_at"], endStatus: row["end_status"],
                             calls: row["calls"], denials: row["denials"], risk: row["risk"])
    }
}
