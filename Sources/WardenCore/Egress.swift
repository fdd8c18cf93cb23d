/// Where a server's calls may send data (the framework's network segmentation, applied to the
/// destinations found in tool arguments: URLs, hosts, IPs, e-mail addresses).
///
/// ```yaml
/// egress:
///   default: allow                 # allow | deny | grant, for destinations no list names
///   servers:
///     fetch: {allow: ["docs.example.org", "*.github.com"], deny: ["*.ngrok.io"], default: deny}
/// ```
public struct EgressPolicy: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable { case allow, deny, grant }

    public struct ServerRule: Sendable, Hashable {
        public var server: Glob
        public var allow: [Glob]
        public var deny: [Glob]
        public var defaultAction: Action?
        public init(server: Glob, allow: [Glob] = [], deny: [Glob] = [], defaultAction: Action? = nil) {
            self.server = server
            self.allow = allow
            self.deny = deny
            self.defaultAction = defaultAction
        }
    }

    public var defaultAction: Action = .allow
    public var servers: [ServerRule] = []

    public init() {}

    /// The action for one destination of a call to `server`; `lockdown` (a playbook's
    /// tighten-egress) turns everything not explicitly allowed into a denial.
    public func decide(server: String, destination: String, lockdown: Bool) -> Action {
        let rule = servers.first { $0.server.matches(server) }
        let names = Self.names(destination)
        if let rule, rule.deny.contains(where: { g in names.contains { g.matches($0) } }) { return .deny }
        if let rule, rule.allow.contains(where: { g in names.contains { g.matches($0) } }) { return .allow }
        if lockdown { return .deny }
        return rule?.defaultAction ?? defaultAction
    }

    /// What a destination is matched as: a host, or an address and its domain.
    static func names(_ destination: String) -> [String] {
        if let at = destination.lastIndex(of: "@") { return [destination, String(destination[destination.index(after: at)...])] }
        return [destination]
    }
}

/// Limits on how hard a session may drive its server (resource exhaustion).
///
/// ```yaml
/// limits: {per_minute: 120, concurrent: 8, tools: {"delete_*": 10}}
/// ```
public struct CallLimits: Sendable, Hashable {
    /// Calls per session per rolling minute.
    public var perMinute: Int?
    /// Calls forwarded and not yet answered, per session.
    public var concurrent: Int?
    /// Calls per minute for tools matching a glob.
    public var tools: [ToolLimit] = []

    public struct ToolLimit: Sendable, Hashable {
        public var tool: Glob
        public var perMinute: Int
        public init(tool: Glob, perMinute: Int) {
            self.tool = tool
            self.perMinute = perMinute
        }
    }

    public init() {}

    public var isEmpty: Bool { perMinute == nil && concurrent == nil && tools.isEmpty }
}
