import WardenCore
import Foundation
import WardenHubAPI

/// A key press, decoded from the terminal (or scripted by a test).
public enum Key: Sendable, Equatable {
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, tab, backTab
    case resize
    /// A click (`wheel` = ±1 for the scroll wheel) at a cell.
    case mouse(row: Int, col: Int, wheel: Int)
}

/// The console's views, in key order (`1`–`6`).
public enum ViewID: Int, Sendable, CaseIterable {
    case sessions = 1, grants, tools, alerts, playbooks, audit

    public var title: String {
        switch self {
        case .sessions: "Sessions"
        case .grants: "Grants"
        case .tools: "Tools"
        case .alerts: "Alerts"
        case .playbooks: "Playbooks"
        case .audit: "Audit"
        }
    }

    /// The `:` command that opens the view.
    public var command: String { title.lowercased() }
}

/// Scroll position, selection and filter of one list.
public struct ListState: Sendable, Equatable {
    /// Index into the filtered rows.
    public var selected = 0
    /// First row shown.
    public var top = 0
    /// The selected row's key, so the selection follows its row when data refreshes.
    public var selectedKey: String?
    /// A regular expression rows must match (`/`), empty for none.
    public var filter = ""
    /// Index into the view's `SortKey.options` (`o` cycles).
    public var sort = 0
}

/// How a list is ordered. Every order is stable: rows that tie keep the hub's order, and none
/// depends on what changes every second, so the row under the cursor stays put by default.
public enum SortKey: String, Sendable, CaseIterable {
    case started, activity, risk, name, severity, time, state, score, hub

    /// The orders a view offers, the default first.
    public static func options(_ view: ViewID) -> [SortKey] {
        switch view {
        case .sessions: [.started, .activity, .risk, .name]
        case .grants: [.state, .time, .name]
        case .tools: [.hub, .score, .name]
        case .alerts: [.severity, .time, .name]
        case .playbooks: [.hub, .severity, .time]
        case .audit: [.hub]
        }
    }
}

/// A question the console is asking the operator; keys go to it until it is answered or dismissed.
public enum Modal: Sendable, Equatable {
    /// Approve a pending grant: choose the scope (←/→) and the TTL, then confirm. It carries the
    /// request, so the dialog shows exactly what the approval lets through.
    case approve(grant: HubGrant, scope: Int, ttl: String)
    /// A destructive action waiting for `y`.
    case confirm(title: String, action: ConsoleAction)
    /// Several actions (marked alerts) waiting for one `y`.
    case confirmAll(title: String, actions: [ConsoleAction])
    /// An action too dangerous for one key: it runs only when `word` is typed (trusting a tool
    /// Warden judged malicious).
    case typedConfirm(title: String, word: String, text: String, action: ConsoleAction)
    /// Text the action needs (a reason, a note); `make` builds the action from it.
    case input(title: String, text: String, purpose: InputPurpose)
}

/// What a text input is for.
public enum InputPurpose: Sendable, Equatable {
    case denyGrant(String)
    case revokeGrant(String)
    case quarantineTool(String)
    case suppressRule(tool: String, rule: String)
    case resetBaseline(String)
    case falsePositive(String)
    case skipStep(String)
    case note(String)
    case startPlaybook(incident: String)
    case resolveAlert(String)
    case assignAlert(String)
    case noteAlert(String)
    case closeIncident(String)
    case respond(PlaybookAction, args: [String])
    /// Marked alerts closed as false positives with one reason.
    case falsePositives([String])

    /// Whether an empty answer is refused (reasons are required for denials and skips).
    var requiresText: Bool { true }

    func action(_ text: String) -> ConsoleAction {
        switch self {
        case .denyGrant(let id): .denyGrant(id: id, reason: text)
        case .revokeGrant(let id): .revokeGrant(id: id, reason: text)
        case .quarantineTool(let name): .quarantineTool(name: name, reason: text)
        case .suppressRule(let tool, let rule): .suppressRule(name: tool, rule: rule, reason: text)
        case .resetBaseline(let name): .resetBaseline(name: name, reason: text)
        case .falsePositive(let id): .falsePositive(id: id, reason: text)
        case .skipStep(let run): .stepSkip(run: run, reason: text)
        case .note(let run): .stepNote(run: run, note: text)
        case .startPlaybook(let incident): .startPlaybook(incident: incident, playbook: text)
        case .resolveAlert(let id): .resolveAlert(id: id, reason: text)
        case .assignAlert(let id): .assignAlert(id: id, assignee: text)
        case .noteAlert(let id): .noteAlert(id: id, text: text)
        case .closeIncident(let id): .closeIncident(id: id, resolution: text)
        case .respond(let action, let args): .respond(action, args: args, reason: text)
        case .falsePositives(let ids): .falsePositive(id: ids.first ?? "", reason: text)
        }
    }
}

/// A detail screen over a view (`enter`), closed with `esc`.
public enum Detail: Sendable, Equatable {
    case session(String)
    case grant(String)
    case tool(String)
    case alert(String)
    case run(String)
    /// One call of a session: every event the relay recorded for it (JSON-RPC id `request`).
    case call(session: String, request: String)
    /// One audit record, by sequence number.
    case audit(Int)
}

/// A detail left for another, and where its cursor was.
public struct DetailPlace: Sendable, Equatable {
    public var detail: Detail
    public var cursor: Int
    public var cursorKey: String?
}

/// Everything about the console that is not data: which view, selections, filters, prompts.
public struct ConsoleState: Sendable, Equatable {
    public var view: ViewID = .sessions
    public var lists: [ViewID: ListState] = [:]
    public var detail: Detail?
    public var detailScroll = 0
    /// In a detail that lists things with details of their own (a timeline's calls, a grant's
    /// calls): which one `enter` opens.
    public var detailCursor = 0
    /// What the cursor is on (see `ConsoleModel.detailLinkItems`), to find it again after a reload.
    public var detailCursorKey: String?
    /// The row whose detail the side pane of a wide terminal shows (and whose data was fetched).
    public var previewed: Detail?
    /// The details `enter` came from, with their cursors: `esc` goes back to them in turn.
    public var detailStack: [DetailPlace] = []
    public var modal: Modal?
    /// The `:` command line while it is open.
    public var command: String?
    /// The `/` filter line while it is being typed (applied as it is typed).
    public var filterInput: String?
    /// A regular expression over the open detail's lines (`/` in a detail); empty: every line.
    public var detailFilter = "" {
        // Until a frame says which links the new filter shows, none may be opened: keys arrive in
        // batches, and a stale list would open a line the filter now hides.
        didSet { if detailFilter != oldValue { shownLinks = detailFilter.isEmpty ? nil : [] } }
    }
    /// While a filter narrows the detail: the links it shows, by their place among all the
    /// detail's links (set by the renderer, which is what knows which lines match).
    public var shownLinks: [Int]?
    /// Alerts marked for bulk triage (`m`).
    public var marked: Set<String> = []
    /// Whether Alerts also lists resolved and false-positive alerts (`C` toggles).
    public var showClosedAlerts = false
    public var showHelp = false
    /// The last message (an action's result, an error), with its role.
    public var message: String?
    public var messageIsError = false
    public var quit = false

    public init() {}

    public func list(_ view: ViewID) -> ListState { lists[view] ?? ListState() }
    public var current: ListState {
        get { list(view) }
        set { lists[view] = newValue }
    }

    /// Scope names in the approve dialog's order.
    public static let scopes = ["call", "session", "server"]
}
