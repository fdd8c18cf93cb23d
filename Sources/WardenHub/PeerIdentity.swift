import Foundation
import WardenCore
import WardenSystem

/// Who is on the other end of a hub connection, as the kernel reports it when it connects:
/// `SO_PEERCRED`'s uid and pid, and from `/proc` the process's start time (so a pid reused by a
/// later process is not taken for it), executable, terminal and pid namespace. Nothing here comes
/// from what the peer says about itself.
public struct PeerIdentity: Sendable, Hashable {
    public var uid: UInt32
    public var pid: Int32
    /// Clock ticks after boot; nil when the process was already gone.
    public var startTime: UInt64?
    public var executable: String?
    public var terminal: String?
    public var pidNamespace: String?

    /// Reads what the kernel says about `pid` now.
    public static func of(uid: UInt32, pid: Int32) -> PeerIdentity {
        let status = ProcessTable.status(pid)
        return PeerIdentity(uid: uid, pid: pid, startTime: status?.startTime, executable: ProcessTable.executable(pid),
                            terminal: status?.terminalPath, pidNamespace: ProcessTable.pidNamespace(pid))
    }

    /// The actor an audit record names: the kernel's facts first, a name the peer gave only as a
    /// label after them (`root (uid 0, pid 4242 warden, /dev/pts/3), label "alice"`).
    public func actor(label: String?) -> String {
        let user = Self.userName(uid) ?? "uid\(uid)"
        // The executable's name is the peer's choice (a binary can be named with escape sequences).
        let exe = executable.map { SafeText.escape(URL(fileURLWithPath: $0).lastPathComponent) } ?? "unknown executable"
        var text = "\(user) (uid \(uid), pid \(pid) \(exe), \(terminal ?? "no terminal"))"
        if let label = label.map(Self.cleanLabel), !label.isEmpty { text += ", label \"\(label)\"" }
        return text
    }

    /// A label as the audit keeps it: printable, one line, at most 64 characters.
    static func cleanLabel(_ label: String) -> String {
        String(SafeText.escape(label).prefix(64))
    }

    static func userName(_ uid: UInt32) -> String? {
        guard let pw = getpwuid(uid) else { return nil }
        return String(cString: pw.pointee.pw_name)
    }
}
