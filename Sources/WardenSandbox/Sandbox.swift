import Foundation
import WardenCore
import WardenSystem

/// How a server will be launched: under bubblewrap, or as it is (and why).
public enum SandboxPreparation: Sendable, Equatable {
    case sandboxed(SandboxPlan)
    /// Isolation is off or not available here. `fatal` when policy requires it (`required: true`):
    /// the server must then not be started at all.
    case unsandboxed(Isolation, fatal: Bool)
}

/// Chooses isolation for a server from its profile and what this system offers.
public enum Sandbox {
    /// The descriptor bubblewrap writes its `{"child-pid": N}` to once the sandbox is set up; the
    /// launcher maps its pipe here.
    public static let infoFD: Int32 = 3

    /// `bwrap` on `PATH`, if any (Debian's `bubblewrap` package).
    public static func bubblewrap(environment: [String: String]) -> String? {
        #if os(Linux)
        return ExecutableSearch.find("bwrap", path: environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin", cwd: "/")
        #else
        return nil
        #endif
    }

    /// What to do for `command` under `profile`.
    public static func prepare(command: [String], profile: SandboxProfile, protected: ProtectedPaths, environment: [String: String],
                               workingDirectory: String) -> SandboxPreparation {
        guard profile.enabled else {
            return .unsandboxed(.unsandboxed("the policy turns the sandbox off (sandbox: enabled: false)"), fatal: false)
        }
        #if os(Linux)
        guard let bwrap = bubblewrap(environment: environment) else {
            return .unsandboxed(.unsandboxed("bubblewrap (bwrap) is not installed; on Debian: apt-get install bubblewrap"), fatal: profile.required)
        }
        return .sandboxed(SandboxPlan(bwrap: bwrap, command: command, profile: profile, protected: protected, environment: environment,
                                      workingDirectory: workingDirectory, infoFD: infoFD))
        #else
        return .unsandboxed(.unsandboxed("no sandbox on this system (bubblewrap needs Linux)"), fatal: profile.required)
        #endif
    }

    /// Reads bubblewrap's info descriptor to its end: the sandboxed child's pid (as this process
    /// sees it) once the sandbox exists, nil when bubblewrap gave up before that. Blocks.
    public static func readChildPID(fd: Int32) -> Int32? {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 512)
        while data.count < 4096 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        guard let value = try? JSONParser.parse(data), let pid = value["child-pid"]?.intValue, pid > 0, pid <= Int(Int32.max) else { return nil }
        return Int32(pid)
    }
}

/// Outbound attempts in a network namespace, from its kernel counters (`/proc/PID/net/snmp` and
/// `snmp6`): connections opened (`Tcp ActiveOpens`, which in a namespace with no network only
/// loopback ones reach) and sends that found no route (`OutNoRoutes`, IPv4 and IPv6). Readable
/// from outside while any process of the namespace lives.
public enum NetworkAttempts {
    public static func count(pid: Int32) -> Int? {
        guard let snmp = try? String(contentsOfFile: "/proc/\(pid)/net/snmp", encoding: .utf8) else { return nil }
        let lines = snmp.split(separator: "\n")
        var total = 0
        // Each protocol is two lines: its counters' names, then their values.
        for i in stride(from: 0, to: lines.count - 1, by: 2) where lines[i].hasPrefix("Ip:") || lines[i].hasPrefix("Tcp:") {
            let names = lines[i], values = lines[i + 1]
            let table = Dictionary(zip(names.split(separator: " ").dropFirst().map(String.init), values.split(separator: " ").dropFirst().map(String.init))) { a, _ in a }
            if names.hasPrefix("Ip:"), let n = table["OutNoRoutes"].flatMap(Int.init) { total += n }
            if names.hasPrefix("Tcp:"), let n = table["ActiveOpens"].flatMap(Int.init) { total += n }
        }
        if let snmp6 = try? String(contentsOfFile: "/proc/\(pid)/net/snmp6", encoding: .utf8) {
            for line in snmp6.split(separator: "\n") where line.hasPrefix("Ip6OutNoRoutes") {
                total += line.split(separator: " ").last.flatMap { Int($0) } ?? 0
            }
        }
        return total
    }
}
