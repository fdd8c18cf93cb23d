import Foundation

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
    /// What happens to a call that would reach a destination: forwarded, refused, or held for a person.
    public enum Action: String, Sendable, Hashable { case allow, deny, grant }

    /// The lists for the servers whose names match `server`. Host patterns are kept in canonical
    /// form (see `canonicalPattern`), however they are assigned.
    public struct ServerRule: Sendable, Hashable {
        /// The servers (by name) the rule is for.
        public var server: Glob
        /// Destinations this server may reach without asking.
        public var allow: [Glob] { didSet { allow = allow.map(EgressPolicy.canonicalPattern) } }
        /// Destinations this server may never reach; a deny wins over an allow.
        public var deny: [Glob] { didSet { deny = deny.map(EgressPolicy.canonicalPattern) } }
        /// For destinations neither list names; the policy's default when `nil`.
        public var defaultAction: Action?
        /// A rule; host patterns are stored canonically.
        public init(server: Glob, allow: [Glob] = [], deny: [Glob] = [], defaultAction: Action? = nil) {
            self.server = server
            self.allow = allow.map(EgressPolicy.canonicalPattern)
            self.deny = deny.map(EgressPolicy.canonicalPattern)
            self.defaultAction = defaultAction
        }
    }

    public var defaultAction: Action = .allow
    public var servers: [ServerRule] = []

    public init() {}

    /// The action for one destination of a call to `server`; `lockdown` (a playbook's
    /// tighten-egress) turns everything not explicitly allowed into a denial.
    ///
    /// The destination is a host, an IP address or an e-mail address, in any spelling: it is
    /// compared in canonical form (`CanonicalHost`), so a deny of `evil.com` also catches
    /// `EVIL.com.`, `ｅｖｉｌ.com` and `evil%2ecom`, and a deny of `127.0.0.1` catches `::ffff:7f00:1`.
    public func decide(server: String, destination: String, lockdown: Bool) -> Action {
        let rule = servers.first { $0.server.matches(server) }
        let names = Self.names(destination)
        if let rule, rule.deny.contains(where: names.isDenied) { return .deny }
        if let rule, rule.allow.contains(where: names.isAllowed) { return .allow }
        if lockdown { return .deny }
        return rule?.defaultAction ?? defaultAction
    }

    /// What a destination is matched as.
    struct Names {
        /// The whole e-mail address (`bob@example.com`), if the destination is one.
        var address: String?
        /// The host's names: canonical text, other readings, `[…]` for IPv6.
        var hosts: [String]

        /// A deny catches the destination by any of its names.
        func isDenied(by glob: Glob) -> Bool {
            address.map(glob.matches) == true || hosts.contains(where: glob.matches)
        }

        /// An allow naming an address (`*@example.com`) is about whole addresses; any other is
        /// about the host the data goes to, so `*.good.com*` is not satisfied by `x.good.com@evil.com`.
        func isAllowed(by glob: Glob) -> Bool {
            glob.pattern.contains("@") ? address.map(glob.matches) == true : hosts.contains(where: glob.matches)
        }
    }

    static func names(_ destination: String) -> Names {
        func hostNames(_ text: Substring) -> [String] {
            guard let host = CanonicalHost(text) else { return [text.lowercased()] }
            return host.kind == .ipv6 ? host.names + ["[\(host.text)]"] : host.names
        }
        guard let at = destination.lastIndex(of: "@") else { return Names(hosts: hostNames(destination[...])) }
        // The last `@` ends the local part, as in SMTP and in URL userinfo.
        let hosts = hostNames(destination[destination.index(after: at)...])
        return Names(address: destination[..<at].lowercased() + "@" + hosts[0], hosts: hosts)
    }

    /// A host pattern in the form destinations are compared in: lower case, IDNA labels in
    /// Punycode, no trailing dot, IP addresses in canonical text (`0x7f.1` → `127.0.0.1`,
    /// `[::FFFF:7F00:1]` → `::ffff:7f00:1`). Labels with `*` or `?` are only lower-cased and mapped.
    public static func canonicalPattern(_ glob: Glob) -> Glob {
        var pattern = glob.pattern.trimmingCharacters(in: .whitespaces)
        var local: String?
        if let at = pattern.lastIndex(of: "@") {
            local = pattern[..<at].lowercased()
            pattern = String(pattern[pattern.index(after: at)...])
        }
        let host: String
        if !pattern.contains("*") && !pattern.contains("?") {
            host = CanonicalHost(pattern)?.text ?? pattern.lowercased()
        } else {
            var mapped = CanonicalHost.trimmedDots(CanonicalHost.mapped(pattern))
            if mapped.hasPrefix("["), mapped.hasSuffix("]") { mapped = String(mapped.dropFirst().dropLast()) }
            host = mapped.split(separator: ".", omittingEmptySubsequences: false).map { label in
                label.contains("*") || label.contains("?") ? String(label) : CanonicalHost.asciiLabels(String(label)).0
            }.joined(separator: ".")
        }
        let canonical = local.map { $0 + "@" + host } ?? host
        return canonical == glob.pattern ? glob : Glob(canonical)
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
