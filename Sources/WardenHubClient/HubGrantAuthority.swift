import Foundation
import WardenCore
import WardenHubAPI

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
            let result = try await connection.call(.grantsRequest, Self.params(request))
            return Self.outcome(result, request: request)
        } catch {
            return .unavailable(reason: "lost the Warden hub while waiting for a decision (\(error))")
        }
    }

    public func withdraw(requestID: String, reason: String) async {
        guard let connection = link.connection else { return }
        _ = try? await connection.call(GrantsWithdraw.method, GrantsWithdraw(id: requestID, reason: reason).params)
    }

    static func params(_ r: GrantRequest) -> JSONObject { HubGrantRequest(r).json }

    static func outcome(_ result: JSONValue, request: GrantRequest) -> GrantOutcome {
        guard let answer = HubGrantAnswer(json: result) else {
            return .unavailable(reason: "the hub gave an answer this Warden does not understand")
        }
        let info = GrantDecisionInfo(grantID: answer.grantId, decidedBy: answer.decidedBy ?? "unknown", reason: answer.reason,
                                     scope: answer.scope, expiresAt: answer.expiresAt)
        switch answer.outcome {
        case .approved: return .approved(info)
        case .denied: return .denied(info)
        case .expired: return .expired(grantID: answer.grantId)
        case .cancelled: return .unavailable(reason: "the hub cancelled the request")
        case .unavailable: return .unavailable(reason: answer.reason ?? "the hub could not take the request")
        }
    }
}
