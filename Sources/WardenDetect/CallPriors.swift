import Foundation
import WardenCore

/// Judgements of one call that need no history: where it is going and what its arguments look
/// like against the tool's own schema. Baselines learn a tool's normal use from its calls; these
/// fire on the first call, and on tools too seldom called to have a baseline.
///
/// Each says what it saw and what was expected, so the operator can judge the alert.
public enum CallPriors {
    /// The priors a call breaks. `hosts` are the canonical destinations `Destinations.find` read
    /// from the arguments (so every spelling of an address is already one form); `schema` is the
    /// tool's `inputSchema`.
    public static func judge(arguments: JSONValue, hosts: [String], schema: JSONObject?) -> [CallPrior] {
        var out: [CallPrior] = []
        var seen: Set<String> = []
        func add(_ p: CallPrior) { if seen.insert(p.prior + "|" + p.subject).inserted { out.append(p) } }
        for entry in hosts {
            let host = entry.split(separator: "@").last.map(String.init) ?? entry
            for p in hostPriors(host) { add(p) }
        }
        var urls: [String] = []
        collectURLs(arguments, into: &urls)
        for url in urls { for p in urlPriors(url) { add(p) } }
        if let schema { judge(arguments, against: schema, path: "", depth: 0) { add($0) } }
        // One call naming thousands of hosts is one finding, not thousands of alerts.
        guard out.count > maxPerCall else { return out }
        return Array(out.prefix(maxPerCall)) + [CallPrior(prior: "call.many-priors", subject: "",
            seen: "\(out.count) priors broken in one call (the first \(maxPerCall) reported)", expected: "a call names a destination or two")]
    }

    static let maxPerCall = 5

    /// Each argument against its property's schema, into nested objects and arrays (four levels):
    /// a payload one level down is as much a payload.
    static func judge(_ value: JSONValue, against schema: JSONObject, path: String, depth: Int, _ add: (CallPrior) -> Void) {
        guard depth < 4 else { return }
        let schema = resolved(schema)
        switch value {
        case .object(let o):
            guard let properties = schema["properties"]?.objectValue else { return }
            for (name, child) in o.members {
                guard let property = properties[name]?.objectValue else { continue }
                let childPath = path.isEmpty ? name : path + "." + name
                if child.stringValue != nil {
                    for p in schemaPriors(name: childPath, value: child, property: resolved(property)) { add(p) }
                } else {
                    judge(child, against: property, path: childPath, depth: depth + 1, add)
                }
            }
        case .array(let items):
            guard let item = schema["items"]?.objectValue else { return }
            for (i, child) in items.prefix(100).enumerated() {
                let childPath = path + "[\(i)]"
                if child.stringValue != nil {
                    for p in schemaPriors(name: childPath, value: child, property: resolved(item)) { add(p) }
                } else {
                    judge(child, against: item, path: childPath, depth: depth + 1, add)
                }
            }
        default:
            return
        }
    }

    // MARK: Destinations

