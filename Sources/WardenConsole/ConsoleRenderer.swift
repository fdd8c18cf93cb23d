import Foundation
import WardenCore
import WardenHubAPI

/// Draws the console into a frame: header, view tabs, the current list or detail, the message or
/// input line, the key footer, and any dialog on top. Formats only the rows on screen, so a frame
/// costs the same with ten sessions or ten thousand.
public struct ConsoleRenderer: Sendable {
    /// First screen row of a list's rows (after header, tabs and column titles).
    public static let listTop = 3
    /// Seconds east of UTC for clock times (tests use 0).
    public var utcOffset: Int

    public init(utcOffset: Int = TimeZone.current.secondsFromGMT()) { self.utcOffset = utcOffset }

    /// The rows a list shows at once for a terminal size.
    public static func pageSize(_ size: TerminalSize) -> Int { max(1, size.rows - listTop - 2) }

    /// Renders the model at `now` (Unix time) into a new frame. Also settles the list's scroll
    /// position so the selection is on screen (hence `inout`).
    public func render(_ model: inout ConsoleModel, size: TerminalSize, now: Double) -> Frame {
        var frame = Frame(rows: size.rows, cols: size.cols)
        guard size.rows >= 6, size.cols >= 20 else {
            frame.put("terminal too small (\(size.cols)x\(size.rows)); need 60x20", row: 0, col: 0, role: .warning)
            return frame
        }
        header(&frame, model, now: now)
        tabs(&frame, model)
        if model.state.showHelp {
            help(&frame, model)
        } else if let detail = model.state.detail {
            self.detail(&frame, &model, detail, now: now)
        } else if ConsoleModel.sideBySide(width: size.cols), size.rows >= 12 {
            split(&frame, &model, now: now)
        } else {
            list(&frame, &model, now: now)
        }
        statusLine(&frame, model)
        footer(&frame, model)
        if let modal = model.state.modal { dialog(&frame, modal) }
        return frame
    }

    /// From this width on, the selected row's detail is shown beside the list (lazygit's layout);
    /// narrower terminals show the detail full screen on `enter`.
    public static let splitWidth = 160

    /// The list on the left, the selected row's detail on the right, each drawn in a frame of its
    /// own width and copied in. The pane is a read-only view: `enter` opens the full detail.
    func split(_ f: inout Frame, _ m: inout ConsoleModel, now: Double) {
        let leftWidth = f.cols * 11 / 20
        var left = Frame(rows: f.rows, cols: leftWidth)
        list(&left, &m, now: now)
        f.blit(left, rows: 2..<(f.rows - 2), col: 0)
        for r in 2..<(f.rows - 2) { f.put("│", row: r, col: leftWidth, role: .dim) }
        guard let selected = m.selectedDetail else { return }
        var pane = m
        pane.state.detail = selected
        pane.state.detailScroll = 0
        pane.state.detailCursor = -1
        pane.state.detailFilter = ""
        var right = Frame(rows: f.rows, cols: f.cols - leftWidth - 1)
        detail(&right, &pane, selected, now: now, pane: true)
        f.blit(right, rows: 2..<(f.rows - 2), col: leftWidth + 1)
    }

    var compactWidth: Int { Self.compactWidth }
    static let compactWidth = 80

    // MARK: Header and tabs

    func header(_ f: inout Frame, _ m: ConsoleModel, now: Double) {
        f.fill(row: 0, role: .header)
        var parts: [(String, Role)] = [(" WARDEN ", .headerAccent)]
        let compact = f.cols < compactWidth
        if m.data.hub.connected {
            parts.append((compact ? " hub ● " : " hub ● pid \(m.data.hub.pid) ", .header))
        } else {
            parts.append((" hub ✗ \(m.data.hub.problem ?? "not connected") ", .critical))
        }
        let live = m.data.sessions.reduce(0) { $0 + ($1.live ? 1 : 0) }
        parts.append(("│ \(live) live ", .header))
        let pending = m.pendingCount
        if pending > 0 {
            // Impossible to miss: its own colour, on every view, with the key that goes there.
            parts.append(("│", .header))
            parts.append((compact ? " ⚠ \(pending) PENDING [2] " : " ⚠ \(pending) PENDING GRANT\(pending == 1 ? "" : "S") — press 2 ", .pending))
        }
        var bySeverity: [String: Int] = [:]
        for a in m.data.alerts where a.status.isOpen { bySeverity[a.severity.rawValue, default: 0] += 1 }
        if !bySeverity.isEmpty {
            parts.append(("│ alerts ", .header))
            for s in ["critical", "high", "medium", "low", "info"] {
                if let n = bySeverity[s] { parts.append((compact ? "\(s.prefix(1).uppercased())\(n) " : "\(n) \(s) ", Format.role(severity: s) == .critical ? .critical : .headerAccent)) }
            }
        }
        let clock = Format.clock(now, offset: utcOffset)
        let room = f.cols > 40 ? f.cols - clock.count - 2 : f.cols
        f.put(segments: parts, row: 0, col: 0, width: room)
        if f.cols > 40 { f.put(clock + " ", row: 0, col: f.cols - clock.count - 1, role: .header) }
    }

    func tabs(_ f: inout Frame, _ m: ConsoleModel) {
        f.fill(row: 1, role: .border)
        for tab in Self.tabs(m, cols: f.cols) {
            let end = f.put(tab.label, row: 1, col: tab.columns.lowerBound, role: tab.role)
            f.put(" ", row: 1, col: end, role: .border)
        }
    }

    /// The view tabs of row 1: label, role and the columns each covers. Drawing and mouse clicks use
    /// the same spans, so a click lands on the tab it is drawn over.
    static func tabs(_ m: ConsoleModel, cols: Int) -> [(view: ViewID, label: String, role: Role, columns: Range<Int>)] {
        let compact = cols < compactWidth
        var col = 0
        return ViewID.allCases.map { v in
            var label = compact ? " \(v.rawValue) \(v.title.prefix(4)) " : " \(v.rawValue) \(v.title) "
            var role: Role = v == m.state.view ? .selection : .border
            if v == .grants, m.pendingCount > 0 {
                label = compact ? " \(v.rawValue) Gra!\(m.pendingCount) " : " \(v.rawValue) Grants (\(m.pendingCount)!) "
                if v != m.state.view { role = .pending }
            }
            defer { col += label.count + 1 }
            return (v, label, role, col..<(col + label.count))
        }
    }

    // MARK: Lists

    struct Column {
        var title: String
        var width: Int  // 0: takes what is left
    }

