import Foundation
import WardenCore
import WardenDetect
import WardenProtocol
import WardenTransport

/// Bytes the relay may write to a peer.
///
/// The relay's outputs (`ReviewedOutput`) accept nothing else, and a `Reviewed` can only be made
/// in this file: by the review of a message that was read (parsed once, strictly, and classified),
/// or as a reply Warden composes itself from its own values (`error`, `toolError`, `progress`,
/// `notification`, `request`). So a code path that forwards a peer's bytes without reviewing them
/// does not compile: there is no way to turn raw input into a `Reviewed` outside this file.
struct Reviewed: Sendable {
    fileprivate let bytes: [UInt8]

    fileprivate init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// A message as it came, when its review found no reason to change it.
    fileprivate init(unchanged raw: UnsafeRawBufferPointer) {
        var bytes = Array(raw)
        if bytes.last != 0x0A { bytes.append(0x0A) }  // a final line the peer did not end: the newline is the frame
        self.bytes = bytes
    }

    /// A message the review rewrote (a quarantined tool hidden, a secret redacted, an id respelled).
    fileprivate init(rewritten value: JSONValue) { bytes = RPCReply.line(value) }

    /// A JSON-RPC error Warden sends.
    static func error(id: JSONValue?, code: Int, message: String, data: JSONValue? = nil) -> Reviewed {
        Reviewed(RPCReply.error(id: id, code: code, message: message, data: data))
    }

    /// A refused tool call's result, as Warden writes it.
    static func toolError(id: JSONValue, text: String, meta: JSONObject) -> Reviewed {
        Reviewed(RPCReply.toolError(id: id, text: text, meta: meta))
    }

    /// Progress Warden reports for a call it holds.
    static func progress(token: JSONValue, progress: Int, message: String) -> Reviewed {
        Reviewed(RPCReply.progress(token: token, progress: progress, message: message))
    }

