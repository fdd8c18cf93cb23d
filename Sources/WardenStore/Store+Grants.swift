import Foundation
import GRDB
import WardenCore

/// Why a grant change was refused.
public enum GrantChangeError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(id: String)
    /// Someone else got there first (two operators deciding the same request).
    case alreadyDecided(id: String, state: GrantState, by: String?, at: Double?)
    case illegal(id: String, from: GrantState, to: GrantState)

    public var description: String {
        switch self {
        case .notFound(let id): "no grant \(id)"
        case .alreadyDecided(let id, let state, let by, _): "grant \(id) was already \(state.rawValue)\(by.map { " by \($0)" } ?? "")"
        case .illegal(let id, let from, let to): "grant \(id) is \(from.rawValue); it cannot become \(to.rawValue)"
        }
    }
}

extension Store {
    /// Records a new pending request (and its audit record).
    public func insertPending(_ r: GrantRequest, actor: String) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                INSERT INTO grants (id, session, client, server, tool, arguments, argument_digest, rule, rule_reason, requested_at, deadline, max_ttl, state)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?, 'pending')
                """, arguments: [r.id, r.sessionID, r.client, r.server, r.tool, r.arguments, r.argumentDigest, r.rule, r.reason,
                                 r.requestedAt, r.deadline, r.maxTTL])
            try db.execute(sql: "INSERT INTO grant_transitions (grant_id, time, from_state, to_state, actor, reason) VALUES (?,?,NULL,'pending',?,?)",
                           arguments: [r.id, r.requestedAt, actor, r.reason])
            try Self.appendAudit(db, time: r.requestedAt, actor: actor, action: "grant.requested", subject: r.id, details: JSONObject(pairs: [
                ("server", .string(r.server)), ("tool", .string(r.tool)), ("session", .string(r.sessionID)),
                ("argumentDigest", .string(r.argumentDigest)), ("rule", .string(r.rule)),
            ]))
        }
    }

    /// Moves a grant to `to`, if its current state allows it; `update` fills in decision fields.
    /// The check and the change are one transaction, so of two racing operators exactly one wins.
    public func transition(_ id: String, to: GrantState, actor: String, reason: String?, at time: Double,
                           update: (inout GrantRecord) -> Void = { _ in }) throws(StoreError) -> Result<GrantRecord, GrantChangeError> {
        try write { db -> Result<GrantRecord, GrantChangeError> in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ?", arguments: [id]), var grant = Self.grant(row) else {
                return .failure(.notFound(id: id))
            }
            let from = grant.state
            guard from.allows(to) else {
                if from != .pending && (to == .approved || to == .denied) {
                    return .failure(.alreadyDecided(id: id, state: from, by: grant.decidedBy, at: grant.decidedAt))
                }
                return .failure(.illegal(id: id, from: from, to: to))
            }
            grant.state = to
            update(&grant)
            if to.isFinal { grant.endedAt = grant.endedAt ?? time }
            try db.execute(sql: """
                UPDATE grants SET state = ?, scope = ?, ttl = ?, decided_at = ?, decided_by = ?, decision_reason = ?, expires_at = ?, ended_at = ?, uses = ?
                WHERE id = ? AND state = ?
                """, arguments: [to.rawValue, grant.scope?.rawValue, grant.ttl, grant.decidedAt, grant.decidedBy, grant.decisionReason,
                                 grant.expiresAt, grant.endedAt, grant.uses, id, from.rawValue])
            try db.execute(sql: "INSERT INTO grant_transitions (grant_id, time, from_state, to_state, actor, reason) VALUES (?,?,?,?,?,?)",
                           arguments: [id, time, from.rawValue, to.rawValue, actor, reason])
            var details = JSONObject(pairs: [("from", .string(from.rawValue)), ("server", .string(grant.request.server)), ("tool", .string(grant.request.tool))])
            if let reason { details["reason"] = .string(reason) }
            if let scope = grant.scope { details["scope"] = .string(scope.rawValue) }
            if let ttl = grant.ttl { details["ttl"] = .number(String(ttl)) }
            try Self.appendAudit(db, time: time, actor: actor, action: "grant.\(to.rawValue)", subject: id, details: details)
            return .success(grant)
        }
    }

    /// Counts a call let through by an active grant.
    public func recordGrantUse(_ id: String) throws(StoreError) {
        try write { db in try db.execute(sql: "UPDATE grants SET uses = uses + 1 WHERE id = ?", arguments: [id]) }
    }

    public func grant(_ id: String) throws(StoreError) -> GrantRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ?", arguments: [id]).flatMap(Self.grant) }
    }

    /// Grants, pending first then newest first; optionally only those in `states`.
    public func grants(states: [GrantState]? = nil, limit: Int = 500) throws(StoreError) -> [GrantRecord] {
        try read { db in
            var sql = "SELECT * FROM grants"
            var args: [any DatabaseValueConvertible] = []
            if let states, !states.isEmpty {
                sql += " WHERE state IN (\(states.map { _ in "?" }.joined(separator: ",")))"
                args += states.map(\.rawValue)
            }
            sql += " ORDER BY (state = 'pending') DESC, requested_at DESC LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).compactMap(Self.grant)
        }
    }

    /// The who/when/why of every transition of a grant, oldest first.
    public func grantTransitions(_ id: String) throws(StoreError) -> [JSONObject] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM grant_transitions WHERE grant_id = ? ORDER BY rowid", arguments: [id]).map { row in
                JSONObject(pairs: [("time", .number(String(row["time"] as Double))), ("from", (row["from_state"] as String?).map { .string($0) } ?? .null),
                                   ("to", .string(row["to_state"])), ("actor", .string(row["actor"])),
                                   ("reason", (row["reason"] as String?).map { .string($0) } ?? .null)])
            }
        }
    }

    static func grant(_ row: Row) -> GrantRecord? {
        guard let state = GrantState(rawValue: row["state"]) else { return nil }
        let request = GrantRequest(id: row["id"], sessionID: row["session"], client: row["client"], server: row["server"], tool: row["tool"],
                                   arguments: row["arguments"], argumentDigest: row["argument_digest"], rule: row["rule"],
                                   reason: row["rule_reason"], requestedAt: row["requested_at"], deadline: row["deadline"], maxTTL: row["max_ttl"])
        var g = GrantRecord(request: request, state: state)
        g.scope = (row["scope"] as String?).flatMap(GrantScope.init(rawValue:))
        g.ttl = row["ttl"]
        g.decidedAt = row["decided_at"]
        g.decidedBy = row["decided_by"]
        g.decisionReason = row["decision_reason"]
        g.expiresAt = row["expires_at"]
        g.endedAt = row["ended_at"]
        g.uses = row["uses"]
        return g
    }
}
