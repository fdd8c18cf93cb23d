import Foundation
import Testing

/// The red team: a hostile server (`warden-fixture-server redteam`) tries to get a poisoned tool,
/// an injected text or a secret past Warden by how it spells what it sends, and each test asserts
/// the attacker's *outcome* does not happen: the client (the official Python SDK) never sees the
/// poisoned tool, no injected text reaches what the model reads, the server never receives the
/// secret. Policy: withhold injections and refuse secrets in arguments.
@Suite("red team: nothing reaches the client or the server unreviewed", .serialized)
struct RedTeamTests {
    static let marker = "ignore all previous instructions"
    static let policy = "version: 1\ndefaults:\n  action: allow\ndlp:\n  injection: deny\n  arguments: deny\n"

    /// A home with the policy, a record file the server appends what it received to, and the command.
    func setUp(list: String = "clean") throws -> (home: String, record: String, command: [String]) {
        let home = Harness.temporaryHome()
        try Self.policy.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        // Outside the home (hidden from the sandbox); named on the command line, so bound into it.
        let record = home + "-received.log"
        _ = FileManager.default.createFile(atPath: record, contents: nil)
        return (home, record, [Harness.warden, "wrap", "--name", "redteam", "--", Harness.fixtureServer, "redteam", list, record])
    }

    func received(_ record: String) -> String { (try? String(contentsOfFile: record, encoding: .utf8)) ?? "" }

