import GRDB
import WardenCore

/// Behaviour baselines (one JSON record per server/tool), written by the hub as they change and read
/// back when it starts.
extension Store {
    /// Inserts or replaces the given baselines in one transaction.
    public func saveBaselines(_ baselines: [(id: String, data: JSONObject)], at time: Double) throws(StoreError) {
        guard !baselines.isEmpty else { return }
        try write { db in
            for b in baselines {
                try db.execute(sql: "INSERT INTO baselines (id, updated_at, data) VALUES (?,?,?) ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data",
                               arguments: [b.id, time, JSONColumn.text(b.data)])
            }
        }
    }

    /// Every stored baseline.
    public func baselines() throws(StoreError) -> [(id: String, data: JSONObject)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, data FROM baselines ORDER BY id").map { (id: $0["id"], data: JSONColumn.object($0["data"])) }
        }
    }

    /// Forgets baselines (an operator's reset: the tools learn again from their next calls); audited
    /// as one record naming them and the reason.
    public func deleteBaselines(_ ids: [String], actor: String, reason: String, at time: Double) throws(StoreError) {
        try write { db in
            for id in ids { try db.execute(sql: "DELETE FROM baselines WHERE id = ?", arguments: [id]) }
            _ = try Self.appendAudit(db, time: time, actor: actor, action: "baseline.reset", subject: ids.joined(separator: ","),
                                     details: JSONObject(pairs: [("baselines", .array(ids.map { .string($0) })), ("reason", .string(reason))]))
        }
    }
}
