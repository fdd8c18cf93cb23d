import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import WardenCore
import WardenProtocol
import WardenTransport

/// An MCP server on Streamable HTTP that answers at once with JSON bodies: what the benchmark
/// measures is the path to it, not a server's work.
struct InstantServer: HTTPResponder {
    typealias Context = BasicRequestContext

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        switch request.method {
        case .post: break
        case .delete: return Response(status: .ok)
        default: return Response(status: .methodNotAllowed)
        }
        var body = try await request.body.collect(upTo: 16 << 20)
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        guard let value = try? JSONParser.parse(bytes), case .success(let message) = RPCValidator.classify(value) else {
            return Response(status: .badRequest)
        }
        guard case .request(let method) = message.kind, let id = message.id else { return Response(status: .accepted) }
        let result: JSONValue
        switch method {
        case "initialize":
            result = .object(JSONObject(pairs: [("protocolVersion", "2025-06-18"), ("capabilities", .object(JSONObject(pairs: [("tools", .object(JSONObject()))]))),
                                                ("serverInfo", .object(JSONObject(pairs: [("name", "instant"), ("version", "1")])))]))
        case "tools/list":
            let schema = JSONObject(pairs: [("type", "object"), ("properties", .object(JSONObject(pairs: [("text", .object(JSONObject(pairs: [("type", "string")])))])))])
            result = .object(JSONObject(pairs: [("tools", .array([.object(JSONObject(pairs: [
                ("name", "echo"), ("description", "Returns the text it is given."), ("inputSchema", .object(schema)),
                ("annotations", .object(JSONObject(pairs: [("readOnlyHint", .bool(true))]))),
            ]))]))]))
        case "tools/call":
            let text = message.params?["arguments"]?.objectValue?["text"]?.stringValue ?? ""
            result = .object(JSONObject(pairs: [("content", .array([.object(JSONObject(pairs: [("type", "text"), ("text", .string(text))]))]))]))
        default:
            result = .object(JSONObject())
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if method == "initialize" { headers[HTTPField.Name("Mcp-Session-Id")!] = "instant" }
        let answer = JSONWriter.compactBytes(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", id), ("result", result)])))
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer)))
    }
}

/// One MCP session over Streamable HTTP, as a client holds it.
final class HTTPSession: Sendable {
    let url: String
    let client: HTTPClient
    private let session = Mutex<String?>(nil)
    private let nextID = Atomic<Int>(1)

    init(url: String, client: HTTPClient) {
        self.url = url
        self.client = client
    }

    /// Posts one message; the answer's JSON (the one `data:` line of an event stream, or the body).
    @discardableResult
    func post(_ method: String, _ params: JSONValue? = nil, notification: Bool = false) async throws -> [UInt8] {
        var object = JSONObject(pairs: [("jsonrpc", "2.0"), ("method", .string(method))])
        if !notification { object["id"] = .int(nextID.wrappingAdd(1, ordering: .relaxed).oldValue) }
        if let params { object["params"] = params }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json, text/event-stream")
        if let id = session.withLock({ $0 }) { request.headers.add(name: "Mcp-Session-Id", value: id) }
        request.body = .bytes(ByteBuffer(bytes: JSONWriter.compactBytes(.object(object))))
        let response = try await client.execute(request, timeout: .seconds(60))
        if let id = response.headers.first(name: "Mcp-Session-Id") { session.withLock { $0 = id } }
        var body = try await response.body.collect(upTo: 16 << 20)
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        guard response.status.code / 100 == 2 else { throw BenchError("HTTP \(response.status.code): \(String(decoding: bytes.prefix(300), as: UTF8.self))") }
        if response.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true {
            let text = String(decoding: bytes, as: UTF8.self)
            return Array((text.split(separator: "\n").last { $0.hasPrefix("data:") }?.dropFirst(5) ?? "").utf8)
        }
        return bytes
    }

