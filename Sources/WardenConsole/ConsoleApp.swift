import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
import WardenHubClient

/// Parts of the data the console reloads from the hub, each after its own pushes.
enum DataPart: String, CaseIterable, Sendable {
    case status, sessions, grants, tools, alerts, incidents, audit
}

/// The hub as the console uses it: blocking calls on one connection whose pushes arrive on another
/// thread. `HubConnection` is the real one; tests may connect to an in-process `HubServer` or fake it.
public protocol ConsoleHub: AnyObject, Sendable {
    var isOpen: Bool { get }
    func callBlocking(_ method: HubMethod, _ params: JSONObject, timeout: Double) throws(HubError) -> JSONValue
    func close()
}

extension HubConnection: ConsoleHub {}

/// Opens a connection to the hub; `onPush` hears its pushes (on the connection's reader thread).
public typealias ConsoleHubConnector = @Sendable (_ onPush: @escaping @Sendable (String, JSONValue) -> Void) throws -> any ConsoleHub

/// Runs `warden console`: owns the terminal, the hub connection and the loop that joins them.
///
/// One thread does everything (keys, hub calls, drawing); the hub connection's reader thread only
/// records which topics were pushed and wakes the loop through a pipe. Redraws are coalesced: pushes
/// arriving together cost one reload and one frame. When nothing happens the loop sleeps in
/// `poll` and draws once a second (the header clock and grant countdowns).
///
/// The terminal and the hub are protocols, so the whole app runs in-process in tests: keys typed
/// into a `MemoryScreen`, a real `HubServer` on a temporary home, `step()` for one turn of the loop.
public final class ConsoleApp {
    let screen: any ConsoleTerminal
    let connector: ConsoleHubConnector
    var model = ConsoleModel()
    var renderer = ConsoleRenderer()
    var connection: (any ConsoleHub)?
    let wakeRead: Int32
    let wakeWrite: Int32
    let pushed = PushedTopics()
    var lastReconnect = 0.0
    var lastDraw = 0.0
    /// Parts pushed but not reloaded yet, and when each was last loaded: event pushes come in floods,
    /// so the session list reloads at most once a second; decisions (grants, tools) at once.
    var deferred: Set<DataPart> = []
    var lastLoad: [DataPart: Double] = [:]
    /// When pushed events last led to a refilter of the sessions list.
    var lastSessionsFilter = 0.0
    static let minimumInterval: [DataPart: Double] = [.sessions: 1, .status: 1]

    /// Whether a notice also rings the terminal bell (`console.bell` in config.yaml).
    let bell: Bool

    /// The console of the hub of `home` (started if it is not running and auto-start is on).
    public convenience init(home: WardenHome, screen: any ConsoleTerminal, startView: ViewID = .sessions, bell: Bool = true) {
        self.init(screen: screen, startView: startView, bell: bell) { onPush in
            try HubLauncher.connect(home: home, timeout: 3, onNotification: onPush)
        }
    }

    public init(screen: any ConsoleTerminal, startView: ViewID = .sessions, bell: Bool = true, connector: @escaping ConsoleHubConnector) {
        self.screen = screen
        self.connector = connector
        self.bell = bell
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        _ = fcntl(fds[1], F_SETFL, O_NONBLOCK)
        wakeRead = fds[0]
        wakeWrite = fds[1]
        model.state.view = startView
    }

    deinit {
        Glibc.close(wakeRead)
        Glibc.close(wakeWrite)
    }

    /// Runs until the operator quits; returns the exit status.
    public func run(initialMessage: String? = nil) -> Int32 {
        start(initialMessage: initialMessage)
        while !model.state.quit {
            wait()
            step()
        }
        finish()
        return 0
    }

    /// Connects and draws the first frame.
    public func start(initialMessage: String? = nil) {
        connect()
        if let initialMessage { model.state.message = initialMessage; model.state.messageIsError = true }
        draw()
        lastDraw = Date().timeIntervalSince1970
    }

    /// Closes the hub connection and gives the terminal back.
    public func finish() {
        connection?.close()
        screen.close()
    }

    /// Whether the operator quit.
    public var quit: Bool { model.state.quit }

    /// Sleeps until a key or a push waits, or the next whole second (the clock, countdowns).
    func wait() {
        var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        if let input = screen.inputDescriptor { fds.append(pollfd(fd: input, events: Int16(POLLIN), revents: 0)) }
        let now = Date().timeIntervalSince1970
        let timeout = Int32(max(1, (1 - now.truncatingRemainder(dividingBy: 1)) * 1000))
        _ = poll(&fds, nfds_t(fds.count), timeout)
    }

