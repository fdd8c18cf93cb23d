import Foundation
import Testing
import WardenCore

/// Paths to the real programs the end-to-end tests run.
enum Harness {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The build products directory holding `warden` and the fixture peers.
    static let products: String = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        for candidate in [besideTests, repoRoot + "/.build/debug"] where FileManager.default.isExecutableFile(atPath: candidate + "/warden") {
            return candidate
        }
        return repoRoot + "/.build/debug"
    }()

    static var warden: String { products + "/warden" }
    static var fixtureServer: String { products + "/warden-fixture-server" }
    static var sdkPeer: String { products + "/warden-sdk-peer" }

    /// The venv `.ci/run` builds with the PyPI peers (`mcp`, `mcp-server-time`, `mcp-server-git`).
    static let peers = ProcessInfo.processInfo.environment["WARDEN_PEERS"] ?? repoRoot + "/.build/peers"
    static var python: String { peers + "/bin/python" }
    static var clientScript: String { repoRoot + "/Tests/EndToEndTests/Peers/mcp_client.py" }

    /// A fresh, short-pathed state directory (Unix socket paths are limited to 107 bytes).
    static func temporaryHome() -> String {
        let path = "/tmp/wt-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func requirePeers() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("the Python MCP peers are missing at \(peers): run .ci/run (it creates the venv)")
            throw CancellationError()
        }
    }
}

/// What a finished process left behind.
struct Finished: Sendable {
    var status: Int32
    var stdout: Data
    var stderr: String
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs a program to completion without blocking the cooperative thread pool (the in-process relay
/// tests in the same process need it), killing it after `timeout` seconds.
///
/// Blocking reads run on dedicated threads, not on `DispatchQueue.global()`: on Linux libdispatch's
/// worker threads also serve the Swift concurrency executor, and parking a dozen readers there
/// starves every timer in the test process.
func runProcess(_ arguments: [String], input: Data? = nil, environment: [String: String] = [:], timeout: Double = 60) async throws -> Finished {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    let writer = stdin.fileHandleForWriting
    let input = input ?? Data()
    Thread {
        // The FileHandle owns the descriptor: it writes and closes it (exactly once).
        try? writer.write(contentsOf: input)
        try? writer.close()
    }.start()
    let deadline = DispatchTime.now() + timeout
    Thread {
        // Bounded: the test harness never leaves a process running.
        while process.isRunning && DispatchTime.now() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
    }.start()
    async let out = readAll(stdout.fileHandleForReading.fileDescriptor)
    async let err = readAll(stderr.fileHandleForReading.fileDescriptor)
    let (o, e) = await (out, err)
    let status = await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
        Thread {
            process.waitUntilExit()
            c.resume(returning: process.terminationStatus)
        }.start()
    }
    return Finished(status: status, stdout: o, stderr: String(decoding: e, as: UTF8.self))
}

/// Reads a descriptor to its end on a dedicated thread, retrying `EINTR`.
func readAll(_ fd: Int32) async -> Data {
    await withCheckedContinuation { (c: CheckedContinuation<Data, Never>) in
        Thread {
            var data = Data()
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                data.append(contentsOf: buffer[0..<n])
            }
            c.resume(returning: data)
        }.start()
    }
}

/// Runs the Python SDK client with a spec and returns its JSON report.
func pythonClient(command: [String], steps: [[String: Any]], home: String, timeout: Double = 90) async throws -> [String: Any] {
    let spec = try JSONSerialization.data(withJSONObject: ["command": command, "steps": steps])
    let finished = try await runProcess([Harness.python, Harness.clientScript, String(decoding: spec, as: UTF8.self)],
                                        environment: ["WARDEN_HOME": home], timeout: timeout)
    guard finished.status == 0, let report = try JSONSerialization.jsonObject(with: finished.stdout) as? [String: Any] else {
        Issue.record("python client failed (\(finished.status)): \(finished.stderr.suffix(3000))")
        throw CancellationError()
    }
    return report
}

/// The text of a tool result in a Python client report entry.
func resultText(_ entry: Any?) -> String {
    guard let entry = entry as? [String: Any] else { return "" }
    if let error = entry["error"] as? [String: Any] { return "ERROR \(error["code"] ?? ""): \(error["message"] ?? "")" }
    let content = (entry["result"] as? [String: Any])?["content"] as? [[String: Any]] ?? []
    return content.compactMap { $0["text"] as? String }.joined()
}

func isError(_ entry: Any?) -> Bool {
    ((entry as? [String: Any])?["result"] as? [String: Any])?["isError"] as? Bool ?? false
}

func decisionMeta(_ entry: Any?) -> [String: Any] {
    let meta = ((entry as? [String: Any])?["result"] as? [String: Any])?["_meta"] as? [String: Any]
    return meta?["dev.warden/decision"] as? [String: Any] ?? [:]
}
