import ArgumentParser
import Foundation
import WardenCore
import WardenGateway
import WardenHubClient
import WardenTransport

/// `warden gateway --listen 127.0.0.1:PORT --name N (--upstream URL | -- CMD ARGS…)`
struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve an MCP server over Streamable HTTP, each session behind its own enforcing relay.",
        discussion: """
            For clients that connect to MCP servers over HTTP. Each MCP session gets its own
            `warden wrap` (policy, sandbox, grants and events exactly as for a stdio client):
              warden gateway --listen 127.0.0.1:8765 --name time -- uvx mcp-server-time
              warden gateway --listen 127.0.0.1:8765 --name notes --upstream http://127.0.0.1:9000/mcp
            Clients send `Authorization: Bearer TOKEN`; the token is made on first start in
            $WARDEN_HOME/gateway/NAME.token (owner-only). Requests whose Host is not the
            gateway's address, or that come from a web page (an Origin other than the
            gateway's), are refused.
            """)

    @Option(name: .long, help: "Where to listen, HOST:PORT (port 0: any free one, printed). Loopback unless --allow-remote.")
    var listen: String

    @Option(name: .long, help: "The server's name in policy, events and the console.")
    var name: String

    @Option(name: .long, help: "An MCP server to reach over HTTP (http(s)://…), unix:PATH or tcp:HOST:PORT, instead of a command after --.")
    var upstream: String?

    @Option(name: .long, help: "Headers for the upstream HTTP server, one `Name: value` per line (see warden wrap).")
    var headerFile: String?

    @Option(name: .long, help: "Policy file (YAML).")
    var policy: String?

    @Option(name: .long, help: "State directory (default: $WARDEN_HOME or ~/.local/state/warden).")
    var home: String?

    @Option(name: .long, help: "The bearer token's file (default: $WARDEN_HOME/gateway/NAME.token; made if missing).")
    var tokenFile: String?

    @Flag(name: .long, help: "Serve without a bearer token (loopback only).")
    var noAuth = false

    @Option(name: .long, help: "Also accept requests carrying this Origin (repeatable), e.g. http://localhost:6274.")
    var allowOrigin: [String] = []

    @Flag(name: .long, help: "Allow a bind outside loopback (the token is then required, and Host is not checked).")
    var allowRemote = false

    @Option(name: .long, help: "The MCP endpoint's path.")
    var path = "/mcp"

    @Option(name: .long, help: "Sessions served at once.")
    var maxSessions = 256

    @Option(name: .long, help: "Minutes after which a session with no message either way and no open stream is ended.")
    var idleMinutes: Double = 30

    @Option(name: .long, help: ArgumentHelp("Seconds between keep-alives on open streams; a connection silent for four of them is closed (default 15).", visibility: .hidden))
    var keepAlive: Double?

    @Option(name: .long, help: ArgumentHelp("The largest message either side may send, in bytes (default 64 MiB).", visibility: .hidden))
    var maxMessage: Int?

    @Argument(parsing: .postTerminator, help: "The MCP server's command and arguments (one server per session).")
    var command: [String] = []

    func validate() throws {
        guard (upstream == nil) != command.isEmpty else {
            throw ValidationError("give the server: either --upstream URL or its command after --")
        }
        if let upstream { do { _ = try UpstreamTarget(upstream) } catch { throw ValidationError(error.description) } }
        guard headerFile == nil || upstream != nil else { throw ValidationError("--header-file is for an --upstream server") }
        guard !name.isEmpty, name.utf8.count <= 64, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }), !name.hasPrefix(".") else {
            throw ValidationError("--name takes letters, digits, '.', '_' and '-' (it names the token file)")
        }
        guard path.hasPrefix("/") else { throw ValidationError("--path starts with /") }
        let address: ListenAddress
        do { address = try ListenAddress(listen) } catch { throw ValidationError(error.description) }
        if !address.isLoopback && !allowRemote {
            throw ValidationError("refusing to listen on \(address): it is not a loopback address, so other machines could reach the server. Use 127.0.0.1, or --allow-remote if you mean it")
        }
        if noAuth && allowRemote { throw ValidationError("--no-auth is for loopback only: a gateway other machines reach needs its token") }
        for origin in allowOrigin where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.hasSuffix("/") {
            throw ValidationError("--allow-origin takes an origin: scheme://host[:port], no path (\(origin))")
        }
    }

    func run() throws {
        let home = home.map(WardenHome.init(path:)) ?? WardenHome.current()
        var config = GatewayConfiguration(listen: try! ListenAddress(listen), serverName: name,
                                          upstream: upstream.map { .connect($0) } ?? .command(command), executable: HubLauncher.executable)
        config.path = path
        config.allowRemote = allowRemote
        config.allowedOrigins = Set(allowOrigin.map { $0.lowercased() })
        config.maxSessions = max(1, maxSessions)
        config.idleTimeout = max(1, idleMinutes * 60)
        if let maxMessage { config.maxMessage = max(4096, maxMessage) }
        if let keepAlive { config.keepAlive = max(0.5, keepAlive) }
        config.wrapOptions = ["--home", home.path]
        if let policy {
            // Read once here, so a broken policy stops the gateway before any client connects.
            do { _ = try PolicyLoader.load(path: policy) } catch {
                FileHandle.standardError.write(Data("warden gateway: policy error: \(error). Not started.\n".utf8))
                throw ExitCode(2)
            }
            config.wrapOptions += ["--policy", URL(fileURLWithPath: policy).path]
        }
        if let headerFile { config.wrapOptions += ["--header-file", URL(fileURLWithPath: headerFile).path] }
        if let maxMessage { config.wrapOptions += ["--max-message", String(maxMessage)] }
        var tokenNote = "no token (--no-auth)"
        if !noAuth {
            let file = tokenFile ?? GatewayToken.defaultPath(home: home, serverName: name)
            do { config.token = try GatewayToken.load(path: file, makeDirectory: tokenFile == nil) } catch {
                FileHandle.standardError.write(Data("warden gateway: \(error). Not started.\n".utf8))
                throw ExitCode(2)
            }
            tokenNote = "token in \(file)"
        }
        let serving = "warden gateway: serving \(SafeText.escape(name)) on ", note = tokenNote
        let gateway = Gateway(config: config) { url in
            FileHandle.standardError.write(Data("\(serving)\(url) (\(note))\n".utf8))
            // For scripts (and port 0): the endpoint, alone on a line of its own.
            FileHandle.standardOutput.write(Data("listening \(url)\n".utf8))
        }
        let done = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        Task {
            do { try await gateway.run() } catch { failure.set(error) }
            done.signal()
        }
        done.wait()
        if let error = failure.get() {
            FileHandle.standardError.write(Data("warden gateway: cannot serve on \(listen): \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}

/// The gateway's error, handed from its task to the blocked main thread.
private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ e: any Error) { lock.withLock { error = e } }
    func get() -> (any Error)? { lock.withLock { error } }
}
