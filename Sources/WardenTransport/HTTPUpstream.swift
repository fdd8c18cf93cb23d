import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import WardenCore
import WardenProtocol

/// A server on the MCP Streamable HTTP transport (specification 2025-06-18, "Transports"), reached
/// by `warden wrap --connect http://…`: each message the relay writes is POSTed; what comes back —
/// a JSON body, or an event stream carrying the server's requests, notifications and the answer —
/// is handed to the relay one message at a time, on the thread that runs `pump`, as a stdio
/// server's lines would be. `Mcp-Session-Id` and `MCP-Protocol-Version` are carried once known;
/// the GET stream brings the server's own messages (resumed with `Last-Event-ID`); DELETE ends the
/// session when the client goes.
///
/// A server that offers only the older HTTP+SSE transport (specification 2024-11-05) is found as
/// that specification's successor says to: the `initialize` POST fails with a 4xx, so Warden opens
/// a GET event stream at the same URL, whose first event names the endpoint messages are POSTed
/// to. Then every answer and server message arrives on that one stream, and the session lasts as
/// long as it does. The endpoint must be on the URL's own origin: a server may not send the
/// client's messages, and their authorisation headers, anywhere else.
///
/// Fail closed: a request the server does not answer — the stream ended, an HTTP error, a broken
/// connection — is answered to the client with a JSON-RPC error that says so (delivered through
/// the relay like any answer), so nothing waits forever and nothing is guessed.
public final class HTTPUpstream: Upstream {
    public let url: String
    private let headers: [(String, String)]
    private let client: HTTPClient
    private let inbox = Inbox()
    private let state = Mutex(State())
    private let maxFrame: Int

    struct State {
        var sessionID: String?
        /// Where messages go on the older HTTP+SSE transport, once its stream named it.
        var legacyEndpoint: String?
        var protocolVersion: String?
        /// The id (compact JSON) of the client's `initialize`, until its answer names the version.
        var initializeID: String?
        var getStarted = false
        var lastGetEventID: String?
        var inFlight = 0
        var inputClosed = false
        /// Whether an `initialize` was accepted: after that the transport is settled, and a 4xx
        /// never switches it to HTTP+SSE.
        var initialized = false
        /// Why an HTTP+SSE stream was not used, for the client's error.
        var legacyRefusal: String?
        /// The POST of the last message that was not a request (a notification, an answer to the
        /// server), or of `initialize`: later messages wait for it, so `notifications/initialized`
        /// reaches the server before the requests that follow it, and nothing is sent before the
        /// transport is known. Other requests do not wait for each other.
        var lastInOrder: Task<Void, Never>?
        var ended: ExitStatus?
        var tasks: [Int: Task<Void, Never>] = [:]
        /// Tasks that settled before they were registered (a fast POST): not registered then.
        var settledEarly: Set<Int> = []
        var nextTask = 0
        /// Requests sent and not answered yet: id key → the POST that carries it. Warden's own error
        /// for a POST is given only while its request is still open, so a late one never lands on a
        /// later request that reuses the id.
        var open: [String: Int] = [:]
    }

    /// Marks the errors this transport writes for requests the server left unanswered (in the
    /// error's `data`), so Warden's own callers (`scan`) can tell them from a server's error that
    /// merely says "Warden: …": a random value per process, which no server sees.
    public static let originKey = "dev.warden/origin"
    public static let origin = RandomHex.make(bytes: 16)

    /// `headers`: sent with every request (authorisation), from the environment or a file.
    public init(url: String, headers: [(String, String)] = [], maxFrame: Int = 64 << 20, client: HTTPClient = HTTPUpstream.client) {
        self.url = url
        self.headers = headers
        self.client = client
        self.maxFrame = maxFrame
    }

    public var pid: Int32 { 0 }
    public var output: any MessageOutput { Poster(upstream: self) }

    /// One client for the process. Redirects are refused (a server must not send the client's
    /// messages, and their headers, somewhere else); a connection that cannot be made fails the
    /// request at once rather than being retried until the request's deadline (a stream's is
    /// "never"); a GET stream and many long calls each hold a connection, so the pool is wide.
    public static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 256
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    // MARK: Upstream

