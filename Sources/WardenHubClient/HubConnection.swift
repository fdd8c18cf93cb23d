import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
import WardenProtocol
import WardenSystem

/// Why a hub call did not get an answer.
public enum HubError: Error, Sendable, CustomStringConvertible {
    case unreachable(path: String, reason: String)
    case disconnected
    case timedOut(method: String)
    case remote(code: Int, message: String)
    /// An answer that does not read as its method's type: the hub and this client disagree.
    case unreadable(method: String, problem: String)

    public var description: String {
        switch self {
        case .unreachable(let path, let reason): "hub not reachable at \(path): \(reason)"
        case .disconnected: "connection to the hub was lost"
        case .timedOut(let method): "hub did not answer \(method) in time"
        case .unreadable(let method, let problem): "the hub's answer to \(method) does not read: \(problem)"
        case .remote(let code, let message): "hub refused (\(code)): \(message)"
        }
    }
}

/// A client connection to the hub's Unix socket: newline-delimited JSON-RPC, calls matched by id.
///
/// A dedicated reader thread (blocking `read(2)`, never on the cooperative pool) resolves waiting
/// calls; writes are serialised by a lock. Safe to use from any thread or task.
public final class HubConnection: Sendable {
    /// The hub API version this client speaks (see docs/hub-api.md).
    public static let apiVersion = 1

    private enum Waiter {
        case async(CheckedContinuation<JSONValue, any Error>)
        case blocking(BlockingSlot)
    }

    private struct State {
        var nextID = 1
        var waiters: [Int: Waiter] = [:]
        var closed = false
    }

    private let fd: Int32
    private let state = Mutex(State())
    private let writeLock = Mutex(())
    /// Called with every notification the hub pushes (subscriptions).
    private let onNotification: @Sendable (String, JSONValue) -> Void

    private init(fd: Int32, onNotification: @escaping @Sendable (String, JSONValue) -> Void) {
        self.fd = fd
        self.onNotification = onNotification
    }

    /// Connects to the socket at `path`. Does not start a hub.
    public static func connect(path: String, onNotification: @escaping @Sendable (String, JSONValue) -> Void = { _, _ in }) throws(HubError) -> HubConnection {
        // Close-on-exec (in UnixSocket): a relay connects before it starts its server, and the
        // server must not inherit the relay's hub connection.
        let fd: Int32
        switch UnixSocket.connect(path: path) {
        case .success(let connected): fd = connected
        case .failure(let e): throw .unreachable(path: path, reason: e.reason)
        }
        let connection = HubConnection(fd: fd, onNotification: onNotification)
        let thread = Thread { connection.readLoop() }
        thread.name = "warden-hub-reader"
        thread.start()
        return connection
    }

    /// Whether the connection is still open.
    public var isOpen: Bool { !state.withLock { $0.closed } }

