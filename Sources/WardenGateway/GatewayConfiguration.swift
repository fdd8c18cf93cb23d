import Foundation
import WardenCore

/// What `warden gateway` serves and how it guards the door.
public struct GatewayConfiguration: Sendable {
    /// Where the gateway listens (`--listen HOST:PORT`; port 0 picks a free one).
    public var listen: ListenAddress
    /// The server's name in policy, events and the console; every session's `warden wrap --name`.
    public var serverName: String
    /// The path clients POST to (the MCP endpoint); anything else is 404.
    public var path = "/mcp"
    /// What each session's `warden wrap` runs: a command (one child server per session) or
    /// `--connect URL` (one upstream MCP session per gateway session).
    public var upstream: Upstream
    /// Options passed on to every `warden wrap` (`--policy`, `--home`, `--header-file`, …).
    public var wrapOptions: [String] = []
    /// The bearer token every request must carry; nil only with `--no-auth` on a loopback bind.
    public var token: String?
    /// `Origin` values accepted besides the gateway's own loopback origins.
    public var allowedOrigins: Set<String> = []
    /// A bind outside loopback was asked for explicitly (`--allow-remote`): `Host` is not checked.
    public var allowRemote = false
    /// Sessions served at once; more are refused with 503 (each is a process, or two).
    public var maxSessions = 256
    /// The largest request body, in bytes.
    public var maxMessage = 64 << 20
    /// A session with no request and no open stream for this long is ended.
    public var idleTimeout: Double = 1800
    /// Seconds between SSE keep-alive comments on open streams.
    public var keepAlive: Double = 15
    /// The `warden` binary each session runs.
    public var executable: String

    public enum Upstream: Sendable, Equatable {
        case command([String])
        case connect(String)
    }

    public init(listen: ListenAddress, serverName: String, upstream: Upstream, executable: String) {
        self.listen = listen
        self.serverName = serverName
        self.upstream = upstream
        self.executable = executable
    }

    /// The `warden wrap` command line one session runs.
    public var wrapArguments: [String] {
        var arguments = [executable, "wrap", "--name", serverName] + wrapOptions
        switch upstream {
        case .command(let command): arguments += ["--"] + command
        case .connect(let url): arguments += ["--connect", url]
        }
        return arguments
    }
}

/// A `--listen` value: `HOST:PORT`, `[IPv6]:PORT`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(_ text: String) throws(ParseError) {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ParseError(description: "write an IPv6 address in brackets: --listen [::1]:8765")
            }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ParseError(description: "--listen takes HOST:PORT, e.g. 127.0.0.1:8765") }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (0...65535).contains(number) else {
            throw ParseError(description: "--listen takes HOST:PORT with a port from 0 (any free one) to 65535, not \(SafeText.escape(text))")
        }
        self.host = String(host)
        self.port = number
    }

    /// Only this machine can reach it: 127.0.0.0/8, ::1, or `localhost`.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The gateway's bearer token: read from its owner-only file, or generated into it.
public enum GatewayToken {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// `$WARDEN_HOME/gateway/NAME.token`.
    public static func defaultPath(home: WardenHome, serverName: String) -> String {
        home.path + "/gateway/" + serverName + ".token"
    }

    /// The token in `path`, made there first if there is none. A file others can read is not a
    /// secret any more: it is refused, not silently used. The file is opened once (no symbolic
    /// link followed) and judged by what was opened. `makeDirectory`: create (and keep owner-only)
    /// its directory — for Warden's own `$WARDEN_HOME/gateway`, never for a directory the user named,
    /// whose mode is theirs (`/tmp` must not become 0700).
    public static func load(path: String, makeDirectory: Bool = true) throws(Problem) -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd >= 0 {
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw Problem(description: "\(path) is not a regular file") }
            guard info.st_uid == getuid() else { throw Problem(description: "\(path) belongs to another user") }
            guard info.st_mode & 0o077 == 0 else {
                throw Problem(description: "\(path) can be read by others (mode \(String(info.st_mode & 0o777, radix: 8))); remove it and a new token is made, or chmod 600 it")
            }
            var bytes = [UInt8](repeating: 0, count: 4096)
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n >= 0 else { throw Problem(description: "cannot read \(path)") }
            let token = String(decoding: bytes[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.utf8.count >= 16, token.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
                throw Problem(description: "\(path) does not hold a token (16 or more visible ASCII characters)")
            }
            return token
        }
        guard errno == ENOENT else {
            throw Problem(description: errno == ELOOP ? "\(path) is not a regular file" : "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        let token = RandomHex.make(bytes: 32)
        do {
            if makeDirectory { try PrivateFile.makeDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path) }
            try PrivateFile.write(Array((token + "\n").utf8), to: path)
        } catch {
            throw Problem(description: error.description)
        }
        return token
    }
}