    static func hostPriors(_ host: String) -> [CallPrior] {
        let h = host.lowercased()
        if isIPLiteral(h) {
            // Loopback is this machine; 0.x.x.x is what a bare number ("page 2") reads as, never a host.
            if isLoopback(h) || h.hasPrefix("0.") || h == "::" { return [] }
            let metadata = h == "169.254.169.254" || h == "fd00:ec2::254"
            if !metadata, isPrivate(h) {
                return [CallPrior(prior: "destination.private-address", subject: h, seen: "a call to the private address \(h)",
                                  expected: "tools reach named hosts; a private address from an agent is a probe of the local network")]
            }
            return [CallPrior(prior: "destination.ip-literal", subject: h,
                              seen: metadata ? "a call to \(h), the cloud metadata address" : "a call to the address \(h), not a name",
                              expected: "tools reach named hosts; an address literal is how command-and-control and metadata theft avoid DNS")]
        }
        if metadataNames.contains(h) {
            return [CallPrior(prior: "destination.ip-literal", subject: h, seen: "a call to \(h), a cloud metadata name",
                              expected: "tools reach services; the metadata service hands out the machine's credentials")]
        }
        if let suffix = addressNameSuffixes.first(where: { h.hasSuffix("." + $0) }), h.split(separator: ".").contains(where: { $0.allSatisfy(\.isNumber) }) {
            return [CallPrior(prior: "destination.ip-literal", subject: h, seen: "a call to \(h), an address spelt as a name (\(suffix))",
                              expected: "tools reach named hosts; wildcard DNS that echoes an address is an address literal in disguise")]
        }
        var out: [CallPrior] = []
        if let suffix = tunnelSuffixes.first(where: { h == $0 || h.hasSuffix("." + $0) }) {
            out.append(CallPrior(prior: "destination.tunnel", subject: h, seen: "a call to \(h) (\(suffix): dynamic DNS, a tunnel or a request catcher)",
                                 expected: "such hosts move or capture data for whoever holds them; ordinary services have names of their own"))
        }
        let labels = h.split(separator: ".").map(String.init)
        // Hosting platforms name deployments with hashes: not chosen by an attacker's generator.
        if platformSuffixes.contains(where: { h.hasSuffix("." + $0) }) { return out }
        // The registrable label and the labels under it; the top-level label says nothing.
        // Hyphenated names are judged piece by piece (`my-app-git-feature-abc123`).
        for label in labels.dropLast() where !label.hasPrefix("xn--") {
            if let why = label.split(separator: "-").lazy.compactMap({ randomLooking(String($0)) }).first {
                out.append(CallPrior(prior: "destination.random-label", subject: h, seen: "host label '\(label)': \(why)",
                                     expected: "names people chose: words, abbreviations, fewer than 3.5 bits of entropy a character"))
                break
            }
        }
        return out
    }

    /// Dynamic DNS, tunnels and request catchers: hosts anyone can point anywhere, or that hand
    /// what they receive to whoever made them.
    static let tunnelSuffixes = [
        "ngrok.io", "ngrok-free.app", "ngrok.app", "trycloudflare.com", "loca.lt", "localtunnel.me", "serveo.net", "pagekite.me",
        "duckdns.org", "no-ip.org", "no-ip.biz", "noip.me", "ddns.net", "dyndns.org", "dynu.net", "hopto.org", "zapto.org", "sytes.net",
        "servebeer.com", "freedns.afraid.org", "webhook.site", "requestbin.com", "pipedream.net", "burpcollaborator.net", "oastify.com",
        "interact.sh", "oast.fun", "oast.live", "oast.me", "oast.pro", "oast.site", "canarytokens.com", "beeceptor.com", "mocky.io",
        "portmap.io", "bore.pub", "localhost.run", "lhr.life", "telebit.io", "playit.gg", "ngrok-free.dev", "ngrok.dev", "devtunnels.ms",
        "pinggy.link", "pinggy.io", "loclx.io", "zrok.io", "tunnelmole.net", "requestcatcher.com", "interactsh.com", "oast.online",
        "dnslog.cn", "ceye.io",
    ]

    static func isIPLiteral(_ h: String) -> Bool {
        if h.contains(":") { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }
    }

    static func isLoopback(_ h: String) -> Bool { (isIPLiteral(h) && h.hasPrefix("127.")) || h == "::1" || h == "[::1]" || h == "::ffff:7f00:1" }

    static func isPrivate(_ h: String) -> Bool {
        let p = h.split(separator: ".").compactMap { Int($0) }
        if p.count == 4 {
            return p[0] == 10 || (p[0] == 172 && (16...31).contains(p[1])) || (p[0] == 192 && p[1] == 168) || (p[0] == 169 && p[1] == 254)
                || (p[0] == 100 && (64...127).contains(p[1]))
        }
        return h.hasPrefix("fc") || h.hasPrefix("fd") || h.hasPrefix("fe80:")
    }

    static let metadataNames: Set<String> = ["metadata.google.internal", "metadata.goog", "instance-data.ec2.internal", "instance-data", "metadata.azure.com"]

