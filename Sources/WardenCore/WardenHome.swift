import Foundation

/// Where Warden keeps its state: `$WARDEN_HOME`, else `~/.local/state/warden`.
public struct WardenHome: Sendable, Hashable {
    public let path: String

    public init(path: String) { self.path = path }

    /// The home in force for this process's environment.
    public static func current(environment: [String: String] = ProcessInfo.processInfo.environment) -> WardenHome {
        if let explicit = environment["WARDEN_HOME"], !explicit.isEmpty { return WardenHome(path: explicit) }
        let base = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.local/state")
        return WardenHome(path: base + "/warden")
    }

    public var socketPath: String { path + "/hub.sock" }
    public var spoolPath: String { path + "/spool" }
    public var pinsPath: String { path + "/pins" }
    public var policyPath: String { path + "/policy.yaml" }
    /// Operator rule suppressions (written by the hub, read by relays).
    public var suppressionsPath: String { path + "/suppressions.json" }

    /// Creates the directory (owner-only: it will hold the hub's socket and the audit store).
    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try FileManager.default.createDirectory(atPath: spoolPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
