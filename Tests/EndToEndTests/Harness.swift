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
func runProcess(_ arguments: [String], input: Data? = nil, environment: [String: String] = [:], timeout: Double = 60) async throws -> Finished {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    let collected = Collected()
    let group = DispatchGroup()
    for (pipe, isOut) in [(stdout, true), (stderr, false)] {
        group.enter()
        DispatchQueue.global().async {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            collected.set(data, isOut: isOut)
            group.leave()
        }
    }
    return try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { p in
            DispatchQueue.global().async {
                group.wait()
                let (out, err) = collected.get()
                continuation.resume(returning: Finished(status: p.terminationStatus, stdout: out, stderr: String(decoding: err, as: UTF8.self)))
            }
        }
        do {
            try process.run()
        } catch {
            continuation.resume(throwing: error)
            return
        }
        DispatchQueue.global().async {
            if let input { stdin.fileHandleForWriting.write(input) }
            try? stdin.fileHandleForWriting.close()
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            if process.isRunning { process.terminate() }
        }
    }
}

final class Collected: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var out = Data(), err = Data()
    func set(_ d: Data, isOut: Bool) { lock.withLock { if isOut { out = d } else { err = d } } }
    func get() -> (Data, Data) { lock.withLock { (out, err) } }
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
