import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
import WardenStore

/// Decides who may call what, and for how long: the hub's just-in-time access broker.
///
/// A relay's `grants.request` either passes at once (an active grant covers the call) or becomes a
/// pending grant that waits for an operator. Every transition goes through the store, whose
/// conditional update makes the first of two racing decisions win. Time comes from `clock`, and
/// deadlines and TTLs are enforced by `tick()` (called every 100 ms by the hub, directly by tests).
public final class GrantBroker: Sendable {
    /// The answer sent to a waiting relay.
    public typealias Reply = @Sendable (JSONValue) -> Void

    struct Waiter {
        var reply: Reply
        var connection: Int
        var deadline: Double
    }

    struct State {
        var waiting: [String: Waiter] = [:]
        var active: [String: GrantRecord] = [:]
    }

    /// Default TTL of an approval when the operator names none.
    public static let defaultTTL: Double = 15 * 60

    let store: Store
    let clock: @Sendable () -> Double
    let state = Mutex(State())
    /// Told about every changed grant (subscriptions, export, the audit head).
    let onChange: @Sendable (GrantRecord) -> Void

    public init(store: Store, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
                onChange: @escaping @Sendable (GrantRecord) -> Void = { _ in }) throws(StoreError) {
        self.store = store
        self.clock = clock
        self.onChange = onChange
        let now = clock()
        // After a restart nobody is waiting any more: pending requests are cancelled (their relays
        // already failed closed), and grants still within their TTL keep covering calls.
        for g in try store.grants(states: [.pending]) {
            if case .success(let changed)? = try? store.transition(g.id, to: .cancelled, actor: "hub", reason: "hub restarted while the request was pending", at: now) {
                onChange(changed)
            }
        }
        let active = try store.grants(states: [.active, .approved])
        state.withLock { s in for g in active { s.active[g.id] = g } }
    }

    /// Handles a relay's request: covered → approved at once; otherwise pending until decided.
    public func request(_ r: GrantRequest, connection: Int, reply: @escaping Reply) {
        let now = clock()
        let covering = state.withLock { s in
            s.active.values.first { $0.covers(server: r.server, tool: r.tool, session: r.sessionID, argumentDigest: r.argumentDigest, at: now) }
        }
        if let g = covering {
            try? store.recordGrantUse(g.id)
            reply(Self.outcome(.approved, g))
            // Consoles show how often a grant was used: the count they hold grows with it.
            if let used = try? store.grant(g.id) { onChange(used) }
            return
        }
        do {
            try store.insertPending(r, actor: "wrap:\(r.sessionID)")
        } catch {
            reply(HubGrantAnswer(outcome: .unavailable, grantId: r.id, reason: "the hub could not record the request: \(error)").json)
            return
        }
        state.withLock { $0.waiting[r.id] = Waiter(reply: reply, connection: connection, deadline: r.deadline) }
        if let g = try? store.grant(r.id) { onChange(g) }
    }

    /// An operator approves. The TTL is capped by the rule's `max_ttl`; the held call is released.
    public func approve(_ id: String, scope: GrantScope, ttl: Double?, actor: String, reason: String?) throws(StoreError) -> Result<GrantRecord, GrantChangeError> {
        let now = clock()
        let approved = try store.transition(id, to: .approved, actor: actor, reason: reason, at: now) { g in
            let wanted = ttl ?? Self.defaultTTL
            g.scope = scope
            g.ttl = min(wanted, g.request.maxTTL)
            g.decidedAt = now
            g.decidedBy = actor
            g.decisionReason = reason
            g.expiresAt = now + min(wanted, g.request.maxTTL)
        }
        guard case .success(var grant) = approved else { return approved }
        // The approval is committed: release the held call first (the operator is waiting to see it
        // go through), then record that the grant is in use.
        grant.state = .active
        let waiter = state.withLock { s in
            s.active[id] = grant
            return s.waiting.removeValue(forKey: id)
        }
        waiter?.reply(Self.outcome(.approved, grant))
        let result = try store.transition(id, to: .active, actor: actor, reason: nil, at: now)
        guard case .success(let active) = result else { return result }
        if waiter != nil { try? store.recordGrantUse(id) }
        state.withLock { s in if s.active[id] != nil { s.active[id] = active } }
        onChange(active)
        return .success(active)
    }

