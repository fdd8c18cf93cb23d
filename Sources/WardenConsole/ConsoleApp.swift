import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
import WardenHubClient

/// Parts of the data the console reloads from the hub, each after its own pushes.
enum DataPart: String, CaseIterable, Sendable {
    case status, sessions, grants, tools, alerts, incidents, audit
}

/// Runs `warden console`: owns the terminal, the hub connection and the loop that joins them.
///
/// One thread does everything (keys, hub calls, drawing); the hub connection's reader thread only
/// records which topics were pushed and wakes the loop through a pipe. Redraws are coalesced: pushes
/// arriving together cost one reload and one frame. When nothing happens the loop sleeps in
/// `poll` and draws once a second (the header clock and grant countdowns).
public final class ConsoleApp {
    let home: WardenHome
    let screen: NcursesScreen
    var model = ConsoleModel()
    var renderer = ConsoleRenderer()
    var connection: HubConnection?
    let wakeRead: Int32
    let wakeWrite: Int32
    let pushed = PushedTopics()
    var lastReconnect = 0.0
    /// Parts pushed but not reloaded yet, and when each was last loaded: event pushes come in floods,
    /// so the session list reloads at most once a second; decisions (grants, tools) at once.
    var deferred: Set<DataPart> = []
    var lastLoad: [DataPart: Double] = [:]
    static let minimumInterval: [DataPart: Double] = [.sessions: 1, .status: 1]

    /// Whether a notice also rings the terminal bell (`console.bell` in config.yaml).
    let bell: Bool