    func open() async throws {
        try await post("initialize", .object(JSONObject(pairs: [("protocolVersion", "2025-06-18"), ("capabilities", .object(JSONObject())),
                                                            ("clientInfo", .object(JSONObject(pairs: [("name", "bench"), ("version", "1")])))])))
        try await post("notifications/initialized", notification: true)
    }

    func call(_ text: String) async throws {
        let answer = try await post("tools/call", .object(JSONObject(pairs: [("name", "echo"), ("arguments", .object(JSONObject(pairs: [("text", .string(text))])))])))
        guard String(decoding: answer, as: UTF8.self).contains(text) else { throw BenchError("unexpected answer: \(String(decoding: answer.prefix(300), as: UTF8.self))") }
    }

    func close() async {
        guard let id = session.withLock({ $0 }) else { return }
        var request = HTTPClientRequest(url: url)
        request.method = .DELETE
        request.headers.add(name: "Mcp-Session-Id", value: id)
        _ = try? await client.execute(request, timeout: .seconds(10))
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs an async benchmark body from the synchronous top level.
func blocking(_ body: @escaping @Sendable () async throws -> Void) throws {
    let done = DispatchSemaphore(value: 0)
    let failure = Mutex<(any Error)?>(nil)
    Task {
        do { try await body() } catch { failure.withLock { $0 = error } }
        done.signal()
    }
    done.wait()
    if let error = failure.withLock({ $0 }) { throw error }
}

/// Starts `warden gateway` and returns it with the endpoint it printed.
func startGateway(_ arguments: [String]) throws -> (ServerProcess, String) {
    let process = try ServerProcess.spawn([products + "/warden", "gateway", "--listen", "127.0.0.1:0", "--no-auth"] + arguments)
    var line = [UInt8]()
    var byte: UInt8 = 0
    while read(process.stdoutFD, &byte, 1) == 1, byte != 0x0A { line.append(byte) }
    let words = String(decoding: line, as: UTF8.self).split(separator: " ")
    guard words.count == 2, words[0] == "listening" else { throw BenchError("the gateway did not start: \(String(decoding: line, as: UTF8.self))") }
    return (process, String(words[1]))
}

/// A process's proportional set size in KiB (its share of pages it shares with others).
func pssKiB(_ pid: pid_t) -> Int {
    guard let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return 0 }
    for line in rollup.split(separator: "\n") where line.hasPrefix("Pss:") { return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0 }
    return 0
}

func children(of parent: pid_t) -> [pid_t] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
        guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
    }
}

/// `warden-bench http`: an instant Streamable HTTP server reached directly and through
/// `warden gateway --upstream` (client → gateway → its session's `warden wrap` → the server), in
/// one run: sequential latency interleaved, concurrent throughput, and memory with many sessions.
func httpBenchmark() throws {
    let calls = option("--calls", 2_000)
    let concurrent = option("--concurrent", 16)
    let total = option("--total", 20_000)
    let sessionCount = option("--sessions", 100)
    let home = NSTemporaryDirectory() + "warden-bench-http-\(getpid())"
    setenv("WARDEN_HOME", home, 1)
    setenv("WARDEN_NO_AUTOSTART", "1", 1)
    defer { try? FileManager.default.removeItem(atPath: home) }
    signal(SIGPIPE, SIG_IGN)

    try blocking {
        let server = Application(responder: InstantServer(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                 onServerRunning: { channel in serverPort.store(channel.localAddress?.port ?? 0, ordering: .releasing) },
                                 logger: { var l = Logger(label: "bench"); l.logLevel = .critical; return l }())
        let serving = Task { try await server.run() }
        while serverPort.load(ordering: .acquiring) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let upstream = "http://127.0.0.1:\(serverPort.load(ordering: .acquiring))/mcp"
        let (gateway, endpoint) = try startGateway(["--name", "bench", "--home", home, "--max-sessions", String(sessionCount + 10), "--upstream", upstream])
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await httpMeasure(client: client, upstream: upstream, endpoint: endpoint, gateway: gateway,
                                  calls: calls, concurrent: concurrent, total: total, sessionCount: sessionCount)
        } catch {
            gateway.signal(SIGTERM); _ = gateway.wait()
            try? await client.shutdown()
            serving.cancel()
            throw error
        }
        gateway.signal(SIGTERM); _ = gateway.wait()
        try? await client.shutdown()
        serving.cancel()
    }
}