    /// An operator denies; a reason is required.
    public func deny(_ id: String, actor: String, reason: String) throws(StoreError) -> Result<GrantRecord, GrantChangeError> {
        let result = try store.transition(id, to: .denied, actor: actor, reason: reason, at: clock()) { g in
            g.decidedAt = clock()
            g.decidedBy = actor
            g.decisionReason = reason
        }
        if case .success(let g) = result {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.reply(Self.outcome(.denied, g))
            onChange(g)
        }
        return result
    }

    /// Ends an active grant now. Calls waiting for a grant in its scope are released with a denial:
    /// whoever revoked it does not want that tool used.
    public func revoke(_ id: String, actor: String, reason: String?) throws(StoreError) -> Result<GrantRecord, GrantChangeError> {
        let result = try store.transition(id, to: .revoked, actor: actor, reason: reason, at: clock())
        guard case .success(let g) = result else { return result }
        state.withLock { _ = $0.active.removeValue(forKey: id) }
        onChange(g)
        let affected = try store.grants(states: [.pending]).filter { p in
            p.request.server == g.request.server && p.request.tool == g.request.tool
                && (g.scope != .session || p.request.sessionID == g.request.sessionID)
        }
        for p in affected {
            _ = try deny(p.id, actor: actor, reason: "grant \(id) was revoked" + (reason.map { ": \($0)" } ?? ""))
        }
        return result
    }

    /// The relay withdrew its request (the client cancelled the call).
    public func withdraw(_ id: String, reason: String) {
        guard case .success(let g)? = try? store.transition(id, to: .cancelled, actor: "wrap", reason: reason, at: clock()) else { return }
        state.withLock { $0.waiting.removeValue(forKey: id) }?.reply(Self.outcome(.cancelled, g))
        onChange(g)
    }

    /// A relay's connection closed: its waiting requests are cancelled (the session is gone).
    public func connectionClosed(_ connection: Int) {
        let ids = state.withLock { s in s.waiting.filter { $0.value.connection == connection }.map(\.key) }
        for id in ids {
            state.withLock { _ = $0.waiting.removeValue(forKey: id) }
            if case .success(let g)? = try? store.transition(id, to: .cancelled, actor: "hub", reason: "session ended", at: clock()) { onChange(g) }
        }
    }

    /// Expires pending requests past their deadline and active grants past their TTL.
    public func tick() {
        let now = clock()
        let (late, ended) = state.withLock { s -> ([(String, Waiter)], [String]) in
            let late = s.waiting.filter { $0.value.deadline <= now }
            for (id, _) in late { s.waiting.removeValue(forKey: id) }
            let ended = s.active.values.filter { ($0.expiresAt ?? 0) <= now }.map(\.id)
            for id in ended { s.active.removeValue(forKey: id) }
            return (Array(late), ended)
        }
        for (id, waiter) in late {
            if case .success(let g)? = try? store.transition(id, to: .expired, actor: "hub", reason: "no decision before the deadline", at: now) {
                waiter.reply(Self.outcome(.expired, g))
                onChange(g)
            } else if let g = try? store.grant(id) {
                // Decided in the same instant by an operator: answer with what was decided.
                waiter.reply(Self.outcome(g.state == .active ? .approved : HubGrantAnswer.Outcome(rawValue: g.state.rawValue) ?? .expired, g))
            }
        }
        for id in ended {
            if case .success(let g)? = try? store.transition(id, to: .expired, actor: "hub", reason: "TTL elapsed", at: now) { onChange(g) }
        }
    }

    /// Requests waiting for an operator right now.
    public var waitingCount: Int { state.withLock { $0.waiting.count } }

    static func outcome(_ outcome: HubGrantAnswer.Outcome, _ g: GrantRecord) -> JSONValue {
        HubGrantAnswer(outcome: outcome, grantId: g.id, decidedBy: g.decidedBy, reason: g.decisionReason, scope: g.scope, expiresAt: g.expiresAt).json
    }
}
