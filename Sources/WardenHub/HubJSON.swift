import WardenCore
import WardenHubAPI
import WardenStore

/// How the hub API represents its records (documented in docs/hub-api.md). Untrusted strings stay
/// raw in JSON; whoever displays them escapes them.
public enum HubJSON {
    static func num(_ d: Double?) -> JSONValue { d.map { .number(String($0)) } ?? .null }
    static func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    public static func grant(_ g: GrantRecord) -> JSONValue { HubWire.encode(HubGrant(g)) }

    public static func audit(_ a: AuditRecord) -> JSONValue { a.hubJSON }
}

extension HubSession {
    /// A stored session in the API's form.
    public init(_ s: SessionRecord) {
        let i = s.info
        self.init(id: i.id, server: i.server, client: i.clientName, clientVersion: i.clientVersion, serverName: i.serverName,
                  serverVersion: i.serverVersion, protocolVersion: i.protocolVersion, instructions: i.instructions, wardenPid: Int(i.wardenPID),
                  serverPid: Int(i.serverPID), startedAt: i.startedAt, lastActivity: s.lastActivity, endedAt: s.endedAt, endStatus: s.endStatus,
                  live: s.endedAt == nil, calls: s.calls, denials: s.denials, risk: s.risk, isolation: i.isolation)
    }
}

extension HubTool {
    /// `detail` adds the current and the trusted definition (`tools.show`).
    public init(_ t: ToolRecord, detail: Bool = false) {
        // Findings as the relay recorded them; one that does not read (a store from an older
        // version) is left out rather than failing the whole list.
        let findings = (t.findings.arrayValue ?? []).compactMap { try? HubWire.decode(Finding.self, from: $0) }
        self.init(server: t.server, name: t.name, verdict: t.verdict, score: t.score, review: t.reviewState,
                  quarantineReason: t.quarantineReason, pin: t.pin, trustedPin: t.trustedPin, firstSeen: t.firstSeen, lastSeen: t.lastSeen, findings: findings,
                  definition: detail ? t.definition : nil, trustedDefinition: detail ? t.trustedDefinition : nil)
    }
}