    public func pump(maxFrame: Int, _ deliver: (LineFramer.Frame) -> Void) {
        while let item = inbox.take() {
            switch item {
            case .message(var bytes):
                bytes.append(0x0A)
                bytes.withUnsafeBytes { all in
                    deliver(.line(bytes: all, content: UnsafeRawBufferPointer(rebasing: all[..<(all.count - 1)])))
                }
            case .oversized(let length, let prefix):
                deliver(.oversized(length: length, prefix: prefix))
            }
        }
    }

    public func closeInput() {
        let (idle, legacy) = state.withLock { s -> (Bool, Bool) in
            s.inputClosed = true
            return (Self.isIdle(s), s.legacyEndpoint != nil)
        }
        if idle { return finish(.exited(0)) }
        // On HTTP+SSE a POST is done at its 202; answers still on the stream are waited for, a while.
        if legacy {
            Task { [self] in
                try? await Task.sleep(for: .seconds(10))
                self.finish(.exited(0))
            }
        }
    }

    /// Nothing more will come for the client: no POST in flight, and on HTTP+SSE (where answers
    /// come on the stream, after their POST is done) no request open.
    static func isIdle(_ s: State) -> Bool {
        s.inFlight == 0 && (s.legacyEndpoint == nil || s.open.isEmpty)
    }

    public func terminate() { finish(.disconnected("closed by Warden")) }

    /// As `terminate`, and what the reader has not taken yet is dropped.
    public func kill() {
        finish(.disconnected("closed by Warden"))
        inbox.discard()
    }

    public func forward(signal: Int32) { finish(.signaled(signal)) }

    /// Returns once the session is over (the server told), not once the reader has drained what is
    /// queued: as for a child's exit, the reader gets its own bounded time after this.
    public func wait() -> ExitStatus {
        over.wait()
        over.signal()
        return state.withLock { $0.ended } ?? .exited(0)
    }

    private let over = DispatchSemaphore(value: 0)

    /// Ends the session once: the server is told (DELETE, when it gave a session), every request
    /// still in flight is cancelled, and the relay's reader stops.
    private func finish(_ status: ExitStatus) {
        let (first, session, tasks) = state.withLock { s -> (Bool, String?, [Task<Void, Never>]) in
            guard s.ended == nil else { return (false, nil, []) }
            s.ended = status
            defer { s.tasks = [:] }
            return (true, s.sessionID, Array(s.tasks.values))
        }
        guard first else { return }
        for t in tasks { t.cancel() }
        // Never blocks the caller (a reader thread, or a task on the shared pool): the reader
        // stops once the server has been told, or the DELETE's own 2 s have passed.
        Task { [self] in
            if let session { await self.delete(session: session) }
            self.inbox.close()
            self.over.signal()
        }
    }

    // MARK: Sending

