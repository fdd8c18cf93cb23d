import ArgumentParser
import Foundation
import WardenConsole
import WardenCore
import WardenHub

/// `warden console`: the operator's terminal UI over the hub (started if none is running).
struct Console: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The operator console: live sessions, pending grants, flagged tools, alerts, playbooks, audit.",
        discussion: "Keys are listed in the footer and on the ? screen. NO_COLOR turns colour off; TERM=dumb is refused (use the CLI commands).")

    @Option(name: .long, help: "State directory (default: $WARDEN_HOME or ~/.local/state/warden).")
    var home: String?

    @Option(help: "Theme: default, high-contrast, solarized-dark, mono, or a file in $XDG_CONFIG_HOME/warden/themes/NAME.yaml (default: console.theme in config.yaml).")
    var theme: String?

    @Flag(help: "Take mouse clicks and the scroll wheel.")
    var mouse = false

    @Option(help: "The view to open on: sessions, grants, tools, alerts, playbooks, audit.")
    var view: String = "sessions"

    func run() throws {
        let wardenHome = home.map(WardenHome.init(path:)) ?? WardenHome.current()
        let config: HubConfig
        do { config = try HubConfig.load(path: wardenHome.path + "/config.yaml") } catch {
            CLI.fail("\(error)", code: 2)
        }
        guard let start = ViewID.allCases.first(where: { $0.command == view }) else {
            CLI.fail("--view must be one of \(ViewID.allCases.map(\.command).joined(separator: ", "))", code: 2)
        }
        let (chosen, problem) = Theme.load(named: theme ?? config.consoleTheme ?? "default")
        let environment = ProcessInfo.processInfo.environment
        let color = (environment["NO_COLOR"] ?? "").isEmpty && chosen.name != "mono"
        let screen: NcursesScreen
        do {
            screen = try NcursesScreen(theme: chosen, color: color, mouse: mouse || config.consoleMouse)
        } catch {
            CLI.fail(error.description, code: 2)
        }
        let app = ConsoleApp(home: wardenHome, screen: screen, startView: start, bell: config.consoleBell)
        let status = app.run(initialMessage: problem)
        if status != 0 { throw ExitCode(status) }
    }
}