    /// One turn of the loop: applies what the hub pushed, handles the keys waiting, reconnects if
    /// the hub went away, and draws if anything changed (or a second passed).
    public func step() {
        var needsDraw = false
        var sink = [UInt8](repeating: 0, count: 256)
        while read(wakeRead, &sink, sink.count) > 0 {}
        deferred.formUnion(pushed.take())
        let records = pushed.takeAudit()
        if !records.isEmpty {
            // In order: each extends the head the one before it left, or the chain is verified whole.
            var extended = true
            for r in records where !model.appendAudit(r) { extended = false }
            if !extended { apply(.verifyAudit) }
            needsDraw = true
        }
        let grants = pushed.takeGrants()
        if !grants.isEmpty {
            if model.applyPushed(grants) { ring() }
            needsDraw = true
        }
        let events = pushed.takeEvents()
        if !events.isEmpty {
            let (listSessions, effects) = model.applyPushed(events: events)
            if listSessions { deferred.insert(.sessions) }
            for effect in effects { apply(effect) }
            needsDraw = true
        }
        if model.sessionsStale, Date().timeIntervalSince1970 - lastSessionsFilter >= 1 {
            model.refilterStaleSessions()
            lastSessionsFilter = Date().timeIntervalSince1970
        }
        let alerts = pushed.takeAlerts()
        if !alerts.isEmpty {
            // Before the first list there is nothing to apply them to.
            if !model.data.alertsLoaded { deferred.formUnion([.alerts, .incidents]) } else if model.applyPushed(alerts: alerts) { ring() }
            needsDraw = true
        }
        if !deferred.isEmpty {
            let t = Date().timeIntervalSince1970
            let due = deferred.filter { t - (lastLoad[$0] ?? 0) >= Self.minimumInterval[$0, default: 0] }
            if !due.isEmpty {
                deferred.subtract(due)
                reload(due)
                needsDraw = true
            }
        }
        while let key = screen.nextKey() {
            needsDraw = true
            if key == .resize { continue }
            let effects = model.handle(key, pageSize: ConsoleRenderer.pageSize(screen.size), width: screen.size.cols)
            for effect in effects { apply(effect) }
            if model.state.quit { return }
        }
        // A wide terminal's detail pane follows the selection (which keys and reloads move).
        for effect in model.syncPreview(width: screen.size.cols) {
            apply(effect)
            needsDraw = true
        }
        if connection?.isOpen != true, Date().timeIntervalSince1970 - lastReconnect > 2 {
            connect()
            needsDraw = true
        }
        let t = Date().timeIntervalSince1970
        if needsDraw || t - lastDraw >= 1 {
            draw()
            lastDraw = t
        }
    }

    func draw() {
        let frame = renderer.render(&model, size: screen.size, now: Date().timeIntervalSince1970)
        screen.present(frame)
    }

    func ring() { if bell { screen.bell() } }

    // MARK: Hub

    func connect() {
        lastReconnect = Date().timeIntervalSince1970
        connection?.close()
        let wake = wakeWrite
        let pushed = self.pushed
        do {
            let c = try connector { method, params in
                let part: [DataPart]
                switch HubPush(rawValue: method) {
                case .events?:
                    // Applied to the rows they belong to; a push that does not read sends the
                    // console back to the list.
                    let carried = (params["events"]?.arrayValue ?? []).compactMap(Event.init(json:))
                    if carried.count == params["events"]?.arrayValue?.count { pushed.add(carried); part = [.status] } else { part = [.sessions, .status] }
                case .grants?:
                    // The push carries the whole grant; one that does not decode is fetched instead.
                    if let grant = try? HubWire.decode(HubGrant.self, from: params) { pushed.add(grant); part = [] } else { part = [.grants] }
                case .tools?: part = [.tools]
                case .audit?:
                    // Applied as it comes and checked against the verified head; one that does not
                    // decode sends the console back to the whole list.
                    if let record = AuditRecord(hubJSON: params) { pushed.add(record); part = [] } else { part = [.audit] }
                case .alerts?:
                    // The correlator's push carries the alerts it raised or bumped; a bare push
                    // (triage, escalation) sends the console back to the lists.
                    let carried = (params["alerts"]?.arrayValue ?? []).compactMap { try? HubWire.decode(Alert.self, from: $0) }
                    if !carried.isEmpty, carried.count == params["alerts"]?.arrayValue?.count { pushed.add(carried); part = [] } else { part = [.alerts, .incidents] }
                case .toolsChanged?, nil: return
                }
                pushed.add(part)
                var byte: UInt8 = 1
                _ = write(wake, &byte, 1)
            }
            _ = try c.callBlocking(.hello, Hello(api: HubConnection.apiVersion, role: "console", pid: Int(getpid())).params, timeout: 5)
            _ = try c.callBlocking(.subscribe, Subscribe().params, timeout: 5)
            connection = c
            model.update { $0.hub.connected = true; $0.hub.problem = nil }
            reload(Set(DataPart.allCases))
        } catch {
            connection = nil
            model.update { $0.hub.connected = false; $0.hub.problem = "\(error)" }
        }
    }

