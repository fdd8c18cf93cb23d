import Foundation
import Synchronization
import WardenCore
import WardenDetect
import WardenProtocol

extension Relay {
    /// What to do with a `tools/call`.
    enum CallOutcome {
        case forward
        /// Answered here; the server never sees it.
        case refused
        /// Held until an operator decides.
        case hold(HoldPlan)
        /// The session has not reviewed this tool: Warden asks the server for its list first.
        case needsList
    }

    /// A held call's particulars.
    struct HoldPlan {
        var message: RPCMessage
        var id: JSONValue
        var key: String
        var tool: String
        var arguments: JSONValue
        var decision: PolicyDecision
        var shape: CallShape
        var destination: String?
    }

    /// Decides a `tools/call`: forward it, refuse it, or hold it for a grant. A call is judged
    /// against everything Warden knows: this session's review of the tool, and, for a tool it has
    /// not reviewed, the server's current list (`needsList`) and the tool's persistent pin.
    func call(_ message: RPCMessage, raw: UnsafeRawBufferPointer) -> CallOutcome {
        let id = message.id!
        let key = message.idKey!
        let params = message.params ?? JSONObject()
        guard case .string(let tool)? = params["name"] else {
            refuseCall(CallFields(id: id, tool: "", decision: .invalid, rule: "protocol"),
                       text: "Warden refused this call: it names no tool (\"params.name\" must be a string).")
            return .refused
        }
        let arguments = params["arguments"] ?? .object(JSONObject())
        var known = state.withLock { $0.tools[tool] }
        if known == nil {
            let waited = state.withLock { $0.listedFor.contains(key) }
            guard waited else {
                state.withLock { _ = $0.listedFor.insert(key) }
                return .needsList
            }
            state.withLock { _ = $0.listedFor.remove(key) }
            // Listed and still unknown. A tool the server does not list has no definition to review;
            // what Warden knows about it from earlier sessions decides (an operator's quarantine stays).
            if let record = pins.record(server: config.serverName, tool: tool) {
                let definition = ToolDefinition(raw: record.definition)
                let review = analyzer.review(definition, server: config.serverName)
                known = ToolState(definition: definition, review: review, quarantineReason: quarantineReason(review, record))
            }
            if known?.quarantineReason == nil {
                refuseCall(CallFields(id: id, tool: tool, decision: .unreviewed, rule: "review", reason: "not in the server's tool list"), arguments: arguments,
                           text: "Warden blocked this call: server '\(config.serverName)' does not list a tool named '\(SafeText.escape(tool))', so Warden has no definition of it to review. The tool did not run.")
                return .refused
            }
        }
        if let reason = known?.quarantineReason {
            refuseCall(CallFields(id: id, tool: tool, decision: .quarantined, rule: "quarantine", reason: reason), arguments: arguments,
                       text: "Warden blocked this call: tool '\(tool)' on server '\(config.serverName)' is quarantined (\(reason)). The tool did not run. An operator can review it with `warden tools show \(config.serverName)/\(tool)`.")
            return .refused
        }
        let found = Destinations.find(in: arguments)
        state.withLock { _ = $0.listedFor.remove(key) }
        if let reason = state.withLock({ $0.controls.blocked[config.serverName] }) {
            refuseCall(CallFields(id: id, tool: tool, decision: .blocked, rule: "controls.blocked", reason: reason), arguments: arguments,
                       text: "Warden blocked this call: server '\(config.serverName)' is blocked by an operator (\(reason)). The tool did not run.")
            return .refused
        }
        if let refusal = overLimit(tool: tool) {
            refuseCall(CallFields(id: id, tool: tool, decision: .deniedRateLimit, rule: "limits", reason: refusal.reason, limit: refusal.limit), arguments: arguments,
                       text: "Warden blocked this call: \(refusal.reason) on server '\(config.serverName)'. The tool did not run; slow down and try again.")
            return .refused
        }
        var egressHold: String?
        if !found.network.isEmpty {
            let lockdown = state.withLock { $0.controls.egressLockdown.contains(config.serverName) }
            for destination in found.network {
                switch config.policy.egress.decide(server: config.serverName, destination: destination, lockdown: lockdown) {
                case .allow: continue
                case .deny:
                    refuseCall(CallFields(id: id, tool: tool, decision: .deniedEgress, rule: "egress", destination: destination), arguments: arguments,
                               text: "Warden blocked this call: tool '\(tool)' on server '\(config.serverName)' would reach \(destination), which is not an allowed destination\(lockdown ? " (egress is locked down by an incident playbook)" : ""). The tool did not run.")
                    return .refused
                case .grant:
                    egressHold = egressHold ?? destination
                }
            }
        }
        // The whole of params: arguments, and `_meta` or anything else the server will receive.
        let secrets = ContentScanner.argumentSecrets(.object(params))
        if !secrets.isEmpty {
            let deny = config.policy.dlpArguments == .deny
            reportSecrets(secrets, direction: "arguments", tool: tool, id: id, action: deny ? "denied" : "alerted")
            if deny {
                let kinds = Set(secrets.map(\.kind)).sorted().joined(separator: ", ")
                refuseCall(CallFields(id: id, tool: tool, decision: .deniedSecret, rule: "dlp.arguments", secretKinds: kinds), arguments: arguments,
                           text: "Warden blocked this call: its arguments to tool '\(tool)' on server '\(config.serverName)' contain a secret (\(kinds)), and policy forbids sending secrets to tools. The tool did not run.")
                return .refused
            }
        }
        // Judged only for calls that may go on: a refused call has nothing left to judge.
        let priors = CallPriors.judge(arguments: arguments, hosts: found.network, schema: known?.definition.raw["inputSchema"]?.objectValue)
        let shape = CallShape(bytes: raw.count, keys: (arguments.objectValue?.keys ?? []).sorted(), hosts: found.network, paths: found.paths,
                              priors: priors, pin: known?.review.pin)
        var decision = decide(tool: tool, definition: known?.definition)
        if let destination = egressHold, decision.action == .allow {
            // A destination outside the allow list, under `default: grant`: a person decides.
            decision.action = .grant
            decision.rule = "egress"
            decision.reason = "reaches \(destination), outside the allowed destinations"
        }
        switch decision.action {
        case .allow:
            // Recorded with the outcome when the server answers (`call.completed`); what the priors
            // found, as it leaves.
            state.withLock { $0.pending[key] = Pending(id: id, method: "tools/call", tool: tool, startedAt: Self.now(), decision: .allowed, rule: decision.rule, shape: shape) }
            forwarded(id: id, tool: tool, decision: .allowed, rule: decision.rule, shape: shape)
            return .forward
        case .deny:
            let why = decision.reason.map { ": \($0)" } ?? ""
            refuseCall(CallFields(id: id, tool: tool, decision: .deniedByPolicy, rule: decision.rule), arguments: arguments,
                       text: "Warden blocked this call: policy rule \(decision.rule) (\(config.policy.source)) denies tool '\(tool)' on server '\(config.serverName)'\(why). The tool did not run.")
            return .refused
        case .grant:
            return .hold(HoldPlan(message: message, id: id, key: key, tool: tool, arguments: arguments, decision: decision, shape: shape, destination: egressHold))
        }
    }

