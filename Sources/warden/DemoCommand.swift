import ArgumentParser
import Foundation
import WardenDemo
import WardenHubClient

/// `warden demo`: the whole job, live, with nothing to configure.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "A live demo: a hub, four MCP servers behind warden wrap, an agent with attacks, and the console on it.",
        discussion: "Approve or deny the agent's held deletions in the Grants view (2, then a or d). Quit with q; everything started is stopped.")

    @Flag(help: "Narrate the run as text with a scripted operator instead of opening the console (for CI and terminals without a UI).")
    var headless = false

    @Flag(help: "Keep the demo's state directory (printed at the start).")
    var keep = false

    @Option(help: "Use this directory for the demo's state (implies nothing else; combine with --keep to inspect it).")
    var home: String?

    @Option(help: "Seconds between the agent's calls.")
    var pace: Double?

    @Option(help: "Console theme.")
    var theme = "default"

    func run() throws {
        var options = Demo.Options()
        options.headless = headless
        options.keep = keep
        options.home = home
        options.pace = pace ?? (headless ? 0.4 : 2.0)
        options.theme = theme
        let demo: Demo
        do { demo = try Demo(options: options, warden: HubLauncher.executable) } catch {
            CLI.fail("cannot prepare the demo's state: \(error)", code: 2)
        }
        let status = demo.run()
        if status != 0 { throw ExitCode(status) }
    }
}

/// `warden demo-server NAME`: one of the demo's MCP servers on stdio (started by `warden demo`).
struct DemoServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo-server", abstract: "A demo MCP server on stdio (notes, weather, calendar, files).",
                                                    shouldDisplay: false)

    @Argument(help: "notes, weather, calendar or files") var name: String

    func validate() throws {
        guard DemoServer.names.contains(name) else { throw ValidationError("name must be one of \(DemoServer.names.joined(separator: ", "))") }
    }

    func run() throws { DemoServer(name: name).serve() }
}