    public init(home: WardenHome, screen: NcursesScreen, startView: ViewID = .sessions, bell: Bool = true) {
        self.home = home
        self.screen = screen
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
        connect()
        if let initialMessage { model.state.message = initialMessage; model.state.messageIsError = true }
        var lastDraw = 0.0
        draw()
        while !model.state.quit {
            var fds = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let now = Date().timeIntervalSince1970
            // Wake for the next whole second (clock, countdowns), or at once when a push is waiting.
            let timeout = Int32(max(1, (1 - now.truncatingRemainder(dividingBy: 1)) * 1000))
            _ = poll(&fds, 2, timeout)
            var needsDraw = false
            if fds[1].revents != 0 {
                var sink = [UInt8](repeating: 0, count: 256)
                while read(wakeRead, &sink, sink.count) > 0 {}
            }
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
                if model.state.quit { break }
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
        connection?.close()
        screen.close()
        return 0
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
            let c = try HubLauncher.connect(home: home, timeout: 3) { method, params in
                let part: [DataPart]
                switch HubPush(rawValue: method) {
                case .events?: part = [.sessions, .status]
                case .grants?:
                    // The push carries the whole grant; one that does not decode is fetched instead.
                    if let grant = try? HubWire.decode(HubGrant.self, from: params) { pushed.add(grant); part = [] } else { part = [.grants] }
                case .tools?: part = [.tools]
                case .audit?:
                    // Applied as it comes and checked against the verified head; one that does not
                    // decode sends the console back to the whole list.
                    if let record = AuditRecord(hubJSON: params) { pushed.add(record); part = [] } else { part = [.audit] }
                case .alerts?: part = [.alerts, .incidents]
                case .toolsChanged?, nil: return
                }
                pushed.add(part)
                var byte: UInt8 = 1
                _ = write(wake, &byte, 1)
            }
            _ = try c.callBlocking(.hello, ["api": .int(HubConnection.apiVersion), "role": "console", "pid": .int(Int(getpid()))], timeout: 5)
            _ = try c.callBlocking(.subscribe, [:], timeout: 5)
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

    /// A call whose method a hub may not have yet (older hubs): a missing method is an empty answer.
    func optionalCall(_ method: HubMethod, _ params: JSONObject = [:]) -> JSONValue? {
        guard let c = connection else { return nil }
        return try? c.callBlocking(method, params, timeout: 10)
    }

    func reload(_ parts: Set<DataPart>) {
        let now = Date().timeIntervalSince1970
        for part in parts { lastLoad[part] = now }
        for part in DataPart.allCases where parts.contains(part) {
            switch part {
            case .status:
                if let s = call(.hubStatus) {
                    model.update { $0.hub.pid = s["pid"]?.intValue ?? 0; $0.hub.events = s["events"]?.intValue ?? 0 }
                }
            case .sessions:
                if let s = call(.sessionsList, ["limit": 20_000]) {
                    let rows = (s["sessions"]?.arrayValue ?? []).compactMap(SessionRow.init)
                    model.update { $0.sessions = rows }
                }
                if case .session(let id)? = model.state.detail { apply(.loadSession(id)) }
                // A grant's uses grow with calls: its detail follows the event stream.
                if case .grant(let id)? = model.state.detail { apply(.loadGrant(id)) }
            case .grants:
                if let g = call(.grantsList) {
                    let rows = (g["grants"]?.arrayValue ?? []).compactMap { try? HubWire.decode(HubGrant.self, from: $0) }
                    model.update { $0.grants = rows }
                }
            case .tools:
                if let t = call(.toolsList) {
                    let rows = (t["tools"]?.arrayValue ?? []).compactMap(ToolRow.init)
                    model.update { $0.tools = rows }
                }
                if case .tool(let name)? = model.state.detail { apply(.loadTool(name)) }
            case .alerts:
                if let a = optionalCall(.alertsList) {
                    let rows = (a["alerts"]?.arrayValue ?? []).compactMap(AlertRow.init)
                    if model.replaceAlerts(rows) { ring() }
                }
            case .incidents:
                if let i = optionalCall(.incidentsList) {
                    let rows = (i["incidents"]?.arrayValue ?? []).flatMap(Self.incidentRows)
                    model.update { $0.incidents = rows }
                }
                if case .run(let run)? = model.state.detail { apply(.loadRun(run)) }
            case .audit:
                if let a = call(.auditList, ["limit": 500]) {
                    let rows = (a["records"]?.arrayValue ?? []).compactMap(AuditRow.init)
                    model.update { $0.audit = rows }
                }
                apply(.verifyAudit)
            }
        }
    }

    /// One row per playbook run of an incident (or one for an incident with none).
    static func incidentRows(_ j: JSONValue) -> [IncidentRow] {
        guard let id = j["id"]?.stringValue else { return [] }
        let base = IncidentRow(id: id, title: j["title"]?.stringValue ?? "", status: j["status"]?.stringValue ?? "open", severity: j["severity"]?.stringValue ?? "info")
        let runs = j["runs"]?.arrayValue ?? []
        if runs.isEmpty { return [base] }
        return runs.map { r in
            var row = base
            row.run = r["id"]?.stringValue
            row.playbook = r["playbook"]?.stringValue
            row.runStatus = r["status"]?.stringValue
            row.step = r["currentStep"]?.stringValue
            row.phase = r["phase"]?.stringValue
            return row
        }
    }

    func apply(_ effect: Effect) {
        switch effect {
        case .perform(let action):
            let (method, params) = action.request
            if call(method, params) != nil {
                model.state.message = "done: \(action.cli)"
                model.state.messageIsError = false
                switch action {
                case .approveGrant, .denyGrant, .revokeGrant: reload([.grants, .audit])
                case .approveTool, .quarantineTool, .suppressRule: reload([.tools, .audit])
                case .resetBaseline(let name, _):
                    reload([.audit])
                    if case .tool(name)? = model.state.detail { apply(.loadTool(name)) }
                default: reload([.alerts, .incidents, .audit])
                }
            }
        case .loadSession(let id):
            if let s = call(.sessionsShow, ["id": .string(id), "limit": 300]), let session = s["session"].flatMap(SessionRow.init) {
                let events = (s["events"]?.arrayValue ?? []).compactMap(EventRow.init)
                model.update { $0.sessionDetail = SessionDetail(session: session, events: events) }
            }
        case .loadGrant(let id):
            if let g = call(.grantsShow, ["id": .string(id)]) {
                let calls = (g["calls"]?.arrayValue ?? []).map { c in
                    GrantCalls.Call(time: c["time"]?.doubleValue ?? 0, session: c["session"]?.stringValue ?? "", arguments: c["fields"]?["arguments"]?.stringValue ?? "")
                }
                model.update {
                    $0.grantCalls = GrantCalls(grant: id, calls: calls, total: g["callsTotal"]?.intValue)
                    if let grant = try? HubWire.decode(HubGrant.self, from: g["grant"] ?? .null) { $0.apply([grant]) }
                }
            }
        case .loadTool(let name):
            if let t = call(.toolsShow, ["name": .string(name)]), let detail = t["tool"].flatMap(ToolDetail.init) {
                model.update { $0.toolDetail = detail }
            }
        case .loadRun(let run):
            if let r = optionalCall(.playbooksRun, ["run": .string(run)]) {
                let steps = (r["steps"]?.arrayValue ?? []).map { s in
                    PlaybookRunDetail.Step(id: s["id"]?.stringValue ?? "", name: s["name"]?.stringValue ?? "", phase: s["phase"]?.stringValue ?? "",
                                           kind: s["kind"]?.stringValue ?? "", description: s["description"]?.stringValue ?? "",
                                           status: s["status"]?.stringValue ?? "", outcome: s["outcome"]?.stringValue)
                }
                var detail = PlaybookRunDetail(run: run, playbook: r["playbook"]?.stringValue ?? "", incident: r["incident"]?.stringValue ?? "",
                                               status: r["status"]?.stringValue ?? "", current: r["currentStepId"]?.stringValue, steps: steps)
                detail.notes = (r["log"]?.arrayValue ?? []).compactMap { e in
                    guard e["outcome"]?.stringValue == "note", let text = e["note"]?.stringValue else { return nil }
                    return PlaybookRunDetail.Note(time: e["time"]?.doubleValue ?? 0, actor: e["actor"]?.stringValue ?? "", text: text)
                }
                model.update {
                    $0.runDetail = detail
                }
            }
        case .copy(let text):
            // OSC 52 puts it on the clipboard in terminals that allow it (tmux passes it on with
            // set-clipboard); the message shows it either way, to select by hand. The id is
            // Warden's own or escaped, so the sequence carries nothing a server chose raw.
            let payload = Data(ConsoleModel.pasteable(text).utf8).base64EncodedString()
            let sequence = Array("\u{1B}]52;c;\(payload)\u{07}".utf8)
            _ = sequence.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            model.state.message = "copied \(ConsoleModel.pasteable(text)) (if the terminal allows OSC 52; select it here otherwise)"
            model.state.messageIsError = false
        case .verifyAudit:
            if let v = call(.auditVerify) {
                let status: ChainStatus = v["intact"]?.boolValue == true
                    ? .intact(records: v["records"]?.intValue ?? 0, head: v["head"]?.stringValue ?? "")
                    : .broken(sequence: v["sequence"]?.intValue ?? 0, problem: v["problem"]?.stringValue ?? "")
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
}
