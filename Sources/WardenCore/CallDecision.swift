/// What Warden decided about a `tools/call`, named once: the relay reports it (`call.completed`,
/// `call.decided`, the client's `_meta`), and the hub's store, correlator, SIEM records and the
/// console read it back with `init(rawValue:)`.
public enum CallDecision: String, Sendable, Codable, CaseIterable {
    /// Forwarded: policy allowed it (`call.completed`).
    case allowed
    /// Forwarded after an operator's grant (held, or covered by an active grant).
    case approved
    /// An operator denied the grant request.
    case denied
    /// Nobody decided before the pending deadline.
    case expired
    /// No grant authority could be asked (hub down): failing closed.
    case unavailable
    case deniedByPolicy = "denied-by-policy"
    /// A destination outside the tool's allowed egress.
    case deniedEgress = "denied-egress"
    case deniedRateLimit = "denied-rate-limit"
    /// A secret in the arguments.
    case deniedSecret = "denied-secret"
    /// The tool is quarantined.
    case quarantined
    /// The server is blocked by an operator.
    case blocked
    /// The server does not list the tool: no definition to review.
    case unreviewed
    /// The call names no tool.
    case invalid
    /// The call ran, but its result was withheld (in the client's `_meta` only).
    case withheld

    /// Whether the call reached the server.
    public var forwarded: Bool {
        switch self {
        case .allowed, .approved, .withheld: true
        case .denied, .expired, .unavailable, .deniedByPolicy, .deniedEgress, .deniedRateLimit, .deniedSecret, .quarantined, .blocked, .unreviewed, .invalid: false
        }
    }
}

extension Event {
    /// The decision a `call.*` event records, typed; nil when it has none, or one this build does
    /// not know (said as such, never read as "allowed").
    public var decision: CallDecision? { fields["decision"]?.stringValue.flatMap(CallDecision.init(rawValue:)) }
}
