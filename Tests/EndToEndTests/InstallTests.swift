import Foundation
import Testing

/// `warden install` / `uninstall` on sample configs of each client, found where the clients keep
/// them (a temporary HOME and project): wraps stdio entries, connects Streamable HTTP ones, keeps
/// comments, reports what it leaves alone, is idempotent, and restores byte for byte.
@Suite("install and uninstall", .serialized)
struct InstallTests {
    static let claudeDesktop = """
        {
          "mcpServers": {
            "time": { "command": "mcp-server-time", "args": ["--local-timezone", "UTC"] },
            "git": {
              "command": "uvx",
              "args": [
                "mcp-server-git",
                "--repository", "/home/me/project"
              ],
              "env": { "GIT_PAGER": "cat" }
            }
          },
          "globalShortcut": "Ctrl+Space"
        }

        """
    static let cursor = """
        {"mcpServers":{"notes":{"command":"npx","args":["-y","@acme/notes-mcp"]},"remote":{"url":"https://mcp.example.com/sse"}}}
        """
    static let vscode = """
        // VS Code MCP servers (JSON with comments)
        {
          "inputs": [],
          "servers": {
            /* the time server */
            "time": {
              "type": "stdio",
              "command": "mcp-server-time", // no args
            },
            "docs": { "type": "http", "url": "https://docs.example.com/mcp", },
          },
        }

        """
    static let claudeCode = """
        {
          "mcpServers": {
            "fetch": {"type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"], "env": {}}
          }
        }
        """

    @Test("each client's files: dry run changes nothing; install wraps stdio entries with a backup and diff; again is a no-op; uninstall restores byte for byte")
    func roundTrip() async throws {
        let root = Harness.temporaryHome()
        let home = root + "/user", project = root + "/project", state = root + "/state"
        let files = [
            (home + "/.config/Claude/claude_desktop_config.json", Self.claudeDesktop),
            (home + "/.cursor/mcp.json", Self.cursor),
            (project + "/.vscode/mcp.json", Self.vscode),
            (project + "/.mcp.json", Self.claudeCode),
        ]
        for (path, text) in files {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let env = ["HOME": home, "WARDEN_HOME": state, "PATH": "/usr/bin:/bin"]
        func warden(_ args: [String]) async throws -> Finished {
            try await runProcess([Harness.warden] + args + ["--project", project], environment: env)
        }
        func contents(_ p: String) throws -> String { try String(contentsOfFile: p, encoding: .utf8) }

        let dry = try await warden(["install", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdoutText.contains("would wrap time") && dry.stdoutText.contains("+ "))
        for (path, text) in files { #expect(try contents(path) == text, "dry run changed \(path)") }

        let install = try await warden(["install", "--warden", "/opt/warden/bin/warden"])
        #expect(install.status == 0, "\(install.stderr)")
        #expect(install.stdoutText.contains("connected remote: warden wrap --connect https://mcp.example.com/sse"), "an HTTP+SSE entry is connected too: \(install.stdoutText)")
        #expect(install.stdoutText.contains("connected docs: warden wrap --connect https://docs.example.com/mcp"))
        #expect(install.stdoutText.contains("backup: "))
        let desktop = try JSONSerialization.jsonObject(with: Data(try contents(files[0].0).utf8)) as! [String: Any]
        let git = (desktop["mcpServers"] as! [String: Any])["git"] as! [String: Any]
        #expect(git["command"] as? String == "/opt/warden/bin/warden")
        #expect(git["args"] as? [String] == ["wrap", "--name", "git", "--", "uvx", "mcp-server-git", "--repository", "/home/me/project"])
        #expect((git["env"] as? [String: String]) == ["GIT_PAGER": "cat"])
        let vs = try contents(files[2].0)
        #expect(vs.contains("// VS Code MCP servers (JSON with comments)") && vs.contains("/* the time server */") && vs.contains("// no args"))
        #expect(vs.contains(#""args": ["wrap", "--name", "time", "--", "mcp-server-time"]"#))
        #expect(vs.contains(#""docs": {"type": "stdio", "command": "/opt/warden/bin/warden", "args": ["wrap", "--name", "docs", "--connect", "https://docs.example.com/mcp"]},"#),
                "a Streamable HTTP entry runs through wrap --connect:\n\(vs)")
        let cursor = try contents(files[1].0)
        #expect(cursor.contains(#""remote":{"command": "/opt/warden/bin/warden", "args": ["wrap", "--name", "remote", "--connect", "https://mcp.example.com/sse"]}"#), "\(cursor)")
        for (path, _) in files {
            let backups = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
                .filter { $0.hasPrefix((path as NSString).lastPathComponent + ".warden-backup-") }
            #expect(backups.count == 1, "one backup for \(path)")
        }

        let installed = try files.map { try contents($0.0) }
        let again = try await warden(["install", "--warden", "/opt/warden/bin/warden"])
        #expect(again.stdoutText.contains("already runs through warden wrap"))
        #expect(try files.map { try contents($0.0) } == installed, "installing twice never wraps twice")

        let uninstall = try await warden(["uninstall"])
        #expect(uninstall.status == 0, "\(uninstall.stderr)")
        for (path, text) in files { #expect(try contents(path) == text, "\(path) not restored byte for byte") }

        // Edited after install: uninstall unwraps in place and keeps the edit.
        _ = try await warden(["install", "--client", "cursor", "--warden", "/opt/warden/bin/warden"])
        let edited = try contents(files[1].0).replacingOccurrences(of: #""remote":"#, with: #""added":{"command":"extra-server"},"remote":"#)
        try edited.write(toFile: files[1].0, atomically: true, encoding: .utf8)
        let partial = try await warden(["uninstall", "--client", "cursor"])
        #expect(partial.stdoutText.contains("edited since install"))
        let after = try contents(files[1].0)
        #expect(after.contains(#""notes":{"command":"npx","args":["-y", "@acme/notes-mcp"]}"#) && after.contains("extra-server"))

        let bad = root + "/bad.json"
        try "{ not json".write(toFile: bad, atomically: true, encoding: .utf8)
        let broken = try await warden(["install", "--config", bad])
        #expect(broken.status == 2 && broken.stderr.contains("bad.json"))
    }

    @Test("a wrapped config really runs: the wrapped entry starts warden wrap in front of mcp-server-time")
    func wrappedConfigRuns() async throws {
        try Harness.requirePeers()
        let root = Harness.temporaryHome()
        let config = root + "/claude_desktop_config.json"
        try #"{"mcpServers": {"time": {"command": "\#(Harness.peers)/bin/mcp-server-time", "args": ["--local-timezone", "UTC"]}}}"#
            .write(toFile: config, atomically: true, encoding: .utf8)
        let r = try await runProcess([Harness.warden, "install", "--config", config, "--warden", Harness.warden], environment: ["WARDEN_HOME": root + "/state"])
        #expect(r.status == 0)
        let scan = try await runProcess([Harness.warden, "scan", "--config", config, "--format", "json"], environment: ["WARDEN_HOME": root + "/state", "WARDEN_NO_AUTOSTART": "1"])
        #expect(scan.stdoutText.contains("get_current_time"), "\(scan.stderr)")
    }
}
