/// How serious a finding or alert is, in increasing order.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case info, low, medium, high, critical

    private var rank: Int {
        switch self {
        case .info: 0
        case .low: 1
        case .medium: 2
        case .high: 3
        case .critical: 4
        }
    }

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// The overall judgement on a tool definition, in increasing order of concern.
public enum Verdict: String, Sendable, Codable, CaseIterable, Comparable {
    case clean, suspicious, malicious

    private var rank: Int {
        switch self {
        case .clean: 0
        case .suspicious: 1
        case .malicious: 2
        }
    }

    public static func < (a: Verdict, b: Verdict) -> Bool { a.rank < b.rank }
}

/// The layers of the MAESTRO agentic-AI threat model, used to place findings and alerts.
public enum MaestroLayer: String, Sendable, Codable, CaseIterable {
    case foundationModels = "L1-foundation-models"
    case dataOperations = "L2-data-operations"
    case agentFrameworks = "L3-agent-frameworks"
    case deploymentInfrastructure = "L4-deployment-infrastructure"
    case evaluationObservability = "L5-evaluation-observability"
    case securityCompliance = "L6-security-compliance"
    case agentEcosystem = "L7-agent-ecosystem"
}

/// Where an operator's review of a tool stands: `unreviewed` (clean, pinned on first sight),
/// `flagged`, `approved`, `quarantined`, `changed` (its definition is not the one trusted).
public enum ToolReviewState: String, Sendable, Codable, CaseIterable {
    case unreviewed, flagged, approved, quarantined, changed
}
