import Foundation
import WardenProtocol
import WardenSystem
#if canImport(Glibc)
import Glibc
#endif

/// Why a server could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public var command: String
    public var reason: String
    public var description: String { "cannot start \(command): \(reason)" }
    public init(command: String, reason: String) { (self.command, self.reason) = (command, reason) }
}

/// The wrapped MCP server: a child process with its stdin and stdout on pipes to Warden and its
/// stderr shared with Warden's (so server logs reach the client's log unchanged).
public final class ServerProcess: Sendable {
    public let pid: pid_t
    /// Warden writes the client's messages here.
    public let stdinFD: Int32
    /// Warden reads the server's messages here.
    public let stdoutFD: Int32

    /// The read end of a pipe the child has as `Sandbox.infoFD` (bubblewrap's `--info-fd`), when asked for.
    public let infoFD: Int32?

    private init(pid: pid_t, stdinFD: Int32, stdoutFD: Int32, infoFD: Int32?) {
        self.pid = pid
        self.stdinFD = stdinFD
        self.stdoutFD = stdoutFD
        self.infoFD = infoFD
    }

    /// Starts `arguments[0]` (looked up on `PATH`) in Warden's working directory.
    /// - Parameters:
    ///   - environment: `NAME=value` entries; nil passes Warden's own environment.
    ///   - stderrPath: a file the child's stderr is appended to instead of sharing Warden's
    ///     (the demo's processes must not write over the console).
    ///   - infoPipe: give the child a pipe on descriptor `infoFD` (bubblewrap reports the sandbox on it).
    public static func spawn(_ arguments: [String], environment: [String]? = nil, stderrPath: String? = nil,
                             infoPipe: Int32? = nil) throws(SpawnError) -> ServerProcess {
        guard let command = arguments.first else { throw SpawnError(command: "(nothing)", reason: "no command given") }
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        var info: [Int32] = [-1, -1]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0, infoPipe == nil || pipe(&info) == 0 else {
            throw SpawnError(command: command, reason: String(cString: strerror(errno)))
        }
        // Close-on-exec everywhere: the child gets only the ends dup2'd onto 0, 1 (and the info descriptor).
        for fd in toChild + fromChild + info where fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        if let stderrPath { posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o600) }
        if let infoPipe { posix_spawn_file_actions_adddup2(&actions, info[1], infoPipe) }
        // Nothing else crosses: descriptors other code opened without close-on-exec (NIO's
        // listening and accepted sockets in the gateway, HTTP connections, the hub's socket) would
        // let the server accept the gateway's clients, read their tokens, or talk to the hub as
        // Warden. Descriptors below the info descriptor are closed one by one (glibc ignores
        // those not open), the rest at once.
        let firstFree = (infoPipe ?? 2) + 1
        for fd in 3..<max(3, infoPipe ?? 3) { posix_spawn_file_actions_addclose(&actions, fd) }
        #if os(Linux)
        guard SpawnDescriptors.closeFrom(firstFree, in: &actions) else {
            for fd in toChild + fromChild + info where fd >= 0 { close(fd) }
            throw SpawnError(command: command, reason: "the C library cannot close inherited descriptors in the child (posix_spawn_file_actions_addclosefrom_np)")
        }
        #endif

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and an empty mask, whatever Warden set up
        // for itself (it ignores SIGPIPE and catches SIGINT/SIGTERM to forward them).
        SpawnDefaults.apply(to: &attributes)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup($0) } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = envp.map { posix_spawnp(&pid, command, &actions, &attributes, argv, $0) } ?? posix_spawnp(&pid, command, &actions, &attributes, argv, environ)
        Glibc.close(toChild[0])
        Glibc.close(fromChild[1])
        if info[1] >= 0 { Glibc.close(info[1]) }
        guard rc == 0 else {
            Glibc.close(toChild[1])
            Glibc.close(fromChild[0])
            if info[0] >= 0 { Glibc.close(info[0]) }
            throw SpawnError(command: command, reason: String(cString: strerror(rc)))
        }
        return ServerProcess(pid: pid, stdinFD: toChild[1], stdoutFD: fromChild[0], infoFD: info[0] >= 0 ? info[0] : nil)
    }

    /// Blocks until the process ends (call from a thread that may block).
    public func wait() -> ExitStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(255) }
        }
        return ExitStatus(waitStatus: status)
    }

    /// Sends a signal (no effect once the process has been reaped).
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }
}
