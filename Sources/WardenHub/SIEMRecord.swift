import Foundation
import WardenCore
import WardenStore

/// One thing worth telling a SIEM, before it is encoded as OCSF, CEF or syslog.
public struct SIEMRecord: Sendable {
    /// Which OCSF class it maps to.
    public enum Kind: Sendable {
        /// A tool call (OCSF API Activity, 6003).
        case toolCall
        /// A finding, quarantine, changed definition or refused connection (OCSF Detection Finding, 2004).
        case finding
        /// A grant changing state (OCSF User Access Management, 3005).
        case access
        /// A signed audit chain head (OCSF Event Log Activity, 1008): what `warden audit verify
        /// --anchor` checks the chain against later.
        case anchor
    }

    public var kind: Kind
    public var uid: String
    /// Seconds since 1970.
    public var time: Double
    public var severity: Severity
    /// Short machine name: `tool.call`, `tool.quarantined`, `grant.approved`…
    public var name: String
    /// One line for people.
    public var message: String
    public var server: String
    public var tool: String?
    public var session: String?
    /// Who: the MCP client for calls, the operator for grants.
    public var actor: String
    /// `allowed`, `approved`, `denied`, … for calls and grants.
    public var outcome: String?
    public var extra: JSONObject

    /// The records an event yields (most events yield none: they are in the store, not the SIEM).
    public static func from(_ e: Event) -> SIEMRecord? {
        let f = e.fields
        let tool = f["tool"]?.stringValue
        switch e.kind {
        case .callCompleted:
            let call = CallFields(f)
            let decision = call.decisionName ?? CallDecision.allowed.rawValue
            return SIEMRecord(kind: .toolCall, uid: e.id, time: e.time, severity: .info, name: "tool.call",
                              message: "tools/call \(call.tool) on \(e.server): \(decision)",
                              server: e.server, tool: call.tool, session: e.session, actor: "mcp-client", outcome: decision,
                              extra: JSONObject(pairs: [("isError", .bool(call.isError)), ("micros", .int(call.micros ?? 0))]))
        case .callDecided:
            // A decision this build does not know is worth a look, as a refusal is.
            let call = CallFields(f)
            let decision = call.decisionName ?? "unknown decision (none)"
            return SIEMRecord(kind: .toolCall, uid: e.id, time: e.time, severity: call.decision?.forwarded == true ? .info : .medium, name: "tool.call",
                              message: "tools/call \(call.tool) on \(e.server): \(decision)", server: e.server, tool: call.tool, session: e.session,
                              actor: call.decidedBy ?? "mcp-client", outcome: decision,
                              extra: JSONObject(pairs: [("rule", call.rule.map { .string($0) } ?? .null), ("grantId", call.grantID.map { .string($0) } ?? .null)]))
        case .toolQuarantined:
            return SIEMRecord(kind: .finding, uid: e.id, time: e.time, severity: .high, name: "tool.quarantined",
                              message: "tool \(tool ?? "?") on \(e.server) quarantined: \(f["reason"]?.stringValue ?? "")", server: e.server, tool: tool,
                              session: e.session, actor: "warden", outcome: "quarantined", extra: JSONObject(pairs: [("pin", f["pin"] ?? .null)]))
        case .toolChanged:
            return SIEMRecord(kind: .finding, uid: e.id, time: e.time, severity: .high, name: "tool.changed",
                              message: "tool \(tool ?? "?") on \(e.server) changed since it was pinned", server: e.server, tool: tool,
                              session: e.session, actor: "warden", outcome: nil,
                              extra: JSONObject(pairs: [("pin", f["pin"] ?? .null), ("trustedPin", f["trustedPin"] ?? .null)]))
        case .dlpFinding:
            let kinds = f["kinds"]?.arrayValue?.compactMap(\.stringValue).joined(separator: ", ") ?? "secret"
            return SIEMRecord(kind: .finding, uid: e.id, time: e.time, severity: .high, name: "dlp.secret",
                              message: "\(kinds) in \(f["direction"]?.stringValue ?? "data") of \(tool ?? "?") on \(e.server) (\(f["action"]?.stringValue ?? "alert"))",
                              server: e.server, tool: tool, session: e.session, actor: "warden", outcome: f["action"]?.stringValue,
                              extra: JSONObject(pairs: [("findings", f["findings"] ?? .array([]))]))
        case .resultInjection:
            let rules = Set(f["findings"]?.arrayValue?.compactMap { $0["rule"]?.stringValue } ?? []).sorted().joined(separator: ", ")
            return SIEMRecord(kind: .finding, uid: e.id, time: e.time, severity: .high, name: "result.injection",
                              message: "result of \(tool ?? "?") on \(e.server) carries instructions for the model (\(rules)) (\(f["action"]?.stringValue ?? "alert"))",
                              server: e.server, tool: tool, session: e.session, actor: "warden", outcome: f["action"]?.stringValue,
                              extra: JSONObject(pairs: [("findings", f["findings"] ?? .array([]))]))
        case .toolReviewed where f["verdict"]?.stringValue != "clean":
            return SIEMRecord(kind: .finding, uid: e.id, time: e.time, severity: f["verdict"]?.stringValue == "malicious" ? .critical : .medium,
                              name: "tool.flagged", message: "tool \(tool ?? "?") on \(e.server) is \(f["verdict"]?.stringValue ?? "?")",
                              server: e.server, tool: tool, session: e.session, actor: "warden", outcome: nil,
                              extra: JSONObject(pairs: [("score", f["score"] ?? 0), ("findings", f["findings"] ?? .array([]))]))
        default:
            return nil
        }
    }

