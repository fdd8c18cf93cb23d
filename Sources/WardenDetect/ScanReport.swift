import WardenCore

/// The result of scanning tool definitions, in the shapes `warden scan` prints.
public struct ScanReport: Sendable {
    public var reviews: [ToolReview]

    public init(reviews: [ToolReview]) { self.reviews = reviews }

    /// The worst verdict, for `--fail-on`.
    public var worst: Verdict { reviews.map(\.verdict).max() ?? .clean }

    /// The JSON contract: `{"tools":[{"server","name","verdict","score","findings":[{rule,severity,field,start,end,evidence,message}]}]}`,
    /// tools in input order.
    public var json: JSONValue {
        .object(["tools": .array(reviews.map { r in
            .object(JSONObject(pairs: [
                ("server", .string(r.server)), ("name", .string(r.tool)), ("verdict", .string(r.verdict.rawValue)), ("score", .int(r.score)),
                ("pin", .string(r.pin)),
                ("findings", .array(r.findings.map { f in
                    .object(JSONObject(pairs: [("rule", .string(f.rule)), ("severity", .string(f.severity.rawValue)), ("layer", .string(f.layer.rawValue)),
                                               ("field", .string(f.field)), ("start", .int(f.start)), ("end", .int(f.end)),
                                               ("evidence", .string(f.evidence)), ("message", .string(f.message))]))
                })),
            ]))
        })])
    }

    /// SARIF 2.1.0: one run, one rule per rule id, one result per finding, located by a logical
    /// location (`server/tool` and the field path), since tool definitions have no source file.
    public func sarif(toolVersion: String) -> JSONValue {
        let ruleIDs = Array(Set(reviews.flatMap { $0.findings.map(\.rule) })).sorted()
        let messages = Dictionary(reviews.flatMap { $0.findings.map { ($0.rule, $0.message) } }, uniquingKeysWith: { a, _ in a })
        let rules: [JSONValue] = ruleIDs.map { id in
            ["id": .string(id), "shortDescription": ["text": .string(messages[id] ?? id)]]
        }
        var results: [JSONValue] = []
        for r in reviews {
            for f in r.findings {
                results.append(.object(JSONObject(pairs: [
                    ("ruleId", .string(f.rule)), ("level", .string(Self.level(f.severity))),
                    ("message", ["text": .string("\(f.message): \(SafeText.escape(f.evidence))")]),
                    ("locations", [["logicalLocations": [["fullyQualifiedName": .string("\(r.server)/\(r.tool)#\(f.field)"), "kind": "member"]]]]),
                    ("properties", ["verdict": .string(r.verdict.rawValue), "score": .int(r.score), "start": .int(f.start), "end": .int(f.end),
                                    "maestroLayer": .string(f.layer.rawValue)]),
                ])))
            }
        }
        return .object(JSONObject(pairs: [
            ("$schema", "https://json.schemastore.org/sarif-2.1.0.json"), ("version", "2.1.0"),
            ("runs", [["tool": ["driver": ["name": "warden", "version": .string(toolVersion), "rules": .array(rules)]],
                       "results": .array(results)]]),
        ]))
    }

    static func level(_ s: Severity) -> String {
        switch s {
        case .info, .low: "note"
        case .medium: "warning"
        case .high, .critical: "error"
        }
    }
}
