import WardenCore
import WardenHubAPI
import WardenStore

/// How the hub API represents its records (documented in docs/hub-api.md). Untrusted strings stay
/// raw in JSON; whoever displays them escapes them.
public enum HubJSON {
    static func num(_ d: Double?) -> JSONValue { d.map { .number(String($0)) } ?? .null }
    static func str(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    public static func grant(_ g: GrantRecord) -> JSONValue { HubWire.encode(HubGrant(g)) }

    public static func session(_ s: SessionRecord) -> JSONValue {
        let i = s.info
        return .object(JSONObject(pairs: [
            ("id", .string(i.id)), ("server", .string(i.server)), ("client", str(i.clientName)), ("clientVersion", str(i.clientVersion)),
            ("serverName", str(i.serverName)), ("serverVersion", str(i.serverVersion)), ("protocolVersion", str(i.protocolVersion)),
            ("instructions", str(i.instructions)), ("wardenPid", .int(Int(i.wardenPID))), ("serverPid", .int(Int(i.serverPID))),
            ("startedAt", num(i.startedAt)), ("lastActivity", num(s.lastActivity)), ("endedAt", num(s.endedAt)), ("endStatus", str(s.endStatus)),
            ("live", .bool(s.endedAt == nil)), ("calls", .int(s.calls)), ("denials", .int(s.denials)), ("risk", .int(s.risk)),
            ("isolation", i.isolation?.json ?? .null),
        ]))
    }

    public static func tool(_ t: ToolRecord, detail: Bool = false) -> JSONValue {
        var o = JSONObject(pairs: [
            ("server", .string(t.server)), ("name", .string(t.name)), ("pin", .string(t.pin)), ("verdict", .string(t.verdict.rawValue)),
            ("score", .int(t.score)), ("review", .string(t.reviewState.rawValue)), ("quarantineReason", str(t.quarantineReason)),
            ("trustedPin", str(t.trustedPin)), ("firstSeen", num(t.firstSeen)), ("lastSeen", num(t.lastSeen)),
            ("findings", t.findings),
        ])
        if detail {
            o["definition"] = t.definition
            o["trustedDefinition"] = t.trustedDefinition
        }
        return .object(o)
    }

    public static func audit(_ a: AuditRecord) -> JSONValue { a.hubJSON }
}
