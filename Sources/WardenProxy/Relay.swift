import Foundation
import Synchronization
import WardenCore
import WardenDetect
import WardenProtocol
import WardenTransport

/// The enforcement point between one MCP client and one MCP server.
///
/// The relay is fed frames from both sides (`clientFrame`, `serverFrame`) by whoever owns the I/O
/// (the `WrapRunner` threads in production, tests in-process) and writes to two `MessageOutput`s.
/// Messages it has no reason to change are written byte for byte, in the order they came; only
/// refused messages, held calls and filtered tool lists differ. State sits behind one `Mutex`
/// rather than an actor: every message crosses it, and a lock costs tens of nanoseconds where an
/// actor hop costs microseconds (measured by `warden-bench`).
public final class Relay: Sendable {
    struct Pending {
        var id: JSONValue
        var method: String
        var tool: String?
        var startedAt: UInt64
        /// For calls: the decision that let it through (`allowed` by a rule, or `approved` by a grant).
        var decision: CallDecision? = nil
        var rule: String? = nil
        /// What the call's arguments looked like, for behaviour baselines (`call.completed`).
        var shape: CallShape? = nil
        /// Set for requests Warden sent itself: their answers go to Warden, not the client.
        var purpose: Purpose? = nil

        enum Purpose { case toolList(page: Int) }
    }

    /// A call waiting for the tool list Warden asked the server for.
    struct Waiting {
        var message: RPCMessage
        var raw: [UInt8]
        var tool: String { message.params?["name"]?.stringValue ?? "" }
    }

    /// Size, keys and destinations of a call's arguments, what the priors found in them, and the
    /// pin of the definition it was made against.
    struct CallShape {
        var bytes: Int
        var keys: [String]
        var hosts: [String]
        var paths: [String]
        var priors: [CallPrior]
        var pin: String?

        /// Hosts then paths, as `call.completed` records them.
        var targets: [String] { hosts + paths }
    }

    struct Held {
        var grantID: String
        var tool: String
        var task: Task<Void, Never>?
        /// What enters the pending table if the call is approved and written.
        var pending: Pending
    }

    struct ToolState {
        var definition: ToolDefinition
        var review: ToolReview
        var quarantineReason: String?
    }

    struct State {
        var session: SessionInfo
        var pending: [String: Pending] = [:]
        var held: [String: Held] = [:]
        var tools: [String: ToolState] = [:]
        var decisions: [String: PolicyDecision] = [:]
        /// Pins of flagged prompts and resources already reported (each is reported once per change).
        var catalogue: [String: String] = [:]
        /// Blocked servers and egress lockdowns (`controls.json`), re-read when the hub says so.
        var controls = Controls()
        /// Start times of recent calls, for `limits:` (seconds, pruned to the last minute).
        var recentCalls: [Double] = []
        var recentByTool: [String: [Double]] = [:]
        /// Requests the server sent the client and the client has not answered: id key → method.
        var serverPending: [String: String] = [:]
        /// Calls waiting for Warden's own `tools/list`, and whether one is in flight.
        var waiting: [String: Waiting] = [:]
        var listing = false
        /// Calls re-decided after Warden's own list: a tool still unknown then is refused, not listed again.
        var listedFor: Set<String> = []
        var wardenRequests = 0
        var exited = false
    }

    let config: RelayConfiguration
    /// Where the relay writes: only reviewed messages (`Review.swift`) can be written.
    let toClient: ReviewedOutput
    let toServer: ReviewedOutput
    let authority: any GrantAuthority
    let events: any EventSink
    let pins: any PinStore
    /// Replaced when operator suppressions change (`pinsChanged`).
    let analyzerState: Mutex<ToolAnalyzer>
    var analyzer: ToolAnalyzer { analyzerState.withLock { $0 } }
    let state: Mutex<State>
    let sequence = Atomic<Int>(0)
    let sessionID: String

    public init(config: RelayConfiguration, session: SessionInfo, toClient: any MessageOutput, toServer: any MessageOutput,
                authority: any GrantAuthority, events: any EventSink, pins: any PinStore, analyzer: ToolAnalyzer? = nil) {
        self.config = config
        self.toClient = ReviewedOutput(output: toClient)
        self.toServer = ReviewedOutput(output: toServer)
        self.authority = authority
        self.events = events
        self.pins = pins
        // Thresholds and suppressions come from policy unless a test supplies its own analyzer.
        self.analyzerState = Mutex(analyzer ?? Self.analyzer(config))
        self.sessionID = session.id
        var initial = State(session: session)
        if let path = config.controlsPath { initial.controls = Controls.load(path: path) }
        self.state = Mutex(initial)
        emit(.sessionStarted, [("wardenPid", .int(Int(session.wardenPID))), ("serverPid", .int(Int(session.serverPID))),
                               ("policy", .string(config.policy.source)), ("isolation", session.isolation?.json ?? .null)])
    }

