import WardenCore

/// Looks for the same injection families in tool *results* that the analysis looks for in
/// definitions: a web page, file or API response a tool returns is text the model reads next
/// ("tool output injection").
public enum ResultScanner {
    /// Findings in the text blocks of a `tools/call` result (`content[].text`, embedded resources'
    /// `text`); fields are named like `content[2].text`. Only those blocks, each up to
    /// `AnalyzedText.maxScalars`: the relay reads every string of a message with `ContentScanner`.
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
