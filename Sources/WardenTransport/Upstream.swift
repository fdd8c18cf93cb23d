import Foundation
import Synchronization
import WardenCore
import WardenProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Where the relay's server is, as `WrapRunner` drives it: a child on pipes, or a server Warden
/// connects to. The relay itself only sees whole lines in (`serverFrame`) and writes whole lines out
/// (`output`); an upstream owns the bytes in between, and the end of the conversation.
public protocol Upstream: Sendable {
    /// The server's process id, or 0 when Warden did not start it.
    var pid: Int32 { get }
    /// What the relay writes to the server.
    var output: any MessageOutput { get }
    /// Reads the server's messages until it is gone, frame by frame. Blocks: run it on its own thread.
    func pump(maxFrame: Int, _ deliver: (LineFramer.Frame) -> Void)
    /// The client has gone: the server reads no more (its stdin closed, the socket half-closed).
    func closeInput()
    /// Asks the server to end (SIGTERM to a child; a connection is closed).
    func terminate()
    /// Ends it now (SIGKILL to a child; a connection is closed).
    func kill()
    /// Passes a signal Warden received on (a child gets it; a connection is closed by the ending ones).
    func forward(signal: Int32)
    /// Blocks until the server is gone; how it ended.
    func wait() -> ExitStatus
}

/// A stdio server Warden started (possibly inside its sandbox).
public final class ProcessUpstream: Upstream {
    public let process: ServerProcess
    private let stdin: FileDescriptorOutput

    public init(_ process: ServerProcess) {
        self.process = process
        stdin = FileDescriptorOutput(fd: process.stdinFD)
    }

    public var pid: Int32 { process.pid }
    public var output: any MessageOutput { stdin }
    public func pump(maxFrame: Int, _ deliver: (LineFramer.Frame) -> Void) { LineFramer.readAll(fd: process.stdoutFD, maxFrame: maxFrame, deliver) }
    public func closeInput() { stdin.close() }
    public func terminate() { process.signal(SIGTERM) }
    public func kill() { process.signal(SIGKILL) }
    public func forward(signal: Int32) { process.signal(signal) }
    public func wait() -> ExitStatus { process.wait() }
}

/// Where `warden wrap --connect` finds its server.
public enum UpstreamTarget: Sendable, Equatable, CustomStringConvertible {
    /// `unix:/path/to/sock`: newline-delimited JSON-RPC over a Unix stream socket.
    case unix(path: String)
    /// `tcp:HOST:PORT` (`tcp:[::1]:PORT` for IPv6): newline-delimited JSON-RPC over TCP.
    case tcp(host: String, port: UInt16)
    /// `http://…` or `https://…`: the MCP endpoint of a Streamable HTTP server.
    case http(url: String)

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a `--connect` value.
    public init(_ text: String) throws(ParseError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw ParseError(description: "unix: needs a socket path (unix:/run/user/1000/mcp.sock)") }
            guard path.utf8.count < 108 else { throw ParseError(description: "the socket path is longer than a Unix socket address holds (107 bytes)") }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp:") {
            let rest = text.dropFirst(4)
            let host: Substring, port: Substring
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix(":") else {
                    throw ParseError(description: "write an IPv6 address in brackets: tcp:[::1]:8080")
                }
                host = rest[rest.index(after: rest.startIndex)..<close]
                port = rest[rest.index(close, offsetBy: 2)...]
            } else {
                guard let colon = rest.lastIndex(of: ":") else { throw ParseError(description: "tcp: needs HOST:PORT (tcp:127.0.0.1:8080)") }
                host = rest[..<colon]
                port = rest[rest.index(after: colon)...]
            }
            guard !host.isEmpty, let number = UInt16(port), number > 0 else { throw ParseError(description: "tcp: needs HOST:PORT with a port from 1 to 65535") }
            self = .tcp(host: String(host), port: number)
        } else if text.hasPrefix("http://") || text.hasPrefix("https://") {
            guard let url = URL(string: text), let host = url.host, !host.isEmpty, url.user == nil, url.password == nil else {
                throw ParseError(description: "not a URL with a host: \(SafeText.escape(text)) (credentials go in a header file, never in the URL)")
            }
            self = .http(url: text)
        } else {
            throw ParseError(description: "--connect takes http(s)://HOST[:PORT]/PATH, unix:PATH or tcp:HOST:PORT, not \(SafeText.escape(text))")
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        case .http(let url): url
        }
    }
}

/// A server on a stream socket, spoken to in newline-delimited JSON-RPC as a stdio server is.
public final class SocketUpstream: Upstream {
    private let fd: Int32
    private let out: SocketOutput
    private let done = DispatchSemaphore(value: 0)
    /// Why the conversation ended, once it has: set by whoever ends it first.
    private let ending = Mutex<ExitStatus?>(nil)
    public let target: UpstreamTarget

    private init(fd: Int32, target: UpstreamTarget) {
        self.fd = fd
        self.target = target
        out = SocketOutput(fd: fd)
    }

