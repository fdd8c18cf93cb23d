import Foundation
import WardenCore
import WardenHubAPI

/// What the console asks its driver to do after a key: talk to the hub, load a detail, quit.
public enum Effect: Sendable, Equatable {
    case perform(ConsoleAction)
    /// Several actions at once (marked alerts): each its own hub call, reported together.
    case performAll([ConsoleAction])
    case loadSession(String)
    case loadTool(String)
    case loadGrant(String)
    case loadRun(String)
    case verifyAudit
    /// Put text on the terminal's clipboard (OSC 52) and show it, for terminals that refuse.
    case copy(String)
}

/// The console's view model: data from the hub, the operator's view state, and the rows each list
/// shows after its filter. Pure: keys in, effects out, frames drawn by `ConsoleRenderer`. Never
/// touches ncurses or the hub.
public struct ConsoleModel: Sendable {
    public private(set) var data = ConsoleData()
    public var state = ConsoleState()
    /// Per view: indices into the data's rows that pass the filter (all rows without one). Rebuilt
    /// when data or a filter changes, not per frame: a frame formats only the rows it shows.
    private(set) var visible: [ViewID: [Int]] = [:]
    /// Pushed events changed session rows since the sessions list was last filtered.
    private(set) var sessionsStale = false

    public init(data: ConsoleData = ConsoleData()) {
        self.data = data
        refilterAll()
    }

    // MARK: Data

    /// Replaces the data (a refresh); selections follow their rows.
    public mutating func update(_ change: (inout ConsoleData) -> Void) {
        change(&data)
        refilterAll()
        settleDetailCursor()
    }

    /// A reload moves what a detail lists (a timeline's new events arrive on top): the cursor
    /// stays on the line it was on, found again by its key.
    mutating func settleDetailCursor() {
        guard let key = state.detailCursorKey, state.detail != nil,
              let i = detailLinkItems.firstIndex(where: { $0.key == key }) else { return }
        state.detailCursor = i
    }

    /// Like `update`, for a change that touches one view's rows: only that view is refiltered
    /// (a push of one audit record must not cost a pass over ten thousand sessions).
    public mutating func update(_ view: ViewID, _ change: (inout ConsoleData) -> Void) {
        change(&data)
        refilter(view)
    }

    /// Applies a pushed audit record (`ConsoleData.appendAudit`). Returns false when it does not
    /// extend the verified head, so the caller verifies the whole chain.
    public mutating func appendAudit(_ record: AuditRecord) -> Bool {
        var extended = false
        update(.audit) { extended = $0.appendAudit(record) }
        return extended
    }

    mutating func refilterAll() {
        for view in ViewID.allCases { refilter(view) }
    }

    /// Refilters the sessions list if pushed events changed its rows since it was last filtered.
    public mutating func refilterStaleSessions() {
        if sessionsStale { refilter(.sessions) }
    }

    mutating func refilter(_ view: ViewID) {
        if view == .sessions { sessionsStale = false }
        let list = state.list(view)
        let count = rowCount(view)
        var indices: [Int]
        if list.filter.isEmpty {
            indices = Array(0..<count)
        } else if let regex = try? Regex(list.filter).ignoresCase() {
            indices = (0..<count).filter { (try? regex.firstMatch(in: searchText(view, $0))) != nil }
        } else {
            indices = Array(0..<count)
        }
        if view == .alerts, !state.showClosedAlerts {
            indices = indices.filter { data.alerts[$0].status.isOpen }
        }
        indices = sorted(indices, view, by: sortKey(view))
        visible[view] = indices
        // Keep the selection on the same row (by key) when it is still there.
        var l = list
        if let key = l.selectedKey, let at = indices.firstIndex(where: { rowKey(view, $0) == key }) {
            l.selected = at
        }
        l.selected = min(max(0, l.selected), max(0, indices.count - 1))
        // The key is only taken when the operator moves: until then the selection stays on the top
        // row, where new pending grants and flagged tools appear.
        if l.selectedKey != nil { l.selectedKey = indices.isEmpty ? nil : rowKey(view, indices[l.selected]) }
        state.lists[view] = l
    }

    /// The order a view is in now.
    public func sortKey(_ view: ViewID) -> SortKey {
        let options = SortKey.options(view)
        return options[state.list(view).sort % options.count]
    }

    /// Most severe first.
    static func severityRank(_ s: Severity) -> Int { Severity.allCases.count - 1 - (Severity.allCases.firstIndex(of: s) ?? 0) }

