import Foundation
import WardenCore
import WardenProtocol

/// Starts an MCP server, initialises a session and fetches every page of its `tools/list`, then
/// stops it. Used by `warden scan` to review servers before they are trusted.
public enum ServerProbe {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The server's tool definitions, or a failure naming what went wrong. Blocks up to `timeout`.
    public static func listTools(_ command: [String], timeout: Double = 20) throws(Failure) -> (tools: [JSONObject], instructions: String?) {
        let server: ServerProcess
        do { server = try ServerProcess.spawn(command) } catch { throw Failure(description: error.description) }
        defer {
            close(server.stdinFD)
            server.signal(SIGTERM)
            _ = server.wait()
        }
        let deadline = Date().addingTimeInterval(timeout)
        var framer = LineFramer()
        func send(_ value: JSONValue) { RPCReply.line(value).withUnsafeBytes { _ = FileDescriptorIO.writeAll(fd: server.stdinFD, $0) } }
        func receive(id: Int) throws(Failure) -> JSONValue {
            while Date() < deadline {
                var found: JSONValue?
                framer.drain { frame in
                    guard found == nil, case .line(_, let content) = frame, let v = try? JSONParser.parse(content), v["id"] == .int(id) else { return }
                    found = v
                }
                if let found {
                    if let error = found["error"] { throw Failure(description: "server answered with an error: \(JSONWriter.compact(error))") }
                    return found["result"] ?? .null
                }
                var ready = pollfd(fd: server.stdoutFD, events: Int16(POLLIN), revents: 0)
                let wait = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
                guard Glibc.poll(&ready, 1, min(wait, 200)) >= 0 else { continue }
                if ready.revents != 0, framer.readInto(fd: server.stdoutFD) <= 0 { throw Failure(description: "server closed its output") }
            }
            throw Failure(description: "no answer within \(Int(timeout)) s")
        }
        send(["jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": ["protocolVersion": "2025-06-18", "capabilities": [:], "clientInfo": ["name": "warden-scan", "version": "0.1.0"]]])
        let initialized = try receive(id: 1)
        send(["jsonrpc": "2.0", "method": "notifications/initialized"])
        var tools: [JSONObject] = []
        var cursor: JSONValue?
        var id = 2
        repeat {
            var params = JSONObject()
            if let cursor { params["cursor"] = cursor }
            send(["jsonrpc": "2.0", "id": .int(id), "method": "tools/list", "params": .object(params)])
            let page = try receive(id: id)
            tools += page["tools"]?.arrayValue?.compactMap(\.objectValue) ?? []
            cursor = page["nextCursor"].flatMap { $0 == .null ? nil : $0 }
            id += 1
        } while cursor != nil && id < 100
        return (tools, initialized["instructions"]?.stringValue)
    }
}
