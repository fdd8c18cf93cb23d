import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import NIOCore
import Synchronization
import WardenCore
import WardenProtocol
import WardenTransport
#if canImport(Glibc)
import Glibc
#endif

/// `warden gateway`: serves MCP's Streamable HTTP transport to clients that connect over HTTP, and
/// puts every session behind its own `warden wrap` — the same relay, policy, sandbox, hub events
/// and grants as a stdio client gets, with nothing enforced twice or differently.
///
/// The door is guarded as the specification asks of local servers: loopback unless asked
/// otherwise, `Host` and `Origin` checked (a web page's DNS-rebinding request names its own host
/// and origin), and a bearer token on every request.
public final class Gateway: Sendable {
    public let config: GatewayConfiguration
    private let sessions = Mutex<[String: GatewaySession]>([:])
    /// Relays started and not yet reaped (what --max-sessions bounds).
    private let relays = Mutex(0)
    /// The port actually bound (the configured one, or the one the system chose for port 0).
    private let boundPort = Atomic<Int>(0)
    /// Says where the gateway listens, once it does.
    private let onListening: @Sendable (String) -> Void

    public init(config: GatewayConfiguration, onListening: @escaping @Sendable (String) -> Void = { _ in }) {
        self.config = config
        self.onListening = onListening
    }

