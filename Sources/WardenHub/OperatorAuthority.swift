import Foundation
import Synchronization
import WardenSystem

/// Decides which connections may act as the operator. A wrapped server runs as the operator's
/// uid, so the uid check on the socket cannot tell them apart; this does, from what the kernel
/// says about the connecting process:
/// - a connection that said `role: wrap` is a relay and may use only the relay methods;
/// - a process in another pid namespace than the hub's is a sandboxed server;
/// - a process with a relay among its ancestors (a registered relay's pid and start time, or any
///   process whose command line is `warden wrap` / `warden gateway`) is a server or something it
///   started. Relays are child subreapers, so a server that double-forks stays below its relay.
/// The verdict is taken at connect and again at every operator call; once refused, a connection
/// stays refused (its process cannot leave the tree it was found in by reconnecting either).
/// Which methods need an operator is `HubMethod.authority`; unknown methods are refused before
/// this is asked. What this does not stop is in docs/isolation.md.
public final class OperatorAuthority: Sendable {
    /// Relays that said hello: pid → start time (a later process that reuses the pid is not one).
    private let relays = Mutex<[Int32: UInt64]>([:])
    private let ownNamespace = ProcessTable.pidNamespace(getpid())

    public init() {}

    /// A relay said hello on a connection from `identity`.
    func register(relay identity: PeerIdentity) {
        guard let start = identity.startTime else { return }
        relays.withLock { r in
            // Entries of relays that have exited go, so the table stays as small as the live relays.
            r = r.filter { ProcessTable.status($0.key)?.startTime == $0.value }
            r[identity.pid] = start
        }
    }

    /// Why `peer` may not use operator methods, or nil when it may.
    func refusal(_ peer: HubPeer) -> String? {
        if let sticky = peer.refusedAuthority { return sticky }
        guard let why = treeReason(peer) ?? (peer.role == "wrap" ? "this connection is a relay's (role wrap)" : nil) else { return nil }
        peer.refusedAuthority = why
        return why
    }

    private func treeReason(_ peer: HubPeer) -> String? {
        let id = peer.identity
        #if os(Linux)
        guard let start = id.startTime, ProcessTable.status(id.pid)?.startTime == start else {
            return "the process that opened this connection (pid \(id.pid)) has exited; whoever holds the connection now cannot be identified"
        }
        guard let namespace = id.pidNamespace else {
            return "the kernel does not show pid \(id.pid)'s pid namespace (an undumpable process cannot be identified)"
        }
        if let own = ownNamespace, namespace != own {
            return "pid \(id.pid) runs in another pid namespace than the hub (a sandboxed server)"
        }
        let chain = ProcessTable.ancestry(id.pid)
        guard let top = chain.last, top.parent == 0 else {
            return "the ancestry of pid \(id.pid) could not be read to its root"
        }
        let registered = relays.withLock { $0 }
        for process in chain {
            if registered[process.pid] == process.startTime {
                return "pid \(id.pid) descends from the relay pid \(process.pid) (a wrapped server or a process it started)"
            }
            let arguments = ProcessTable.arguments(process.pid)
            if Self.isRelayCommand(arguments) {
                return "pid \(id.pid) descends from `warden \(arguments[1])` (pid \(process.pid)): a wrapped server or a process it started"
            }
        }
        #endif
        return nil
    }

    /// `…/warden wrap …` or `…/warden gateway …`.
    static func isRelayCommand(_ arguments: [String]) -> Bool {
        guard arguments.count >= 2, URL(fileURLWithPath: arguments[0]).lastPathComponent.hasPrefix("warden") else { return false }
        return arguments[1] == "wrap" || arguments[1] == "gateway"
    }
}
