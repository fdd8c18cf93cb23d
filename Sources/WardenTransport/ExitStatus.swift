#if canImport(Glibc)
import Glibc
#endif

/// How a server ended: a process's exit, or the end of a connection to a server Warden did not start.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    /// A connection Warden ended itself (why); the server itself said nothing of its end.
    case disconnected(String)

    /// From a `waitpid` status word.
    public init(waitStatus: Int32) {
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
        let low = waitStatus & 0x7F
        self = low == 0 ? .exited((waitStatus >> 8) & 0xFF) : .signaled(low)
    }

    /// The status Warden itself exits with: the server's code, or 128 + signal as shells report it.
    public var shellCode: Int32 {
        switch self {
        case .exited(let c): c
        case .signaled(let s): 128 + s
        case .disconnected: 1
        }
    }

    public var description: String {
        switch self {
        case .exited(let c): "exit status \(c)"
        case .signaled(let s): "signal \(s)\(Self.signalName(s).map { " (\($0))" } ?? "")"
        case .disconnected(let why): "disconnected: \(why)"
        }
    }

    static func signalName(_ s: Int32) -> String? {
        switch s {
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGPIPE: "SIGPIPE"
        default: nil
        }
    }
}
