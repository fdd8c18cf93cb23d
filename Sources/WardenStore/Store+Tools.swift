import Foundation
import GRDB
import WardenCore

/// A tool definition as the hub knows it: the latest definition, its analysis, and its review state.
public struct ToolRecord: Sendable, Hashable {
    public typealias ReviewState = ToolReviewState

    public var server: String
    public var name: String
    public var pin: String
    public var definition: JSONValue
    public var verdict: Verdict
    public var score: Int
    public var findings: JSONValue
    public var reviewState: ReviewState
    public var trustedPin: String?
    public var trustedDefinition: JSONValue
    public var quarantineReason: String?
    public var firstSeen: Double
    public var lastSeen: Double
}

extension Store {
    /// Tools, flagged first (quarantined, changed, flagged by score), then by name.
    public func tools(flaggedOnly: Bool = false) throws(StoreError) -> [ToolRecord] {
        try read { db in
            let filter = flaggedOnly ? "WHERE verdict != 'clean' OR review_state IN ('quarantined','changed','flagged')" : ""
            return try Row.fetchAll(db, sql: """
                SELECT * FROM tools \(filter)
                ORDER BY (review_state IN ('quarantined','changed')) DESC, score DESC, server, name
                """).compactMap(Self.tool)
        }
    }

    public func tool(server: String, name: String) throws(StoreError) -> ToolRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM tools WHERE server = ? AND name = ?", arguments: [server, name]).flatMap(Self.tool) }
    }

    /// An operator's review: `approved` trusts the current definition (re-pins it); `quarantined`
    /// hides it. Audited in the same transaction. Quarantining a tool already quarantined keeps why
    /// it was (a playbook's step would otherwise overwrite the analysis's evidence); the new reason
    /// is in the audit record.
    public func review(server: String, name: String, state: ToolRecord.ReviewState, actor: String, reason: String?, at time: Double) throws(StoreError) -> ToolRecord? {
        try write { db -> ToolRecord? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tools WHERE server = ? AND name = ?", arguments: [server, name]),
                  let before = Self.tool(row) else { return nil }
            if state == .approved {
                try db.execute(sql: "UPDATE tools SET review_state = 'approved', trusted_pin = pin, trusted_definition = definition, quarantine_reason = NULL WHERE server = ? AND name = ?",
                               arguments: [server, name])
            } else {
                try db.execute(sql: """
                    UPDATE tools SET quarantine_reason = CASE WHEN review_state = 'quarantined' AND quarantine_reason IS NOT NULL THEN quarantine_reason ELSE ? END,
                    review_state = ? WHERE server = ? AND name = ?
                    """, arguments: [reason, state.rawValue, server, name])
            }
            var details = JSONObject(pairs: [("pin", .string(before.pin)), ("from", .string(before.reviewState.rawValue))])
            if let reason { details["reason"] = .string(reason) }
            try Self.appendAudit(db, time: time, actor: actor, action: "tool.\(state.rawValue)", subject: "\(server)/\(name)", details: details)
            return try Row.fetchOne(db, sql: "SELECT * FROM tools WHERE server = ? AND name = ?", arguments: [server, name]).flatMap(Self.tool)
        }
    }

    /// Records an operator's suppression of `rule` for a tool: the stored review is re-judged
    /// (`findings`, `score`, `verdict` as given), an analysis-made quarantine is lifted when the
    /// verdict no longer warrants it, and the change is audited.
    public func suppress(server: String, name: String, rule: String, reason: String, actor: String, at time: Double,
                         findings: JSONValue, score: Int, verdict: Verdict, liftQuarantine: Bool) throws(StoreError) -> ToolRecord? {
        try write { db -> ToolRecord? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM tools WHERE server = ? AND name = ?", arguments: [server, name]),
                  let before = Self.tool(row) else { return nil }
            try db.execute(sql: "UPDATE tools SET findings = ?, score = ?, verdict = ? WHERE server = ? AND name = ?",
                           arguments: [JSONColumn.text(findings), score, verdict.rawValue, server, name])
            if liftQuarantine {
                try db.execute(sql: "UPDATE tools SET review_state = 'unreviewed', quarantine_reason = NULL WHERE server = ? AND name = ? AND review_state = 'quarantined'",
                               arguments: [server, name])
            }
            try Self.appendAudit(db, time: time, actor: actor, action: "tool.rule-suppressed", subject: "\(server)/\(name)",
                                 details: JSONObject(pairs: [("rule", .string(rule)), ("reason", .string(reason)), ("pin", .string(before.pin)),
                                                             ("verdictBefore", .string(before.verdict.rawValue)), ("verdictAfter", .string(verdict.rawValue))]))
            return try Row.fetchOne(db, sql: "SELECT * FROM tools WHERE server = ? AND name = ?", arguments: [server, name]).flatMap(Self.tool)
        }
    }

    static func tool(_ row: Row) -> ToolRecord? {
        guard let state = ToolRecord.ReviewState(rawValue: row["review_state"]), let verdict = Verdict(rawValue: row["verdict"]) else { return nil }
        return ToolRecord(server: row["server"], name: row["name"], pin: row["pin"], definition: JSONColumn.value(row["definition"]),
                          verdict: verdict, score: row["score"], findings: JSONColumn.value(row["findings"]), reviewState: state,
                          trustedPin: row["trusted_pin"], trustedDefinition: JSONColumn.value(row["trusted_definition"]),
                          quarantineReason: row["quarantine_reason"], firstSeen: row["first_seen"], lastSeen: row["last_seen"])
    }
}
