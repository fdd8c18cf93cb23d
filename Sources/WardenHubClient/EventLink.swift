import Foundation
import Synchronization
import WardenCore
import WardenProtocol

/// Streams a relay's events to the hub, and spools them to disk while the hub is away.
///
/// `record` only appends to a buffer under a lock (it sits on the relay's data path); a dedicated
/// thread batches the buffer to the hub (`events.append`) or, when the hub is unreachable, to
/// `$WARDEN_HOME/spool/<session>.jsonl`. On (re)connection every spool file is claimed by rename and
/// replayed. Event ids are stable, so a batch resent after a lost acknowledgement is deduplicated by
/// the hub: nothing is lost and nothing is counted twice.
public final class EventLink: EventSink, Sendable {
    private struct State {
        var buffer: [Event] = []
        var closing = false
        var connection: HubConnection?
        var lastAttempt: Double = 0
        var spooled = 0
        var delivered = 0
    }

    private let home: WardenHome
    private let sessionID: String
    private let state = Mutex(State())
    private let wake = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    /// How often to retry an unreachable hub.
    private let retryInterval: Double
    /// Called once a connection is made (for example to re-register the session).
    private let onConnect: @Sendable (HubConnection) -> Void
    /// Pushes from the hub (`tools.changed`).
    private let onNotification: @Sendable (String, JSONValue) -> Void
    /// Whether to start a hub when none answers.
    private let autoStart: Bool
    private let lastSpawn = Mutex<Double>(0)

    public init(home: WardenHome, sessionID: String, retryInterval: Double = 1.0, autoStart: Bool = false,
                onConnect: @escaping @Sendable (HubConnection) -> Void = { _ in },
                onNotification: @escaping @Sendable (String, JSONValue) -> Void = { _, _ in }) {
        self.home = home
        self.sessionID = sessionID
        self.retryInterval = retryInterval
        self.autoStart = autoStart
        self.onConnect = onConnect
        self.onNotification = onNotification
        let thread = Thread { [self] in run() }
        thread.name = "warden-events"
        thread.start()
    }

    /// The live hub connection, if any (shared with the grant authority).
    public var connection: HubConnection? {
        state.withLock { s in s.connection?.isOpen == true ? s.connection : nil }
    }

    /// Counts so far: events delivered to the hub, and events written to the spool.
    public var counts: (delivered: Int, spooled: Int) { state.withLock { ($0.delivered, $0.spooled) } }

    public func record(_ event: Event) {
        let first = state.withLock { s in
            s.buffer.append(event)
            return s.buffer.count == 1
        }
        if first {
            wake.lock()
            wake.signal()
            wake.unlock()
        }
    }

    /// Tries to connect now (instead of at the next retry), so a grant request can use the hub.
    public func connectNow() -> HubConnection? {
        if let c = connection { return c }
        wake.lock()
        wake.signal()
        wake.unlock()
        return ensureConnection(force: true)
    }

    /// Delivers or spools everything buffered, then stops. Waits at most `timeout` seconds.
    public func close(timeout: Double = 2.0) {
        state.withLock { $0.closing = true }
        wake.lock()
        wake.signal()
        wake.unlock()
        _ = finished.wait(timeout: .now() + timeout)
    }

    private func run() {
        while true {
            wake.lock()
            let idle = state.withLock { $0.buffer.isEmpty && !$0.closing }
            if idle { _ = wake.wait(until: Date(timeIntervalSinceNow: retryInterval)) }
            wake.unlock()
            let (batch, closing) = state.withLock { s -> ([Event], Bool) in
                defer { s.buffer.removeAll(keepingCapacity: true) }
                return (s.buffer, s.closing)
            }
            let connection = ensureConnection(force: false)
            if !batch.isEmpty { deliver(batch, over: connection) }
            if closing && state.withLock({ $0.buffer.isEmpty }) { break }
        }
        finished.signal()
    }

    private func ensureConnection(force: Bool) -> HubConnection? {
        let now = Date().timeIntervalSince1970
        let attempt: Bool = state.withLock { s in
            if let c = s.connection, c.isOpen { return false }
            s.connection = nil
            guard force || now - s.lastAttempt >= retryInterval else { return false }
            s.lastAttempt = now
            return true
        }
        guard attempt else { return state.withLock { $0.connection } }
        // Start a hub at most every 10 s: if it keeps failing, hub.log says why, and we spool meanwhile.
        let spawn = autoStart && lastSpawn.withLock { last in
            guard now - last > 10 else { return false }
            last = now
            return true
        }
        guard let connection = try? HubLauncher.connect(home: home, autoStart: spawn, timeout: 3, onNotification: onNotification) else { return nil }
        let hello = JSONObject(pairs: [("api", .int(HubConnection.apiVersion)), ("role", "wrap"),
                                       ("pid", .int(Int(getpid()))), ("session", .string(sessionID))])
        guard (try? connection.callBlocking("hello", hello, timeout: 5)) != nil else {
            connection.close()
            return nil
        }
        state.withLock { $0.connection = connection }
        onConnect(connection)
        replaySpool(over: connection)
        return connection
    }

    private func deliver(_ batch: [Event], over connection: HubConnection?) {
        if let connection, send(batch, over: connection) {
            state.withLock { $0.delivered += batch.count }
            return
        }
        spool(batch)
    }

    private func send(_ batch: [Event], over connection: HubConnection) -> Bool {
        for chunk in stride(from: 0, to: batch.count, by: 1000) {
            let events = batch[chunk..<min(chunk + 1000, batch.count)].map(\.json)
            guard (try? connection.callBlocking("events.append", JSONObject(pairs: [("events", .array(events))]), timeout: 10)) != nil
            else { return false }
        }
        return true
    }

    private func spool(_ batch: [Event]) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(batch.count * 256)
        for e in batch { e.appendLine(to: &bytes) }
        try? home.prepare()
        let path = "\(home.spoolPath)/\(sessionID).jsonl"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else {
            FileHandle.standardError.write(Data("warden: cannot write event spool \(path): \(String(cString: strerror(errno)))\n".utf8))
            return
        }
        bytes.withUnsafeBytes { _ = FileDescriptorIO.writeAll(fd: fd, $0) }
        fsync(fd)
        Glibc.close(fd)
        state.withLock { $0.spooled += batch.count }
    }

    /// Replays every spool file in the home (ours and those of wrappers that died), each claimed by
    /// an atomic rename so two wrappers never replay the same file.
    private func replaySpool(over connection: HubConnection) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: home.spoolPath) else { return }
        for name in names.sorted() where name.hasSuffix(".jsonl") {
            let path = "\(home.spoolPath)/\(name)"
            let claimed = "\(path).replay-\(getpid())"
            guard rename(path, claimed) == 0 else { continue }
            guard let data = FileManager.default.contents(atPath: claimed) else { continue }
            var events: [Event] = []
            for line in data.split(separator: 0x0A) {
                if let value = try? JSONParser.parse(line), let e = Event(json: value) { events.append(e) }
            }
            if send(events, over: connection) {
                unlink(claimed)
            } else {
                // Put it back for the next attempt; the hub drops whatever part it already has.
                rename(claimed, path)
                return
            }
        }
    }
}
