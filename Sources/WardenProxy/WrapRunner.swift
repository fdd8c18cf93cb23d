import Dispatch
import Foundation
import Synchronization
import WardenCore
import WardenDetect
import WardenHubClient
import WardenProtocol
import WardenSandbox
import WardenSystem
import WardenTransport
#if canImport(Glibc)
import Glibc
#endif

/// Runs `warden wrap`: spawns the server (or connects to it), pumps both directions through a
/// `Relay` on two dedicated threads (blocking reads, never on the cooperative pool), forwards
/// signals, and applies the lifecycle rules. Returns the code Warden should exit with (the server's).
public struct WrapRunner {
    public var config: RelayConfiguration
    public var command: [String]
    /// A server to connect to instead of a command to start (`--connect`).
    public var connect: UpstreamTarget?
    /// Headers for an HTTP server (`--header-file`, `WARDEN_CONNECT_HEADERS`).
    public var connectHeaders: [(String, String)] = []
    public var home: WardenHome
    /// How long the server gets after its stdin closes before SIGTERM, then SIGKILL.
    public var closeGrace: Double = 5
    public var termGrace: Double = 3
    /// Start a hub in the background when none answers (off with `WARDEN_NO_AUTOSTART=1`).
    public var autoStartHub: Bool = HubLauncher.autoStartEnabled
    /// What the sandbox keeps from the server whatever the policy says.
    public var protected = ProtectedPaths(hidden: [], readOnly: [])
    /// A file for the server's stderr instead of Warden's own.
    public var stderrPath: String?

    public init(config: RelayConfiguration, command: [String], home: WardenHome) {
        self.config = config
        self.command = command
        self.home = home
    }

    public func run() throws(SpawnError) -> Int32 {
        // A client that goes away must not kill Warden mid-write: EPIPE is handled where it happens.
        Glibc.signal(SIGPIPE, SIG_IGN)
        // The server is the adversary and runs as the same user: it must not be able to trace or
        // read this relay, and whatever it double-forks comes back to this relay (so it stays in
        // a tree the hub refuses operator authority to, and is ended with the session).
        ProcessHardening.forbidTracing()
        ProcessHardening.becomeChildSubreaper()

        let sessionID = Self.newSessionID()
        let relayBox = RelayBox()
        let serverBox = ServerBox()
        let serverName = config.serverName
        let link = EventLink(home: home, sessionID: sessionID, autoStart: autoStartHub, onNotification: { method, params in
            if method == "tools.changed" { relayBox.relay?.pinsChanged() }
            // An incident playbook ends this session: stop the server; its exit ends the relay
            // (pending requests answered with the exit status, Warden exits with it).
            if method == "session.terminate", params["session"]?.stringValue == sessionID, let server = serverBox.server {
                Diagnostics.warn(server: serverName, "session terminated by the hub: \(params["reason"]?.stringValue ?? "operator")")
                server.terminate()
                DispatchQueue.global().asyncAfter(deadline: .now() + 3) { server.kill() }
            }
        })
        // The link connects in the background while the server starts: the hub needs no
        // registration to know the server's tree (it recognises `warden wrap` on the command line
        // of any ancestor), and the connection is close-on-exec, so the server cannot inherit it.

        let (server, isolation, sandboxPID) = try launch()
        serverBox.server = server
        let exited = DispatchSemaphore(value: 0)
        let forwardedSignals = forwardSignals(to: server)
        defer { forwardedSignals.forEach { $0.cancel() } }

        var session = SessionInfo(id: sessionID, server: config.serverName, wardenPID: getpid(), serverPID: server.pid,
                                  startedAt: Date().timeIntervalSince1970)
        session.isolation = isolation
        let relay = Relay(config: config, session: session, toClient: FileDescriptorOutput(fd: 1), toServer: server.output,
                          authority: HubGrantAuthority(link: link), events: link, pins: FilePinStore(directory: home.pinsPath))
        relayBox.relay = relay
        if isolation.isSandboxed, isolation.network == .offline, let sandboxPID { Self.watchNetwork(pid: sandboxPID, relay: relay) }
        let serverDone = DispatchSemaphore(value: 0)
        let maxFrame = config.maxFrame
        Self.thread("warden-server-reader") {
            server.pump(maxFrame: maxFrame, relay.serverFrame)
            serverDone.signal()
        }
        let closeGrace = closeGrace, termGrace = termGrace
        Self.thread("warden-client-reader") {
            LineFramer.readAll(fd: 0, maxFrame: maxFrame, relay.clientFrame)
            // Client EOF: calls the client sent before it closed may still wait for the tool list
            // Warden asked for; they are decided and sent first. Then close the server's stdin and
            // give it time to finish before signalling.
            relay.settle(timeout: closeGrace)
            server.closeInput()
            if exited.wait(timeout: .now() + closeGrace) == .timedOut {
                server.terminate()
                if exited.wait(timeout: .now() + termGrace) == .timedOut { server.kill() } else { exited.signal() }
            } else {
                exited.signal()
            }
        }

        let status = server.wait()
        exited.signal()
        // Let the reader pass on what the server wrote before it exited (bounded: a grandchild may
        // hold the pipe open).
        _ = serverDone.wait(timeout: .now() + 2)
        // Nothing the server started outlives its session (a sandboxed server's pid namespace
        // ends with it anyway; an unsandboxed one's orphans were re-parented to us).
        Self.endOrphans()
        relay.serverExited(status)
        link.close(timeout: 2)
        return status.shellCode
    }

