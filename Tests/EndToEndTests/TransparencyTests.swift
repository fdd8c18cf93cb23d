import Foundation
import Testing

/// A client must not be able to tell `warden wrap` from the server it wraps, except where policy steps in.
@Suite("wrap is transparent to real MCP peers")
struct TransparencyTests {
    @Test("Python SDK client ↔ mcp-server-time: same tools and results as a direct connection")
    func timeServer() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let server = [Harness.peers + "/bin/mcp-server-time", "--local-timezone", "UTC"]
        let steps: [[String: Any]] = [
            ["op": "list"],
            ["op": "call", "name": "convert_time", "arguments": ["source_timezone": "Europe/London", "time": "12:00", "target_timezone": "Asia/Tokyo"]],
            ["op": "call", "name": "convert_time", "arguments": ["source_timezone": "Nowhere/Atlantis", "time": "12:00", "target_timezone": "UTC"]],
        ]
        let direct = try await pythonClient(command: server, steps: steps, home: home)
        let wrapped = try await pythonClient(command: [Harness.warden, "wrap", "--name", "time", "--"] + server, steps: steps, home: home)
        let d = direct["results"] as! [Any], w = wrapped["results"] as! [Any]
        #expect(NSDictionary(dictionary: d[0] as! [String: Any]) == NSDictionary(dictionary: w[0] as! [String: Any]))
        #expect(((w[0] as! [String: Any])["tools"] as! [Any]).count == 2)
        #expect(resultText(d[1]) == resultText(w[1]))
        #expect(resultText(w[1]).contains("Asia/Tokyo"))
        #expect(resultText(d[2]) == resultText(w[2]))
        #expect(NSDictionary(dictionary: direct["server"] as! [String: Any]) == NSDictionary(dictionary: wrapped["server"] as! [String: Any]))
        #expect(spooledIsolation(home) == "bubblewrap", "the wrapped server ran sandboxed")
    }

    @Test("Python SDK client ↔ mcp-server-git: same tools and results as a direct connection")
    func gitServer() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let repo = home + "-repo"  // outside the home: a sandboxed server never sees Warden's state
        try await makeGitRepo(repo)
        try "changed\n".write(toFile: repo + "/README.md", atomically: true, encoding: .utf8)
        let server = [Harness.peers + "/bin/mcp-server-git", "--repository", repo]
        let steps: [[String: Any]] = [
            ["op": "list"],
            ["op": "call", "name": "git_status", "arguments": ["repo_path": repo]],
            ["op": "call", "name": "git_log", "arguments": ["repo_path": repo, "max_count": 5]],
            ["op": "call", "name": "git_diff_unstaged", "arguments": ["repo_path": repo]],
        ]
        let direct = try await pythonClient(command: server, steps: steps, home: home)
        let wrapped = try await pythonClient(command: [Harness.warden, "wrap", "--name", "git", "--"] + server, steps: steps, home: home)
        let d = direct["results"] as! [Any], w = wrapped["results"] as! [Any]
        #expect(NSDictionary(dictionary: d[0] as! [String: Any]) == NSDictionary(dictionary: w[0] as! [String: Any]))
        for i in 1..<4 {
            #expect(resultText(d[i]) == resultText(w[i]))
            #expect(!isError(w[i]))
        }
        #expect(resultText(w[2]).contains("first commit"))
        #expect(resultText(w[3]).contains("+changed"))
        #expect(spooledIsolation(home) == "bubblewrap", "the wrapped server ran sandboxed")
    }

    @Test("Swift SDK client ↔ warden wrap ↔ Swift SDK server")
    func swiftSDK() async throws {
        let home = Harness.temporaryHome()
        let direct = try await runProcess([Harness.sdkPeer, "client", "--", Harness.sdkPeer, "server"], environment: ["WARDEN_HOME": home])
        let wrapped = try await runProcess([Harness.sdkPeer, "client", "--", Harness.warden, "wrap", "--name", "sdk", "--", Harness.sdkPeer, "server"],
                                           environment: ["WARDEN_HOME": home])
        #expect(direct.status == 0 && wrapped.status == 0, "\(wrapped.stderr)")
        #expect(wrapped.stdoutText == direct.stdoutText)
        #expect(wrapped.stdoutText.contains("\"add\":\"42\""))
        #expect(wrapped.stdoutText.contains("Hello, Ada 🚀!"))
    }

    @Test("messages Warden does not change pass byte for byte, both ways")
    func byteForByte() async throws {
        // `cat` as the "server" sends every line straight back, so each line crosses the relay twice.
        let lines = [
            #"{"jsonrpc":"2.0","method":"notifications/x","params":{"z":1,"a":[1.0e+10,12345678901234567890123456789],"s":"\u00e9\u0000 é 🚀 \ud83d\ude80"}}"#,
            #"  {  "method" : "notifications/spaced",   "jsonrpc":"2.0" ,"params":{}}   "#,
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/crlf\",\"params\":{\"t\":\"\\t\"}}\r",
            #"{"jsonrpc":"2.0","id":7,"result":{"big":-0.000000000000000000001e-400,"keys":{"b":2,"a":1}}}"#,
            #"{"jsonrpc":"2.0","id":"r-1","error":{"code":-1,"message":"client-side error","data":[null,true,false]}}"#,
            #"[{"jsonrpc":"2.0","method":"notifications/batched"},{"jsonrpc":"2.0","method":"notifications/second"}]"#,
        ]
        let input = lines.joined(separator: "\n") + "\n\n   \n"
        let home = Harness.temporaryHome()
        let r = try await runProcess([Harness.warden, "wrap", "--name", "cat", "--", "/bin/cat"], input: Data(input.utf8), environment: ["WARDEN_HOME": home])
        #expect(r.status == 0, "\(r.stderr)")
        // The two responses answer no request in flight (cat echoes them back): they are withheld,
        // as any answer to nothing is; everything else comes back byte for byte.
        let answered = lines.filter { !$0.contains(#""id":7"#) && !$0.contains(#""id":"r-1""#) }
        #expect(r.stdoutText == answered.joined(separator: "\n") + "\n")
    }
}
