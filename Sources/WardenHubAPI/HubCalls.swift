import WardenCore

/// A hub method's parameters as a type, and the type of its answer: the hub decodes the one, its
/// clients encode it and decode the other, and the field names live only here. The operators'
/// decisions are typed this way; the other methods still take `JSONObject` (docs/hub-api.md).
public protocol HubCall: Codable, Sendable {
    associatedtype Answer: Decodable & Sendable
    static var method: HubMethod { get }
}

extension HubCall {
    /// The parameters as the hub's lines carry them.
    public var params: JSONObject { HubWire.encode(self).objectValue ?? JSONObject() }
}

/// What a grant decision answers: the grant as it now is.
public struct HubGrantChange: Codable, Sendable {
    public var grant: HubGrant
}

/// `grants.approve`: the held call goes through; `scope` says what else the grant covers.
public struct GrantsApprove: HubCall {
    public typealias Answer = HubGrantChange
    public static let method = HubMethod.grantsApprove
    public var id: String
    /// `call` when absent.
    public var scope: GrantScope?
    /// A duration (`30s`, `15m`, `2h`), capped by the rule's `max_ttl`.
    public var ttl: String?
    public var reason: String?
    /// A label for the audit log beside the identity the kernel reports.
    public var actor: String?
    public init(id: String, scope: GrantScope? = nil, ttl: String? = nil, reason: String? = nil, actor: String? = nil) {
        (self.id, self.scope, self.ttl, self.reason, self.actor) = (id, scope, ttl, reason, actor)
    }
}

/// `grants.deny`: the client is told who refused and why (the reason is required).
public struct GrantsDeny: HubCall {
    public typealias Answer = HubGrantChange
    public static let method = HubMethod.grantsDeny
    public var id: String
    public var reason: String
    public var actor: String?
    public init(id: String, reason: String, actor: String? = nil) { (self.id, self.reason, self.actor) = (id, reason, actor) }
}

/// `grants.revoke`: an active grant stops covering calls now.
public struct GrantsRevoke: HubCall {
    public typealias Answer = HubGrantChange
    public static let method = HubMethod.grantsRevoke
    public var id: String
    public var reason: String?
    public var actor: String?
    public init(id: String, reason: String? = nil, actor: String? = nil) { (self.id, self.reason, self.actor) = (id, reason, actor) }
}

/// `response.run`: one playbook action run now by the operator (the reason is required).
public struct ResponseRun: HubCall {
    public struct Answer: Codable, Sendable {
        /// What it did, in words ("terminated session S", "session S has no live relay").
        public var outcome: String
        /// Where `export-bundle` wrote the bundle.
        public var bundle: String?
        public init(outcome: String, bundle: String? = nil) { (self.outcome, self.bundle) = (outcome, bundle) }
    }
    public static let method = HubMethod.responseRun
    public var action: PlaybookAction
    public var args: [String]
    public var reason: String
    public var actor: String?
    public init(action: PlaybookAction, args: [String], reason: String, actor: String? = nil) {
        (self.action, self.args, self.reason, self.actor) = (action, args, reason, actor)
    }
}
