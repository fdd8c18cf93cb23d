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
    func catalogueListed(_ result: JSONValue, key: String) -> JSONValue? {
        guard let items = result[key]?.arrayValue else { return nil }
        let prefix = key == "prompts" ? "prompt:" : "resource:"
        var kept: [JSONValue] = []
        var removed = 0
        for item in items {
            // Not an item object: nothing to review in it, so the client does not get it.
            guard let raw = item.objectValue else { removed += 1; continue }
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
        guard removed > 0, var resultObject = result.objectValue else { return nil }
        resultObject[key] = .array(kept)
        Diagnostics.warn(server: config.serverName, "hid \(removed) \(key) whose descriptions carry instructions for the model")
        return .object(resultObject)
    }
}
