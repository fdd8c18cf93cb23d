import Foundation
import GRDB
import WardenCore

/// Alerts, incidents, playbook runs and imported playbooks. Each row keeps its record as JSON (the
/// shapes live in WardenCore); every operator change writes an audit record in the same transaction.
extension Store {
    /// Raises an alert, or groups it into the open alert with the same key (count, last seen, events,
    /// highest severity). Returns the alert and whether it is new. New alerts are audited.
    public func raise(_ candidate: Alert) throws(StoreError) -> (alert: Alert, isNew: Bool) {
        try write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT data FROM alerts WHERE json_extract(data, '$.key') = ? ORDER BY updated_at DESC LIMIT 5",
                                        arguments: [candidate.key])
            let known = rows.compactMap { Alert(json: JSONColumn.value($0["data"])) }
            // A prior an operator called a false positive for this subject is learnt as normal: later
            // calls count on that alert instead of raising a new one.
            if Self.learnsFromFalsePositives.contains(candidate.rule), var learnt = known.first, learnt.status == .falsePositive {
                learnt.count += candidate.count
                learnt.lastSeen = max(learnt.lastSeen, candidate.lastSeen)
                try db.execute(sql: "UPDATE alerts SET updated_at = ?, data = ? WHERE id = ?", arguments: [candidate.lastSeen, JSONColumn.text(learnt.json), learnt.id])
                return (learnt, false)
            }
            if var open = known.first(where: { $0.status.isOpen }) {
                open.count += candidate.count
                open.lastSeen = max(open.lastSeen, candidate.lastSeen)
                open.severity = max(open.severity, candidate.severity)
                open.events = Array((open.events + candidate.events).suffix(100))
                for (k, v) in candidate.details.members { open.details[k] = v }
                try db.execute(sql: "UPDATE alerts SET updated_at = ?, data = ? WHERE id = ?", arguments: [candidate.lastSeen, JSONColumn.text(open.json), open.id])
                return (open, false)
            }
            try db.execute(sql: "INSERT INTO alerts (id, created_at, updated_at, data) VALUES (?,?,?,?)",
                           arguments: [candidate.id, candidate.firstSeen, candidate.lastSeen, JSONColumn.text(candidate.json)])
            _ = try Self.appendAudit(db, time: candidate.firstSeen, actor: "warden", action: "alert.raised", subject: candidate.id,
                                     details: JSONObject(pairs: [("rule", .string(candidate.rule)), ("severity", .string(candidate.severity.rawValue)),
                                                                 ("server", .string(candidate.server)), ("title", .string(candidate.title))]))
            return (candidate, true)
        }
    }

    /// Rules whose alert key names one subject (a host, a parameter): marking one a false positive
    /// teaches that the subject is normal there. Others (a tool's "new destination") are keyed too
    /// broadly to learn from.
    static let learnsFromFalsePositives: Set<String> = ["behaviour.prior", "behaviour.beacon"]

    /// Alerts, most recently seen first.
    public func alerts(openOnly: Bool = false, limit: Int = 1000) throws(StoreError) -> [Alert] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT data FROM alerts ORDER BY updated_at DESC LIMIT ?", arguments: [limit])
                .compactMap { Alert(json: JSONColumn.value($0["data"])) }
                .filter { !openOnly || $0.status.isOpen }
        }
    }

    public func alert(_ id: String) throws(StoreError) -> Alert? {
        try read { db in try Row.fetchOne(db, sql: "SELECT data FROM alerts WHERE id = ?", arguments: [id]).flatMap { Alert(json: JSONColumn.value($0["data"])) } }
    }

    /// Changes an alert (triage) and audits it as `action` by `actor`.
    public func updateAlert(_ id: String, actor: String, action: String, at time: Double, details: JSONObject = JSONObject(),
                            _ change: (inout Alert) -> Void) throws(StoreError) -> Alert? {
        try write { db in
            guard var alert = try Row.fetchOne(db, sql: "SELECT data FROM alerts WHERE id = ?", arguments: [id]).flatMap({ Alert(json: JSONColumn.value($0["data"])) }) else { return nil }
            change(&alert)
            try db.execute(sql: "UPDATE alerts SET updated_at = ?, data = ? WHERE id = ?", arguments: [time, JSONColumn.text(alert.json), id])
            _ = try Self.appendAudit(db, time: time, actor: actor, action: action, subject: id, details: details)
            return alert
        }
    }

    /// Opens an incident for alerts (which then point to it), audited.
    public func openIncident(_ incident: Incident, actor: String) throws(StoreError) -> Incident {
        try write { db in
            try db.execute(sql: "INSERT INTO incidents (id, created_at, updated_at, data) VALUES (?,?,?,?)",
                           arguments: [incident.id, incident.openedAt, incident.openedAt, JSONColumn.text(incident.json)])
            for a in incident.alerts {
                if var alert = try Row.fetchOne(db, sql: "SELECT data FROM alerts WHERE id = ?", arguments: [a]).flatMap({ Alert(json: JSONColumn.value($0["data"])) }) {
                    alert.incident = incident.id
                    if alert.status == .new || alert.status == .acknowledged { alert.status = .inProgress }
                    try db.execute(sql: "UPDATE alerts SET updated_at = ?, data = ? WHERE id = ?", arguments: [incident.openedAt, JSONColumn.text(alert.json), a])
                }
            }
            _ = try Self.appendAudit(db, time: incident.openedAt, actor: actor, action: "incident.opened", subject: incident.id,
                                     details: JSONObject(pairs: [("alerts", .array(incident.alerts.map { .string($0) })), ("title", .string(incident.title))]))
            return incident
        }
    }

    public func incidents(limit: Int = 1000) throws(StoreError) -> [Incident] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT data FROM incidents ORDER BY created_at DESC LIMIT ?", arguments: [limit]).compactMap { Incident(json: JSONColumn.value($0["data"])) }
        }
    }

    public func incident(_ id: String) throws(StoreError) -> Incident? {
        try read { db in try Row.fetchOne(db, sql: "SELECT data FROM incidents WHERE id = ?", arguments: [id]).flatMap { Incident(json: JSONColumn.value($0["data"])) } }
    }

    public func updateIncident(_ id: String, actor: String, action: String, at time: Double, details: JSONObject = JSONObject(),
                               _ change: (inout Incident) -> Void) throws(StoreError) -> Incident? {
        try write { db in
            guard var incident = try Row.fetchOne(db, sql: "SELECT data FROM incidents WHERE id = ?", arguments: [id]).flatMap({ Incident(json: JSONColumn.value($0["data"])) }) else { return nil }
            change(&incident)
            try db.execute(sql: "UPDATE incidents SET updated_at = ?, data = ? WHERE id = ?", arguments: [time, JSONColumn.text(incident.json), id])
            _ = try Self.appendAudit(db, time: time, actor: actor, action: action, subject: id, details: details)
            return incident
        }
    }

    /// Saves a run after a step (insert or update), audited as `action`.
    public func saveRun(_ run: PlaybookRun, actor: String, action: String, at time: Double, details: JSONObject) throws(StoreError) {
        try write { db in
            try db.execute(sql: "INSERT INTO playbook_runs (id, created_at, updated_at, data) VALUES (?,?,?,?) ON CONFLICT(id) DO UPDATE SET updated_at = excluded.updated_at, data = excluded.data",
                           arguments: [run.id, run.startedAt, time, JSONColumn.text(run.json)])
            _ = try Self.appendAudit(db, time: time, actor: actor, action: action, subject: run.id, details: details)
        }
    }

    public func runs(limit: Int = 1000) throws(StoreError) -> [PlaybookRun] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT data FROM playbook_runs ORDER BY created_at DESC LIMIT ?", arguments: [limit]).compactMap { PlaybookRun(json: JSONColumn.value($0["data"])) }
        }
    }

    public func run(_ id: String) throws(StoreError) -> PlaybookRun? {
        try read { db in try Row.fetchOne(db, sql: "SELECT data FROM playbook_runs WHERE id = ?", arguments: [id]).flatMap { PlaybookRun(json: JSONColumn.value($0["data"])) } }
    }

    /// Imported playbooks (CACAO JSON), by name; audited.
    public func savePlaybook(_ playbook: Playbook, actor: String, at time: Double) throws(StoreError) {
        try write { db in
            try db.execute(sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: ["playbook:" + playbook.name, JSONColumn.text(playbook.cacao)])
            _ = try Self.appendAudit(db, time: time, actor: actor, action: "playbook.imported", subject: playbook.name,
                                     details: JSONObject(pairs: [("id", .string(playbook.id)), ("steps", .int(playbook.steps.count))]))
        }
    }

    public func importedPlaybooks() throws(StoreError) -> [Playbook] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT value FROM settings WHERE key LIKE 'playbook:%' ORDER BY key").compactMap { try? Playbook.cacao(JSONColumn.value($0["value"])) }
        }
    }

    /// Events of some sessions, oldest first (for evidence bundles).
    public func events(sessions: [String], limit: Int = 1_000_000) throws(StoreError) -> [Event] {
        guard !sessions.isEmpty else { return [] }
        return try read { db in
            let marks = sessions.map { _ in "?" }.joined(separator: ",")
            return try Row.fetchAll(db, sql: "SELECT id, time, session, server, kind, fields FROM events WHERE session IN (\(marks)) ORDER BY time, id LIMIT ?",
                                    arguments: StatementArguments(sessions.map { $0 as any DatabaseValueConvertible } + [limit])).compactMap { row -> Event? in
                let id: String = row["id"]
                guard let colon = id.lastIndex(of: ":"), let seq = Int(id[id.index(after: colon)...]), let kind = EventKind(rawValue: row["kind"]) else { return nil }
                return Event(sequence: seq, time: row["time"], session: row["session"], server: row["server"], kind: kind, fields: JSONColumn.object(row["fields"]))
            }
        }
    }
}