    /// Holds a call for an operator's grant; `release` is the call as the client sent it, written
    /// to the server only if the grant is approved.
    func hold(_ plan: HoldPlan, release: Reviewed) {
        let (message, id, key, tool, arguments, decision, shape, destination) =
            (plan.message, plan.id, plan.key, plan.tool, plan.arguments, plan.decision, plan.shape, plan.destination)
        let now = Date().timeIntervalSince1970
        let session = self.session
        let request = GrantRequest(
            id: "g-" + RandomHex.make(bytes: 6), sessionID: sessionID, client: session.clientLabel, server: config.serverName, tool: tool,
            arguments: JSONWriter.compact(arguments), argumentDigest: ToolPin.digest(of: arguments), rule: decision.rule,
            reason: decision.reason, requestedAt: now, deadline: now + decision.grant.timeout, maxTTL: decision.grant.maxTTL)
        let progressToken = message.params?["_meta"]?["progressToken"]
        state.withLock { s in
            s.held[key] = Held(grantID: request.id, tool: tool, task: nil,
                               pending: Pending(id: id, method: "tools/call", tool: tool, startedAt: Self.now(), shape: shape))
        }
        emit(.callHeld, CallFields(id: id, tool: tool, rule: decision.rule, grantID: request.id, argumentDigest: request.argumentDigest,
                                   arguments: Self.shownArguments(request.arguments), destination: destination, deadline: request.deadline))
        let task = Task { [self] in
            await awaitDecision(key: key, id: id, request: request, release: release, progressToken: progressToken)
        }
        state.withLock { s in s.held[key]?.task = task }
    }

