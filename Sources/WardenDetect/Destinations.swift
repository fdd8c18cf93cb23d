import WardenCore

/// Where a call's arguments point: network destinations (URL hosts, host and IP values, e-mail
/// addresses) for egress policy, and file paths for behaviour monitoring.
public enum Destinations {
    /// Argument names whose bare values are destinations.
    static let hostKeys: Set<String> = ["host", "hostname", "domain", "server", "address", "endpoint", "ip", "to", "recipient",
                                        "recipients", "cc", "bcc", "email", "target", "webhook", "remote"]

    public struct Found: Sendable, Equatable {
        /// Lower-cased hosts, IPs and e-mail addresses.
        public var network: [String] = []
        public var paths: [String] = []
    }

    /// Walks the arguments (bounded: the first 200 strings) and collects what they point at.
    public static func find(in arguments: JSONValue) -> Found {
        var found = Found()
        var budget = 200
        func add(_ s: String, _ into: inout [String]) { if !into.contains(s), into.count < 20 { into.append(s) } }
        func walk(_ v: JSONValue, key: String) {
            guard budget > 0 else { return }
            switch v {
            case .string(let s):
                budget -= 1
                // Cheap tests first: most argument strings are prose or identifiers with no `:`, `@` or `/`.
                var hasColon = false, hasAt = false, hasDot = false
                for b in s.utf8 {
                    if b == 0x3A { hasColon = true } else if b == 0x40 { hasAt = true } else if b == 0x2E { hasDot = true }
                }
                if hasColon { for host in urlHosts(s) { add(host, &found.network) } }
                let first = s.utf8.first, last = s.utf8.last
                let t = first == 0x20 || last == 0x20 ? s.trimmingCharacters(in: .whitespaces) : s
                if (hasDot || hasColon) && (hostKeys.contains(key) || hostKeys.contains(key.lowercased())) {
                    for part in t.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }) {
                        let p = part.lowercased()
                        if p.contains("://") { continue }
                        if isEmail(p) || isHost(p) { add(p, &found.network) }
                    }
                } else if hasAt, isEmail(t.lowercased()) {
                    add(t.lowercased(), &found.network)
                }
                if first == 0x2F || first == 0x7E, (t.hasPrefix("/") || t.hasPrefix("~/")) && !t.contains(" ") { add(t, &found.paths) }
            case .array(let items): for i in items { walk(i, key: key) }
            case .object(let o): for (k, x) in o.members { walk(x, key: k) }
            default: break
            }
        }
        walk(arguments, key: "")
        return found
    }

    /// Hosts of every `scheme://host` in a text.
    static func urlHosts(_ s: String) -> [String] {
        guard s.contains("://") else { return [] }
        var out: [String] = []
        var rest = Substring(s)
        while let r = rest.range(of: "://") {
            var host = ""
            for c in rest[r.upperBound...] {
                if c == "/" || c == "?" || c == "#" || c == " " || c == "\"" || c == "'" || c == ")" || c == ">" { break }
                host.append(c)
            }
            if let at = host.lastIndex(of: "@") { host = String(host[host.index(after: at)...]) }
            if host.hasPrefix("["), let close = host.firstIndex(of: "]") { host = String(host[host.index(after: host.startIndex)..<close]) }
            else if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
            if !host.isEmpty { out.append(host.lowercased()) }
            rest = rest[r.upperBound...]
        }
        return out
    }

    static func isEmail(_ s: String) -> Bool {
        guard let at = s.firstIndex(of: "@"), at != s.startIndex else { return false }
        let domain = s[s.index(after: at)...]
        return domain.contains(".") && !domain.contains("@") && !s.contains(" ") && !s.contains("/")
    }

    static func isHost(_ s: String) -> Bool {
        guard s.count >= 3, s.count <= 253, s.contains(".") else { return false }
        return s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" } && !s.hasPrefix(".") && !s.hasSuffix(".")
    }
}
