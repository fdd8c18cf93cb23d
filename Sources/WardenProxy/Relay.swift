import Foundation
import Synchronization
import WardenCore
import WardenDetect
import WardenProtocol

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
        var decision: String? = nil
        var rule: String? = nil
        /// What the call's arguments looked like, for behaviour baselines (`call.completed`).
        var shape: CallShape? = nil
    }

    /// Size, keys and destinations of a call's arguments.
    struct CallShape {
        var bytes: Int
        var keys: [String]
        var targets: [String]
    }

    struct Held {
        var grantID: String
        var tool: String
        var task: Task<Void, Never>?
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
        var exited = false
    }

    let config: RelayConfiguration
    let toClient: any MessageOutput
    let toServer: any MessageOutput
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
        self.toClient = toClient
        self.toServer = toServer
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

    // MARK: Client → server

    /// Handles one frame from the client.
    public func clientFrame(_ frame: LineFramer.Frame) {
        switch frame {
        case .oversized(let length, let prefix):
            let id = Self.recoverID(prefix)
            refuse(id: id, code: RPCErrorCode.invalidRequest,
                   message: "Warden refused a message of \(length) bytes: the limit is \(config.maxFrame) bytes. It was not sent to server '\(config.serverName)'.")
            emit(.protocolError, [("direction", "client"), ("problem", "oversized"), ("bytes", .int(length))])
        case .line(let bytes, let content):
            guard !Self.isBlank(content) else { return }
            let value: JSONValue
            do {
                value = try JSONParser.parse(content)
            } catch {
                var duplicate = false
                var id = Self.usable(error.recoveredID)
                if case .duplicateKey(let key) = error.kind {
                    duplicate = true
                    // Two ids: answering either would be a guess about which one the server would have read.
                    if key == "id" { id = nil }
                }
                refuse(id: id, code: duplicate ? RPCErrorCode.invalidRequest : RPCErrorCode.parseError,
                       message: "Warden refused a malformed message (\(error)). It was not sent to server '\(config.serverName)'.")
                emit(.protocolError, [("direction", "client"), ("problem", .string(error.description)), ("bytes", .int(content.count))])
                return
            }
            if case .array(let elements) = value {
                clientBatch(elements, content: content, bytes: bytes)
                return
            }
            if clientValue(value, raw: content) == .forward { forward(bytes, to: toServer) }
        }
    }

    enum Disposition { case forward, consumed }

    /// Classifies and decides one message (alone or from a batch).
    func clientValue(_ value: JSONValue, raw: UnsafeRawBufferPointer) -> Disposition {
        switch RPCValidator.classify(value) {
        case .failure(let invalid):
            refuse(id: invalid.id, code: RPCErrorCode.invalidRequest,
                   message: "Warden refused an invalid JSON-RPC message: \(invalid.reason). It was not sent to server '\(config.serverName)'.")
            emit(.protocolError, [("direction", "client"), ("problem", .string(invalid.reason))])
            return .consumed
        case .success(let message):
            return clientMessage(message, raw: raw)
        }
    }

    func clientMessage(_ message: RPCMessage, raw: UnsafeRawBufferPointer) -> Disposition {
        switch message.kind {
        case .request(let method):
            if method == "tools/call" { return call(message, raw: raw) }
            let id = message.id!
            state.withLock { s in
                s.pending[message.idKey!] = Pending(id: id, method: method, tool: nil, startedAt: Self.now())
                if method == "initialize", let params = message.params {
                    s.session.clientName = params["clientInfo"]?["name"]?.stringValue
                    s.session.clientVersion = params["clientInfo"]?["version"]?.stringValue
                    s.session.protocolVersion = params["protocolVersion"]?.stringValue
                }
            }
            return .forward
        case .notification(let method):
            if method == "notifications/cancelled", let requestID = message.params?["requestId"] {
                let key = RPCMessage.key(for: requestID)
                let held = state.withLock { s in
                    s.pending.removeValue(forKey: key)
                    return s.held.removeValue(forKey: key)
                }
                if let held {
                    held.task?.cancel()
                    let reason = message.params?["reason"]?.stringValue ?? "client cancelled the call"
                    Task { await authority.withdraw(requestID: held.grantID, reason: reason) }
                    emit(.callCancelled, [("id", requestID), ("tool", .string(held.tool)), ("grantId", .string(held.grantID)), ("reason", .string(reason))])
                    // The server never saw the call, so it has nothing to cancel.
                    return .consumed
                }
            }
            if method != "notifications/progress" { emit(.notification, [("direction", "client"), ("method", .string(method))]) }
            return .forward
        case .response, .errorResponse:
            return .forward
        }
    }

    /// Batches (JSON-RPC §6, still sent by clients of protocol versions before 2025-06-18): each
    /// element is decided alone. If all pass, the batch goes through as it came; otherwise the
    /// passing elements go on as a batch of their original bytes and the rest are answered here.
    func clientBatch(_ elements: [JSONValue], content: UnsafeRawBufferPointer, bytes: UnsafeRawBufferPointer) {
        guard !elements.isEmpty else {
            refuse(id: nil, code: RPCErrorCode.invalidRequest, message: "Warden refused an empty JSON-RPC batch.")
            emit(.protocolError, [("direction", "client"), ("problem", "empty batch")])
            return
        }
        guard let outline = try? JSONParser.scan(content), outline.elements.count == elements.count else { return }
        var kept: [Range<Int>] = []
        for (value, range) in zip(elements, outline.elements) {
            let raw = UnsafeRawBufferPointer(rebasing: content[range])
            if clientValue(value, raw: raw) == .forward { kept.append(range) }
        }
        if kept.count == elements.count {
            forward(bytes, to: toServer)
        } else if !kept.isEmpty {
            var out: [UInt8] = [0x5B]
            for (i, r) in kept.enumerated() {
                if i > 0 { out.append(0x2C) }
                out.append(contentsOf: content[r])
            }
            out.append(contentsOf: [0x5D, 0x0A])
            toServer.write(out)
        }
    }

    // MARK: Server → client

    /// Handles one frame from the server.
    public func serverFrame(_ frame: LineFramer.Frame) {
        switch frame {
        case .oversized(let length, let prefix):
            emit(.protocolError, [("direction", "server"), ("problem", "oversized"), ("bytes", .int(length))])
            answerDropped(id: Self.recoverID(prefix), why: "a response of \(length) bytes, over the \(config.maxFrame)-byte limit")
        case .line(let bytes, let content):
            guard !Self.isBlank(content) else { return }
            let outline: JSONScan
            do {
                outline = try JSONParser.scan(content)
            } catch {
                emit(.protocolError, [("direction", "server"), ("problem", .string(error.description)), ("bytes", .int(content.count))])
                Diagnostics.warn(server: config.serverName, "dropped a line from the server that is not valid JSON (\(error))")
                answerDropped(id: Self.usable(error.recoveredID), why: "a malformed response (\(error))")
                return
            }
            switch outline.shape {
            case .scalar:
                emit(.protocolError, [("direction", "server"), ("problem", "not a JSON-RPC message")])
            case .array:
                serverBatch(outline, content: content, bytes: bytes)
            case .object:
                serverObject(outline, content: content, bytes: bytes)
            }
        }
    }

    /// A batch of responses (JSON-RPC §6; clients before MCP 2025-06-18 may batch): tool, prompt and
    /// resource lists and server instructions in it are reviewed like single responses, so batching
    /// is no way around the analysis. Unchanged batches pass byte for byte.
    func serverBatch(_ outline: JSONScan, content: UnsafeRawBufferPointer, bytes: UnsafeRawBufferPointer) {
        var parts: [[UInt8]] = []
        var changed = false
        for range in outline.elements {
            let elementBytes = UnsafeRawBufferPointer(rebasing: content[range])
            if let line = reviewedInBatch(elementBytes) {
                parts.append(line)
                changed = true
            } else {
                parts.append(Array(elementBytes))
            }
        }
        guard changed else {
            forward(bytes, to: toClient)
            return
        }
        var out: [UInt8] = [0x5B]
        for (i, p) in parts.enumerated() {
            if i > 0 { out.append(0x2C) }
            out.append(contentsOf: p)
        }
        out.append(contentsOf: [0x5D, 0x0A])
        toClient.write(out)
    }

    /// A forwarded call was answered: records it, scans the result for injected instructions and
    /// secrets, and returns what the client gets instead (no newline) when policy withholds or
    /// redacts, nil when the answer passes unchanged.
    func callAnswered(_ pending: Pending, id: JSONValue, outline: JSONScan, content: UnsafeRawBufferPointer, fields base: [(String, JSONValue)]) -> [UInt8]? {
        var fields = base
        fields.append(("tool", .string(pending.tool ?? "")))
        fields.append(("decision", .string(pending.decision ?? "allowed")))
        fields.append(("rule", .string(pending.rule ?? "")))
        let flag = outline.resultMembers.first { $0.key == "isError" }?.range
        let isError = flag.flatMap { (try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: content[$0])))?.boolValue } ?? false
        fields.append(("isError", .bool(isError)))
        if let shape = pending.shape {
            fields.append(("argBytes", .int(shape.bytes)))
            fields.append(("argKeys", .array(shape.keys.map { .string($0) })))
            if !shape.targets.isEmpty { fields.append(("targets", .array(shape.targets.map { .string($0) }))) }
        }
        emit(.callCompleted, fields)
        if let resultRange = outline.range(of: "result"), content.count <= ResultScanner.maxBytes,
           var withheld = reviewResult(UnsafeRawBufferPointer(rebasing: content[resultRange]), id: id, tool: pending.tool ?? "") {
            if withheld.last == 0x0A { withheld.removeLast() }
            return withheld
        }
        let secrets = SecretScanner.scan(content)
        guard !secrets.isEmpty else { return nil }
        let redact = config.policy.dlpResults == .redact
        reportSecrets(secrets, direction: "result", tool: pending.tool ?? "", id: id, action: redact ? "redacted" : "alerted")
        return redact ? SecretScanner.redact(content, secrets) : nil
    }

    /// One batch element: the rewritten element (no newline) when review changed it, else nil.
    func reviewedInBatch(_ elementBytes: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let element = try? JSONParser.scan(elementBytes), element.range(of: "method") == nil, let id = element.id,
              let pending = state.withLock({ $0.pending.removeValue(forKey: RPCMessage.key(for: id)) }) else { return nil }
        if pending.method == "tools/call" {
            return callAnswered(pending, id: id, outline: element, content: elementBytes,
                                fields: [("id", id), ("method", "tools/call"), ("micros", .int(Int((Self.now() - pending.startedAt) / 1000))),
                                         ("bytes", .int(elementBytes.count)), ("batch", true)])
        }
        emit(.response, [("id", id), ("method", .string(pending.method)), ("micros", .int(Int((Self.now() - pending.startedAt) / 1000))),
                         ("bytes", .int(elementBytes.count)), ("batch", true)])
        guard let resultRange = element.range(of: "result"),
              pending.method == "initialize" || pending.method == "tools/list" || Self.catalogues[pending.method] != nil,
              let result = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: elementBytes[resultRange])) else { return nil }
        var rewritten: [UInt8]?
        switch pending.method {
        case "initialize":
            initialized(result)
            rewritten = reviewInstructions(result, message: elementBytes)
        case "tools/list":
            rewritten = toolsListed(result, message: elementBytes)
        default:
            rewritten = Self.catalogues[pending.method].flatMap { catalogueListed(result, key: $0, message: elementBytes) }
        }
        if rewritten?.last == 0x0A { rewritten?.removeLast() }
        return rewritten
    }

    func serverObject(_ outline: JSONScan, content: UnsafeRawBufferPointer, bytes: UnsafeRawBufferPointer) {
        if let methodRange = outline.range(of: "method") {
            let method = (try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: content[methodRange])))?.stringValue ?? ""
            if method == "notifications/tools/list_changed" {
                emit(.notification, [("direction", "server"), ("method", .string(method))])
            }
            forward(bytes, to: toClient)
            return
        }
        guard let id = outline.id else {
            forward(bytes, to: toClient)
            return
        }
        let pending = state.withLock { $0.pending.removeValue(forKey: RPCMessage.key(for: id)) }
        guard let pending else {
            forward(bytes, to: toClient)
            return
        }
        let resultRange = outline.range(of: "result")
        // Only lifecycle and tool-list results are built into values; call results can be many MiB
        // and need only their `isError` flag here (found by the same scan).
        let result = pending.method == "initialize" || pending.method == "tools/list" || Self.catalogues[pending.method] != nil
            ? resultRange.flatMap { try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: content[$0])) } : nil
        var fields: [(String, JSONValue)] = [("id", id), ("method", .string(pending.method)),
                                             ("micros", .int(Int((Self.now() - pending.startedAt) / 1000))), ("bytes", .int(content.count))]
        if outline.range(of: "error") != nil { fields.append(("error", true)) }
        switch pending.method {
        case "initialize":
            if let result {
                initialized(result)
                if let rewritten = reviewInstructions(result, message: content) {
                    emit(.response, fields)
                    toClient.write(rewritten)
                    return
                }
            }
        case "tools/list":
            if let result, let rewritten = toolsListed(result, message: content) {
                emit(.response, fields)
                toClient.write(rewritten)
                return
            }
        case "tools/call":
            if var replacement = callAnswered(pending, id: id, outline: outline, content: content, fields: fields) {
                replacement.append(0x0A)
                toClient.write(replacement)
            } else {
                forward(bytes, to: toClient)
            }
            return
        default:
            if let key = Self.catalogues[pending.method], let result, let rewritten = catalogueListed(result, key: key, message: content) {
                emit(.response, fields)
                toClient.write(rewritten)
                return
            }
        }
        emit(.response, fields)
        forward(bytes, to: toClient)
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
    /// (as `SERVER/(instructions)`), and removed from what the client sees when they would quarantine a tool.
    func reviewInstructions(_ result: JSONValue, message: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let text = result["instructions"]?.stringValue, !text.isEmpty else { return nil }
        let pseudo = JSONObject(pairs: [("name", .string(Self.instructionsName)), ("description", .string(text))])
        let review = analyzer.review(ToolDefinition(raw: pseudo), server: config.serverName)
        guard review.verdict != .clean else { return nil }
        emit(.toolReviewed, [("tool", .string(Self.instructionsName)), ("pin", .string(review.pin)), ("verdict", .string(review.verdict.rawValue)),
                             ("score", .int(review.score)), ("findings", .array(review.findings.map(Self.json))), ("definition", .object(pseudo))])
        guard config.policy.quarantine.quarantines(review.verdict), var object = try? JSONParser.parse(message).objectValue,
              var resultObject = object["result"]?.objectValue else { return nil }
        resultObject["instructions"] = nil
        object["result"] = .object(resultObject)
        emit(.toolQuarantined, [("tool", .string(Self.instructionsName)), ("pin", .string(review.pin)),
                                ("reason", .string("server instructions: analysis verdict \(review.verdict.rawValue), score \(review.score)"))])
        Diagnostics.warn(server: config.serverName, "removed the server's instructions from the initialize result (verdict \(review.verdict.rawValue))")
        return RPCReply.line(.object(object))
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
            }
            return (Array(s.pending.values), Array(s.held.values))
        }
        for h in held {
            h.task?.cancel()
            Task { [authority] in await authority.withdraw(requestID: h.grantID, reason: "server exited") }
        }
        for p in pending.sorted(by: { $0.startedAt < $1.startedAt }) {
            toClient.write(RPCReply.error(id: p.id, code: RPCErrorCode.serverExited,
                                          message: "MCP server '\(config.serverName)' exited (\(status)) before answering this \(p.method) request."))
        }
        emit(.serverExited, [("status", .string(status.description)), ("code", .int(Int(status.shellCode))), ("unanswered", .int(pending.count))])
        emit(.sessionEnded, [("status", .string(status.description))])
    }

    // MARK: Helpers

    /// Records secrets seen crossing the relay: kinds, masked forms and fingerprints, never the values.
    func reportSecrets(_ secrets: [SecretMatch], direction: String, tool: String, id: JSONValue, action: String) {
        emit(.dlpFinding, [("id", id), ("tool", .string(tool)), ("direction", .string(direction)), ("action", .string(action)),
                           ("kinds", .array(Array(Set(secrets.map(\.kind))).sorted().map { .string($0) })),
                           ("findings", .array(secrets.map { .object(["kind": .string($0.kind), "masked": .string($0.masked), "fingerprint": .string($0.fingerprint)]) }))])
        Diagnostics.warn(server: config.serverName, "\(secrets.count) secret(s) in the \(direction) of \(tool): \(Set(secrets.map(\.kind)).sorted().joined(separator: ", ")) (\(action))")
    }

    func forward(_ bytes: UnsafeRawBufferPointer, to output: any MessageOutput) {
        if bytes.last == 0x0A {
            output.write(bytes)
        } else {
            // A final line without its newline (the peer closed mid-line): the newline is the frame.
            output.write(Array(bytes) + [0x0A])
        }
    }

    func refuse(id: JSONValue?, code: Int, message: String) {
        toClient.write(RPCReply.error(id: id, code: code, message: message))
    }

    /// A server line was dropped: if it answered a pending request, the client still gets an answer.
    func answerDropped(id: JSONValue?, why: String) {
        guard let id, let pending = state.withLock({ $0.pending.removeValue(forKey: RPCMessage.key(for: id)) }) else { return }
        toClient.write(RPCReply.error(id: pending.id, code: RPCErrorCode.internalError,
                                      message: "MCP server '\(config.serverName)' sent \(why); Warden dropped it."))
    }

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
