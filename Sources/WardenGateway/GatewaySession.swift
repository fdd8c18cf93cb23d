import Foundation
import Synchronization
import WardenCore
import WardenProtocol
import WardenTransport
#if canImport(Glibc)
import Glibc
#endif

/// One MCP session behind the gateway: a `warden wrap` child that enforces policy on it exactly as
/// it does for a stdio client, and the routing of what that relay answers back to HTTP.
///
/// Responses go to the POST that asked (a request's own SSE stream, or its JSON body); progress for
/// a pending request goes with it; every other message the relay passes on (server requests,
/// notifications) goes to the session's GET stream, and is kept in a bounded ring until one is open
/// and for `Last-Event-ID` resumption.
final class GatewaySession: Sendable {
    /// What a pending request's POST receives.
    enum Delivery: Sendable {
        /// A message that belongs with the request before its answer (progress).
        case message([UInt8])
        /// The answer; the stream ends after it.
        case answer([UInt8])
    }

    /// What the GET stream receives.
    enum StreamItem: Sendable {
        case event(id: Int, json: [UInt8])
        case comment(String)
    }

    let id: String
    let process: ServerProcess
    private let input: FileDescriptorOutput
    private let state: Mutex<State>
    /// How many server messages are kept for a GET stream that is not open, or resumes, and
    /// how many bytes of them at most.
    static let ringSize = 512, ringBytes = 32 << 20

    /// Bytes handed to one client stream and not written to its connection yet. A client that
    /// does not read (or reads slower than a hostile server sends) must not grow the gateway
    /// without bound: past the limit its GET stream is closed (it resumes from the ring with
    /// `Last-Event-ID`), and a request's progress is dropped (its answer still goes).
    final class Backlog: Sendable {
        static let limit = 32 << 20
        private let bytes = Atomic<Int>(0)
        /// Takes `n` more bytes, unless that passes the limit (one item always fits an empty backlog).
        func take(_ n: Int) -> Bool {
            let before = bytes.wrappingAdd(n, ordering: .relaxed).oldValue
            if before == 0 || before + n <= Self.limit { return true }
            bytes.wrappingSubtract(n, ordering: .relaxed)
            return false
        }
        /// The writer wrote `n` bytes of it.
        func written(_ n: Int) { bytes.wrappingSubtract(n, ordering: .relaxed) }
    }

    private struct Waiter {
        let continuation: AsyncStream<Delivery>.Continuation
        let progressKey: String?
        let backlog: Backlog
    }

    private struct State {
        var waiting: [String: Waiter] = [:]
        /// Progress token key → the request id key it belongs to.
        var progress: [String: String] = [:]
        /// The open GET stream and what waits on it.
        var stream: (continuation: AsyncStream<StreamItem>.Continuation, backlog: Backlog)?
        var streamSerial = 0
        var ring: [(id: Int, json: [UInt8])] = []
        var ringBytes = 0
        var nextEventID = 1
        /// The last event handed to an open stream.
        var delivered = 0
        var lastActive = ContinuousClock.now
        var ended: ExitStatus?
        var closing = false
    }

    init(id: String, process: ServerProcess) {
        self.id = id
        self.process = process
        input = FileDescriptorOutput(fd: process.stdinFD)
        state = Mutex(State())
    }

    /// The session's server has gone, or it is being ended.
    var isEnded: Bool { state.withLock { $0.ended != nil || $0.closing } }

    /// Idle: no stream open, and no message either way for `limit` seconds. Requests still
    /// pending then count as abandoned (a JSON-mode client that went away is not noticed, and a
    /// server that never answers must not hold a session, and its process, for ever).
    func isIdle(longerThan limit: Double) -> Bool {
        state.withLock { s in
            s.stream == nil && ContinuousClock.now - s.lastActive > .seconds(limit)
        }
    }

    // MARK: Client to relay

    enum SendResult {
        case sent((AsyncStream<Delivery>, Backlog)?)
        case duplicateID
        case gone
    }

    /// Writes one client message to the relay. A request's answer (and its progress) arrives on
    /// the returned stream; registered before the write, so no answer can come first.
    func send(line: [UInt8], message: RPCMessage) -> SendResult {
        var stream: (AsyncStream<Delivery>, Backlog)?
        if case .request = message.kind, let key = message.idKey {
            let progressKey = message.params?["_meta"]?.objectValue?["progressToken"].map(RPCMessage.key(for:))
            let (s, continuation) = AsyncStream<Delivery>.makeStream(bufferingPolicy: .unbounded)
            let backlog = Backlog()
            let accepted = state.withLock { s -> Bool in
                guard s.ended == nil, !s.closing else { return false }
                guard s.waiting[key] == nil else { return false }
                s.waiting[key] = Waiter(continuation: continuation, progressKey: progressKey, backlog: backlog)
                if let progressKey { s.progress[progressKey] = key }
                s.lastActive = .now
                return true
            }
            guard accepted else { return isEnded ? .gone : .duplicateID }
            stream = (s, backlog)
        } else {
            let open = state.withLock { s -> Bool in
                s.lastActive = .now
                return s.ended == nil && !s.closing
            }
            guard open else { return .gone }
        }
        guard input.write(line) else {
            if let key = message.idKey, stream != nil { forget(key) }
            return .gone
        }
        return .sent(stream)
    }

