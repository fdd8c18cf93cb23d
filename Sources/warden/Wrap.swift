import ArgumentParser
import Foundation
import WardenCore
import WardenDetect
import WardenProxy

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

    @Argument(parsing: .postTerminator, help: "The MCP server's command and arguments.")
    var command: [String] = []

    func validate() throws {
        guard !command.isEmpty else { throw ValidationError("give the server's command after --, e.g. warden wrap -- uvx mcp-server-time") }
    }

    func run() throws {
        let home = home.map(WardenHome.init(path:)) ?? WardenHome.current()
        let serverName = name ?? URL(fileURLWithPath: command[0]).lastPathComponent
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
        config.suppressions = SuppressionFile(path: home.suppressionsPath)
        config.controlsPath = home.controlsPath
        if let requirement = policy.signatures {
            do { config.registry = try SignedRegistry.load(path: requirement.registry) } catch {
                // Fail closed: the relay then hides every tool of the servers the requirement covers.
                Diagnostics.warn(server: serverName, "signed registry unusable: \(error); tools that need signatures will be hidden")
            }
        }
        let runner = WrapRunner(config: config, command: command, home: home)
        do {
            let code = try runner.run()
            throw ExitCode(code)
        } catch let error as SpawnError {
            Diagnostics.warn(server: serverName, error.description)
            throw ExitCode(127)
        }
    }

    static func loadPolicy(explicit: String?, home: WardenHome) throws(PolicyError) -> Policy {
        if let explicit { return try PolicyLoader.load(path: explicit) }
        if FileManager.default.fileExists(atPath: home.policyPath) { return try PolicyLoader.load(path: home.policyPath) }
        return .builtIn
    }
}
