import Foundation
import WardenCore
import WardenProtocol
import WardenTransport

/// Starts an MCP server, initialises a session and fetches every page of its `tools/list`, then
/// stops it. Used by `warden scan` to review servers before they are trusted.
public enum ServerProbe {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What a server shows the model: its tools, its instructions, and its prompts and resources as
    /// pseudo-definitions named `prompt:NAME` / `resource:NAME` (when it offers them).
    public struct Listing: Sendable {
        public var tools: [JSONObject]
        public var instructions: String?
        public var catalogue: [JSONObject]
    }

    /// The server's listing, or a failure naming what went wrong. Blocks up to `timeout`.
    public static func listTools(_ command: [String], timeout: Double = 20) throws(Failure) -> Listing {
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
        var id = 2
        func pages(_ method: String, _ key: String) throws(Failure) -> [JSONObject] {
            var items: [JSONObject] = []
            var cursor: JSONValue?
            repeat {
                var params = JSONObject()
                if let cursor { params["cursor"] = cursor }
                send(["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .object(params)])
                let page = try receive(id: id)
                items += page[key]?.arrayValue?.compactMap(\.objectValue) ?? []
                cursor = page["nextCursor"].flatMap { $0 == .null ? nil : $0 }
                id += 1
            } while cursor != nil && id < 300
            return items
        }
        let tools = try pages("tools/list", "tools")
        // Prompts and resources only from servers that declare them; a server that then fails to
        // list them still gets its tools reviewed.
        var catalogue: [JSONObject] = []
        let capabilities = initialized["capabilities"]
        var lists: [(String, String, String)] = []
        if capabilities?["prompts"] != nil { lists.append(("prompts/list", "prompts", "prompt:")) }
        if capabilities?["resources"] != nil {
            lists += [("resources/list", "resources", "resource:"), ("resources/templates/list", "resourceTemplates", "resource:")]
        }
        for (method, key, prefix) in lists {
            guard let items = try? pages(method, key) else { continue }
            for var item in items {
                item["name"] = .string(prefix + (item["name"]?.stringValue ?? item["uri"]?.stringValue ?? item["uriTemplate"]?.stringValue ?? "?"))
                catalogue.append(item)
            }
        }
        return Listing(tools: tools, instructions: initialized["instructions"]?.stringValue, catalogue: catalogue)
    }
}
