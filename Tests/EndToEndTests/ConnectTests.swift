import Foundation
import Testing

/// `warden wrap --connect`: the same relay in front of a server on a socket. The server is the real
/// `mcp-server-time`, served on TCP or a Unix socket by `Peers/socket_server.py`.
@Suite("wrap --connect: servers on sockets", .serialized)
struct ConnectTests {
    /// A socket server for `mcp-server-time`: its address once it listens, and the process to stop.
    final class SocketServer {
        let peer: ListeningPeer
        let address: String

        init(listen: String, extra: [String] = []) async throws {
            peer = try await ListeningPeer.start([Harness.python, Harness.repoRoot + "/Tests/EndToEndTests/Peers/socket_server.py", listen] + extra
                                                 + ["--", Harness.peers + "/bin/mcp-server-time", "--local-timezone", "UTC"])
            address = listen.hasPrefix("tcp:") ? "tcp:127.0.0.1:\(peer.said)" : listen
        }
    }

    static var steps: [[String: Any]] { [
        ["op": "list"],
        ["op": "call", "name": "convert_time", "arguments": ["source_timezone": "Europe/London", "time": "12:00", "target_timezone": "Asia/Tokyo"]],
        ["op": "call", "name": "convert_time", "arguments": ["source_timezone": "Nowhere/Atlantis", "time": "12:00", "target_timezone": "UTC"]],
    ] }

    @Test("Python SDK client → warden wrap --connect tcp: and unix: → mcp-server-time: the same tools and results as a direct connection")
    func sameAsDirect() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let direct = try await pythonClient(command: [Harness.peers + "/bin/mcp-server-time", "--local-timezone", "UTC"], steps: Self.steps, home: home)
        let tcp = try await SocketServer(listen: "tcp:127.0.0.1:0")
        let unix = try await SocketServer(listen: "unix:\(home)/time.sock")
        for server in [tcp, unix] {
            let wrapped = try await pythonClient(command: [Harness.warden, "wrap", "--name", "time", "--connect", server.address], steps: Self.steps, home: home)
            let d = direct["results"] as! [Any], w = wrapped["results"] as! [Any]
            #expect(NSDictionary(dictionary: d[0] as! [String: Any]) == NSDictionary(dictionary: w[0] as! [String: Any]), "\(server.address)")
            #expect(resultText(w[1]).contains("Asia/Tokyo") && resultText(d[1]) == resultText(w[1]), "\(server.address)")
            #expect(resultText(d[2]) == resultText(w[2]), "\(server.address)")
            #expect(NSDictionary(dictionary: direct["server"] as! [String: Any]) == NSDictionary(dictionary: wrapped["server"] as! [String: Any]))
        }
        // The session says the server is not Warden's to sandbox.
        let spool = (try? FileManager.default.contentsOfDirectory(atPath: home + "/spool")) ?? []
        let text = spool.map { (try? String(contentsOfFile: home + "/spool/" + $0, encoding: .utf8)) ?? "" }.joined()
        #expect(text.contains("a server Warden connects to (tcp:127.0.0.1:") && text.contains("a server Warden connects to (unix:"))
    }

    @Test("a refused connection, a bad address and --connect without --name are clear errors; nothing is started")
    func errors() async throws {
        let home = Harness.temporaryHome()
        let refused = try await runProcess([Harness.warden, "wrap", "--name", "t", "--connect", "tcp:127.0.0.1:1"], environment: ["WARDEN_HOME": home])
        #expect(refused.status == 127 && refused.stderr.contains("cannot start tcp:127.0.0.1:1: Connection refused"), "\(refused.stderr)")
        let missing = try await runProcess([Harness.warden, "wrap", "--name", "t", "--connect", "unix:\(home)/none.sock"], environment: ["WARDEN_HOME": home])
        #expect(missing.status == 127 && missing.stderr.contains("No such file or directory"), "\(missing.stderr)")
        let bad = try await runProcess([Harness.warden, "wrap", "--name", "t", "--connect", "http:/x"], environment: ["WARDEN_HOME": home])
        #expect(bad.status == 2 && bad.stderr.contains("--connect takes"), "\(bad.stderr)")
        let unnamed = try await runProcess([Harness.warden, "wrap", "--connect", "tcp:127.0.0.1:9"], environment: ["WARDEN_HOME": home])
        #expect(unnamed.status == 2 && unnamed.stderr.contains("--connect needs --name"), "\(unnamed.stderr)")
        let both = try await runProcess([Harness.warden, "wrap", "--name", "t", "--connect", "tcp:127.0.0.1:9", "--", "/bin/cat"], environment: ["WARDEN_HOME": home])
        #expect(both.status == 2 && both.stderr.contains("not both"), "\(both.stderr)")
    }

    @Test("policy that requires a sandbox for the server refuses to connect to it")
    func sandboxRequired() async throws {
        let home = Harness.temporaryHome()
        let policy = home + "/policy.yaml"
        try "version: 1\ndefaults:\n  action: allow\nsandbox:\n  required: true\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let refused = try await runProcess([Harness.warden, "wrap", "--name", "t", "--policy", policy, "--connect", "tcp:127.0.0.1:9"], environment: ["WARDEN_HOME": home])
        #expect(refused.status == 127 && refused.stderr.contains("requires a sandbox"), "\(refused.stderr)")
    }

    @Test("a server that drops the connection mid-call: the client gets an error for the call, Warden exits")
    func dropped() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let server = try await SocketServer(listen: "tcp:127.0.0.1:0", extra: ["--drop-after-calls", "1"])
        let report = try await pythonClient(command: [Harness.warden, "wrap", "--name", "time", "--connect", server.address],
                                            steps: [["op": "list"], Self.steps[1]], home: home)
        let results = report["results"] as! [Any]
        #expect(((results[0] as? [String: Any])?["tools"] as? [Any])?.count == 2)
        #expect(resultText(results[1]).contains("exited (disconnected: the server closed the connection) before answering"), "\(resultText(results[1]))")
    }
}

/// A peer process that says `listening WHERE` on its first line once it accepts connections;
/// killed when released. Started with `await ListeningPeer.start(…)`: the wait for that line runs on
/// a thread of its own, never on the cooperative pool (two cores give it two threads, and a test
/// that blocks one stalls every other test's timers).
final class ListeningPeer: Sendable {
    let child: Child
    /// What followed `listening`.
    let said: String

    private init(child: Child, said: String) {
        self.child = child
        self.said = said
    }

    static func start(_ arguments: [String], environment: [String: String] = [:]) async throws -> ListeningPeer {
        let child = try Child.spawn(arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        let said: String? = await withCheckedContinuation { c in
            Thread {
                var line = [UInt8]()
                var byte: UInt8 = 0
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline {
                    var ready = pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0)
                    guard poll(&ready, 1, 200) >= 0 else { break }
                    if ready.revents == 0 { continue }
                    guard read(child.stdout, &byte, 1) == 1, byte != 0x0A else { break }
                    line.append(byte)
                }
                let words = String(decoding: line, as: UTF8.self).split(separator: " ")
                c.resume(returning: words.count == 2 && words[0] == "listening" ? String(words[1]) : nil)
            }.start()
        }
        guard let said else {
            kill(child.pid, SIGKILL)
            throw POSIXError(.ECONNREFUSED)
        }
        return ListeningPeer(child: child, said: said)
    }

    deinit { kill(child.pid, SIGKILL) }

    /// A TCP port on loopback nobody listens on now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
