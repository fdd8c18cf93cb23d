import ArgumentParser
import Foundation
import WardenCore
import WardenHubClient
import WardenSetup

/// Options install and uninstall share.
struct ClientSelection: ParsableArguments {
    @Option(help: "claude-desktop, cursor, vscode, claude-code or all.") var client: String = "all"
    @Option(help: "A config file to change instead of looking for the clients' (repeatable).") var config: [String] = []
    @Option(help: "Project directory for project-level files (.mcp.json, .cursor/mcp.json, .vscode/mcp.json).") var project: String?
    @Flag(help: "Show what would change; change nothing.") var dryRun = false
    @Option(name: .long, help: "State directory (default: $WARDEN_HOME or ~/.local/state/warden).") var home: String?

    var installer: ClientInstaller {
        let env = ProcessInfo.processInfo.environment
        #if os(macOS)
        let mac = true
        #else
        let mac = false
        #endif
        return ClientInstaller(home: home.map(WardenHome.init(path:)) ?? WardenHome.current(), userHome: env["HOME"] ?? NSHomeDirectory(),
                               project: project ?? FileManager.default.currentDirectoryPath, isMac: mac)
    }

    func files() throws -> [String] {
        if !config.isEmpty { return config }
        let clients: [ClientInstaller.Client]
        if client == "all" { clients = ClientInstaller.Client.allCases } else {
            guard let c = ClientInstaller.Client(rawValue: client) else { throw ValidationError("--client must be claude-desktop, cursor, vscode, claude-code or all") }
            clients = [c]
        }
        let found = installer.files(clients).map(\.1)
        if found.isEmpty {
            print("no MCP config files found for \(client); looked in:")
            for c in clients { for p in installer.candidates(c) { print("  \(p)") } }
        }
        return found
    }
}

/// `warden install`: every stdio MCP server of your clients runs through `warden wrap`.
struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Put warden wrap in front of the MCP servers in your clients' configs: stdio commands, and Streamable HTTP urls through wrap --connect (backup, diff, idempotent).")
    @OptionGroup var selection: ClientSelection
    @Option(help: "The warden binary the configs should run (default: this one).") var warden: String?

    func run() throws {
        let binary = warden ?? HubLauncher.executable
        var failed = false
        for path in try selection.files() {
            do {
                let r = try selection.installer.install(path: path, warden: binary, dryRun: selection.dryRun)
                print("\(SafeText.escape(path)):")
                for c in r.changes {
                    switch c {
                    case .wrapped(let name, let command): print("  \(selection.dryRun ? "would wrap" : "wrapped") \(SafeText.escape(name)): \(SafeText.escape(command))")
                    case .alreadyWrapped(let name): print("  \(SafeText.escape(name)): already runs through warden wrap")
                    case .connected(let name, let url, let headerFile):
                        let headers = headerFile.map { "; its headers \(selection.dryRun ? "would move" : "moved") to \(SafeText.escape($0)) (owner-only)" } ?? ""
                        print("  \(selection.dryRun ? "would connect" : "connected") \(SafeText.escape(name)): warden wrap --connect \(SafeText.escape(url))\(headers)")
                    case .skipped(let name, let why): print("  \(SafeText.escape(name)): skipped (\(why))")
                    }
                }
                for line in r.diff { print("    " + SafeText.escape(line)) }
                if let b = r.backup { print("  backup: \(SafeText.escape(b))") }
            } catch {
                failed = true
                FileHandle.standardError.write(Data("warden: \(SafeText.escape("\(error)"))\n".utf8))
            }
        }
        if failed { throw ExitCode(2) }
    }
}

/// `warden uninstall`: restores the configs install changed.
struct Uninstall: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Take warden wrap out of your clients' configs (restores the backup byte for byte when the file is unchanged since install).")
    @OptionGroup var selection: ClientSelection

    func run() throws {
        var failed = false
        for path in try selection.files() {
            do {
                let r = try selection.installer.uninstall(path: path, dryRun: selection.dryRun)
                let verb = selection.dryRun ? "would be " : ""
                switch r.how {
                case "restored": print("\(SafeText.escape(path)): \(verb)restored from its backup")
                case "unwrapped": print("\(SafeText.escape(path)): edited since install; \(verb)unwrapped in place: \(r.names.map { SafeText.escape($0) }.joined(separator: ", "))")
                default: print("\(SafeText.escape(path)): nothing of Warden's in it")
                }
            } catch {
                failed = true
                FileHandle.standardError.write(Data("warden: \(SafeText.escape("\(error)"))\n".utf8))
            }
        }
        if failed { throw ExitCode(2) }
    }
}
