import Dispatch
import Foundation
import Synchronization
import WardenCore
import WardenDetect
import WardenHubClient
import WardenProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Runs `warden wrap`: spawns the server, pumps both directions through a `Relay` on two dedicated
/// threads (blocking reads, never on the cooperative pool), forwards signals, and applies the
/// lifecycle rules. Returns the code Warden should exit with (the server's).
public struct WrapRunner {
    public var config: RelayConfiguration
    public var command: [String]
    public var home: WardenHome
    /// How long the server gets after its stdin closes before SIGTERM, then SIGKILL.
    public var closeGrace: Double = 5
    public var termGrace: Double = 3
    /// Start a hub in the background when none answers (off with `WARDEN_NO_AUTOSTART=1`).
    public var autoStartHub: Bool = HubLauncher.autoStartEnabled

    public init(config: RelayConfiguration, command: [String], home: WardenHome) {
        self.config = config
        self.command = command
        self.home = home
    }

    public func run() throws(SpawnError) -> Int32 {
        // A client that goes away must not kill Warden mid-write: EPIPE is handled where it happens.
        Glibc.signal(SIGPIPE, SIG_IGN)
        let server = try ServerProcess.spawn(command)
        let exited = DispatchSemaphore(value: 0)
        let forwardedSignals = forwardSignals(to: server)
        defer { forwardedSignals.forEach { $0.cancel() } }

        let session = SessionInfo(id: Self.newSessionID(), server: config.serverName, wardenPID: getpid(), serverPID: server.pid,
                                  startedAt: Date().timeIntervalSince1970)
        // The relay exists only after the link, but the link's pushes must reach it: a late-bound box.
        let relayBox = RelayBox()
        let serverName = config.serverName
        let link = EventLink(home: home, sessionID: session.id, autoStart: autoStartHub, onNotification: { method, params in
            if method == "tools.changed" { relayBox.relay?.pinsChanged() }
            // An incident playbook ends this session: stop the server; its exit ends the relay
            // (pending requests answered with the exit status, Warden exits with it).
            if method == "session.terminate", params["session"]?.stringValue == session.id {
                Diagnostics.warn(server: serverName, "session terminated by the hub: \(params["reason"]?.stringValue ?? "operator")")
                server.signal(SIGTERM)
                DispatchQueue.global().asyncAfter(deadline: .now() + 3) { server.signal(SIGKILL) }
            }
        })
        let toServer = FileDescriptorOutput(fd: server.stdinFD)
        let relay = Relay(config: config, session: session, toClient: FileDescriptorOutput(fd: 1), toServer: toServer,
                          authority: HubGrantAuthority(link: link), events: link, pins: FilePinStore(directory: home.pinsPath))
        relayBox.relay = relay

        let serverDone = DispatchSemaphore(value: 0)
        let maxFrame = config.maxFrame
        Self.thread("warden-server-reader") {
            var framer = LineFramer(maxFrame: maxFrame)
            Self.pump(fd: server.stdoutFD, framer: &framer, deliver: relay.serverFrame)
            serverDone.signal()
        }
        let closeGrace = closeGrace, termGrace = termGrace
        Self.thread("warden-client-reader") {
            var framer = LineFramer(maxFrame: maxFrame)
            Self.pump(fd: 0, framer: &framer, deliver: relay.clientFrame)
            // Client EOF: close the server's stdin, then give it time to finish before signalling.
            toServer.close()
            if exited.wait(timeout: .now() + closeGrace) == .timedOut {
                server.signal(SIGTERM)
                if exited.wait(timeout: .now() + termGrace) == .timedOut { server.signal(SIGKILL) } else { exited.signal() }
            } else {
                exited.signal()
            }
        }

        let status = server.wait()
        exited.signal()
        // Let the reader pass on what the server wrote before it exited (bounded: a grandchild may
        // hold the pipe open).
        _ = serverDone.wait(timeout: .now() + 2)
        relay.serverExited(status)
        link.close(timeout: 2)
        return status.shellCode
    }

    static func pump(fd: Int32, framer: inout LineFramer, deliver: (LineFramer.Frame) -> Void) {
        while true {
            let n = framer.readInto(fd: fd)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            framer.drain(deliver)
        }
        framer.finish(deliver)
    }

    /// SIGINT, SIGTERM and SIGHUP sent to Warden go to the server; Warden then exits with it.
    func forwardSignals(to server: ServerProcess) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM, SIGHUP].map { sig in
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { server.signal(sig) }
            source.resume()
            return source
        }
    }

    static func thread(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let t = Thread(block: body)
        t.name = name
        t.stackSize = 1 << 20
        t.start()
    }

    static func newSessionID() -> String {
        "s-" + (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

/// Holds the relay for callbacks created before it (a push can arrive while the relay is being built).
final class RelayBox: Sendable {
    private let value = Mutex<Relay?>(nil)
    var relay: Relay? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
