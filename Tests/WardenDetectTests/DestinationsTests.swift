import Foundation
import Testing
import WardenCore
@testable import WardenDetect

/// The spellings an attacker uses to get a URL past egress policy when the server's URL parser reads
/// it differently from Warden's: each must come out as the one canonical host policy compares.
@Suite("destinations: every spelling of a host, in canonical form")
struct DestinationsTests {
    static func network(_ value: String, key: String = "text") -> [String] {
        Destinations.find(in: .object(JSONObject(pairs: [(key, .string(value))]))).network
    }

    @Test("special schemes: any slashes, backslashes, scheme case, surrounding controls, tabs and newlines inside", arguments: [
        ("http://evil.com/x", ["evil.com"]),
        ("HTTP://EVIL.COM", ["evil.com"]),
        ("hTtPs://Evil.Com:8443/path?q=1#f", ["evil.com"]),
        ("http:evil.com/x", ["evil.com"]),
        ("http:/evil.com", ["evil.com"]),
        (#"http:\\evil.com\x"#, ["evil.com"]),
        (#"http:\/evil.com"#, ["evil.com"]),
        ("https:///evil.com", ["evil.com"]),
        ("https:////evil.com", ["evil.com"]),
        ("ws://evil.com/socket", ["evil.com"]),
        ("wss://evil.com", ["evil.com"]),
        ("ftp://anonymous@evil.com/pub", ["evil.com"]),
        (" \u{01}\u{1F}http://evil.com/ \u{00}", ["evil.com"]),
    ])
    func specialSchemes(_ input: String, _ expected: [String]) {
        #expect(Self.network(input) == expected, "\(input.debugDescription)")
    }

    @Test("tabs and newlines inside a URL are removed, as the standard and Python do (prose readings may add pieces)")
    func tabsAndNewlines() {
        #expect(Self.network("ht\ttp://ev\nil.co\rm/").first == "evil.com")
        #expect(Self.network("h\nttps:/\t/evil.com").first == "evil.com")
        #expect(Self.network("http://evil.c\tom", key: "url") == ["evil.com", "evil.c"])
    }

    @Test("userinfo: the last @ before the host ends it, encoded or not; a fragment or query is not userinfo", arguments: [
        ("http://good.com@evil.com/", ["evil.com"]),
        ("http://good.com:pass@evil.com:8080/", ["evil.com"]),
        ("http://a@good.com@evil.com", ["evil.com"]),
        ("http://a%40good.com@evil.com", ["evil.com"]),
        ("http://user:p@ss:w@rd@evil.com", ["evil.com"]),
        ("https://good.com#@evil.com", ["good.com"]),
        ("https://good.com?@evil.com", ["good.com"]),
        ("https://good.com/@evil.com", ["good.com"]),
    ])
    func userinfo(_ input: String, _ expected: [String]) {
        #expect(Self.network(input) == expected, "\(input.debugDescription)")
    }

    @Test("a backslash is a slash to WHATWG parsers and data to RFC 3986 ones: both hosts count")
    func backslashReadings() {
        #expect(Set(Self.network(#"http://good.com\@evil.com/"#)) == ["good.com", "evil.com"])
        #expect(Set(Self.network(#"https://evil.com\.good.com/"#)).isSuperset(of: ["evil.com"]))
    }

    @Test("an encoded @ is no userinfo to the standard; the host it spells is still denied as evil.com")
    func encodedAt() {
        let found = Self.network("http://good.com%40evil.com/")
        #expect(found == ["good.com@evil.com"])
        var policy = EgressPolicy()
        policy.servers = [.init(server: Glob("*"), allow: [Glob("good.com")], deny: [Glob("evil.com")], defaultAction: .allow)]
        #expect(found.map { policy.decide(server: "web", destination: $0, lockdown: false) } == [.deny])
    }

    @Test("hosts: percent-decoding, IDNA mapping (full width, ideographic dots, ignored code points), Punycode, trailing dots", arguments: [
        ("http://evil%2ecom/", ["evil.com"]),
        ("http://%65vil.com", ["evil.com"]),
        ("http://EVIL%2Ecom./", ["evil.com"]),
        ("http://evil.com../", ["evil.com"]),
        ("http://ｅｖｉｌ．ｃｏｍ/", ["evil.com"]),
        ("http://ＥＶＩＬ.com", ["evil.com"]),
        ("http://evil。com", ["evil.com"]),
        ("http://evil｡com", ["evil.com"]),
        ("http://ev\u{AD}il.com", ["evil.com"]),
        ("http://ev\u{200B}il.c\u{FEFF}om", ["evil.com"]),
        ("http://%EF%BD%85vil.com", ["evil.com"]),
        ("http://bücher.de/", ["xn--bcher-kva.de"]),
        ("http://BÜCHER.DE", ["xn--bcher-kva.de"]),
        ("http://b%C3%BCcher.de", ["xn--bcher-kva.de"]),
        ("http://bu\u{308}cher.de", ["xn--bcher-kva.de"]),
        ("http://xn--bcher-kva.de", ["xn--bcher-kva.de"]),
        ("http://münchen.de", ["xn--mnchen-3ya.de"]),
        ("http://中国.cn", ["xn--fiqs8s.cn"]),
        ("http://пример.испытание", ["xn--e1afmkfd.xn--80akhbyknj4f"]),
        ("http://faß.de", ["xn--fa-hia.de", "fass.de"]),
        ("http://a_b.evil.com", ["a_b.evil.com"]),
    ])
    func hostSpellings(_ input: String, _ expected: [String]) {
        #expect(Self.network(input) == expected, "\(input.debugDescription)")
    }

    @Test("IPv4 as the WHATWG IPv4 parser and inet_aton read it: decimal, hex, octal, short and mixed forms", arguments: [
        ("http://2130706433/", ["127.0.0.1"]),
        ("http://0x7f000001/", ["127.0.0.1"]),
        ("http://0X7F000001/", ["127.0.0.1"]),
        ("http://0177.0.0.1/", ["127.0.0.1"]),
        ("http://0177.0000.0.01/", ["127.0.0.1"]),
        ("http://127.1/", ["127.0.0.1"]),
        ("http://127.0.1/", ["127.0.0.1"]),
        ("http://0x7f.1/", ["127.0.0.1"]),
        ("http://0x7F.0.0.0x1/", ["127.0.0.1"]),
        ("http://0177.0x0.1/", ["127.0.0.1"]),
        ("http://127.0.0.1./", ["127.0.0.1"]),
        ("http://%31%32%37.0.0.1/", ["127.0.0.1"]),
        ("http://１２７．０．０．１/", ["127.0.0.1"]),
        ("http://①②⑦.0.0.1/", ["127.0.0.1"]),
        ("http://0/", ["0.0.0.0"]),
        ("http://0x/", ["0.0.0.0"]),
        ("http://4294967295/", ["255.255.255.255"]),
        ("http://169.254.169.254/latest/meta-data", ["169.254.169.254"]),
        ("http://0xa9fea9fe/", ["169.254.169.254"]),
    ])
    func ipv4(_ input: String, _ expected: [String]) {
        #expect(Self.network(input) == expected, "\(input.debugDescription)")
    }

    @Test("hosts the standard refuses are still reported, in their best spelling (some client may accept them)")
    func invalidHosts() {
        #expect(Self.network("http://1.2.3.4.5/") == ["1.2.3.4.5"])
        #expect(Self.network("http://256.0.0.1/") == ["256.0.0.1"])
        #expect(Self.network("http://4294967296/") == ["4294967296"])
        #expect(CanonicalHost("256.0.0.1")?.isValid == false)
        #expect(CanonicalHost("evil.com")?.isValid == true)
        #expect(CanonicalHost("ev il.com")?.isValid == false)
    }

    @Test("IPv6 in RFC 5952 form; an address that stands for IPv4 is reported as both", arguments: [
        ("http://[::1]/", ["::1"]),
        ("http://[0:0:0:0:0:0:0:1]:8080/", ["::1"]),
        ("http://[2001:DB8:0:0:1:0:0:1]/", ["2001:db8::1:0:0:1"]),
        ("http://[2001:db8:0:0:0:0:2:1]/", ["2001:db8::2:1"]),
        ("http://[2001:0db8::0001]/", ["2001:db8::1"]),
        ("http://[2001:db8:0:1:1:1:1:1]/", ["2001:db8:0:1:1:1:1:1"]),
        ("http://[::ffff:127.0.0.1]/", ["::ffff:7f00:1", "127.0.0.1"]),
        ("http://[::FFFF:7F00:1]/", ["::ffff:7f00:1", "127.0.0.1"]),
        ("http://[0:0:0:0:0:ffff:169.254.169.254]/", ["::ffff:a9fe:a9fe", "169.254.169.254"]),
        ("http://[::127.0.0.1]/", ["::7f00:1", "127.0.0.1"]),
        ("http://[64:ff9b::7f00:1]/", ["64:ff9b::7f00:1", "127.0.0.1"]),
        ("http://[::ffff:0:7f00:1]/", ["::ffff:0:7f00:1", "127.0.0.1"]),
        ("http://[fe80::1%25eth0]/", ["fe80::1"]),
        ("http://user@[::1]:22/", ["::1"]),
    ])
    func ipv6(_ input: String, _ expected: [String]) {
        #expect(Self.network(input) == expected, "\(input.debugDescription)")
    }

    @Test("scheme-relative URLs: a whole value, or an attribute or link in prose; a path or a comment is not one", arguments: [
        ("//evil.com/x", ["evil.com"]),
        (#"\\evil.com\share"#, ["evil.com"]),
        (#"/\evil.com"#, ["evil.com"]),
        (#"<img src="//evil.com/p.png">"#, ["evil.com"]),
        ("![x](//evil.com/p.png)", ["evil.com"]),
        ("//etc/passwd", []),
        ("// TODO: fix this", []),
        ("x = 1 // comment.txt", []),
    ])
    func schemeRelative(_ input: String, _ expected: [String]) {
        #expect(Self.network(input) == expected, "\(input.debugDescription)")
    }

    @Test("bare hosts under keys that name a destination: host:port, host/path, IPs, single labels where the key says host", arguments: [
        ("url", "evil.com/path", ["evil.com"]),
        ("url", "evil.com:8080", ["evil.com"]),
        ("url", "EVIL.com.:443/x", ["evil.com"]),
        ("url", "127.1:8080", ["127.0.0.1"]),
        ("callbackUrl", "hooks.evil.com/x", ["hooks.evil.com"]),
        ("webhook_url", "ｅｖｉｌ.com", ["evil.com"]),
        ("host", "localhost:8080", ["localhost"]),
        ("host", "db", ["db"]),
        ("hostName", "Intranet", ["intranet"]),
        ("ip", "2130706433", ["127.0.0.1"]),
        ("server_ip", "0x7f.1", ["127.0.0.1"]),
        ("host", "[::1]:22", ["::1"]),
        ("host", "fe80::1", ["fe80::1"]),
        ("ipAddress", "::ffff:127.0.0.1", ["::ffff:7f00:1", "127.0.0.1"]),
        ("server", "smtp.evil.com:25", ["smtp.evil.com"]),
        ("endpoint", "localhost", ["localhost"]),
        ("hosts", "a.evil.com, b.evil.com;c.evil.com", ["a.evil.com", "b.evil.com", "c.evil.com"]),
        ("target", "3.14", []),
        ("to", "2024-01-01", []),
        ("address", "Flat 3, 12 Main St.", []),
        ("server", "production", []),
        ("url", "some words here", []),
    ])
    func bareHosts(_ key: String, _ value: String, _ expected: [String]) {
        #expect(Self.network(value, key: key) == expected, "\(key): \(value.debugDescription)")
    }

    @Test("e-mail addresses: bare values, recipient lists, display names, address literals, mailto: URLs", arguments: [
        ("text", "Bob@Example.COM", ["bob@example.com"]),
        ("to", "Bob <BOB@Example.COM>, eve@evil.com", ["bob@example.com", "eve@evil.com"]),
        ("cc", "\"Eve\" <eve@ｅｖｉｌ.com>", ["eve@evil.com"]),
        ("email", "bob@[127.0.0.1]", ["bob@127.0.0.1"]),
        ("email", "bob@[IPv6:::1]", ["bob@::1"]),
        ("email", "bob@bücher.de", ["bob@xn--bcher-kva.de"]),
        ("recipient", "mailto:eve@evil.com", ["eve@evil.com"]),
        ("text", "mailto:a@x.com,b@y.com?cc=c@z.com&bcc=d%40w.com&subject=hi", ["a@x.com", "b@y.com", "c@z.com", "d@w.com"]),
        ("text", "MAILTO:Eve@Evil.com", ["eve@evil.com"]),
        ("body", "write to <a href=\"mailto:eve@evil.com\">me</a>", ["eve@evil.com"]),
        ("body", "contact bob@evil.com for details", []),
    ])
    func emails(_ key: String, _ value: String, _ expected: [String]) {
        #expect(Self.network(value, key: key) == expected, "\(key): \(value.debugDescription)")
    }

    @Test("URLs in prose end where prose does; nested, repeated and many URLs are all reported", arguments: [
        ("Please fetch https://evil.com/a and http://127.1 then", ["evil.com", "127.0.0.1"]),
        ("[link](http://evil.com)", ["evil.com"]),
        ("**http://evil.com**", ["evil.com**", "evil.com"]),
        ("visit http://evil.com, then http://good.com; done", ["evil.com", "good.com"]),
        ("\"http://evil.com\"", ["evil.com"]),
        ("see\u{00A0}http://evil.com\u{3000}next", ["evil.com"]),
        ("https://docs.example.org/?next=http://evil.com/", ["docs.example.org", "evil.com"]),
        ("xhttp:\\\\evil.com", ["evil.com"]),
        ("gopher://evil.com:70/_x", ["evil.com"]),
        ("dict:/evil.com:11211/stats", ["evil.com"]),
        ("redis://user:pw@cache.evil.com:6379/0", ["cache.evil.com"]),
        ("Note: http: and https: are both fine at 12:30; std::vector, C:\\Users\\x, a:b:c", []),
        ("HTTP: 404 Not Found", []),
        ("https: is required", []),
    ])
    func prose(_ input: String, _ expected: [String]) {
        #expect(Self.network(input) == expected, "\(input.debugDescription)")
    }

    @Test("file: URLs give paths, and a host only when there is one")
    func fileURLs() {
        let a = Destinations.find(in: ["u": "file:///etc/passwd", "v": "FILE://localhost/etc/hosts", "w": #"file:\\\c:\x"#])
        #expect(a.network.isEmpty && a.paths == ["/etc/passwd", "/etc/hosts", "/c:/x"])
        let b = Destinations.find(in: ["u": "file://evil.com/share/x"])
        #expect(b.network == ["evil.com"] && b.paths == ["/share/x"])
        let c = Destinations.find(in: ["path": "/home/u/notes.txt", "p2": "~/.ssh/id_rsa", "p3": "/not a path"])
        #expect(c.paths == ["/home/u/notes.txt", "~/.ssh/id_rsa"])
    }

    @Test("every string at every depth, keys included, with no count limit")
    func everywhere() {
        var deep: JSONValue = ["url": "http://deep.evil.com/"]
        for _ in 0..<200 { deep = .array([deep]) }
        #expect(Destinations.find(in: ["a": deep]).network == ["deep.evil.com"])
        #expect(Destinations.find(in: ["headers": ["http://key.evil.com/": "1"]]).network == ["key.evil.com"])
        let many = (0..<2000).map { JSONValue.string("http://h\($0).evil.com/") }
        let found = Destinations.find(in: ["urls": .array(many)]).network
        #expect(found.count == 2000 && found.last == "h1999.evil.com")
        let prose = (0..<1000).map { "see http://p\($0).evil.com/x and" }.joined(separator: " ")
        #expect(Destinations.find(in: ["text": .string(prose)]).network.count == 1000)
    }

    @Test("egress policy matches the canonical forms: a deny catches every spelling, an allow is not satisfied by userinfo")
    func egress() throws {
        let yaml = """
            version: 1
            egress:
              servers:
                web: {allow: ["docs.example.org", "*.GitHub.com.", "*.bücher.de"], deny: ["EVIL.com", "127.0.0.1", "*.ngrok.io", "[::1]"], default: deny}
                mail: {allow: ["example.com", "*@partner.org"], default: grant}
            """
        let policy = try PolicyLoader.parse(yaml, source: "t.yaml").egress
        func decide(_ server: String, _ value: String, key: String = "url") -> [EgressPolicy.Action] {
            Self.network(value, key: key).map { policy.decide(server: server, destination: $0, lockdown: false) }
        }
        for spelling in ["http://EVIL.com./", "http://evil%2ecom", "http://ｅｖｉｌ．ｃｏｍ", "http:\\\\evil.com", "http://good.com@evil.com", "evil.com:80",
                         "http://2130706433/", "http://0x7f.1/", "http://[::ffff:127.0.0.1]/", "http://[::1]/", "http://x.NGROK.io/"] {
            #expect(decide("web", spelling).contains(.deny), "\(spelling)")
        }
        #expect(decide("web", "https://docs.example.org/guide") == [.allow])
        #expect(decide("web", "https://api.github.com/") == [.allow])
        #expect(decide("web", "https://www.BÜCHER.de/") == [.allow])
        #expect(decide("web", "https://docs.example.org@c2.example.net/") == [.deny])
        #expect(decide("web", "https://docs.example.org.c2.example.net/") == [.deny])
        #expect(decide("mail", "docs.example.org.x@c2.example.net", key: "to") == [.grant])
        #expect(decide("mail", "bob@EXAMPLE.com", key: "to") == [.allow])
        #expect(decide("mail", "eve@partner.org", key: "to") == [.allow])
        #expect(policy.decide(server: "mail", destination: "partner.org", lockdown: false) == .grant)
        // Patterns written in other spellings are compared canonically too.
        #expect(EgressPolicy.canonicalPattern(Glob("0x7F.1")).pattern == "127.0.0.1")
        #expect(EgressPolicy.canonicalPattern(Glob("[::FFFF:7F00:1]")).pattern == "::ffff:7f00:1")
        #expect(EgressPolicy.canonicalPattern(Glob("Bob@Bücher.DE.")).pattern == "bob@xn--bcher-kva.de")
        #expect(EgressPolicy.canonicalPattern(Glob("*.ＥＸＡＭＰＬＥ.com")).pattern == "*.example.com")
    }

    static let python: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = ["/usr/bin/python3"] + path.split(separator: ":").map { $0 + "/python3" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// Random http(s) URLs from the pieces parsers disagree on (slashes, userinfo, encoded and
    /// bracketed hosts, ports, what follows the host, tabs and spaces).
    static func randomURLs(count: Int) -> [String] {
        var rng = SplitMix(state: 0xD357)
        let schemes = ["http", "HTTP", "https", "hTTps"]
        let slashes = ["//", "//", "//", "///", "/", "", #"\"#, #"/"#, "////"]
        let userinfo = ["", "", "user@", "user:pass@", "good.com@", "a@b@", "good.com%40", "good.com:80@", #"x\@"#, "@", "a b@"]
        let hosts = ["evil.com", "EVIL.com", "evil.com.", "evil%2ecom", "127.0.0.1", "2130706433", "0x7f.1", "[::1]", "[::ffff:127.0.0.1]",
                     "bücher.de", "ｅｖｉｌ.com", "a_b.evil.com", "xn--bcher-kva.de", "[fe80::1%25eth0]", "evil。com", "0177.1", "localhost"]
        let ports = ["", "", ":80", ":8080", ":", ":x"]
        let rests = ["", "/", "/path", "?q=1", "#frag", #"\path"#, "/@good.com", "?@good.com", "#@good.com", #"\@good.com"#, " tail"]
        return (0..<count).map { _ in
            var url = schemes.randomElement(using: &rng)! + ":" + slashes.randomElement(using: &rng)! + userinfo.randomElement(using: &rng)!
                + hosts.randomElement(using: &rng)! + ports.randomElement(using: &rng)! + rests.randomElement(using: &rng)!
            if Int.random(in: 0..<5, using: &rng) == 0 {
                let at = url.index(url.startIndex, offsetBy: Int.random(in: 0...url.count, using: &rng))
                url.insert(["\t", "\n", "\r"].randomElement(using: &rng)!, at: at)
            }
            if Int.random(in: 0..<8, using: &rng) == 0 { url = " \u{1}" + url + " " }
            return url
        }
    }

    @Test("every host Python's urlsplit reads from a URL is among the destinations found", .enabled(if: python != nil, "python3 is not installed"))
    func agreesWithPython() async throws {
        let urls = Self.randomURLs(count: 2000) + ["http://good.com\\@evil.com/", "http://good.com @evil.com", "http://[fe80::1%25eth0]/"]
        let script = """
            import sys, base64
            from urllib.parse import urlsplit
            for line in open(sys.argv[1], 'rb').read().split(b'\\n'):
                if not line: continue
                try:
                    h = urlsplit(base64.b64decode(line).decode('utf-8')).hostname
                    print('H ' + h.encode('utf-8').hex() if h else 'N')
                except ValueError:
                    print('E')
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("warden-urls-\(UUID().uuidString).txt")
        try Data(urls.map { Data($0.utf8).base64EncodedString() }.joined(separator: "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let output: String = await withCheckedContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: Self.python!)
                process.arguments = ["-c", script, file.path]
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = FileHandle.nullDevice
                guard (try? process.run()) != nil else { return continuation.resume(returning: "") }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }.start()
        }
        let lines = output.split(separator: "\n")
        try #require(lines.count == urls.count, "python answered \(lines.count) of \(urls.count)")
        var missed: [String] = []
        var compared = 0
        for (url, line) in zip(urls, lines) where line.hasPrefix("H ") {
            var bytes: [UInt8] = []
            var hex = line.dropFirst(2)[...]
            while hex.count >= 2 { bytes.append(UInt8(hex.prefix(2), radix: 16)!); hex = hex.dropFirst(2) }
            // Python strips leading white space only; a resolver reads a name up to trailing spaces.
            let hostname = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            // Python drops the brackets of an IPv6 host; put them back so the zone reads as one.
            guard let expected = CanonicalHost(hostname.contains(":") ? "[" + hostname + "]" : hostname)?.text,
                  // getaddrinfo refuses a name with white space in it: no client connects there.
                  !expected.contains(where: { $0.isWhitespace }) else { continue }
            compared += 1
            let found = Self.network(url)
            if !found.contains(expected) { missed.append("\(url.debugDescription): Python reads \(hostname.debugDescription) = \(expected); found \(found)") }
        }
        let missedCount = missed.count
        #expect(missedCount == 0, "\(missed.prefix(10).joined(separator: "\n"))")
        #expect(compared > 500)
    }

    @Test("Punycode encodes the RFC 3492 samples", arguments: [
        ("bücher", "bcher-kva"), ("münchen", "mnchen-3ya"), ("中国", "fiqs8s"), ("ü", "tda"),
        ("他们为什么不说中文", "ihqwcrb4cv8a8dqg056pqjye"), ("почемужеонинеговорятпорусски", "b1abfaaepdrnnbgefbadotcwatmq2g4l"),
    ])
    func punycode(_ label: String, _ expected: String) {
        #expect(Punycode.encode(Array(label.unicodeScalars)) == expected)
    }

    /// Inputs built to make a naive reader quadratic: overlapping authorities, `@` and `[` runs,
    /// scheme runs, nested `mailto:` and `file:`, long labels.
    static let hostile: [(String, Int)] = [
        ("http:", 12_000), ("http://", 8_000), ("http:@", 10_000), ("http://a@", 6_000), ("http:[", 10_000), ("http://[", 8_000),
        ("[http:", 10_000), ("a:", 20_000), ("@", 40_000), ("mailto:", 6_000), ("file:", 8_000), ("//", 20_000), ("=//a.b", 6_000),
        ("http://a:", 6_000), ("ä", 20_000), ("http://\u{3002}", 6_000), ("%2e", 12_000), ("0x", 20_000), ("1.", 20_000),
        ("http://[::1]", 6_000), ("http://x\u{FF21}", 6_000),
    ]

    @Test("linear time on hostile input: thread CPU time, generous bounds", arguments: 0..<hostile.count)
    func linear(_ index: Int) async {
        let (piece, count) = Self.hostile[index]
        let (small, large) = await onOwnThread {
            func time(_ n: Int) -> Duration {
                let text = String(repeating: piece, count: n)
                let value: JSONValue = ["url": .string(text), "text": .string(text + " http://" + text), "host": .string(text)]
                return threadCPUTime { _ = Destinations.find(in: value) }
            }
            return (time(count / 4), time(count))
        }
        // Four times the input: a linear reader takes about four times as long, a quadratic one sixteen.
        #expect(large < .seconds(5), "\(piece.debugDescription) × \(count): \(large)")
        #expect(large < small * 10 + .milliseconds(200), "\(piece.debugDescription): \(small) for a quarter, \(large) for all")
    }
}
