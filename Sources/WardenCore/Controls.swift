import Foundation

/// Containment an operator or a playbook put in place (`$WARDEN_HOME/controls.json`): servers
/// blocked outright, servers whose egress is cut to their allow list. Written by the hub, read by
/// relays at start and whenever the hub says tools changed.
public struct Controls: Sendable, Equatable {
    /// Server name → why it is blocked.
    public var blocked: [String: String] = [:]
    /// Servers whose calls may reach only destinations on their egress allow list (none if it has none).
    public var egressLockdown: Set<String> = []
    /// Servers whose future sessions start with no network and only under a sandbox (playbook
    /// action `isolate-server`).
    public var isolated: Set<String> = []

    public init() {}

    public static func load(path: String) -> Controls {
        var c = Controls()
        guard let data = FileManager.default.contents(atPath: path), let v = try? JSONParser.parse(data) else { return c }
        for (k, reason) in v["blocked"]?.objectValue?.members ?? JSONObject().members { c.blocked[k] = reason.stringValue ?? "" }
        c.egressLockdown = Set(v["egressLockdown"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        c.isolated = Set(v["isolated"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        return c
    }

    /// Writes atomically (temp file and rename), owner-only.
    public func save(path: String) throws {
        let value: JSONValue = ["blocked": .object(JSONObject(pairs: blocked.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
                                "egressLockdown": .array(egressLockdown.sorted().map { .string($0) }),
                                "isolated": .array(isolated.sorted().map { .string($0) })]
        try PrivateFile.write(JSONWriter.compactBytes(value), to: path)
    }
}

extension WardenHome {
    /// Blocked servers and egress lockdowns (written by the hub, read by relays).
    public var controlsPath: String { path + "/controls.json" }
    /// Where forensic bundles are written.
    public var evidencePath: String { path + "/evidence" }
}
