import Foundation
import WardenProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Why a server could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public var command: String
    public var reason: String
    public var description: String { "cannot start \(command): \(reason)" }
}

/// The wrapped MCP server: a child process with its stdin and stdout on pipes to Warden and its
/// stderr shared with Warden's (so server logs reach the client's log unchanged).
public final class ServerProcess: Sendable {
    public let pid: pid_t
    /// Warden writes the client's messages here.
    public let stdinFD: Int32
    /// Warden reads the server's messages here.
    public let stdoutFD: Int32

    private init(pid: pid_t, stdinFD: Int32, stdoutFD: Int32) {
        self.pid = pid
        self.stdinFD = stdinFD
        self.stdoutFD = stdoutFD
    }

    /// Starts `arguments[0]` (looked up on `PATH`) with Warden's environment and working directory.
    /// - Parameter stderrPath: a file the child's stderr is appended to instead of sharing Warden's
    ///   (the demo's processes must not write over the console).
    public static func spawn(_ arguments: [String], stderrPath: String? = nil) throws(SpawnError) -> ServerProcess {
        guard let command = arguments.first else { throw SpawnError(command: "(nothing)", reason: "no command given") }
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else {
            throw SpawnError(command: command, reason: String(cString: strerror(errno)))
        }
        // Close-on-exec everywhere: the child gets only the two ends dup2'd onto 0 and 1.
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        if let stderrPath { posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o600) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default signal handling and an empty mask, whatever Warden set up
        // for itself (it ignores SIGPIPE and catches SIGINT/SIGTERM to forward them).
        SpawnDefaults.apply(to: &attributes)

        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, command, &actions, &attributes, argv, environ)
        Glibc.close(toChild[0])
        Glibc.close(fromChild[1])
        guard rc == 0 else {
            Glibc.close(toChild[1])
            Glibc.close(fromChild[0])
            throw SpawnError(command: command, reason: String(cString: strerror(rc)))
        }
        return ServerProcess(pid: pid, stdinFD: toChild[1], stdoutFD: fromChild[0])
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
