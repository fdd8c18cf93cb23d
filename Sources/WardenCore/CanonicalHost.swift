import Foundation

/// A network host in the one spelling egress policy compares: what a URL's host, a bare host name
/// or an IP address in a tool call means, whichever way it is written.
///
/// Parsing follows the WHATWG URL Standard's host parser (https://url.spec.whatwg.org/#host-parsing),
/// which browsers, Node and `fetch` implement: percent-decoding, IDNA mapping (here NFKC and lower
/// case, the ideographic full stops as dots, then Punycode for non-ASCII labels), and IPv4/IPv6
/// parsing with every legacy spelling. Where common clients accept more than the standard (a
/// trailing dot, an IPv6 zone, IDNA2003's transitional `ß` → `ss`), the other readings are kept as
/// extra `names`, because the wrapped server picks its own parser and policy must match them all.
public struct CanonicalHost: Sendable, Hashable, CustomStringConvertible {
    /// What kind of host it is.
    public enum Kind: Sendable, Hashable {
        case domain, ipv4, ipv6
    }

    /// The kind of host.
    public var kind: Kind
    /// The canonical text: `evil.com`, `xn--bcher-kva.de`, `127.0.0.1`, `::1` (IPv6 without brackets).
    public var text: String
    /// Whether a WHATWG parser accepts the host. An invalid host is still reported (in its best
    /// canonical spelling): some client may accept what the standard refuses.
    public var isValid: Bool
    /// Every name the host is matched as: `text` first, then other readings (the IPv4 address of an
    /// IPv4-mapped IPv6 address, a transitional IDNA spelling, a twice-decoded percent-encoding).
    public var names: [String]

    /// The canonical text.
    public var description: String { text }

    /// Parses a host as written in a URL's authority (percent-encoding and brackets allowed), as a
    /// bare host name, or as a bare IPv6 address. `nil` when nothing is left of it (`""`, `"."`).
    public init?(_ host: some StringProtocol) {
        self.init(utf8: Array(host.utf8))
    }

    /// Parses a host from its UTF-8 bytes; see `init(_:)`.
    public init?(utf8 bytes: some Collection<UInt8>) {
        guard let host = Self.parse(Array(bytes)[...], decodeAgain: true) else { return nil }
        self = host
    }

    init(kind: Kind, text: String, isValid: Bool, names: [String] = []) {
        self.kind = kind
        self.text = text
        self.isValid = isValid
        self.names = [text]
        for n in names where !self.names.contains(n) { self.names.append(n) }
    }

    /// Hosts longer than this cannot be resolved (DNS names stop at 253 octets, IPv6 literals with
    /// a zone well before), so the best-effort readings of invalid input are not tried past it.
    static let longestResolvable = 255

    /// The longest `[…]` host worth reading: an IPv6 address with a zone, or a DNS name in brackets.
    public static let longestBracketed = longestResolvable + 2

    static func parse(_ bytes: ArraySlice<UInt8>, decodeAgain: Bool) -> CanonicalHost? {
        guard let first = bytes.first else { return nil }
        if first == 0x5B { return bracketed(bytes) }
        // A bare IPv6 address, as policy files and `ip` arguments write it (a URL needs brackets).
        if bytes.count >= 2, bytes.count <= 64, bytes.contains(0x3A), let pieces = parseIPv6(bytes) {
            return ipv6(pieces, isValid: true)
        }
        let decoded = percentDecoded(bytes)
        var host = domain(decoded)
        // A server that percent-decodes a second time reads `evil%252ecom` as `evil.com`.
        if decodeAgain, decoded.count <= longestResolvable, decoded.contains(0x25), let again = parse(ArraySlice(decoded), decodeAgain: false),
           again.text != host?.text {
            if host == nil { return again }
            host!.names += again.names.filter { !host!.names.contains($0) }
        }
        return host
    }

    static func ipv6(_ pieces: [UInt16], isValid: Bool) -> CanonicalHost {
        CanonicalHost(kind: .ipv6, text: ipv6Text(pieces), isValid: isValid, names: embeddedIPv4(pieces).map { [ipv4Text($0)] } ?? [])
    }

    /// `[…]`: an IPv6 address, or what lenient parsers make of the brackets' content.
    static func bracketed(_ bytes: ArraySlice<UInt8>) -> CanonicalHost? {
        let inner = bytes.last == 0x5D && bytes.count >= 2 ? bytes.dropFirst().dropLast() : bytes.dropFirst()
        if bytes.last == 0x5D, let pieces = parseIPv6(inner) { return ipv6(pieces, isValid: true) }
        guard inner.count <= longestResolvable else { return nil }
        // `fe80::1%25eth0`: the standard refuses zones; Python and libc accept them and connect.
        if let percent = inner.firstIndex(of: 0x25), let pieces = parseIPv6(inner[..<percent]) { return ipv6(pieces, isValid: false) }
        // Older Pythons read `[evil.com]` as the host `evil.com`.
        guard var host = parse(inner, decodeAgain: true) else { return nil }
        host.isValid = false
        return host
    }

    /// Bytes with `%XX` decoded; a `%` not followed by two hex digits stays (WHATWG percent-decode).
    /// The one percent-decoder: hosts, URL paths and DLP's decoded readings all use it.
    public static func percentDecoded(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let a = Array(bytes)
        guard a.contains(0x25) else { return a }
        var out: [UInt8] = []
        out.reserveCapacity(a.count)
        var i = 0
        while i < a.count {
            if a[i] == 0x25, i + 2 < a.count, let h = hexDigit(a[i + 1]), let l = hexDigit(a[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(a[i])
                i += 1
            }
        }
        return out
    }

    static func hexDigit(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x61...0x66: return b - 0x61 + 10
        case 0x41...0x46: return b - 0x41 + 10
        default: return nil
        }
    }