    /// The policy's analysis settings plus the operator's suppressions for this server.
    static func analyzer(_ config: RelayConfiguration) -> ToolAnalyzer {
        ToolAnalyzer(settings: config.suppressions?.applied(to: config.policy.analysis, server: config.serverName) ?? config.policy.analysis)
    }

    /// The sandbox saw the server try to reach a network it does not have.
    public func sandboxNetworkAttempts(_ attempts: Int, total: Int) {
        Diagnostics.warn(server: config.serverName, "the server tried to reach the network \(attempts) time(s); its sandbox has none (policy sandbox network: none)")
        emit(.sandboxNetwork, [("attempts", .int(attempts)), ("total", .int(total))])
    }

    /// The session as known so far.
    public var session: SessionInfo { state.withLock { $0.session } }

    /// Requests forwarded or held and not yet answered.
    public var pendingCount: Int { state.withLock { $0.pending.count } }

    /// A forwarded call was answered: records it, then reviews the result like any content
    /// (every string of `content`, `structuredContent`, `_meta` and the rest).
    func callAnswered(_ pending: Pending, message: RPCMessage, micros: Int, bytes: Int, batch: Bool, respelled: Bool) -> Verdict {
        let tool = pending.tool ?? ""
        emit(.callCompleted, CallFields(id: pending.id, tool: tool, decision: pending.decision ?? .allowed, rule: pending.rule ?? "", micros: micros, bytes: bytes,
                                        isError: message.object["result"]?["isError"]?.boolValue ?? false, rpcError: message.kind == .errorResponse,
                                        batch: batch, argBytes: pending.shape?.bytes, argKeys: pending.shape?.keys ?? [], targets: pending.shape?.targets ?? [],
                                        pin: pending.shape?.pin))
        let verdict = contentVerdict(message, channel: "tools/call", tool: tool, id: pending.id, answer: pending)
        switch verdict {
        case .withhold:
            return .withhold
        case .replace, .pass:
            if case .pass = verdict, !respelled { return .pass }
            if case .replace = verdict { return verdict }
            return .replace(.object(message.object))
        }
    }

    func initialized(_ result: JSONValue) {
        let session = state.withLock { s in
            s.session.serverName = result["serverInfo"]?["name"]?.stringValue
            s.session.serverVersion = result["serverInfo"]?["version"]?.stringValue
            s.session.protocolVersion = result["protocolVersion"]?.stringValue ?? s.session.protocolVersion
            s.session.instructions = result["instructions"]?.stringValue
            return s.session
        }
        var fields: [(String, JSONValue)] = [
            ("client", .string(session.clientName ?? "")), ("clientVersion", .string(session.clientVersion ?? "")),
            ("serverName", .string(session.serverName ?? "")), ("serverVersion", .string(session.serverVersion ?? "")),
            ("protocolVersion", .string(session.protocolVersion ?? "")), ("startedAt", .number(String(session.startedAt))),
            ("wardenPid", .int(Int(session.wardenPID))), ("serverPid", .int(Int(session.serverPID))),
        ]
        if let i = session.instructions { fields.append(("instructions", .string(i))) }
        emit(.sessionInitialized, fields)
    }

    /// Server instructions are text the model reads, like a tool description: analysed the same way
    /// (as `SERVER/(instructions)`), and removed from what the client sees when they would quarantine
    /// a tool. Returns the result to send instead, nil when it may pass.
    func reviewInstructions(_ result: JSONValue) -> JSONValue? {
        guard let text = result["instructions"]?.stringValue, !text.isEmpty else { return nil }
        let pseudo = JSONObject(pairs: [("name", .string(Self.instructionsName)), ("description", .string(text))])
        let review = analyzer.review(ToolDefinition(raw: pseudo), server: config.serverName)
        guard review.verdict != .clean else { return nil }
        emit(.toolReviewed, [("tool", .string(Self.instructionsName)), ("pin", .string(review.pin)), ("verdict", .string(review.verdict.rawValue)),
                             ("score", .int(review.score)), ("findings", .array(review.findings.map(Self.json))), ("definition", .object(pseudo))])
        guard config.policy.quarantine.quarantines(review.verdict), var resultObject = result.objectValue else { return nil }
        resultObject["instructions"] = nil
        emit(.toolQuarantined, [("tool", .string(Self.instructionsName)), ("pin", .string(review.pin)),
                                ("reason", .string("server instructions: analysis verdict \(review.verdict.rawValue), score \(review.score)"))])
        Diagnostics.warn(server: config.serverName, "removed the server's instructions from the initialize result (verdict \(review.verdict.rawValue))")
        return .object(resultObject)
    }