    func call(_ method: HubMethod, _ params: JSONObject = [:]) -> JSONValue? {
        guard let c = connection else { return nil }
        do {
            return try c.callBlocking(method, params, timeout: 10)
        } catch HubError.remote(_, let message) {
            model.state.message = message
            model.state.messageIsError = true
            return nil
        } catch {
            if !c.isOpen { model.update { $0.hub.connected = false; $0.hub.problem = "disconnected" } }
            return nil
        }
    }

    /// A typed call: its answer, or nil with the reason on the message line (a refusal, or an
    /// answer that does not read as its type: the hub and the console disagree, which is news).
    /// `quiet` for calls a hub may not have yet (older hubs): no answer, no message.
    func call<C: HubCall>(_ typed: C, quiet: Bool = false) -> C.Answer? {
        guard let c = connection else { return nil }
        let answer: JSONValue
        do {
            answer = try c.callBlocking(C.method, typed.params, timeout: 10)
        } catch {
            if quiet { return nil }
            _ = call(C.method, typed.params)
            return nil
        }
        do {
            return try HubWire.decode(C.Answer.self, from: answer)
        } catch {
            model.state.message = "the hub's answer to \(C.method.rawValue) does not read: \(error)"
            model.state.messageIsError = true
            return nil
        }
    }

    func reload(_ parts: Set<DataPart>) {
        let now = Date().timeIntervalSince1970
        for part in parts { lastLoad[part] = now }
        for part in DataPart.allCases where parts.contains(part) {
            switch part {
            case .status:
                if let s = call(HubStatusCall()) {
                    model.update { $0.hub.pid = s.pid; $0.hub.events = s.events }
                }
            case .sessions:
                if let s = call(SessionsList(limit: 20_000)) {
                    let rows = s.sessions.map(SessionRow.init)
                    model.update { $0.sessions = rows }
                }
                // The detail on screen (or in the side pane) follows the event stream: a session's
                // timeline grows, and so do a grant's uses.
                switch model.state.detail ?? model.state.previewed {
                case .session(let id)?, .call(let id, _)?: apply(.loadSession(id))
                case .grant(let id)?: apply(.loadGrant(id))
                default: break
                }
            case .grants:
                if let g = call(GrantsList()) {
                    model.update { $0.grants = g.grants }
                }
            case .tools:
                if let t = call(ToolsList()) {
                    model.update { $0.tools = t.tools }
                }
                if case .tool(let name)? = model.state.detail ?? model.state.previewed { apply(.loadTool(name)) }
            case .alerts:
                if let a = call(AlertsList(), quiet: true) {
                    if model.replaceAlerts(a.alerts) { ring() }
                }
            case .incidents:
                if let i = call(IncidentsList(), quiet: true) {
                    let rows = i.incidents.flatMap(IncidentRow.rows)
                    model.update { $0.incidents = rows }
                }
                if case .run(let run)? = model.state.detail ?? model.state.previewed { apply(.loadRun(run)) }
            case .audit:
                if let a = call(AuditList(limit: ConsoleData.auditRows)) {
                    // As written, so that pushes after them can extend the verified head.
                    let rows = a.records.compactMap(AuditRecord.init(hubJSON:)).map(AuditRow.init)
                    model.update { $0.audit = rows }
                }
                apply(.verifyAudit)
            }
        }
    }

    /// What an action changed is loaded again on the loop's next turn: several actions in a row
    /// cost one reload.
    func reloadAfter(_ action: ConsoleAction) {
        switch action {
        // The audit records an action writes arrive as pushes and extend the verified head; the
        // log is not listed (and its chain verified whole) again for each action.
        case .approveGrant, .denyGrant, .revokeGrant: deferred.formUnion([.grants])
        case .approveTool, .quarantineTool, .suppressRule: deferred.formUnion([.tools])
        case .respond: deferred.formUnion([.sessions, .grants, .tools, .alerts, .incidents])
        case .resetBaseline(let name, _):
            if case .tool(name)? = model.state.detail { apply(.loadTool(name)) }
        default: deferred.formUnion([.alerts, .incidents])
        }
    }

