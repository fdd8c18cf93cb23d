import Foundation
import Synchronization
import WardenCore
import WardenProtocol
import WardenTransport

/// Starts an MCP server, initialises a session and fetches every page of its `tools/list`, then
/// stops it. Used by `warden scan` to review servers before they are trusted.
public enum ServerProbe {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// What a server shows the model: its tools, its instructions, and its prompts and resources as
    /// pseudo-definitions named `prompt:NAME` / `resource:NAME` (when it offers them).
    public struct Listing: Sendable {
        public var tools: [JSONObject]
        public var instructions: String?
        public var catalogue: [JSONObject]
    }

    /// The listing of a server Warden starts, or a failure naming what went wrong. Blocks up to `timeout`.
    public static func listTools(_ command: [String], timeout: Double = 20) throws(Failure) -> Listing {
        let server: ServerProcess
        do { server = try ServerProcess.spawn(command) } catch { throw Failure(description: error.description) }
        return try listTools(upstream: ProcessUpstream(server), timeout: timeout)
    }

    /// The listing of a server that is already running (Streamable HTTP or HTTP+SSE, or a socket),
    /// reached as `wrap --connect` reaches it, with `headers` on every HTTP request.
    public static func listTools(connect target: UpstreamTarget, headers: [(String, String)] = [], timeout: Double = 20) throws(Failure) -> Listing {
        switch target {
        case .http(let url): return try listTools(upstream: HTTPUpstream(url: url, headers: headers), timeout: timeout)
        default:
            let socket: SocketUpstream
            do { socket = try SocketUpstream.connect(target) } catch { throw Failure(description: error.description) }
            return try listTools(upstream: socket, timeout: timeout)
        }
    }

    /// Messages from the server, as the pump thread parsed them, until it is gone.
    private final class Mailbox: Sendable {
        private let state = Mutex<(messages: [JSONValue], closed: Bool)>(([], false))
        private let arrived = DispatchSemaphore(value: 0)

        func put(_ message: JSONValue) {
            state.withLock { $0.messages.append(message) }
            arrived.signal()
        }

        func close() {
            state.withLock { $0.closed = true }
            arrived.signal()
        }

        /// The answer to `id` (other messages are dropped), nil once the server is gone, or after `deadline`.
        func answer(to id: Int, by deadline: Date) -> (answer: JSONValue?, closed: Bool) {
            while true {
                let (found, closed) = state.withLock { s -> (JSONValue?, Bool) in
                    defer { s.messages.removeAll() }
                    return (s.messages.first { $0["id"] == .int(id) && $0["method"] == nil }, s.closed)
                }
                if found != nil || closed { return (found, closed) }
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { return (nil, false) }
                _ = arrived.wait(timeout: .now() + min(left, 0.2))
            }
        }
    }

    /// Ends the server: asked (stdin closed, SIGTERM), then, 2 s later, killed; a server that
    /// ignores SIGTERM must not hold a scan (or a CI job) for ever.
    static func stop(_ upstream: any Upstream) {
        upstream.closeInput()
        upstream.terminate()
        let gone = DispatchSemaphore(value: 0)
        Thread {
            _ = upstream.wait()
            gone.signal()
        }.start()
        if gone.wait(timeout: .now() + 2) == .timedOut {
            upstream.kill()
            _ = gone.wait(timeout: .now() + 5)
        }
    }

    static func listTools(upstream: any Upstream, timeout: Double) throws(Failure) -> Listing {
        let mailbox = Mailbox()
        let reader = Thread {
            upstream.pump(maxFrame: 64 << 20) { frame in
                if case .line(_, let content) = frame, let v = try? JSONParser.parse(content) { mailbox.put(v) }
            }
            mailbox.close()
        }
        reader.start()
        defer { stop(upstream) }
        let deadline = Date().addingTimeInterval(timeout)
        func send(_ value: JSONValue) { RPCReply.line(value).withUnsafeBytes { _ = upstream.output.write($0) } }
        func receive(id: Int) throws(Failure) -> JSONValue {
            let (found, closed) = mailbox.answer(to: id, by: deadline)
            if let found {
                if let error = found["error"] {
                    // Warden's own answer for a server that gave none (HTTP) says why in words;
                    // a server's error that only starts the same way is the server's.
                    if let message = error["message"]?.stringValue, message.hasPrefix("Warden: "),
                       error["data"]?[HTTPUpstream.originKey]?.stringValue == HTTPUpstream.origin {
                        throw Failure(description: String(message.dropFirst(8)))
                    }
                    throw Failure(description: "server answered with an error: \(JSONWriter.compact(error))")
                }
                return found["result"] ?? .null
            }
            throw Failure(description: closed ? "server closed its output" : "no answer within \(Int(timeout)) s")
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
