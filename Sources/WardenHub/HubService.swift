import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
import WardenDetect
import WardenStore

/// An API error: code 1 means refused or not found (the CLI exits 1), others are usage or I/O (exit 2).
public struct HubAPIError: Error, Sendable {
    public var code: Int
    public var message: String
    public static func refused(_ m: String) -> HubAPIError { HubAPIError(code: HubErrorCode.refused.rawValue, message: m) }
    public static func usage(_ m: String) -> HubAPIError { HubAPIError(code: HubErrorCode.usage.rawValue, message: m) }
}

/// The hub's API (docs/hub-api.md): one method per operation, the same for consoles, the CLI and relays.
public final class HubService: Sendable {
    public static let apiVersion = 1
    public typealias Reply = @Sendable (Result<JSONValue, HubAPIError>) -> Void

    public let store: Store
    public let broker: GrantBroker
    let home: WardenHome
    let exporter: SIEMExporter
    /// Signs the audit chain's head (`audit.head`) and the anchors exported with it.
    let signer: AuditSigner
    let pins: FilePinStore
    let clock: @Sendable () -> Double
    let peers = PeerRegistry()
    /// Tells operators from relays and the processes relays started.
    public let authority = OperatorAuthority()
    let correlator = AlertCorrelator()
    /// Saving changed baselines and an operator's reset take turns: a save in flight must not write
    /// back a baseline the reset just forgot.
    let baselineWrites = Mutex(())
    let lastAudit = Mutex(0)
    let startedAt: Double

