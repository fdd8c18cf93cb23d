/// How far an approval reaches.
public enum GrantScope: String, Sendable, Codable, CaseIterable {
    /// This call only: bound to the argument digest.
    case call
    /// This tool, for this session.
    case session
    /// This tool, for any session of this server.
    case server
}

/// A held call's request for just-in-time access, as the relay sends it to the grant authority.
public struct GrantRequest: Sendable, Hashable {
    /// Unique id of this request (also the grant's id once decided).
    public var id: String
    public var sessionID: String
    public var client: String
    public var server: String
    public var tool: String
    /// The call's arguments as JSON text (raw: escape before display).
    public var arguments: String
    /// Hex SHA-256 of the arguments' canonical JSON; a `call`-scoped grant is bound to it.
    public var argumentDigest: String
    /// The policy rule that required the grant.
    public var rule: String
    public var reason: String?
    /// Seconds since 1970.
    public var requestedAt: Double
    /// When the request expires undecided (seconds since 1970).
    public var deadline: Double
    /// The longest TTL an approval may give.
    public var maxTTL: Double

    public init(id: String, sessionID: String, client: String, server: String, tool: String, arguments: String,
                argumentDigest: String, rule: String, reason: String?, requestedAt: Double, deadline: Double, maxTTL: Double) {
        self.id = id
        self.sessionID = sessionID
        self.client = client
        self.server = server
        self.tool = tool
        self.arguments = arguments
        self.argumentDigest = argumentDigest
        self.rule = rule
        self.reason = reason
        self.requestedAt = requestedAt
        self.deadline = deadline
        self.maxTTL = maxTTL
    }
}

/// The answer to a `GrantRequest`.
public enum GrantOutcome: Sendable, Hashable {
    /// An operator approved (now or earlier, through an active grant in scope).
    case approved(GrantDecisionInfo)
    /// An operator denied; the reason is required.
    case denied(GrantDecisionInfo)
    /// Nobody decided before the pending deadline.
    case expired(grantID: String)
    /// No authority could be asked (hub down): the relay fails closed.
    case unavailable(reason: String)
}

/// Who decided a grant, how, and why.
public struct GrantDecisionInfo: Sendable, Hashable {
    /// The grant that decided: the request's own id, or an earlier active grant that covers the call.
    public var grantID: String
    public var decidedBy: String
    public var reason: String?
    public var scope: GrantScope?
    /// When an approval ends (seconds since 1970).
    public var expiresAt: Double?

    public init(grantID: String, decidedBy: String, reason: String? = nil, scope: GrantScope? = nil, expiresAt: Double? = nil) {
        self.grantID = grantID
        self.decidedBy = decidedBy
        self.reason = reason
        self.scope = scope
        self.expiresAt = expiresAt
    }
}

/// Whoever decides held calls: the hub's grant broker in production, an in-process one in tests.
///
/// Implementations must answer every request eventually (`expired` at the deadline at the latest) and
/// must be safe to call from any task.
public protocol GrantAuthority: Sendable {
    /// Asks for access for one call and waits for the decision.
    func requestGrant(_ request: GrantRequest) async -> GrantOutcome
    /// Withdraws a pending request (the client cancelled the call).
    func withdraw(requestID: String, reason: String) async
}
