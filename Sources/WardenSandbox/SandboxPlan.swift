import Foundation
import WardenCore

/// What the sandbox must keep from a server whatever the policy says: Warden's own state and
/// configuration, and the files through which a server could unwrap itself or change what the
/// operator decides. Collected by the `warden` command (it knows the client config files).
public struct ProtectedPaths: Sendable, Hashable {
    /// Hidden entirely: `$WARDEN_HOME` (socket, database, pins, controls, keys), the default home,
    /// `~/.config/warden` (config, themes), the user's runtime directory (session bus, systemd's
    /// user manager, agents: each a way to start a process outside the server's tree).
    public var hidden: [String]
    /// Visible read-only: MCP client config files and their backups, the policy file in force,
    /// the `warden` executable (a server that replaced it would run as the next relay).
    public var readOnly: [String]

    public init(hidden: [String], readOnly: [String]) {
        self.hidden = hidden
        self.readOnly = readOnly
    }
}

/// A server command turned into a bubblewrap command line, and the isolation it gives.
///
/// Mount order matters (later mounts cover earlier ones): the whole file system as it is, then a
/// new `/proc`, `/dev` and a private `/tmp`, then what the command names (its path arguments and
/// working directory, so `--repository /tmp/repo` still works), then policy's read-write and
/// read-only paths, and last what must be hidden or read-only whatever came before.
public struct SandboxPlan: Sendable, Equatable {
    /// `bwrap …options… -- command…`
    public var arguments: [String]
    /// The server's environment: Warden's own variables and the terminal multiplexer's removed.
    public var environment: [String]
    public var isolation: Isolation

    /// Variables a server never gets: they name Warden's state or the operator's terminal multiplexer.
    public static func isScrubbed(_ name: String) -> Bool {
        name.hasPrefix("WARDEN_") || ["TMUX", "TMUX_PANE", "TMUX_TMPDIR", "STY", "WINDOW", "ZELLIJ", "ZELLIJ_SESSION_NAME"].contains(name)
    }

    /// The environment with the scrubbed variables removed (also used for unsandboxed servers).
    public static func scrubbed(_ environment: [String: String]) -> [String] {
        environment.filter { !isScrubbed($0.key) }.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Builds the plan. `exists` tells directories from files (`nil` for missing paths, which are
    /// skipped: bubblewrap cannot mount over what is not there).
    public init(bwrap: String, command: [String], profile: SandboxProfile, protected: ProtectedPaths, environment: [String: String],
                workingDirectory: String, infoFD: Int32?, exists: (String) -> PathKind? = PathKind.of) {
        let userHome = environment["HOME"] ?? NSHomeDirectory()
        func expand(_ p: String) -> String {
            var path = p
            if path == "~" { path = userHome } else if path.hasPrefix("~/") { path = userHome + path.dropFirst(1) }
            // The real path: mounting over a symbolic link would leave its target visible.
            return URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        // Capabilities dropped explicitly: bubblewrap run by root keeps them otherwise, and a server
        // with CAP_SYS_ADMIN could unmount what hides Warden's state.
        var args = [bwrap, "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                    "--unshare-cgroup-try"]
        var measures = ["own pid namespace", "private /tmp", "new /dev/pts", "no capabilities, no new privileges",
                        "new session (no terminal injection)"]
        switch profile.network {
        case .offline:
            args.append("--unshare-net")
            measures.append("no network (own network namespace)")
        case .loopback:
            // The policy loader refuses it (a namespace cannot keep the host's loopback and drop
            // the rest); should one get here, give no network rather than all of it.
            args.append("--unshare-net")
            measures.append("no network (own network namespace)")
        case .allow:
            measures.append("network as the user's")
        }
        if let infoFD { args += ["--info-fd", String(infoFD)] }
        args += ["--bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]

        // What the user pointed the server at stays reachable: existing absolute paths among its
        // arguments (`/tmp/repo`, `--repository=/tmp/repo`) and its working directory.
        var named: [String] = [workingDirectory]
        for a in command.dropFirst() {
            let value = a.hasPrefix("-") ? (a.split(separator: "=", maxSplits: 1).dropFirst().first.map(String.init) ?? "") : a
            if value.hasPrefix("/") { named.append(value) }
        }
        var seen = Set<String>()
        func mount(_ option: String, _ path: String) {
            guard seen.insert(option + path).inserted else { return }
            args += [option, path, path]
        }
        // The program itself, when it lives under /tmp, read-only: the server runs it, it need not change it.
        if let program = command.first, program.hasPrefix("/tmp/"), exists(program) != nil { mount("--ro-bind", program) }
        for p in named.map(expand) where p.hasPrefix("/tmp/") && exists(p) != nil { mount("--bind", p) }
        for p in profile.readWrite.map(expand) where exists(p) != nil { mount("--bind", p) }
        for p in profile.readOnly.map(expand) where exists(p) != nil { mount("--ro-bind", p) }

        var hiddenCount = 0, readOnlyCount = 0
        for p in (protected.readOnly).map(expand) where exists(p) != nil {
            mount("--ro-bind", p)
            readOnlyCount += 1
        }
        for p in (protected.hidden + profile.hide).map(expand) {
            switch exists(p) {
            case .directory?: args += ["--tmpfs", p]
            case .file?: args += ["--ro-bind", "/dev/null", p]
            case nil: continue
            }
            hiddenCount += 1
        }
        measures.append("Warden's state and config hidden (\(hiddenCount) paths)")
        measures.append("client configs, policy and warden read-only (\(readOnlyCount) files)")
        if !profile.readOnly.isEmpty || !profile.readWrite.isEmpty || !profile.hide.isEmpty {
            measures.append("policy: \(profile.readOnly.count) read-only, \(profile.readWrite.count) read-write, \(profile.hide.count) hidden")
        }
        args += ["--chdir", workingDirectory, "--"] + command
        arguments = args
        self.environment = Self.scrubbed(environment)
        measures.append("Warden's variables removed")
        isolation = Isolation(mechanism: "bubblewrap", network: profile.network, measures: measures, unsandboxedReason: nil)
    }
}

/// Whether a path is a directory or a file (anything that is not a directory).
public enum PathKind: Sendable, Equatable {
    case directory, file

    /// What is at `path` now (following symbolic links), nil if nothing.
    public static func of(_ path: String) -> PathKind? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        return isDirectory.boolValue ? .directory : .file
    }
}
