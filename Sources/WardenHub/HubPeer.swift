import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
import WardenProtocol

/// One connection to the hub: a relay, a console or a CLI command.
public final class HubPeer: Sendable {
    public let id: Int
    public let uid: UInt32
    public let pid: Int32
    /// What the kernel said about the connecting process.
    public let identity: PeerIdentity
    let fd: Int32
    private let writeLock = Mutex(())
    struct State {
        var role = "unknown"
        var sessions: Set<String> = []
        var topics: Set<String> = []
        /// Why this connection may not act as the operator (once set, for good).
        var refusedAuthority: String?
        var refusals = 0
    }
    let state = Mutex(State())

    init(id: Int, fd: Int32, identity: PeerIdentity) {
        self.id = id
        self.fd = fd
        self.uid = identity.uid
        self.pid = identity.pid
        self.identity = identity
    }

    var role: String { state.withLock { $0.role } }

    var refusedAuthority: String? {
        get { state.withLock { $0.refusedAuthority } }
        set { state.withLock { if $0.refusedAuthority == nil { $0.refusedAuthority = newValue } } }
    }

    /// Writes one message; false when the peer is gone.
    @discardableResult
    func send(_ value: JSONValue) -> Bool {
        let line = RPCReply.line(value)
        return writeLock.withLock { _ in line.withUnsafeBytes { FileDescriptorIO.writeAll(fd: fd, $0) } }
    }

    /// Pushes a notification if the peer subscribed to `topic`.
    func push(_ push: HubPush, _ params: JSONValue) {
        if let topic = push.topic {
            guard state.withLock({ $0.topics.contains(topic) }) else { return }
        }
        send(["jsonrpc": "2.0", "method": .string(push.rawValue), "params": params])
    }

    /// The actor as the hub records it: what the kernel says about the process, then the name it
    /// gave as a label only.
    func actor(_ claimed: String?) -> String { identity.actor(label: claimed) }
}