    /// Rows in `order`; ties keep the hub's order (the sort is stable).
    func sorted(_ indices: [Int], _ view: ViewID, by order: SortKey) -> [Int] {
        func by<T: Comparable>(_ key: (Int) -> T) -> [Int] {
            indices.enumerated().sorted { a, b in
                let (ka, kb) = (key(a.element), key(b.element))
                return ka != kb ? ka < kb : a.offset < b.offset
            }.map(\.element)
        }
        switch (view, order) {
        case (.sessions, .started): return by { -data.sessions[$0].startedAt }
        case (.sessions, .activity): return by { -data.sessions[$0].lastActivity }
        case (.sessions, .risk): return by { -data.sessions[$0].risk }
        case (.sessions, .name): return by { data.sessions[$0].server + " " + data.sessions[$0].client }
        case (.grants, .state): return by { data.grants[$0].isPending ? 0 : data.grants[$0].state == .active ? 1 : 2 }
        case (.grants, .time): return by { -data.grants[$0].requestedAt }
        case (.grants, .name): return by { data.grants[$0].server + "/" + data.grants[$0].tool }
        case (.tools, .score): return by { -data.tools[$0].score }
        case (.tools, .name): return by { data.tools[$0].qualifiedName }
        // Open alerts by severity, newest first within one: triage (ack) does not move a row.
        case (.alerts, .severity):
            return by { i in
                let a = data.alerts[i]
                // Closed after open, then severity, then newest first.
                return AlertOrder(closed: a.status.isOpen ? 0 : 1, severity: Self.severityRank(a.severity), age: -a.firstSeen)
            }
        case (.alerts, .time): return by { -data.alerts[$0].lastSeen }
        case (.alerts, .name): return by { data.alerts[$0].rule + " " + data.alerts[$0].title }
        case (.playbooks, .severity): return by { Self.severityRank(data.incidents[$0].severity) }
        case (.playbooks, .time): return by { -data.incidents[$0].openedAt }
        default: return indices
        }
    }

    mutating func cycleSort() {
        let options = SortKey.options(state.view)
        guard options.count > 1 else { return _ = note("\(state.view.title) keeps the hub's order") }
        var l = state.current
        l.sort = (l.sort + 1) % options.count
        if l.selectedKey == nil, let i = selectedIndex { l.selectedKey = rowKey(state.view, i) }
        state.current = l
        refilter(state.view)
        state.message = "\(state.view.title) sorted by \(sortKey(state.view).rawValue) (o for the next order)"
        state.messageIsError = false
    }

    func rowCount(_ view: ViewID) -> Int {
        switch view {
        case .sessions: data.sessions.count
        case .grants: data.grants.count
        case .tools: data.tools.count
        case .alerts: data.alerts.count
        case .playbooks: data.incidents.count
        case .audit: data.audit.count
        }
    }

    func rowKey(_ view: ViewID, _ i: Int) -> String {
        switch view {
        case .sessions: data.sessions[i].id
        case .grants: data.grants[i].id
        case .tools: data.tools[i].qualifiedName
        case .alerts: data.alerts[i].id
        case .playbooks: data.incidents[i].id + "|" + (data.incidents[i].run ?? "")
        case .audit: String(data.audit[i].sequence)
        }
    }

    /// The text a filter is matched against: every column of the row.
    func searchText(_ view: ViewID, _ i: Int) -> String {
        switch view {
        case .sessions:
            let s = data.sessions[i]
            return [s.id, s.server, s.client, s.protocolVersion, String(s.wardenPID), String(s.serverPID), s.live ? "live" : "ended"].joined(separator: " ")
        case .grants:
            let g = data.grants[i]
            return [g.id, g.state.rawValue, g.client, g.server, g.tool, g.arguments, g.rule, g.scope?.rawValue ?? ""].joined(separator: " ")
        case .tools:
            let t = data.tools[i]
            return ([t.server, t.name, t.verdict.rawValue, t.review.rawValue] + t.findings.map(\.rule)).joined(separator: " ")
        case .alerts:
            let a = data.alerts[i]
            return [a.id, a.severity.rawValue, a.rule, a.layer.rawValue, a.status.rawValue, a.assignee ?? "", a.title].joined(separator: " ")
        case .playbooks:
            let r = data.incidents[i]
            return [r.id, r.title, r.status.rawValue, r.playbook ?? "", r.step ?? ""].joined(separator: " ")
        case .audit:
            let a = data.audit[i]
            return [String(a.sequence), a.actor, a.action, a.subject].joined(separator: " ")
        }
    }

    /// Rows of a view after its filter (indices into the data).
    public func rows(_ view: ViewID) -> [Int] { visible[view] ?? [] }

    /// The data index of the selected row of the current view.
    var selectedIndex: Int? {
        let rows = rows(state.view)
        let l = state.current
        return rows.isEmpty ? nil : rows[min(l.selected, rows.count - 1)]
    }

    /// The marked alerts the list shows now, in list order: a mark hidden by a filter, or on an
    /// alert that closed, is not acted on.
    var markedAlerts: [String] { rows(.alerts).map { data.alerts[$0].id }.filter(state.marked.contains) }

    // What a key acts on is what is on screen: the open detail's subject, or, with no detail
    // open, the selected row. A detail of another kind (a call opened from a grant) has none.

