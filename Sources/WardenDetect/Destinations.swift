import Foundation
import WardenCore

/// Where a call's arguments point: network destinations (URL hosts, host and IP values, e-mail
/// addresses) for egress policy, and file paths for behaviour monitoring.
///
/// The arguments are written by a model an attacker may steer, for a server that may itself be
/// hostile, so a destination counts however the server's URL parser could read it: URLs are read
/// as the WHATWG URL Standard reads them (browsers, Node's `fetch`) and as RFC 3986 parsers do
/// (Python's `urllib`, `requests`, `httpx`, curl), and every host each reading yields is reported
/// in `CanonicalHost` form. Every string is read, at every depth, with no count limit, in time
/// linear in the arguments.
public enum Destinations {
    /// What a call's arguments point at, each entry once, in order of first appearance.
    public struct Found: Sendable, Equatable {
        /// Canonical hosts, IP addresses and e-mail addresses: `evil.com`, `xn--bcher-kva.de`,
        /// `127.0.0.1`, `::1`, `bob@example.com`. An IPv6 address that stands for an IPv4 one is
        /// reported as both.
        public var network: [String] = []
        /// File paths: values starting with `/` or `~/`, and the paths of `file:` URLs.
        public var paths: [String] = []

        /// A result with the given entries.
        public init(network: [String] = [], paths: [String] = []) {
            self.network = network
            self.paths = paths
        }
    }

    /// Walks the arguments and collects what they point at.
    public static func find(in arguments: JSONValue) -> Found {
        var collector = Collector()
        collector.walk(arguments, key: .other)
        return collector.found
    }

    /// What an argument's name says about its value: where a bare `evil.com:8080` or `127.1` is a
    /// destination rather than prose.
    enum KeyKind: Equatable {
        /// Nothing: only explicit URLs, `mailto:` and whole-value e-mail addresses count.
        case other
        /// Recipients and addresses (`to`, `cc`, `email`, `address`, `server`): dotted host names,
        /// four-part IPv4, IPv6 and e-mail addresses.
        case address
        /// URLs (`url`, `endpoint`, `webhook`): also short IPv4 forms, as a client prefixing
        /// `http://` would read them.
        case url
        /// Hosts (`host`, `hostname`, `ip`, `domain`): also single labels and bare numbers.
        case host

        static let exact: [String: KeyKind] = [
            "to": .address, "cc": .address, "bcc": .address, "target": .address, "remote": .host, "mx": .host,
        ]
        static let lastWord: [String: KeyKind] = [
            "host": .host, "hostname": .host, "hosts": .host, "hostnames": .host, "ip": .host, "ips": .host, "ipv4": .host, "ipv6": .host,
            "domain": .host, "domains": .host, "domainname": .host,
            "url": .url, "uri": .url, "urls": .url, "uris": .url, "link": .url, "links": .url, "href": .url, "src": .url,
            "endpoint": .url, "endpoints": .url, "webhook": .url, "webhooks": .url, "callback": .url, "proxy": .url, "baseurl": .url,
            "server": .address, "servers": .address, "address": .address, "addresses": .address, "addr": .address,
            "email": .address, "emails": .address, "mail": .address, "recipient": .address, "recipients": .address,
        ]

        /// The kind of a key: `callbackUrl`, `callback_url` and `CALLBACK-URL` all end in the word `url`.
        init(_ key: String) {
            guard !key.isEmpty, key.utf8.count <= 64 else { self = .other; return }
            var words: [String] = []
            var word = ""
            var previousLower = false
            for c in key.unicodeScalars {
                if c == "_" || c == "-" || c == "." || c == " " {
                    if !word.isEmpty { words.append(word) }
                    word = ""
                    previousLower = false
                    continue
                }
                let upper = c.properties.isUppercase
                if upper && previousLower, !word.isEmpty {
                    words.append(word)
                    word = ""
                }
                word.unicodeScalars.append(c)
                previousLower = !upper
            }
            if !word.isEmpty { words.append(word) }
            words = words.map { $0.lowercased() }
            if let kind = Self.exact[words.joined()] {
                self = kind
            } else if words.contains("ip") {
                self = .host  // `ipAddress`, `ip_addr`, `server_ip`
            } else if let last = words.last, let kind = Self.lastWord[last] {
                self = kind
            } else if words.count >= 2, let kind = Self.lastWord[words.suffix(2).joined()] {
                self = kind  // `hostName`, `baseUrl`
            } else {
                self = .other
            }
        }
    }
}

