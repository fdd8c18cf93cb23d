/// What Warden does with a `tools/call`.
public enum PolicyAction: String, Sendable, Codable, CaseIterable {
    /// Forward the call.
    case allow
    /// Hold the call until an operator grants just-in-time access.
    case grant
    /// Refuse the call with an attributable error.
    case deny
}

/// What the relay does when data crossing it carries a secret.
public enum DLPAction: String, Sendable, Codable {
    /// Record it (event, alert) and let it through.
    case alert
    /// Replace each secret with `[REDACTED:kind]` (results only).
    case redact
    /// Refuse the call (arguments), or withhold the result (injection).
    case deny
}

/// Which servers' tools must be signed, by which registry and key.
public struct SignatureRequirement: Sendable, Hashable {
    /// Path of the signed registry (JSON written by `warden registry sign`).
    public var registry: String
    /// The base64 Ed25519 public key the signatures must verify with (pins the signer, not just the file).
    public var publicKey: String
    public var servers: [Glob]

    public init(registry: String, publicKey: String, servers: [Glob]) {
        self.registry = registry
        self.publicKey = publicKey
        self.servers = servers
    }

    public func applies(to server: String) -> Bool { servers.contains { $0.matches(server) } }
}

/// How tool analysis is tuned by policy.
public struct AnalysisSettings: Sendable, Hashable {
    /// Score at or above which a tool is `suspicious` (default 25).
    public var suspiciousAt = 25
    /// Score at or above which a tool is `malicious` (default 60).
    public var maliciousAt = 60
    /// Rule ids ignored everywhere.
    public var suppressedRules: Set<String> = []
    /// Rule ids ignored for one tool, keyed `server/tool` (globs allowed in the key).
    public var suppressedForTool: [String: Set<String>] = [:]
    /// Why each suppression exists (required in the file, shown in reviews).
    public var reasons: [String: String] = [:]

    public init() {}

    /// Whether a finding of `rule` on `server/tool` is suppressed.
    public func suppresses(rule: String, server: String, tool: String) -> Bool {
        if suppressedRules.contains(rule) { return true }
        return suppressedForTool.contains { key, rules in rules.contains(rule) && Glob(key).matches("\(server)/\(tool)") }
    }
}

/// The verdict at or above which a tool is hidden from the client.
public enum QuarantineThreshold: String, Sendable, Codable {
    case suspicious, malicious, never

    /// Whether a tool with `verdict` is quarantined under this threshold.
    public func quarantines(_ verdict: Verdict) -> Bool {
        switch self {
        case .suspicious: verdict >= .suspicious
        case .malicious: verdict >= .malicious
        case .never: false
        }
    }
}

/// Conditions a rule matches on. Every present condition must hold.
public struct PolicyMatch: Sendable, Hashable {
    public var server: Glob?
    public var tool: Glob?
    /// Matches tools that declare `readOnlyHint: true`.
    public var readOnly: Bool?
    /// Matches tools that declare `destructiveHint: true` or whose name reads as destructive.
    public var destructive: Bool?

    public init(server: Glob? = nil, tool: Glob? = nil, readOnly: Bool? = nil, destructive: Bool? = nil) {
        self.server = server
        self.tool = tool
        self.readOnly = readOnly
        self.destructive = destructive
    }
}

/// Settings of a `grant` rule.
public struct GrantSettings: Sendable, Hashable {
    /// How long a held call waits for an operator before it is refused as expired.
    public var timeout: Double
    /// The longest TTL an operator may give a grant under this rule.
    public var maxTTL: Double

    public static let standard = GrantSettings(timeout: 120, maxTTL: 3600)

    public init(timeout: Double, maxTTL: Double) {
        self.timeout = timeout
        self.maxTTL = maxTTL
    }
}

/// One policy rule; the first rule that matches a call decides it.
public struct PolicyRule: Sendable, Hashable {
    /// How the rule is named in decisions, events and errors: `rules[2]` or `builtin:destructive`.
    public var id: String
    public var match: PolicyMatch
    public var action: PolicyAction
    public var grant: GrantSettings
    /// Optional text shown to the client and operator when the rule denies or holds a call.
    public var reason: String?

    public init(id: String, match: PolicyMatch, action: PolicyAction, grant: GrantSettings = .standard, reason: String? = nil) {
        self.id = id
        self.match = match
        self.action = action
        self.grant = grant
        self.reason = reason
    }
}

