import Foundation
import WardenCore
import WardenDetect
import WardenProtocol

extension Relay {
    /// Reviews every tool in a `tools/list` result against the analysis and its pin. Returns the
    /// result to send instead when some tool must be hidden, `nil` when the original may pass unchanged.
    /// Items that are not tool objects are dropped: there is nothing to review in them.
    func toolsListed(_ result: JSONValue) -> JSONValue? {
        guard let tools = result["tools"]?.arrayValue else { return nil }
        var kept: [JSONValue] = []
        var hidden: [String] = []
        var listed: [JSONValue] = []
        for item in tools {
            guard let raw = item.objectValue, case .string? = raw["name"] else {
                hidden.append("(not a tool)")
                emit(.protocolError, [("direction", "server"), ("problem", "a tools/list item that is not a named tool object"), ("action", "withheld")])
                continue
            }
            let definition = ToolDefinition(raw: raw)
            let name = definition.name
            let review = analyzer.review(definition, server: config.serverName)
            var trusted = pins.record(server: config.serverName, tool: name)
            // A changed definition is recognised by its pin alone; the trusted pin stays until an operator approves the new one.
            if let pinned = trusted, pinned.pin != review.pin {
                let previous = state.withLock { $0.tools[name]?.review.pin }
                if previous != review.pin {
                    emit(.toolChanged, [("tool", .string(name)), ("pin", .string(review.pin)), ("trustedPin", .string(pinned.pin)),
                                        ("definition", .object(raw)), ("trustedDefinition", .object(pinned.definition)),
                                        ("diff", WordDiff.json(WordDiff.definitions(pinned.definition, raw)))])
                }
            } else if trusted == nil {
                // First sight pins the definition (trust on first use); the analysis still judges it.
                trusted = ToolPinRecord(pin: review.pin, definition: raw, quarantined: false)
                pins.save(server: config.serverName, tool: name, record: trusted!)
            }
            let reason = quarantineReason(review, trusted)
            let isNew = state.withLock { s in
                let new = s.tools[name]?.review.pin != review.pin
                s.decisions[name] = nil
                s.tools[name] = ToolState(definition: definition, review: review, quarantineReason: reason)
                return new
            }
            if isNew {
                emit(.toolReviewed, [("tool", .string(name)), ("pin", .string(review.pin)), ("verdict", .string(review.verdict.rawValue)),
                                     ("score", .int(review.score)), ("findings", .array(review.findings.map(Self.json))),
                                     ("definition", .object(raw))])
            }
            listed.append(.string(name))
            if let reason {
                hidden.append(name)
                emit(.toolQuarantined, [("tool", .string(name)), ("pin", .string(review.pin)), ("reason", .string(reason))])
            } else {
                kept.append(item)
            }
        }
        emit(.toolsListed, [("tools", .array(listed)), ("hidden", .array(hidden.map { .string($0) }))])
        guard !hidden.isEmpty, var resultObject = result.objectValue else { return nil }
        resultObject["tools"] = .array(kept)
        Diagnostics.warn(server: config.serverName, "hid \(hidden.count) quarantined tool(s) from the client: \(hidden.map { SafeText.escape($0) }.joined(separator: ", "))")
        return .object(resultObject)
    }

