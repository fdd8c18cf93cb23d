/// One thing the analysis found in a tool definition (or a message), with the evidence to show a person.
public struct Finding: Sendable, Hashable, Codable {
    /// Stable rule identifier, e.g. `instruction.override`.
    public var rule: String
    public var severity: Severity
    public var layer: MaestroLayer
    /// Where in the definition: `description`, `inputSchema.properties.path.description`, `name`.
    public var field: String
    /// Evidence span as offsets (in Unicode scalars) into the field's original text.
    public var start: Int
    public var end: Int
    /// The evidence text itself (raw; escape it before display).
    public var evidence: String
    /// One line a person can act on.
    public var message: String

    public init(rule: String, severity: Severity, layer: MaestroLayer, field: String, start: Int, end: Int, evidence: String, message: String) {
        self.rule = rule
        self.severity = severity
        self.layer = layer
        self.field = field
        self.start = start
        self.end = end
        self.evidence = evidence
        self.message = message
    }
}

/// The analysis of one tool definition: its pin, findings, score and verdict.
public struct ToolReview: Sendable, Hashable {
    public var server: String
    public var tool: String
    /// Hex SHA-256 of the definition's canonical JSON.
    public var pin: String
    public var findings: [Finding]
    /// 0 (nothing found) to 100.
    public var score: Int
    public var verdict: Verdict

    public init(server: String, tool: String, pin: String, findings: [Finding], score: Int, verdict: Verdict) {
        self.server = server
        self.tool = tool
        self.pin = pin
        self.findings = findings
        self.score = score
        self.verdict = verdict
    }
}