    func apply(_ effect: Effect) {
        switch effect {
        case .perform(let action):
            if let result = call(action.request.method, action.request.params) {
                // A response action says what it did ("session S has no live relay"); others echo the CLI.
                model.state.message = result["outcome"]?.stringValue.map { "\($0) (\(action.cli))" } ?? "done: \(action.cli)"
                model.state.messageIsError = false
                reloadAfter(action)
            }
        case .performAll(let actions):
            var done = 0
            for action in actions where call(action.request.method, action.request.params) != nil {
                done += 1
                reloadAfter(action)
            }
            if done == actions.count {
                model.state.message = "done ×\(done): \(actions.first?.cli ?? "")\(done > 1 ? " …" : "")"
                model.state.messageIsError = false
            } else {
                model.state.message = "\(done) of \(actions.count) done; the first refusal: \(model.state.message ?? "?")"
                model.state.messageIsError = true
            }
        case .loadSession(let id):
            if let s = call(SessionsShow(id: id, limit: ConsoleData.timelineEvents)) {
                model.update { $0.sessionDetail = SessionDetail(session: SessionRow(s.session), events: s.events.compactMap(EventRow.init)) }
            }
        case .loadGrant(let id):
            if let g = call(GrantsShow(id: id)) {
                let calls = g.calls.map { c in
                    GrantCalls.Call(time: c["time"]?.doubleValue ?? 0, session: c["session"]?.stringValue ?? "", arguments: c["fields"]?["arguments"]?.stringValue ?? "",
                                    call: c["fields"]?["id"].flatMap { $0 == .null ? nil : JSONWriter.compact($0) })
                }
                model.update {
                    $0.grantCalls = GrantCalls(grant: id, calls: calls, total: g.callsTotal)
                    $0.apply([g.grant])
                }
            }
        case .loadTool(let name):
            if let t = call(ToolsShow(name: name)) {
                model.update { $0.toolDetail = ToolDetail(t.tool) }
            }
        case .loadRun(let run):
            if let r = call(PlaybooksRun(run: run), quiet: true) {
                model.update { $0.runDetail = PlaybookRunDetail(r) }
            }
        case .copy(let text):
            // The id is Warden's own or escaped, so the clipboard gets nothing a server chose raw.
            screen.copy(ConsoleModel.pasteable(text))
            model.state.message = "copied \(ConsoleModel.pasteable(text)) (if the terminal allows OSC 52; select it here otherwise)"
            model.state.messageIsError = false
        case .verifyAudit:
            if let v = call(AuditVerify()) {
                let status: ChainStatus = v.intact ? .intact(records: v.records ?? 0, head: v.head ?? "") : .broken(sequence: v.sequence ?? 0, problem: v.problem ?? "")
                model.update { $0.chain = status }
            }
        }
    }
}

/// Topics the hub pushed since the loop last looked (written by the connection's reader thread).
final class PushedTopics: Sendable {
    private let parts = Mutex<Set<DataPart>>([])
    /// Grants carried by `hub.grants` pushes: applied as they are, not re-fetched.
    private let grants = Mutex<[HubGrant]>([])
    func add(_ p: [DataPart]) { parts.withLock { $0.formUnion(p) } }
    func take() -> Set<DataPart> { parts.withLock { p in defer { p.removeAll() }; return p } }
    func add(_ g: HubGrant) { grants.withLock { $0.append(g) } }
    func takeGrants() -> [HubGrant] { grants.withLock { g in defer { g.removeAll() }; return g } }
    /// Audit records carried by `hub.audit` pushes, in order.
    private let audit = Mutex<[AuditRecord]>([])
    func add(_ r: AuditRecord) { audit.withLock { $0.append(r) } }
    func takeAudit() -> [AuditRecord] { audit.withLock { a in defer { a.removeAll() }; return a } }
    /// Alerts carried by `hub.alerts` pushes (raised or bumped), in order.
    private let alerts = Mutex<[Alert]>([])
    func add(_ a: [Alert]) { alerts.withLock { $0 += a } }
    func takeAlerts() -> [Alert] { alerts.withLock { a in defer { a.removeAll() }; return a } }
    /// Events carried by `hub.events` pushes, in order.
    private let events = Mutex<[Event]>([])
    func add(_ e: [Event]) { events.withLock { $0 += e } }
    func takeEvents() -> [Event] { events.withLock { e in defer { e.removeAll() }; return e } }
}