    func columns(_ view: ViewID, compact: Bool) -> [Column] {
        switch (view, compact) {
        case (.sessions, false):
            [Column(title: "SERVER", width: 14), Column(title: "CLIENT", width: 16), Column(title: "PROTOCOL", width: 10), Column(title: "PID", width: 7),
             Column(title: "ISOLATION", width: 17), Column(title: "STARTED", width: 8), Column(title: "LAST", width: 10), Column(title: "CALLS", width: 6), Column(title: "DENIED", width: 6),
             Column(title: "RISK", width: 4), Column(title: "STATE", width: 0)]
        case (.sessions, true):
            [Column(title: "SERVER", width: 12), Column(title: "CLIENT", width: 0), Column(title: "LAST", width: 9), Column(title: "CALLS", width: 5), Column(title: "DEN", width: 4), Column(title: "RISK", width: 4)]
        case (.grants, false):
            [Column(title: "STATE", width: 8), Column(title: "TOOL", width: 24), Column(title: "CLIENT", width: 14), Column(title: "TIME LEFT", width: 10),
             Column(title: "SCOPE", width: 7), Column(title: "USES", width: 4), Column(title: "ARGUMENTS", width: 0)]
        case (.grants, true):
            // Held calls of one tool differ only in their arguments: they stay at every width.
            [Column(title: "STATE", width: 7), Column(title: "TOOL", width: 18), Column(title: "LEFT", width: 6), Column(title: "USES", width: 4),
             Column(title: "ARGUMENTS", width: 0)]
        case (.tools, false):
            [Column(title: "VERDICT", width: 10), Column(title: "SCORE", width: 5), Column(title: "REVIEW", width: 11), Column(title: "TOOL", width: 30), Column(title: "RULES", width: 0)]
        case (.tools, true):
            [Column(title: "VERDICT", width: 10), Column(title: "REVIEW", width: 9), Column(title: "TOOL", width: 0)]
        case (.alerts, false):
            [Column(title: "SEVERITY", width: 9), Column(title: "STATUS", width: 12), Column(title: "RULE", width: 22), Column(title: "LAYER", width: 10),
             Column(title: "N", width: 4), Column(title: "LAST", width: 9), Column(title: "ASSIGNEE", width: 10), Column(title: "TITLE", width: 0)]
        case (.alerts, true):
            [Column(title: "SEV", width: 8), Column(title: "STATUS", width: 9), Column(title: "TITLE", width: 0)]
        case (.playbooks, false):
            [Column(title: "INCIDENT", width: 10), Column(title: "SEVERITY", width: 9), Column(title: "STATUS", width: 10), Column(title: "PLAYBOOK", width: 20),
             Column(title: "RUN", width: 10), Column(title: "PHASE", width: 14), Column(title: "CURRENT STEP", width: 0)]
        case (.playbooks, true):
            [Column(title: "INCIDENT", width: 9), Column(title: "PLAYBOOK", width: 14), Column(title: "STEP", width: 0)]
        case (.audit, false):
            [Column(title: "SEQ", width: 6), Column(title: "TIME", width: 8), Column(title: "ACTOR", width: 22), Column(title: "ACTION", width: 20), Column(title: "SUBJECT", width: 0)]
        case (.audit, true):
            [Column(title: "SEQ", width: 5), Column(title: "ACTION", width: 16), Column(title: "SUBJECT", width: 0)]
        }
    }

    func cells(_ view: ViewID, _ m: ConsoleModel, _ i: Int, now: Double, compact: Bool) -> [(String, Role)] {
        let d = m.data
        switch view {
        case .sessions:
            let s = d.sessions[i]
            let risk: Role = s.risk >= 60 ? .high : s.risk >= 30 ? .medium : .normal
            if compact {
                return [(s.server, .normal), (s.client, .normal), (Format.ago(s.lastActivity, now: now).replacingOccurrences(of: " ago", with: ""), .dim),
                        (String(s.calls), .normal), (String(s.denials), s.denials > 0 ? .medium : .normal), (String(s.risk), risk)]
            }
            return [(s.server, .normal), (s.client, .normal), (s.protocolVersion, .dim), (String(s.serverPID), .dim),
                    (s.isolation?.label ?? "not reported", s.isolation.map { $0.isSandboxed ? .success : .high } ?? .dim),
                    (Format.clock(s.startedAt, offset: utcOffset), .normal), (Format.ago(s.lastActivity, now: now), .dim),
                    (String(s.calls), .normal), (String(s.denials), s.denials > 0 ? .medium : .normal), (String(s.risk), risk),
                    (s.live ? "live" : "ended \(s.endStatus ?? "")", s.live ? .success : .dim)]
        case .grants:
            let g = d.grants[i]
            let left: String
            let leftRole: Role
            if g.isPending {
                left = Format.span(g.deadline - now)
                leftRole = g.deadline - now < 10 ? .critical : .pending
            } else if let e = g.expiresAt, g.state == .active || g.state == .approved {
                left = Format.span(e - now)
                leftRole = .success
            } else {
                left = "-"
                leftRole = .dim
            }
            let stateRole: Role = g.isPending ? .pending : g.state == .active || g.state == .approved ? .success : g.state == .denied ? .high : .dim
            let uses = (g.uses > 0 ? String(g.uses) : "-", g.uses > 0 ? Role.normal : .dim)
            if compact { return [(g.state.rawValue, stateRole), ("\(g.server)/\(g.tool)", .normal), (left, leftRole), uses, (g.arguments, .dim)] }
            return [(g.state.rawValue, stateRole), ("\(g.server)/\(g.tool)", .normal), (g.client, .normal), (left, leftRole), (g.scope?.rawValue ?? "-", .dim),
                    uses, (g.arguments, .dim)]
        case .tools:
            let t = d.tools[i]
            let review: Role = t.review == .approved ? .success : t.review == .quarantined ? .high : t.review == .changed ? .medium : .normal
            if compact { return [(t.verdict.rawValue, Format.role(t.verdict)), (t.review.rawValue, review), (t.qualifiedName, .normal)] }
            let rules = Array(Set(t.findings.map(\.rule))).sorted().joined(separator: ",")
            return [(t.verdict.rawValue, Format.role(t.verdict)), (String(t.score), .normal), (t.review.rawValue, review), (t.qualifiedName, .normal), (rules.isEmpty ? "-" : rules, .dim)]
        case .alerts:
            let a = d.alerts[i]
            let status: Role = a.status == .new ? .warning : a.status.isOpen ? .normal : .dim
            if compact { return [(a.severity.rawValue, Format.role(a.severity)), (a.status.rawValue, status), (a.title, .normal)] }
            return [(a.severity.rawValue, Format.role(a.severity)), (a.status.rawValue, status), (a.rule, .normal), (String(a.layer.rawValue.prefix(2)), .dim),
                    (String(a.count), .normal), (Format.ago(a.lastSeen, now: now).replacingOccurrences(of: " ago", with: ""), .dim), (a.assignee ?? "-", .dim), (a.title, .normal)]
        case .playbooks:
            let r = d.incidents[i]
            if compact { return [(r.id, .normal), (r.playbook ?? "-", .normal), (r.step ?? (r.run == nil ? "no run (p starts one)" : r.runStatus?.rawValue ?? ""), .normal)] }
            return [(r.id, .normal), (r.severity.rawValue, Format.role(r.severity)), (r.status.rawValue, .normal), (r.playbook ?? "-", .normal), (r.run ?? "-", .dim),
                    (r.phase ?? "-", .dim), (r.step ?? (r.run == nil ? "no playbook run yet (p starts one)" : r.runStatus?.rawValue ?? ""), .normal)]
        case .audit:
            let a = d.audit[i]
            if compact { return [(String(a.sequence), .dim), (a.action, .normal), (a.subject, .normal)] }
            return [(String(a.sequence), .dim), (Format.clock(a.time, offset: utcOffset), .normal), (a.actor, .normal), (a.action, .normal), (a.subject, .normal)]
        }
    }