    /// Wildcard DNS that answers with the address written in the name (`10.0.0.1.nip.io`).
    static let addressNameSuffixes = ["nip.io", "sslip.io", "xip.io", "localtest.me", "traefik.me", "nip.direct"]

    /// Hosting platforms whose deployment hosts carry hashes and ids.
    static let platformSuffixes = [
        "vercel.app", "run.app", "amazonaws.com", "cloudfront.net", "supabase.co", "app.github.dev", "github.dev", "herokuapp.com",
        "firebaseapp.com", "web.app", "netlify.app", "azurewebsites.net", "core.windows.net", "googleusercontent.com", "cloudfunctions.net",
        "pages.dev", "workers.dev", "fly.dev", "onrender.com", "appspot.com", "azurecontainerapps.io", "elb.amazonaws.com",
    ]

    /// Why a host label looks generated (by an algorithm, or to carry data), or nil.
    static func randomLooking(_ label: String) -> String? {
        let scalars = Array(label.unicodeScalars)
        guard scalars.count >= 12 else { return nil }
        if scalars.count >= 24, scalars.allSatisfy({ $0.properties.isASCIIHexDigit }) { return "\(scalars.count) hexadecimal digits (data carried in the name)" }
        let letters = scalars.filter { $0.properties.isAlphabetic }
        let digits = scalars.filter { ("0"..."9").contains($0) }.count
        let vowels = letters.filter { "aeiouy".unicodeScalars.contains($0) }.count
        var text = label
        let entropy = text.withUTF8 { SecretScanner.entropy(UnsafeRawBufferPointer($0), 0..<$0.count) }
        let vowelShare = letters.isEmpty ? 0 : Double(vowels) / Double(letters.count)
        if entropy >= 3.5, vowelShare < 0.2 || (digits >= 3 && digits * 4 < scalars.count * 3 && entropy >= 3.7) {
            return "\(scalars.count) characters, \(format(entropy)) bits of entropy a character, \(Int(vowelShare * 100))% vowels"
        }
        return nil
    }

