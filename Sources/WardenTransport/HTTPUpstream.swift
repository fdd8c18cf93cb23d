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
        var protocolVersion: String?
        /// The id (compact JSON) of the client's `initialize`, until its answer names the version.
        var initializeID: String?
        var getStarted = false
        var lastGetEventID: String?
        var inFlight = 0
        var inputClosed = false
        var ended: ExitStatus?
        var tasks: [Int: Task<Void, Never>] = [:]
        var nextTask = 0
    }

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
        let idle = state.withLock { s -> Bool in
            s.inputClosed = true
            return s.inFlight == 0
        }
        if idle { finish(.exited(0)) }
    }

    public func terminate() { finish(.disconnected("closed by Warden")) }
    public func kill() { finish(.disconnected("closed by Warden")) }
    public func forward(signal: Int32) { finish(.signaled(signal)) }

    public func wait() -> ExitStatus {
        inbox.waitClosed()
        return state.withLock { $0.ended } ?? .exited(0)
    }

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
        let id = parsed?["id"].flatMap { $0 == .null ? nil : $0 }
        let method = parsed?["method"]?.stringValue
        let isRequest = method != nil && id != nil
        let started = state.withLock { s -> Int? in
            guard s.ended == nil else { return nil }
            if method == "initialize", let id { s.initializeID = JSONWriter.compact(id) }
            s.inFlight += 1
            s.nextTask += 1
            return s.nextTask
        }
        guard let key = started else { return false }
        let task = Task { [self] in
            await self.post(message, requestID: isRequest ? id : nil, method: method)
            self.settled(task: key)
            // Once the client said it is initialised, the server may talk on its own stream.
            if method == "notifications/initialized" { self.startListening() }
        }
        state.withLock { s in if s.ended == nil { s.tasks[key] = task } }
        return true
    }

    private func settled(task key: Int) {
        let idle = state.withLock { s -> Bool in
            s.inFlight -= 1
            s.tasks[key] = nil
            return s.inputClosed && s.inFlight == 0 && s.ended == nil
        }
        if idle { finish(.exited(0)) }
    }

    private func request(_ method: HTTPMethod, accept: String, body: [UInt8]? = nil, lastEventID: String? = nil) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url)
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

    /// POSTs one message and hands on whatever comes back. A request gets an answer whatever
    /// happens: the server's, or Warden's error saying why there is none.
    private func post(_ message: [UInt8], requestID: JSONValue?, method: String?) async {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request(.POST, accept: "application/json, text/event-stream", body: message), deadline: .distantFuture)
        } catch {
            if Task.isCancelled { return }
            return unanswered(requestID, "the connection to the server failed (\(Self.describe(error)))")
        }
        if let session = response.headers.first(name: "Mcp-Session-Id"), !session.isEmpty {
            state.withLock { s in if s.sessionID == nil { s.sessionID = session } }
        }
        let status = response.status.code
        guard (200..<300).contains(status) else {
            // Drained, not read: an error page is not a message.
            _ = try? await response.body.collect(upTo: 1 << 16)
            let why = status == 404 && state.withLock({ $0.sessionID }) != nil
                ? "the server no longer knows this MCP session (HTTP 404)" : "the server answered HTTP \(status)"
            return unanswered(requestID, why)
        }
        let type = (response.headers.first(name: "Content-Type") ?? "").lowercased()
        if type.hasPrefix("text/event-stream") {
            let answered = await readEvents(response.body, answering: requestID)
            if !answered, !Task.isCancelled { unanswered(requestID, "the server's event stream ended before it answered") }
        } else if requestID != nil || type.hasPrefix("application/json") {
            do {
                let body = try await response.body.collect(upTo: maxFrame + 1)
                let bytes = Array(buffer: body)
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                    return unanswered(requestID, "the server answered HTTP \(status) with no message")
                }
                deliver(bytes)
            } catch {
                if Task.isCancelled { return }
                if error is NIOTooManyBytesError {
                    inbox.put(.oversized(length: maxFrame + 1, prefix: []))
                    return unanswered(requestID, "the server's answer is over the \(maxFrame)-byte limit")
                }
                unanswered(requestID, "the server's answer broke off (\(Self.describe(error)))")
            }
        } else {
            _ = try? await response.body.collect(upTo: 1 << 16)
        }
    }

    /// Hands on every event of a stream; true when one of them answered `requestID`.
    private func readEvents(_ body: HTTPClientResponse.Body, answering requestID: JSONValue?, listening: Bool = false) async -> Bool {
        var parser = EventStreamParser(maxData: maxFrame)
        var answered = false
        let wanted = requestID.map { RPCMessage.responseKeys(for: $0) }
        do {
            for try await chunk in body {
                for event in chunk.withUnsafeReadableBytes({ parser.feed($0) }) where event.type == "message" {
                    if listening, let id = event.id { state.withLock { $0.lastGetEventID = id } }
                    if event.isOversized {
                        inbox.put(.oversized(length: event.length, prefix: Array(event.data.prefix(4096))))
                        // Withheld by the relay, which answers the request it can recover; either way this one is done.
                        if requestID != nil { answered = true }
                        continue
                    }
                    if let wanted, !answered, Self.answers(event.data, keys: wanted) { answered = true }
                    deliver(event.data)
                }
            }
        } catch {
            return answered
        }
        return answered
    }

    /// Whether a message is the answer (result or error) to a request with one of these id keys.
    static func answers(_ message: [UInt8], keys: [String]) -> Bool {
        guard let v = try? JSONParser.parse(message), v["method"] == nil, v["result"] != nil || v["error"] != nil, let id = v["id"] else { return false }
        return keys.contains(RPCMessage.key(for: id))
    }

    /// One message to the relay, as one line: a body the server spread over several lines is
    /// written compactly (JSON allows line breaks only between tokens), anything else as it came.
    private func deliver(_ bytes: [UInt8]) {
        var message = bytes
        if message.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            if let v = try? JSONParser.parse(message) { message = JSONWriter.compactBytes(v) } else {
                message = message.map { $0 == 0x0A || $0 == 0x0D ? 0x20 : $0 }
            }
        }
        noteVersion(message)
        inbox.put(.message(message))
    }

    /// The answer to `initialize` names the protocol version every later request carries.
    private func noteVersion(_ message: [UInt8]) {
        guard let wanted = state.withLock({ $0.initializeID }), let v = try? JSONParser.parse(message), let id = v["id"],
              JSONWriter.compact(id) == wanted, let version = v["result"]?["protocolVersion"]?.stringValue else { return }
        state.withLock { s in
            s.protocolVersion = version
            s.initializeID = nil
        }
    }

    /// Warden's answer to a request the server left unanswered.
    private func unanswered(_ requestID: JSONValue?, _ why: String) {
        guard let requestID else { return }
        let error: JSONValue = ["jsonrpc": "2.0", "id": requestID,
                                "error": ["code": -32000, "message": .string("Warden: no answer from the MCP server at \(url): \(why).")]]
        inbox.put(.message(JSONWriter.compactBytes(error)))
    }

    // MARK: The server's own stream

    /// Opens the GET stream once; a server without one answers 405. A stream that breaks is opened
    /// again from the last event seen, a few times, while the session lasts.
    private func startListening() {
        let first = state.withLock { s -> Bool in
            defer { s.getStarted = true }
            return !s.getStarted && s.ended == nil
        }
        guard first else { return }
        let task = Task { [self] in
            var failures = 0
            while !Task.isCancelled, failures < 5 {
                let last = state.withLock { $0.lastGetEventID }
                guard let response = try? await client.execute(request(.GET, accept: "text/event-stream", lastEventID: last), deadline: .distantFuture) else {
                    failures += 1
                    try? await Task.sleep(for: .seconds(failures))
                    continue
                }
                guard response.status == .ok, (response.headers.first(name: "Content-Type") ?? "").lowercased().hasPrefix("text/event-stream") else {
                    _ = try? await response.body.collect(upTo: 1 << 16)
                    return  // 405: this server sends nothing of its own
                }
                failures = 0
                _ = await readEvents(response.body, answering: nil, listening: true)
                failures += 1
                try? await Task.sleep(for: .milliseconds(200 * failures))
            }
        }
        state.withLock { s in
            if s.ended == nil { s.tasks[-1] = task } else { task.cancel() }
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

/// Messages on their way to the relay's reader: a queue that one thread drains.
final class Inbox: Sendable {
    enum Item: Sendable {
        case message([UInt8])
        case oversized(length: Int, prefix: [UInt8])
    }

    private let state = Mutex<(items: [Item], closed: Bool)>(([], false))
    private let ready = DispatchSemaphore(value: 0)
    private let closedSignal = DispatchSemaphore(value: 0)

    func put(_ item: Item) {
        let open = state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.items.append(item)
            return true
        }
        if open { ready.signal() }
    }

    /// The next item, waiting for one; nil once closed and empty.
    func take() -> Item? {
        while true {
            ready.wait()
            let (item, done) = state.withLock { s -> (Item?, Bool) in
                if !s.items.isEmpty { return (s.items.removeFirst(), false) }
                return (nil, s.closed)
            }
            if let item { return item }
            if done {
                ready.signal()
                closedSignal.signal()
                return nil
            }
        }
    }

    func close() {
        state.withLock { $0.closed = true }
        ready.signal()
    }

    /// Blocks until the reader has seen the end.
    func waitClosed() {
        closedSignal.wait()
        closedSignal.signal()
    }
}

extension Array where Element == UInt8 {
    func trimmingCarriageReturn() -> [UInt8] { last == 0x0D ? Array(dropLast()) : self }
}
