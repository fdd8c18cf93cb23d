import ArgumentParser
import Foundation

/// The `warden` command line: wiring and presentation only; behaviour lives in the library targets.
@main
struct Warden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "A zero-trust security layer and operator console for the Model Context Protocol.",
        version: "0.1.0",
        subcommands: [DemoCommand.self, Install.self, Uninstall.self, Wrap.self, GatewayCommand.self, Hub.self, Console.self, Alerts.self, Incidents.self, Playbooks.self, Respond.self, DemoServerCommand.self, Scan.self, Registry.self, Sessions.self, Grants.self, Tools.self, Baselines.self, Events.self, Audit.self])

    /// Exit codes are part of the interface: 0 ok, 1 refused or not found, 2 usage or I/O error.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