    /// Serves until SIGINT or SIGTERM, then ends every session (each relay ends its server).
    public func run() async throws {
        var logger = Logger(label: "warden-gateway")
        logger.logLevel = .error
        let app = Application(
            responder: Responder(gateway: self),
            // A connection with nothing read or written for four keep-alive intervals (a minute) is
            // closed: half-sent requests from a local process without the token do not hold
            // descriptors for ever. Open streams get a keep-alive every interval, well inside it.
            server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(config.keepAlive * 4000)))),
            configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: nil),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? config.listen.port
                boundPort.store(port, ordering: .releasing)
                let host = config.listen.host.contains(":") ? "[\(config.listen.host)]" : config.listen.host
                onListening("http://\(host):\(port)\(config.path)")
            },
            logger: logger)
        let sweeper = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(config.keepAlive))
                sweep()
            }
        }
        defer { sweeper.cancel() }
        // At SIGTERM or SIGINT the sessions end first (their open requests answered, their
        // streams closed), then the server: its graceful shutdown waits for the handlers, which
        // would otherwise wait for the sessions for ever. Ten seconds at most, then it is cancelled.
        var group = ServiceGroupConfiguration(services: [.init(service: app), .init(service: SessionEnder(gateway: self))],
                                              gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
        endAll()
    }

    /// Ends every session when graceful shutdown begins. It is the group's last service, so it is
    /// told first, and the server is told once it has returned.
    struct SessionEnder: Service {
        let gateway: Gateway
        func run() async throws {
            try? await gracefulShutdown()
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                // endAll waits (up to its grace) for the relays to exit: off the cooperative pool.
                Thread {
                    gateway.endAll()
                    done.resume()
                }.start()
            }
        }
    }

    /// How many sessions are live.
    public var sessionCount: Int { sessions.withLock { $0.count } }

    // MARK: The door

    /// Why a request may not come in, or nil. `Host` first: a DNS-rebinding page reaches a loopback
    /// port under a name of its own, which no loopback gateway answers to.
    func refusal(_ request: Request) -> Response? {
        let port = boundPort.load(ordering: .acquiring)
        let own = ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)", "\(config.listen.description.lowercased())"]
        if !config.allowRemote {
            let host = (request.head.authority ?? "").lowercased()
            guard own.contains(host) else {
                return Self.refuse(.forbidden, "Host \(SafeText.escape(host.isEmpty ? "(none)" : host)) is not this gateway's (a loopback gateway answers only to its own address: DNS-rebinding defence)")
            }
        }
        if let origin = request.headers[.origin] {
            let allowed = own.map { "http://" + $0 } + config.allowedOrigins
            guard allowed.contains(origin.lowercased()) || config.allowedOrigins.contains(origin) else {
                return Self.refuse(.forbidden, "Origin \(SafeText.escape(origin)) is not allowed (a web page may not drive this gateway; allow an origin with --allow-origin)")
            }
        }
        if let token = config.token {
            let given = request.headers[.authorization] ?? ""
            guard given.hasPrefix("Bearer "), Self.constantTimeEqual(Array(given.utf8.dropFirst(7)), Array(token.utf8)) else {
                var response = Self.refuse(.unauthorized, given.isEmpty ? "this gateway needs Authorization: Bearer TOKEN (the token is in the gateway's token file)" : "the bearer token is not this gateway's")
                response.headers[.wwwAuthenticate] = "Bearer realm=\"warden-gateway\""
                return response
            }
        }
        return nil
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    // MARK: Requests

    func respond(to request: Request) async -> Response {
        guard request.uri.path == config.path else { return Self.refuse(.notFound, "no MCP endpoint here: it is \(config.path)") }
        if let refused = refusal(request) { return refused }
        switch request.method {
        case .post: return await post(request)
        case .get: return get(request)
        case .delete: return delete(request)
        default:
            var response = Self.refuse(.methodNotAllowed, "the MCP endpoint takes POST, GET and DELETE")
            response.headers[.allow] = "POST, GET, DELETE"
            return response
        }
    }

    private func post(_ request: Request) async -> Response {
        let accept = request.headers[.accept] ?? "*/*"
        let sse = Self.accepts(accept, "text/event-stream")
        guard sse || Self.accepts(accept, "application/json") else {
            return Self.refuse(.notAcceptable, "a POST must accept application/json or text/event-stream")
        }
        var body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: config.maxMessage)
        } catch is NIOTooManyBytesError {
            return Self.rpcError(.contentTooLarge, id: nil, code: RPCErrorCode.invalidRequest, "the message is larger than this gateway accepts (\(config.maxMessage) bytes)")
        } catch {
            return Self.rpcError(.badRequest, id: nil, code: RPCErrorCode.parseError, "the request body could not be read: \(error)")
        }
        var bytes = body.readBytes(length: body.readableBytes) ?? []
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            return Self.rpcError(.badRequest, id: nil, code: RPCErrorCode.parseError, "not JSON: \(error)")
        }
        if case .array = value {
            return Self.rpcError(.badRequest, id: nil, code: RPCErrorCode.invalidRequest, "JSON-RPC batches are not accepted (MCP 2025-06-18 removed them): send one message per POST")
        }
        let message: RPCMessage
        switch RPCValidator.classify(value) {
        case .success(let m): message = m
        case .failure(let invalid): return Self.rpcError(.badRequest, id: invalid.id, code: RPCErrorCode.invalidRequest, invalid.reason)
        }
        if let version = request.headers[Self.protocolVersion], !Self.isProtocolVersion(version) {
            return Self.rpcError(.badRequest, id: message.id, code: RPCErrorCode.invalidRequest, "MCP-Protocol-Version \(SafeText.escape(version)) is not a protocol version")
        }

        let session: GatewaySession
        var created = false
        if let id = request.headers[Self.sessionHeader] {
            guard let existing = sessions.withLock({ $0[id] }), !existing.isEnded else {
                return Self.rpcError(.notFound, id: message.id, code: RPCErrorCode.invalidRequest, "no such session (it ended, or this gateway restarted): initialize a new one")
            }
            if message.method == "initialize" {
                return Self.rpcError(.badRequest, id: message.id, code: RPCErrorCode.invalidRequest, "this session is initialized already")
            }
            session = existing
        } else {
            guard message.method == "initialize", case .request = message.kind else {
                return Self.rpcError(.badRequest, id: message.id, code: RPCErrorCode.invalidRequest, "no Mcp-Session-Id: a session starts with an initialize request")
            }
            switch startSession() {
            case .success(let s): session = s
            case .failure(let refusal): return refusal.response(id: message.id)
            }
            created = true
        }

        // One line for the relay: JSON allows a newline only as whitespace between tokens.
        for i in bytes.indices where bytes[i] == 0x0A || bytes[i] == 0x0D { bytes[i] = 0x20 }
        bytes.append(0x0A)
        var headers = HTTPFields()
        if created { headers[Self.sessionHeader] = session.id }
        switch session.send(line: bytes, message: message) {
        case .gone:
            return Self.rpcError(.badGateway, id: message.id, code: RPCErrorCode.serverExited, Self.endedText(session))
        case .duplicateID:
            return Self.rpcError(.conflict, id: message.id, code: RPCErrorCode.invalidRequest, "a request with this id is already pending in this session")
        case .sent(nil):
            return Response(status: .accepted, headers: headers)
        case .sent((let deliveries, let backlog)?):
            let key = message.idKey ?? ""
            let id = message.id
            if sse {
                headers[.contentType] = "text/event-stream"
                headers[.cacheControl] = "no-cache"
                return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                    defer { session.forget(key) }
                    var answered = false
                    for await delivery in deliveries {
                        switch delivery {
                        case .message(let json):
                            try await writer.write(Self.event(json))
                            backlog.written(json.count)
                        case .answer(let json):
                            answered = true
                            try await writer.write(Self.event(json))
                            backlog.written(json.count)
                        }
                    }
                    if !answered { try await writer.write(Self.event(Self.endedAnswer(id: id, session: session))) }
                    try await writer.finish(nil)
                })
            }
            headers[.contentType] = "application/json"
            for await delivery in deliveries {
                switch delivery {
                case .answer(let json): return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
                case .message(let json): backlog.written(json.count)  // a JSON answer carries no progress
                }
            }
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Self.endedAnswer(id: id, session: session))))
        }
    }

    private func get(_ request: Request) -> Response {
        guard Self.accepts(request.headers[.accept] ?? "", "text/event-stream") else {
            return Self.refuse(.notAcceptable, "the GET stream is text/event-stream; say so in Accept")
        }
        guard let id = request.headers[Self.sessionHeader] else { return Self.refuse(.badRequest, "no Mcp-Session-Id") }
        guard let session = sessions.withLock({ $0[id] }) else { return Self.refuse(.notFound, "no such session") }
        let last = request.headers[Self.lastEventID].flatMap { Int($0) }
        switch session.openStream(after: last) {
        case .gone: return Self.refuse(.notFound, "the session has ended")
        case .opened(let items, let serial, let backlog):
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                defer { session.closeStream(serial: serial) }
                for await item in items {
                    switch item {
                    case .event(let id, let json):
                        try await writer.write(Self.event(json, id: id))
                        backlog.written(json.count)
                    case .comment(let text): try await writer.write(ByteBuffer(string: ": \(text)\n\n"))
                    }
                }
                try await writer.finish(nil)
            })
        }
    }

    private func delete(_ request: Request) -> Response {
        guard let id = request.headers[Self.sessionHeader] else { return Self.refuse(.badRequest, "no Mcp-Session-Id") }
        guard let session = sessions.withLock({ $0.removeValue(forKey: id) }) else { return Self.refuse(.notFound, "no such session") }
        session.close()
        return Response(status: .ok)
    }

    // MARK: Sessions

    struct Refusal: Error {
        var status: HTTPResponse.Status
        var text: String
        func response(id: JSONValue?) -> Response { Gateway.rpcError(status, id: id, code: RPCErrorCode.internalError, text) }
    }

    /// A new session: its own `warden wrap`, its own server (or upstream session).
    private func startSession() -> Result<GatewaySession, Refusal> {
        // A slot is taken before the relay starts and given back once its process is reaped, so
        // concurrent initializes, or sessions deleted while their relay still winds down, never
        // run more processes than --max-sessions.
        let reserved = relays.withLock { n -> Bool in
            guard n < config.maxSessions else { return false }
            n += 1
            return true
        }
        guard reserved else {
            return .failure(Refusal(status: .serviceUnavailable, text: "this gateway serves \(config.maxSessions) sessions at most (--max-sessions); end one first"))
        }
        let process: ServerProcess
        do { process = try ServerProcess.spawn(config.wrapArguments) } catch {
            relays.withLock { $0 -= 1 }
            return .failure(Refusal(status: .badGateway, text: error.description))
        }
        let id = RandomHex.make(bytes: 16)
        let session = GatewaySession(id: id, process: process)
        sessions.withLock { $0[id] = session }
        let maxFrame = config.maxMessage + 4096
        Self.thread("warden-gateway-\(id.prefix(6))") { [self] in
            session.pump(maxFrame: maxFrame)
            let status = process.wait()
            session.ended(status)
            sessions.withLock { table in if table[id] === session { table[id] = nil } }
            relays.withLock { $0 -= 1 }
        }
        return .success(session)
    }

    /// Keep-alives on open streams; idle sessions ended; a relay that did not end after its
    /// input closed is made to.
    private func sweep() {
        let all = sessions.withLock { Array($0.values) }
        for session in all {
            session.keepAlive()
            if session.isIdle(longerThan: config.idleTimeout) {
                Diagnostics.note("session \(session.id.prefix(8)) idle for \(Int(config.idleTimeout)) s: ended")
                sessions.withLock { _ = $0.removeValue(forKey: session.id) }
                end(session)
            }
        }
    }

    private func end(_ session: GatewaySession) {
        session.close()
        let process = session.process
        // The relay settles held calls and gives its server time to finish (wrap's own grace);
        // past that it is ended from here.
        DispatchQueue.global().asyncAfter(deadline: .now() + 15) {
            if session.exitStatus == nil { process.signal(SIGTERM) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 20) {
            if session.exitStatus == nil { process.signal(SIGKILL) }
        }
    }

    /// At shutdown: every relay's input closes; those still running after the grace are ended.
    func endAll() {
        let all = sessions.withLock { table in
            defer { table = [:] }
            return Array(table.values)
        }
        all.forEach { $0.close() }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, all.contains(where: { $0.exitStatus == nil }) { usleep(20_000) }
        for session in all where session.exitStatus == nil { session.process.signal(SIGKILL) }
    }

    // MARK: Wire

    static let sessionHeader = HTTPField.Name("Mcp-Session-Id")!
    static let protocolVersion = HTTPField.Name("MCP-Protocol-Version")!
    static let lastEventID = HTTPField.Name("Last-Event-ID")!

    static func accepts(_ accept: String, _ type: String) -> Bool {
        accept.split(separator: ",").contains { item in
            let media = item.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            return media == type || media == "*/*" || media == type.split(separator: "/")[0] + "/*"
        }
    }

    static func isProtocolVersion(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts.map(\.count) == [4, 2, 2] && parts.allSatisfy { $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    static func event(_ json: [UInt8], id: Int? = nil) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(json.count + 32)
        if let id { buffer.writeString("id: \(id)\n") }
        buffer.writeString("event: message\ndata: ")
        // A line break ends an event's data line; in JSON one can only be whitespace between
        // tokens (a server's `{"a":1,\r"id":3}`), so it becomes a space and the event stays whole.
        if json.contains(where: { $0 == 0x0D || $0 == 0x0A }) {
            buffer.writeBytes(json.map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 })
        } else {
            buffer.writeBytes(json)
        }
        buffer.writeString("\n\n")
        return buffer
    }

    static func endedText(_ session: GatewaySession) -> String {
        "the session's relay has ended" + (session.exitStatus.map { " (\($0))" } ?? "")
    }

    static func endedAnswer(id: JSONValue?, session: GatewaySession) -> [UInt8] {
        var line = RPCReply.error(id: id, code: RPCErrorCode.serverExited, message: endedText(session))
        if line.last == 0x0A { line.removeLast() }
        return line
    }

    static func refuse(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "warden gateway: \(text)\n")))
    }

    static func rpcError(_ status: HTTPResponse.Status, id: JSONValue?, code: Int, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        var line = RPCReply.error(id: id, code: code, message: "warden gateway: \(text)")
        if line.last == 0x0A { line.removeLast() }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: line)))
    }

    static func thread(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let t = Thread(block: body)
        t.name = name
        t.stackSize = 1 << 20
        t.start()
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let gateway: Gateway
        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            await gateway.respond(to: request)
        }
    }
}

enum Diagnostics {
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("warden gateway: \(text)\n".utf8))
    }
}
