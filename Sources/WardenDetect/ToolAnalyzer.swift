import WardenCore

/// Analyses whole tool definitions: every string in the name, title, description, schemas and
/// annotations goes through every rule; findings are scored into a verdict.
public struct ToolAnalyzer: Sendable {
    public let rules: [DetectionRule]
    /// Score at or above which a tool is `suspicious`.
    public var suspiciousAt = 25
    /// Score at or above which a tool is `malicious`.
    public var maliciousAt = 60

    /// Suppressions from policy.
    public var settings = AnalysisSettings()

    /// The rules that can find something in a bare identifier.
    let identifierActive: [DetectionRule]

    public init(rules: [DetectionRule] = RuleSet.builtIn, settings: AnalysisSettings = AnalysisSettings()) {
        self.rules = rules
        identifierActive = rules.filter { Self.identifierRules.contains($0.id) }
        self.settings = settings
        suspiciousAt = settings.suspiciousAt
        maliciousAt = settings.maliciousAt
    }

    /// Reviews one definition as listed by `server`.
    public func review(_ definition: ToolDefinition, server: String) -> ToolReview {
        var findings: [Finding] = []
        let suppressing = !settings.suppressedRules.isEmpty || !settings.suppressedForTool.isEmpty
        let active = suppressing ? rules.filter { !settings.suppresses(rule: $0.id, server: server, tool: definition.name) } : rules
        // Bare identifiers (property names, enum values, most tool names) can only name a sensitive
        // file (`id_rsa`, `.env`): the other rules need words, spaces or punctuation they lack.
        let forIdentifiers = suppressing ? active.filter { Self.identifierRules.contains($0.id) } : identifierActive
        for text in Self.texts(of: definition.raw) {
            for rule in text.isIdentifier ? forIdentifiers : active { findings.append(contentsOf: rule.findings(in: text)) }
        }
        // A string too long to be read whole cannot be reviewed: that alone quarantines.
        findings += Self.unreviewable(definition.raw)
        if !suppressing || !settings.suppresses(rule: SchemaAnomalies.ruleID, server: server, tool: definition.name) {
            findings.append(contentsOf: SchemaAnomalies.findings(in: definition.raw))
        }
        let score = Self.score(findings)
        let verdict: Verdict = score >= maliciousAt ? .malicious : score >= suspiciousAt ? .suspicious : .clean
        return ToolReview(server: server, tool: definition.name, pin: ToolPin.digest(of: definition.raw),
                          findings: findings, score: score, verdict: verdict)
    }

    /// 0–100: each rule counts once, at the weight of its severity.
    static func score(_ findings: [Finding]) -> Int {
        var byRule: [String: Severity] = [:]
        for f in findings { byRule[f.rule] = max(byRule[f.rule] ?? .info, f.severity) }
        let total = byRule.values.reduce(0) { sum, s in sum + weight(s) }
        return min(100, total)
    }

    static func weight(_ severity: Severity) -> Int {
        switch severity {
        case .info: 0
        case .low: 5
        case .medium: 20
        case .high: 40
        case .critical: 70
        }
    }

    static let identifierRules: Set<String> = ["resource.sensitive", "payload.encoded", "unicode.mixed-script"]

    /// Strings longer than `AnalyzedText.maxScalars`, as critical findings: no honest definition
    /// needs a quarter of a million characters, and text past the limit would go unread.
    static func unreviewable(_ definition: JSONObject) -> [Finding] {
        var out: [Finding] = []
        func walk(_ v: JSONValue, path: String) {
            switch v {
            case .string(let s):
                guard s.utf8.count > AnalyzedText.maxScalars, s.unicodeScalars.count > AnalyzedText.maxScalars else { return }
                out.append(Finding(rule: "size.unreviewable", severity: .critical, layer: .foundationModels, field: path, start: 0, end: 0, evidence: "",
                                   message: "a string of \(s.unicodeScalars.count) characters, longer than Warden reads in a definition (\(AnalyzedText.maxScalars))"))
            case .array(let items): for (i, x) in items.enumerated() { walk(x, path: path + "[\(i)]") }
            case .object(let o): for (k, x) in o.members { walk(x, path: path.isEmpty ? k : path + "." + k) }
            default: break
            }
        }
        walk(.object(definition), path: "")
        return out
    }

    /// Member names MCP definitions and JSON Schema define: nothing to analyse in them.
    static let keywords: Set<String> = [
        "name", "title", "description", "inputSchema", "outputSchema", "annotations", "_meta", "icons", "type", "properties", "required",
        "items", "enum", "default", "examples", "const", "format", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
        "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "additionalProperties", "patternProperties", "propertyNames",
        "$schema", "$id", "$ref", "$defs", "definitions", "$comment", "$anchor", "anyOf", "oneOf", "allOf", "not", "if", "then", "else",
        "readOnly", "writeOnly", "deprecated", "multipleOf", "contains", "minContains", "maxContains", "minProperties", "maxProperties",
        "dependentRequired", "dependentSchemas", "prefixItems", "unevaluatedProperties", "unevaluatedItems", "contentEncoding",
        "contentMediaType", "contentSchema", "nullable", "readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint",
        "src", "mimeType", "sizes", "theme", "execution", "taskSupport",
    ]

    static let schemaTypes: Set<String> = ["string", "number", "integer", "boolean", "object", "array", "null"]

    /// Every string in a definition with its field path (keys of schema properties included:
    /// a parameter's name is text the model reads too).
    public static func texts(of definition: JSONObject) -> [AnalyzedText] {
        var out: [AnalyzedText] = []
        // `key` is the member name the value sits under: cheaper than asking the path about its end.
        func walk(_ value: JSONValue, path: String, key: String) {
            switch value {
            case .string(let s):
                // A schema's `"type": "string"` says nothing to anyone; any other `type` text is analysed.
                if key == "type", schemaTypes.contains(s) { return }
                out.append(AnalyzedText(field: path, text: s))
            case .array(let items):
                for (i, item) in items.enumerated() { walk(item, path: path + "[" + String(i) + "]", key: key) }
            case .object(let o):
                let names = key == "properties"
                for (k, v) in o.members {
                    let child = path.isEmpty ? k : path + "." + k
                    if names {
                        out.append(AnalyzedText(field: child + "(name)", text: k))
                    } else if !Self.keywords.contains(k) {
                        // Any other key a schema or definition invents (`$defs` names, vendor members)
                        // is text a model reads as well: a place to hide a sentence.
                        out.append(AnalyzedText(field: child + "(key)", text: k))
                    }
                    walk(v, path: child, key: k)
                }
            case .null, .bool, .number: break
            }
        }
        walk(.object(definition), path: "", key: "")
        return out
    }
}
