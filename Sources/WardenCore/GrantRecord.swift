/// Where a grant is in its life.
///
/// `pending` → `approved` | `denied` | `expired` (undecided at the deadline) | `cancelled` (client
/// cancelled, session ended); `approved` → `active` (the held call was released) → `expired` (TTL) |
/// `revoked`.
public enum GrantState: String, Sendable, Codable, CaseIterable {
    case pending, approved, active, denied, expired, cancelled, revoked

    /// Whether the grant has ended for good.
    public var isFinal: Bool {
        switch self {
        case .denied, .expired, .cancelled, .revoked: true
        case .pending, .approved, .active: false
        }
    }

    /// Whether `next` is a legal transition from this state.
    public func allows(_ next: GrantState) -> Bool {
        switch (self, next) {
        case (.pending, .approved), (.pending, .denied), (.pending, .expired), (.pending, .cancelled),
             (.approved, .active), (.approved, .revoked), (.approved, .expired),
             (.active, .expired), (.active, .revoked):
            true
        default:
            false
        }
    }
}

/// A grant as the hub stores it: the request, the decision, and the scope it covers.
public struct GrantRecord: Sendable, Hashable {
    public var request: GrantRequest
    public var state: GrantState
    public var scope: GrantScope?
    /// Seconds the approval lasts.
    public var ttl: Double?
    public var decidedAt: Double?
    public var decidedBy: String?
    /// The operator's reason (required for denial and revocation).
    public var decisionReason: String?
    public var expiresAt: Double?
    /// When it stopped covering calls (expired, revoked, denied, cancelled).
    public var endedAt: Double?
    /// Calls it let through.
    public var uses: Int

    public init(request: GrantRequest, state: GrantState = .pending) {
        self.request = request
        self.state = state
        self.uses = 0
    }

    public var id: String { request.id }

    /// Whether this (active) grant covers a call.
    public func covers(server: String, tool: String, session: String, argumentDigest: String, at now: Double) -> Bool {
        guard state == .active, let scope, let expiresAt, now < expiresAt,
              request.server == server, request.tool == tool else { return false }
        switch scope {
        case .call: return request.sessionID == session && request.argumentDigest == argumentDigest
        case .session: return request.sessionID == session
        case .server: return true
        }
    }
}