    func list(_ f: inout Frame, _ m: inout ConsoleModel, now: Double) {
        let view = m.state.view
        // The full column set when it fits with room for the flexible column; the compact one otherwise.
        let full = columns(view, compact: false)
        let compact = f.cols < full.reduce(0) { $0 + $1.width } + full.count + 8
        let cols = compact ? columns(view, compact: true) : full
        let top = Self.listTop + (view == .audit ? 1 : 0)
        let rows = m.rows(view)
        var height = max(1, f.rows - top - 2)
        // Narrow Grants: the ARGUMENTS column is too short to tell held calls of one tool apart, so
        // the selected request's arguments are shown whole (up to three rows) under the list.
        var preview: [Line] = []
        if view == .grants, compact, let g = m.selectedGrant {
            preview = Array(wrap([(String(g.arguments.prefix(4 * f.cols)), .normal)], width: max(8, f.cols - 2)).prefix(3))
            if height - preview.count - 1 < 2 { preview = [] } else { height -= preview.count + 1 }
        }
        // A list longer than the screen gives its last row to the position ("12/480"), so the
        // label never covers a row's text.
        let scrolls = rows.count > height && height > 1
        if scrolls { height -= 1 }
        var l = m.state.current
        if l.selected < l.top { l.top = l.selected }
        if l.selected >= l.top + height { l.top = l.selected - height + 1 }
        l.top = max(0, min(l.top, max(0, rows.count - height)))
        m.state.current = l
        // The rows on screen, formatted once: the columns are sized from them.
        let shown = (0..<max(0, min(height, rows.count - l.top))).map { cells(view, m, rows[l.top + $0], now: now, compact: compact) }
        let widths = Self.fit(cols, shown, total: f.cols)

        // Column titles, and the audit chain's status above the audit log.
        var x = 1
        var titlesEnd = 0
        f.fill(row: 2, role: .title)
        for (c, w) in zip(cols, widths) {
            f.put(c.title, row: 2, col: x, width: w, role: .title)
            titlesEnd = x + min(w, c.title.count)
            x += w + 1
        }
        // The order, at the right of the titles, where it covers none of them.
        let marker = " ↓\(m.sortKey(view).rawValue) (o) "
        if SortKey.options(view).count > 1, f.cols - marker.count - 1 > titlesEnd + 1 {
            f.put(marker, row: 2, col: f.cols - marker.count - 1, role: .title)
        }
        if view == .audit {
            let row = Self.listTop
            switch m.data.chain {
            case .intact(let records, let head): f.put("chain intact: \(records) records, head \(head.prefix(16))…", row: row, col: 1, role: .success)
            case .broken(let seq, let problem): f.put("CHAIN BROKEN at record \(seq): \(problem)", row: row, col: 1, role: .critical)
            case .unknown: f.put("chain not verified yet (V verifies)", row: row, col: 1, role: .dim)
            }
        }
        if rows.isEmpty {
            f.put(emptyText(view, m), row: top, col: 1, role: .dim)
            return
        }
        for (r, cells) in shown.enumerated() {
            let selected = l.top + r == l.selected
            let row = top + r
            if selected { f.fill(row: row, role: .selection) }
            var x = 1
            for (w, (text, role)) in zip(widths, cells) {
                f.put(text, row: row, col: x, width: w, role: selected && role != .pending && role != .critical ? .selection : role)
                x += w + 1
            }
            if selected { f.put("▶", row: row, col: 0, role: .selection) } else if view == .alerts, m.state.marked.contains(m.data.alerts[rows[l.top + r]].id) {
                f.put("●", row: row, col: 0, role: .pending)
            }
        }
        if scrolls {
            let label = " \(l.selected + 1)/\(rows.count) "
            f.put(label, row: top + height, col: f.cols - label.count, role: .dim)
        }
        if !preview.isEmpty {
            let at = top + height + (scrolls ? 1 : 0)
            f.put("─ arguments " + String(repeating: "─", count: max(0, f.cols - 13)), row: at, col: 1, role: .dim)
            for (i, line) in preview.enumerated() { f.put(segments: line, row: at + 1 + i, col: 1, width: f.cols - 2) }
        }
    }

    /// Column widths for the space there is. Fixed columns get their width and the flexible one
    /// (width 0) the rest, as before; but when the flexible column's text on screen leaves room,
    /// that room first goes to fixed columns whose text on screen is cut, so a wide terminal does
    /// not cut a server name beside an empty half screen.
    static func fit(_ cols: [Column], _ shown: [[(String, Role)]], total: Int) -> [Int] {
        func need(_ c: Int) -> Int {
            shown.reduce(CellWidth.of(cols[c].title)) { m, row in c < row.count ? max(m, CellWidth.of(SafeText.escape(row[c].0))) : m }
        }
        var widths = cols.map(\.width)
        let flex = cols.firstIndex { $0.width == 0 }
        var spare = max(0, total - cols.count - 1 - widths.reduce(0, +))
        guard let flex else { return widths }
        let flexNeed = max(4, need(flex))
        if spare > flexNeed {
            var room = spare - flexNeed
            for c in cols.indices where c != flex && room > 0 {
                let grow = min(room, max(0, need(c) - widths[c]))
                widths[c] += grow
                room -= grow
                spare -= grow
            }
        }
        widths[flex] = max(4, spare)
        return widths
    }

    func emptyText(_ view: ViewID, _ m: ConsoleModel) -> String {
        if !m.state.current.filter.isEmpty { return "nothing matches /\(m.state.current.filter)/ (esc clears the filter)" }
        switch view {
        case .sessions: return "no sessions yet: start an MCP client whose servers run through `warden wrap`"
        case .grants: return "no grant requests: calls that policy holds for a person appear here"
        case .tools: return "no tools seen yet"
        case .alerts: return "no alerts"
        case .playbooks: return "no incidents: escalate an alert (e) to open one"
        case .audit: return "the audit log is empty"
        }
    }

    // MARK: Details

    typealias Line = [(String, Role)]

