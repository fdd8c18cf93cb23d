import Foundation
import WardenCore

/// URL schemes whose hosts clients connect to.
enum URLSchemes {
    /// The WHATWG special schemes other than `file`: `\` is a slash, and any number of slashes
    /// (none included: `http:evil.com`) may come before the host.
    static let special: Set<String> = ["http", "https", "ws", "wss", "ftp"]
    /// Schemes curl connects with; it accepts one to three slashes of either kind before the host.
    static let network: Set<String> = [
        "dict", "ftps", "gopher", "gophers", "imap", "imaps", "ldap", "ldaps", "mqtt", "mqtts", "pop3", "pop3s",
        "rtmp", "rtmps", "rtsp", "scp", "sftp", "smb", "smbs", "smtp", "smtps", "telnet", "tftp",
    ]
    /// Every scheme read specially; in prose, a word ending in one (`xhttp:\\evil.com`) is read as it,
    /// as a regular expression searching for `http:` would.
    static let known: [String] = ["mailto", "file"] + special.sorted() + network.sorted()
    static let knownBytes: [(String, [UInt8])] = known.map { ($0, Array($0.utf8)) }
}

extension Collector {
    /// The whole value read as one URL, as a server handing it to its HTTP client would. The
    /// standard strips leading and trailing C0 controls and spaces and removes tabs and newlines
    /// anywhere (https://url.spec.whatwg.org/#concept-basic-url-parser), and so does Python's `urlsplit`.
    mutating func wholeValue(_ b: UnsafeBufferPointer<UInt8>, key: Destinations.KeyKind) {
        var lo = 0, hi = b.count
        while lo < hi, b[lo] <= 0x20 { lo += 1 }
        while hi > lo, b[hi - 1] <= 0x20 { hi -= 1 }
        guard lo < hi else { return }
        let trimmed = UnsafeBufferPointer(rebasing: b[lo..<hi])
        if trimmed.contains(where: { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
            let clean = trimmed.filter { $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
            clean.withUnsafeBufferPointer { wholeURL($0, key: key) }
            lastSpan = nil  // it pointed into `clean`, which is gone
        } else {
            wholeURL(trimmed, key: key)
        }
    }

    private mutating func wholeURL(_ b: UnsafeBufferPointer<UInt8>, key: Destinations.KeyKind) {
        guard let first = b.first else { return }
        var reader = URLReader(b, inProse: false)
        if isASCIILetter(first) {
            var i = 1
            while i < b.count, isSchemeByte(b[i]) { i += 1 }
            if i < b.count, b[i] == 0x3A {
                reader.read(scheme: lowercasedASCII(b[0..<i]), colon: i, into: &self)
                return
            }
        }
        // `//evil.com/x` or `\\evil.com`: scheme-relative, resolved against an http(s) base. Under
        // a key that is not about destinations it may be a path (`//etc/passwd`), so only a host
        // that looks like one counts there.
        if b.count > 2, isSlash(b[0]), isSlash(b[1]) {
            reader.schemeRelative(at: 0, heuristic: key == .other, into: &self)
        }
    }

    /// URLs inside prose: every `scheme:` and every `//` that starts an attribute or link value
    /// (`src="//evil.com"`, `](//evil.com)`), each read the way `wholeValue` reads a URL, ending
    /// where prose around a URL does (white space, quotes, brackets).
    mutating func inProse(_ b: UnsafeBufferPointer<UInt8>) {
        var reader = URLReader(b, inProse: true)
        var i = 0
        while i < b.count {
            let c = b[i]
            if c == 0x3A {
                if let scheme = reader.scheme(endingAt: i) { reader.read(scheme: scheme, colon: i, into: &self) }
            } else if isSlash(c), i > 0, i + 1 < b.count, isSlash(b[i + 1]), [0x3D, 0x22, 0x27, 0x28].contains(b[i - 1]) {
                reader.schemeRelative(at: i, heuristic: true, into: &self)
            }
            i += 1
        }
    }
}

/// Reads the URLs of one text: the WHATWG reading and the RFC 3986 reading of each authority.
struct URLReader {
    let b: UnsafeBufferPointer<UInt8>
    let inProse: Bool
    /// Authorities as the standard reads special schemes: `\` ends them like `/`.
    var whatwg: AuthorityScanner
    /// Authorities after exactly `//`, as RFC 3986 parsers (Python, urllib3, httpx, Go) read them: `\` is data.
    var rfc: AuthorityScanner
    /// Where the last `mailto:` and `file:` URL ended: one nested in another was read with it, and
    /// reading it again would make `mailto:mailto:…` quadratic.
    var mailtoEnd = -1, fileEnd = -1

    init(_ b: UnsafeBufferPointer<UInt8>, inProse: Bool) {
        self.b = b
        self.inProse = inProse
        whatwg = AuthorityScanner(b, backslashIsSlash: true, inProse: inProse)
        rfc = AuthorityScanner(b, backslashIsSlash: false, inProse: inProse)
    }

    /// The scheme of a `:` in prose: the known scheme the word before it ends with (`xhttp:` is
    /// read as `http:`, as a pattern searching for `http:` would), `""` for another word, `nil` for none.
    func scheme(endingAt colon: Int) -> String? {
        var s = colon
        while s > 0, isSchemeByte(b[s - 1]) { s -= 1 }
        while s < colon, !isASCIILetter(b[s]) { s += 1 }
        guard s < colon else { return nil }
        var best: (name: String, length: Int)?
        for (name, bytes) in URLSchemes.knownBytes where bytes.count <= colon - s && bytes.count > (best?.length ?? 0) {
            var k = 0
            // `| 0x20` lower-cases letters and leaves digits, `+`, `-` and `.` as they are.
            while k < bytes.count, b[colon - bytes.count + k] | 0x20 == bytes[k] { k += 1 }
            if k == bytes.count { best = (name, bytes.count) }
        }
        return best?.name ?? ""
    }

    mutating func read(scheme: String, colon c: Int, into collector: inout Collector) {
        switch scheme {
        case "file": file(colon: c, into: &collector)
        case "mailto": mailto(colon: c, into: &collector)
        case "":
            // A word that is no scheme a client knows: only an RFC 3986 authority (`x-app://host`) counts.
            if c + 2 < b.count, b[c + 1] == 0x2F, b[c + 2] == 0x2F { report(rfc.host(from: c + 3), heuristic: false, into: &collector) }
        default:
            var p = c + 1
            while p < b.count, isSlash(b[p]) { p += 1 }
            if URLSchemes.special.contains(scheme) || (URLSchemes.network.contains(scheme) && p > c + 1) {
                report(whatwg.host(from: p), heuristic: false, into: &collector)
            }
            if c + 2 < b.count, b[c + 1] == 0x2F, b[c + 2] == 0x2F {
                report(rfc.host(from: c + 3), heuristic: false, into: &collector)
            }
        }
    }

    mutating func schemeRelative(at i: Int, heuristic: Bool, into collector: inout Collector) {
        var p = i
        while p < b.count, isSlash(b[p]) { p += 1 }
        report(whatwg.host(from: p), heuristic: heuristic, into: &collector)
        if b[i] == 0x2F, b[i + 1] == 0x2F { report(rfc.host(from: i + 2), heuristic: heuristic, into: &collector) }
    }

    /// Adds a host. `heuristic` (a `//` that may be a path) keeps only valid hosts that look like
    /// one; a URL's host counts even when the standard refuses it, since some client may not.
    func report(_ range: Range<Int>?, heuristic: Bool, into collector: inout Collector) {
        guard let range, !range.isEmpty else { return }
        // The readings of one URL (WHATWG and RFC 3986, whole value and prose) mostly find the same bytes.
        let span = (b.baseAddress! + range.lowerBound, range.count)
        if let last = collector.lastSpan, last == span { return }
        collector.lastSpan = span
        guard let host = collector.canonical(b[range]) else { return }
        // No resolver or client connects to a name with white space or controls in it (`HTTP: 404 Not Found`).
        guard !host.text.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else { return }
        if heuristic {
            guard host.isValid, host.kind != .domain || (host.text.contains(".") && Collector.isHostName(host.text)) else { return }
        }
        collector.add(host)
        // In prose the host may run into punctuation (`http://evil.com**`, `evil.com!`, `evil.com，`):
        // a server extracting the URL with its own pattern stops earlier, so the name-like start counts too.
        if inProse, b[range.lowerBound] != 0x5B, !Collector.isHostName(host.text), let prefix = nameLikePrefix(b[range]),
           let short = collector.canonical(prefix) {
            collector.add(short)
        }
    }

    /// The longest start of a host made of what names are made of (letters, digits, marks, `-`,
    /// `_`, `%`, dots), if shorter than the host.
    func nameLikePrefix(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8]? {
        let text = String(decoding: bytes, as: UTF8.self)
        var prefix = String.UnicodeScalarView()
        for u in text.unicodeScalars {
            let ok: Bool
            if u.isASCII {
                let c = UInt8(u.value)
                ok = isASCIILetter(c) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E || c == 0x5F || c == 0x25
            } else {
                let p = u.properties
                ok = p.isAlphabetic || p.isDiacritic || p.generalCategory == .decimalNumber || p.generalCategory == .nonspacingMark
                    || u == "\u{3002}" || u == "\u{FF0E}" || u == "\u{FF61}"
            }
            guard ok else { break }
            prefix.append(u)
        }
        let result = Array(String(prefix).utf8)
        return result.isEmpty || result.count == bytes.count ? nil : result
    }

    /// `file:` URLs: a host after two slashes (a UNC share on Windows), and the path.
    mutating func file(colon c: Int, into collector: inout Collector) {
        guard c >= fileEnd else { return }
        var p = c + 1
        var slashes = 0
        while p < b.count, slashes < 2, isSlash(b[p]) { p += 1; slashes += 1 }
        if slashes == 2 {
            var e = p
            while e < b.count, !isSlash(b[e]), b[e] != 0x3F, b[e] != 0x23, !(inProse && isProseTerminator(b, e)) { e += 1 }
            let host = b[p..<e]
            // The standard reads `localhost` as no host, and `file://C:/x` as a drive letter.
            let drive = host.count == 2 && isASCIILetter(host[host.startIndex]) && (host.last == 0x3A || host.last == 0x7C)
            if !drive {
                if !host.isEmpty, lowercasedASCII(host) != "localhost", let h = collector.canonical(host) { collector.add(h) }
                p = e
            }
        }
        var e = p
        while e < b.count, b[e] != 0x3F, b[e] != 0x23, !(inProse && isProseTerminator(b, e)) { e += 1 }
        fileEnd = e
        let path = percentDecoded(b[p..<e]).map { $0 == 0x5C ? 0x2F : $0 }
        if path.first == 0x2F { collector.addPath(String(decoding: path, as: UTF8.self)) }
    }

    /// `mailto:a@x.com,b@y.com?cc=c@z.com&bcc=…` (RFC 6068): every recipient.
    mutating func mailto(colon c: Int, into collector: inout Collector) {
        guard c >= mailtoEnd else { return }
        var e = c + 1
        // Commas separate recipients here, so in prose only white space, quotes and brackets end it.
        while e < b.count, b[e] != 0x23, !(inProse && isProseTerminator(b, e, commas: false)) { e += 1 }
        mailtoEnd = e
        let text = String(decoding: b[(c + 1)..<e], as: UTF8.self)
        let question = text.firstIndex(of: "?") ?? text.endIndex
        var lists = [text[..<question]]
        if question < text.endIndex {
            for field in text[text.index(after: question)...].split(separator: "&") {
                let pair = field.split(separator: "=", maxSplits: 1)
                if pair.count == 2, ["to", "cc", "bcc"].contains(pair[0].lowercased()) { lists.append(pair[1]) }
            }
        }
        for list in lists {
            let decoded = String(decoding: percentDecoded(Array(list.utf8)[...]), as: UTF8.self)
            for var address in decoded.split(separator: ",") {
                address = address.drop { $0 == " " }
                while address.prefix(7).lowercased() == "mailto:" { address = address.dropFirst(7) }
                if let emails = Collector.email(address.trimmingCharacters(in: .whitespaces)[...], lenient: true) {
                    for email in emails { collector.addNetwork(email) }
                }
            }
        }
    }
}

/// Finds the host of URL authorities in one text, in time linear in the text however many URLs
/// overlap (`http:http:http:…@x`): starts must not decrease, and the scans it remembers (where the
/// authority ends, its last `@`, the next `:` or `]`) are reused while a start is still inside them.
struct AuthorityScanner {
    let b: UnsafeBufferPointer<UInt8>
    let backslashIsSlash: Bool
    let inProse: Bool
    private var segmentFrom = 0, segmentEnd = -1, segmentLastAt = -1
    private var closeSearch = Search(), colonSearch = Search()
    private var previous: Range<Int>?

    /// The first match at or after `from`, `found` (or none before `limit` when `found` is -1).
    private struct Search {
        var from = 0, found = -1, limit = -1
    }

    init(_ b: UnsafeBufferPointer<UInt8>, backslashIsSlash: Bool, inProse: Bool) {
        self.b = b
        self.backslashIsSlash = backslashIsSlash
        self.inProse = inProse
    }

    private func endsAuthority(_ i: Int) -> Bool {
        switch b[i] {
        case 0x2F, 0x3F, 0x23: return true
        case 0x5C: return backslashIsSlash
        default: return inProse && isProseTerminator(b, i)
        }
    }

    /// The host of the authority starting at `start` (after the last `@` of its userinfo, as the
    /// standard's authority state reads it, up to the port's `:`, brackets kept), or `nil` when it
    /// is empty or the same as the previous one.
    mutating func host(from start: Int) -> Range<Int>? {
        if !(segmentFrom <= start && start < segmentEnd) {
            var i = start, lastAt = -1
            while i < b.count, !endsAuthority(i) {
                if b[i] == 0x40 { lastAt = i }
                i += 1
            }
            segmentFrom = start
            segmentEnd = i
            segmentLastAt = lastAt
        }
        let h = segmentLastAt >= start ? segmentLastAt + 1 : start
        guard h < segmentEnd else { return nil }
        let end: Int
        if b[h] == 0x5B {
            // Without its `]`, or longer than any address (or, to old Pythons, any name) in brackets,
            // it is no host to any parser; skipping it keeps `http:[http:[…` linear.
            let close = Self.first(b, in: &closeSearch, from: h, limit: segmentEnd) { $0 == 0x5D }
            guard close >= 0, close - h <= CanonicalHost.longestBracketed else { return nil }
            end = close + 1
        } else {
            // In prose a bracket cannot be inside a host that does not start with one: it ends it.
            let inProse = inProse
            let stop = Self.first(b, in: &colonSearch, from: h, limit: segmentEnd) { $0 == 0x3A || (inProse && ($0 == 0x5B || $0 == 0x5D)) }
            end = stop >= 0 ? stop : segmentEnd
        }
        guard end > h, h..<end != previous else { return nil }
        previous = h..<end
        return h..<end
    }

    private static func first(_ b: UnsafeBufferPointer<UInt8>, in search: inout Search, from: Int, limit: Int, where match: (UInt8) -> Bool) -> Int {
        let known = search.from <= from && (search.found >= 0 ? from <= search.found : search.limit == limit)
        if known { return search.found }
        var i = from
        while i < limit, !match(b[i]) { i += 1 }
        search = Search(from: from, found: i < limit ? i : -1, limit: limit)
        return search.found
    }
}

/// Where a URL in prose ends: white space (Unicode's too), quotes, angle and round brackets,
/// braces, and (except in `mailto:` lists) commas and semicolons.
func isProseTerminator(_ b: UnsafeBufferPointer<UInt8>, _ i: Int, commas: Bool = true) -> Bool {
    let c = b[i]
    switch c {
    case 0x00...0x20, 0x7F, 0x22, 0x27, 0x60, 0x3C, 0x3E, 0x28, 0x29, 0x7B, 0x7D, 0x7C, 0x5E: return true
    case 0x2C, 0x3B: return commas
    case 0xC2: return i + 1 < b.count && (b[i + 1] == 0x85 || b[i + 1] == 0xA0)
    case 0xE1: return i + 2 < b.count && b[i + 1] == 0x9A && b[i + 2] == 0x80
    case 0xE2:
        guard i + 2 < b.count else { return false }
        let (x, y) = (b[i + 1], b[i + 2])
        return (x == 0x80 && (y <= 0x8A || y == 0xA8 || y == 0xA9 || y == 0xAF)) || (x == 0x81 && y == 0x9F)
    case 0xE3:
        // U+3000 ideographic space, U+3001 ideographic comma, U+300C–U+300F corner brackets.
        guard i + 2 < b.count, b[i + 1] == 0x80 else { return false }
        return b[i + 2] == 0x80 || (commas && b[i + 2] == 0x81) || (0x8C...0x8F).contains(b[i + 2])
    case 0xEF:
        // Full-width comma, semicolon and round brackets (U+FF0C, U+FF1B, U+FF08, U+FF09).
        guard i + 2 < b.count, b[i + 1] == 0xBC else { return false }
        return b[i + 2] == 0x88 || b[i + 2] == 0x89 || (commas && (b[i + 2] == 0x8C || b[i + 2] == 0x9B))
    default: return false
    }
}

@inline(__always) func isASCIILetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }

/// Letters, digits, `+`, `-` and `.`: what a scheme is made of.
@inline(__always) func isSchemeByte(_ c: UInt8) -> Bool {
    isASCIILetter(c) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D || c == 0x2E
}

@inline(__always) func isSlash(_ c: UInt8) -> Bool { c == 0x2F || c == 0x5C }

func lowercasedASCII(_ bytes: some Collection<UInt8>) -> String {
    String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
}

/// `%XX` decoded; a `%` without two hex digits stays.
func percentDecoded(_ bytes: some Collection<UInt8>) -> [UInt8] { CanonicalHost.percentDecoded(bytes) }
