import Foundation
import Testing

/// A server that misbehaves must never crash Warden, and the client must always get an answer.
@Suite("wrap survives a hostile server")
struct HostileServerTests {
    func wrapped(_ home: String) -> [String] {
        [Harness.warden, "wrap", "--name", "hostile", "--", Harness.fixtureServer, "hostile"]
    }

    @Test("malformed lines, a 20 MiB result, a notification flood and a poisoned tool, through the Python SDK client")
    func misbehaviour() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let report = try await pythonClient(command: wrapped(home), steps: [
            ["op": "list"],
            ["op": "call", "name": "malformed"],
            ["op": "call", "name": "huge"],
            ["op": "call", "name": "flood"],
            ["op": "call", "name": "poisoned_add", "arguments": ["a": 1, "b": 2]],
            ["op": "call", "name": "echo", "arguments": ["text": "still alive"]],
        ], home: home, timeout: 120)
        let results = report["results"] as! [Any]
        let names = ((results[0] as! [String: Any])["tools"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(!names.contains("poisoned_add"), "a malicious tool must be hidden from the client")
        #expect(names.contains("echo") && names.contains("delete_everything"))
        #expect(resultText(results[1]) == "answered after a malformed line")
        #expect(resultText(results[2]).utf8.count == 20 << 20)
        #expect(resultText(results[3]) == "flood done")
        #expect(isError(results[4]))
        #expect(decisionMeta(results[4])["decision"] as? String == "quarantined")
        #expect(resultText(results[5]).contains("still alive"))
    }

    @Test("a poisoned prompt is hidden from prompts/list; a result carrying an injection is withheld by policy")
    func promptsAndResults() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let policy = home + "/policy.yaml"
        try "version: 1\ndefaults:\n  action: allow\ndlp:\n  injection: deny\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let report = try await pythonClient(command: [Harness.warden, "wrap", "--name", "hostile", "--policy", policy, "--", Harness.fixtureServer, "hostile"], steps: [
            ["op": "prompts"],
            ["op": "call", "name": "fetch_page", "arguments": ["url": "https://docs.example.org"]],
            ["op": "call", "name": "echo", "arguments": ["text": "plain"]],
        ], home: home)
        let results = report["results"] as! [Any]
        let prompts = ((results[0] as! [String: Any])["prompts"] as! [[String: Any]]).map { $0["name"] as! String }
        #expect(prompts == ["summarise"])
        #expect(isError(results[1]))
        #expect(decisionMeta(results[1])["decision"] as? String == "withheld")
        #expect(!resultText(results[1]).contains("collect.example.net"))
        #expect(resultText(results[2]).contains("plain"))
    }

    @Test("a server that crashes mid-call: the client gets an error naming the exit status; Warden exits with it")
    func crashMidCall() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let report = try await pythonClient(command: wrapped(home), steps: [["op": "call", "name": "crash"]], home: home)
        let text = resultText((report["results"] as! [Any])[0])
        #expect(text.contains("ERROR -32000"))
        #expect(text.contains("exited (exit status 3)"))

        // The same through raw stdio, to see Warden's own exit status.
        let input = [#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"crash","arguments":{}}}"#,
                     #"{"jsonrpc":"2.0","id":2,"method":"ping"}"#].joined(separator: "\n") + "\n"
        let r = try await runProcess(wrapped(home), input: Data(input.utf8), environment: ["WARDEN_HOME": home])
        #expect(r.status == 3)
        #expect(r.stdoutText.contains(#""id":1,"error":{"code":-32000"#))
    }

    @Test("invalid client lines are answered by Warden and never reach the server")
    func invalidClientLines() async throws {
        let home = Harness.temporaryHome()
        let input = [
            #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a"}}, broken"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"b","text":"c"}}}"#,
            #"{"jsonrpc":"1.0","id":3,"method":"ping"}"#,
            #"[]"#,
            #"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"text":"ok"}}}"#,
        ].joined(separator: "\n") + "\n"
        let r = try await runProcess(wrapped(home), input: Data(input.utf8), environment: ["WARDEN_HOME": home])
        let out = r.stdoutText
        #expect(out.contains(#""id":1,"error":{"code":-32700"#))
        #expect(out.contains(#""id":2,"error":{"code":-32600"#))
        #expect(out.contains(#""id":3,"error":{"code":-32600"#))
        #expect(out.contains(#""id":null,"error":{"code":-32600"#))
        #expect(out.contains(#"echo: {\"text\":\"ok\"}"#))
        // The fixture echoes arguments back: had any refused line reached it, "a", "b" or "c" would show.
        #expect(!out.contains(#"{\"text\":\"b\""#) && !out.contains(#"{\"text\":\"c\""#) && !out.contains(#"{\"text\":\"a\""#))
    }
}

@Suite("wrap catches a rug pull")
struct RugPullTests {
    @Test("a definition that changes after list_changed is hidden from the next list and its calls refused")
    func rugPull() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let report = try await pythonClient(command: [Harness.warden, "wrap", "--name", "weather", "--", Harness.fixtureServer, "rugpull"], steps: [
            ["op": "list"],
            ["op": "call", "name": "get_forecast", "arguments": ["city": "Oslo"]],
            ["op": "call", "name": "get_forecast", "arguments": ["city": "Lima"]],
            ["op": "list"],
            ["op": "call", "name": "get_forecast", "arguments": ["city": "Quito"]],
        ], home: home)
        let r = report["results"] as! [Any]
        #expect(((r[0] as! [String: Any])["tools"] as! [Any]).count == 1)
        #expect(resultText(r[1]) == "Sunny in Oslo")
        #expect(((r[3] as! [String: Any])["tools"] as! [Any]).isEmpty)
        #expect(decisionMeta(r[4])["decision"] as? String == "quarantined")
        #expect(resultText(r[4]).contains("is quarantined"))
        // The pin survives the session: the trusted definition is still the first one.
        let pins = try String(contentsOfFile: home + "/pins/weather.json", encoding: .utf8)
        #expect(pins.contains("Get the weather forecast for a city.\""))
        #expect(!pins.contains("Do not tell the user"))
    }
}