    /// The client stopped waiting for a request (it went away): its answer, when it comes, is dropped.
    func forget(_ key: String) {
        state.withLock { s in
            if let waiter = s.waiting.removeValue(forKey: key) {
                if let p = waiter.progressKey { s.progress[p] = nil }
                waiter.continuation.finish()
            }
            s.lastActive = .now
        }
    }

    // MARK: The GET stream

    enum OpenResult {
        case opened(AsyncStream<StreamItem>, serial: Int, backlog: Backlog)
        case gone
    }

    /// Opens the session's stream for server messages: first what was kept after `lastEventID`,
    /// or without one what no stream has carried yet; then what comes. A new stream takes over
    /// from an open one (a client that lost its connection may not have been noticed yet), so
    /// each message still goes out on one stream only.
    func openStream(after lastEventID: Int?) -> OpenResult {
        let (stream, continuation) = AsyncStream<StreamItem>.makeStream(bufferingPolicy: .unbounded)
        let backlog = Backlog()
        return state.withLock { s in
            guard s.ended == nil, !s.closing else { return .gone }
            s.stream?.continuation.finish()
            let after = lastEventID ?? s.delivered
            // The ring's bytes are bounded as a backlog is, so what it keeps fits.
            for event in s.ring where event.id > after {
                _ = backlog.take(event.json.count)
                continuation.yield(.event(id: event.id, json: event.json))
            }
            s.delivered = max(s.delivered, s.ring.last?.id ?? 0)
            s.stream = (continuation, backlog)
            s.streamSerial += 1
            s.lastActive = .now
            return .opened(stream, serial: s.streamSerial, backlog: backlog)
        }
    }

    /// The client closed its stream.
    func closeStream(serial: Int) {
        state.withLock { s in
            guard s.streamSerial == serial, let stream = s.stream?.continuation else { return }
            stream.finish()
            s.stream = nil
            s.lastActive = .now
        }
    }

    /// A comment on the open stream, so idle connections stay up through proxies and client timeouts.
    func keepAlive() {
        state.withLock { s in _ = s.stream?.continuation.yield(.comment("keep-alive")) }
    }

    // MARK: Relay to client

    /// Reads the relay's output until it ends (blocks: its own thread).
    func pump(maxFrame: Int) {
        LineFramer.readAll(fd: process.stdoutFD, maxFrame: maxFrame) { frame in
            // The relay bounds what it passes; a line over the bound here would be Warden's own fault.
            guard case .line(_, let content) = frame, !content.isEmpty else { return }
            route(Array(content))
        }
    }

    func route(_ json: [UInt8]) {
        guard let value = try? JSONParser.parse(json), case .success(let message) = RPCValidator.classify(value) else { return }
        state.withLock { $0.lastActive = .now }
        switch message.kind {
        case .response, .errorResponse:
            if let key = message.idKey {
                let waiter = state.withLock { s -> Waiter? in
                    guard let waiter = s.waiting.removeValue(forKey: key) else { return nil }
                    if let p = waiter.progressKey { s.progress[p] = nil }
                    return waiter
                }
                if let waiter {
                    // The answer goes whatever the backlog: the client asked for it.
                    _ = waiter.backlog.take(json.count)
                    waiter.continuation.yield(.answer(json))
                    waiter.continuation.finish()
                    return
                }
            }
            // An answer to a request the client no longer waits for, or a relay error without an id.
            if message.id != nil { return }
        case .notification(let method) where method == "notifications/progress":
            if let token = message.params?["progressToken"] {
                let sent = state.withLock { s -> Bool in
                    guard let key = s.progress[RPCMessage.key(for: token)], let waiter = s.waiting[key] else { return false }
                    // Progress a client is not reading is dropped past its backlog (it is advice).
                    if waiter.backlog.take(json.count) { waiter.continuation.yield(.message(json)) }
                    return true
                }
                if sent { return }
            }
        default: break
        }
        state.withLock { s in
            let id = s.nextEventID
            s.nextEventID += 1
            s.ring.append((id, json))
            s.ringBytes += json.count
            while s.ring.count > 1, s.ring.count > Self.ringSize || s.ringBytes > Self.ringBytes {
                s.ringBytes -= s.ring.removeFirst().json.count
            }
            if let (stream, backlog) = s.stream {
                if backlog.take(json.count) {
                    stream.yield(.event(id: id, json: json))
                    s.delivered = id
                } else {
                    // The client does not keep up: its stream closes, and it resumes from the ring.
                    stream.finish()
                    s.stream = nil
                }
            }
        }
    }

    // MARK: The end

    /// The client ended the session (DELETE), or the gateway is stopping: the relay's input
    /// closes, and it ends its server as it does when a stdio client goes.
    func close() {
        state.withLock { $0.closing = true }
        input.close()
    }

    /// The relay exited: everything still waiting gets an error answer, streams end.
    func ended(_ status: ExitStatus) {
        let (waiters, stream) = state.withLock { s in
            s.ended = status
            let waiters = s.waiting
            s.waiting = [:]
            s.progress = [:]
            let stream = s.stream?.continuation
            s.stream = nil
            return (waiters, stream)
        }
        // A stream that ends without an answer: the POST that waits answers with the session's end.
        for (_, waiter) in waiters { waiter.continuation.finish() }
        stream?.finish()
        input.close()
    }

    var exitStatus: ExitStatus? { state.withLock { $0.ended } }
}