    /// The record an audit entry yields, if any.
    public static func from(_ a: AuditRecord) -> SIEMRecord? {
        if a.action.hasPrefix("grant.") {
            let state = String(a.action.dropFirst("grant.".count))
            guard ["approved", "denied", "revoked", "expired"].contains(state) else { return nil }
            return SIEMRecord(kind: .access, uid: "audit:\(a.sequence)", time: a.time, severity: state == "approved" ? .info : .low,
                              name: a.action, message: "grant \(a.subject) \(state) by \(a.actor)", server: a.details["server"]?.stringValue ?? "",
                              tool: a.details["tool"]?.stringValue, session: nil, actor: a.actor, outcome: state, extra: a.details)
        }
        if a.action == "audit.key.created" {
            // A new signing key over an existing chain: the first start with signed heads, or the old
            // key was moved aside. Either way anchors exported before no longer verify: say so.
            return SIEMRecord(kind: .finding, uid: "audit:\(a.sequence)", time: a.time, severity: .medium, name: a.action,
                              message: "the hub made a new audit signing key (\(a.details["keyId"]?.stringValue ?? "?")) over \(a.details["records"]?.intValue ?? 0) existing records",
                              server: "", tool: nil, session: nil, actor: a.actor, outcome: nil, extra: a.details)
        }
        if a.action == "connection.refused" {
            return SIEMRecord(kind: .finding, uid: "audit:\(a.sequence)", time: a.time, severity: .high, name: a.action,
                              message: "hub refused a connection from \(a.subject)", server: "", tool: nil, session: nil, actor: a.subject,
                              outcome: "refused", extra: a.details)
        }
        return nil
    }

    /// The record a signed chain head yields: its token is in every format (OCSF `unmapped.anchor`,
    /// CEF `cs4`, syslog SD-PARAM `anchor`) exactly as `AuditAnchor.all(in:)` finds it again.
    public static func from(_ anchor: AuditAnchor) -> SIEMRecord {
        SIEMRecord(kind: .anchor, uid: "anchor:\(anchor.sequence):\(anchor.milliseconds)", time: anchor.time, severity: .info, name: "audit.anchor",
                   message: "audit chain head: \(anchor.sequence) records, signed by key \(anchor.keyID)", server: "", tool: nil, session: nil,
                   actor: "hub", outcome: nil,
                   extra: JSONObject(pairs: [("sequence", .int(anchor.sequence)), ("head", .string(anchor.head)), ("keyId", .string(anchor.keyID)),
                                             ("signature", .string(anchor.signature)), ("anchor", .string(anchor.token))]))
    }
}