    func awaitDecision(key: String, id: JSONValue, request: GrantRequest, release: Reviewed, progressToken: JSONValue?) async {
        let progress = progressToken.map { token in
            Task { [self] in
                var n = 0
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(config.progressInterval))
                    guard !Task.isCancelled, state.withLock({ $0.held[key] != nil }) else { return }
                    n += 1
                    let left = max(0, Int(request.deadline - Date().timeIntervalSince1970))
                    toClient.write(.progress(token: token, progress: n,
                        message: "Waiting for an operator to approve '\(request.tool)' on '\(config.serverName)' (grant \(request.id), \(left)s left)"))
                }
            }
        }
        defer { progress?.cancel() }
        let wait = max(0, request.deadline - Date().timeIntervalSince1970) + config.grantGrace
        let outcome = await firstOf(timeout: wait, fallback: .expired(grantID: request.id)) { [authority] in
            await authority.requestGrant(request)
        }
        // Cancelled by the client, or the server exited: someone else has answered already. A refused
        // call leaves the pending table in the same step, before it is answered: once the client has
        // its answer it may close, the server exit, and `serverExited` must not answer it again.
        let approved = if case .approved = outcome { true } else { false }
        // A held call is not in the pending table: the server never saw it, so nothing it sends can
        // answer it. Approved, it enters the table in the same step, before it is written.
        let mine = state.withLock { s -> (Bool, CallShape?) in
            guard let held = s.held.removeValue(forKey: key) else { return (false, nil) }
            if approved {
                var pending = held.pending
                pending.decision = .approved
                pending.rule = request.rule
                s.pending[key] = pending
            }
            return (true, held.pending.shape)
        }
        guard mine.0 else { return }
        let heldShape = mine.1
        let tool = request.tool
        let server = config.serverName
        switch outcome {
        case .approved(let info):
            // With the arguments: a session or server grant lets calls through that nobody saw held,
            // and these records are how the operator sees what it let through.
            emit(.callDecided, CallFields(id: id, tool: tool, decision: .approved, rule: request.rule, grantID: info.grantID, decidedBy: info.decidedBy,
                                          argumentDigest: request.argumentDigest, arguments: Self.shownArguments(request.arguments)))
            if let shape = heldShape { forwarded(id: id, tool: tool, decision: .approved, rule: request.rule, shape: shape) }
            if !toServer.write(release) {
                state.withLock { _ = $0.pending.removeValue(forKey: key) }
                toClient.write(.error(id: id, code: RPCErrorCode.serverExited, message: "MCP server '\(server)' is gone; the approved call could not be delivered."))
            }
            return
        case .denied(let info):
            let why = info.reason.map { ": \"\($0)\"" } ?? ""
            refuseCall(CallFields(id: id, tool: tool, decision: .denied, rule: request.rule, grantID: info.grantID, decidedBy: info.decidedBy, reason: info.reason ?? ""),
                       text: "Warden blocked this call: \(info.decidedBy) denied access to tool '\(tool)' on server '\(server)' (grant \(info.grantID))\(why). The tool did not run.")
        case .expired(let grantID):
            refuseCall(CallFields(id: id, tool: tool, decision: .expired, rule: request.rule, grantID: request.id),
                       text: "Warden blocked this call: no operator approved access to tool '\(tool)' on server '\(server)' within \(DurationText.format(seconds: request.deadline - request.requestedAt)) (grant \(grantID), policy rule \(request.rule)). The tool did not run; an operator can approve it in `warden console`, then retry.")
        case .unavailable(let reason):
            refuseCall(CallFields(id: id, tool: tool, decision: .unavailable, rule: request.rule, grantID: request.id, reason: reason),
                       text: "Warden blocked this call: tool '\(tool)' on server '\(server)' needs an operator's approval (policy rule \(request.rule)), but \(reason). Failing closed: the tool did not run.")
        }
    }

    /// Policy for a call, cached per tool: the same tool is decided the same way until its
    /// definition changes (the cache is cleared whenever a tool list is reviewed).
    func decide(tool: String, definition: ToolDefinition?) -> PolicyDecision {
        if let cached = state.withLock({ $0.decisions[tool] }) { return cached }
        let decision = config.policy.decide(server: config.serverName, tool: tool, definition: definition)
        state.withLock { $0.decisions[tool] = decision }
        return decision
    }

    /// The limit a new call would break (`limits:` in policy), counting it if none.
    func overLimit(tool: String) -> (reason: String, limit: Int)? {
        let limits = config.policy.limits
        guard !limits.isEmpty else { return nil }
        let now = Date().timeIntervalSince1970
        return state.withLock { s -> (String, Int)? in
            if let cap = limits.concurrent {
                let inFlight = s.pending.values.reduce(0) { $0 + ($1.method == "tools/call" ? 1 : 0) }
                if inFlight >= cap { return ("\(inFlight) calls are already running (limit \(cap) at once)", cap) }
            }
            if let cap = limits.perMinute {
                s.recentCalls.removeFirst(s.recentCalls.prefix { now - $0 >= 60 }.count)
                if s.recentCalls.count >= cap { return ("\(s.recentCalls.count) calls in the last minute (limit \(cap) a minute)", cap) }
            }
            if let toolLimit = limits.tools.first(where: { $0.tool.matches(tool) }) {
                var times = s.recentByTool[tool] ?? []
                times.removeFirst(times.prefix { now - $0 >= 60 }.count)
                if times.count >= toolLimit.perMinute {
                    s.recentByTool[tool] = times
                    return ("\(times.count) calls of \(tool) in the last minute (limit \(toolLimit.perMinute) a minute)", toolLimit.perMinute)
                }
                times.append(now)
                s.recentByTool[tool] = times
            }
            if limits.perMinute != nil { s.recentCalls.append(now) }
            return nil
        }
    }

    /// Records what the priors found in a call going to the server, and where it goes (for beacons).
    func forwarded(id: JSONValue, tool: String, decision: CallDecision, rule: String, shape: CallShape) {
        guard !shape.priors.isEmpty || !shape.hosts.isEmpty else { return }
        emit(.callForwarded, CallFields(id: id, tool: tool, decision: decision, rule: rule, targets: shape.hosts, priors: shape.priors, pin: shape.pin))
    }

    /// Answers a call Warden will not forward, and records why.
    /// The event carries the call's arguments (secrets redacted, cut at 2 KiB) when they are
    /// known, so the operator can see what a refused call tried to do. The client's `_meta` says
    /// the decision and its particulars, never the arguments.
    func refuseCall(_ call: CallFields, arguments: JSONValue? = nil, text: String) {
        var meta = JSONObject(pairs: [("decision", .string(call.decision?.rawValue ?? "")), ("server", .string(config.serverName)), ("tool", .string(call.tool)),
                                      ("rule", .string(call.rule ?? ""))])
        for (k, v) in call.pairs where Self.metaKeys.contains(k) { meta[k] = v }
        toClient.write(.toolError(id: call.id, text: text, meta: meta))
        var call = call
        if let arguments { call.arguments = Self.recordedArguments(arguments, refusedForSecret: call.decision == .deniedSecret) }
        emit(.callDecided, call)
    }

    /// What a refused call's particulars add to the client's `_meta`.
    static let metaKeys: Set<String> = ["grantId", "decidedBy", "reason", "destination", "limit", "kinds"]

    /// What a refused call's event keeps of its arguments. Redaction works string by string, but
    /// the argument scan also finds secrets across strings and in numbers, and a value under a
    /// credential-like key may be one no scanner recognises: then (and when the call was refused
    /// for a secret) only the keys and the size are kept.
    static func recordedArguments(_ arguments: JSONValue, refusedForSecret: Bool) -> String {
        let redacted = ContentScanner.redacting(arguments)
        if refusedForSecret || hasCredentialKey(arguments) || !ContentScanner.argumentSecrets(redacted).isEmpty {
            let keys = (arguments.objectValue?.keys ?? []).sorted().joined(separator: ", ")
            return "[withheld: they carry a secret; keys \(keys.isEmpty ? "-" : keys), \(JSONWriter.compactBytes(arguments).count) bytes]"
        }
        return shownArguments(JSONWriter.compact(redacted))
    }

    static let credentialWords = ["pass", "secret", "token", "key", "auth", "cred", "cookie", "session", "bearer", "private"]

    /// Whether any key, at any depth, names a credential (`password`, `api_key`, `Authorization`).
    static func hasCredentialKey(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let o):
            o.members.contains { k, v in
                let key = k.lowercased()
                return credentialWords.contains { key.contains($0) } || hasCredentialKey(v)
            }
        case .array(let items): items.contains(where: hasCredentialKey)
        default: false
        }
    }
}

