import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
import WardenProtocol
import WardenStore

/// Why the hub did not start.
public enum HubStartError: Error, Sendable, CustomStringConvertible {
    case alreadyRunning(home: String, pid: String)
    case store(StoreError)
    case config(PolicyError)
    case socket(path: String, reason: String)

    public var description: String {
        switch self {
        case .alreadyRunning(let home, let pid): "a hub is already running for \(home) (pid \(pid))"
        case .store(let e): e.description
        case .config(let e): "config: \(e)"
        case .socket(let path, let reason): "cannot listen on \(path): \(reason)"
        }
    }
}

/// The hub process: one per `$WARDEN_HOME`, guarded by a lock file, listening on an owner-only Unix
/// socket whose peers must have the hub's own uid (checked with `SO_PEERCRED`; refusals are
/// audited). Each connection gets a thread with blocking reads; the API itself is `HubService`.
/// Startable in-process (tests, benchmarks) on any home.
public final class HubServer: Sendable {
    public let home: WardenHome
    public let service: HubService
    private let listener: Int32
    private let lockFD: Int32
    private let nextPeer = Atomic<Int>(0)
    private let running = Atomic<Bool>(true)
    private let retention: Double

    public init(home: WardenHome, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws(HubStartError) {
        self.home = home
        do { try home.prepare() } catch { throw .socket(path: home.path, reason: "cannot create the state directory: \(error)") }
        chmod(home.path, 0o700)

        let lockPath = home.path + "/hub.lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0, flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            let pid = (try? String(contentsOfFile: lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            if lock >= 0 { close(lock) }
            throw .alreadyRunning(home: home.path, pid: pid)
        }
        ftruncate(lock, 0)
        let pidText = Array("\(getpid())\n".utf8)
        _ = pidText.withUnsafeBytes { write(lock, $0.baseAddress, $0.count) }
        lockFD = lock

        let config: HubConfig
        do { config = try HubConfig.load(path: home.path + "/config.yaml") } catch {
            close(lock)
            throw .config(error)
        }
        retention = config.eventRetention
        do {
            let store = try Store(path: home.path + "/warden.db")
            service = try HubService(store: store, home: home, config: config, clock: clock)
            _ = try? store.pruneEvents(before: clock() - config.eventRetention)
        } catch {
            close(lock)
            throw .store(error)
        }

        // We hold the lock, so a socket file left behind is stale.
        unlink(home.socketPath)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = home.socketPath
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(lock)
            throw .socket(path: path, reason: "path too long for a Unix socket; use a shorter WARDEN_HOME")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        // Owner-only from the moment it exists: no window where another user could connect.
        let oldMask = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(oldMask)
        guard bound == 0, listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            close(lock)
            throw .socket(path: path, reason: reason)
        }
        chmod(path, 0o600)
        listener = fd
    }

    /// Starts accepting connections and the timers; returns at once.
    public func start() {
        // A peer that hangs up before its answer is written (a held grant request, a killed CLI)
        // must cost an EPIPE on that write, not the hub: SIGPIPE's default action ends the process.
        signal(SIGPIPE, SIG_IGN)
        let acceptor = Thread { [self] in acceptLoop() }
        acceptor.name = "warden-hub-accept"
        acceptor.start()
        let ticker = Thread { [self] in
            var lastPrune = Date().timeIntervalSince1970
            var lastSave = lastPrune
            while running.load(ordering: .relaxed) {
                usleep(100_000)
                service.broker.tick()
                service.afterChange()
                if Date().timeIntervalSince1970 - lastSave >= 2 {
                    lastSave = Date().timeIntervalSince1970
                    service.saveBaselines()
                }
                if Date().timeIntervalSince1970 - lastPrune > 3600 {
                    lastPrune = Date().timeIntervalSince1970
                    _ = try? service.store.pruneEvents(before: Date().timeIntervalSince1970 - retention)
                }
            }
        }
        ticker.name = "warden-hub-ticker"
        ticker.start()
        // Its own thread: a large spool must not hold up grant expiry on the ticker.
        // Spool files relays left when they exited (their close waits 2 s at most) are taken in
        // here; a file younger than 1 s is left to the relay that is writing and replaying it.
        let intake = Thread { [self] in
            while running.load(ordering: .relaxed) {
                EventSpool.sweep(service.home.spoolPath, settle: 1) { file in
                    EventSpool.replay(file) { batch in (try? service.ingest(batch)) != nil }
                }
                for _ in 0..<20 where running.load(ordering: .relaxed) { usleep(100_000) }
            }
        }
        intake.name = "warden-hub-spool"
        intake.start()
    }

    /// Stops listening, disconnects everyone, removes the socket and releases the lock.
    public func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(home.socketPath)
        for peer in service.peers.all { shutdown(peer.fd, Int32(SHUT_RDWR)) }
        service.saveBaselines()
        service.stopping()
        flock(lockFD, LOCK_UN)
        close(lockFD)
    }

    private func acceptLoop() {
        while running.load(ordering: .relaxed) {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR { continue }
                return
            }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let (uid, pid) = Self.peerCredentials(fd)
            guard uid == getuid() else {
                // Another user reached the socket (its mode was changed, or a root process): refuse and record.
                _ = try? service.store.audit(actor: "hub", action: "connection.refused", subject: "uid \(uid)",
                                             details: JSONObject(pairs: [("uid", .int(Int(uid))), ("pid", .int(Int(pid))),
                                                                         ("reason", .string("peer uid \(uid) is not the hub's uid \(getuid())"))]))
                service.afterChange()
                let message = RPCReply.error(id: nil, code: -32001, message: "refused: this hub serves uid \(getuid()) only; you are uid \(uid)")
                message.withUnsafeBytes { _ = FileDescriptorIO.writeAll(fd: fd, $0) }
                close(fd)
                continue
            }
            let peer = HubPeer(id: nextPeer.add(1, ordering: .relaxed).newValue, fd: fd, identity: PeerIdentity.of(uid: uid, pid: pid))
            // Judged at connect too: a process found in a relay's tree stays refused even if it
            // is re-parented before its first operator call.
            _ = service.authority.refusal(peer)
            service.attach(peer)
            let t = Thread { [self] in serve(peer) }
            t.name = "warden-hub-peer"
            t.start()
        }
    }

    private func serve(_ peer: HubPeer) {
        var framer = LineFramer()
        while true {
            let n = framer.readInto(fd: peer.fd)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            framer.drain { frame in
                guard case .line(_, let content) = frame else { return }
                guard let message = try? JSONParser.parse(content) else {
                    peer.send(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", .null),
                                                         ("error", ["code": .int(HubErrorCode.parseError.rawValue), "message": "not JSON"])])))
                    return
                }
                guard let method = message["method"]?.stringValue else {
                    peer.send(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", .null),
                                                         ("error", ["code": .int(HubErrorCode.invalidRequest.rawValue), "message": "not a JSON-RPC request"])])))
                    return
                }
                let id = message["id"]
                let params = message["params"]?.objectValue ?? JSONObject()
                service.handle(method, params, from: peer) { result in
                    guard let id else { return }
                    switch result {
                    case .success(let value):
                        peer.send(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", id), ("result", value)])))
                    case .failure(let e):
                        peer.send(.object(JSONObject(pairs: [("jsonrpc", "2.0"), ("id", id),
                                                             ("error", ["code": .int(e.code), "message": .string(e.message)])])))
                    }
                }
            }
        }
        service.detach(peer)
        close(peer.fd)
    }

    /// `SO_PEERCRED` (Linux): the connecting process's pid and uid, as the kernel recorded them.
    static func peerCredentials(_ fd: Int32) -> (uid: UInt32, pid: Int32) {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; } — read raw: Swift does not import it without _GNU_SOURCE.
        var raw = [Int32](repeating: -1, count: 3)
        var length = socklen_t(12)
        let rc = raw.withUnsafeMutableBytes { getsockopt(fd, SOL_SOCKET, 17 /* SO_PEERCRED */, $0.baseAddress, &length) }
        guard rc == 0 else { return (UInt32.max, -1) }
        return (UInt32(bitPattern: raw[1]), raw[0])
    }
}