    /// The session on screen: the detail's (or the session of the call on screen), or the selected row's.
    public var selectedSession: SessionRow? {
        guard state.view == .sessions else { return nil }
        switch state.detail {
        case .session(let id)?, .call(let id, _)?:
            return data.sessions.first { $0.id == id } ?? data.sessionDetail.flatMap { $0.session.id == id ? $0.session : nil }
        case nil: return selectedIndex.map { data.sessions[$0] }
        default: return nil
        }
    }
    public var selectedGrant: HubGrant? {
        guard state.view == .grants else { return nil }
        switch state.detail {
        case .grant(let id)?: return data.grants.first { $0.id == id }
        case nil: return selectedIndex.map { data.grants[$0] }
        default: return nil
        }
    }
    public var selectedTool: ToolRow? {
        guard state.view == .tools else { return nil }
        switch state.detail {
        case .tool(let name)?: return data.tools.first { $0.qualifiedName == name } ?? data.toolDetail.flatMap { $0.tool.qualifiedName == name ? $0.tool : nil }
        case nil: return selectedIndex.map { data.tools[$0] }
        default: return nil
        }
    }
    public var selectedAlert: AlertRow? {
        guard state.view == .alerts else { return nil }
        switch state.detail {
        case .alert(let id)?: return data.alerts.first { $0.id == id }
        case nil: return selectedIndex.map { data.alerts[$0] }
        default: return nil
        }
    }
    public var selectedIncident: IncidentRow? {
        guard state.view == .playbooks else { return nil }
        switch state.detail {
        case .run(let run)?: return data.incidents.first { $0.run == run }
        case nil: return selectedIndex.map { data.incidents[$0] }
        default: return nil
        }
    }

    /// Pending grants: the header counts them on every screen.
    public var pendingCount: Int { data.grants.reduce(0) { $0 + ($1.isPending ? 1 : 0) } }

    // MARK: Keys

    /// Handles one key; returns what the driver must do. `pageSize` and `width` are the terminal's
    /// (page moves, and which tab a mouse click on row 1 hits).
    public mutating func handle(_ key: Key, pageSize: Int = 10, width: Int = 200) -> [Effect] {
        if state.showHelp {
            state.showHelp = false
            return []
        }
        if state.modal != nil { return handleModal(key) }
        if state.command != nil { return handleCommand(key) }
        if state.filterInput != nil { return handleFilter(key) }
        state.message = nil
        switch key {
        case .char(let c) where c.isNumber:
            if let n = c.wholeNumberValue, let v = ViewID(rawValue: n) { open(v) }
        case .char(":"): state.command = ""
        case .char("/"): state.filterInput = state.detail == nil ? state.current.filter : state.detailFilter
        case .char("?"): state.showHelp = true
        case .char("o"): cycleSort()
        case .char("C") where state.view == .alerts:
            state.showClosedAlerts.toggle()
            refilter(.alerts)
            state.message = state.showClosedAlerts ? "showing closed alerts too (C hides them)" : "closed alerts hidden (C shows them)"
            state.messageIsError = false
        case .char("q"):
            state.quit = true
        case .char("j"), .down: move(1)
        case .char("k"), .up: move(-1)
        case .char("g"), .home: moveTo(0)
        case .char("G"), .end: moveTo(Int.max)
        case .pageDown, .char(" "): move(pageSize)
        case .pageUp: move(-pageSize)
        case .tab: open(ViewID(rawValue: state.view.rawValue % 6 + 1)!)
        case .backTab: open(ViewID(rawValue: (state.view.rawValue + 4) % 6 + 1)!)
        case .escape:
            if state.detail != nil, !state.detailFilter.isEmpty {
                state.detailFilter = ""
            } else if let back = state.detailStack.popLast() {
                state.detail = back.detail
                state.detailCursor = back.cursor
                state.detailCursorKey = back.cursorKey
                state.detailScroll = 0
                return loadEffect(back.detail)
            } else if state.detail != nil {
                state.detail = nil
                state.detailScroll = 0
            } else if !state.current.filter.isEmpty {
                setFilter("")
            }
        case .enter:
            if state.detail != nil { return openLink() }
            return openDetail()
        case .char("V") where state.view == .audit:
            state.message = "verifying the audit chain…"
            state.messageIsError = false
            return [.verifyAudit]
        case .mouse(let row, let col, let wheel):
            if wheel != 0 {
                move(wheel * 3)
            } else if row == 1, let tab = ConsoleRenderer.tabs(self, cols: width).first(where: { $0.columns.contains(col) }) {
                open(tab.view)
            } else if state.detail == nil, row >= ConsoleRenderer.listTop {
                moveTo(state.current.top + row - ConsoleRenderer.listTop)
            }
        default:
            return actionKey(key)
        }
        return []
    }

    /// Shows a view, closing any detail.
    public mutating func open(_ view: ViewID) {
        // Marks are for the list they were made in, as it was shown.
        if view != state.view { state.marked = [] }
        state.view = view
        state.detail = nil
        state.detailScroll = 0
        state.detailFilter = ""
        state.detailCursor = 0
        state.detailCursorKey = nil
        state.detailStack = []
    }

    mutating func move(_ delta: Int) {
        if state.detail != nil {
            // A detail with links moves its cursor (the renderer keeps it on screen); others scroll.
            let links = detailLinkItems
            if let shown = state.shownLinks?.filter({ $0 < links.count }) {
                // Filtered: the cursor steps over the links on screen only.
                guard !shown.isEmpty else { return }
                let at = shown.firstIndex { $0 >= state.detailCursor } ?? shown.count
                let here = at < shown.count && shown[at] == state.detailCursor
                let next = delta > 0 ? (here ? at + delta : at + delta - 1) : at + delta
                state.detailCursor = shown[min(max(0, next), shown.count - 1)]
                state.detailCursorKey = links[state.detailCursor].key
            } else if !links.isEmpty {
                state.detailCursor = min(max(0, state.detailCursor + delta), links.count - 1)
                state.detailCursorKey = links[state.detailCursor].key
            } else {
                state.detailScroll = max(0, state.detailScroll + delta)
            }
            return
        }
        moveTo(state.current.selected + delta)
    }