    public init(store: Store, home: WardenHome, config: HubConfig, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws(StoreError) {
        self.store = store
        self.home = home
        self.clock = clock
        self.exporter = SIEMExporter(exports: config.exports)
        self.pins = FilePinStore(directory: home.pinsPath)
        self.startedAt = clock()
        self.signer = try AuditSigner(home: home, store: store, clock: clock)
        let peers = self.peers
        self.broker = try GrantBroker(store: store, clock: clock) { grant in
            for p in peers.all { p.push(.grants, HubJSON.grant(grant)) }
        }
        lastAudit.withLock { $0 = (try? store.auditHead())?.sequence ?? 0 }
        if let records = signer.createdOver, records > 0 {
            // A new key over records signed by none (or by a key that is gone): on the record, and
            // in the SIEM stream, because anchors exported under the old key stop verifying.
            try store.audit(actor: "hub", action: "audit.key.created", subject: signer.key.id, details: JSONObject(pairs: [
                ("keyId", .string(signer.key.id)), ("publicKey", .string(signer.key.publicKey.map { String(format: "%02x", $0) }.joined())),
                ("records", .int(records)),
            ]), time: clock())
        }
        correlator.restore(try store.baselines())
        afterChange()
    }

    /// Stores the behaviour baselines that changed since the last save (the ticker calls this every
    /// few seconds, and the server once more when it stops).
    func saveBaselines() {
        do throws(StoreError) {
            try baselineWrites.withLock { _ throws(StoreError) in try store.saveBaselines(correlator.changedBaselines(), at: clock()) }
        } catch {
            FileHandle.standardError.write(Data("warden hub: could not store behaviour baselines: \(error)\n".utf8))
        }
    }

    func attach(_ peer: HubPeer) { peers.map.withLock { $0[peer.id] = peer } }

    func detach(_ peer: HubPeer) {
        peers.map.withLock { _ = $0.removeValue(forKey: peer.id) }
        broker.connectionClosed(peer.id)
        // A relay that vanished without its goodbye (kill -9) leaves a session that is over.
        for session in peer.state.withLock({ $0.sessions }) {
            try? store.endSession(session, status: "relay disconnected", at: clock())
        }
        afterChange()
    }

    /// After every state change: new audit records go to the SIEM and subscribers, the new head is
    /// signed into `audit.head`, and an anchor joins the SIEM stream when one is due.
    func afterChange() {
        let since = lastAudit.withLock { $0 }
        if let records = try? store.auditRecords(after: since), let last = records.last {
            lastAudit.withLock { $0 = max($0, last.sequence) }
            exporter.send(records.compactMap(SIEMRecord.from))
            let all = peers.all
            for r in records { for p in all { p.push(.audit, HubJSON.audit(r)) } }
        }
        signer.advance()
        if let anchor = signer.anchorDue() { exporter.send([SIEMRecord.from(anchor)]) }
    }

    /// The hub is stopping: the SIEM stream gets the last head now rather than never.
    func stopping() {
        afterChange()
        if let anchor = signer.anchorDue(final: true) { exporter.send([SIEMRecord.from(anchor)]) }
    }

    // MARK: Dispatch

    public func handle(_ name: String, _ p: JSONObject, from peer: HubPeer, reply: @escaping Reply) {
        guard let method = HubMethod(rawValue: name) else {
            return reply(.failure(HubAPIError(code: HubErrorCode.methodNotFound.rawValue, message: "unknown method \(SafeText.escape(name))")))
        }
        if method.authority == .operator, let why = authority.refusal(peer) {
            return reply(.failure(refuseAuthority(name, why, peer: peer)))
        }
        do {
            switch method {
            case .grantsRequest:
                guard let request = Self.grantRequest(p) else { throw HubAPIError.usage("grants.request needs id, session, server, tool, deadline") }
                peer.state.withLock { _ = $0.sessions.insert(request.sessionID) }
                broker.request(request, connection: peer.id) { reply(.success($0)) }
                afterChange()
                return
            default:
                reply(.success(try call(method, p, from: peer)))
            }
        } catch let e as HubAPIError {
            reply(.failure(e))
        } catch {
            reply(.failure(.usage("\(error)")))
        }
    }

    func call(_ method: HubMethod, _ p: JSONObject, from peer: HubPeer) throws -> JSONValue {
        switch method {
        case .hello:
            peer.state.withLock { s in
                // A role, once said, is for the life of the connection: a relay cannot become a console.
                if s.role == "unknown" { s.role = p["role"]?.stringValue ?? "unknown" }
                if let session = p["session"]?.stringValue { s.sessions.insert(session) }
            }
            if peer.role == "wrap" { authority.register(relay: peer.identity) }
            return HubWire.encode(Hello.Answer(api: Self.apiVersion, pid: Int(getpid())))
        case .hubStatus:
            return HubWire.encode(status())
        case .subscribe:
            let topics = try Self.typedParams(Subscribe.self, p).topics ?? HubPush.allCases.compactMap(\.topic)
            peer.state.withLock { $0.topics.formUnion(topics) }
            return HubWire.encode(Subscribe.Answer(topics: topics))
        case .eventsAppend:
            // The busiest method: read without the coder (`EventsAppend` is what relays send).
            let result = try ingest(p["events"]?.arrayValue?.compactMap(Event.init(json:)) ?? [])
            return HubWire.encode(EventsAppend.Answer(accepted: result.inserted, duplicates: result.duplicates))
        case .eventsTail:
            let q = try Self.typedParams(EventsTail.self, p)
            let events = try store.events(session: q.session, since: q.since, limit: q.limit ?? 100, ascending: q.since != nil)
            return HubWire.encode(EventsTail.Answer(events: events.map(\.json)))
        case .grantsWithdraw:
            // Only the connection whose session asked may withdraw: a relay's peer (a server that
            // reached the socket) must not cancel what other sessions wait for.
            let q = try Self.typedParams(GrantsWithdraw.self, p)
            guard let grant = try store.grant(q.id), peer.state.withLock({ $0.sessions.contains(grant.request.sessionID) }) else {
                throw HubAPIError.refused("no grant \(q.id) requested by this connection's sessions")
            }
            broker.withdraw(q.id, reason: q.reason ?? "withdrawn")
            afterChange()
            return HubWire.encode(HubEmpty())
        case .grantsList:
            let states = try Self.typedParams(GrantsList.self, p).state.map { $0.split(separator: ",").compactMap { GrantState(rawValue: String($0)) } }
            return HubWire.encode(GrantsList.Answer(grants: try store.grants(states: states).map(HubGrant.init)))
        case .grantsShow:
            let id = try Self.typedParams(GrantsShow.self, p).id
            guard let g = try store.grant(id) else { throw HubAPIError.refused("no grant \(id)") }
            let covered = try store.callsCovered(byGrant: id, server: g.request.server, tool: g.request.tool)
            return HubWire.encode(GrantsShow.Answer(grant: HubGrant(g), transitions: try store.grantTransitions(id).compactMap { try? HubWire.decode(GrantsShow.Transition.self, from: .object($0)) }, calls: covered.calls.map(\.json),
                                                    callsTotal: covered.total))
        case .grantsApprove:
            if let name = p["scope"]?.stringValue, GrantScope(rawValue: name) == nil { throw HubAPIError.usage("scope must be call, session or server") }
            let q = try Self.typedParams(GrantsApprove.self, p)
            var ttl: Double?
            if let t = q.ttl {
                guard let s = DurationText.seconds(t), s > 0 else { throw HubAPIError.usage("ttl must be a duration such as 15m") }
                ttl = s
            }
            return try decided(broker.approve(q.id, scope: q.scope ?? .call, ttl: ttl, actor: peer.actor(q.actor), reason: q.reason))
        case .grantsDeny:
            guard let reason = p["reason"]?.stringValue, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw HubAPIError.usage("denying needs a reason (--reason TEXT)")
            }
            let q = try Self.typedParams(GrantsDeny.self, p)
            return try decided(broker.deny(q.id, actor: peer.actor(q.actor), reason: q.reason))
        case .grantsRevoke:
            let q = try Self.typedParams(GrantsRevoke.self, p)
            return try decided(broker.revoke(q.id, actor: peer.actor(q.actor), reason: q.reason))
        case .grantsStats:
            return HubWire.encode(try stats())
        case .sessionsList:
            let q = try Self.typedParams(SessionsList.self, p)
            return HubWire.encode(SessionsList.Answer(sessions: try store.sessions(limit: q.limit ?? 1000, liveOnly: q.live ?? false).map(HubSession.init)))
        case .sessionsShow:
            let q = try Self.typedParams(SessionsShow.self, p)
            guard let s = try store.session(q.id) else { throw HubAPIError.refused("no session \(q.id)") }
            return HubWire.encode(SessionsShow.Answer(session: HubSession(s), events: try store.events(session: q.id, limit: q.limit ?? 200).map(\.json)))
        case .toolsList:
            let q = try Self.typedParams(ToolsList.self, p)
            return HubWire.encode(ToolsList.Answer(tools: try store.tools(flaggedOnly: q.flagged ?? false).map { HubTool($0) }))
        case .toolsShow:
            let (server, name) = try toolName(Self.typedParams(ToolsShow.self, p).name)
            guard let t = try store.tool(server: server, name: name) else { throw HubAPIError.refused("no tool \(server)/\(name)") }
            var tool = HubTool(t, detail: true)
            // What changed since the definition was trusted, for the console and `tools show`.
            if let trusted = t.trustedDefinition.objectValue, let current = t.definition.objectValue, t.trustedPin != nil, t.trustedPin != t.pin {
                tool.diff = WordDiff.definitions(trusted, current).map { HubDiffPart(op: HubDiffPart.Op(rawValue: $0.op.rawValue) ?? .equal, text: $0.text) }
            }
            tool.baseline = correlator.baseline("\(server)/\(name)")
            return HubWire.encode(HubToolAnswer(tool: tool))
        case .toolsSuppress:
            return try suppress(Self.typedParams(ToolsSuppress.self, p), from: peer)
        case .baselinesList:
            return HubWire.encode(BaselinesList.Answer(warmUp: correlator.warmUp, baselines: correlator.baselines()))
        case .baselinesReset:
            let q = try Self.typedParams(BaselinesReset.self, p)
            guard !q.name.isEmpty, !q.reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw HubAPIError.usage("baselines.reset needs a name and a reason") }
            let ids = try baselineWrites.withLock { _ throws(StoreError) -> [String] in
                let ids = correlator.reset(q.name)
                if !ids.isEmpty { try store.deleteBaselines(ids, actor: peer.actor(q.actor), reason: q.reason, at: clock()) }
                return ids
            }
            guard !ids.isEmpty else { throw HubAPIError.refused("no baseline for \(q.name) (warden baselines list shows them)") }
            afterChange()
            return HubWire.encode(BaselinesReset.Answer(reset: ids))
        case .toolsApprove:
            let q = try Self.typedParams(ToolsApprove.self, p)
            return try review(.approved, name: q.name, reason: q.reason, actor: peer.actor(q.actor))
        case .toolsQuarantine:
            let q = try Self.typedParams(ToolsQuarantine.self, p)
            return try review(.quarantined, name: q.name, reason: q.reason, actor: peer.actor(q.actor))
        case .auditVerify:
            var anchors: [AuditAnchor] = []
            for (i, token) in (try Self.typedParams(AuditVerify.self, p).anchors ?? []).enumerated() {
                guard let anchor = AuditAnchor(token: token) else { throw HubAPIError.usage("anchors[\(i)] is not an audit anchor (warden-anchor.1.…)") }
                anchors.append(anchor)
            }
            switch try signer.verify(anchors: anchors) {
            case .intact(let records, let head):
                return HubWire.encode(HubChainStatus(intact: true, records: records, head: head, keyId: signer.key.id, anchors: anchors.count,
                                                     latestAnchor: anchors.max(by: { $0.sequence < $1.sequence })?.sequence))
            case .broken(let seq, let problem): return HubWire.encode(HubChainStatus(intact: false, sequence: seq, problem: problem))
            }
        case .auditList:
            let q = try Self.typedParams(AuditList.self, p)
            return HubWire.encode(AuditList.Answer(records: try store.auditRecords(limit: q.limit ?? 100).map(HubJSON.audit)))
        case .auditExport:
            let q = try Self.typedParams(AuditExport.self, p)
            guard let format = SIEMFormat(rawValue: q.format ?? "ocsf") else { throw HubAPIError.usage("format must be ocsf, cef or syslog") }
            let since = q.since ?? 0
            var records = try store.events(since: since, limit: Int.max, ascending: true).compactMap(SIEMRecord.from)
            records += try store.auditRecords(limit: Int.max, since: since).reversed().compactMap(SIEMRecord.from)
            records.sort { $0.time < $1.time }
            // The export ends with the chain's signed head: kept with the export, it is the anchor
            // `warden audit verify --anchor` checks the chain against later.
            signer.advance()
            if let head = signer.head { records.append(SIEMRecord.from(head)) }
            return HubWire.encode(AuditExport.Answer(lines: records.map { format.encode($0) }))
        case .alertsList, .alertsShow, .alertsAck, .alertsAssign, .alertsResolve, .alertsFalsePositive, .alertsNote,
             .incidentsList, .incidentsShow, .incidentsOpen, .incidentsClose,
             .playbooksList, .playbooksShow, .playbooksExport, .playbooksImport, .playbooksStart, .playbooksStep, .playbooksRun, .playbooksRuns, .responseRun:
            return try responseCall(method, p, from: peer)
        case .grantsRequest:
            // Answered when decided, so `handle` takes it before this.
            throw HubAPIError.usage("grants.request is answered asynchronously")
        }
    }

    /// Refuses an operator method to a relay or a process in a relay's tree, and audits it (the
    /// first 20 refusals of a connection, then every 1000th: a refused peer cannot flood the chain).
    func refuseAuthority(_ method: String, _ why: String, peer: HubPeer) -> HubAPIError {
        let n = peer.state.withLock { s in
            s.refusals += 1
            return s.refusals
        }
        if n <= 20 || n % 1000 == 0 {
            _ = try? store.audit(actor: peer.actor(nil), action: "authority.refused", subject: method,
                                 details: JSONObject(pairs: [("reason", .string(why)), ("role", .string(peer.role)), ("pid", .int(Int(peer.pid))),
                                                             ("uid", .int(Int(peer.uid))), ("refusals", .int(n))]))
            afterChange()
        }
        return .refused("refused: \(method) is an operator's decision, and \(why). Decide from the console or the CLI in your own terminal.")
    }

    /// Stores events as `events.append` does — pushed to subscribers, exported, correlated into
    /// alerts — for in-process callers (tests, benchmarks); relays send them over the socket.
    @discardableResult
    public func ingest(_ events: [Event]) throws(StoreError) -> (inserted: Int, duplicates: Int) {
        let result = try store.ingest(events, receivedAt: clock())
        if result.inserted > 0 {
            ingested(events)
            raiseAlerts(events)
        }
        return (result.inserted, result.duplicates)
    }

    func ingested(_ events: [Event]) {
        exporter.send(events.compactMap(SIEMRecord.from))
        let all = peers.all
        let payload: JSONValue = ["events": .array(events.map(\.json))]
        for p in all { p.push(.events, payload) }
        if events.contains(where: { [.toolReviewed, .toolQuarantined, .toolChanged].contains($0.kind) }) {
            for p in all { p.push(.tools, [:]) }
        }
    }

    /// A typed call's parameters, or a usage error that names what is missing or malformed.
    static func typedParams<C: HubCall>(_ type: C.Type, _ p: JSONObject) throws(HubAPIError) -> C {
        do {
            return try HubWire.decode(C.self, from: .object(p))
        } catch {
            let what = error.description.hasPrefix("\(C.self): ") ? String(error.description.dropFirst("\(C.self): ".count)) : error.description
            throw .usage("\(C.method.rawValue): \(what)")
        }
    }

    func decided(_ result: Result<GrantRecord, GrantChangeError>) throws -> JSONValue {
        afterChange()
        switch result {
        case .success(let g): return ["grant": HubJSON.grant(g)]
        case .failure(let e): throw HubAPIError.refused(e.description)
        }
    }

    /// An operator's tool review: recorded and audited, written to the pin files relays enforce
    /// from, and pushed to the live relays of that server so it takes effect at once.
    func review(_ state: ToolRecord.ReviewState, name qualified: String, reason: String?, actor: String) throws -> JSONValue {
        let (server, name) = try toolName(qualified)
        guard let tool = try store.review(server: server, name: name, state: state, actor: actor, reason: reason, at: clock()) else {
            throw HubAPIError.refused("no tool \(server)/\(name) (it appears once a relay has listed it)")
        }
        pins.reload(server: server)
        let definition = tool.definition.objectValue ?? JSONObject()
        if state == .approved {
            pins.save(server: server, tool: name, record: ToolPinRecord(pin: tool.pin, definition: definition, quarantined: false, approvedBy: actor))
        } else {
            pins.save(server: server, tool: name, record: ToolPinRecord(pin: tool.pin, definition: definition, quarantined: true, reason: tool.quarantineReason ?? reason ?? "by \(actor)"))
        }
        afterChange()
        let note: JSONValue = ["server": .string(server), "tool": .string(name)]
        for peer in peers.all where peer.role == "wrap" {
            peer.push(.toolsChanged, note)
            peer.push(.tools, note)
        }
        return HubWire.encode(HubToolAnswer(tool: HubTool(tool)))
    }

    /// An operator switches one rule off for one tool: kept in `suppressions.json` for relays, the
    /// stored review re-judged without it, audited; relays re-judge and clients are told to re-list.
    func suppress(_ q: ToolsSuppress, from peer: HubPeer) throws -> JSONValue {
        let (server, name) = try toolName(q.name)
        let rule = q.rule, reason = q.reason
        guard !rule.isEmpty else { throw HubAPIError.usage("missing rule") }
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw HubAPIError.usage("a reason is required to suppress a rule") }
        let actor = peer.actor(q.actor)
        guard let before = try store.tool(server: server, name: name) else {
            throw HubAPIError.refused("no tool \(server)/\(name) (it appears once a relay has listed it)")
        }
        let all = before.findings.arrayValue ?? []
        guard all.contains(where: { $0["rule"]?.stringValue == rule }) else {
            throw HubAPIError.refused("\(server)/\(name) has no finding of rule \(rule)")
        }
        let kept = all.filter { $0["rule"]?.stringValue != rule }
        let findings = kept.compactMap { f -> Finding? in
            guard let r = f["rule"]?.stringValue, let sev = f["severity"]?.stringValue.flatMap(Severity.init(rawValue:)) else { return nil }
            return Finding(rule: r, severity: sev, layer: .foundationModels, field: "", start: 0, end: 0, evidence: "", message: "")
        }
        let (score, verdict) = ToolAnalyzer().judge(findings)
        let wasAnalysisQuarantine = before.reviewState == .quarantined && (before.quarantineReason ?? "").hasPrefix("analysis verdict")
        try SuppressionFile(path: home.suppressionsPath).add(Suppression(server: server, tool: name, rule: rule, reason: reason, by: actor, at: clock()))
        guard let tool = try store.suppress(server: server, name: name, rule: rule, reason: reason, actor: actor, at: clock(), findings: .array(kept),
                                            score: score, verdict: verdict, liftQuarantine: wasAnalysisQuarantine && verdict == .clean) else {
            throw HubAPIError.refused("no tool \(server)/\(name)")
        }
        afterChange()
        let note: JSONValue = ["server": .string(server), "tool": .string(name)]
        for peer in peers.all where peer.role == "wrap" {
            peer.push(.toolsChanged, note)
            peer.push(.tools, note)
        }
        return HubWire.encode(HubToolAnswer(tool: HubTool(tool)))
    }

    /// JIT exposure against standing access: the time grants were active, against the span from the
    /// first to the last call of each granted tool (what a standing credential would have covered).
    func stats() throws -> GrantsStats.Answer {
        let now = clock()
        let grants = try store.grants(limit: Int.max)
        var exposure = 0.0
        var granted = Set<String>()
        var byState: [String: Int] = [:]
        for g in grants {
            byState[g.state.rawValue, default: 0] += 1
            guard let from = g.decidedAt, let expires = g.expiresAt, g.scope != nil else { continue }
            exposure += max(0, min(g.endedAt ?? now, expires, now) - from)
            granted.insert("\(g.request.server)/\(g.request.tool)")
        }
        // Standing access would have been valid for the whole of every session that needed one of
        // these grants; JIT access only while a grant was active.
        var standing = 0.0
        var sessionsSeen = Set<String>()
        for g in grants where g.scope != nil && sessionsSeen.insert(g.request.sessionID).inserted {
            if let s = try store.session(g.request.sessionID) {
                standing += max(0, (s.endedAt ?? max(s.lastActivity, now)) - s.info.startedAt)
            }
        }
        var calls = 0
        for span in try store.callSpans() where granted.contains("\(span.server)/\(span.tool)") { calls += span.calls }
        func tenths(_ d: Double) -> Double { (d * 10).rounded() / 10 }
        return GrantsStats.Answer(grants: grants.count, byState: byState, exposureSeconds: tenths(exposure), standingSeconds: tenths(standing),
                                  grantedCalls: calls, reductionPercent: standing > 0 ? tenths(max(0, (1 - exposure / standing) * 100)) : nil)
    }

    func status() -> HubStatusCall.Answer {
        let live = (try? store.sessions(liveOnly: true).count) ?? 0
        let pending = (try? store.grants(states: [.pending]).count) ?? 0
        return HubStatusCall.Answer(api: Self.apiVersion, pid: Int(getpid()), home: home.path, database: store.path,
                                    uptimeSeconds: ((clock() - startedAt) * 10).rounded() / 10, liveSessions: live, pendingGrants: pending,
                                    connections: peers.all.count, events: (try? store.eventCount()) ?? 0)
    }

    // MARK: Parameters

    func text(_ p: JSONObject, _ key: String) throws -> String {
        guard let v = p[key]?.stringValue, !v.isEmpty else { throw HubAPIError.usage("missing \(key)") }
        return v
    }

    /// `SERVER/TOOL` split at its first slash (a tool's name may hold more).
    func toolName(_ whole: String) throws -> (String, String) {
        guard let slash = whole.firstIndex(of: "/") else { throw HubAPIError.usage("name a tool as SERVER/TOOL") }
        return (String(whole[..<slash]), String(whole[whole.index(after: slash)...]))
    }

    func number(_ v: JSONValue?) -> Double? { v?.doubleValue }

    /// An integer parameter; a number too large for `Int` is refused rather than trapping the hub.
    func int(_ v: JSONValue?) -> Int? { v?.intValue }

    static func grantRequest(_ p: JSONObject) -> GrantRequest? {
        guard var r = HubGrantRequest(json: p) else { return nil }
        // Times and durations as a relay sent them, kept to what clocks can hold (a grant with a
        // deadline in the year 10^290 would trap every formatter that shows it).
        guard Event.plausibleTimes.contains(r.deadline) else { return nil }
        if !Event.plausibleTimes.contains(r.requestedAt) { r.requestedAt = Date().timeIntervalSince1970 }
        if !Event.plausibleTimes.contains(r.maxTTL) { r.maxTTL = 3600 }
        return r.request
    }
}

/// The connected peers, shared with the broker's change callback.
final class PeerRegistry: Sendable {
    let map = Mutex<[Int: HubPeer]>([:])
    var all: [HubPeer] { map.withLock { Array($0.values) } }
}