    func detail(_ f: inout Frame, _ m: inout ConsoleModel, _ detail: Detail, now: Double, pane: Bool = false) {
        var lines: [Line] = []
        // Which lines open a detail of their own, in the order the model counts them: flagged as
        // they are made, never recognised by their text (a grant's arguments can look like anything).
        var links: Set<Int> = []
        func appendLink(_ isLink: Bool, _ line: Line) {
            if isLink { links.insert(lines.count) }
            lines.append([(Self.linkIndent, .normal)] + line)
        }
        let width = f.cols - 2
        var title = ""
        switch detail {
        case .session(let id):
            title = "Session \(id)"
            let loaded = m.data.sessionDetail.flatMap { $0.session.id == id ? $0 : nil }
            if let s = loaded?.session ?? m.data.sessions.first(where: { $0.id == id }) {
                lines += fields([("server", s.server), ("client", s.client), ("protocol", s.protocolVersion),
                                 ("pids", "warden \(s.wardenPID), server \(s.serverPID)"),
                                 ("isolation", s.isolation?.summary ?? "not reported (a relay older than the sandbox)"), ("started", Format.clock(s.startedAt, offset: utcOffset)),
                                 ("last activity", Format.ago(s.lastActivity, now: now)), ("calls", "\(s.calls), \(s.denials) refused"),
                                 ("risk", String(s.risk)), ("state", s.live ? "live" : "ended \(s.endStatus ?? "")")])
                lines.append([])
                lines.append([("Timeline (newest first; j/k pick a call, enter opens it)", .title)])
                if loaded == nil { lines.append([("loading…", .dim)]) }
                for e in loaded?.events ?? [] {
                    let role: Role = e.kind.hasPrefix("dlp") || e.kind == "result.injection" || e.kind == "tool.quarantined" ? .high
                        : e.kind == "call.held" ? .pending : e.kind == "call.decided" ? .medium : .normal
                    appendLink(e.call != nil, [(Format.clock(e.time, offset: utcOffset) + "  ", .dim),
                                               (e.kind.padding(toLength: 20, withPad: " ", startingAt: 0) + " ", role), (e.summary, .normal)])
                }
            } else {
                lines.append([("loading…", .dim)])
            }
        case .grant(let id):
            title = "Grant \(id)"
            if let g = m.data.grants.first(where: { $0.id == id }) {
                var rows: [(String, String)] = [("state", g.state.rawValue), ("tool", "\(g.server)/\(g.tool)"), ("client", g.client), ("session", g.session),
                                                ("policy rule", g.rule + (g.ruleReason.map { " — \($0)" } ?? "")),
                                                ("requested", Format.clock(g.requestedAt, offset: utcOffset))]
                if g.isPending { rows.append(("answer within", Format.span(g.deadline - now))) }
                if let scope = g.scope { rows.append(("scope", scope.rawValue)) }
                if let e = g.expiresAt { rows.append(("expires", Format.clock(e, offset: utcOffset) + " (in \(Format.span(e - now)))")) }
                if let by = g.decidedBy { rows.append(("decided by", by + (g.decisionReason.map { " — \($0)" } ?? ""))) }
                rows.append(("uses", String(g.uses)))
                lines += fields(rows)
                lines.append([])
                lines.append([("Arguments (exactly what the call will carry)", .title)])
                for l in g.arguments.split(separator: "\n", omittingEmptySubsequences: false) { lines.append([(String(l), .normal)]) }
                if g.isPending { lines += [[], [("a approve (choose scope and TTL) · d deny (reason required)", .warning)]] }
                if let covered = m.data.grantCalls, covered.grant == id {
                    lines.append([])
                    let shown = covered.total > covered.calls.count ? ", the first \(covered.calls.count) shown" : ""
                    lines.append([("Calls it let through (\(covered.total)\(shown))", .title)])
                    for c in covered.calls {
                        appendLink(c.call != nil, [(Format.clock(c.time, offset: utcOffset) + "  ", .dim), (c.session + "  ", .dim), (c.arguments, .normal)])
                    }
                }
            }
        case .tool(let name):
            title = "Tool \(name)"
            if let d = m.data.toolDetail, d.tool.qualifiedName == name {
                lines += toolLines(d)
            } else if let t = m.data.tools.first(where: { $0.qualifiedName == name }) {
                lines += toolLines(ToolDetail(tool: t, definition: JSONObject()))
            }
        case .alert(let id):
            title = "Alert \(id)"
            if let a = m.data.alerts.first(where: { $0.id == id }) {
                lines += fields([("severity", a.severity.rawValue), ("rule", a.rule), ("MAESTRO layer", a.layer.rawValue), ("status", a.status.rawValue),
                                 ("assignee", a.assignee ?? "-"), ("server", a.server), ("tool", a.tool ?? "-"), ("session", a.session ?? "-"),
                                 ("count", String(a.count)), ("first seen", Format.clock(a.firstSeen, offset: utcOffset)),
                                 ("last seen", Format.clock(a.lastSeen, offset: utcOffset)), ("incident", a.incident ?? "-")])
                lines.append([])
                lines.append([(a.title, .normal)])
                if !a.details.keys.isEmpty {
                    lines.append([])
                    lines.append([("Details", .title)])
                    lines += fields(a.details.members.map { ($0.0, $0.1.stringValue ?? JSONWriter.compact($0.1)) })
                }
                if !a.notes.isEmpty {
                    lines.append([])
                    lines.append([("Notes", .title)])
                    for n in a.notes { lines.append([("  \(Format.clock(n.time, offset: utcOffset))  ", .dim), (n.actor + ": ", .dim), (n.text, .normal)]) }
                }
                if !a.events.isEmpty {
                    lines.append([])
                    lines.append([("Events that raised it (\(a.events.count))", .title)])
                    for e in a.events.suffix(20) { lines.append([("  " + e, .dim)]) }
                }
            }
        case .call(let session, let request):
            title = "Call \(request) in session \(session)"
            lines += callLines(m, session: session, request: request)
        case .audit(let sequence):
            title = "Audit record \(sequence)"
            if let r = m.data.audit.first(where: { $0.sequence == sequence }) {
                lines += fields([("time", Format.clock(r.time, offset: utcOffset)), ("actor", r.actor), ("action", r.action), ("subject", r.subject)])
                lines += fields(r.details.members.map { ($0.0, Self.shown($0.1)) })
                lines.append([])
                lines += fields([("hash", r.hash), ("previous hash", r.previousHash.isEmpty ? "-" : r.previousHash)])
                let chain: String = switch m.data.chain {
                case .intact(let records, _): sequence <= records ? "verified: the chain is intact through record \(records)" : "not verified yet (V verifies)"
                case .broken(let at, let problem): "BROKEN at record \(at): \(problem)"
                case .unknown: "not verified yet (V verifies)"
                }
                lines += fields([("chain", chain)])
            } else {
                lines.append([("record \(sequence) is not among the records loaded", .dim)])
            }
        case .run(let run):
            title = "Playbook run \(run)"
            if let r = m.data.runDetail, r.run == run {
                lines += fields([("playbook", r.playbook), ("incident", r.incident), ("status", r.status.rawValue)])
                lines.append([])
                for s in r.steps {
                    let current = s.id == r.current
                    let finished = s.status.isFinished
                    let mark = finished ? "✓" : s.status == .skipped ? "↷" : s.status == .failed ? "✗" : current ? "▶" : "·"
                    let role: Role = current ? .pending : finished ? .success : s.status == .failed ? .high : .normal
                    lines.append([(" \(mark) ", role), (s.name, current ? .title : .normal), ("  [\(s.phase)] \(s.kind.rawValue)", .dim)])
                    if current || s.outcome != nil {
                        if !s.description.isEmpty { lines.append([("     ", .normal), (s.description, .normal)]) }
                        if let o = s.outcome { lines.append([("     → ", .dim), (o, .dim)]) }
                    }
                }
                if !r.notes.isEmpty {
                    lines += [[], [("Notes", .title)]]
                    for n in r.notes { lines.append([(Format.clock(n.time, offset: utcOffset) + "  ", .dim), (n.actor + ": ", .dim), (n.text, .normal)]) }
                }
                lines += [[], [("d done · s skip (reason) · R run the automated action · n note · X close the incident", .warning)]]
            } else {
                lines.append([("loading…", .dim)])
            }
        }
        // `/` in a detail keeps the lines that match (a line as written, before wrapping). A link
        // keeps its place among all the detail's links, so the cursor means the same call whether
        // or not a filter hides its neighbours; the model's cursor steps over the links shown.
        var ordinal = 0
        var tagged: [(line: Line, link: Int?)] = lines.enumerated().map { i, line in
            guard links.contains(i) else { return (line, nil) }
            defer { ordinal += 1 }
            return (line, ordinal)
        }
        var shownTitle = title + (pane ? "   (enter opens it)" : "   (esc back)")
        m.state.shownLinks = nil
        if !m.state.detailFilter.isEmpty, let regex = try? Regex(m.state.detailFilter).ignoresCase() {
            let total = tagged.count
            tagged = tagged.filter { (try? regex.firstMatch(in: $0.line.map(\.0).joined())) != nil }
            shownTitle = title + "   /\(m.state.detailFilter)/: \(tagged.count) of \(total) lines (esc clears)"
            if tagged.isEmpty { tagged = [([("no line matches /\(m.state.detailFilter)/", .dim)], nil)] }
            let shown = tagged.compactMap(\.link)
            m.state.shownLinks = shown
            if let first = shown.first, !shown.contains(m.state.detailCursor), m.state.detailCursor >= 0 {
                // The cursor's line was filtered away: it moves to the first call on screen.
                let items = m.detailLinkItems
                if first < items.count { (m.state.detailCursor, m.state.detailCursorKey) = (first, items[first].key) }
            }
        }
        f.fill(row: 2, role: .title)
        f.put(shownTitle, row: 2, col: 1, width: f.cols - 2, role: .title)
        // The cursor's line is drawn as selected and kept on screen.
        var wrapped: [Line] = []
        var cursorRow: Int?, cursorEnd = 0
        for (line, link) in tagged {
            let isCursor = link != nil && link == m.state.detailCursor
            if isCursor { cursorRow = wrapped.count }
            wrapped += wrap(line, width: width)
            if isCursor { cursorEnd = wrapped.count - 1 }
        }
        var height = max(1, f.rows - Self.listTop - 2)
        // As in lists: the last row shows the position when the detail is longer than the screen.
        let scrolls = wrapped.count > height && height > 1
        if scrolls { height -= 1 }
        let maxScroll = max(0, wrapped.count - height)
        if let row = cursorRow {
            // All of the cursor's line on screen (a call's arguments wrap under it), its first row
            // before the rest when it is taller than the screen; the first link does not push the
            // detail's own fields off a freshly opened screen.
            let end = m.state.detailCursor > 0 ? cursorEnd : row
            if end >= m.state.detailScroll + height { m.state.detailScroll = end - height + 1 }
            if row < m.state.detailScroll { m.state.detailScroll = row }
            wrapped[row][0] = ("▶ ", .selection)
        }
        m.state.detailScroll = min(m.state.detailScroll, maxScroll)
        for (r, line) in wrapped.dropFirst(m.state.detailScroll).prefix(height).enumerated() {
            f.put(segments: line, row: Self.listTop + r, col: 1, width: width)
        }
        if scrolls {
            let label = " \(m.state.detailScroll + 1)-\(min(wrapped.count, m.state.detailScroll + height))/\(wrapped.count) "
            f.put(label, row: Self.listTop + height, col: f.cols - label.count, role: .dim)
        }
    }

