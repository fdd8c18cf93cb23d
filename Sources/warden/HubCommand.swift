import ArgumentParser
import Foundation
import WardenSystem
import WardenCore
import WardenHub

/// `warden hub`: the control plane in the foreground (wrap, console and the CLI start it in the
/// background when it is not running).
struct Hub: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the hub (control plane) in the foreground.")

    @Option(name: .long, help: "State directory (default: $WARDEN_HOME or ~/.local/state/warden).")
    var home: String?

    func run() throws {
        let home = home.map(WardenHome.init(path:)) ?? WardenHome.current()
        // Same-uid processes (an unsandboxed server) must not be able to trace the hub or read its memory.
        ProcessHardening.forbidTracing()
        let server = Self.start(home)
        server.start()
        FileHandle.standardError.write(Data("warden hub: listening on \(home.socketPath) (pid \(getpid()))\n".utf8))
        let done = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        done.wait()
        server.stop()
        FileHandle.standardError.write(Data("warden hub: stopped\n".utf8))
        _ = sources
    }

    static func start(_ home: WardenHome) -> HubServer {
        let result: Result<HubServer, HubStartError>
        do throws(HubStartError) {
            result = .success(try HubServer(home: home))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(let server):
            return server
        case .failure(.alreadyRunning(let home, let pid)):
            CLI.fail("a hub is already running for \(home) (pid \(pid))", code: 1)
        case .failure(let error):
            CLI.fail(error.description, code: 2)
        }
    }
}
