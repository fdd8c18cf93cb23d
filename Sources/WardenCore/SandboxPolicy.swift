/// How a wrapped server is isolated (`sandbox:` in the policy file). The default keeps ordinary
/// servers working: the user's files as they are, with Warden's state hidden, Warden's and the MCP
/// clients' configuration read-only, a private `/tmp`, its own pid namespace and a new `/dev/pts`.
public struct SandboxProfile: Sendable, Hashable {
    /// What the server may reach on the network.
    public enum Network: String, Sendable, Hashable, CaseIterable, Codable {
        /// No network at all: its own network namespace with only a loopback of its own.
        case offline = "none"
        /// Only addresses on this machine (127.0.0.0/8, ::1); everything else is refused and recorded.
        case loopback
        /// The machine's network as it is.
        case allow
    }

    /// Off only when the policy says `enabled: false` (the server then runs as the user, and says so).
    public var enabled = true
    /// Refuse to start the server when isolation is not available, instead of starting it unsandboxed.
    public var required = false
    public var network: Network = .allow
    /// Paths the server sees read-only (`~` allowed).
    public var readOnly: [String] = []
    /// Paths the server may read and write even where the profile would hide them (for example a
    /// directory under `/tmp`).
    public var readWrite: [String] = []
    /// Paths the server must not see at all.
    public var hide: [String] = []

    public init() {}

    /// This profile with `other`'s settings on top (a server's entry over the defaults).
    func overlaid(with other: Override) -> SandboxProfile {
        var p = self
        if let v = other.enabled { p.enabled = v }
        if let v = other.required { p.required = v }
        if let v = other.network { p.network = v }
        p.readOnly += other.readOnly
        p.readWrite += other.readWrite
        p.hide += other.hide
        return p
    }

    /// A per-server entry: only what it sets changes the defaults.
    public struct Override: Sendable, Hashable {
        public var server: Glob
        public var enabled: Bool?
        public var required: Bool?
        public var network: Network?
        public var readOnly: [String] = []
        public var readWrite: [String] = []
        public var hide: [String] = []

        public init(server: Glob) { self.server = server }
    }
}

/// The `sandbox:` section of a policy: defaults for every server, and entries for some.
public struct SandboxPolicy: Sendable, Hashable {
    public var defaults = SandboxProfile()
    /// Applied in order, each over the result of the ones before it.
    public var servers: [SandboxProfile.Override] = []

    public init() {}

    /// The profile for one server.
    public func profile(for server: String) -> SandboxProfile {
        servers.reduce(defaults) { p, o in o.server.matches(server) ? p.overlaid(with: o) : p }
    }
}

/// What isolation a server actually runs under, as the relay reports it at session start (the
/// console's session row, `warden sessions show`).
public struct Isolation: Sendable, Hashable, Codable {
    /// `bubblewrap` when sandboxed; nil when the server runs unsandboxed.
    public var mechanism: String?
    public var network: SandboxProfile.Network?
    /// What the sandbox holds, one phrase each (`pid namespace`, `WARDEN_HOME hidden`, …).
    public var measures: [String]
    /// Why the server is not sandboxed (policy, no bwrap, no user namespaces), when it is not.
    public var unsandboxedReason: String?

    public init(mechanism: String?, network: SandboxProfile.Network?, measures: [String], unsandboxedReason: String?) {
        self.mechanism = mechanism
        self.network = network
        self.measures = measures
        self.unsandboxedReason = unsandboxedReason
    }

    /// An unsandboxed server, and why.
    public static func unsandboxed(_ reason: String) -> Isolation {
        Isolation(mechanism: nil, network: nil, measures: [], unsandboxedReason: reason)
    }

    public var isSandboxed: Bool { mechanism != nil }

    /// One short phrase for a table cell: `sandbox net:none`, `UNSANDBOXED`.
    public var label: String {
        guard isSandboxed else { return "UNSANDBOXED" }
        return "sandbox net:\(network?.rawValue ?? "allow")"
    }

    /// One sentence for details and warnings.
    public var summary: String {
        guard let mechanism else { return "unsandboxed: \(unsandboxedReason ?? "no reason recorded")" }
        return "sandboxed by \(mechanism): " + measures.joined(separator: ", ")
    }

    /// As carried in the `session.started` event and the hub's session JSON.
    public var json: JSONValue {
        .object(JSONObject(pairs: [
            ("mechanism", mechanism.map { .string($0) } ?? .null), ("network", network.map { .string($0.rawValue) } ?? .null),
            ("measures", .array(measures.map { .string($0) })), ("unsandboxedReason", unsandboxedReason.map { .string($0) } ?? .null),
        ]))
    }

    /// Reads what `json` wrote; nil for anything else.
    public init?(json: JSONValue?) {
        guard let o = json?.objectValue else { return nil }
        self.init(mechanism: o["mechanism"]?.stringValue, network: o["network"]?.stringValue.flatMap(SandboxProfile.Network.init(rawValue:)),
                  measures: o["measures"]?.arrayValue?.compactMap(\.stringValue) ?? [], unsandboxedReason: o["unsandboxedReason"]?.stringValue)
        if mechanism == nil && unsandboxedReason == nil { return nil }
    }
}