    /// The first segment of a timeline line; a link's becomes "▶ " under the cursor.
    static let linkIndent = "  "

    /// A field's value as one line of text: strings as they are (escaped when drawn), numbers as
    /// written, lists of strings joined, anything else as compact JSON.
    static func shown(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): s
        case .array(let items) where items.allSatisfy({ $0.stringValue != nil }): items.compactMap(\.stringValue).joined(separator: ", ")
        default: JSONWriter.compact(v)
        }
    }

    /// Everything about one call, from the events its session recorded for it: what it carried,
    /// where it was going, who decided and why, what it cost, what was found in its result.
    func callLines(_ m: ConsoleModel, session: String, request: String) -> [Line] {
        guard let d = m.data.sessionDetail, d.session.id == session else { return [[("loading…", .dim)]] }
        let events = d.events.filter { $0.call == request }.sorted { $0.time < $1.time }
        guard !events.isEmpty else { return [[("the events of call \(request) are not among the session's last \(d.events.count)", .dim)]] }
        let calls = events.compactMap(\.callFields)
        func first<T>(_ get: (CallFields) -> T?) -> T? { calls.lazy.compactMap(get).first }
        func text(_ get: (CallFields) -> String?) -> String? { first { get($0).flatMap { $0.isEmpty ? nil : $0 } } }
        var rows: [(String, String)] = [("server", d.session.server), ("client", d.session.client)]
        // Any request's events say its method; a tool call's say the rest.
        if let tool = text(\.tool) { rows.append(("tool", tool)) }
        if let method = events.lazy.compactMap({ $0.fields["method"]?.stringValue }).first { rows.append(("method", method)) }
        for (label, value) in [("decision", first(\.decisionName)), ("policy rule", text(\.rule)), ("grant", text(\.grantID)),
                               ("decided by", text(\.decidedBy)), ("reason", text(\.reason))] {
            if let value { rows.append((label, value)) }
        }
        let response = events.first { $0.kind == "response" }?.fields
        if let micros = first(\.micros) ?? response?["micros"]?.intValue { rows.append(("latency", DurationText.format(micros: micros))) }
        if let bytes = first(\.bytes) ?? response?["bytes"]?.intValue { rows.append(("result size", Format.bytes(bytes))) }
        if let bytes = first(\.argBytes) { rows.append(("argument size", Format.bytes(bytes))) }
        if let targets = first({ $0.targets.isEmpty ? nil : $0.targets.joined(separator: ", ") }) ?? text(\.destination) { rows.append(("destinations", targets)) }
        if calls.contains(where: { $0.isError || $0.rpcError }) || response?["error"]?.boolValue == true { rows.append(("answer", "an error")) }
        var lines = fields(rows)
        if let arguments = text(\.arguments) {
            lines += [[], [("Arguments", .title)]]
            for l in arguments.split(separator: "\n", omittingEmptySubsequences: false) { lines.append([(String(l), .normal)]) }
        }
        let findings = events.filter { $0.kind == "dlp.finding" || $0.kind == "result.injection" }
        if !findings.isEmpty {
            lines += [[], [("Findings", .title)]]
            for e in findings {
                lines.append([(e.kind + "  ", .high), (e.summary, .normal)])
                if let list = e.fields["findings"]?.arrayValue {
                    for item in list.prefix(20) { lines.append([("    ", .normal), (Self.shown(item), .dim)]) }
                }
            }
        }
        lines += [[], [("Events", .title)]]
        for e in events {
            lines.append([(Format.clock(e.time, offset: utcOffset) + "  ", .dim), (e.kind.padding(toLength: 20, withPad: " ", startingAt: 0) + " ", .normal), (e.summary, .normal)])
        }
        return lines
    }

    func fields(_ rows: [(String, String)]) -> [Line] {
        rows.map { [(($0.0 + ":").padding(toLength: 15, withPad: " ", startingAt: 0), .dim), ($0.1, .normal)] }
    }

    func toolLines(_ d: ToolDetail) -> [Line] {
        let t = d.tool
        var lines: [Line] = [
            [("verdict:       ", .dim), (t.verdict.rawValue.uppercased(), Format.role(t.verdict)), ("  score \(t.score)", .normal)],
            [("review:        ", .dim), (t.review.rawValue, t.review == .approved ? .success : t.review == .quarantined ? .high : .medium)],
            [("pin:           ", .dim), (String(t.pin.prefix(24)), .normal), (t.trustedPin.map { $0 == t.pin ? "  (trusted)" : "  trusted \($0.prefix(12))… DIFFERS" } ?? "", .medium)],
        ]
        if let q = t.quarantineReason { lines.append([("quarantined:   ", .dim), (q, .high)]) }
        let byField = Dictionary(grouping: t.findings, by: \.field)
        if let description = d.definition["description"]?.stringValue {
            lines.append([])
            lines.append([("Description", .title), ("  (evidence highlighted)", .dim)])
            lines += highlighted(description, byField["description"] ?? [])
        }
        // Other fields with findings: schema strings, parameter names, titles, annotations.
        let others = byField.keys.filter { $0 != "description" }.sorted()
        if !others.isEmpty {
            lines.append([])
            lines.append([("Other fields with findings", .title)])
            for field in others {
                lines.append([(field, .dim)])
                let text = Self.text(at: field, in: d.definition)
                if let text {
                    lines += highlighted(text, byField[field] ?? []).map { [("  ", .normal)] + $0 }
                } else {
                    for f in byField[field] ?? [] { lines.append([("  ", .normal), (f.evidence, .evidence)]) }
                }
            }
        }
        if !t.findings.isEmpty {
            lines.append([])
            lines.append([("Findings", .title)])
            for f in t.findings {
                lines.append([("[\(f.severity.rawValue)] ", Format.role(f.severity)), (f.rule, .normal), ("  at \(f.field)[\(f.start)..<\(f.end)]", .dim)])
                lines.append([("    ", .normal), (f.message, .normal)])
                lines.append([("    evidence: ", .dim), (f.evidence, .evidence)])
            }
        }
        if !d.diff.isEmpty {
            lines.append([])
            lines.append([("Changed since pinned", .title), ("  (", .dim), ("removed", .removed), (" / ", .dim), ("added", .added), (")", .dim)])
            var line: Line = []
            for (op, text) in d.diff {
                let role: Role = op == "insert" ? .added : op == "delete" ? .removed : .normal
                let parts = text.split(separator: "\n", omittingEmptySubsequences: false)
                for (k, part) in parts.enumerated() {
                    if k > 0 {
                        lines.append(line)
                        line = []
                    }
                    if !part.isEmpty { line.append((String(part), role)) }
                }
            }
            if !line.isEmpty { lines.append(line) }
        }
        if let schema = d.definition["inputSchema"]?["properties"]?.objectValue, !schema.keys.isEmpty {
            lines.append([])
            lines.append([("Parameters", .title)])
            for (name, value) in schema.members {
                let type = value["type"]?.stringValue ?? "any"
                lines.append([("  \(name)", .normal), (" (\(type))", .dim), (value["description"]?.stringValue.map { "  \($0)" } ?? "", .normal)])
            }
        }
        if let b = d.baseline {
            lines.append([])
            lines.append([("Behaviour baseline", .title), (b.warm ? "  (learnt from the first \(b.warmUp) calls; deviations raise alerts)" : "  (warming up)", .dim)])
            func list(_ items: [String]) -> String { items.isEmpty ? "-" : items.joined(separator: ", ") }
            lines += fields([("calls", b.warm ? String(b.calls) : "\(b.calls) of \(b.warmUp) before judging"), ("argument keys", list(b.keys)),
                             ("largest", "arguments \(Format.bytes(b.maxArgBytes)), result \(Format.bytes(b.maxResultBytes))"), ("p95 latency", DurationText.format(micros: b.p95Micros)),
                             ("destinations", list(b.destinations)), ("directories", list(b.pathRoots))])
            lines.append([("B resets it (reason required): learnt again from the next calls", .dim)])
        }
        lines.append([])
        lines.append([("a trust (pin) · Q quarantine · s suppress a rule · esc back", .warning)])
        return lines
    }

    /// The string at a finding's field path (`inputSchema.properties.x.description`,
    /// `inputSchema.properties.x(name)`, `y[2]`), if the definition has one there.
    static func text(at field: String, in definition: JSONObject) -> String? {
        if field.hasSuffix("(name)") {
            return field.dropLast(6).split(separator: ".").last.map(String.init)
        }
        var value: JSONValue? = .object(definition)
        for part in field.split(separator: ".") {
            var name = Substring(part)
            var indices: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]"), let i = Int(name[name.index(after: open)..<name.index(before: name.endIndex)]) {
                indices.insert(i, at: 0)
                name = name[..<open]
            }
            value = value?[String(name)]
            for i in indices {
                guard let items = value?.arrayValue, i < items.count else { return nil }
                value = items[i]
            }
        }
        return value?.stringValue
    }

    /// A text split into lines at its newlines, with the findings' spans (scalar offsets into the
    /// text) in the evidence role.
    func highlighted(_ text: String, _ findings: [FindingRow]) -> [Line] {
        let scalars = Array(text.unicodeScalars)
        var marked = [Bool](repeating: false, count: scalars.count)
        for f in findings {
            let lo = max(0, min(f.start, scalars.count)), hi = max(lo, min(f.end, scalars.count))
            for i in lo..<hi { marked[i] = true }
        }
        var lines: [Line] = []
        var line: Line = []
        var run = String.UnicodeScalarView()
        var runMarked = false
        func flush() {
            if !run.isEmpty { line.append((String(run), runMarked ? .evidence : .normal)) }
            run = String.UnicodeScalarView()
        }
        for (i, s) in scalars.enumerated() {
            if s == "\n" && !marked[i] {
                flush()
                lines.append(line)
                line = []
                continue
            }
            if marked[i] != runMarked {
                flush()
                runMarked = marked[i]
            }
            run.append(s)
        }
        flush()
        lines.append(line)
        return lines
    }

    /// Breaks a line into screen lines of at most `width` cells, at a space when there is one in
    /// the second half of the line, else anywhere (hostile text with no spaces wraps too). Widths
    /// are of the escaped form; escapes keep their own role.
    func wrap(_ line: Line, width: Int) -> [Line] {
        guard width > 1 else { return [line] }
        var cells: [(scalar: Unicode.Scalar, role: Role, width: Int)] = []
        for (text, role) in line {
            for (scalar, escaped) in Frame.visible(text) {
                cells.append((scalar, escaped && role != .evidence ? .escaped : role, CellWidth.of(scalar)))
            }
        }
        var out: [Line] = []
        var start = 0
        while start < cells.count || out.isEmpty {
            var used = 0, end = start, lastSpace = -1
            while end < cells.count, used + cells[end].width <= width {
                if cells[end].scalar == " " { lastSpace = end }
                used += cells[end].width
                end += 1
            }
            var next = end
            if end < cells.count, lastSpace > start + width / 2 {
                end = lastSpace
                next = lastSpace + 1
            }
            var segments: Line = []
            var run = String.UnicodeScalarView()
            var runRole: Role? = nil
            for c in cells[start..<end] {
                if c.role != runRole, let r = runRole {
                    segments.append((String(run), r))
                    run = String.UnicodeScalarView()
                }
                runRole = c.role
                run.append(c.scalar)
            }
            if let r = runRole { segments.append((String(run), r)) }
            out.append(segments)
            if next == start { break }
            start = next
        }
        return out
    }

    // MARK: Status, footer, dialogs, help

    func statusLine(_ f: inout Frame, _ m: ConsoleModel) {
        let row = f.rows - 2
        if let command = m.state.command {
            f.fill(row: row, role: .input)
            let x = f.put(":" + command, row: row, col: 0, role: .input)
            let completion = ConsoleModel.commands.first { $0.hasPrefix(command) && $0 != command && !command.isEmpty }
            if let completion { f.put(String(completion.dropFirst(command.count)) + "  (tab)", row: row, col: x, role: .dim) }
        } else if let filter = m.state.filterInput {
            f.fill(row: row, role: .input)
            f.put("/" + filter + "▏  (regular expression; enter applies, esc cancels)", row: row, col: 0, role: .input)
        } else if !m.data.hub.connected, let problem = m.data.hub.problem {
            f.put("hub: \(problem) (retrying every 2 s; start one with `warden hub`)", row: row, col: 1, width: f.cols - 2, role: .warning)
        } else if let message = m.state.message {
            f.put(message, row: row, col: 1, width: f.cols - 2, role: m.state.messageIsError ? .warning : .success)
        } else if !m.state.current.filter.isEmpty, m.state.detail == nil {
            f.put("filter /\(m.state.current.filter)/: \(m.rows(m.state.view).count) of \(m.rowCount(m.state.view)) (esc clears)", row: row, col: 1, role: .dim)
        }
    }

    func footer(_ f: inout Frame, _ m: ConsoleModel) {
        let row = f.rows - 1
        f.fill(row: row, role: .footer)
        var keys: [(String, String)]
        switch (m.state.view, m.state.detail != nil) {
        case (.grants, _): keys = [("a", "approve"), ("d", "deny"), ("r", "revoke"), ("enter", "detail")]
        case (.tools, _): keys = [("a", "trust"), ("Q", "quarantine"), ("s", "suppress"), ("B", "baseline"), ("X", "block server"), ("enter", "detail")]
        case (.alerts, _): keys = [("x", "ack"), ("v", "resolve"), ("A", "assign"), ("n", "note"), ("e", "escalate"), ("f", "false +"), ("m", "mark"), ("p", "playbook")]
        case (.playbooks, _): keys = [("enter", "steps"), ("d", "done"), ("s", "skip"), ("R", "run"), ("n", "note"), ("p", "start"), ("X", "close")]
        case (.audit, _): keys = [("enter", "detail"), ("V", "verify chain")]
        case (.sessions, _): keys = [("enter", "timeline"), ("K", "terminate"), ("R", "revoke grants"), ("X", "block server")]
        }
        keys += [("1-6", "views"), ("/", "filter"), (":", "cmd"), ("?", "help"), ("q", "quit")]
        if m.state.detail != nil { keys.insert(("esc", "back"), at: 0) }
        var x = 0
        for (key, label) in keys {
            guard x < f.cols - 1 else { break }
            x = f.put(" " + key, row: row, col: x, role: .footerKey)
            x = f.put(" " + label + " ", row: row, col: x, role: .footer)
        }
    }

    func dialog(_ f: inout Frame, _ modal: Modal) {
        var lines: [Line]
        switch modal {
        case .approve(let g, let scope, let ttl):
            var scopes: Line = [("scope: ", .normal)]
            for (i, s) in ConsoleState.scopes.enumerated() {
                scopes.append((i == scope ? "[\(s)]" : " \(s) ", i == scope ? .selection : .dim))
                scopes.append((" ", .normal))
            }
            let tool = "\(g.server)/\(g.tool)"
            let lasting = "for \(ttl.isEmpty ? "15m" : ttl)"
            // Warden's words in one style, the names the server and client chose quoted in another:
            // a tool named "x with exactly the arguments above" cannot pass for the sentence.
            let quoted = { (name: String) -> (String, Role) in ("“" + name + "”", .evidence) }
            let allows: Line = switch ConsoleState.scopes[scope] {
            case "call": [quoted(tool), (" with exactly the arguments above, in session ", .normal), quoted(g.session), (" only, \(lasting)", .normal)]
            case "session": [("every call of ", .normal), quoted(tool), (", with any arguments, in session ", .normal), quoted(g.session), (" (", .normal),
                             quoted(g.client), ("), \(lasting)", .normal)]
            default: [("every call of ", .normal), quoted(tool), (", with any arguments, in every session of server ", .normal), quoted(g.server),
                      (", \(lasting)", .normal)]
            }
            // The arguments are what the operator is deciding on: shown whole up to a screenful,
            // and the detail (enter on the grant) has the rest.
            let inner = min(f.cols - 2, 78) - 4
            let head: [Line] = [[("Approve \(tool)", .title)],
                                [("requested by ", .dim), (g.client, .normal), (" in session ", .dim), (g.session, .normal)],
                                [("rule ", .dim), (g.rule, .normal)] + (g.ruleReason.map { [(": " + $0, .dim)] } ?? []),
                                [("arguments:", .normal)]]
            let tail: [Line] = [scopes,
                                [("allows: ", .warning)] + allows,
                                [("ttl:   ", .normal), (ttl + "▏", .input),
                                 ("  (type: 30s, 15m, 2h\(g.maxTTL.map { "; at most " + DurationText.format(seconds: $0) } ?? ""))", .dim)],
                                [("←/→ scope · enter approve · esc cancel", .warning)]]
            // The arguments get the rows the rest leaves (the box's border takes two, the screen's
            // header and footer two more), and at least one.
            let fixed = (head + tail).reduce(0) { $0 + wrap($1, width: inner).count }
            // Cut before wrapping: arguments can be megabytes, and this runs every frame.
            let argumentLines = wrap([(String(g.arguments.prefix(4096)), .normal)], width: max(8, inner - 2))
            var shown = min(argumentLines.count, max(1, f.rows - 4 - fixed))
            if shown < argumentLines.count { shown = max(1, shown - 1) }
            lines = head + argumentLines.prefix(shown).map { [("  ", .normal)] + $0 }
            if argumentLines.count > shown {
                lines.append([("  … \(argumentLines.count - shown) more lines: esc, then enter on the grant", .warning)])
            }
            lines += tail
        case .confirm(let title, let action):
            lines = [[(title, .title)], [("same as: \(action.cli)", .dim)], [("y confirm · n/esc cancel", .warning)]]
        case .confirmAll(let title, let actions):
            lines = [[(title, .title)]] + actions.prefix(8).map { [("same as: \($0.cli)", .dim)] }
            if actions.count > 8 { lines.append([("… and \(actions.count - 8) more", .dim)]) }
            lines.append([("y confirm all · n/esc cancel", .warning)])
        case .typedConfirm(let title, _, let text, let action):
            lines = [[(title, .high)], [("> ", .normal), (text + "▏", .input)], [("same as: \(action.cli)", .dim)],
                     [("enter confirm · esc cancel", .warning)]]
        case .input(let title, let text, _):
            lines = [[(title, .title)], [("> ", .normal), (text + "▏", .input)], [("enter submit · esc cancel", .warning)]]
        }
        let width = min(f.cols - 2, 78)
        let inner = width - 4
        let wrapped = lines.flatMap { wrap($0, width: inner) }
        let height = min(f.rows - 2, wrapped.count + 2)
        let top = max(1, (f.rows - height) / 2)
        let left = max(1, (f.cols - width) / 2)
        for r in 0..<height {
            // The rows behind the box are blanked to its sides too: a list row's "▶" or "…" at the
            // screen's edge must not read as part of the question.
            f.fill(row: top + r, role: .normal)
            f.fill(row: top + r, col: left, width: width, role: .input)
        }
        f.put("┌" + String(repeating: "─", count: width - 2) + "┐", row: top, col: left, role: .input)
        f.put("└" + String(repeating: "─", count: width - 2) + "┘", row: top + height - 1, col: left, role: .input)
        for (i, line) in wrapped.prefix(height - 2).enumerated() {
            f.put("│", row: top + 1 + i, col: left, role: .input)
            f.put(segments: line, row: top + 1 + i, col: left + 2, width: inner)
            f.put("│", row: top + 1 + i, col: left + width - 1, role: .input)
        }
    }

    func help(_ f: inout Frame, _ m: ConsoleModel) {
        let lines: [Line] = [
            [("Keys", .title)],
            [("  1-6, tab        ", .footerKey), ("views: sessions, grants, tools, alerts, playbooks, audit", .normal)],
            [("  :NAME           ", .footerKey), (":sessions :grants :tools :alerts :playbooks :audit :help :q (tab completes)", .normal)],
            [("  j/k ↑/↓ g/G     ", .footerKey), ("move; PgUp/PgDn page", .normal)],
            [("  /REGEX  esc     ", .footerKey), ("filter what is on screen (the list, or a detail's lines) as you type; esc clears it", .normal)],
            [("  o   C           ", .footerKey), ("next sort order (sessions, grants, tools, alerts); show closed alerts", .normal)],
            [("  enter           ", .footerKey), ("detail: timeline, grant, tool evidence, alert, playbook steps, audit record;", .normal)],
            [("                  ", .footerKey), ("in a timeline or a grant's calls, j/k pick a call and enter opens it (esc back)", .normal)],
            [("  V               ", .footerKey), ("audit: verify the whole hash chain now", .normal)],
            [("  a               ", .footerKey), ("approve a pending grant (scope, TTL) or trust a tool's definition", .normal)],
            [("  d / r           ", .footerKey), ("deny a pending grant (reason) / revoke an active one", .normal)],
            [("  Q / s / B       ", .footerKey), ("quarantine a tool / suppress one of its rules / reset its baseline (reason)", .normal)],
            [("  K R X U         ", .footerKey), ("sessions: terminate, revoke its grants; block / unblock its server (also X U on tools)", .normal)],
            [("  x v A n         ", .footerKey), ("alerts: acknowledge, resolve (how), assign (to whom), note", .normal)],
            [("  e f p           ", .footerKey), ("alerts: escalate to an incident, false positive (reason), start a playbook", .normal)],
            [("  m M             ", .footerKey), ("alerts: mark one (or all shown) for bulk triage; x and f then act on every marked alert", .normal)],
            [("  d s R n X       ", .footerKey), ("playbooks: step done, skip (reason), run its automated action, note; close the incident", .normal)],
            [("  c               ", .footerKey), ("copy the id on screen (OSC 52 where the terminal allows; always shown)", .normal)],
            [("  q, :q           ", .footerKey), ("quit", .normal)],
            [],
            [("Destructive actions ask for confirmation. Every action is also a CLI command (warden grants|tools|alerts|playbooks|respond …).", .dim)],
            [("Untrusted text is escaped: ␛ for ESC, <U+202E> for invisible and direction characters.", .dim)],
            [("any key closes this help", .warning)],
        ]
        var r = Self.listTop - 1
        for line in lines.flatMap({ wrap($0, width: f.cols - 2) }) where r < f.rows - 2 {
            f.put(segments: line, row: r, col: 1, width: f.cols - 2)
            r += 1
        }
    }
}
