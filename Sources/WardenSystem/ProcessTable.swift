import CWardenSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One process as `/proc/PID/stat` shows it. `startTime` (clock ticks after boot) tells a process
/// from a later one that reused its pid.
public struct ProcessStatus: Sendable, Hashable {
    public var pid: Int32
    public var parent: Int32
    public var command: String
    /// The controlling terminal's device number (0 for none).
    public var terminal: UInt32
    public var startTime: UInt64

    /// The terminal as a path (`/dev/pts/3`), nil when it has none.
    public var terminalPath: String? {
        guard terminal != 0 else { return nil }
        let major = (terminal >> 8) & 0xFFF, minor = (terminal & 0xFF) | ((terminal >> 12) & 0xFFF00)
        switch major {
        case 136...143: return "/dev/pts/\((major - 136) * 256 + minor)"
        case 4: return minor < 64 ? "/dev/tty\(minor)" : "/dev/ttyS\(minor - 64)"
        default: return "device \(major):\(minor)"
        }
    }
}

/// Reads the kernel's process table (`/proc`). Every answer is what the kernel says now; a process
/// can change its own command line, but not its parent, its start time or another process's facts.
public enum ProcessTable {
    /// `/proc/PID/stat`, nil when the process is gone (or this is not Linux).
    public static func status(_ pid: Int32) -> ProcessStatus? {
        guard let text = read("/proc/\(pid)/stat", limit: 4096) else { return nil }
        // The command is in parentheses and may itself contain ") ": the fields start after the last one.
        guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state(0) ppid(1) pgrp(2) session(3) tty_nr(4) … starttime(19).
        guard fields.count > 19, let parent = Int32(fields[1]), let tty = Int32(fields[4]), let start = UInt64(fields[19]) else { return nil }
        return ProcessStatus(pid: pid, parent: parent, command: String(text[text.index(after: open)..<close]),
                             terminal: UInt32(bitPattern: tty), startTime: start)
    }

    /// The chain from `pid` up to the first process (its own entry first), at most `limit` long.
    public static func ancestry(_ pid: Int32, limit: Int = 256) -> [ProcessStatus] {
        var chain: [ProcessStatus] = []
        var next = pid
        while next > 0, chain.count < limit, let s = status(next) {
            chain.append(s)
            if s.parent == next { break }
            next = s.parent
        }
        return chain
    }

    /// The argument vector (`/proc/PID/cmdline`); empty when unreadable.
    public static func arguments(_ pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
    }

    /// The executable's path, nil when the kernel will not say (another user's process, or one
    /// that made itself undumpable).
    public static func executable(_ pid: Int32) -> String? { link("/proc/\(pid)/exe") }

    /// The pid namespace (`pid:[4026531836]`), nil when the kernel will not say.
    public static func pidNamespace(_ pid: Int32) -> String? { link("/proc/\(pid)/ns/pid") }

    /// Every live process's status.
    public static func all() -> [ProcessStatus] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return names.compactMap { Int32($0).flatMap(status) }
    }

    /// Every descendant of `root` (not `root` itself), parents before children.
    public static func descendants(of root: Int32) -> [Int32] {
        var children: [Int32: [Int32]] = [:]
        for s in all() { children[s.parent, default: []].append(s.pid) }
        var out: [Int32] = []
        var queue = children[root] ?? []
        while let next = queue.first {
            queue.removeFirst()
            out.append(next)
            queue += children[next] ?? []
        }
        return out
    }

    static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func read(_ path: String, limit: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}

/// Process-wide hardening switches (`prctl(2)`); each returns whether the kernel accepted it.
public enum ProcessHardening {
    /// Orphaned descendants come back to this process instead of init, so a server that double-forks
    /// stays inside its relay's tree.
    @discardableResult public static func becomeChildSubreaper() -> Bool { warden_set_child_subreaper() == 0 }
    /// Same-uid processes (a wrapped server) can no longer ptrace this one or read its memory.
    @discardableResult public static func forbidTracing() -> Bool { warden_set_not_dumpable() == 0 }
    /// Nothing this process starts can gain privileges through a set-uid or file-capability exec.
    @discardableResult public static func noNewPrivileges() -> Bool { warden_set_no_new_privs() == 0 }
}

/// What a spawned child inherits.
public enum SpawnDescriptors {
    /// The child closes every descriptor from `from` up, whatever close-on-exec says; false where
    /// the C library cannot (then the caller must not rely on it).
    @discardableResult public static func closeFrom(_ from: Int32, in actions: inout posix_spawn_file_actions_t) -> Bool {
        warden_spawn_close_from(&actions, from) == 0
    }
}

/// Finds programs as `execvp(3)` would.
public enum ExecutableSearch {
    /// `name` as given when it contains a slash (relative to `cwd`), else the first executable
    /// regular file of that name in the directories of `path` (an empty entry is `cwd`).
    public static func find(_ name: String, path: String, cwd: String) -> String? {
        if name.contains("/") {
            let full = name.hasPrefix("/") ? name : cwd + "/" + name
            return access(full, X_OK) == 0 ? full : nil
        }
        for dir in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? cwd : String(dir)) + "/" + name
            var s = stat()
            if access(candidate, X_OK) == 0, stat(candidate, &s) == 0, (s.st_mode & S_IFMT) == S_IFREG { return candidate }
        }
        return nil
    }
}

/// The one place a Unix stream socket is connected by path (hub clients, test peers).
public enum UnixSocket {
    /// A connected, close-on-exec descriptor, or the reason there is none.
    public static func connect(path: String) -> Result<Int32, ConnectError> {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failure(ConnectError(reason: String(cString: strerror(errno)))) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else {
            close(fd)
            return .failure(ConnectError(reason: "socket path longer than \(capacity - 1) bytes"))
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(ConnectError(reason: reason))
        }
        return .success(fd)
    }

    /// Why a connection failed, in `strerror` words.
    public struct ConnectError: Error, Sendable {
        public var reason: String
    }
}
