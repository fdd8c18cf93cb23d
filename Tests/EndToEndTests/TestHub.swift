import Foundation
import Synchronization
import WardenCore
import WardenProtocol

/// A stand-in for the hub's grant broker and event intake, speaking the hub API on a real Unix
/// socket, so end-to-end tests can drive real `warden wrap` processes through held calls.
/// (The real hub replaces it in the hub issue; the wire protocol is the same.)
final class TestHub: Sendable {
    enum Decision: Sendable {
        case approve(by: String)
        case deny(by: String, reason: String)
        /// Never answer: the relay's deadline decides.
        case ignore
    }

    struct State {
        var eventIDs: [String] = []
        var requests: [JSONObject] = []
        var withdrawn: [String] = []
        var connections: [Int32] = []
    }

    let path: String
    let state = Mutex(State())
    private let listener: Int32
    private let decide: @Sendable (JSONObject) -> Decision

    init(home: String, decide: @escaping @Sendable (JSONObject) -> Decision) throws {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        path = home + "/hub.sock"
        unlink(path)
        self.decide = decide
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    var uniqueEventCount: Int { state.withLock { Set($0.eventIDs).count } }
    var totalEventCount: Int { state.withLock { $0.eventIDs.count } }
    var requests: [JSONObject] { state.withLock { $0.requests } }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        for fd in state.withLock({ $0.connections }) { shutdown(fd, Int32(SHUT_RDWR)) }
        unlink(path)
    }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            state.withLock { $0.connections.append(fd) }
            let t = Thread { [self] in serve(fd) }
            t.start()
        }
    }

    private func serve(_ fd: Int32) {
        let writeLock = Mutex(())
        var framer = LineFramer()
        while framer.readInto(fd: fd) > 0 {
            framer.drain { frame in
                guard case .line(_, let content) = frame, let message = try? JSONParser.parse(content),
                      let method = message["method"]?.stringValue, let id = message["id"] else { return }
                let params = message["params"]?.objectValue ?? JSONObject()
                let reply: @Sendable (JSONValue) -> Void = { result in
                    let line = RPCReply.line(["jsonrpc": "2.0", "id": id, "result": result])
                    writeLock.withLock { _ in line.withUnsafeBytes { _ = FileDescriptorIO.writeAll(fd: fd, $0) } }
                }
                switch method {
                case "hello":
                    reply(["api": 1])
                case "events.append":
                    let ids = params["events"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
                    state.withLock { $0.eventIDs += ids }
                    reply(["accepted": .int(ids.count)])
                case "grants.request":
                    state.withLock { $0.requests.append(params) }
                    let grantID = params["id"] ?? ""
                    switch decide(params) {
                    case .approve(let by):
                        reply(["outcome": "approved", "grantId": grantID, "decidedBy": .string(by), "scope": "call"])
                    case .deny(let by, let reason):
                        reply(["outcome": "denied", "grantId": grantID, "decidedBy": .string(by), "reason": .string(reason)])
                    case .ignore:
                        break
                    }
                case "grants.withdraw":
                    state.withLock { $0.withdrawn.append(params["id"]?.stringValue ?? "") }
                    reply([:])
                default:
                    reply([:])
                }
            }
        }
        close(fd)
    }
}
