import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
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
        /// Full buffers handed to the spill thread (`record` never blocks on disk).
        var spills: [[Event]] = []
        var spillFiles = 0
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
    private let spillWake = NSCondition()
    private let finished = DispatchSemaphore(value: 0)
    private let spillFinished = DispatchSemaphore(value: 0)
    /// How often to retry an unreachable hub.
    private let retryInterval: Double
    /// Events held in memory at most; beyond it a batch goes to the spool (memory stays bounded when
    /// a relay outpaces the hub, and the spool is replayed once the link has caught up).
    public static let highWater = 2_000
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
        let spiller = Thread { [self] in spillLoop() }
        spiller.name = "warden-spill"
        spiller.start()
    }

    /// The live hub connection, if any (shared with the grant authority).
    public var connection: HubConnection? {
        state.withLock { s in s.connection?.isOpen == true ? s.connection : nil }
    }

    /// Counts so far: events delivered to the hub, and events written to the spool.
    public var counts: (delivered: Int, spooled: Int) { state.withLock { ($0.delivered, $0.spooled) } }

    public func record(_ event: Event) {
        let (first, spill) = state.withLock { s -> (Bool, Bool) in
            s.buffer.append(event)
            guard s.buffer.count >= Self.highWater else { return (s.buffer.count == 1, false) }
            // The hub is not keeping up: the full buffer goes to disk, off this thread.
            s.spills.append(s.buffer)
            s.buffer = []
            s.buffer.reserveCapacity(1024)
            return (false, true)
        }
        if first {
            wake.lock()
            wake.signal()
            wake.unlock()
        }
        if spill {
            spillWake.lock()
            spillWake.signal()
            spillWake.unlock()
        }
    }

    private func spillLoop() {
        while true {
            spillWake.lock()
            while state.withLock({ $0.spills.isEmpty && !$0.closing }) { spillWake.wait() }
            spillWake.unlock()
            let (batches, closing) = state.withLock { s -> ([[Event]], Bool) in
                defer { s.spills = [] }
                return (s.spills, s.closing)
            }
            for b in batches { spool(b) }
            if closing && state.withLock({ $0.spills.isEmpty }) { break }
        }
        spillFinished.signal()
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
        spillWake.lock()
        spillWake.signal()
        spillWake.unlock()
        _ = finished.wait(timeout: .now() + timeout)
        _ = spillFinished.wait(timeout: .now() + timeout)
    }

    private func run() {
        var lastSpool = 0.0
        while true {
            wake.lock()
            if state.withLock({ $0.buffer.isEmpty && !$0.closing }) { _ = wake.wait(until: Date(timeIntervalSinceNow: retryInterval)) }
            if state.withLock({ !$0.closing && $0.connection?.isOpen != true }) {
                // No hub: events gather in memory (full buffers still spill at the high-water mark)
                // and go to disk once per retry interval, not as one fsync'd file per wake-up.
                let until = Date(timeIntervalSince1970: lastSpool + retryInterval)
                while Date() < until, state.withLock({ !$0.closing && $0.connection?.isOpen != true }) { _ = wake.wait(until: until) }
            }
            wake.unlock()
            let (batch, closing) = state.withLock { s -> ([Event], Bool) in
                defer { s.buffer.removeAll(keepingCapacity: true) }
                return (s.buffer, s.closing)
            }
            let connection = ensureConnection(force: false)
            if batch.count > Self.highWater {
                spool(batch)
            } else if !batch.isEmpty {
                if connection == nil { lastSpool = Date().timeIntervalSince1970 }
                deliver(batch, over: connection)
                // Caught up: anything spilled earlier goes now.
                if let connection, state.withLock({ $0.buffer.isEmpty && $0.spooled > 0 }) { replaySpool(over: connection) }
            }
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
        let hello = Hello(api: HubConnection.apiVersion, role: "wrap", pid: Int(getpid()), session: sessionID)
        guard (try? connection.callBlocking(hello, timeout: 5)) != nil else {
            connection.close()
            return nil
        }
        state.withLock { $0.connection = connection }
        onConnect(connection)
        replaySpool(over: connection)
        return connection
    }

    private func deliver(_ batch: [Event], over connection: HubConnection?) {
        guard let connection else { return spool(batch) }
        for start in stride(from: 0, to: batch.count, by: 1000) {
            let rest = batch[start...]
            // The relay is outpacing the hub: put the rest on disk rather than let memory grow.
            if state.withLock({ $0.buffer.count }) > Self.highWater { return spool(Array(rest)) }
            let chunk = Array(rest.prefix(1000))
            guard send(chunk, over: connection) else { return spool(Array(rest)) }
            state.withLock { $0.delivered += chunk.count }
        }
    }

    private func send(_ batch: [Event], over connection: HubConnection) -> Bool {
        var params: [UInt8] = []
        for chunk in stride(from: 0, to: batch.count, by: 1000) {
            params.removeAll(keepingCapacity: true)
            params.append(contentsOf: #"{"events":["#.utf8)
            for (i, e) in batch[chunk..<min(chunk + 1000, batch.count)].enumerated() {
                if i > 0 { params.append(0x2C) }
                e.append(to: &params)
            }
            params.append(contentsOf: [0x5D, 0x7D])
            guard (try? connection.callBlocking(.eventsAppend, rawParams: params, timeout: 10)) != nil else { return false }
        }
        return true
    }

    /// Writes a batch as a new, complete spool file (written under a temporary name, fsync'd, then
    /// renamed): a replay only ever sees whole files, whichever thread spools and whenever it replays.
    private func spool(_ batch: [Event]) {
        guard !batch.isEmpty else { return }
        var bytes = [UInt8]()
        bytes.reserveCapacity(batch.count * 256)
        for e in batch { e.appendLine(to: &bytes) }
        try? home.prepare()
        let n = state.withLock { s -> Int in
            s.spillFiles += 1
            return s.spillFiles
        }
        let name = "\(sessionID)-\(String(format: "%06d", n))"
        let temp = "\(home.spoolPath)/.\(name).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            FileHandle.standardError.write(Data("warden: cannot write event spool \(temp): \(String(cString: strerror(errno)))\n".utf8))
            return
        }
        bytes.withUnsafeBytes { _ = FileDescriptorIO.writeAll(fd: fd, $0) }
        fsync(fd)
        Glibc.close(fd)
        rename(temp, "\(home.spoolPath)/\(name).jsonl")
        state.withLock { $0.spooled += batch.count }
    }

    /// Replays every spool file in the home (ours and those of relays that died): `EventSpool`
    /// claims each by an atomic rename, so no two takers replay the same file.
    private func replaySpool(over connection: HubConnection) {
        let whole = EventSpool.sweep(home.spoolPath) { file in EventSpool.replay(file) { self.send($0, over: connection) } }
        if whole { state.withLock { $0.spooled = 0 } }
    }
}