    mutating func moveTo(_ index: Int) {
        if state.detail != nil {
            state.detailScroll = index == Int.max ? Int.max / 2 : 0
            let links = detailLinkItems
            state.detailCursor = index == Int.max ? max(0, links.count - 1) : 0
            state.detailCursorKey = links.isEmpty ? nil : links[state.detailCursor].key
            return
        }
        let rows = rows(state.view)
        var l = state.current
        l.selected = rows.isEmpty ? 0 : min(max(0, index), rows.count - 1)
        l.selectedKey = rows.isEmpty ? nil : rowKey(state.view, rows[l.selected])
        state.current = l
    }

    mutating func setFilter(_ filter: String) {
        if filter != state.current.filter { state.marked = [] }
        var l = state.current
        l.filter = filter
        state.current = l
        refilter(state.view)
    }

    mutating func openDetail() -> [Effect] {
        guard let i = selectedIndex else { return [] }
        guard let detail = selectedDetail else {
            state.message = "incident \(data.incidents[i].id) has no playbook run yet: p starts one"
            return []
        }
        state.detailScroll = 0
        state.detailFilter = ""
        state.detailCursor = 0
        state.detailCursorKey = nil
        state.detail = detail
        return loadEffect(detail)
    }

    /// The detail of the selected row (nil for an incident with no playbook run).
    public var selectedDetail: Detail? {
        guard let i = selectedIndex else { return nil }
        switch state.view {
        case .sessions: return .session(data.sessions[i].id)
        case .grants: return .grant(data.grants[i].id)
        case .tools: return .tool(data.tools[i].qualifiedName)
        case .alerts: return .alert(data.alerts[i].id)
        case .playbooks: return data.incidents[i].run.map { .run($0) }
        case .audit: return .audit(data.audit[i].sequence)
        }
    }

    /// What a detail needs fetched (alerts and audit records are in the lists already).
    func loadEffect(_ detail: Detail) -> [Effect] {
        switch detail {
        case .session(let id): [.loadSession(id)]
        case .grant(let id): [.loadGrant(id)]
        case .tool(let name): [.loadTool(name)]
        case .run(let run): [.loadRun(run)]
        case .alert, .call, .audit: []
        }
    }

    /// Whether a terminal this wide shows the selected row's detail beside the list.
    public static func sideBySide(width: Int) -> Bool { width >= ConsoleRenderer.splitWidth }

    /// On a wide terminal the detail pane follows the selection: when the selected row changed
    /// (a key, a reload), what its detail needs is fetched. Called by the app before each frame.
    public mutating func syncPreview(width: Int) -> [Effect] {
        guard Self.sideBySide(width: width), state.detail == nil, !state.showHelp else {
            if state.detail == nil { state.previewed = nil }
            return []
        }
        let target = selectedDetail
        guard target != state.previewed else { return [] }
        state.previewed = target
        return target.map(loadEffect) ?? []
    }

    /// What the open detail lists that has a detail of its own, in the order it shows them: a
    /// session's calls in its timeline, the calls a grant let through.
    public var detailLinks: [Detail] { detailLinkItems.map(\.target) }

    /// The links with what identifies each line across reloads (an event's id; a covered call's
    /// session, id and time), so the cursor follows its line, not its position.
    var detailLinkItems: [(key: String, target: Detail)] {
        switch state.detail {
        case .session(let id)?:
            guard let d = data.sessionDetail, d.session.id == id else { return [] }
            return d.events.compactMap { e in e.call.map { (e.id.isEmpty ? "\(e.time)/\(e.kind)/\($0)" : e.id, .call(session: id, request: $0)) } }
        case .grant(let id)?:
            guard let covered = data.grantCalls, covered.grant == id else { return [] }
            return covered.calls.compactMap { c in c.call.map { ("\(c.session)/\($0)/\(c.time)", .call(session: c.session, request: $0)) } }
        default:
            return []
        }
    }

    /// `enter` in a detail: opens what its cursor is on, if anything.
    mutating func openLink() -> [Effect] {
        let links = detailLinks
        guard let current = state.detail, !links.isEmpty else { return [] }
        if let shown = state.shownLinks, !shown.contains(state.detailCursor) {
            state.message = shown.isEmpty ? "the filter shows no call to open" : "the cursor's line is hidden by the filter: j/k picks a call on screen"
            return []
        }
        let target = links[min(state.detailCursor, links.count - 1)]
        state.detailStack.append(DetailPlace(detail: current, cursor: state.detailCursor, cursorKey: state.detailCursorKey))
        state.detail = target
        state.detailCursor = 0
        state.detailCursorKey = nil
        state.detailScroll = 0
        state.detailFilter = ""
        // A call's events are its session's: a grant's call may be in a session not loaded yet.
        if case .call(let session, _) = target, data.sessionDetail?.session.id != session { return [.loadSession(session)] }
        return []
    }