/// A complete policy: ordered rules, a default action, and what to do with flagged or changed tools.
public struct Policy: Sendable, Hashable {
    public var version: Int
    public var defaultAction: PolicyAction
    public var rules: [PolicyRule]
    /// Verdict at or above which a tool is removed from the list the client sees.
    public var quarantine: QuarantineThreshold
    /// Whether a tool whose definition changed since it was pinned is quarantined until reviewed.
    public var quarantineOnChange: Bool
    /// Where the policy came from (a path, or `built-in`), for messages.
    public var source: String
    /// Servers whose tools must be signed in a registry (`signatures:` in the policy file).
    public var signatures: SignatureRequirement?
    /// Analysis settings: score thresholds and suppressions.
    public var analysis = AnalysisSettings()
    /// Secrets in what the server sends: `alert`, `redact`, or `deny` (withheld; whoever waits gets an error).
    public var dlpResults: DLPAction = .alert
    /// Secrets in tool-call arguments: `alert` or `deny`.
    public var dlpArguments: DLPAction = .alert
    /// Where calls may send data.
    public var egress = EgressPolicy()
    /// Rate and concurrency limits per session.
    public var limits = CallLimits()
    /// Instructions aimed at the model in tool results: `alert`, or `deny` (the client gets an error
    /// result instead of the text).
    public var dlpInjection: DLPAction = .alert
    /// How servers are isolated (`sandbox:`): on by default where the system can.
    public var sandbox = SandboxPolicy()

    public init(version: Int = 1, defaultAction: PolicyAction, rules: [PolicyRule], quarantine: QuarantineThreshold = .malicious,
                quarantineOnChange: Bool = true, source: String) {
        self.version = version
        self.defaultAction = defaultAction
        self.rules = rules
        self.quarantine = quarantine
        self.quarantineOnChange = quarantineOnChange
        self.source = source
    }

    /// The policy in force when no file is given: read-only tools pass, destructive ones need a grant,
    /// everything else passes.
    public static let builtIn = Policy(
        defaultAction: .allow,
        rules: [
            PolicyRule(id: "builtin:read-only", match: PolicyMatch(readOnly: true), action: .allow),
            PolicyRule(id: "builtin:destructive", match: PolicyMatch(destructive: true), action: .grant,
                       reason: "destructive tools need an operator's approval"),
        ],
        source: "built-in")

    /// Decides a call to `tool` on `server`. `definition` is the tool as last listed, if known.
    public func decide(server: String, tool: String, definition: ToolDefinition?) -> PolicyDecision {
        for rule in rules where rule.match.matches(server: server, tool: tool, definition: definition) {
            return PolicyDecision(action: rule.action, rule: rule.id, grant: rule.grant, reason: rule.reason)
        }
        return PolicyDecision(action: defaultAction, rule: "defaults", grant: .standard, reason: nil)
    }
}

/// The outcome of evaluating policy for one call.
public struct PolicyDecision: Sendable, Hashable {
    public var action: PolicyAction
    /// The rule that decided (`defaults` when none matched).
    public var rule: String
    public var grant: GrantSettings
    public var reason: String?
}

extension PolicyMatch {
    /// Whether this match holds for a call.
    public func matches(server: String, tool: String, definition: ToolDefinition?) -> Bool {
        if let g = self.server, !g.matches(server) { return false }
        if let g = self.tool, !g.matches(tool) { return false }
        if let want = readOnly, (definition?.isReadOnly ?? false) != want { return false }
        if let want = destructive {
            let isDestructive = !(definition?.isReadOnly ?? false)
                && ((definition?.declaresDestructive ?? false) || DestructiveName.matches(tool))
            if isDestructive != want { return false }
        }
        return true
    }
}

/// The name heuristic behind the built-in policy: a tool whose name has a word such as `delete` or
/// `exec` is treated as destructive unless it declares `readOnlyHint`.
public enum DestructiveName {
    /// Verbs that change or leave the machine. Documented in the README's policy reference.
    public static let verbs = ["delete", "remove", "rm", "drop", "exec", "execute", "run", "send", "write", "pay",
                               "transfer", "kill", "destroy", "purge", "truncate", "shell", "push", "reset", "wipe"]

    /// Whether a name reads as destructive: one of its words (split on `_`, `-`, `.`, `/`, spaces and
    /// camelCase) is a verb above, or a verb with a short inflection (`writes`, `deleting`).
    public static func matches(_ name: String) -> Bool {
        words(of: name).contains { word in
            verbs.contains { verb in word == verb || (word.hasPrefix(verb) && ["s", "es", "ed", "ing", "er", "ute", "e", "d"].contains(String(word.dropFirst(verb.count)))) }
        }
    }

    static func words(of name: String) -> [String] {
        var words: [String] = []
        var current = ""
        var previousLower = false
        for ch in name {
            if ch.isLetter || ch.isNumber {
                if ch.isUppercase && previousLower && !current.isEmpty {
                    words.append(current.lowercased())
                    current = ""
                }
                current.append(ch)
                previousLower = ch.isLowercase
            } else {
                if !current.isEmpty { words.append(current.lowercased()) }
                current = ""
                previousLower = false
            }
        }
        if !current.isEmpty { words.append(current.lowercased()) }
        return words
    }
}
