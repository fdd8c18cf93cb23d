import Foundation
import WardenCore
import WardenDetect
import WardenProtocol

/// Text the model reads besides tool definitions: prompt and resource descriptions, and tool results.
extension Relay {
    /// List methods whose items carry descriptions the model reads, with the result key of the items.
    static let catalogues = ["prompts/list": "prompts", "resources/list": "resources", "resources/templates/list": "resourceTemplates"]

    /// Reviews every prompt or resource in a list result like a tool definition (name, title,
    /// description, prompt arguments). Items the policy would quarantine are removed from what the
    /// client sees; findings become `tool.reviewed` events under `prompt:NAME` / `resource:NAME`.
    func catalogueListed(_ result: JSONValue, key: String, message: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let items = result[key]?.arrayValue else { return nil }
        let prefix = key == "prompts" ? "prompt:" : "resource:"
        var kept: [JSONValue] = []
        var removed = 0
        for item in items {
            guard let raw = item.objectValue else { kept.append(item); continue }
            let label = prefix + (raw["name"]?.stringValue ?? raw["uri"]?.stringValue ?? raw["uriTemplate"]?.stringValue ?? "?")
            var pseudo = raw
            pseudo["name"] = .string(label)
            let review = analyzer.review(ToolDefinition(raw: pseudo), server: config.serverName)
            guard review.verdict != .clean else { kept.append(item); continue }
            let isNew = state.withLock { s in
                let new = s.catalogue[label] != review.pin
                s.catalogue[label] = review.pin
                return new
            }
            if isNew {
                emit(.toolReviewed, [("tool", .string(label)), ("pin", .string(review.pin)), ("verdict", .string(review.verdict.rawValue)),
                                     ("score", .int(review.score)), ("findings", .array(review.findings.map(Self.json))), ("definition", .object(raw))])
            }
            if config.policy.quarantine.quarantines(review.verdict) {
                removed += 1
                emit(.toolQuarantined, [("tool", .string(label)), ("pin", .string(review.pin)),
                                        ("reason", .string("analysis verdict \(review.verdict.rawValue), score \(review.score)"))])
            } else {
                kept.append(item)
            }
        }
        guard removed > 0, var object = try? JSONParser.parse(message).objectValue, var resultObject = object["result"]?.objectValue else { return nil }
        resultObject[key] = .array(kept)
        object["result"] = .object(resultObject)
        Diagnostics.warn(server: config.serverName, "hid \(removed) \(key) whose descriptions carry instructions for the model")
        return RPCReply.line(.object(object))
    }

    /// Scans a call result's text for instructions aimed at the model. Returns the reply to send
    /// instead when policy withholds such results, `nil` to let the result through.
    func reviewResult(_ resultBytes: UnsafeRawBufferPointer, id: JSONValue, tool: String) -> [UInt8]? {
        guard Self.mayCarryText(resultBytes), let result = try? JSONParser.parse(resultBytes) else { return nil }
        let findings = ResultScanner.injections(in: result)
        guard !findings.isEmpty else { return nil }
        let deny = config.policy.dlpInjection == .deny
        let rules = Set(findings.map(\.rule)).sorted()
        emit(.resultInjection, [("id", id), ("tool", .string(tool)), ("action", .string(deny ? "withheld" : "alerted")),
                                ("rules", .array(rules.map { .string($0) })), ("findings", .array(findings.prefix(20).map(Self.json)))])
        Diagnostics.warn(server: config.serverName, "the result of \(tool) carries instructions for the model (\(rules.joined(separator: ", ")))\(deny ? "; withheld" : "")")
        guard deny else { return nil }
        let meta = JSONObject(pairs: [("decision", "withheld"), ("server", .string(config.serverName)), ("tool", .string(tool)),
                                      ("rules", .array(rules.map { .string($0) }))])
        return RPCReply.toolError(id: id, text: "Warden withheld the result of '\(tool)' on MCP server '\(config.serverName)': it carries instructions aimed at the model (\(rules.joined(separator: ", "))).", meta: meta)
    }

    /// A cheap look at the raw bytes before anything is parsed: results without a `"text"` member
    /// (images, empty results) are skipped.
    static func mayCarryText(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let needle: [UInt8] = Array(#""text""#.utf8)
        guard bytes.count >= needle.count else { return false }
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == 0x22, bytes[i + 1] == 0x74, bytes[i + 2] == 0x65, bytes[i + 3] == 0x78, bytes[i + 4] == 0x74, bytes[i + 5] == 0x22 { return true }
            i += 1
        }
        return false
    }
}