    /// Keys that act on the selected row: approve, deny, revoke, quarantine, acknowledge…
    mutating func actionKey(_ key: Key) -> [Effect] {
        guard case .char(let c) = key else { return [] }
        switch (state.view, c) {
        case (.grants, "a"):
            guard let g = selectedGrant else { return [] }
            guard g.isPending else { return note("grant \(g.id) is \(g.state.rawValue); only pending requests can be approved") }
            state.modal = .approve(grant: g, scope: 0, ttl: "15m")
        case (.grants, "d"):
            guard let g = selectedGrant else { return [] }
            guard g.isPending else { return note("grant \(g.id) is \(g.state.rawValue); only pending requests can be denied (r revokes an active grant)") }
            state.modal = .input(title: "Deny \(g.server)/\(g.tool) — reason (required):", text: "", purpose: .denyGrant(g.id))
        case (.grants, "r"):
            guard let g = selectedGrant else { return [] }
            guard g.state == .active || g.state == .approved else { return note("grant \(g.id) is \(g.state.rawValue); only active grants can be revoked") }
            state.modal = .input(title: "Revoke \(g.server)/\(g.tool) — reason:", text: "", purpose: .revokeGrant(g.id))
        case (.tools, "a"):
            guard let t = selectedTool else { return [] }
            let action = ConsoleAction.approveTool(name: t.qualifiedName)
            switch t.verdict {
            case .malicious:
                state.modal = .typedConfirm(title: "Warden judged \(t.qualifiedName) MALICIOUS (score \(t.score)). Trusting it pins this definition and shows it to clients again. Type trust to confirm:",
                                            word: "trust", text: "", action: action)
            case .clean:
                state.modal = .confirm(title: "Trust the current definition of \(t.qualifiedName) (pin it; clients see it again)?", action: action)
            default:
                state.modal = .confirm(title: "Warden judged \(t.qualifiedName) \(t.verdict.rawValue.uppercased()) (score \(t.score)). Trust this definition anyway (pin it; clients see it again)?", action: action)
            }
        case (.tools, "Q"):
            guard let t = selectedTool else { return [] }
            state.modal = .input(title: "Quarantine \(t.qualifiedName) — reason:", text: "", purpose: .quarantineTool(t.qualifiedName))
        case (.tools, "s"):
            guard let t = selectedTool else { return [] }
            guard let rule = t.findings.first?.rule else { return note("\(t.qualifiedName) has no findings to suppress") }
            state.modal = .input(title: "Suppress \(rule) for \(t.qualifiedName) (tab: next rule) — reason:", text: "", purpose: .suppressRule(tool: t.qualifiedName, rule: rule))
        case (.tools, "B"):
            guard let t = selectedTool else { return [] }
            state.modal = .input(title: "Reset the behaviour baseline of \(t.qualifiedName) — reason:", text: "", purpose: .resetBaseline(t.qualifiedName))
        case (.alerts, "m"):
            // Marks for bulk triage: x and f then act on every marked alert.
            guard let a = selectedAlert else { return [] }
            if state.marked.remove(a.id) == nil { state.marked.insert(a.id) }
            move(1)
        case (.alerts, "M"):
            let shown = rows(.alerts).map { data.alerts[$0].id }
            state.marked = state.marked.isSuperset(of: shown) ? [] : Set(shown)
            return note(state.marked.isEmpty ? "marks cleared" : "\(state.marked.count) alerts marked: x acknowledges them, f closes them as false positives")
        case (.alerts, "x") where !state.marked.isEmpty && state.detail == nil:
            let ids = markedAlerts
            state.marked = []
            guard !ids.isEmpty else { return note("no marked alert is listed now (the filter hides them, or they closed): marks cleared") }
            return [.performAll(ids.map { .acknowledgeAlert(id: $0) })]
        case (.alerts, "f") where !state.marked.isEmpty && state.detail == nil:
            let ids = markedAlerts
            guard !ids.isEmpty else {
                state.marked = []
                return note("no marked alert is listed now (the filter hides them, or they closed): marks cleared")
            }
            state.modal = .input(title: "Mark \(ids.count) alerts false positives — reason:", text: "", purpose: .falsePositives(ids))
        case (.alerts, "x"):
            guard let a = selectedAlert else { return [] }
            return [.perform(.acknowledgeAlert(id: a.id))]
        case (.alerts, "e"):
            guard let a = selectedAlert else { return [] }
            state.modal = .confirm(title: "Escalate alert \(a.id) (\(a.rule)) to an incident?", action: .escalateAlert(id: a.id))
        case (.alerts, "f"):
            guard let a = selectedAlert else { return [] }
            state.modal = .input(title: "Mark \(a.id) a false positive — reason:", text: "", purpose: .falsePositive(a.id))
        case (.alerts, "v"):
            guard let a = selectedAlert else { return [] }
            state.modal = .input(title: "Resolve \(a.id) — how was it resolved?", text: "", purpose: .resolveAlert(a.id))
        case (.alerts, "A"):
            guard let a = selectedAlert else { return [] }
            state.modal = .input(title: "Assign \(a.id) to:", text: a.assignee ?? "", purpose: .assignAlert(a.id))
        case (.alerts, "n"):
            guard let a = selectedAlert else { return [] }
            state.modal = .input(title: "Note on \(a.id):", text: "", purpose: .noteAlert(a.id))
        case (.sessions, "K"):
            guard let s = selectedSession else { return [] }
            guard s.live else { return note("session \(s.id) has already ended") }
            state.modal = .input(title: "Terminate session \(s.id) (stops \(s.server) for \(s.client)) — reason:", text: "",
                                 purpose: .respond(.terminateSession, args: [s.id]))
        case (.sessions, "R"):
            guard let s = selectedSession else { return [] }
            let active = data.grants.filter { $0.session == s.id && ($0.state == .active || $0.state == .approved) }.count
            state.modal = .input(title: "Revoke the grants of session \(s.id) (\(active) active) — reason:", text: "",
                                 purpose: .respond(.revokeGrants, args: ["session", s.id]))
        case (.sessions, "X"), (.tools, "X"):
            guard let server = state.view == .sessions ? selectedSession?.server : selectedTool?.server else { return [] }
            state.modal = .input(title: "Block server \(server): every call to it is refused, in every session — reason:", text: "",
                                 purpose: .respond(.blockServer, args: [server]))
        case (.sessions, "U"), (.tools, "U"):
            guard let server = state.view == .sessions ? selectedSession?.server : selectedTool?.server else { return [] }
            state.modal = .input(title: "Unblock server \(server) — reason:", text: "", purpose: .respond(.unblockServer, args: [server]))
        case (.playbooks, "X"):
            guard let i = selectedIncident else { return [] }
            guard i.status != .closed else { return note("incident \(i.id) is already closed") }
            state.modal = .input(title: "Close incident \(i.id) — resolution:", text: "", purpose: .closeIncident(i.id))
        case (.playbooks, "p"), (.alerts, "p"):
            let incident = state.view == .playbooks ? selectedIncident?.id : selectedAlert?.incident
            guard let incident else { return note("escalate the alert to an incident first (e)") }
            state.modal = .input(title: "Start which playbook on \(incident)? (tab: next)", text: ConsoleModel.playbookNames[0], purpose: .startPlaybook(incident: incident))
        case (.playbooks, "d"):
            guard let run = selectedIncident?.run ?? currentRun else { return [] }
            state.modal = .confirm(title: "Mark the current step of \(run) complete?", action: .stepDone(run: run, note: nil))
        case (.playbooks, "s"):
            guard let run = selectedIncident?.run ?? currentRun else { return [] }
            state.modal = .input(title: "Skip the current step of \(run) — reason:", text: "", purpose: .skipStep(run))
        case (.playbooks, "R"):
            guard let run = selectedIncident?.run ?? currentRun else { return [] }
            if let d = data.runDetail, d.run == run, let step = d.steps.first(where: { $0.id == d.current }), step.kind == .manual {
                return note("\(step.name) is a manual step: nothing to run. Do it, then d marks it done")
            }
            if data.runDetail?.run != run, let row = data.incidents.first(where: { $0.run == run }), row.stepKind == .manual {
                return note("\(row.step ?? "the current step") is a manual step: nothing to run. Do it, then d marks it done")
            }
            state.modal = .confirm(title: "Run the current step's automated action for \(run)?", action: .stepRun(run: run))
        case (.playbooks, "n"):
            guard let run = selectedIncident?.run ?? currentRun else { return [] }
            state.modal = .input(title: "Note for \(run):", text: "", purpose: .note(run))
        case (_, "c"):
            // The id of what is on screen: the detail's subject, or the selected row.
            guard let id = selectedID else { return note("nothing selected to copy") }
            return [.copy(id)]
        default:
            break
        }
        return []
    }

