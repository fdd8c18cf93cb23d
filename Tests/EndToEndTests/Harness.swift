import Foundation
import Synchronization
import Testing
import WardenCore
import WardenProtocol

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
/// Blocking reads and `waitpid` run on dedicated threads, never on `DispatchQueue.global()` (on Linux
/// libdispatch's workers also serve the concurrency pool) and never through Foundation's `Process`
/// (its child monitoring spins or misses exits on Linux).
func runProcess(_ arguments: [String], input: Data? = nil, environment: [String: String] = [:], timeout: Double = 60) async throws -> Finished {
    // No test starts a hub by accident (and leaves it running): tests that want one start it.
    let env = ProcessInfo.processInfo.environment.merging(["WARDEN_NO_AUTOSTART": "1"]) { $1 }.merging(environment) { $1 }
    let child = try Child.spawn(arguments, environment: env)
    let input = input ?? Data()
    Thread {
        input.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(child.stdin, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                offset += n
            }
        }
        close(child.stdin)
    }.start()
    let deadline = Date().addingTimeInterval(timeout)
    Thread {
        while Date() < deadline {
            if child.exited { return }
            usleep(20_000)
        }
        if !child.exited { kill(child.pid, SIGKILL) }
    }.start()
    async let out = readAll(child.stdout)
    async let err = readAll(child.stderr)
    let (o, e) = await (out, err)
    let status = await child.status
    close(child.stdout)
    close(child.stderr)
    return Finished(status: status, stdout: o, stderr: String(decoding: e, as: UTF8.self))
}