    /// How server instructions are named where tools are listed.
    public static let instructionsName = "(instructions)"

    /// The server is gone: every request still waiting gets an error naming how it ended.
    public func serverExited(_ status: ExitStatus) {
        let (pending, held) = state.withLock { s in
            s.exited = true
            defer {
                s.pending.removeAll()
                s.held.removeAll()
                s.waiting.removeAll()
            }
            // Calls waiting for Warden's tool list have no pending entry of their own.
            let waiting = s.waiting.values.map { Pending(id: $0.message.id!, method: "tools/call", tool: $0.tool, startedAt: 0) }
            return (s.pending.values.filter { $0.purpose == nil } + waiting + s.held.values.map(\.pending), Array(s.held.values))
        }
        for h in held {
            h.task?.cancel()
            Task { [authority] in await authority.withdraw(requestID: h.grantID, reason: "server exited") }
        }
        for p in pending.sorted(by: { $0.startedAt < $1.startedAt }) {
            toClient.write(.error(id: p.id, code: RPCErrorCode.serverExited,
                                  message: "MCP server '\(config.serverName)' exited (\(status)) before answering this \(p.method) request."))
        }
        emit(.serverExited, [("status", .string(status.description)), ("code", .int(Int(status.shellCode))), ("unanswered", .int(pending.count))])
        emit(.sessionEnded, [("status", .string(status.description))])
    }

    // MARK: Helpers

    /// Records secrets seen crossing the relay: kinds, masked forms and fingerprints, never the values.
    func reportSecrets(_ secrets: [SecretMatch], direction: String, tool: String, id: JSONValue, idKey: String = "id", action: String) {
        emit(.dlpFinding, [(idKey, id), ("tool", .string(tool)), ("direction", .string(direction)), ("action", .string(action)),
                           ("kinds", .array(Array(Set(secrets.map(\.kind))).sorted().map { .string($0) })),
                           ("findings", .array(secrets.map { .object(["kind": .string($0.kind), "masked": .string($0.masked), "fingerprint": .string($0.fingerprint)]) }))])
        Diagnostics.warn(server: config.serverName, "\(secrets.count) secret(s) in the \(direction) of \(tool): \(Set(secrets.map(\.kind)).sorted().joined(separator: ", ")) (\(action))")
    }

    func refuse(id: JSONValue?, code: Int, message: String) {
        toClient.write(.error(id: id, code: code, message: message))
    }

    /// A server message was withheld: if it answered a request in flight (as the client would match
    /// it), that request still gets an answer.
    func answerWithheld(id: JSONValue?, why: String) {
        guard let id else { return }
        switch takePending(answering: id) {
        case .none: return
        case .one(let p, _): answerPending(p, why: why)
        case .ambiguous(let ps): for p in ps { answerPending(p, why: why) }
        }
    }

    func answerPending(_ pending: Pending, why: String) {
        if pending.purpose != nil {
            toolListFailed("it sent \(why)")
            return
        }
        toClient.write(.error(id: pending.id, code: RPCErrorCode.internalError,
                              message: "MCP server '\(config.serverName)' sent \(why) in answer to this \(pending.method) request; Warden withheld it."))
    }

    func emit(_ kind: EventKind, _ call: CallFields) { emit(kind, call.pairs) }

    func emit(_ kind: EventKind, _ fields: [(String, JSONValue)]) {
        let n = sequence.add(1, ordering: .relaxed).newValue
        events.record(Event(sequence: n, time: Date().timeIntervalSince1970, session: sessionID,
                            server: config.serverName, kind: kind, fields: JSONObject(pairs: fields)))
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }
    }

    static func usable(_ id: JSONValue?) -> JSONValue? {
        switch id {
        case .string?, .number?: id
        default: nil
        }
    }

    /// The id of a message too large or too broken to parse, if it appears before the damage.
    static func recoverID(_ prefix: [UInt8]) -> JSONValue? {
        do {
            return usable(try JSONParser.parse(prefix)["id"])
        } catch {
            return usable(error.recoveredID)
        }
    }
}