    /// What `c` copies: an id as it is when it is plain (Warden's own ids always are), otherwise
    /// escaped and single-quoted for a shell — tool and server names come from the server, and
    /// the operator pastes them after `warden tools approve`.
    public static func pasteable(_ id: String) -> String {
        let plain = !id.isEmpty && id.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._:/@-".unicodeScalars.contains($0)) }
        return plain ? id : "'" + SafeText.escape(id).replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// The id an operator would paste into a CLI command: the open detail's, or the selected row's.
    public var selectedID: String? {
        switch state.detail {
        case .session(let id)?, .grant(let id)?, .tool(let id)?, .alert(let id)?, .run(let id)?: return id
        case .call(let session, _)?: return session
        case .audit(let sequence)?: return String(sequence)
        case nil: break
        }
        guard let i = selectedIndex else { return nil }
        switch state.view {
        case .sessions: return data.sessions[i].id
        case .grants: return data.grants[i].id
        case .tools: return data.tools[i].qualifiedName
        case .alerts: return data.alerts[i].id
        case .playbooks: return data.incidents[i].id
        case .audit: return String(data.audit[i].sequence)
        }
    }

    var currentRun: String? { if case .run(let r)? = state.detail { r } else { nil } }

    /// The built-in playbooks (`p` offers them; tab cycles).
    public static let playbookNames = ["tool-poisoning", "unauthorised-access", "data-exfiltration", "server-compromise", "resource-exhaustion"]

    /// Applies grants the hub pushed. A held call that expired with nobody deciding becomes a
    /// notice, wherever the operator is: the agent was told no, and someone may be waiting on it.
    /// Returns whether the operator should be alerted (the bell).
    public mutating func applyPushed(_ pushed: [HubGrant]) -> Bool {
        var expired: [HubGrant] = []
        // State as the batch goes: a request that arrives and expires in one batch is news too.
        var last = Dictionary(data.grants.map { ($0.id, $0.state) }, uniquingKeysWith: { first, _ in first })
        for g in pushed {
            if g.state == .expired, last[g.id] == .pending { expired.append(g) }
            last[g.id] = g.state
        }
        update(.grants) { $0.apply(pushed) }
        guard let g = expired.last else { return false }
        let more = expired.count > 1 ? " (and \(expired.count - 1) more)" : ""
        state.message = "held call \(g.server)/\(g.tool) expired unanswered\(more): the client was told no (grant \(g.id), 2 lists them)"
        state.messageIsError = true
        return true
    }

    /// Applies events the hub pushed to the sessions list and the timeline on screen. Returns what
    /// has to be fetched: the list, when a session it does not hold yet appears; the uses of the
    /// grant on screen, when a call it covered arrives.
    ///
    /// Rows change in place (a row the list does not hold is fetched, never appended here), so the
    /// visible indices stay valid: the sessions list is refiltered and resorted by
    /// `refilterStaleSessions`, at most once a second, not on every push of an event flood (a regex
    /// filter over 10,000 sessions costs a fifth of a second).
    public mutating func applyPushed(events: [Event]) -> (listSessions: Bool, effects: [Effect]) {
        let unknown = data.apply(events: events)
        sessionsStale = true
        settleDetailCursor()
        if case .grant(let id)? = state.detail ?? state.previewed,
           events.contains(where: { $0.kind == .callDecided && $0.call?.grantID == id }) {
            return (unknown, [.loadGrant(id)])
        }
        return (unknown, [])
    }

    /// Applies alerts the hub pushed (raised or bumped by the correlator): each replaces the row of
    /// its id, a new one goes first. Returns whether the operator should be alerted (the bell).
    public mutating func applyPushed(alerts pushed: [AlertRow]) -> Bool {
        var rows = data.alerts
        for a in pushed {
            if let i = rows.firstIndex(where: { $0.id == a.id }) { rows[i] = a } else { rows.insert(a, at: 0) }
        }
        return replaceAlerts(rows)
    }

    /// Replaces the alerts. A critical alert not seen before becomes a notice; returns whether the
    /// operator should be alerted (the bell). The first load only fills the list.
    public mutating func replaceAlerts(_ rows: [AlertRow]) -> Bool {
        let known = Set(data.alerts.map(\.id))
        let loadedBefore = data.alertsLoaded
        update {
            $0.alerts = rows
            $0.alertsLoaded = true
        }
        guard loadedBefore, let new = rows.first(where: { $0.severity == .critical && !known.contains($0.id) }) else { return false }
        state.message = "critical alert \(new.id): \(new.title) (4 lists alerts)"
        state.messageIsError = true
        return true
    }

    mutating func note(_ text: String) -> [Effect] {
        state.message = text
        state.messageIsError = true
        return []
    }

    mutating func cancelModal() {
        state.modal = nil
        state.message = "cancelled"
        state.messageIsError = false
    }

    mutating func handleModal(_ key: Key) -> [Effect] {
        guard let modal = state.modal else { return [] }
        switch modal {
        case .approve(let grant, var scope, var ttl):
            switch key {
            case .escape: state.modal = nil
            case .left, .backTab: scope = (scope + 2) % 3
            case .right, .tab: scope = (scope + 1) % 3
            case .backspace: if !ttl.isEmpty { ttl.removeLast() }
            case .char(let c) where c.isLetter || c.isNumber: if ttl.count < 8 { ttl.append(c) }
            case .enter:
                state.modal = nil
                return [.perform(.approveGrant(id: grant.id, scope: ConsoleState.scopes[scope], ttl: ttl.isEmpty ? "15m" : ttl))]
            default: break
            }
            if state.modal != nil { state.modal = .approve(grant: grant, scope: scope, ttl: ttl) }
        case .typedConfirm(let title, let word, var text, let action):
            switch key {
            case .escape:
                cancelModal()
                return []
            case .backspace: if !text.isEmpty { text.removeLast() }
            case .char(let c): if text.count < 32 { text.append(c) }
            case .enter:
                guard text == word else {
                    state.message = "type \(word) to confirm (esc cancels)"
                    state.messageIsError = true
                    return []
                }
                state.modal = nil
                state.message = nil
                return [.perform(action)]
            default: break
            }
            state.modal = .typedConfirm(title: title, word: word, text: text, action: action)
        case .confirm(_, let action):
            switch key {
            case .char("y"), .char("Y"), .enter:
                state.modal = nil
                return [.perform(action)]
            case .char("n"), .char("N"), .escape:
                cancelModal()
            default: break
            }
        case .confirmAll(_, let actions):
            switch key {
            case .char("y"), .char("Y"), .enter:
                state.modal = nil
                state.marked = []
                return [.performAll(actions)]
            case .char("n"), .char("N"), .escape:
                cancelModal()
            default: break
            }
        case .input(var title, var text, var purpose):
            switch key {
            case .escape:
                cancelModal()
                return []
            case .backspace: if !text.isEmpty { text.removeLast() }
            case .tab:
                if case .suppressRule(let tool, let rule) = purpose, let t = data.tools.first(where: { $0.qualifiedName == tool }) {
                    let rules = Array(Set(t.findings.map(\.rule))).sorted()
                    let next = rules[((rules.firstIndex(of: rule) ?? -1) + 1) % max(1, rules.count)]
                    purpose = .suppressRule(tool: tool, rule: next)
                    title = "Suppress \(next) for \(tool) (tab: next rule) — reason:"
                } else if case .startPlaybook = purpose {
                    let names = ConsoleModel.playbookNames
                    text = names[((names.firstIndex(of: text) ?? -1) + 1) % names.count]
                }
            case .char(let c):
                if text.count < 500 { text.append(c) }
                state.message = nil  // "a reason is required" is answered by typing one
            case .enter:
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty || !purpose.requiresText else {
                    state.message = "a reason is required"
                    state.messageIsError = true
                    return []
                }
                let action = purpose.action(trimmed)
                switch purpose {
                case .falsePositives(let ids):
                    state.modal = .confirmAll(title: "Close \(ids.count) alerts as false positives (\(trimmed))?", actions: ids.map { .falsePositive(id: $0, reason: trimmed) })
                    return []
                case .denyGrant, .revokeGrant, .quarantineTool, .falsePositive, .suppressRule, .resetBaseline, .respond(.terminateSession, _), .respond(.revokeGrants, _),
                     .respond(.blockServer, _):
                    // Destructive: the reason is not the confirmation.
                    state.modal = .confirm(title: Self.confirmation(action), action: action)
                default:
                    state.modal = nil
                    return [.perform(action)]
                }
                return []
            default: break
            }
            state.modal = .input(title: title, text: text, purpose: purpose)
        }
        return []
    }

    static func confirmation(_ action: ConsoleAction) -> String {
        switch action {
        case .denyGrant(let id, let reason): "Deny \(id) (\(reason))? The client gets a denial."
        case .revokeGrant(let id, _): "Revoke \(id)? Calls it covered need a new grant."
        case .quarantineTool(let name, _): "Quarantine \(name)? Clients stop seeing it."
        case .falsePositive(let id, _): "Close \(id) as a false positive?"
        case .suppressRule(let name, let rule, _): "Suppress \(rule) for \(name)?"
        case .resetBaseline(let name, _): "Forget what \(name)'s normal behaviour is? It is learnt again from its next calls."
        case .respond(.terminateSession, let args, _): "Terminate session \(args.first ?? "")? Its relay stops the server; the client sees the server exit."
        case .respond(.revokeGrants, let args, _): "Revoke every active grant of \(args.joined(separator: " "))? Their calls need a person again."
        case .respond(.blockServer, let args, _): "Block \(args.first ?? "")? Every call to it is refused in every session until it is unblocked."
        case .respond(let action, let args, _): "Run \(action.rawValue) \(args.joined(separator: " "))?"
        default: "Go ahead?"
        }
    }

    mutating func handleCommand(_ key: Key) -> [Effect] {
        var text = state.command ?? ""
        switch key {
        case .escape: state.command = nil
        case .backspace:
            if text.isEmpty { state.command = nil } else { text.removeLast(); state.command = text }
        case .tab:
            if let match = Self.commands.first(where: { $0.hasPrefix(text) && $0 != text }) { state.command = match }
        case .char(let c): state.command = text + String(c)
        case .enter:
            state.command = nil
            let word = text.trimmingCharacters(in: .whitespaces)
            if word == "q" || word == "quit" {
                state.quit = true
            } else if word == "help" {
                state.showHelp = true
            } else if let view = ViewID.allCases.first(where: { $0.command == word || ($0.command.hasPrefix(word) && !word.isEmpty) }) {
                open(view)
            } else if !word.isEmpty {
                return note("unknown command :\(word) (try :sessions :grants :tools :alerts :playbooks :audit :help :q)")
            }
        default: break
        }
        return []
    }

    /// `:` commands, for completion.
    public static let commands = ViewID.allCases.map(\.command) + ["help", "quit", "q"]

    /// `/`: the filter applies as it is typed (when what is typed so far is a regular expression)
    /// to what is on screen: the open detail's lines, or else the list. Enter keeps it, esc clears it.
    mutating func handleFilter(_ key: Key) -> [Effect] {
        var text = state.filterInput ?? ""
        switch key {
        case .escape:
            state.filterInput = nil
            apply(filter: "")
            return []
        case .backspace: if !text.isEmpty { text.removeLast() }
        case .char(let c): text.append(c)
        case .enter:
            state.filterInput = nil
            if !text.isEmpty, (try? Regex(text)) == nil {
                return note("not a regular expression: \(text)")
            }
            apply(filter: text)
            return []
        default: return []
        }
        state.filterInput = text
        if text.isEmpty || (try? Regex(text)) != nil { apply(filter: text) }
        return []
    }

    mutating func apply(filter: String) {
        if state.detail != nil {
            state.detailFilter = filter
            state.detailScroll = 0
        } else {
            setFilter(filter)
        }
    }
}

/// Alerts' default order, compared field by field (no field can spill into another).
struct AlertOrder: Comparable {
    var closed: Int
    var severity: Int
    var age: Double
    static func < (a: AlertOrder, b: AlertOrder) -> Bool { (a.closed, a.severity, a.age) < (b.closed, b.severity, b.age) }
}
