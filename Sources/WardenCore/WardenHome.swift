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

    /// The audit signing key (`keys/audit.key`, owner-only; the sandbox hides the whole home).
    public var auditKeyPath: String { path + "/keys/audit.key" }
    /// The signed audit chain head the hub rewrites after every change.
    public var auditHeadPath: String { path + "/audit.head" }

    /// Creates the directory and its spool (owner-only: they hold the hub's socket, the audit store
    /// and events), tightening them if they exist with a wider mode.
    public func prepare() throws {
        try PrivateFile.makeDirectory(path)
        try PrivateFile.makeDirectory(spoolPath)
    }
}