    static func format(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func collectURLs(_ v: JSONValue, into out: inout [String]) {
        switch v {
        case .string(let s):
            guard s.utf8.count >= 4, s.contains("://") else { return }
            // Bytes, not characters: a megabyte of combining marks must not cost seconds. Only words
            // with a port, a query or a long path can break a URL prior; each is read to 4 KiB at most.
            let separators: Set<UInt8> = [0x20, 0x0A, 0x0D, 0x09, 0x22, 0x3C, 0x3E, 0x28, 0x29, 0x27]
            for word in s.utf8.split(whereSeparator: { separators.contains($0) }) where word.count > 3 && out.count < maxURLs {
                let head = word.prefix(4096)
                guard let text = String(head), text.contains("://"),
                      text.contains("?") || text.utf8.count >= 72 || text.split(separator: "/").dropFirst().first?.contains(":") == true else { continue }
                out.append(text)
            }
        case .array(let items): for x in items { collectURLs(x, into: &out) }
        case .object(let o): for (_, x) in o.members { collectURLs(x, into: &out) }
        default: break
        }
    }

    static let usualPorts: Set<Int> = [80, 443, 8080, 8443]
    static let maxURLs = 64

    /// Schemes whose own default port is no surprise.
    static let schemePorts: [String: Int] = ["postgres": 5432, "postgresql": 5432, "redis": 6379, "rediss": 6380, "mongodb": 27017, "mysql": 3306,
                                             "ssh": 22, "sftp": 22, "ftp": 21, "amqp": 5672, "amqps": 5671, "ldap": 389, "ldaps": 636, "nats": 4222]

    /// Hosts on the operator's own network: ports there are whatever the operator runs.
    static func isLocal(_ host: String) -> Bool {
        host == "localhost" || host.hasSuffix(".localhost") || host.hasSuffix(".internal") || host.hasSuffix(".local") || host.hasSuffix(".lan")
            || host.hasSuffix(".home.arpa") || !host.contains(".") || isLoopback(host) || (isIPLiteral(host) && isPrivate(host))
    }

    /// Query parameters that carry signatures, cursors and OAuth exchanges by design.
    static let signatureParameters: Set<String> = ["sig", "signature", "code_challenge", "state", "code", "after", "before", "cursor", "pagetoken",
                                                   "page_token", "nexttoken", "next_token", "continuation", "sha", "head_sha"]

    /// Query parameters that carry what a person searches for: prose, any length.
    static let searchParameters: Set<String> = ["q", "query", "search", "jql", "text", "keywords"]

    static func urlPriors(_ url: String) -> [CallPrior] {
        guard let schemeEnd = url.range(of: "://") else { return [] }
        let rest = url[schemeEnd.upperBound...]
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "\\" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var out: [CallPrior] = []
        // The port: after the last colon, outside an IPv6 literal's brackets.
        let hostPart: Substring
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]"), let port = Int(authority[authority.index(after: colon)...]) {
            hostPart = authority[..<colon]
            let host = hostPart.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]."))
            if !usualPorts.contains(port), schemePorts[scheme] != port, !isLocal(host) {
                out.append(CallPrior(prior: "destination.port", subject: "\(host):\(port)", seen: "port \(port) on \(host)",
                                     expected: "web services answer on 80, 443, 8080 or 8443; other ports are where listeners and shells wait"))
            }
        } else {
            hostPart = authority
        }
        // Data in the path: a segment that is a long encoded blob is carried, not named.
        let path = rest[authorityEnd...].prefix { $0 != "?" && $0 != "#" }
        if let segment = path.split(whereSeparator: { $0 == "/" || $0 == "\\" }).first(where: { $0.count >= 64 && looksEncoded(String($0)) }) {
            out.append(CallPrior(prior: "destination.path-data", subject: String(hostPart).lowercased(),
                                 seen: "a path segment of \(segment.count) characters of encoded data",
                                 expected: "paths that name a page: words, ids and digests"))
        }
        if let q = rest[authorityEnd...].firstIndex(of: "?") {
            let query = rest[rest.index(after: q)...].prefix { $0 != "#" }
            // Values as the server reads them: percent-encoded prose is prose.
            let pairs = query.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).map { Substring($0.removingPercentEncoding ?? String($0)) } }
            // Signatures, cursors and search terms are long by design; a 40- or 64-digit hex value is a digest.
            let kept = pairs.filter { p in
                let name = p.first.map { $0.lowercased() } ?? ""
                let value = p.count > 1 ? p[1] : ""
                let digest = (value.count == 40 || value.count == 64) && value.allSatisfy(\.isHexDigit)
                return !signatureParameters.contains(name) && !name.hasPrefix("x-amz-") && !name.hasPrefix("x-goog-") && !digest
            }
            // Search terms are long prose by design, but never an encoded blob: they are judged by
            // the blob test only.
            let prose = kept.filter { searchParameters.contains($0.first.map { $0.lowercased() } ?? "") }
            let measured = kept.filter { !searchParameters.contains($0.first.map { $0.lowercased() } ?? "") }
            let values = measured.map { $0.count > 1 ? String($0[1]) : "" }
            let longest = values.max { $0.count < $1.count } ?? ""
            let judged = measured.reduce(0) { $0 + $1.reduce(1) { $0 + $1.count } }
            let blob = prose.compactMap { $0.count > 1 ? String($0[1]) : nil }.first { $0.count >= 40 && looksEncoded($0) }
            if let blob {
                out.append(CallPrior(prior: "destination.query-data", subject: String(hostPart).lowercased(),
                                     seen: "a search term of \(blob.count) characters of encoded data",
                                     expected: "search terms are words people type"))
            } else if judged >= 300 || longest.count >= 100 || (longest.count >= 40 && looksEncoded(longest)) {
                out.append(CallPrior(prior: "destination.query-data", subject: String(hostPart).lowercased(),
                                     seen: "a query string of \(query.count) characters (its longest value \(longest.count)\(looksEncoded(longest) ? ", encoded-looking" : ""))",
                                     expected: "queries that name what to fetch: short words and ids, under 100 characters a value"))
            }
        }
        return out
    }

    /// Base64, base64url or hex with no spaces: what a payload looks like, not what people type.
    static func looksEncoded(_ s: String) -> Bool {
        guard s.utf8.count >= 32 else { return false }
        var hex = true, b64 = true, upper = false, lower = false, digit = false
        for c in s.utf8 {
            let isDigit = c >= 0x30 && c <= 0x39
            if !(isDigit || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66)) { hex = false }
            if !(Decoding.isBase64(c) || c == 0x3D) { b64 = false }
            if c >= 0x41 && c <= 0x5A { upper = true }
            if c >= 0x61 && c <= 0x7A { lower = true }
            if isDigit { digit = true }
        }
        return hex || (b64 && upper && lower && digit)
    }

    // MARK: Arguments against the schema

    /// Parameter names whose values are payloads by design.
    static let payloadWords = ["content", "data", "body", "file", "image", "attachment", "blob", "base64", "bytes", "payload", "text", "code", "patch", "diff"]

    static let shortFormats: [String: Int] = ["uri": 2048, "url": 2048, "email": 320, "hostname": 253, "ipv4": 15, "ipv6": 45, "date": 10,
                                              "date-time": 40, "time": 20, "uuid": 36, "duration": 40]

    /// An optional parameter's schema as its generators write it (`anyOf: [{…}, {type: null}]`):
    /// the member that is not null.
    static func resolved(_ property: JSONObject) -> JSONObject {
        for key in ["anyOf", "oneOf"] {
            if let members = property[key]?.arrayValue,
               let first = members.lazy.compactMap(\.objectValue).first(where: { $0["type"]?.stringValue != "null" }) {
                var merged = first
                for (k, v) in property.members where k != key { merged[k] = v }
                return merged
            }
        }
        return property
    }

    /// The words of a parameter name (`fileName`, `file_name`, `file-name` → file, name).
    static func words(_ name: String) -> [String] {
        var out: [String] = [], current = ""
        for c in name {
            if c == "_" || c == "-" || c == "." || (c.isUppercase && !current.isEmpty) {
                if !current.isEmpty { out.append(current.lowercased()) }
                current = c.isLetter || c.isNumber ? String(c) : ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { out.append(current.lowercased()) }
        return out
    }

    static func schemaPriors(name: String, value: JSONValue, property: JSONObject) -> [CallPrior] {
        guard let s = value.stringValue else { return [] }
        let length = s.unicodeScalars.count
        var out: [CallPrior] = []
        if let max = property["maxLength"]?.intValue, length > max {
            out.append(CallPrior(prior: "argument.size", subject: name, seen: "'\(name)' is \(length) characters", expected: "the schema allows at most \(max)"))
        } else if let format = property["format"]?.stringValue, let max = shortFormats[format], length > max * 2 {
            out.append(CallPrior(prior: "argument.size", subject: name, seen: "'\(name)' is \(length) characters", expected: "a \(format) is at most about \(max)"))
        }
        if let options = property["enum"]?.arrayValue, !options.isEmpty, !options.contains(value) {
            out.append(CallPrior(prior: "argument.enum", subject: name, seen: "'\(name)' is a value the schema does not list (\(length) characters)",
                                 expected: "one of \(options.count) values the schema lists"))
        }
        // The parameter's own name: the last component of a nested path (`items[2].data` → data).
        let leaf = name.split(whereSeparator: { $0 == "." || $0 == "[" }).last.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "]0123456789")) } ?? name
        let nameWords = words(leaf.isEmpty ? name : leaf)
        if length >= 256, property["contentEncoding"] == nil, property["contentMediaType"] == nil,
           !nameWords.contains(where: payloadWords.contains), looksEncoded(s) {
            out.append(CallPrior(prior: "argument.encoded", subject: name, seen: "'\(name)' carries \(length) characters of encoded data",
                                 expected: "the schema declares no encoded content for it"))
        }
        return out
    }
}