    /// A parameterless notification Warden sends (`notifications/tools/list_changed`).
    static func notification(_ method: String) -> Reviewed {
        Reviewed(RPCReply.line(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("method", .string(method))]))))
    }

    /// A request Warden itself sends the server (a tool list it needs before deciding a call).
    static func request(id: String, method: String, params: JSONObject) -> Reviewed {
        Reviewed(RPCReply.line(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", .string(id)), ("method", .string(method)), ("params", .object(params))]))))
    }
}

/// One side of the conversation, writable only with reviewed messages.
struct ReviewedOutput: Sendable {
    let output: any MessageOutput

    @discardableResult
    func write(_ message: Reviewed) -> Bool { message.bytes.withUnsafeBytes { output.write($0) } }

    @discardableResult
    func write(_ messages: [Reviewed]) -> Bool { messages.allSatisfy { write($0) } }
}

/// What the review of one message decided.
enum Verdict {
    /// Send it as it came.
    case pass
    /// Send this instead.
    case replace(JSONValue)
    /// Send nothing: Warden has answered, or there is nothing to answer.
    case withhold
}

extension Relay {
    // MARK: Client → server

    /// Handles one frame from the client.
    public func clientFrame(_ frame: LineFramer.Frame) {
        switch frame {
        case .oversized(let length, let prefix):
            let id = Self.recoverID(prefix)
            refuse(id: id, code: RPCErrorCode.invalidRequest,
                   message: "Warden refused a message of \(length) bytes: the limit is \(config.maxFrame) bytes. It was not sent to server '\(config.serverName)'.")
            emit(.protocolError, [("direction", "client"), ("problem", "oversized"), ("bytes", .int(length)), ("action", "refused")])
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
                emit(.protocolError, [("direction", "client"), ("problem", .string(error.description)), ("bytes", .int(content.count)), ("action", "refused")])
                return
            }
            guard case .array(let elements) = value else {
                switch clientValue(value, raw: content) {
                case .pass: toServer.write(Reviewed(unchanged: bytes))
                case .replace(let replacement): toServer.write(Reviewed(rewritten: replacement))
                case .withhold: break
                }
                return
            }
            // Batches (JSON-RPC §6, still sent by clients of protocol versions before 2025-06-18):
            // each element is decided alone; what passes goes on as one batch.
            guard !elements.isEmpty else {
                refuse(id: nil, code: RPCErrorCode.invalidRequest, message: "Warden refused an empty JSON-RPC batch.")
                emit(.protocolError, [("direction", "client"), ("problem", "empty batch"), ("action", "refused")])
                return
            }
            batch(elements, bytes: bytes, to: toServer) { element in
                JSONWriter.compactBytes(element).withUnsafeBytes { clientValue(element, raw: $0) }
            }
        }
    }

    /// A batch, each element reviewed alone: unchanged, it goes on as it came; otherwise what
    /// passes goes on as one batch.
    func batch(_ elements: [JSONValue], bytes: UnsafeRawBufferPointer, to output: ReviewedOutput, _ review: (JSONValue) -> Verdict) {
        var kept: [JSONValue] = []
        var changed = false
        for element in elements {
            switch review(element) {
            case .pass: kept.append(element)
            case .replace(let replacement): kept.append(replacement); changed = true
            case .withhold: changed = true
            }
        }
        if !changed {
            output.write(Reviewed(unchanged: bytes))
        } else if !kept.isEmpty {
            output.write(Reviewed(rewritten: .array(kept)))
        }
    }

    /// Classifies and decides one client message (alone or from a batch).
    func clientValue(_ value: JSONValue, raw: UnsafeRawBufferPointer) -> Verdict {
        switch RPCValidator.classify(value) {
        case .failure(let invalid):
            refuse(id: invalid.id, code: RPCErrorCode.invalidRequest,
                   message: "Warden refused an invalid JSON-RPC message: \(invalid.reason). It was not sent to server '\(config.serverName)'.")
            emit(.protocolError, [("direction", "client"), ("problem", .string(invalid.reason)), ("action", "refused")])
            return .withhold
        case .success(let message):
            switch message.kind {
            case .request:
                if let id = message.id, state.withLock({ s in
                    let key = RPCMessage.key(for: id)
                    return s.pending[key] != nil || s.held[key] != nil || s.waiting[key] != nil
                }) {
                    // Two requests in flight under one id: the server's answer could not be told apart.
                    refuse(id: id, code: RPCErrorCode.invalidRequest,
                           message: "Warden refused a request whose id is already in use by a request still in flight. It was not sent to server '\(config.serverName)'.")
                    emit(.protocolError, [("direction", "client"), ("problem", "request id already in flight"), ("id", id), ("action", "refused")])
                    return .withhold
                }
                if message.method == "tools/call" { return decideCall(message, raw: raw) }
                return clientRequest(message)
            case .notification:
                return clientNotification(message)
            case .response, .errorResponse:
                return clientAnswer(message)
            }
        }
    }

    // MARK: Server → client

    /// Handles one frame from the server. Every server message is parsed in full, strictly (a
    /// duplicate key at any depth, invalid UTF-8 or a lone surrogate refuses it), classified as
    /// strictly as JSON-RPC allows, and reviewed for what it is; what cannot be read is withheld
    /// and the request it answers, if any, gets an error that says why.
    public func serverFrame(_ frame: LineFramer.Frame) {
        switch frame {
        case .oversized(let length, let prefix):
            emit(.protocolError, [("direction", "server"), ("problem", "oversized"), ("bytes", .int(length)), ("action", "withheld")])
            answerWithheld(id: Self.recoverID(prefix), why: "a message of \(length) bytes, over the \(config.maxFrame)-byte limit")
        case .line(let bytes, let content):
            guard !Self.isBlank(content) else { return }
            let value: JSONValue
            do {
                value = try JSONParser.parse(content)
            } catch {
                emit(.protocolError, [("direction", "server"), ("problem", .string(error.description)), ("bytes", .int(content.count)), ("action", "withheld")])
                Diagnostics.warn(server: config.serverName, "withheld a message from the server that is not valid JSON (\(error))")
                answerWithheld(id: Self.usable(error.recoveredID), why: "a malformed message (\(error))")
                return
            }
            guard case .array(let elements) = value else {
                switch serverValue(value, bytes: content.count) {
                case .pass: toClient.write(Reviewed(unchanged: bytes))
                case .replace(let replacement): toClient.write(Reviewed(rewritten: replacement))
                case .withhold: break
                }
                return
            }
            guard !elements.isEmpty else {
                emit(.protocolError, [("direction", "server"), ("problem", "empty batch"), ("action", "withheld")])
                return
            }
            // A batch (JSON-RPC §6): every element is reviewed as if it came alone, so batching is
            // no way around the analysis.
            batch(elements, bytes: bytes, to: toClient) { serverValue($0, bytes: content.count / elements.count, batch: true) }
        }
    }

    /// Reviews one server message (alone or from a batch).
    func serverValue(_ value: JSONValue, bytes: Int, batch: Bool = false) -> Verdict {
        switch RPCValidator.classify(value) {
        case .failure(let invalid):
            // Ambiguous or invalid: clients disagree about what it is (`"method": null` beside a
            // result is a response to the Python SDK), so nobody gets it.
            emit(.protocolError, [("direction", "server"), ("problem", .string(invalid.reason)), ("action", "withheld")])
            Diagnostics.warn(server: config.serverName, "withheld an invalid message from the server (\(invalid.reason))")
            answerWithheld(id: invalid.id ?? value["id"].flatMap(Self.usable), why: "an invalid or ambiguous message (\(invalid.reason))")
            return .withhold
        case .success(let message):
            switch message.kind {
            case .response, .errorResponse:
                return serverResponse(message, bytes: bytes, batch: batch)
            case .request(let method):
                return serverRequest(message, method: method)
            case .notification(let method):
                return serverNotification(message, method: method)
            }
        }
    }

    /// The request a server's response answers, matched as the client will match it.
    enum Match {
        case none
        case one(Pending, respelled: Bool)
        /// Two requests in flight that the client could take this id for.
        case ambiguous([Pending])
    }

    func takePending(answering id: JSONValue) -> Match {
        let keys = RPCMessage.responseKeys(for: id)
        return state.withLock { s -> Match in
            let hits = keys.filter { s.pending[$0] != nil }
            switch hits.count {
            case 0: return .none
            case 1:
                let p = s.pending.removeValue(forKey: hits[0])!
                return .one(p, respelled: p.id != id)
            default:
                return .ambiguous(hits.compactMap { s.pending.removeValue(forKey: $0) })
            }
        }
    }

    func serverResponse(_ message: RPCMessage, bytes: Int, batch: Bool) -> Verdict {
        let id = message.id ?? .null
        if id == .null {
            // An error the server could not attach to a request: the client reads its text, so it is
            // read here too; it answers nothing.
            return contentVerdict(message, channel: "error response", tool: "", id: id)
        }
        let pending: Pending
        var respelled = false
        switch takePending(answering: id) {
        case .none:
            emit(.protocolError, [("direction", "server"), ("problem", "a response to no request in flight"), ("responseId", id), ("action", "withheld")])
            return .withhold
        case .ambiguous(let candidates):
            emit(.protocolError, [("direction", "server"), ("problem", "a response id that matches several requests"), ("responseId", id), ("action", "withheld")])
            for p in candidates { answerPending(p, why: "a response whose id matches more than one request in flight") }
            return .withhold
        case .one(let p, let spelled):
            pending = p
            respelled = spelled
        }
        var message = message
        if respelled {
            // Reviewed as the answer the client will take it for, and sent with the id the client used.
            emit(.protocolError, [("direction", "server"), ("problem", "response id respelled"), ("id", pending.id), ("responseId", id), ("action", "normalised")])
            message.object["id"] = pending.id
        }
        if let purpose = pending.purpose {
            wardenRequestAnswered(purpose, message: message)
            return .withhold
        }
        let micros = Int((Self.now() - pending.startedAt) / 1000)
        if pending.method == "tools/call" {
            return callAnswered(pending, message: message, micros: micros, bytes: bytes, batch: batch, respelled: respelled)
        }
        var fields: [(String, JSONValue)] = [("id", pending.id), ("method", .string(pending.method)), ("micros", .int(micros)), ("bytes", .int(bytes))]
        if batch { fields.append(("batch", true)) }
        let result = message.object["result"]
        if message.kind == .errorResponse { fields.append(("error", true)) }
        var rewritten: JSONValue?
        var skip: Set<String> = []
        switch (pending.method, result) {
        case ("initialize", let result?):
            initialized(result)
            rewritten = reviewInstructions(result)
            skip = ["instructions"]
        case ("tools/list", let result?):
            rewritten = toolsListed(result)
            skip = ["tools"]
        case (let method, let result?) where Self.catalogues[method] != nil:
            let key = Self.catalogues[method]!
            rewritten = catalogueListed(result, key: key)
            skip = [key]
        default:
            break
        }
        emit(.response, fields)
        var object = message.object
        if let rewritten { object["result"] = rewritten }
        // Whatever else the response carries (a resource's contents, a prompt's messages,
        // completions, an error's message and data) is text the model or the person may read.
        var reviewed = message
        reviewed.object = object
        let content = contentVerdict(reviewed, channel: pending.method, tool: "",
                                     id: pending.id, skipping: skip, answer: pending)
        switch content {
        case .pass: return rewritten != nil || respelled ? .replace(.object(object)) : .pass
        case .replace, .withhold: return content
        }
    }

    /// The content review shared by every channel: instructions aimed at the model and secrets in
    /// any string of the message. `answer` is the client's request this message answers: when
    /// policy withholds the message, that request gets an error instead.
    /// `idKey` is the field the id is recorded under: `id` for the client's own calls (the
    /// console joins a call's events on it), `serverRequest` for an id the server chose, which a
    /// hostile server could pick to match a call's and so write into that call's history.
    func contentVerdict(_ message: RPCMessage, channel: String, tool: String, id: JSONValue, idKey: String = "id", skipping: Set<String> = [],
                        answer: Pending? = nil, toServer: Bool = false) -> Verdict {
        let body = message.object["result"] ?? message.object["error"] ?? message.object["params"] ?? .null
        let section = message.object["result"] != nil ? "result" : message.object["error"] != nil ? "error" : "params"
        var found = ContentScanner.scan(body, path: section, skipping: skipping, injections: !toServer)
        // Members JSON-RPC does not define are kept by the SDKs: read them too.
        // (Most messages have none: checked before anything is allocated.)
        let defined: Set<String> = Self.definedMembers
        if message.object.keys.contains(where: { !defined.contains($0) }) {
            let others = message.object.members.filter { !defined.contains($0.0) }
            let extra = ContentScanner.scan(.object(JSONObject(pairs: others.map { ($0.0, $0.1) })), injections: !toServer)
            found.injections += extra.injections
            found.secrets += extra.secrets
        }
        guard !found.isEmpty else { return .pass }
        if !found.injections.isEmpty {
            let deny = config.policy.dlpInjection == .deny
            let rules = Set(found.injections.map(\.rule)).sorted()
            emit(.resultInjection, [(idKey, id), ("tool", .string(tool)), ("channel", .string(channel)), ("action", .string(deny ? "withheld" : "alerted")),
                                    ("rules", .array(rules.map { .string($0) })), ("findings", .array(found.injections.prefix(20).map(Self.json)))])
            Diagnostics.warn(server: config.serverName, "the \(channel) \(tool.isEmpty ? "" : "of \(tool) ")carries instructions for the model (\(rules.joined(separator: ", ")))\(deny ? "; withheld" : "")")
            if deny {
                withholdContent(message, channel: channel, why: "it carries instructions aimed at the model (\(rules.joined(separator: ", ")))", answer: answer)
                return .withhold
            }
        }
        guard !found.secrets.isEmpty else { return .pass }
        let direction = toServer ? "answer" : channel == "tools/call" ? "result" : channel
        let action: DLPAction = toServer ? config.policy.dlpArguments : config.policy.dlpResults
        let label = action == .redact ? "redacted" : action == .deny ? "withheld" : "alerted"
        reportSecrets(found.secrets, direction: direction, tool: tool.isEmpty ? channel : tool, id: id, idKey: idKey, action: label)
        switch action {
        case .alert: return .pass
        case .redact where found.secrets.contains(where: { $0.via == "joined" }):
            // Split across strings: no one string can be redacted to remove it.
            withholdContent(message, channel: channel, why: "it carries a secret split across strings", answer: answer)
            return .withhold
        case .redact: return .replace(ContentScanner.redacting(.object(message.object)))
        case .deny:
            withholdContent(message, channel: channel, why: "it carries a secret (\(Set(found.secrets.map(\.kind)).sorted().joined(separator: ", ")))", answer: answer)
            return .withhold
        }
    }

    static let definedMembers: Set<String> = ["jsonrpc", "id", "method", "result", "error", "params"]

    /// Policy withheld a message for its content: whoever waits for it gets an error instead.
    func withholdContent(_ message: RPCMessage, channel: String, why: String, answer: Pending?) {
        if let answer, answer.method == "tools/call" {
            // The model reads a tool's error result: it learns the call ran and what became of its output.
            let tool = answer.tool ?? ""
            let meta = JSONObject(pairs: [("decision", .string(CallDecision.withheld.rawValue)), ("server", .string(config.serverName)), ("tool", .string(tool)), ("reason", .string(why))])
            toClient.write(.toolError(id: answer.id, text: "Warden withheld the result of '\(SafeText.escape(tool))' on MCP server '\(config.serverName)': \(why).", meta: meta))
        } else if let answer {
            toClient.write(.error(id: answer.id, code: RPCErrorCode.internalError,
                                  message: "Warden withheld the \(channel) response of MCP server '\(config.serverName)': \(why)."))
        } else if case .request = message.kind, let id = message.id {
            toServer.write(.error(id: id, code: RPCErrorCode.invalidRequest,
                                  message: "Warden refused this \(channel) request from MCP server '\(config.serverName)': \(why)."))
        } else if let id = message.id, message.kind == .response || message.kind == .errorResponse {
            // The client's answer to a server request: the server still gets an answer.
            toServer.write(.error(id: id, code: RPCErrorCode.internalError, message: "Warden withheld the client's answer: \(why)."))
        }
    }

    /// A request from the server to the client (`sampling/createMessage`, `elicitation/create`,
    /// `roots/list`, `ping`): its text reaches the client's model or the person, so it is read like a
    /// result; the client's answer is matched and read for secrets on its way back.
    func serverRequest(_ message: RPCMessage, method: String) -> Verdict {
        let id = message.id!
        let key = RPCMessage.key(for: id)
        let inUse = state.withLock { s -> Bool in
            if s.serverPending[key] != nil { return true }
            s.serverPending[key] = method
            return false
        }
        if inUse {
            emit(.protocolError, [("direction", "server"), ("problem", "request id already in flight"), ("serverRequest", id), ("action", "withheld")])
            toServer.write(.error(id: id, code: RPCErrorCode.invalidRequest, message: "Warden refused a request whose id is already in use by one still in flight."))
            return .withhold
        }
        emit(.notification, [("direction", "server"), ("method", .string(method)), ("request", true)])
        let verdict = contentVerdict(message, channel: method, tool: "", id: id, idKey: "serverRequest")
        if case .withhold = verdict { state.withLock { _ = $0.serverPending.removeValue(forKey: key) } }
        return verdict
    }

    /// A notification from the server: log messages, progress text and resource updates are read
    /// like results; withheld ones are dropped (a notification has no one to answer).
    func serverNotification(_ message: RPCMessage, method: String) -> Verdict {
        if method != "notifications/progress" {
            emit(.notification, [("direction", "server"), ("method", .string(method))])
        }
        return contentVerdict(message, channel: method, tool: "", id: .null)
    }

    /// The client answers a server request: a sampled completion or an elicited form can carry a
    /// secret to the server, so it gets the arguments' DLP. An answer to nothing is dropped.
    func clientAnswer(_ message: RPCMessage) -> Verdict {
        guard let id = message.id, id != .null else {
            // An error the client could not attach to a request still reaches the server: read it.
            return contentVerdict(message, channel: "client error", tool: "", id: .null, toServer: true)
        }
        let method = state.withLock { s -> String? in
            for key in RPCMessage.responseKeys(for: id) { if let m = s.serverPending.removeValue(forKey: key) { return m } }
            return nil
        }
        guard let method else {
            emit(.protocolError, [("direction", "client"), ("problem", "an answer to no server request in flight"), ("serverRequest", id), ("action", "withheld")])
            return .withhold
        }
        return contentVerdict(message, channel: method, tool: "", id: id, idKey: "serverRequest", toServer: true)
    }

    /// Secrets anywhere in what the client sends besides a call's arguments (a resource URI the
    /// model chose, a prompt's arguments, a completion's value, `_meta`): the arguments' DLP.
    func clientSecrets(_ message: RPCMessage, what: String) -> Bool {
        guard let params = message.object["params"] else { return false }
        let secrets = ContentScanner.argumentSecrets(params)
        guard !secrets.isEmpty else { return false }
        let deny = config.policy.dlpArguments == .deny
        reportSecrets(secrets, direction: "arguments", tool: what, id: message.id ?? .null, action: deny ? "denied" : "alerted")
        return deny
    }

    func clientRequest(_ message: RPCMessage) -> Verdict {
        let id = message.id!
        let method = message.method!
        if clientSecrets(message, what: method) {
            refuse(id: id, code: RPCErrorCode.invalidRequest,
                   message: "Warden refused this \(method) request: it carries a secret, and policy forbids sending secrets to server '\(config.serverName)'.")
            return .withhold
        }
        state.withLock { s in
            s.pending[message.idKey!] = Pending(id: id, method: method, tool: nil, startedAt: Self.now())
            if method == "initialize", let params = message.params {
                s.session.clientName = params["clientInfo"]?["name"]?.stringValue
                s.session.clientVersion = params["clientInfo"]?["version"]?.stringValue
                s.session.protocolVersion = params["protocolVersion"]?.stringValue
            }
        }
        return .pass
    }

    func clientNotification(_ message: RPCMessage) -> Verdict {
        let method = message.method!
        if method == "notifications/cancelled", let requestID = message.params?["requestId"] {
            let key = RPCMessage.key(for: requestID)
            let (held, waiting, wardens) = state.withLock { s in
                // The client cannot cancel a request Warden made itself (its own tools/list).
                if s.pending[key]?.purpose != nil { return (Held?.none, Waiting?.none, true) }
                s.pending.removeValue(forKey: key)
                return (s.held.removeValue(forKey: key), s.waiting.removeValue(forKey: key), false)
            }
            if wardens {
                emit(.protocolError, [("direction", "client"), ("problem", "cancels a request Warden made"), ("action", "refused")])
                return .withhold
            }
            if let held {
                held.task?.cancel()
                let reason = message.params?["reason"]?.stringValue ?? "client cancelled the call"
                Task { await authority.withdraw(requestID: held.grantID, reason: reason) }
                emit(.callCancelled, CallFields(id: requestID, tool: held.tool, grantID: held.grantID, reason: reason))
                // The server never saw the call, so it has nothing to cancel.
                return .withhold
            }
            if waiting != nil { return .withhold }
        }
        if method != "notifications/progress" { emit(.notification, [("direction", "client"), ("method", .string(method))]) }
        return clientSecrets(message, what: method) ? .withhold : .pass
    }

    /// Decides a `tools/call` and carries the decision out: the client's own bytes go on only
    /// from here, now or once a grant or a tool list arrives.
    func decideCall(_ message: RPCMessage, raw: UnsafeRawBufferPointer) -> Verdict {
        switch call(message, raw: raw) {
        case .forward: return .pass
        case .refused: return .withhold
        case .hold(let plan):
            hold(plan, release: Reviewed(unchanged: raw))
            return .withhold
        case .needsList:
            awaitToolList(message, raw: Array(raw))
            return .withhold
        }
    }

    /// A call to a tool this session has not reviewed waits while Warden asks the server for its
    /// tool list; the list is reviewed and pinned like one the client asked for (the client does
    /// not see it), then the call is decided against it.
    func awaitToolList(_ message: RPCMessage, raw: [UInt8]) {
        let key = message.idKey!
        let request = state.withLock { s -> (id: String, cursor: String?)? in
            s.waiting[key] = Waiting(message: message, raw: raw)
            guard !s.listing else { return nil }
            s.listing = true
            return (nextWardenID(&s), nil)
        }
        guard let request else { return }
        emit(.notification, [("direction", "warden"), ("method", "tools/list"), ("reason", "a call to a tool this session has not reviewed")])
        sendToolList(id: request.id, cursor: nil, page: 1)
    }

    func nextWardenID(_ s: inout State) -> String {
        s.wardenRequests += 1
        return "warden-\(sessionID)-\(s.wardenRequests)"
    }

    func sendToolList(id: String, cursor: String?, page: Int) {
        state.withLock { s in
            s.pending[RPCMessage.key(for: .string(id))] = Pending(id: .string(id), method: "tools/list", tool: nil, startedAt: Self.now(), purpose: .toolList(page: page))
        }
        var params = JSONObject()
        if let cursor { params["cursor"] = .string(cursor) }
        if !toServer.write(.request(id: id, method: "tools/list", params: params)) { toolListFailed("the server is gone") }
    }

    /// The server answered a request Warden made itself.
    func wardenRequestAnswered(_ purpose: Pending.Purpose, message: RPCMessage) {
        switch purpose {
        case .toolList(let page):
            guard let result = message.object["result"], result["tools"]?.arrayValue != nil else {
                toolListFailed("the server answered Warden's tools/list with \(message.object["error"]?["message"]?.stringValue.map { "an error: \(SafeText.escape($0))" } ?? "no tool list")")
                return
            }
            _ = toolsListed(result)
            // Follow the pages until every waiting call's tool is known (bounded: a server that pages forever is refused).
            let missing = state.withLock { s in s.waiting.values.contains { s.tools[$0.tool] == nil } }
            if missing, let cursor = result["nextCursor"]?.stringValue, page < Self.maxListPages {
                let id = state.withLock { nextWardenID(&$0) }
                sendToolList(id: id, cursor: cursor, page: page + 1)
                return
            }
            let waiting = state.withLock { s in
                defer { s.waiting.removeAll() }
                return Array(s.waiting.values)
            }
            for call in waiting {
                let verdict = call.raw.withUnsafeBytes { decideCall(call.message, raw: $0) }
                if case .pass = verdict { toServer.write(call.raw.withUnsafeBytes { Reviewed(unchanged: $0) }) }
            }
            // Only now: `settle` lets the client's EOF close the server's input once these are written.
            // Calls that arrived meanwhile wait for a list of their own.
            let again = state.withLock { s -> String? in
                guard !s.waiting.isEmpty else { s.listing = false; return nil }
                return nextWardenID(&s)
            }
            if let again { sendToolList(id: again, cursor: nil, page: 1) }
        }
    }

    static let maxListPages = 50

    /// Waits (bounded) until no call waits for a tool list Warden asked for.
    public func settle(timeout: Double) {
        let deadline = Self.now() + UInt64(timeout * 1e9)
        while state.withLock({ (!$0.waiting.isEmpty || $0.listing) && !$0.exited }), Self.now() < deadline { usleep(2000) }
    }

    /// Warden could not learn the tool list: every call waiting for it is refused.
    func toolListFailed(_ why: String) {
        let waiting = state.withLock { s in
            s.listing = false
            defer { s.waiting.removeAll() }
            return Array(s.waiting.values)
        }
        for call in waiting {
            refuseCall(CallFields(id: call.message.id!, tool: call.tool, decision: .unreviewed, rule: "review", reason: why),
                       text: "Warden blocked this call: tool '\(call.tool)' on server '\(config.serverName)' has not been reviewed, and Warden could not get the server's tool list (\(why)). The tool did not run.")
        }
    }
}
