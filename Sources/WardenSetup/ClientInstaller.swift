import Foundation
import WardenCore

/// Puts `warden wrap` in front of the stdio MCP servers of Claude Desktop, Cursor, VS Code and
/// Claude Code, and takes it out again. Every file it changes gets a timestamped backup next to it
/// and a record in `$WARDEN_HOME/installs.json`; uninstall restores the backup byte for byte when
/// the file is as install left it, and unwraps entries in place when it was edited since.
public struct ClientInstaller: Sendable {
    public enum Client: String, Sendable, CaseIterable {
        case claudeDesktop = "claude-desktop", cursor, vscode, claudeCode = "claude-code"
    }

    public let home: WardenHome
    /// The user's home directory and the project directory (for project-level files).
    public let userHome: String
    public let project: String
    public let isMac: Bool

    public init(home: WardenHome, userHome: String, project: String, isMac: Bool = false) {
        self.home = home
        self.userHome = userHome
        self.project = project
        self.isMac = isMac
    }

    /// Where each client keeps its MCP servers, user level then project level.
    public func candidates(_ client: Client) -> [String] {
        let support = isMac ? "\(userHome)/Library/Application Support" : "\(userHome)/.config"
        switch client {
        case .claudeDesktop: return ["\(support)/Claude/claude_desktop_config.json"]
        case .cursor: return ["\(userHome)/.cursor/mcp.json", "\(project)/.cursor/mcp.json"]
        case .vscode: return ["\(support)/Code/User/mcp.json", "\(project)/.vscode/mcp.json"]
        case .claudeCode: return ["\(userHome)/.claude.json", "\(project)/.mcp.json"]
        }
    }

    /// The config files that exist for the chosen clients.
    public func files(_ clients: [Client]) -> [(Client, String)] {
        clients.flatMap { c in candidates(c).filter { FileManager.default.fileExists(atPath: $0) }.map { (c, $0) } }
    }

    public struct Result: Sendable {
        public var path: String
        public var changes: [ClientConfigFile.Change]
        public var diff: [String]
        public var backup: String?
        public var written: Bool
    }

    var manifestPath: String { home.path + "/installs.json" }

    /// One file `install` changed: where, its backup, and the digest of what install wrote.
    public struct Record: Sendable {
        public var path: String
        public var backup: String
        public var installed: String
    }

    /// The files install changed (`installs.json`).
    public func records() -> [Record] {
        guard let data = FileManager.default.contents(atPath: manifestPath), let v = try? JSONParser.parse(data) else { return [] }
        return (v["installs"]?.arrayValue ?? []).compactMap { r in
            guard let p = r["path"]?.stringValue, let b = r["backup"]?.stringValue, let s = r["installedSHA256"]?.stringValue else { return nil }
            return Record(path: p, backup: b, installed: s)
        }
    }

    func save(_ records: [Record]) throws {
        try home.prepare()
        let v: JSONValue = ["installs": .array(records.map { ["path": .string($0.path), "backup": .string($0.backup), "installedSHA256": .string($0.installed)] })]
        try Data(JSONWriter.compactBytes(v)).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
    }