    /// Connects, or says why not (refused, no such socket, a name that does not resolve).
    public static func connect(_ target: UpstreamTarget) throws(SpawnError) -> SocketUpstream {
        switch target {
        case .http:
            throw SpawnError(command: target.description, reason: "an HTTP endpoint is reached by HTTPUpstream, not a socket")
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SpawnError(command: target.description, reason: String(cString: strerror(errno))) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let rc = withUnsafePointer(to: &address) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else {
                let why = String(cString: strerror(errno))
                Glibc.close(fd)
                throw SpawnError(command: target.description, reason: why)
            }
            return SocketUpstream(fd: fd, target: target)
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            var found: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &found)
            guard rc == 0, let first = found else { throw SpawnError(command: target.description, reason: String(cString: gai_strerror(rc))) }
            defer { freeaddrinfo(first) }
            var why = "no address"
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let a = entry {
                let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
                if fd >= 0 {
                    if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                        // Messages are small and interactive: no Nagle delay on each one.
                        var one: Int32 = 1
                        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                        return SocketUpstream(fd: fd, target: target)
                    }
                    why = String(cString: strerror(errno))
                    Glibc.close(fd)
                }
                entry = a.pointee.ai_next
            }
            throw SpawnError(command: target.description, reason: why)
        }
    }

    public var pid: Int32 { 0 }
    public var output: any MessageOutput { out }

    public func pump(maxFrame: Int, _ deliver: (LineFramer.Frame) -> Void) {
        LineFramer.readAll(fd: fd, maxFrame: maxFrame, deliver)
        // The server closed its side, or the connection broke: either way the session is over. After
        // the client left that is the ordinary end; before, the server went away mid-session.
        end(inputClosed.load(ordering: .acquiring) ? .exited(0) : .disconnected("the server closed the connection"))
        out.shutdown(Int32(SHUT_RDWR))
        done.signal()
    }

    private let inputClosed = Atomic<Bool>(false)

    public func closeInput() {
        inputClosed.store(true, ordering: .releasing)
        out.shutdown(Int32(SHUT_WR))
    }

    public func terminate() { end(.disconnected("closed by Warden")); out.shutdown(Int32(SHUT_RDWR)) }
    public func kill() { terminate() }

    public func forward(signal: Int32) {
        // A remote server is not Warden's to signal: an ending signal ends the connection instead.
        end(.signaled(signal))
        out.shutdown(Int32(SHUT_RDWR))
    }

    public func wait() -> ExitStatus {
        done.wait()
        done.signal()
        Glibc.close(fd)
        return ending.withLock { $0 } ?? .exited(0)
    }

    private func end(_ status: ExitStatus) { ending.withLock { if $0 == nil { $0 = status } } }
}

/// Writes whole lines to a socket; half-closes it when the client has gone.
final class SocketOutput: MessageOutput {
    private let fd: Mutex<Int32>
    init(fd: Int32) { self.fd = Mutex(fd) }

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        fd.withLock { fd in fd >= 0 && FileDescriptorIO.writeAll(fd: fd, bytes) }
    }

    /// After a write in progress; the descriptor stays open for the reader (closed by `wait`).
    func shutdown(_ how: Int32) {
        fd.withLock { fd in
            if fd >= 0 { _ = Glibc.shutdown(fd, how) }
            if how != Int32(SHUT_WR) { fd = -1 }
        }
    }
}

/// Headers for an HTTP server (authorisation), from a file or the environment, never the command
/// line (where every user of the machine can read them): `Name: value`, one per line; `#` starts a
/// comment.
public enum ConnectHeaders {
    public struct Problem: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Reads `Name: value` lines. A value may name environment variables as `${VAR}` or
    /// `${env:VAR}` (the spellings clients use in their configs, so `warden install` can move a
    /// header as it was written); one that is not set is an error, not an empty header.
    public static func parse(_ text: String, source: String,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws(Problem) -> [(String, String)] {
        var headers: [(String, String)] = []
        for (n, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else { throw Problem(description: "\(source):\(n + 1): expected Name: value") }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let written = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            let value = try expand(written, environment: environment, at: "\(source):\(n + 1)")
            guard HeaderField.isName(name) else { throw Problem(description: "\(source):\(n + 1): not a header name") }
            guard HeaderField.isValue(value) else {
                throw Problem(description: "\(source):\(n + 1): the value of \(name) holds control characters")
            }
            let managed = ["mcp-session-id", "mcp-protocol-version", "content-type", "accept", "last-event-id", "host", "content-length"]
            guard !managed.contains(name.lowercased()) else { throw Problem(description: "\(source):\(n + 1): \(name) is Warden's to set") }
            headers.append((name, value))
        }
        return headers
    }

    static func expand(_ value: String, environment: [String: String], at place: String) throws(Problem) -> String {
        var out = ""
        var rest = Substring(value)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { throw Problem(description: "\(place): an unclosed ${") }
            var name = String(rest[open.upperBound..<close])
            if name.hasPrefix("env:") { name.removeFirst(4) }
            guard let set = environment[name] else { throw Problem(description: "\(place): the header names ${\(name)}, which is not set in the environment") }
            out += set
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}