/// A child process with pipes, reaped by a thread blocked in `waitpid`.
final class Child: Sendable {
    let pid: pid_t
    let stdin: Int32, stdout: Int32, stderr: Int32
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    private init(pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32) {
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Spawns `arguments[0]` (a path) with pipes on 0, 1 and 2 (output to /dev/null when `quiet`).
    static func spawn(_ arguments: [String], environment: [String: String], quiet: Bool = false) throws -> Child {
        var i: [Int32] = [0, 0], o: [Int32] = [0, 0], e: [Int32] = [0, 0]
        guard pipe(&i) == 0, pipe(&o) == 0, pipe(&e) == 0 else { throw POSIXError(.EMFILE) }
        for fd in i + o + e { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, i[0], 0)
        if quiet {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        } else {
            posix_spawn_file_actions_adddup2(&actions, o[1], 1)
            posix_spawn_file_actions_adddup2(&actions, e[1], 2)
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // Test threads (dispatch workers) block signals, and a child inherits the spawning thread's
        // mask: give children an empty one, as Warden does for its own.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        SpawnDefaults.apply(to: &attributes)
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(i[0]); close(o[1]); close(e[1])
        guard rc == 0 else {
            close(i[1]); close(o[0]); close(e[0])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT)
        }
        let child = Child(pid: pid, stdin: i[1], stdout: o[0], stderr: e[0])
        let spawned = pid
        Thread {
            var status: Int32 = 0
            while waitpid(spawned, &status, 0) < 0 && errno == EINTR {}
            let low = status & 0x7F
            let code = low == 0 ? (status >> 8) & 0xFF : 128 + low
            let waiters = child.state.withLock { s in
                s.status = code
                defer { s.waiters = [] }
                return s.waiters
            }
            for w in waiters { w.resume(returning: code) }
        }.start()
        return child
    }

    var exited: Bool { state.withLock { $0.status != nil } }

    /// The exit code (128 + signal for a signalled process, as shells report it).
    var status: Int32 {
        get async {
            await withCheckedContinuation { c in
                let done = state.withLock { s -> Int32? in
                    if let status = s.status { return status }
                    s.waiters.append(c)
                    return nil
                }
                if let done { c.resume(returning: done) }
            }
        }
    }
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
func pythonClient(command: [String], steps: [[String: Any]], home: String, environment: [String: String] = [:],
                  timeout: Double = 90, spec extra: [String: Any] = [:]) async throws -> [String: Any] {
    let spec = try JSONSerialization.data(withJSONObject: extra.merging(["command": command, "steps": steps]) { $1 })
    let finished = try await runProcess([Harness.python, Harness.clientScript, String(decoding: spec, as: UTF8.self)],
                                        environment: ["WARDEN_HOME": home].merging(environment) { $1 }, timeout: timeout)
    guard finished.status == 0, let report = try JSONSerialization.jsonObject(with: finished.stdout) as? [String: Any] else {
        Issue.record("python client failed (\(finished.status)): \(finished.stderr.suffix(3000))")
        throw CancellationError()
    }
    return report
}

/// The text of a tool result in a Python client report entry.
/// The HTTP fixtures' policy: everything allowed but `delete_note`, and instructions in results refused.
func notesPolicy(home: String) throws -> String {
    let path = home + "/policy.yaml"
    try """
        version: 1
        defaults:
          action: allow
        rules:
          - match: { tool: delete_note }
            action: deny
            reason: notes are kept
        dlp:
          injection: deny
        """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

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

/// Runs the `warden` CLI against a home.
func warden(_ arguments: [String], home: String, timeout: Double = 30) async throws -> Finished {
    try await runProcess([Harness.warden] + arguments, input: Data(), environment: ["WARDEN_HOME": home], timeout: timeout)
}

/// Runs the CLI and decodes its `--json` output.
func wardenJSON(_ arguments: [String], home: String) async throws -> [String: Any] {
    let r = try await warden(arguments + ["--json"], home: home)
    guard r.status == 0, let object = try? JSONSerialization.jsonObject(with: r.stdout) as? [String: Any] else {
        Issue.record("warden \(arguments) failed (\(r.status)): \(r.stderr)")
        return [:]
    }
    return object
}

/// A real `warden hub` process on a home, stopped (or killed) by the test.
/// A git repository with one commit of README.md ("hello"), for the git server's sessions.
func makeGitRepo(_ repo: String) async throws {
    try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
    try "hello\n".write(toFile: repo + "/README.md", atomically: true, encoding: .utf8)
    let env = ["GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "T",
               "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"]
    for args in [["init", "-q", "-b", "main"], ["add", "README.md"], ["commit", "-q", "-m", "first commit"]] {
        let r = try await runProcess(["/usr/bin/git", "-C", repo] + args, environment: env)
        #expect(r.status == 0, "git \(args): \(r.stderr)")
    }
}

/// Hubs the tests started; any still running when the test process exits are stopped then (a
/// test's `defer { Task { await hub.stop() } }` may not get to run before the process ends).
let runningHubs = Mutex<Set<pid_t>>([])
private let stopHubsAtExit: Void = {
    atexit {
        for pid in runningHubs.withLock({ $0 }) { kill(pid, SIGTERM) }
    }
}()

final class HubProcess: Sendable {
    let home: String
    let child: Child

    init(home: String) async throws {
        self.home = home
        _ = stopHubsAtExit
        child = try Child.spawn([Harness.warden, "hub", "--home", home],
                                environment: ProcessInfo.processInfo.environment.merging(["WARDEN_HOME": home]) { $1 }, quiet: true)
        runningHubs.withLock { _ = $0.insert(child.pid) }
        close(child.stdin)
        // Generous: the suite's first seconds start many peers at once (Python servers among them)
        // on two cores, and a hub that is slow to come up there is not a failure of the hub.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: home + "/hub.sock"), (try? await warden(["grants", "list"], home: home).status) == 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the hub did not start on \(home)")
    }

    var pid: Int32 { child.pid }

    func stop() async {
        kill(child.pid, SIGTERM)
        _ = await child.status
        runningHubs.withLock { _ = $0.remove(child.pid) }
    }

    func kill9() async {
        kill(child.pid, SIGKILL)
        _ = await child.status
        runningHubs.withLock { _ = $0.remove(child.pid) }
    }
}

/// A Python client running in the background; `value` waits for its report.
struct ClientRun: Sendable {
    let task: Task<Data, any Error>

    var value: [String: Any] {
        get async throws {
            let data = try await task.value
            guard let report = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw CancellationError() }
            return report
        }
    }
}

/// Starts the Python client in the background.
func pythonClientTask(command: [String], steps: [[String: Any]], home: String, timeout: Double = 90, spec extra: [String: Any] = [:]) -> ClientRun {
    let spec = (try? JSONSerialization.data(withJSONObject: extra.merging(["command": command, "steps": steps]) { $1 })) ?? Data()
    let specText = String(decoding: spec, as: UTF8.self)
    return ClientRun(task: Task {
        let finished = try await runProcess([Harness.python, Harness.clientScript, specText], environment: ["WARDEN_HOME": home], timeout: timeout)
        guard finished.status == 0 else {
            Issue.record("python client failed (\(finished.status)): \(finished.stderr.suffix(3000))")
            throw CancellationError()
        }
        return finished.stdout
    })
}

/// Polls until a pending grant shows in the CLI; returns it and how long after its request it was first seen.
func waitForPending(home: String, timeout: Double = 30) async throws -> (grant: [String: Any], visibleAfterMs: Double) {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let list = try await wardenJSON(["grants", "list", "--state", "pending"], home: home)
        if let g = (list["grants"] as? [[String: Any]])?.first, let requested = g["requestedAt"] as? Double {
            return (g, (Date().timeIntervalSince1970 - requested) * 1000)
        }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("no pending grant appeared")
    throw CancellationError()
}

/// The isolation mechanism a relay reported in its `session.started` event, read from the spool of
/// a home no hub serves (nil when none was reported).
func spooledIsolation(_ home: String) -> String? {
    for name in (try? FileManager.default.contentsOfDirectory(atPath: home + "/spool")) ?? [] {
        let text = (try? String(contentsOfFile: home + "/spool/" + name, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], event["kind"] as? String == "session.started",
                  let isolation = (event["fields"] as? [String: Any])?["isolation"] as? [String: Any] else { continue }
            return isolation["mechanism"] as? String
        }
    }
    return nil
}
