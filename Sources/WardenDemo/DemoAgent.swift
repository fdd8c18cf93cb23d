import Foundation
import Synchronization
import WardenCore
import WardenProtocol
import WardenProxy
import WardenTransport

/// A scripted MCP client: starts `warden wrap --name NAME -- warden demo-server NAME`, speaks MCP
/// to it over stdio (initialize, tools/list, tools/call) and reports what it experiences.
final class DemoAgent: @unchecked Sendable {
    let name: String
    let process: ServerProcess
    var framer = LineFramer()
    var nextID = 1
    /// Set when the server (through Warden) says its tool list changed.
    var listChanged = false
    var tools: [String] = []
    let say: @Sendable (String) -> Void

    init(name: String, warden: String, home: String, say: @escaping @Sendable (String) -> Void) throws {
        self.name = name
        self.say = say
        process = try ServerProcess.spawn([warden, "wrap", "--name", name, "--home", home, "--", warden, "demo-server", name],
                                          stderrPath: "\(home)/\(name).log")
    }

    /// One request and its answer (notifications in between are noted); nil if Warden went away.
    func request(_ method: String, _ params: JSONValue, timeout: Double = 180) -> JSONValue? {
        let id = nextID
        nextID += 1
        let line = RPCReply.line(["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": params])
        guard line.withUnsafeBytes({ FileDescriptorIO.writeAll(fd: process.stdinFD, $0) }) else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var answer: JSONValue?
            framer.drain { frame in
                guard case .line(_, let content) = frame, let v = try? JSONParser.parse(content) else { return }
                if v["method"]?.stringValue == "notifications/tools/list_changed" { listChanged = true }
                if v["id"] == .int(id) { answer = v }
            }
            if let answer { return answer }
            var fds = pollfd(fd: process.stdoutFD, events: Int16(POLLIN), revents: 0)
            guard poll(&fds, 1, 500) >= 0 else { continue }
            if fds.revents != 0, framer.readInto(fd: process.stdoutFD) <= 0 { return nil }
        }
        return nil
    }

    func start() -> Bool {
        guard request("initialize", ["protocolVersion": "2025-06-18", "capabilities": [:],
                                     "clientInfo": ["name": "demo-agent", "version": "1.0"]]) != nil else { return false }
        let line = RPCReply.line(["jsonrpc": "2.0", "method": "notifications/initialized"])
        _ = line.withUnsafeBytes { FileDescriptorIO.writeAll(fd: process.stdinFD, $0) }
        return list()
    }

    @discardableResult
    func list() -> Bool {
        guard let r = request("tools/list", [:]) else { return false }
        tools = r["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        listChanged = false
        return true
    }

    /// What a call came back with, as the agent tells it.
    enum Outcome {
        case ok(String)
        case refused(decision: String, text: String)
        case failed(String)
    }

    func call(_ tool: String, _ arguments: JSONObject) -> Outcome {
        guard let r = request("tools/call", ["name": .string(tool), "arguments": .object(arguments)]) else { return .failed("Warden is gone") }
        if let error = r["error"] { return .failed(error["message"]?.stringValue ?? "error") }
        let text = r["result"]?["content"]?.arrayValue?.first?["text"]?.stringValue ?? ""
        if let decision = r["result"]?["_meta"]?["dev.warden/decision"]?["decision"]?.stringValue, r["result"]?["isError"]?.boolValue == true {
            return .refused(decision: decision, text: text)
        }
        return .ok(text)
    }

    /// Calls a tool and narrates the exchange.
    @discardableResult
    func act(_ tool: String, _ arguments: JSONObject, intent: String? = nil) -> Outcome {
        say("[\(name)] agent → \(tool) \(JSONWriter.compact(.object(arguments)))\(intent.map { "  (\($0))" } ?? "")")
        let outcome = call(tool, arguments)
        switch outcome {
        case .ok(let text): say("[\(name)] ← \(text.split(separator: "\n").first.map(String.init) ?? "")")
        case .refused(let decision, let text): say("[\(name)] ← Warden: \(decision) — \(text.prefix(160))")
        case .failed(let why): say("[\(name)] ← failed: \(why)")
        }
        if listChanged {
            say("[\(name)] server says its tools changed; listing again")
            list()
            say("[\(name)] tools offered now: \(tools.joined(separator: ", "))")
        }
        return outcome
    }

    /// Asks the session to end: stdin closed and SIGTERM (Warden forwards it to the server and exits).
    func beginStop() {
        Glibc.close(process.stdinFD)
        process.signal(SIGTERM)
    }

    /// Waits for the session's `warden wrap` to exit (SIGKILL after a few seconds).
    func stop() {
        let deadline = Date().addingTimeInterval(3)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(process.pid, &status, WNOHANG) == process.pid { Glibc.close(process.stdoutFD); return }
            usleep(50_000)
        }
        process.signal(SIGKILL)
        _ = process.wait()
        Glibc.close(process.stdoutFD)
    }
}
