import ArgumentParser
import Foundation
import WardenCore
import WardenDetect
import WardenHubClient
import WardenProxy
import WardenTransport
import WardenSandbox
import WardenSetup

/// `warden wrap [--name NAME] [--policy FILE] -- CMD [ARGS…]`
struct Wrap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an MCP server behind Warden's enforcing relay (use in place of the server's command).",
        discussion: """
            Put this in front of a stdio MCP server's command in your client's configuration:
              warden wrap --name git -- uvx mcp-server-git --repository .
            Policy comes from --policy, else $WARDEN_HOME/policy.yaml, else the built-in default
            (read-only tools pass, destructive ones wait for an operator's grant).
            """)

    @Option(name: .long, help: "The server's name in policy, events and the console (default: the command's name).")
    var name: String?

    @Option(name: .long, help: "Policy file (YAML).")
    var policy: String?

    @Option(name: .long, help: "State directory (default: $WARDEN_HOME or ~/.local/state/warden).")
    var home: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between progress notifications for a held call.", visibility: .hidden))
    var progressInterval: Double = 5

    @Option(name: .long, help: ArgumentHelp("The largest message either side may send, in bytes (default 64 MiB).", visibility: .hidden))
    var maxMessage: Int?

    @Option(name: .long, help: "Connect to a server that is already running instead of starting one: http(s)://HOST:PORT/PATH (Streamable HTTP), unix:PATH or tcp:HOST:PORT (newline-delimited JSON-RPC).")
    var connect: String?

    @Option(name: .long, help: "Headers for an HTTP server, one `Name: value` per line, `${VAR}` read from the environment (authorisation; never on the command line). WARDEN_CONNECT_HEADERS may hold the same.")
    var headerFile: String?

    @Argument(parsing: .postTerminator, help: "The MCP server's command and arguments.")
    var command: [String] = []

    /// Headers for an HTTP server: from `--header-file`, then `WARDEN_CONNECT_HEADERS`.
    static func connectHeaders(file: String?) throws(ConnectHeaders.Problem) -> [(String, String)] {
        var headers: [(String, String)] = []
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ConnectHeaders.Problem(description: "cannot read \(file)") }
            headers += try ConnectHeaders.parse(text, source: file)
        }
        if let text = ProcessInfo.processInfo.environment["WARDEN_CONNECT_HEADERS"] {
            headers += try ConnectHeaders.parse(text, source: "WARDEN_CONNECT_HEADERS")
        }
        return headers
    }

    func validate() throws {
        if let connect {
            guard command.isEmpty else { throw ValidationError("give either --connect or a command after --, not both") }
            guard name != nil else { throw ValidationError("--connect needs --name: the server's name in policy, events and the console") }
            do { _ = try UpstreamTarget(connect) } catch { throw ValidationError(error.description) }
            return
        }
        guard !command.isEmpty else { throw ValidationError("give the server's command after --, e.g. warden wrap -- uvx mcp-server-time") }
    }

    func run() throws {
        let home = home.map(WardenHome.init(path:)) ?? WardenHome.current()
        let serverName = name ?? URL(fileURLWithPath: command.first ?? "server").lastPathComponent
        let policy: Policy
        do {
            policy = try Self.loadPolicy(explicit: self.policy, home: home)
        } catch {
            // Refuse to run rather than run with a policy other than the one the user wrote.
            Diagnostics.warn(server: serverName, "policy error: \(error). The server was not started.")
            throw ExitCode(2)
        }
        var config = RelayConfiguration(serverName: serverName, policy: policy)
        config.progressInterval = progressInterval
        if let maxMessage { config.maxFrame = max(4096, maxMessage) }
        config.suppressions = SuppressionFile(path: home.suppressionsPath)
        config.controlsPath = home.controlsPath
        if let requirement = policy.signatures {
            do { config.registry = try SignedRegistry.load(path: requirement.registry) } catch {
                // Fail closed: the relay then hides every tool of the servers the requirement covers.
                Diagnostics.warn(server: serverName, "signed registry unusable: \(error); tools that need signatures will be hidden")
            }
        }
        var runner = WrapRunner(config: config, command: command, home: home)
        // Already checked by validate().
        runner.connect = connect.flatMap { try? UpstreamTarget($0) }
        do {
            runner.connectHeaders = try Self.connectHeaders(file: headerFile)
        } catch {
            Diagnostics.warn(server: serverName, "\(error). The server was not reached.")
            throw ExitCode(2)
        }
        runner.protected = Self.protectedPaths(home: home, policy: self.policy)
        do {
            let code = try runner.run()
            throw ExitCode(code)
        } catch let error as SpawnError {
            Diagnostics.warn(server: serverName, error.description)
            throw ExitCode(127)
        }
    }

    /// What no wrapped server may change or see, whatever its policy: Warden's state, config and
    /// binary, the operator's terminal multiplexer and user services, and the client config files
    /// `warden install` manages (so a server cannot unwrap itself).
    static func protectedPaths(home: WardenHome, policy: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> ProtectedPaths {
        let userHome = environment["HOME"] ?? NSHomeDirectory()
        var defaultEnvironment = environment
        defaultEnvironment["WARDEN_HOME"] = nil
        let config = (environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? userHome + "/.config") + "/warden"
        let homes = [home.path, WardenHome.current(environment: defaultEnvironment).path]
        // A home that does not exist yet is created now, so it can be hidden: otherwise a server
        // could create it first and plant a policy the next relay would load.
        for path in homes { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]) }
        var hidden = homes + [config]
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { hidden.append(runtime) }
        hidden.append("/run/user/\(getuid())")
        if let dir = environment["TMUX_TMPDIR"], !dir.isEmpty { hidden.append(dir) }
        if let socket = environment["TMUX"]?.split(separator: ",").first, socket.hasPrefix("/") {
            hidden.append(URL(fileURLWithPath: String(socket)).deletingLastPathComponent().path)
        }
        let installer = ClientInstaller(home: home, userHome: userHome, project: FileManager.default.currentDirectoryPath)
        var readOnly = ClientInstaller.Client.allCases.flatMap(installer.candidates)
        readOnly += installer.records().flatMap { [$0.path, $0.backup] }
        readOnly.append(HubLauncher.executable)
        if let policy { readOnly.append(URL(fileURLWithPath: policy).path) }
        return ProtectedPaths(hidden: hidden, readOnly: readOnly)
    }

    static func loadPolicy(explicit: String?, home: WardenHome) throws(PolicyError) -> Policy {
        if let explicit { return try PolicyLoader.load(path: explicit) }
        if FileManager.default.fileExists(atPath: home.policyPath) { return try PolicyLoader.load(path: home.policyPath) }
        return .builtIn
    }
}
