import Foundation
import WardenCore

/// A grant as the hub API carries it (`grants.list`, `grants.show`, the `hub.grants` push): the
/// request, the decision and what it covered. States and scopes are typed; untrusted strings
/// (tool, arguments, reasons) stay raw and are escaped by whoever displays them.
public struct HubGrant: Codable, Sendable, Equatable {
    public var id: String
    public var state: GrantState
    public var session: String
    public var client: String
    public var server: String
    public var tool: String
    /// The held call's arguments as JSON text.
    public var arguments: String
    public var argumentDigest: String
    public var rule: String
    public var ruleReason: String?
    public var requestedAt: Double
    public var deadline: Double
    public var maxTTL: Double?
    public var scope: GrantScope?
    public var ttl: Double?
    public var decidedAt: Double?
    public var decidedBy: String?
    public var decisionReason: String?
    public var expiresAt: Double?
    public var endedAt: Double?
    /// Calls it let through.
    public var uses: Int

    public init(id: String, state: GrantState, session: String, client: String, server: String, tool: String, arguments: String,
                argumentDigest: String = "", rule: String, ruleReason: String? = nil, requestedAt: Double, deadline: Double,
                maxTTL: Double? = nil, scope: GrantScope? = nil, ttl: Double? = nil, decidedAt: Double? = nil, decidedBy: String? = nil,
                decisionReason: String? = nil, expiresAt: Double? = nil, endedAt: Double? = nil, uses: Int = 0) {
        self.id = id
        self.state = state
        self.session = session
        self.client = client
        self.server = server
        self.tool = tool
        self.arguments = arguments
        self.argumentDigest = argumentDigest
        self.rule = rule
        self.ruleReason = ruleReason
        self.requestedAt = requestedAt
        self.deadline = deadline
        self.maxTTL = maxTTL
        self.scope = scope
        self.ttl = ttl
        self.decidedAt = decidedAt
        self.decidedBy = decidedBy
        self.decisionReason = decisionReason
        self.expiresAt = expiresAt
        self.endedAt = endedAt
        self.uses = uses
    }

    public init(_ g: GrantRecord) {
        let r = g.request
        self.init(id: g.id, state: g.state, session: r.sessionID, client: r.client, server: r.server, tool: r.tool, arguments: r.arguments,
                  argumentDigest: r.argumentDigest, rule: r.rule, ruleReason: r.reason, requestedAt: r.requestedAt, deadline: r.deadline,
                  maxTTL: r.maxTTL, scope: g.scope, ttl: g.ttl, decidedAt: g.decidedAt, decidedBy: g.decidedBy,
                  decisionReason: g.decisionReason, expiresAt: g.expiresAt, endedAt: g.endedAt, uses: g.uses)
    }

    public var isPending: Bool { state == .pending }
}

/// `grants.request`: what a relay asks for when it holds a call.
public struct HubGrantRequest: HubCall, Equatable {
    public typealias Answer = HubGrantAnswer
    public static let method = HubMethod.grantsRequest
    public var id: String
    public var session: String
    public var client: String
    public var server: String
    public var tool: String
    public var arguments: String
    public var argumentDigest: String
    public var rule: String
    public var reason: String?
    public var requestedAt: Double
    public var deadline: Double
    public var maxTTL: Double

    public init(_ r: GrantRequest) {
        (id, session, client, server, tool, arguments) = (r.id, r.sessionID, r.client, r.server, r.tool, r.arguments)
        (argumentDigest, rule, reason, requestedAt, deadline, maxTTL) = (r.argumentDigest, r.rule, r.reason, r.requestedAt, r.deadline, r.maxTTL)
    }

    enum CodingKeys: String, CodingKey {
        case id, session, client, server, tool, arguments, argumentDigest, rule, reason, requestedAt, deadline, maxTTL
    }

    /// What a relay must say (id, session, server, tool, deadline) and what has a default: a relay
    /// is not trusted to be complete, and the hub answers every request.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        session = try c.decode(String.self, forKey: .session)
        server = try c.decode(String.self, forKey: .server)
        tool = try c.decode(String.self, forKey: .tool)
        deadline = try c.decode(Double.self, forKey: .deadline)
        client = try c.decodeIfPresent(String.self, forKey: .client) ?? "unknown client"
        arguments = try c.decodeIfPresent(String.self, forKey: .arguments) ?? "{}"
        argumentDigest = try c.decodeIfPresent(String.self, forKey: .argumentDigest) ?? ""
        rule = try c.decodeIfPresent(String.self, forKey: .rule) ?? ""
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        requestedAt = try c.decodeIfPresent(Double.self, forKey: .requestedAt) ?? Date().timeIntervalSince1970
        maxTTL = try c.decodeIfPresent(Double.self, forKey: .maxTTL) ?? 3600
    }

    public var request: GrantRequest {
        GrantRequest(id: id, sessionID: session, client: client, server: server, tool: tool, arguments: arguments, argumentDigest: argumentDigest,
                     rule: rule, reason: reason, requestedAt: requestedAt, deadline: deadline, maxTTL: maxTTL)
    }
}

