import WardenCore

/// One analysis rule: an id, how serious a hit is, and how it finds hits in a text.
public final class DetectionRule: Sendable {
    public let id: String
    public let severity: Severity
    public let layer: MaestroLayer
    /// One line a person can act on.
    public let message: String
    let finder: @Sendable (AnalyzedText) -> [(range: Range<Int>, note: String?)]
    /// Character classes a text needs (any of them) for this rule to have anything to find.
    let requires: AnalyzedText.Traits
    /// A phrase rule's patterns (empty for rules with their own finder): `ResultScreen` reads their anchors.
    let patterns: [PhrasePattern]

    init(id: String, severity: Severity, layer: MaestroLayer, message: String, requires: AnalyzedText.Traits = [], patterns: [PhrasePattern] = [],
         finder: @escaping @Sendable (AnalyzedText) -> [(range: Range<Int>, note: String?)]) {
        self.id = id
        self.patterns = patterns
        self.severity = severity
        self.layer = layer
        self.message = message
        self.requires = requires
        self.finder = finder
    }

    /// A rule that fires on any of the phrase patterns.
    static func phrases(_ id: String, _ severity: Severity, _ layer: MaestroLayer, _ message: String, _ patterns: [PhrasePattern]) -> DetectionRule {
        let start = PhrasePattern.Step(patterns.flatMap { $0.steps.first ?? [] })
        return DetectionRule(id: id, severity: severity, layer: layer, message: message, patterns: patterns) { text in
            // Most texts have no word that can begin any of the rule's phrases: one pass over the
            // word ids settles that before any pattern runs.
            guard start.occurs(in: text) else { return [] }
            var hits: [(range: Range<Int>, note: String?)] = []
            for p in patterns {
                for r in p.matches(in: text) { hits.append((r, nil)) }
            }
            return hits
        }
    }

    /// One rule reports at most this many findings per text: a hostile 1 MiB result can hold
    /// thousands of hits of one rule, and each finding copies its evidence.
    public static let maxFindingsPerText = 100

    /// Runs the rule on a text.
    /// The longest evidence a finding quotes, in scalars.
    public static let maxEvidence = 512

    public func findings(in text: AnalyzedText) -> [Finding] {
        if !requires.isEmpty && text.traits.isDisjoint(with: requires) { return [] }
        return finder(text).prefix(Self.maxFindingsPerText).map { hit in
            // The range says where the whole hit is; the evidence quotes its start. A hit can run
            // to the end of a long text (an unclosed comment or tag), and every finding travels in
            // events and exports.
            let quoted = hit.range.count > Self.maxEvidence ? hit.range.lowerBound..<(hit.range.lowerBound + Self.maxEvidence) : hit.range
            return Finding(rule: id, severity: severity, layer: layer, field: text.field, start: hit.range.lowerBound, end: hit.range.upperBound,
                           evidence: text.slice(quoted) + (quoted == hit.range ? "" : "…"), message: hit.note.map { "\(message): \($0)" } ?? message)
        }
    }
}