/// One walk over the arguments, with the sets that keep each entry once.
struct Collector {
    var found = Destinations.Found()
    private var seenNetwork: Set<String> = []
    private var seenPaths: Set<String> = []

    /// Hosts already canonicalised in this walk: the readings of one URL (WHATWG and RFC 3986,
    /// whole value and prose) and repeated hosts cost one parse.
    private var hosts: [HostBytes: CanonicalHost?] = [:]
    /// The bytes of the host reported last, which the next reading of the same URL usually finds
    /// again. Only valid while the buffer it points into lives: `scan` and `wholeValue` reset it.
    var lastSpan: (UnsafePointer<UInt8>, Int)?

    mutating func canonical(_ raw: some Collection<UInt8>) -> CanonicalHost? {
        let key = HostBytes(bytes: Array(raw))
        if let known = hosts[key] { return known }
        let host = CanonicalHost(utf8: key.bytes)
        hosts[key] = host
        return host
    }

    /// A host as written, hashed in one call rather than byte by byte (`[UInt8]`'s hash).
    struct HostBytes: Hashable {
        var bytes: [UInt8]
        func hash(into hasher: inout Hasher) {
            bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    mutating func addNetwork(_ name: String) {
        if seenNetwork.insert(name).inserted { found.network.append(name) }
    }

    mutating func add(_ host: CanonicalHost) {
        for name in host.names { addNetwork(name) }
    }

    mutating func addPath(_ path: String) {
        if seenPaths.insert(path).inserted { found.paths.append(path) }
    }

    mutating func walk(_ value: JSONValue, key: Destinations.KeyKind) {
        switch value {
        case .string(let s): scan(s, key: key, isKey: false)
        case .array(let items): for item in items { walk(item, key: key) }
        case .object(let o):
            for (k, v) in o.members {
                // A server may read keys too (a map of URLs to options), so keys are read for URLs.
                scan(k, key: .other, isKey: true)
                walk(v, key: Destinations.KeyKind(k))
            }
        default: break
        }
    }

    mutating func scan(_ text: String, key: Destinations.KeyKind, isKey: Bool) {
        var utf8 = text
        utf8.withUTF8 { bytes in scan(bytes, text: text, key: key, isKey: isKey) }
    }

    mutating func scan(_ b: UnsafeBufferPointer<UInt8>, text: String, key: Destinations.KeyKind, isKey: Bool) {
        guard let first = b.first else { return }
        lastSpan = nil
        // Cheap tests first: most argument strings are prose or identifiers with no `:`, `/`, `\` or `@`.
        var colon = false, slash = false, at = false, space = false
        for c in b {
            switch c {
            case 0x3A: colon = true
            case 0x2F, 0x5C: slash = true
            case 0x40: at = true
            case 0x20: space = true
            default: break
            }
        }
        if !isKey, first == 0x2F || (first == 0x7E && b.count > 1 && b[1] == 0x2F), !space { addPath(text) }
        if colon || slash {
            wholeValue(b, key: key)
            inProse(b)
        }
        if !isKey, key != .other {
            bare(b, key: key)
        } else if at, !colon, let email = Self.email(Substring(text).trimmingCharacters(in: .whitespaces)[...], lenient: false) {
            for e in email { addNetwork(e) }
        }
    }

    /// Values under destination keys: hosts, `host:port`, `host/path` and e-mail addresses, as many
    /// as the value lists (`a@x.com, b@y.com`).
    mutating func bare(_ b: UnsafeBufferPointer<UInt8>, key: Destinations.KeyKind) {
        var start = 0
        func isSeparator(_ c: UInt8) -> Bool { c == 0x2C || c == 0x3B || c <= 0x20 }
        while start < b.count {
            while start < b.count, isSeparator(b[start]) { start += 1 }
            var end = start
            while end < b.count, !isSeparator(b[end]) { end += 1 }
            if end > start { barePart(UnsafeBufferPointer(rebasing: b[start..<end]), key: key) }
            start = end
        }
    }

    mutating func barePart(_ part: UnsafeBufferPointer<UInt8>, key: Destinations.KeyKind) {
        var lo = 0, hi = part.count
        // `Bob <bob@example.com>`, `"bob@example.com"`, `(evil.com)`.
        while lo < hi, [0x3C, 0x28, 0x22, 0x27].contains(part[lo]) { lo += 1 }
        while hi > lo, [0x3E, 0x29, 0x22, 0x27].contains(part[hi - 1]) { hi -= 1 }
        var p = part[lo..<hi]
        while p.count > 7, Self.hasPrefixIgnoringCase(p, "mailto:") { p = p.dropFirst(7) }
        guard let first = p.first else { return }
        if p.contains(0x40) {
            if let email = Self.email(String(decoding: p, as: UTF8.self)[...], lenient: false) { for e in email { addNetwork(e) } }
            return
        }
        // A scheme (`http:`, `ftp://`) was read as a URL already; `evil.com:8080` has none a client knows.
        if let colon = p.firstIndex(of: 0x3A), colon > p.startIndex {
            let scheme = String(decoding: p[p.startIndex..<colon], as: UTF8.self).lowercased()
            if URLSchemes.special.contains(scheme) || URLSchemes.network.contains(scheme) || scheme == "file" || scheme == "mailto" { return }
            if p[(colon + 1)...].starts(with: [0x2F, 0x2F]) { return }
        }
        var hostEnd = p.endIndex
        if first == 0x5B {
            if let close = p.firstIndex(of: 0x5D) { hostEnd = close + 1 }
        } else if key == .host, p.lazy.filter({ $0 == 0x3A }).count >= 2 {
            // A bare IPv6 address (`fe80::1`, `::ffff:127.0.0.1/128`): no port can follow it unbracketed.
            hostEnd = p.firstIndex { $0 == 0x2F || $0 == 0x25 } ?? p.endIndex
        } else {
            hostEnd = p.firstIndex { $0 == 0x3A || $0 == 0x2F || $0 == 0x5C || $0 == 0x3F || $0 == 0x23 } ?? p.endIndex
        }
        let raw = p[p.startIndex..<hostEnd]
        guard let host = canonical(raw), host.isValid else { return }
        let urlish = hostEnd < p.endIndex  // a port or a path follows: a client would connect
        switch host.kind {
        case .ipv6: add(host)
        case .ipv4:
            let parts = raw.split(separator: 0x2E, omittingEmptySubsequences: false).count
            if parts == 4 || key == .host || key == .url || (urlish && parts > 1) { add(host) }
        case .domain:
            guard Self.isHostName(host.text) else { return }
            if host.text.contains(".") || key == .host || host.text == "localhost" { add(host) }
        }
    }

    /// Letters, digits, `-` and `_` in dot-separated labels: what a resolver looks up (a bare value
    /// with other characters is prose, not a host).
    static func isHostName(_ text: String) -> Bool {
        !text.hasPrefix(".") && text.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }

    static func hasPrefixIgnoringCase(_ bytes: some Collection<UInt8>, _ prefix: String) -> Bool {
        guard bytes.count >= prefix.utf8.count else { return false }
        return zip(bytes, prefix.utf8).allSatisfy { a, b in (a >= 0x41 && a <= 0x5A ? a | 0x20 : a) == b }
    }

    /// An e-mail address in canonical form (local part lower-cased, domain a `CanonicalHost`), one
    /// entry per reading of the domain; `nil` when the text is not one. `lenient` (a `mailto:` URL,
    /// which says it is an address) keeps domains the standard refuses, as URL hosts are kept.
    static func email(_ text: Substring, lenient: Bool) -> [String]? {
        // The last `@` ends the local part: `"a@b"@evil.com` is delivered to evil.com.
        guard let at = text.lastIndex(of: "@"), at > text.startIndex else { return nil }
        let local = text[..<at]
        var domain = text[text.index(after: at)...]
        guard !domain.isEmpty else { return nil }
        if !lenient, local.contains(where: { $0 == " " || $0 == "/" || $0 == "<" || $0 == ">" || $0.isNewline }) { return nil }
        // An address literal: `[192.0.2.1]` or `[IPv6:2001:db8::1]` (RFC 5321 section 4.1.3).
        if domain.hasPrefix("["), domain.hasSuffix("]") {
            var inner = domain.dropFirst().dropLast()
            if inner.lowercased().hasPrefix("ipv6:") { inner = inner.dropFirst(5); domain = "[" + inner + "]" } else { domain = inner }
        }
        guard let host = CanonicalHost(domain) else { return nil }
        if !lenient {
            guard host.isValid, host.kind != .domain || (host.text.contains(".") && isHostName(host.text)) else { return nil }
        }
        let l = local.lowercased()
        return host.names.map { l + "@" + $0 }
    }
}