    /// Where a connected remote entry's headers (`.headers`) and its entry as written
    /// (`.entry.json`) are kept: one pair per config file and server name, in the Warden home.
    func connectFile(config: String, name: String, suffix: String) -> String {
        let safe = String(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" ? Character($0) : "_" }.prefix(40))
        let key = ClientConfigFile.sha256(config + "\n" + name).prefix(12)
        return "\(home.path)/connect/\(safe)-\(key)\(suffix)"
    }

    /// Wraps every stdio entry of `path`, and connects every Streamable HTTP one (idempotent).
    /// With `dryRun`, only reports.
    public func install(path: String, warden: String, dryRun: Bool, now: Date = Date()) throws -> Result {
        let file = try ClientConfigFile(path: path)
        let (text, changes, moves) = try file.wrapped(warden: warden) { connectFile(config: path, name: $0, suffix: ".headers") }
        let diff = Self.diff(file.text, text)
        guard text != file.text, !dryRun else { return Result(path: path, changes: changes, diff: diff, backup: nil, written: false) }
        // The headers first: a config that names a file not yet there would fail the client's next start.
        if !moves.isEmpty {
            try home.prepare()
            try PrivateFile.makeDirectory(home.path + "/connect")
            for move in moves {
                if let headers = move.headers { try PrivateFile.write(Array(headers.utf8), to: connectFile(config: path, name: move.name, suffix: ".headers")) }
                try PrivateFile.write(Array(move.original.utf8), to: connectFile(config: path, name: move.name, suffix: ".entry.json"))
            }
        }
        let stamp = Self.stamp(now)
        let backup = "\(path).warden-backup-\(stamp)"
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        try Data(file.text.utf8).write(to: URL(fileURLWithPath: backup))
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        if let mode = attributes?[.posixPermissions] { try? FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path) }
        // A file wrapped again after edits (new servers) records this backup; entries an earlier
        // install wrapped are unwrapped from it on uninstall.
        var all = records().filter { $0.path != path }
        all.append(Record(path: path, backup: backup, installed: ClientConfigFile.sha256(text)))
        try save(all)
        return Result(path: path, changes: changes, diff: diff, backup: backup, written: true)
    }

    public struct Removal: Sendable {
        public var path: String
        /// `restored` (byte for byte from the backup), `unwrapped` (edited since: entries unwrapped in place), or `untouched`.
        public var how: String
        public var names: [String]
    }

    /// Takes Warden out of `path`.
    public func uninstall(path: String, dryRun: Bool) throws -> Removal {
        let connected = try ClientConfigFile(path: path).connectedNames()
        let removal = try restore(path: path, dryRun: dryRun)
        // The moved headers are credentials: once the entries are back, they go.
        if !dryRun {
            for name in connected {
                for suffix in [".headers", ".entry.json"] { try? FileManager.default.removeItem(atPath: connectFile(config: path, name: name, suffix: suffix)) }
            }
        }
        return removal
    }

    func restore(path: String, dryRun: Bool) throws -> Removal {
        let current = try ClientConfigFile(path: path)
        let record = records().first { $0.path == path }
        if let record, ClientConfigFile.sha256(current.text) == record.installed, let backup = FileManager.default.contents(atPath: record.backup) {
            var restored = backup
            if let text = String(data: backup, encoding: .utf8) {
                let (unwrapped, names) = try ClientConfigFile(path: path, text: text).unwrapped(original: original(config: path))
                if !names.isEmpty { restored = Data(unwrapped.utf8) }
            }
            if !dryRun {
                try restored.write(to: URL(fileURLWithPath: path), options: .atomic)
                try save(records().filter { $0.path != path })
            }
            return Removal(path: path, how: "restored", names: [])
        }
        let (text, names) = try current.unwrapped(original: original(config: path))
        guard !names.isEmpty else { return Removal(path: path, how: "untouched", names: []) }
        if !dryRun {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            try save(records().filter { $0.path != path })
        }
        return Removal(path: path, how: "unwrapped", names: names)
    }

    /// The remote entry install replaced, as it was written.
    func original(config: String) -> (String) -> String? {
        { name in
            FileManager.default.contents(atPath: connectFile(config: config, name: name, suffix: ".entry.json")).flatMap { String(data: $0, encoding: .utf8) }
        }
    }

    static func stamp(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return f.string(from: date)
    }

    /// A line diff (`- old`, `+ new`), with unchanged lines left out.
    public static func diff(_ old: String, _ new: String) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard a.count * b.count <= 4_000_000 else { return ["(file too large to diff)"] }
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out: [String] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] { i += 1; j += 1 }
            else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] { out.append("+ " + b[j]); j += 1 }
            else { out.append("- " + a[i]); i += 1 }
        }
        return out
    }
}
