import ArgumentParser
import Foundation
import WardenCore
import WardenSetup
import WardenDetect
import WardenProxy
import WardenTransport

/// `warden scan`: review tool definitions before trusting them (for people and for CI).
struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse MCP tool definitions: from a file, from client configs, or from a server command.",
        discussion: """
            warden scan --tools tools.json            a tools/list result ({"tools":[…]}) or a bare array
            warden scan --config ~/.cursor/mcp.json   starts each stdio server in the config and lists its tools
            warden scan -- uvx mcp-server-git         one server
            warden scan --connect http://127.0.0.1:8000/mcp   one running server (Streamable HTTP or HTTP+SSE, unix:, tcp:)
            Remote entries of a config are connected to, with their headers (${VAR} and ${env:VAR} from the environment).
            Exit status: 0 when nothing is at or above --fail-on, 1 when something is, 2 on error (also when any server could not be listed).
            """)

    @Option(help: "A tools/list result or a JSON array of tool definitions.") var tools: String?
    @Option(help: "An MCP client config (Claude Desktop, Cursor, VS Code mcp.json, Claude Code .mcp.json).") var config: String?
    @Option(help: "text, json or sarif.") var format = "text"
    @Option(help: "Lowest verdict that fails the scan: suspicious or malicious.") var failOn = "suspicious"
    @Option(help: "Seconds to wait for each server's tools/list.") var timeout: Double = 20
    @Option(help: "Policy file whose analysis thresholds and suppressions apply.") var policy: String?
    @Option(help: "A running server to scan: http(s)://HOST:PORT/PATH, unix:PATH or tcp:HOST:PORT.") var connect: String?
    @Option(help: "Headers for --connect, one `Name: value` per line (WARDEN_CONNECT_HEADERS may hold the same).") var headerFile: String?
    @Argument(parsing: .postTerminator, help: "A server command to start and scan.") var command: [String] = []

    func run() throws {
        guard ["text", "json", "sarif"].contains(format) else { CLI.fail("--format must be text, json or sarif", code: 2) }
        guard let threshold = Verdict(rawValue: failOn), threshold != .clean else { CLI.fail("--fail-on must be suspicious or malicious", code: 2) }
        var sources: [(server: String, tools: [JSONObject])] = []
        var problems: [String] = []
        if let tools {
            guard let data = FileManager.default.contents(atPath: tools) else { CLI.fail("cannot read \(tools)", code: 2) }
            let value: JSONValue
            do { value = try JSONParser.parse(data) } catch { CLI.fail("\(tools): not valid JSON (\(error))", code: 2) }
            let list = value["tools"]?.arrayValue ?? value["result"]?["tools"]?.arrayValue ?? value.arrayValue
            guard let list else { CLI.fail("\(tools): expected {\"tools\":[…]} or an array of tools", code: 2) }
            sources.append((URL(fileURLWithPath: tools).deletingPathExtension().lastPathComponent, list.compactMap(\.objectValue)))
        }
        if let config {
            for entry in try ClientConfig.servers(in: config) {
                do throws(ServerProbe.Failure) {
                    if let command = entry.command {
                        sources.append((entry.name, Self.withInstructions(try ServerProbe.listTools(command, timeout: timeout))))
                    } else {
                        let (target, headers) = try Self.remote(entry)
                        sources.append((entry.name, Self.withInstructions(try ServerProbe.listTools(connect: target, headers: headers, timeout: timeout))))
                    }
                } catch { problems.append("\(entry.name): \(error)") }
            }
        }
        if let connect {
            let target: UpstreamTarget
            do { target = try UpstreamTarget(connect) } catch { CLI.fail("--connect: \(error)", code: 2) }
            let headers: [(String, String)]
            do { headers = try Wrap.connectHeaders(file: headerFile) } catch { CLI.fail("\(error)", code: 2) }
            do { sources.append((Self.label(target), Self.withInstructions(try ServerProbe.listTools(connect: target, headers: headers, timeout: timeout)))) }
            catch { CLI.fail("\(connect): \(error)", code: 2) }
        }
        if !command.isEmpty {
            do { sources.append((URL(fileURLWithPath: command[0]).lastPathComponent, Self.withInstructions(try ServerProbe.listTools(command, timeout: timeout)))) }
            catch { CLI.fail("\(command.joined(separator: " ")): \(error)", code: 2) }
        }
        guard tools != nil || config != nil || connect != nil || !command.isEmpty else { CLI.fail("give --tools FILE, --config FILE, --connect URL or -- COMMAND", code: 2) }

        var settings = AnalysisSettings()
        if let policy {
            do { settings = try PolicyLoader.load(path: policy).analysis } catch { CLI.fail("policy error: \(error)", code: 2) }
        }
        let analyzer = ToolAnalyzer(settings: settings)
        let report = ScanReport(reviews: sources.flatMap { source in
            source.tools.map { analyzer.review(ToolDefinition(raw: $0), server: source.server) }
        })
        switch format {
        case "json": print(JSONWriter.safe(report.json))
        case "sarif": print(JSONWriter.safe(report.sarif(toolVersion: Warden.configuration.version)))
        default: printText(report)
        }
        for p in problems { FileHandle.standardError.write(Data("warden scan: \(SafeText.escape(p))\n".utf8)) }
        if report.worst >= threshold { throw ExitCode(1) }
        // A server that could not be reviewed fails the scan: one that refuses a scanner (or
        // stalls it) must not leave CI green.
        if !problems.isEmpty { throw ExitCode(2) }
    }

    /// Where a config's remote entry is and the headers it sends, as the client would send them.
    static func remote(_ entry: ClientConfig.Entry) throws(ServerProbe.Failure) -> (UpstreamTarget, [(String, String)]) {
        guard let url = entry.url, url.hasPrefix("http://") || url.hasPrefix("https://"), let target = try? UpstreamTarget(url) else {
            throw ServerProbe.Failure(description: "remote server (\(entry.url ?? "no url")) is not an http(s) URL Warden can reach")
        }
        var headers: [(String, String)] = []
        for (name, value) in entry.headers {
            guard !value.contains(where: \.isNewline) else { throw ServerProbe.Failure(description: "the value of header \(name) holds a line break") }
            do { headers += try ConnectHeaders.parse("\(name): \(value)", source: "header \(name)") } catch {
                throw ServerProbe.Failure(description: error.description)
            }
        }
        return (target, headers)
    }

    /// A running server's name in the report: its host and port, or its socket.
    static func label(_ target: UpstreamTarget) -> String {
        switch target {
        case .http(let url): URL(string: url).map { ($0.host ?? "server") + ($0.port.map { ":\($0)" } ?? "") } ?? "server"
        case .unix(let path): URL(fileURLWithPath: path).lastPathComponent
        case .tcp(let host, let port): "\(host):\(port)"
        }
    }

    /// The server's instructions are analysed too, as a pseudo-tool named `(instructions)`.
    /// Prompts and resources follow as `prompt:NAME` / `resource:NAME`.
    static func withInstructions(_ listed: ServerProbe.Listing) -> [JSONObject] {
        var all = listed.tools
        if let text = listed.instructions, !text.isEmpty {
            all.append(JSONObject(pairs: [("name", .string(Relay.instructionsName)), ("description", .string(text))]))
        }
        return all + listed.catalogue
    }

    /// Grouped by server; verdicts coloured and evidence highlighted when stdout is a terminal.
    func printText(_ report: ScanReport) {
        let color = isatty(1) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }
        var server: String?
        for r in report.reviews {
            if r.server != server {
                server = r.server
                print(paint(SafeText.escape(r.server), "1"))
            }
            let verdict = switch r.verdict {
            case .clean: paint("clean", "32")
            case .suspicious: paint("SUSPICIOUS", "33;1")
            case .malicious: paint("MALICIOUS", "31;1")
            }
            print("  \(SafeText.escape(r.tool))  \(verdict)  score \(r.score)")
            for f in r.findings {
                print("    [\(f.severity.rawValue)] \(f.rule) at \(SafeText.escape(f.field)): \(SafeText.escape(f.message))")
                print("      evidence: " + paint(SafeText.escape(f.evidence), "7"))
            }
        }
        let counts = Dictionary(grouping: report.reviews, by: \.verdict).mapValues(\.count)
        print("\(report.reviews.count) tools: \(counts[.malicious] ?? 0) malicious, \(counts[.suspicious] ?? 0) suspicious, \(counts[.clean] ?? 0) clean")
    }
}