    func json(_ value: Any) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: value)) ?? Data(), as: UTF8.self).lowercased()
    }

    @Test("a poisoned tool behind a nested duplicate key, a string id, a null method or a $defs key never reaches the client",
          arguments: ["dupkey", "stringid", "methodnull", "defskey"])
    func poisonedList(list: String) async throws {
        try Harness.requirePeers()
        let (home, _, command) = try setUp(list: list)
        let report = try await pythonClient(command: command, steps: [["op": "list"]], home: home)
        let seen = json(report["results"] ?? [])
        #expect(!seen.contains(Self.marker) && !seen.contains("id_rsa"), "the client saw the poisoned definition (\(list)): \(seen.prefix(600))")
        if list == "stringid" {
            // Read as the answer it is to the client (the SDK matches "N" to N): the clean tools arrive, the poisoned one is hidden.
            let tools = ((report["results"] as? [[String: Any]])?.first?["tools"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(tools.contains("echo") && !tools.contains("add"), "\(tools)")
        }
    }

    @Test("injected text reaches the model through no channel: escaped keys, structuredContent, past the old budgets, \\u-spelled, errors, resources, prompts, logs, sampling")
    func everyChannel() async throws {
        try Harness.requirePeers()
        let (home, _, command) = try setUp()
        let variants = ["escaped-key", "structured", "late", "unicode-escaped", "error"]
        let steps: [[String: Any]] = [["op": "list"]]
            + variants.map { ["op": "call", "name": "read_page", "arguments": ["variant": $0]] }
            + [["op": "read", "uri": "wiki://home"], ["op": "prompt", "name": "summarise"],
               ["op": "call", "name": "log"], ["op": "call", "name": "ask", "arguments": ["poison": true], "timeout": 10],
               ["op": "call", "name": "echo", "arguments": ["text": "still here"]]]
        let report = try await pythonClient(command: command, steps: steps, home: home, timeout: 120)
        let results = report["results"] as? [Any] ?? []
        #expect(!json(report).contains(Self.marker), "an injection reached the client: \(json(report).prefix(2000))")
        #expect((report["sampled"] as? [Any] ?? []).isEmpty, "the client's model was asked the poisoned question")
        for (i, variant) in variants.enumerated() {
            let text = resultText(results[safe: 1 + i])
            #expect(text.contains("Warden withheld"), "read_page \(variant): \(text.prefix(300))")
        }
        #expect(resultText(results.last).contains("still here"))
    }

    @Test("a secret in the client's answer to a server's sampling request never reaches the server")
    func samplingAnswer() async throws {
        try Harness.requirePeers()
        let (home, record, command) = try setUp()
        let secret = "AKIA" + "IOSFODNN7EXAMPLE"
        let report = try await pythonClient(command: command, steps: [["op": "list"], ["op": "call", "name": "ask", "arguments": ["poison": false], "timeout": 20]],
                                            home: home, spec: ["sampling_answer": "Sure, the key is \(secret)."])
        #expect((report["sampled"] as? [Any] ?? []).count == 1, "an honest sampling request reaches the client")
        let got = received(record)
        #expect(got.contains("answer:"), "the server got an answer: \(got)")
        #expect(!got.contains(secret), "the server received the secret: \(got)")
    }

    @Test("secrets spelled to evade a byte scan never reach the server: JSON-escaped, split across arguments, base64, with a zero-width character")
    func spelledSecrets() async throws {
        let (home, record, command) = try setUp()
        let token = "gh" + "p_" + String(repeating: "Zq9", count: 12)
        let base64 = Data("deploy with \(token)".utf8).base64EncodedString()
        let arguments = [
            #"{"text":"AKIA\u0049OSFODNN7EXAMPLE"}"#,
            #"{"text":"AKIAIOSF","more":"ODNN7EXAMPLE"}"#,
            #"{"text":"\#(base64)"}"#,
            #"{"text":"gh\u200bp_\#(String(repeating: "Zq9", count: 12))"}"#,
        ]
        let input = arguments.enumerated().map { #"{"jsonrpc":"2.0","id":\#($0.offset + 1),"method":"tools/call","params":{"name":"notes","arguments":\#($0.element)}}"# }
            .joined(separator: "\n") + "\n"
        let r = try await runProcess(command, input: Data(input.utf8), environment: ["WARDEN_HOME": home])
        let got = received(record)
        #expect(!got.contains("call notes"), "the server received a secret: \(got)")
        #expect(r.stdoutText.components(separatedBy: "denied-secret").count - 1 == arguments.count, "\(r.stdoutText)")
    }

    @Test("a call in a session that never listed tools is judged against the server's list: a poisoned tool and an unlisted one do not run")
    func unlistedCalls() async throws {
        let (home, record, command) = try setUp()
        let input = [#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2}}}"#,
                     #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"not_listed","arguments":{}}}"#,
                     #"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#].joined(separator: "\n") + "\n"
        let r = try await runProcess(command, input: Data(input.utf8), environment: ["WARDEN_HOME": home])
        let got = received(record)
        #expect(!got.contains("call add") && !got.contains("call not_listed"), "a tool ran unreviewed: \(got)")
        #expect(got.contains("call echo"), "an honest call still runs: \(got)")
        #expect(r.stdoutText.contains(#""decision":"quarantined""#) && r.stdoutText.contains(#""decision":"unreviewed""#), "\(r.stdoutText)")
    }
}

@Suite("red team: a destination spelled another way still meets egress policy", .serialized)
struct RedTeamEgressTests {
    /// A listener on 127.0.0.1: how many connections reached it.
    func connections(_ listener: SandboxNetworkTests.Listener) -> Int {
        var n = 0
        while listener.accepted { n += 1 }
        return n
    }

    func run(_ home: String, _ urls: [JSONValueLike]) async throws -> Finished {
        let input = urls.enumerated().map { i, arguments in
            #"{"jsonrpc":"2.0","id":\#(i + 1),"method":"tools/call","params":{"name":"fetch","arguments":\#(arguments.json)}}"#
        }.joined(separator: "\n") + "\n"
        return try await runProcess([Harness.warden, "wrap", "--name", "redteam", "--", Harness.fixtureServer, "redteam", "clean", "/dev/null"],
                                    input: Data(input.utf8), environment: ["WARDEN_HOME": home], timeout: 120)
    }

    @Test("the server's own URL parser reaches a denied host under none of its spellings, however many destinations come first")
    func spellings() async throws {
        let listener = try SandboxNetworkTests.Listener()
        let port = listener.port
        // Control: with no egress rule the fixture does reach the listener (so the attack run below means something).
        let open = Harness.temporaryHome()
        try "version: 1\ndefaults:\n  action: allow\n".write(toFile: open + "/policy.yaml", atomically: true, encoding: .utf8)
        let control = try await run(open, [JSONValueLike(["url": "http://127.0.0.1:\(port)/control"])])
        #expect(control.stdoutText.contains("200") || control.stdoutText.contains("fetched"), "\(control.stdoutText)")
        #expect(connections(listener) >= 1, "the fixture cannot reach the listener at all: \(control.stdoutText)")

        let home = Harness.temporaryHome()
        try "version: 1\ndefaults:\n  action: allow\negress:\n  servers:\n    redteam: {deny: [\"127.0.0.1\", \"localhost\"]}\n"
            .write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        let spellings = [
            "http://2130706433:\(port)/decimal", "http://0x7f000001:\(port)/hex", "http://0177.0.0.1:\(port)/octal", "http://127.1:\(port)/short",
            "http://[::ffff:127.0.0.1]:\(port)/mapped", "http://good.example@127.0.0.1:\(port)/userinfo", "HTTP://LOCALHOST.:\(port)/case-dot",
            "http://127\u{3002}0\u{3002}0\u{3002}1:\(port)/ideographic", "http://\u{FF11}\u{FF12}\u{FF17}.0.0.1:\(port)/fullwidth",
            "http:\\\\127.0.0.1:\(port)\\backslash", "http:127.0.0.1:\(port)/no-slashes",
        ]
        var calls = spellings.map { JSONValueLike(["url": $0]) }
        // The 26th destination of one call (the old reading stopped at 20).
        calls.append(JSONValueLike(["urls": (0..<25).map { "https://docs\($0).example.org/page" } + ["http://127.0.0.1:\(port)/after-25"]]))
        let r = try await run(home, calls)
        #expect(connections(listener) == 0, "the server reached the denied host: \(r.stdoutText)")
        #expect(r.stdoutText.components(separatedBy: #""decision":"denied-egress""#).count - 1 == calls.count, "\(r.stdoutText)")
    }
}

/// Arguments as JSON text, built with Foundation's serialiser (escapes non-ASCII as the tests need it raw).
struct JSONValueLike {
    let json: String
    init(_ object: [String: Any]) {
        json = String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
