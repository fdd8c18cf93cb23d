import Foundation
import Yams

/// A policy file that cannot be used, with the key and line to fix.
public struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String
    public var problem: String

    public init(file: String, line: Int?, key: String, problem: String) {
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
    }

    public var description: String {
        let at = line.map { "\(file):\($0)" } ?? file
        return "\(at): \(key): \(problem)"
    }
}

/// Reads policy files (YAML). Unknown keys are errors, so a typo never silently weakens a policy.
public enum PolicyLoader {
    /// Loads and validates the policy at `path`.
    public static func load(path: String) throws(PolicyError) -> Policy {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PolicyError(file: path, line: nil, key: "(file)", problem: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PolicyError(file: path, line: nil, key: "(file)", problem: "is not UTF-8 text")
        }
        return try parse(text, source: path)
    }

    /// Parses and validates policy text; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws(PolicyError) -> Policy {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw PolicyError(file: source, line: nil, key: "(document)", problem: "is empty; expected at least `version: 1`")
            }
            root = node
        } catch let e as PolicyError {
            throw e
        } catch let e as YamlError {
            throw PolicyError(file: source, line: yamlLine(e), key: "(syntax)", problem: "is not valid YAML: \(yamlSummary(e))")
        } catch {
            throw PolicyError(file: source, line: nil, key: "(syntax)", problem: "is not valid YAML: \(error)")
        }
        let reader = NodeReader(source: source)
        return try reader.policy(root)
    }

    private static func yamlLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default: return nil
        }
    }

    private static func yamlSummary(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default: return "\(error)"
        }
    }
}

private struct NodeReader {
    let source: String

    func error(_ node: Node?, _ key: String, _ problem: String) -> PolicyError {
        PolicyError(file: source, line: node?.mark?.line, key: key, problem: problem)
    }