    /// Calls a hub method and waits for its result.
    public func call(_ method: HubMethod, _ params: JSONObject) async throws -> JSONValue {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSONValue, any Error>) in
            let id: Int? = state.withLock { s in
                guard !s.closed else { return nil }
                let id = s.nextID
                s.nextID += 1
                s.waiters[id] = .async(continuation)
                return id
            }
            guard let id else { return continuation.resume(throwing: HubError.disconnected) }
            if !send(id: id, method: method.rawValue, params: params) { fail(id: id, error: .disconnected) }
        }
    }

    /// Calls a hub method from a thread that may block (never from the cooperative pool).
    /// A typed call, waited for: its answer as its type (an answer that does not read is a protocol error).
    public func callBlocking<C: HubCall>(_ call: C, timeout: Double) throws(HubError) -> C.Answer {
        let answer = try callBlocking(C.method, call.params, timeout: timeout)
        do { return try HubWire.decode(C.Answer.self, from: answer) } catch { throw HubError.unreadable(method: C.method.rawValue, problem: "\(error)") }
    }

    public func callBlocking(_ method: HubMethod, _ params: JSONObject, timeout: Double) throws(HubError) -> JSONValue {
        try callBlocking(method, rawParams: JSONWriter.compactBytes(.object(params)), timeout: timeout)
    }

    /// Like `callBlocking`, with `params` already serialised (a JSON object's bytes): for the event
    /// stream, which would otherwise build a tree per event only to flatten it again.
    public func callBlocking(_ method: HubMethod, rawParams: [UInt8], timeout: Double) throws(HubError) -> JSONValue {
        let slot = BlockingSlot()
        let id: Int? = state.withLock { s in
            guard !s.closed else { return nil }
            let id = s.nextID
            s.nextID += 1
            s.waiters[id] = .blocking(slot)
            return id
        }
        guard let id else { throw .disconnected }
        var line = Array(#"{"jsonrpc":"2.0","id":\#(id),"method":"#.utf8)
        line.reserveCapacity(rawParams.count + 64)
        JSONWriter.writeString(method.rawValue, into: &line)
        line.append(contentsOf: #","params":"#.utf8)
        line.append(contentsOf: rawParams)
        line.append(contentsOf: [0x7D, 0x0A])
        guard writeAll(line) else {
            _ = state.withLock { $0.waiters.removeValue(forKey: id) }
            throw .disconnected
        }
        guard let result = slot.wait(timeout: timeout) else {
            _ = state.withLock { $0.waiters.removeValue(forKey: id) }
            throw .timedOut(method: method.rawValue)
        }
        switch result {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }

    /// Closes the connection; waiting calls fail with `disconnected`.
    public func close() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    private func send(id: Int, method: String, params: JSONObject) -> Bool {
        let message = JSONValue.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", .int(id)), ("method", .string(method)), ("params", .object(params))]))
        return writeAll(RPCReply.line(message))
    }

    private func writeAll(_ bytes: [UInt8]) -> Bool {
        writeLock.withLock { _ in
            bytes.withUnsafeBytes { raw in FileDescriptorIO.writeAll(fd: fd, raw) }
        }
    }

    private func fail(id: Int, error: HubError) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        resume(waiter, with: .failure(error))
    }

    private func resume(_ waiter: Waiter?, with result: Result<JSONValue, HubError>) {
        switch waiter {
        case .async(let c)?:
            switch result {
            case .success(let v): c.resume(returning: v)
            case .failure(let e): c.resume(throwing: e)
            }
        case .blocking(let slot)?: slot.fill(result)
        case nil: break
        }
    }

    private func readLoop() {
        var framer = LineFramer()
        while true {
            let n = framer.readInto(fd: fd)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            framer.drain { frame in
                guard case .line(_, let content) = frame, let value = try? JSONParser.parse(content) else { return }
                dispatch(value)
            }
        }
        let waiters = state.withLock { s -> [Waiter] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in waiters { resume(w, with: .failure(.disconnected)) }
        Glibc.close(fd)
    }

    private func dispatch(_ value: JSONValue) {
        if let method = value["method"]?.stringValue {
            onNotification(method, value["params"] ?? .null)
            return
        }
        guard case .number(let text)? = value["id"], let id = Int(text) else { return }
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        if let error = value["error"]?.objectValue {
            let code = error["code"]?.intValue ?? 0
            resume(waiter, with: .failure(.remote(code: code, message: error["message"]?.stringValue ?? "")))
        } else {
            resume(waiter, with: .success(value["result"] ?? .null))
        }
    }
}

/// A one-shot result slot a blocking thread waits on.
final class BlockingSlot: @unchecked Sendable {
    // @unchecked: all access to `result` is under `condition`'s lock.
    private let condition = NSCondition()
    private var result: Result<JSONValue, HubError>?

    func fill(_ value: Result<JSONValue, HubError>) {
        condition.lock()
        result = value
        condition.signal()
        condition.unlock()
    }

    func wait(timeout: Double) -> Result<JSONValue, HubError>? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while result == nil {
            if !condition.wait(until: deadline) { break }
        }
        return result
    }
}
