import WardenCore
import WardenHubAPI

/// An operator decision the console sends to the hub. Each is the same hub call a CLI command makes
/// (named in `cli`), so everything the console does can be scripted.
public enum ConsoleAction: Sendable, Equatable {
    case approveGrant(id: String, scope: String, ttl: String)
    case denyGrant(id: String, reason: String)
    case revokeGrant(id: String, reason: String)
    case approveTool(name: String)
    case quarantineTool(name: String, reason: String)
    case suppressRule(name: String, rule: String, reason: String)
    case resetBaseline(name: String, reason: String)
    case acknowledgeAlert(id: String)
    case escalateAlert(id: String)
    case falsePositive(id: String, reason: String)
    case resolveAlert(id: String, reason: String)
    case assignAlert(id: String, assignee: String)
    case noteAlert(id: String, text: String)
    case closeIncident(id: String, resolution: String)
    case startPlaybook(incident: String, playbook: String)
    case stepDone(run: String, note: String?)
    case stepSkip(run: String, reason: String)
    case stepRun(run: String)
    case stepNote(run: String, note: String)
    /// A containment action run now (`warden respond`): terminate a session, revoke its grants,
    /// block or unblock a server.
    case respond(PlaybookAction, args: [String], reason: String)

    /// The hub method and its parameters.
    public var request: (method: HubMethod, params: JSONObject) {
        switch self {
        case .approveGrant(let id, let scope, let ttl): Self.typed(GrantsApprove(id: id, scope: GrantScope(rawValue: scope) ?? .call, ttl: ttl))
        case .denyGrant(let id, let reason): Self.typed(GrantsDeny(id: id, reason: reason))
        case .revokeGrant(let id, let reason): Self.typed(GrantsRevoke(id: id, reason: reason))
        case .approveTool(let name): Self.typed(ToolsApprove(name: name))
        case .quarantineTool(let name, let reason): Self.typed(ToolsQuarantine(name: name, reason: reason))
        case .suppressRule(let name, let rule, let reason): Self.typed(ToolsSuppress(name: name, rule: rule, reason: reason))
        case .resetBaseline(let name, let reason): Self.typed(BaselinesReset(name: name, reason: reason))
        case .acknowledgeAlert(let id): Self.typed(AlertsAck(id: id))
        case .escalateAlert(let id): Self.typed(IncidentsOpen(alert: id))
        case .falsePositive(let id, let reason): Self.typed(AlertsFalsePositive(id: id, reason: reason))
        case .resolveAlert(let id, let reason): Self.typed(AlertsResolve(id: id, reason: reason))
        case .assignAlert(let id, let assignee): Self.typed(AlertsAssign(id: id, assignee: assignee))
        case .noteAlert(let id, let text): Self.typed(AlertsNote(id: id, text: text))
        case .closeIncident(let id, let resolution): Self.typed(IncidentsClose(id: id, resolution: resolution))
        case .startPlaybook(let incident, let playbook): Self.typed(PlaybooksStart(name: playbook, incident: incident))
        case .stepDone(let run, let note): Self.typed(PlaybooksStep(run: run, action: .done, note: note))
        case .stepSkip(let run, let reason): Self.typed(PlaybooksStep(run: run, action: .skip, reason: reason))
        case .stepRun(let run): Self.typed(PlaybooksStep(run: run, action: .run))
        case .stepNote(let run, let note): Self.typed(PlaybooksStep(run: run, action: .note, note: note))
        case .respond(let action, let args, let reason): Self.typed(ResponseRun(action: action, args: args, reason: reason))
        }
    }

    static func typed<C: HubCall>(_ call: C) -> (method: HubMethod, params: JSONObject) { (C.method, call.params) }

    /// The equivalent command line (shown in help and after an action).
    public var cli: String {
        switch self {
        case .approveGrant(let id, let scope, let ttl): "warden grants approve \(id) --scope \(scope) --ttl \(ttl)"
        case .denyGrant(let id, _): "warden grants deny \(id) --reason …"
        case .revokeGrant(let id, _): "warden grants revoke \(id)"
        case .approveTool(let name): "warden tools approve \(name)"
        case .quarantineTool(let name, _): "warden tools quarantine \(name) --reason …"
        case .suppressRule(let name, let rule, _): "warden tools suppress \(name) --rule \(rule) --reason …"
        case .resetBaseline(let name, _): "warden baselines reset \(name) --reason …"
        case .acknowledgeAlert(let id): "warden alerts ack \(id)"
        case .escalateAlert(let id): "warden incidents open --alert \(id)"
        case .falsePositive(let id, _): "warden alerts false-positive \(id) --reason …"
        case .resolveAlert(let id, _): "warden alerts resolve \(id) --reason …"
        case .assignAlert(let id, let assignee): "warden alerts assign \(id) --to \(assignee)"
        case .noteAlert(let id, _): "warden alerts note \(id) --text …"
        case .closeIncident(let id, _): "warden incidents close \(id) --resolution …"
        case .startPlaybook(let incident, let playbook): "warden playbooks start \(playbook) --incident \(incident)"
        case .stepDone(let run, _): "warden playbooks step \(run) --done"
        case .stepSkip(let run, _): "warden playbooks step \(run) --skip --reason …"
        case .stepRun(let run): "warden playbooks step \(run) --run"
        case .stepNote(let run, _): "warden playbooks step \(run) --note …"
        case .respond(let action, let args, _): "warden respond \(([action.rawValue] + args.map(ConsoleModel.pasteable)).joined(separator: " ")) --reason …"
        }
    }
}
