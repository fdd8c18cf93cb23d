import ArgumentParser

/// The `warden` command line: wiring only; every behaviour lives in the library targets.
@main
struct Warden: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warden",
        abstract: "A zero-trust security layer and operator console for the Model Context Protocol.",
        version: "0.1.0",
        subcommands: [Wrap.self])
}