    /// What the relay writes: each line is one message, POSTed on its own task (a long call does
    /// not hold up the ones after it).
    struct Poster: MessageOutput {
        let upstream: HTTPUpstream
        func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
            var start = 0
            for i in 0..<bytes.count where bytes[i] == 0x0A {
                let line = Array(bytes[start..<i]).trimmingCarriageReturn()
                start = i + 1
                if !line.isEmpty, !upstream.send(line) { return false }
            }
            return true
        }
    }

    /// Starts the POST of one message; false once the session is over.
    func send(_ message: [UInt8]) -> Bool {
        let parsed = try? JSONParser.parse(message)
        // A batch (which the current specification dropped) is still answered request by request.
        let elements = parsed?.arrayValue ?? parsed.map { [$0] } ?? []
        let requests = elements.compactMap { m -> JSONValue? in
            guard m["method"]?.stringValue != nil, let id = m["id"], id != .null else { return nil }
            return id
        }
        let method = parsed?["method"]?.stringValue
        let started = state.withLock { s -> (Int, Task<Void, Never>?)? in
            guard s.ended == nil else { return nil }
            s.nextTask += 1
            if method == "initialize", let id = requests.first { s.initializeID = JSONWriter.compact(id) }
            for id in requests { s.open[RPCMessage.key(for: id)] = s.nextTask }
            s.inFlight += 1
            return (s.nextTask, s.lastInOrder)
        }
        guard let (key, before) = started else { return false }
        let task = Task { [self] in
            await before?.value
            await self.post(message, requests: requests, token: key, isInitialize: method == "initialize")
            self.settled(task: key)
            // Once the client said it is initialised, the server may talk on its own stream.
            if method == "notifications/initialized" { self.startListening() }
        }
        let cancel = state.withLock { s -> Bool in
            // An initialize settles the transport (and, on HTTP+SSE, the endpoint): what follows waits for it.
            if requests.isEmpty || method == "initialize" { s.lastInOrder = task }
            if s.settledEarly.remove(key) != nil { return false }
            guard s.ended == nil else { return true }
            s.tasks[key] = task
            return false
        }
        if cancel { task.cancel() }
        return true
    }

    private func settled(task key: Int) {
        let idle = state.withLock { s -> Bool in
            s.inFlight -= 1
            if s.tasks.removeValue(forKey: key) == nil { s.settledEarly.insert(key) }
            return s.inputClosed && Self.isIdle(s) && s.ended == nil
        }
        if idle { finish(.exited(0)) }
    }

    private func request(_ method: HTTPMethod, accept: String, body: [UInt8]? = nil, lastEventID: String? = nil, to target: String? = nil) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: target ?? url)
        r.method = method
        for (k, v) in headers { r.headers.add(name: k, value: v) }
        r.headers.replaceOrAdd(name: "Accept", value: accept)
        let (session, version) = state.withLock { ($0.sessionID, $0.protocolVersion) }
        if let session { r.headers.replaceOrAdd(name: "Mcp-Session-Id", value: session) }
        if let version { r.headers.replaceOrAdd(name: "MCP-Protocol-Version", value: version) }
        if let lastEventID { r.headers.replaceOrAdd(name: "Last-Event-ID", value: lastEventID) }
        if let body {
            r.headers.replaceOrAdd(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(bytes: body))
        }
        return r
    }

    /// POSTs one message and hands on whatever comes back. Each request gets an answer whatever
    /// happens: the server's, or Warden's error saying why there is none.
    private func post(_ message: [UInt8], requests: [JSONValue], token: Int, isInitialize: Bool) async {
        if let endpoint = state.withLock({ $0.legacyEndpoint }) {
            return await postLegacy(message, to: endpoint, requests: requests, token: token)
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request(.POST, accept: "application/json, text/event-stream", body: message), deadline: .distantFuture)
        } catch {
            if Task.isCancelled { return }
            return unanswered(requests, token: token, "the connection to the server failed (\(Self.describe(error)))")
        }
        let status = response.status.code
        // The session is the one the server names when it accepts `initialize`, nowhere else.
        if isInitialize, (200..<300).contains(status) {
            let session = response.headers.first(name: "Mcp-Session-Id").flatMap { Self.isVisibleToken($0) ? $0 : nil }
            state.withLock { s in
                s.initialized = true
                if s.sessionID == nil { s.sessionID = session }
            }
        }
        if isInitialize, (400..<500).contains(status), status != 401, status != 403, state.withLock({ !$0.initialized && $0.sessionID == nil }) {
            await Self.drain(response.body)
            if let endpoint = await openLegacyStream() {
                return await postLegacy(message, to: endpoint, requests: requests, token: token)
            }
            let why = state.withLock { $0.legacyRefusal } ?? "no HTTP+SSE event stream either"
            return unanswered(requests, token: token, "the server answered HTTP \(status), and \(why)")
        }
        guard (200..<300).contains(status) else {
            let why = status == 404 && state.withLock({ $0.sessionID }) != nil
                ? "the server no longer knows this MCP session (HTTP 404)" : "the server answered HTTP \(status)"
            // Answered first: an error page is not a message, and one that trickles in must not hold the answer up.
            unanswered(requests, token: token, why)
            await Self.drain(response.body)
            return
        }
        let type = (response.headers.first(name: "Content-Type") ?? "").lowercased()
        if type.hasPrefix("text/event-stream") {
            await readEvents(response.body, answering: requests, token: token)
        } else if !requests.isEmpty || type.hasPrefix("application/json") {
            do {
                let bytes = Array(buffer: try await response.body.collect(upTo: maxFrame + 1))
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                    return unanswered(requests, token: token, "the server answered HTTP \(status) with no message")
                }
                deliver(bytes)
            } catch {
                if Task.isCancelled { return }
                if error is NIOTooManyBytesError {
                    return unanswered(requests, token: token, "the server's answer is over the \(maxFrame)-byte limit")
                }
                return unanswered(requests, token: token, "the server's answer broke off (\(Self.describe(error)))")
            }
            // A body that answered something else (a notification, another id) leaves this request open.
            unanswered(requests, token: token, "the server's answer was not an answer to this request")
        } else {
            await Self.drain(response.body)
        }
    }

    /// Reads and drops at most 64 KiB of a body, for at most 2 s.
    static func drain(_ body: HTTPClientResponse.Body) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = try? await body.collect(upTo: 1 << 16) }
            group.addTask { try? await Task.sleep(for: .seconds(2)) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Hands on every event of a stream. A POST's stream ends for Warden once the last of its
    /// requests is answered (the server should close it then; one that does not holds no
    /// connection of Warden's); what is still open then gets Warden's error.
    /// Returns whether the stream carried any message (the GET stream's reconnects depend on it).
    @discardableResult
    private func readEvents(_ body: HTTPClientResponse.Body, answering requests: [JSONValue], token: Int, listening: Bool = false) async -> Bool {
        var parser = EventStreamParser(maxData: maxFrame)
        var sawEvent = false
        do {
            for try await chunk in body {
                for event in chunk.withUnsafeReadableBytes({ parser.feed($0) }) {
                    if listening, let id = event.id { state.withLock { $0.lastGetEventID = id } }
                    guard event.type == "message" else { continue }
                    sawEvent = true
                    if event.isOversized {
                        // Withheld by the relay, which answers the request whose id it can recover
                        // from the start; any other stays open and gets Warden's error below.
                        try await inbox.put(.oversized(length: event.length, prefix: Array(event.data.prefix(1 << 16))))
                        continue
                    }
                    try await deliverWaiting(event.data)
                }
                if !requests.isEmpty, !stillOpen(requests, token: token) { break }
            }
        } catch {}
        if !Task.isCancelled { unanswered(requests, token: token, "the server's event stream ended before it answered") }
        return sawEvent
    }

    private func stillOpen(_ requests: [JSONValue], token: Int) -> Bool {
        state.withLock { s in requests.contains { s.open[RPCMessage.key(for: $0)] == token } }
    }

    /// Visible ASCII, at most 256 characters: what a session id or a protocol version may be.
    static func isVisibleToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 256 && text.utf8.allSatisfy { $0 >= 0x21 && $0 <= 0x7E }
    }

    /// One message to the relay, as one line. A body the server spread over lines has its line
    /// breaks between tokens turned into spaces (JSON allows them only there) and is otherwise
    /// unchanged; a line break inside a string is left as it is, so what is not JSON stays not JSON
    /// and the relay withholds it.
    private func deliver(_ bytes: [UInt8]) {
        let message = Self.oneLine(bytes)
        note(message)
        inbox.putNow(.message(message))
        finishIfAnswered()
    }

    /// As `deliver`, waiting while the relay's queue is full (so a flood slows the stream it comes on).
    private func deliverWaiting(_ bytes: [UInt8]) async throws {
        let message = Self.oneLine(bytes)
        note(message)
        try await inbox.put(.message(message))
        finishIfAnswered()
    }

    /// On HTTP+SSE, once the client has gone and its last request is answered (and handed on),
    /// the session ends.
    private func finishIfAnswered() {
        let done = state.withLock { s in s.inputClosed && s.ended == nil && s.legacyEndpoint != nil && Self.isIdle(s) }
        if done { finish(.exited(0)) }
    }

    static func oneLine(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return bytes }
        var out = bytes
        var inString = false, escaped = false
        for i in out.indices {
            let b = out[i]
            if inString {
                if escaped { escaped = false } else if b == 0x5C { escaped = true } else if b == 0x22 { inString = false } else if b == 0x0A || b == 0x0D { return bytes }
            } else if b == 0x22 {
                inString = true
            } else if b == 0x0A || b == 0x0D {
                out[i] = 0x20
            }
        }
        return out
    }

    /// What the transport learns from an answer on its way: the request it closes, and, for
    /// `initialize`, the protocol version later requests carry.
    private func note(_ message: [UInt8]) {
        guard let v = try? JSONParser.parse(message) else { return }
        for m in v.arrayValue ?? [v] where m["method"] == nil && (m["result"] != nil || m["error"] != nil) {
            guard let id = m["id"], id != .null else { continue }
            let version = m["result"]?["protocolVersion"]?.stringValue
            state.withLock { s in
                for key in RPCMessage.responseKeys(for: id) { s.open[key] = nil }
                if let wanted = s.initializeID, JSONWriter.compact(id) == wanted {
                    s.initializeID = nil
                    if let version, Self.isVisibleToken(version) { s.protocolVersion = version }
                }
            }
        }
    }

    /// Warden's answer to each request of this POST the server left unanswered.
    private func unanswered(_ requests: [JSONValue], token: Int, _ why: String) {
        for id in requests {
            let still = state.withLock { s -> Bool in
                let key = RPCMessage.key(for: id)
                guard s.open[key] == token else { return false }
                s.open[key] = nil
                return true
            }
            guard still else { continue }
            let error: JSONValue = ["jsonrpc": "2.0", "id": id,
                                    "error": ["code": -32000, "message": .string("Warden: no answer from the MCP server at \(url): \(why)."),
                                              "data": [Self.originKey: .string(Self.origin)]]]
            inbox.putNow(.message(JSONWriter.compactBytes(error)))
        }
    }

    // MARK: The server's own stream

    /// Opens the GET stream once; a server without one answers 405. A stream that breaks is opened
    /// again from the last event seen, a few times, while the session lasts.
    private func startListening() {
        let first = state.withLock { s -> Bool in
            defer { s.getStarted = true }
            return !s.getStarted && s.ended == nil && s.legacyEndpoint == nil
        }
        guard first else { return }
        let task = Task { [self] in
            // Reconnects only after a stream that carried something, and never more than 50 times
            // in a session: a server that opens and closes at once gets no reconnect storm.
            var failures = 0, reconnects = 0
            while !Task.isCancelled, failures < 5, reconnects < 50 {
                let last = state.withLock { $0.lastGetEventID }
                guard let response = try? await client.execute(request(.GET, accept: "text/event-stream", lastEventID: last), deadline: .distantFuture) else {
                    failures += 1
                    try? await Task.sleep(for: .seconds(failures))
                    continue
                }
                guard response.status == .ok, (response.headers.first(name: "Content-Type") ?? "").lowercased().hasPrefix("text/event-stream") else {
                    await Self.drain(response.body)
                    return  // 405: this server sends nothing of its own
                }
                let carried = await readEvents(response.body, answering: [], token: 0, listening: true)
                reconnects += 1
                if carried { failures = 0 } else { failures += 1 }
                try? await Task.sleep(for: .milliseconds(200 * (failures + 1)))
            }
        }
        state.withLock { s in
            if s.ended == nil { s.tasks[-1] = task } else { task.cancel() }
        }
    }

    // MARK: The older HTTP+SSE transport

    /// Opens the event stream at the URL and waits (10 s at most) for its first event, which must
    /// name the endpoint; the stream is then read for the rest of the session, and its end ends it
    /// (the relay answers what is still open). Nil when the server offers no such stream.
    private func openLegacyStream() async -> String? {
        let (announced, announce) = AsyncStream.makeStream(of: String?.self)
        let task = Task { [self] in
            var endpoint: String?
            defer {
                if endpoint == nil { announce.yield(nil) }
                announce.finish()
            }
            guard let response = try? await client.execute(request(.GET, accept: "text/event-stream"), deadline: .distantFuture) else { return }
            guard response.status == .ok, (response.headers.first(name: "Content-Type") ?? "").lowercased().hasPrefix("text/event-stream") else {
                return await Self.drain(response.body)
            }
            var parser = EventStreamParser(maxData: maxFrame)
            do {
                for try await chunk in response.body {
                    for event in chunk.withUnsafeReadableBytes({ parser.feed($0) }) {
                        guard endpoint != nil else {
                            // Anything but an endpoint first is not this transport.
                            guard event.type == "endpoint", !event.isOversized else { return }
                            guard let named = legacyTarget(String(decoding: event.data, as: UTF8.self)) else {
                                state.withLock { $0.legacyRefusal = "its HTTP+SSE stream named an endpoint on another origin (not used)" }
                                return
                            }
                            endpoint = named
                            state.withLock { $0.legacyEndpoint = named }
                            announce.yield(named)
                            continue
                        }
                        guard event.type == "message" else { continue }
                        if event.isOversized {
                            try await inbox.put(.oversized(length: event.length, prefix: Array(event.data.prefix(1 << 16))))
                            continue
                        }
                        try await deliverWaiting(event.data)
                    }
                }
            } catch {}
            if !Task.isCancelled { finish(.disconnected("the server closed its HTTP+SSE event stream")) }
        }
        let running = state.withLock { s -> Bool in
            guard s.ended == nil else { return false }
            s.tasks[-2] = task
            return true
        }
        guard running else {
            task.cancel()
            return nil
        }
        let endpoint = await withTaskGroup(of: String?.self) { group in
            group.addTask { for await named in announced { return named }; return nil }
            group.addTask { try? await Task.sleep(for: .seconds(10)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if endpoint == nil { task.cancel() }
        return endpoint
    }

    /// The endpoint an HTTP+SSE stream named, resolved against the URL; nil unless it is on the
    /// URL's own scheme, host and port.
    func legacyTarget(_ named: String) -> String? {
        let text = named.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.utf8.count <= 2048, text.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }),
              let base = URL(string: url), let resolved = URL(string: text, relativeTo: base)?.absoluteURL,
              resolved.scheme?.lowercased() == base.scheme?.lowercased(), resolved.host?.lowercased() == base.host?.lowercased(),
              resolved.port == base.port, resolved.user == nil, resolved.password == nil else { return nil }
        return resolved.absoluteString
    }

    /// POSTs one message to the HTTP+SSE endpoint; its answer comes on the stream. A refusal, or a
    /// POST that cannot be made, is the client's error at once.
    private func postLegacy(_ message: [UInt8], to endpoint: String, requests: [JSONValue], token: Int) async {
        do {
            let response = try await client.execute(request(.POST, accept: "application/json, text/event-stream", body: message, to: endpoint), timeout: .seconds(60))
            let status = response.status.code
            await Self.drain(response.body)
            if !(200..<300).contains(status) { unanswered(requests, token: token, "the server refused the message with HTTP \(status)") }
        } catch {
            if Task.isCancelled { return }
            unanswered(requests, token: token, "the message could not be sent to the server (\(Self.describe(error)))")
        }
    }

    private func delete(session: String) async {
        _ = try? await client.execute(request(.DELETE, accept: "application/json, text/event-stream"), timeout: .seconds(2))
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)) }
        if let e = error as? HTTPClientError { return e.description }
        return String(describing: error)
    }
}

