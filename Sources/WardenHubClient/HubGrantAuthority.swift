import Foundation
import WardenCore

/// A `GrantAuthority` backed by the hub's grant broker over the hub connection.
///
/// Fails closed: with no hub to ask, every request is answered `unavailable` at once, and the relay
/// refuses the call with a message that says so.
public struct HubGrantAuthority: GrantAuthority {
    private let link: EventLink

    public init(link: EventLink) { self.link = link }

    public func requestGrant(_ request: GrantRequest) async -> GrantOutcome {
        // Connecting may block (a hub being started): do it on its own thread, not the cooperative pool.
        let link = self.link
        let connection = await withCheckedContinuation { (c: CheckedContinuation<HubConnection?, Never>) in
            Thread { c.resume(returning: link.connectNow()) }.start()
        }
        guard let connection else {
            return .unavailable(reason: "the Warden hub is not running or not reachable")
        }
        do {
            let result = try await connection.call("grants.request", Self.params(request))
            return Self.outcome(result, request: request)
        } catch {
            return .unavailable(reason: "lost the Warden hub while waiting for a decision (\(error))")
        }
    }

    public func withdraw(requestID: String, reason: String) async {
        guard let connection = link.connection else { return }
        _ = try? await connection.call("grants.withdraw", JSONObject(pairs: [("id", .string(requestID)), ("reason", .string(reason))]))
    }

    static func params(_ r: GrantRequest) -> JSONObject {
        var o = JSONObject(pairs: [
            ("id", .string(r.id)), ("session", .string(r.sessionID)), ("client", .string(r.client)),
            ("server", .string(r.server)), ("tool", .string(r.tool)), ("arguments", .string(r.arguments)),
            ("argumentDigest", .string(r.argumentDigest)), ("rule", .string(r.rule)),
            ("requestedAt", .number(String(r.requestedAt))), ("deadline", .number(String(r.deadline))),
            ("maxTTL", .number(String(r.maxTTL))),
        ])
        if let reason = r.reason { o["reason"] = .string(reason) }
        return o
    }

    static func outcome(_ result: JSONValue, request: GrantRequest) -> GrantOutcome {
        let grantID = result["grantId"]?.stringValue ?? request.id
        let info = GrantDecisionInfo(
            grantID: grantID,
            decidedBy: result["decidedBy"]?.stringValue ?? "unknown",
            reason: result["reason"]?.stringValue,
            scope: result["scope"]?.stringValue.flatMap(GrantScope.init(rawValue:)),
            expiresAt: result["expiresAt"]?.doubleValue)
        switch result["outcome"]?.stringValue {
        case "approved": return .approved(info)
        case "denied": return .denied(info)
        case "expired": return .expired(grantID: grantID)
        default: return .unavailable(reason: "the hub gave an answer this Warden does not understand")
        }
    }
}