private func httpMeasure(client: HTTPClient, upstream: String, endpoint: String, gateway: ServerProcess,
                         calls: Int, concurrent: Int, total: Int, sessionCount: Int) async throws {
    print("http benchmark: \(calls) sequential tools/call round trips (interleaved), \(total) at \(concurrent) in flight, an instant JSON server; \(sessionCount) gateway sessions for memory")
    let direct = HTTPSession(url: upstream, client: client)
    let through = HTTPSession(url: endpoint, client: client)
    try await direct.open()
    try await through.open()
    for i in 0..<200 { try await direct.call("warm \(i)"); try await through.call("warm \(i)") }
    var d = [Double](), g = [Double]()
    for i in 0..<calls {
        for (session, into) in [(direct, 0), (through, 1)] {
            let start = DispatchTime.now().uptimeNanoseconds
            try await session.call("call \(i)")
            let us = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
            if into == 0 { d.append(us) } else { g.append(us) }
        }
    }
    func rate(_ session: HTTPSession) async throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrent {
                group.addTask { for i in stride(from: worker, to: total, by: concurrent) { try await session.call("flood \(i)") } }
            }
            try await group.waitForAll()
        }
        return Double(total) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    let dRate = try await rate(direct), gRate = try await rate(through)
    let ds = d.sorted(), gs = g.sorted()
    func f(_ v: Double) -> String { String(format: "%8.1f", v) }
    print("                         p50 µs   p99 µs   calls/s (\(concurrent) in flight)")
    print("direct HTTP            \(f(percentile(ds, 0.5))) \(f(percentile(ds, 0.99)))   \(Int(dRate))")
    print("through warden gateway \(f(percentile(gs, 0.5))) \(f(percentile(gs, 0.99)))   \(Int(gRate))")
    print("added by warden        \(f(percentile(gs, 0.5) - percentile(ds, 0.5))) \(f(percentile(gs, 0.99) - percentile(ds, 0.99)))   throughput ratio \(String(format: "%.2f", gRate / dRate))")
    await through.close()

    let idleGateway = procStatusKiB(gateway.pid, "VmRSS")
    var many = [HTTPSession]()
    try await withThrowingTaskGroup(of: HTTPSession.self) { group in
        for i in 0..<sessionCount {
            group.addTask {
                let s = HTTPSession(url: endpoint, client: client)
                try await s.open()
                try await s.call("session \(i)")
                return s
            }
        }
        for try await s in group { many.append(s) }
    }
    let relays = children(of: gateway.pid)
    let rss = relays.map { procStatusKiB($0, "VmRSS") }, pss = relays.map(pssKiB)
    let gatewayRSS = procStatusKiB(gateway.pid, "VmRSS")
    print("\(many.count) sessions open: \(relays.count) relays; gateway RSS \(gatewayRSS / 1024) MiB (\(idleGateway / 1024) MiB with none)")
    print(String(format: "relays: RSS %.1f MiB each (mean), PSS %.1f MiB each, PSS total %.0f MiB; all Warden: %.0f MiB for %d sessions",
                 Double(rss.reduce(0, +)) / Double(max(1, rss.count)) / 1024, Double(pss.reduce(0, +)) / Double(max(1, pss.count)) / 1024,
                 Double(pss.reduce(0, +)) / 1024, Double(pss.reduce(0, +) + pssKiB(gateway.pid)) / 1024, many.count))
    for s in many { await s.close() }
}

let serverPort = Atomic<Int>(0)