/// Messages on their way to the relay's reader: a queue that one thread drains. Bounded: a server
/// that sends faster than the relay reviews (or than the client reads) waits, and so does the
/// stream it sends on, as a stdio server waits on a full pipe.
final class Inbox: Sendable {
    enum Item: Sendable {
        case message([UInt8])
        case oversized(length: Int, prefix: [UInt8])
        var bytes: Int {
            switch self {
            case .message(let m): m.count
            case .oversized(_, let p): p.count
            }
        }
    }

    static let maxItems = 1024, maxBytes = 128 << 20
    private let state = Mutex<(items: [Item], bytes: Int, closed: Bool)>(([], 0, false))
    private let ready = DispatchSemaphore(value: 0)

    /// Waits (without blocking a thread) while the queue is full; throws when the task is cancelled.
    func put(_ item: Item) async throws {
        while state.withLock({ !$0.closed && ($0.items.count >= Self.maxItems || $0.bytes >= Self.maxBytes) }) {
            try await Task.sleep(for: .milliseconds(5))
        }
        putNow(item)
    }

    /// Queues at once: Warden's own answers, which are few and must not wait behind a flood.
    func putNow(_ item: Item) {
        let open = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.items.append(item)
            s.bytes += item.bytes
            return true
        }
        if open { ready.signal() }
    }

    /// The next item, waiting for one; nil once closed and empty.
    func take() -> Item? {
        while true {
            ready.wait()
            let (item, done) = state.withLock { s -> (Item?, Bool) in
                if !s.items.isEmpty {
                    let item = s.items.removeFirst()
                    s.bytes -= item.bytes
                    return (item, false)
                }
                return (nil, s.closed)
            }
            if let item { return item }
            if done {
                ready.signal()
                return nil
            }
        }
    }

    func close() {
        state.withLock { $0.closed = true }
        ready.signal()
    }

    /// Drops what is queued (the session was killed: nobody waits for it).
    func discard() {
        state.withLock { s in
            s.items.removeAll()
            s.bytes = 0
        }
    }
}

extension Array where Element == UInt8 {
    func trimmingCarriageReturn() -> [UInt8] { last == 0x0D ? Array(dropLast()) : self }
}