    /// A mapping's entries; `allowed: nil` takes any key (names chosen by the user: servers, tools).
    func mapping(_ node: Node, _ key: String, allowed: Set<String>?) throws(PolicyError) -> [(String, Node)] {
        guard case .mapping(let m) = node else { throw error(node, key, "must be a mapping") }
        var out: [(String, Node)] = []
        var seen = Set<String>()
        for (k, v) in m {
            guard let name = k.string else { throw error(k, key, "has a key that is not a string") }
            let path = key.isEmpty ? name : "\(key).\(name)"
            if let allowed, !allowed.contains(name) {
                throw error(k, path, "is not a known key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard seen.insert(name).inserted else { throw error(k, path, "appears twice") }
            out.append((name, v))
        }
        return out
    }

    func string(_ node: Node, _ key: String) throws(PolicyError) -> String {
        guard case .scalar(let s) = node else { throw error(node, key, "must be a string") }
        return s.string
    }

    func bool(_ node: Node, _ key: String) throws(PolicyError) -> Bool {
        guard let b = node.bool else { throw error(node, key, "must be true or false") }
        return b
    }

    func duration(_ node: Node, _ key: String) throws(PolicyError) -> Double {
        guard let s = node.string, let seconds = DurationText.seconds(s), seconds > 0 else {
            throw error(node, key, "must be a duration such as 90s, 15m or 2h")
        }
        return seconds
    }

    func action(_ node: Node, _ key: String) throws(PolicyError) -> PolicyAction {
        let s = try string(node, key)
        guard let a = PolicyAction(rawValue: s) else { throw error(node, key, "must be allow, grant or deny (found \"\(s)\")") }
        return a
    }

    func policy(_ root: Node) throws(PolicyError) -> Policy {
        var policy = Policy(defaultAction: .allow, rules: [], source: source)
        var sawVersion = false
        for (key, value) in try mapping(root, "", allowed: ["version", "defaults", "rules", "tools", "dlp", "analysis", "signatures", "egress", "limits", "sandbox"]) {
            switch key {
            case "version":
                guard value.int == 1 else { throw error(value, "version", "must be 1 (the only policy version this Warden reads)") }
                sawVersion = true
            case "defaults":
                for (k, v) in try mapping(value, "defaults", allowed: ["action"]) where k == "action" {
                    policy.defaultAction = try action(v, "defaults.action")
                }
            case "rules":
                guard case .sequence(let seq) = value else { throw error(value, "rules", "must be a list of rules") }
                for (i, item) in seq.enumerated() {
                    policy.rules.append(try rule(item, index: i))
                }
            case "tools":
                for (k, v) in try mapping(value, "tools", allowed: ["quarantine", "quarantine_on_change"]) {
                    if k == "quarantine" {
                        let s = try string(v, "tools.quarantine")
                        guard let t = QuarantineThreshold(rawValue: s) else {
                            throw error(v, "tools.quarantine", "must be suspicious, malicious or never (found \"\(s)\")")
                        }
                        policy.quarantine = t
                    } else {
                        policy.quarantineOnChange = try bool(v, "tools.quarantine_on_change")
                    }
                }
            case "analysis":
                policy.analysis = try analysis(value)
            case "egress":
                policy.egress = try egress(value)
            case "limits":
                policy.limits = try limits(value)
            case "sandbox":
                policy.sandbox = try sandbox(value)
            case "signatures":
                var registry: String?, key: String?, servers: [Glob] = []
                for (k, v) in try mapping(value, "signatures", allowed: ["registry", "public_key", "servers"]) {
                    switch k {
                    case "registry": registry = try string(v, "signatures.registry")
                    case "public_key": key = try string(v, "signatures.public_key")
                    default:
                        guard case .sequence(let items) = v else { throw error(v, "signatures.servers", "must be a list of server names or globs") }
                        for item in items { servers.append(Glob(try string(item, "signatures.servers"))) }
                    }
                }
                guard let registry else { throw error(value, "signatures.registry", "is missing (the file warden registry sign writes)") }
                guard let key else { throw error(value, "signatures.public_key", "is missing (the key warden registry keygen printed)") }
                policy.signatures = SignatureRequirement(registry: registry, publicKey: key, servers: servers.isEmpty ? [Glob("*")] : servers)
            case "dlp":
                for (k, v) in try mapping(value, "dlp", allowed: ["results", "arguments", "injection"]) {
                    let text = try string(v, "dlp.\(k)")
                    let allowed: [DLPAction] = k == "results" ? [.alert, .redact, .deny] : [.alert, .deny]
                    guard let action = DLPAction(rawValue: text), allowed.contains(action) else {
                        throw error(v, "dlp.\(k)", "must be \(allowed.map(\.rawValue).joined(separator: " or ")) (found \"\(text)\")")
                    }
                    switch k {
                    case "results": policy.dlpResults = action
                    case "injection": policy.dlpInjection = action
                    default: policy.dlpArguments = action
                    }
                }
            default: break
            }
        }
        guard sawVersion else { throw error(root, "version", "is missing; add `version: 1`") }
        return policy
    }

    /// ```yaml
    /// analysis:
    ///   thresholds: {suspicious: 25, malicious: 60}
    ///   suppress:
    ///     - {rule: resource.sensitive, reason: "our SSH tool is meant to read keys"}
    ///     - {rule: payload.shell, tool: "ops/run_*", reason: "a shell tool documents shell"}
    /// ```
    func analysis(_ node: Node) throws(PolicyError) -> AnalysisSettings {
        var a = AnalysisSettings()
        for (k, v) in try mapping(node, "analysis", allowed: ["thresholds", "suppress"]) {
            if k == "thresholds" {
                for (tk, tv) in try mapping(v, "analysis.thresholds", allowed: ["suspicious", "malicious"]) {
                    guard let n = tv.int, (1...100).contains(n) else { throw error(tv, "analysis.thresholds.\(tk)", "must be a score from 1 to 100") }
                    if tk == "suspicious" { a.suspiciousAt = n } else { a.maliciousAt = n }
                }
                guard a.suspiciousAt <= a.maliciousAt else { throw error(v, "analysis.thresholds", "suspicious must not be above malicious") }
            } else {
                guard case .sequence(let items) = v else { throw error(v, "analysis.suppress", "must be a list") }
                for (i, item) in items.enumerated() {
                    let key = "analysis.suppress[\(i)]"
                    var rule: String?, tool: String?, reason: String?
                    for (sk, sv) in try mapping(item, key, allowed: ["rule", "tool", "reason"]) {
                        let text = try string(sv, "\(key).\(sk)")
                        switch sk {
                        case "rule": rule = text
                        case "tool": tool = text
                        default: reason = text
                        }
                    }
                    guard let rule else { throw error(item, "\(key).rule", "is missing (a rule id such as resource.sensitive)") }
                    guard let reason, !reason.isEmpty else { throw error(item, "\(key).reason", "is missing: say why this rule is suppressed") }
                    if let tool { a.suppressedForTool[tool, default: []].insert(rule) } else { a.suppressedRules.insert(rule) }
                    a.reasons[tool.map { "\($0)#\(rule)" } ?? rule] = reason
                }
            }
        }
        return a
    }

    func egressAction(_ node: Node, _ key: String) throws(PolicyError) -> EgressPolicy.Action {
        let text = try string(node, key)
        guard let a = EgressPolicy.Action(rawValue: text) else { throw error(node, key, "must be allow, deny or grant (found \"\(text)\")") }
        return a
    }

    func globs(_ node: Node, _ key: String) throws(PolicyError) -> [Glob] {
        guard case .sequence(let items) = node else { throw error(node, key, "must be a list of hosts or globs") }
        var out: [Glob] = []
        // `ServerRule` keeps host patterns canonical (lower case, IDNA, IP text) as they are assigned.
        for item in items { out.append(Glob(try string(item, key))) }
        return out
    }

    func egress(_ node: Node) throws(PolicyError) -> EgressPolicy {
        var e = EgressPolicy()
        for (k, v) in try mapping(node, "egress", allowed: ["default", "servers"]) {
            if k == "default" {
                e.defaultAction = try egressAction(v, "egress.default")
            } else {
                for (server, rule) in try mapping(v, "egress.servers", allowed: nil) {
                    var r = EgressPolicy.ServerRule(server: Glob(server))
                    let key = "egress.servers.\(server)"
                    for (rk, rv) in try mapping(rule, key, allowed: ["allow", "deny", "default"]) {
                        switch rk {
                        case "allow": r.allow = try globs(rv, "\(key).allow")
                        case "deny": r.deny = try globs(rv, "\(key).deny")
                        default: r.defaultAction = try egressAction(rv, "\(key).default")
                        }
                    }
                    e.servers.append(r)
                }
            }
        }
        return e
    }

    func limits(_ node: Node) throws(PolicyError) -> CallLimits {
        var l = CallLimits()
        func positive(_ v: Node, _ key: String) throws(PolicyError) -> Int {
            guard let n = v.int, n > 0 else { throw error(v, key, "must be a whole number above 0") }
            return n
        }
        for (k, v) in try mapping(node, "limits", allowed: ["per_minute", "concurrent", "tools"]) {
            switch k {
            case "per_minute": l.perMinute = try positive(v, "limits.per_minute")
            case "concurrent": l.concurrent = try positive(v, "limits.concurrent")
            default:
                for (tool, n) in try mapping(v, "limits.tools", allowed: nil) {
                    l.tools.append(CallLimits.ToolLimit(tool: Glob(tool), perMinute: try positive(n, "limits.tools.\(tool)")))
                }
            }
        }
        return l
    }

    /// ```yaml
    /// sandbox:
    ///   required: true            # refuse to start a server that cannot be isolated
    ///   network: allow            # none | loopback | allow
    ///   filesystem: {read_only: [~/src], read_write: [/tmp/work], hide: [~/.aws]}
    ///   servers:
    ///     fetch: {network: allow}
    ///     git: {network: none}
    /// ```
    func sandbox(_ node: Node) throws(PolicyError) -> SandboxPolicy {
        var policy = SandboxPolicy()
        var o = SandboxProfile.Override(server: Glob("*"))
        for (k, v) in try mapping(node, "sandbox", allowed: ["enabled", "required", "network", "filesystem", "servers"]) {
            if k == "servers" {
                for (server, entry) in try mapping(v, "sandbox.servers", allowed: nil) {
                    var s = SandboxProfile.Override(server: Glob(server))
                    for (sk, sv) in try mapping(entry, "sandbox.servers.\(server)", allowed: ["enabled", "required", "network", "filesystem"]) {
                        try sandboxSetting(sk, sv, "sandbox.servers.\(server).\(sk)", into: &s)
                    }
                    policy.servers.append(s)
                }
            } else {
                try sandboxSetting(k, v, "sandbox.\(k)", into: &o)
            }
        }
        policy.defaults = policy.defaults.overlaid(with: o)
        return policy
    }

    func sandboxSetting(_ k: String, _ v: Node, _ key: String, into o: inout SandboxProfile.Override) throws(PolicyError) {
        switch k {
        case "enabled": o.enabled = try bool(v, key)
        case "required": o.required = try bool(v, key)
        case "network":
            let text = try string(v, key)
            guard let n = SandboxProfile.Network(rawValue: text) else { throw error(v, key, "must be none or allow (found \"\(text)\")") }
            // Loopback-only needs a connect(2) supervisor Warden does not have yet; refusing the
            // setting is better than a sandbox that claims it and does not hold it.
            guard n != .loopback else { throw error(v, key, "loopback is not available yet: use none (no network) or allow") }
            o.network = n
        default:
            for (fk, fv) in try mapping(v, key, allowed: ["read_only", "read_write", "hide"]) {
                guard case .sequence(let items) = fv else { throw error(fv, "\(key).\(fk)", "must be a list of paths") }
                var paths: [String] = []
                for item in items {
                    let path = try string(item, "\(key).\(fk)")
                    guard path.hasPrefix("/") || path.hasPrefix("~") else { throw error(item, "\(key).\(fk)", "must be an absolute path or start with ~ (found \"\(path)\")") }
                    paths.append(path)
                }
                switch fk {
                case "read_only": o.readOnly += paths
                case "read_write": o.readWrite += paths
                default: o.hide += paths
                }
            }
        }
    }

    func rule(_ node: Node, index: Int) throws(PolicyError) -> PolicyRule {
        let key = "rules[\(index)]"
        var match = PolicyMatch()
        var act: PolicyAction?
        var grant = GrantSettings.standard
        var reason: String?
        for (k, v) in try mapping(node, key, allowed: ["match", "action", "grant", "reason"]) {
            switch k {
            case "match":
                for (mk, mv) in try mapping(v, "\(key).match", allowed: ["server", "tool", "read_only", "destructive"]) {
                    let path = "\(key).match.\(mk)"
                    switch mk {
                    case "server": match.server = Glob(try string(mv, path))
                    case "tool": match.tool = Glob(try string(mv, path))
                    case "read_only": match.readOnly = try bool(mv, path)
                    default: match.destructive = try bool(mv, path)
                    }
                }
            case "action": act = try action(v, "\(key).action")
            case "grant":
                for (gk, gv) in try mapping(v, "\(key).grant", allowed: ["timeout", "max_ttl"]) {
                    if gk == "timeout" { grant.timeout = try duration(gv, "\(key).grant.timeout") }
                    else { grant.maxTTL = try duration(gv, "\(key).grant.max_ttl") }
                }
            case "reason": reason = try string(v, "\(key).reason")
            default: break
            }
        }
        guard let act else { throw error(node, "\(key).action", "is missing (allow, grant or deny)") }
        return PolicyRule(id: key, match: match, action: act, grant: grant, reason: reason)
    }
}