/// MCP client configuration files: the server entries they declare.
enum ClientConfig {
    struct Entry {
        var name: String
        /// The command line (with `env` prefixed when the entry sets variables); nil for remote servers.
        var command: [String]?
        var url: String?
        /// A remote entry's headers, as written (`${VAR}` not expanded yet).
        var headers: [(String, String)] = []
    }

    static func servers(in path: String) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            CLI.fail("cannot read \(path)", code: 2)
        }
        let value: JSONValue
        do { value = try JSONParser.parse(ClientConfigFile.plainJSON(text)) } catch { CLI.fail("\(path): not valid JSON (\(error))", code: 2) }
        // Claude Desktop, Cursor and Claude Code use "mcpServers"; VS Code uses "servers" (or "mcp.servers" in settings).
        let table = value["mcpServers"]?.objectValue ?? value["servers"]?.objectValue ?? value["mcp"]?["servers"]?.objectValue ?? JSONObject()
        return table.members.map { name, entry in
            guard let command = entry["command"]?.stringValue else {
                let headers = entry["headers"]?.objectValue?.members.compactMap { k, v in v.stringValue.map { (k, $0) } } ?? []
                return Entry(name: name, command: nil, url: entry["url"]?.stringValue, headers: headers)
            }
            let args = entry["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let env = entry["env"]?.objectValue?.members.compactMap { k, v in v.stringValue.map { "\(k)=\($0)" } } ?? []
            // The command is looked up on PATH (posix_spawnp); `env` carries the entry's variables.
            return Entry(name: name, command: env.isEmpty ? [command] + args : ["/usr/bin/env"] + env + [command] + args, url: nil)
        }
    }
}