/// The answer to `grants.request`, sent when the request is decided.
public struct HubGrantAnswer: Codable, Sendable, Equatable {
    public enum Outcome: String, Codable, Sendable {
        case approved, denied, expired, cancelled
        /// The hub could not record the request: the relay fails closed.
        case unavailable
    }

    public var outcome: Outcome
    public var grantId: String
    public var decidedBy: String?
    public var reason: String?
    public var scope: GrantScope?
    public var expiresAt: Double?

    public init(outcome: Outcome, grantId: String, decidedBy: String? = nil, reason: String? = nil, scope: GrantScope? = nil, expiresAt: Double? = nil) {
        self.outcome = outcome
        self.grantId = grantId
        self.decidedBy = decidedBy
        self.reason = reason
        self.scope = scope
        self.expiresAt = expiresAt
    }
}

// `grants.request` and its answer travel on every call a grant holds or covers: written and read
// by hand, not through Foundation's coders (the same fields and rules as the `Codable` forms).
extension HubGrantRequest {
    public var json: JSONObject {
        var o = JSONObject(pairs: [
            ("id", .string(id)), ("session", .string(session)), ("client", .string(client)), ("server", .string(server)), ("tool", .string(tool)),
            ("arguments", .string(arguments)), ("argumentDigest", .string(argumentDigest)), ("rule", .string(rule)),
            ("requestedAt", .number(String(requestedAt))), ("deadline", .number(String(deadline))), ("maxTTL", .number(String(maxTTL))),
        ])
        if let reason { o["reason"] = .string(reason) }
        return o
    }

    /// Nil when a required field (id, session, server, tool, deadline) is missing or any field has
    /// the wrong type; optional fields take the `Codable` form's defaults.
    public init?(json p: JSONObject) {
        /// The field's text, nil inside when absent or null; nil outside when it is not a string.
        func string(_ k: String) -> String?? {
            switch p[k] {
            case nil, .null?: return .some(nil)
            case .string(let s)?: return .some(s)
            default: return nil
            }
        }
        guard let id = p["id"]?.stringValue, let session = p["session"]?.stringValue, let server = p["server"]?.stringValue,
              let tool = p["tool"]?.stringValue, let deadline = p["deadline"]?.doubleValue else { return nil }
        guard let client = string("client"), let arguments = string("arguments"), let digest = string("argumentDigest"),
              let rule = string("rule"), let reason = string("reason") else { return nil }
        for k in ["requestedAt", "maxTTL"] where p[k] != nil && p[k] != .null && p[k]?.doubleValue == nil { return nil }
        self.id = id
        self.session = session
        self.server = server
        self.tool = tool
        self.deadline = deadline
        self.client = client ?? "unknown client"
        self.arguments = arguments ?? "{}"
        self.argumentDigest = digest ?? ""
        self.rule = rule ?? ""
        self.reason = reason
        self.requestedAt = p["requestedAt"]?.doubleValue ?? Date().timeIntervalSince1970
        self.maxTTL = p["maxTTL"]?.doubleValue ?? 3600
    }
}

extension HubGrantAnswer {
    public var json: JSONValue {
        var o = JSONObject(pairs: [("outcome", .string(outcome.rawValue)), ("grantId", .string(grantId))])
        if let decidedBy { o["decidedBy"] = .string(decidedBy) }
        if let reason { o["reason"] = .string(reason) }
        if let scope { o["scope"] = .string(scope.rawValue) }
        if let expiresAt { o["expiresAt"] = .number(String(expiresAt)) }
        return .object(o)
    }

    /// Nil when the outcome or grant id is missing or unknown: the relay then fails closed.
    public init?(json j: JSONValue) {
        guard let outcome = j["outcome"]?.stringValue.flatMap(Outcome.init(rawValue:)), let grantId = j["grantId"]?.stringValue else { return nil }
        self.init(outcome: outcome, grantId: grantId, decidedBy: j["decidedBy"]?.stringValue, reason: j["reason"]?.stringValue,
                  scope: j["scope"]?.stringValue.flatMap(GrantScope.init(rawValue:)), expiresAt: j["expiresAt"]?.doubleValue)
    }
}