    /// Why a tool must be hidden, or `nil`: an operator's quarantine, a changed definition (when
    /// policy says so), or an analysis verdict at the policy's threshold — unless an operator
    /// approved this exact definition.
    func quarantineReason(_ review: ToolReview, _ trusted: ToolPinRecord?) -> String? {
        if let requirement = config.policy.signatures, requirement.applies(to: config.serverName), review.tool != Self.instructionsName {
            // Signatures outrank everything else: an unsigned tool is not shown, whoever pinned it.
            guard let registry = config.registry, registry.publicKey == requirement.publicKey else {
                return "policy requires signed definitions, but the registry \(requirement.registry) could not be used"
            }
            switch registry.status(server: config.serverName, tool: review.tool, pin: review.pin) {
            case .signed: break
            case .unsigned: return "policy requires a signed definition and this tool is not in the registry"
            case .changed(let signed): return "definition differs from the signed one (signed pin \(signed.prefix(12)), now \(review.pin.prefix(12)))"
            case .badSignature: return "the registry's signature for this tool does not verify"
            }
        }
        if let trusted, trusted.pin == review.pin {
            if trusted.quarantined { return "quarantined by an operator" + (trusted.reason.map { ": \($0)" } ?? "") }
            if trusted.approvedBy != nil { return nil }
        }
        if let trusted, trusted.pin != review.pin, config.policy.quarantineOnChange {
            return "definition changed since it was pinned (possible rug pull); pinned \(trusted.pin.prefix(12)), now \(review.pin.prefix(12))"
        }
        if config.policy.quarantine.quarantines(review.verdict) {
            let rules = Set(review.findings.map(\.rule)).sorted().joined(separator: ", ")
            return "analysis verdict \(review.verdict.rawValue), score \(review.score): \(rules)"
        }
        return nil
    }

    /// The hub changed pins (an operator approved or quarantined a tool): re-read them and re-decide
    /// every known tool now, so calls are refused or allowed without waiting for the next list.
    public func pinsChanged() {
        pins.reload(server: config.serverName)
        if let path = config.controlsPath {
            let controls = Controls.load(path: path)
            state.withLock { $0.controls = controls }
        }
        // Suppressions may have changed too: judge every known definition again.
        let analyzer: ToolAnalyzer? = config.suppressions == nil ? nil : Self.analyzer(config)
        if let analyzer { analyzerState.withLock { $0 = analyzer } }
        let known = state.withLock { $0.tools.mapValues { ($0.definition, $0.review) } }
        var updates: [String: (ToolReview, String?)] = [:]
        for (name, (definition, old)) in known {
            let review = analyzer?.review(definition, server: config.serverName) ?? old
            updates[name] = (review, quarantineReason(review, pins.record(server: config.serverName, tool: name)))
        }
        let visibilityChanged = state.withLock { s in
            var changed = false
            for (name, (review, reason)) in updates {
                if (s.tools[name]?.quarantineReason == nil) != (reason == nil) { changed = true }
                s.tools[name]?.review = review
                s.tools[name]?.quarantineReason = reason
            }
            s.decisions.removeAll()
            return changed
        }
        // A tool was hidden or shown again: tell the client its list changed (MCP server/tools,
        // list_changed), so it lists again instead of working from a stale list.
        if visibilityChanged {
            toClient.write(.notification("notifications/tools/list_changed"))
        }
    }

    /// A finding as events carry it. Its evidence quotes the text it was found in, which can hold
    /// a secret beside the injection (a result that pastes a token into its instructions): the
    /// quote is redacted before it is recorded, as arguments are.
    static func json(_ f: Finding) -> JSONValue {
        var f = f
        let secrets = SecretScanner.scanText(f.evidence)
        if secrets.contains(where: { $0.via != nil }) {
            // Found only in a decoded reading: its place in the quote is not known, so none of it is kept.
            f.evidence = "[withheld: it carries a secret (\(Set(secrets.map(\.kind)).sorted().joined(separator: ", ")))]"
        } else if !secrets.isEmpty {
            let bytes = Array(f.evidence.utf8)
            f.evidence = String(decoding: bytes.withUnsafeBytes { SecretScanner.redact($0, secrets) }, as: UTF8.self)
        }
        return .object(JSONObject(pairs: [
            ("rule", .string(f.rule)), ("severity", .string(f.severity.rawValue)), ("layer", .string(f.layer.rawValue)),
            ("field", .string(f.field)), ("start", .int(f.start)), ("end", .int(f.end)),
            ("evidence", .string(f.evidence)), ("message", .string(f.message)),
        ]))
    }
}
