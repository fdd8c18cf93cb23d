import Foundation
import WardenCore

/// A rule an operator switched off for one tool, with why, who and when.
public struct Suppression: Sendable, Hashable {
    public var server: String
    public var tool: String
    public var rule: String
    public var reason: String
    public var by: String
    public var at: Double

    public init(server: String, tool: String, rule: String, reason: String, by: String, at: Double) {
        self.server = server
        self.tool = tool
        self.rule = rule
        self.reason = reason
        self.by = by
        self.at = at
    }
}

/// Operator suppressions (`$WARDEN_HOME/suppressions.json`): written by the hub when an operator
/// suppresses a rule for a tool (console `s`, `warden tools suppress`), read by relays at start and
/// whenever the hub says tools changed. They add to the policy file's `analysis.suppress`.
public struct SuppressionFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The suppressions on file; none when there is no file or it cannot be read.
    public func load() -> [Suppression] {
        guard let data = FileManager.default.contents(atPath: path), let value = try? JSONParser.parse(data) else { return [] }
        return (value["suppressions"]?.arrayValue ?? []).compactMap { s in
            guard let server = s["server"]?.stringValue, let tool = s["tool"]?.stringValue, let rule = s["rule"]?.stringValue else { return nil }
            return Suppression(server: server, tool: tool, rule: rule, reason: s["reason"]?.stringValue ?? "", by: s["by"]?.stringValue ?? "", at: s["at"]?.doubleValue ?? 0)
        }
    }

    /// Adds one (replacing an earlier one for the same tool and rule); atomic (temp file and rename), owner-only.
    public func add(_ suppression: Suppression) throws {
        var all = load().filter { !($0.server == suppression.server && $0.tool == suppression.tool && $0.rule == suppression.rule) }
        all.append(suppression)
        let value: JSONValue = ["suppressions": .array(all.map { s in
            ["server": .string(s.server), "tool": .string(s.tool), "rule": .string(s.rule), "reason": .string(s.reason),
             "by": .string(s.by), "at": .number(String(s.at))]
        })]
        try PrivateFile.write(JSONWriter.compactBytes(value), to: path)
    }

    /// `settings` with this file's suppressions for `server` added.
    public func applied(to settings: AnalysisSettings, server: String) -> AnalysisSettings {
        var s = settings
        for item in load() where item.server == server {
            s.suppressedForTool["\(item.server)/\(item.tool)", default: []].insert(item.rule)
            s.reasons["\(item.server)/\(item.tool)#\(item.rule)"] = item.reason
        }
        return s
    }
}

extension ToolAnalyzer {
    /// Score and verdict for a set of findings under these thresholds (used to re-judge a stored
    /// review after a suppression without the definition's text).
    public func judge(_ findings: [Finding]) -> (score: Int, verdict: Verdict) {
        let score = Self.score(findings)
        return (score, score >= maliciousAt ? .malicious : score >= suspiciousAt ? .suspicious : .clean)
    }
}