    /// A decoded host: domain to ASCII (UTS 46 as the standard asks, approximated by NFKC and lower
    /// case), then IPv4 if it ends in a number.
    static func domain(_ decoded: [UInt8]) -> CanonicalHost? {
        var valid = true
        var ascii: [UInt8]
        var alternates: [String] = []
        if decoded.allSatisfy({ $0 < 0x80 }) {
            ascii = decoded.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        } else {
            guard let text = String(validating: decoded, as: UTF8.self) else {
                // The standard decodes with U+FFFD and then refuses it; keep a readable spelling.
                let lossy = String(decoding: decoded, as: UTF8.self)
                return CanonicalHost(kind: .domain, text: trimmedDots(mapped(lossy)), isValid: false)
            }
            let mappedText = mapped(text)
            let (labels, ok) = asciiLabels(mappedText)
            valid = ok
            ascii = Array(labels.utf8)
            // IDNA2003 and UTS 46 transitional processing (Python's `idna` codec) map ß → ss and
            // ς → σ; the standard keeps them. Both spellings may be what a server connects to.
            if mappedText.unicodeScalars.contains(where: { $0 == "ß" || $0 == "ς" }) {
                let folded = mappedText.replacingOccurrences(of: "ß", with: "ss").replacingOccurrences(of: "ς", with: "σ")
                let t = trimmedDots(asciiLabels(folded).0)
                if !t.isEmpty { alternates.append(t) }
            }
        }
        // A trailing dot names the same DNS name; `evil.com.` must meet a deny of `evil.com`.
        while ascii.last == 0x2E { ascii.removeLast() }
        guard !ascii.isEmpty else { return nil }
        if endsInANumber(ascii[...]) {
            if let address = parseIPv4(ascii[...]) {
                return CanonicalHost(kind: .ipv4, text: ipv4Text(address), isValid: valid, names: alternates)
            }
            valid = false  // the standard refuses a host that ends in a number but is no IPv4 address
        }
        if ascii.contains(where: isForbiddenDomainByte) { valid = false }
        return CanonicalHost(kind: .domain, text: String(decoding: ascii, as: UTF8.self), isValid: valid, names: alternates)
    }

    /// https://url.spec.whatwg.org/#forbidden-domain-code-point (in ASCII; non-ASCII was mapped).
    static func isForbiddenDomainByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x00...0x20, 0x23, 0x25, 0x2F, 0x3A, 0x3C, 0x3E, 0x3F, 0x40, 0x5B, 0x5C, 0x5D, 0x5E, 0x7C, 0x7F: return true
        default: return false
        }
    }

    static func trimmedDots(_ s: String) -> String {
        var s = Substring(s)
        while s.hasSuffix(".") { s = s.dropLast() }
        return String(s)
    }

    /// Code points UTS 46 maps to nothing (soft hyphen, zero-width characters, variation selectors),
    /// and the joiners it keeps but then refuses in most labels; IDNA2003 maps both to nothing.
    static func isIgnored(_ v: UInt32) -> Bool {
        switch v {
        case 0xAD, 0x34F, 0x180B...0x180F, 0x200B...0x200D, 0x2060, 0x2064, 0xFE00...0xFE0F, 0xFEFF, 0x1BCA0...0x1BCA3, 0xE0100...0xE01EF: return true
        default: return false
        }
    }

    /// The UTS 46 mapping, approximated: ignored code points removed, compatibility forms folded
    /// (full-width letters, ligatures, circled digits), lower case, ideographic full stops as dots.
    static func mapped(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var stable = true
        for s in text.unicodeScalars where !isIgnored(s.value) {
            scalars.append(s)
            if stable, !s.isASCII { stable = isStableUnderMapping(s) }
        }
        // Most names (`bücher`, `日本`) are already mapped; Foundation's normalisation is slow on Linux.
        let folded = stable ? String(scalars).lowercased()
            : String(scalars).precomposedStringWithCompatibilityMapping.lowercased().precomposedStringWithCompatibilityMapping
        var out = String.UnicodeScalarView()
        for s in folded.unicodeScalars {
            // U+3002 ideographic, U+FF0E full-width and U+FF61 half-width full stops separate labels.
            out.append(s == "\u{3002}" || s == "\u{FF0E}" || s == "\u{FF61}" ? "." : s)
        }
        return String(out)
    }

    /// Whether NFKC and case folding leave a scalar as it is, and it cannot compose with a neighbour
    /// (combining marks and conjoining Hangul jamo can, so they take the slow path).
    static func isStableUnderMapping(_ s: Unicode.Scalar) -> Bool {
        let p = s.properties
        if p.changesWhenNFKCCaseFolded || p.canonicalCombiningClass != .notReordered { return false }
        switch p.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return false
        default: break
        }
        switch s.value {
        case 0x1100...0x11FF, 0xA960...0xA97F, 0xD7B0...0xD7FF: return false
        default: return true
        }
    }

    /// Labels of a mapped domain with non-ASCII labels in Punycode (`xn--`), and whether every
    /// label could be converted.
    static func asciiLabels(_ mapped: String) -> (String, Bool) {
        var ok = true
        let labels = mapped.split(separator: ".", omittingEmptySubsequences: false).map { label -> String in
            guard label.unicodeScalars.contains(where: { !$0.isASCII }) else { return String(label) }
            // Longer labels cannot resolve; Punycode is quadratic in the label, so they stay as they are.
            guard label.unicodeScalars.count <= 63, let encoded = Punycode.encode(Array(label.unicodeScalars)) else {
                ok = false
                return String(label)
            }
            return "xn--" + encoded
        }
        return (labels.joined(separator: "."), ok)
    }
}