/// Runs `operation`, but answers `fallback` if it has not finished within `timeout` seconds.
/// Unlike a task group this does not wait for an operation that ignores cancellation.
func firstOf<T: Sendable>(timeout: Double, fallback: T, _ operation: @escaping @Sendable () async -> T) async -> T {
    let done = Mutex(false)
    let claim: @Sendable () -> Bool = { done.withLock { was in defer { was = true }; return !was } }
    return await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        let work = Task {
            let value = await operation()
            if claim() { continuation.resume(returning: value) }
        }
        Task {
            try? await Task.sleep(for: .seconds(timeout))
            if claim() {
                continuation.resume(returning: fallback)
                work.cancel()
            }
        }
    }
}

extension Relay {
    /// A call's arguments as events carry them for the operator: the compact JSON, cut at 2 KiB
    /// (the digest names the whole), so a huge argument cannot bloat the event log.
    static func shownArguments(_ compact: String) -> String {
        let limit = 2048
        let utf8 = compact.utf8
        guard utf8.count > limit else { return compact }
        // At a character's first byte, so the cut leaves no broken character.
        var end = utf8.index(utf8.startIndex, offsetBy: limit)
        while end > utf8.startIndex, utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return String(compact[..<end]) + "… (cut: \(utf8.count) bytes in all)"
    }
}
