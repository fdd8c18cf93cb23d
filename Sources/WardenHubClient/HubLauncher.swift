import Foundation
import Synchronization
import WardenCore
import WardenProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Starts a hub in the background when none answers, like a tmux server: detached in its own
/// session, stdin from /dev/null, output appended to `$WARDEN_HOME/hub.log`.
public enum HubLauncher {
    /// Whether auto-start is allowed in this environment (`WARDEN_NO_AUTOSTART=1` turns it off).
    public static var autoStartEnabled: Bool { ProcessInfo.processInfo.environment["WARDEN_NO_AUTOSTART"] != "1" }

    /// The `warden` binary to run as the hub: this process's own executable.
    public static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Connects to the hub for `home`, starting it first if nothing answers (unless `autoStart` is
    /// false). Blocks up to `timeout` seconds while a new hub comes up: call from a thread that may block.
    public static func connect(home: WardenHome, autoStart: Bool = autoStartEnabled, timeout: Double = 5,
                               onNotification: @escaping @Sendable (String, JSONValue) -> Void = { _, _ in }) throws(HubError) -> HubConnection {
        if let c = try? HubConnection.connect(path: home.socketPath, onNotification: onNotification) { return c }
        guard autoStart else { throw .unreachable(path: home.socketPath, reason: "no hub is running (auto-start is off)") }
        spawn(home: home)
        let deadline = Date().addingTimeInterval(timeout)
        var last: HubError = .unreachable(path: home.socketPath, reason: "the hub did not start; see \(home.path)/hub.log")
        while Date() < deadline {
            do { return try HubConnection.connect(path: home.socketPath, onNotification: onNotification) } catch { last = error }
            usleep(20_000)
        }
        throw last
    }

    /// Hubs this process started: a relay that reaps its server's orphans must leave these alone.
    public static let spawned = Mutex<Set<pid_t>>([])

    /// Spawns `warden hub --home HOME` detached. A second hub for the same home exits at once
    /// (the lock file), so racing launchers are harmless.
    @discardableResult
    public static func spawn(home: WardenHome) -> Bool {
        try? home.prepare()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let log = home.path + "/hub.log"
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own session: the hub outlives the client that started it and ignores its terminal's signals.
        SpawnDefaults.apply(to: &attributes, flags: SpawnDefaults.newSession)
        let args = [executable, "hub", "--home", home.path]
        let argv = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, executable, &actions, &attributes, argv, environ) == 0 else { return false }
        spawned.withLock { _ = $0.insert(pid) }
        return true
    }
}