    /// The server: connected to (`--connect`; it runs wherever it runs, so Warden cannot sandbox
    /// it, and says so in the session), or started.
    func launch() throws(SpawnError) -> (any Upstream, Isolation, Int32?) {
        if let connect {
            // A server Warden does not start cannot be sandboxed: where policy or an incident
            // requires a sandbox for this server, it is not reached at all.
            if config.policy.sandbox.profile(for: config.serverName).required {
                throw SpawnError(command: connect.description, reason: "the policy requires a sandbox for \(config.serverName) (sandbox: required: true), and a server Warden connects to cannot have one")
            }
            if let path = config.controlsPath, Controls.load(path: path).isolated.contains(config.serverName) {
                throw SpawnError(command: connect.description, reason: "an incident isolated \(config.serverName) (no network, sandbox required); a server Warden connects to cannot be isolated")
            }
            let isolation = Isolation.unsandboxed("a server Warden connects to (\(connect)), not one it starts")
            if case .http(let url) = connect { return (HTTPUpstream(url: url, headers: connectHeaders, maxFrame: config.maxFrame), isolation, nil) }
            return (try SocketUpstream.connect(connect), isolation, nil)
        }
        let (process, isolation, sandboxPID) = try start()
        return (ProcessUpstream(process), isolation, sandboxPID)
    }

    /// Starts the server under the sandbox its policy asks for, or unsandboxed where the system
    /// cannot isolate it and policy allows that (said on stderr and in the session's isolation).
    func start() throws(SpawnError) -> (ServerProcess, Isolation, Int32?) {
        var profile = config.policy.sandbox.profile(for: config.serverName)
        if let path = config.controlsPath, Controls.load(path: path).isolated.contains(config.serverName) {
            // An incident playbook isolated this server: no network, and no start without a sandbox.
            profile.enabled = true
            profile.network = .offline
            profile.required = true
        }
        let environment = ProcessInfo.processInfo.environment
        let cwd = FileManager.default.currentDirectoryPath
        // Found here, not by bubblewrap: a missing command is reported as one (exit 127), and the
        // sandbox runs the file this relay found.
        guard let executable = ExecutableSearch.find(command[0], path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", cwd: cwd) else {
            throw SpawnError(command: command[0], reason: "No such file or directory (not found on PATH, or not executable)")
        }
        let command = [executable] + command.dropFirst()
        var why: String
        switch Sandbox.prepare(command: command, profile: profile, protected: protected, environment: environment, workingDirectory: cwd) {
        case .sandboxed(let plan):
            let server = try ServerProcess.spawn(plan.arguments, environment: plan.environment, stderrPath: stderrPath, infoPipe: Sandbox.infoFD)
            let child = server.infoFD.flatMap { fd in
                defer { close(fd) }
                return Sandbox.readChildPID(fd: fd)
            }
            if let child { return (server, plan.isolation, child) }
            let status = server.wait()
            why = "bubblewrap could not create the sandbox (\(status.description); its message is above)"
            if profile.required { throw SpawnError(command: command[0], reason: "\(why), and the policy requires one (sandbox: required: true)") }
        case .unsandboxed(let isolation, let fatal):
            why = isolation.unsandboxedReason ?? "no sandbox"
            if fatal { throw SpawnError(command: command[0], reason: "\(why), and the policy requires a sandbox (sandbox: required: true)") }
        }
        Diagnostics.warn(server: config.serverName, "the server runs UNSANDBOXED: \(why)")
        // Even unsandboxed: no privileges gained through exec, and none of Warden's variables.
        ProcessHardening.noNewPrivileges()
        let server = try ServerProcess.spawn(command, environment: SandboxPlan.scrubbed(environment), stderrPath: stderrPath)
        return (server, .unsandboxed(why), nil)
    }

    /// A server with no network that tries to reach it fails (its namespace has no route); this
    /// records that it tried, from the namespace's kernel counters, twice a second while it runs.
    static func watchNetwork(pid: Int32, relay: Relay) {
        thread("warden-sandbox-network") {
            var seen = 0
            while let now = NetworkAttempts.count(pid: pid) {
                if now > seen {
                    relay.sandboxNetworkAttempts(now - seen, total: now)
                    seen = now
                }
                usleep(500_000)
            }
        }
    }

    /// Kills what is left of the server's process tree: everything re-parented to this relay,
    /// except hubs it started. Repeats until nothing is left (a process may fork while we look).
    static func endOrphans() {
        let me = getpid()
        for _ in 0..<50 {
            let hubs = HubLauncher.spawned.withLock { $0 }
            let spared = Set(hubs.flatMap { [$0] + ProcessTable.descendants(of: $0) })
            let left = ProcessTable.descendants(of: me).filter { !spared.contains($0) }
            if left.isEmpty { return }
            for pid in left {
                kill(pid, SIGKILL)
                // Our own children are reaped here; grandchildren come back to us when their parent dies.
                var status: Int32 = 0
                _ = waitpid(pid, &status, WNOHANG)
            }
            usleep(5_000)
        }
    }

    /// SIGINT, SIGTERM and SIGHUP sent to Warden go to the server; Warden then exits with it.
    func forwardSignals(to server: any Upstream) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM, SIGHUP].map { sig in
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { server.forward(signal: sig) }
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
        "s-" + RandomHex.make(bytes: 8)
    }
}

/// Holds the server for the hub's `session.terminate`, which may arrive before it is started.
final class ServerBox: Sendable {
    private let value = Mutex<(any Upstream)?>(nil)
    var server: (any Upstream)? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
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
