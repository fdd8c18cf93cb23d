import WardenCore

/// Looks for the same injection families in tool *results* that the analysis looks for in
/// definitions: a web page, file or API response a tool returns is text the model reads next
/// ("tool output injection").
public enum ResultScanner {
    /// Results larger than this are not scanned (the relay stays fast on multi-MiB results); the text
    /// scanned per result is bounded by `AnalyzedText.maxScalars` per block too.
    public static let maxBytes = 1 << 20

    /// Findings in the text blocks of a `tools/call` result (`content[].text`, embedded resources'
    /// `text`); fields are named like `content[2].text`.
    public static func injections(in result: JSONValue) -> [Finding] {
        guard let content = result["content"]?.arrayValue else { return [] }
        var findings: [Finding] = []
        for (i, block) in content.enumerated() {
            if let text = block["text"]?.stringValue {
                findings += scan(AnalyzedText(field: "content[\(i)].text", text: text))
            } else if let text = block["resource"]?["text"]?.stringValue {
                findings += scan(AnalyzedText(field: "content[\(i)].resource.text", text: text))
            }
        }
        return findings
    }

    static func scan(_ text: AnalyzedText) -> [Finding] {
        RuleSet.resultRules.flatMap { $0.findings(in: text) }
    }
}
