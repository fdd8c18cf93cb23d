/// Every method the hub answers, named once. The hub dispatches on this enum (so a method it does
/// not handle does not compile), the clients call through it, operator authority is decided from
/// it, and a test holds `docs/hub-api.md` to exactly these names.
public enum HubMethod: String, CaseIterable, Sendable {
    case hello
    case hubStatus = "hub.status"
    case subscribe

    case eventsAppend = "events.append"
    case eventsTail = "events.tail"

    case grantsRequest = "grants.request"
    case grantsWithdraw = "grants.withdraw"
    case grantsList = "grants.list"
    case grantsShow = "grants.show"
    case grantsApprove = "grants.approve"
    case grantsDeny = "grants.deny"
    case grantsRevoke = "grants.revoke"
    case grantsStats = "grants.stats"

    case sessionsList = "sessions.list"
    case sessionsShow = "sessions.show"
    case toolsList = "tools.list"
    case toolsShow = "tools.show"
    case toolsApprove = "tools.approve"
    case toolsQuarantine = "tools.quarantine"
    case toolsSuppress = "tools.suppress"
    case baselinesList = "baselines.list"
    case baselinesReset = "baselines.reset"
    case auditVerify = "audit.verify"
    case auditList = "audit.list"
    case auditExport = "audit.export"

    case alertsList = "alerts.list"
    case alertsShow = "alerts.show"
    case alertsAck = "alerts.ack"
    case alertsAssign = "alerts.assign"
    case alertsResolve = "alerts.resolve"
    case alertsFalsePositive = "alerts.false-positive"
    case alertsNote = "alerts.note"
    case incidentsList = "incidents.list"
    case incidentsShow = "incidents.show"
    case incidentsOpen = "incidents.open"
    case incidentsClose = "incidents.close"
    case playbooksList = "playbooks.list"
    case playbooksShow = "playbooks.show"
    case playbooksExport = "playbooks.export"
    case playbooksImport = "playbooks.import"
    case playbooksStart = "playbooks.start"
    case playbooksStep = "playbooks.step"
    case playbooksRun = "playbooks.run"
    case playbooksRuns = "playbooks.runs"
    /// One response action (a playbook's `x-warden` command) run by the operator directly.
    case responseRun = "response.run"

    /// Who may call a method.
    public enum Authority: Sendable {
        /// What a relay needs to run: open to every connection of the hub's uid.
        case relay
        /// Every decision and every read of other sessions' traffic: refused to relays, sandboxed
        /// servers and every process below a relay (`docs/isolation.md`).
        case `operator`
    }

    public var authority: Authority {
        switch self {
        case .hello, .eventsAppend, .grantsRequest, .grantsWithdraw, .hubStatus: .relay
        default: .operator
        }
    }
}

/// Notifications the hub sends without being asked.
public enum HubPush: String, CaseIterable, Sendable {
    /// Stored events, in order: `{events: [Event]}`.
    case events = "hub.events"
    /// A grant that changed, whole (`HubGrant`).
    case grants = "hub.grants"
    /// A tool's review changed (`{server, tool}`), or tools were re-listed (`{}`).
    case tools = "hub.tools"
    /// A new audit record, whole.
    case audit = "hub.audit"
    /// Alerts were raised or grew: `{alerts: [Alert]}` (or `{}` after triage).
    case alerts = "hub.alerts"
    /// To relays only: re-read pins, suppressions and controls now (`{server, tool}`).
    case toolsChanged = "tools.changed"

    /// The topic a subscriber names to receive it (`subscribe {topics}`); nil for relay pushes,
    /// which every relay gets.
    public var topic: String? {
        switch self {
        case .events: "events"
        case .grants: "grants"
        case .tools: "tools"
        case .audit: "audit"
        case .alerts: "alerts"
        case .toolsChanged: nil
        }
    }
}

/// The `code` of a hub error.
public enum HubErrorCode: Int, Sendable, CaseIterable {
    /// Refused or not found: the CLI exits 1.
    case refused = 1
    /// A usage error (missing or malformed parameters): the CLI exits 2.
    case usage = 2
    /// Not JSON.
    case parseError = -32700
    /// JSON, but not a JSON-RPC request.
    case invalidRequest = -32600
    /// A method this hub does not have.
    case methodNotFound = -32601
}
