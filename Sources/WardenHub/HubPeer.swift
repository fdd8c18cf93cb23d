import Foundation
import Synchronization
import WardenCore
import WardenProtocol

/// One connection to the hub: a relay, a console or a CLI command.
public final class HubPeer: Sendable {
    public let id: Int
    public let uid: UInt32
    public let pid: Int32
    let fd: Int32
    private let writeLock = Mutex(())
    struct State {
        var role = "unknown"
        var sessions: Set<String> = []
        var topics: Set<String> = []
    }
    let state = Mutex(State())

    init(id: Int, fd: Int32, uid: UInt32, pid: Int32) {
        self.id = id
        self.fd = fd
        self.uid = uid
        self.pid = pid
    }

    var role: String { state.withLock { $0.role } }

    /// Writes one message; false when the peer is gone.
    @discardableResult
    func send(_ value: JSONValue) -> Bool {
        let line = RPCReply.line(value)
        return writeLock.withLock { _ in line.withUnsafeBytes { FileDescriptorIO.writeAll(fd: fd, $0) } }
    }

    /// Pushes a notification if the peer subscribed to `topic`.
    func push(_ topic: String, _ params: JSONValue) {
        guard state.withLock({ $0.topics.contains(topic) }) else { return }
        send(["jsonrpc": "2.0", "method": .string("hub.\(topic)"), "params": params])
    }

    /// The operator's name as the hub records it: the name they gave, and the uid the kernel vouches for.
    func actor(_ claimed: String?) -> String {
        let name = claimed.flatMap { $0.isEmpty ? nil : $0 } ?? Self.userName(uid) ?? "uid\(uid)"
        return "\(name) (uid \(uid))"
    }

    static func userName(_ uid: UInt32) -> String? {
        guard let pw = getpwuid(uid) else { return nil }
        return String(cString: pw.pointee.pw_name)
    }
}
