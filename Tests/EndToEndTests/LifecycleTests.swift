import Foundation
import Testing

@Suite("wrap lifecycle and configuration errors")
struct LifecycleTests {
    @Test("SIGTERM to Warden reaches the server; Warden exits with the server's status")
    func signalForwarded() async throws {
        let home = Harness.temporaryHome()
        let child = try Child.spawn([Harness.warden, "wrap", "--", Harness.fixtureServer, "hostile"],
                                    environment: ProcessInfo.processInfo.environment.merging(["WARDEN_HOME": home, "WARDEN_NO_AUTOSTART": "1"]) { $1 })
        try await Task.sleep(for: .milliseconds(500))
        kill(child.pid, SIGTERM)
        let status = await child.status
        close(child.stdin)
        #expect(status == 128 + SIGTERM)
    }

    @Test("client EOF: a server that ignores it is terminated after the grace period")
    func clientEOF() async throws {
        let home = Harness.temporaryHome()
        let started = Date()
        let r = try await runProcess([Harness.warden, "wrap", "--", "/bin/sleep", "60"], input: Data(), environment: ["WARDEN_HOME": home], timeout: 30)
        let elapsed = Date().timeIntervalSince(started)
        #expect(r.status == 128 + SIGTERM)
        #expect(elapsed >= 4.5 && elapsed < 15)
    }

    @Test("a corrupt policy file stops Warden with the file, line and key")
    func corruptPolicy() async throws {
        let home = Harness.temporaryHome()
        let policy = home + "/bad.yaml"
        try "version: 1\nrules:\n  - match: {tool: \"x\"}\n    actoin: deny\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let r = try await runProcess([Harness.warden, "wrap", "--policy", policy, "--", Harness.fixtureServer, "echo"], input: Data(),
                                     environment: ["WARDEN_HOME": home])
        #expect(r.status == 2)
        #expect(r.stderr.contains("bad.yaml:4: rules[0].actoin: is not a known key"))
        #expect(r.stdout.isEmpty)
    }

    @Test("a command that does not exist is reported, not crashed on")
    func missingCommand() async throws {
        let home = Harness.temporaryHome()
        let r = try await runProcess([Harness.warden, "wrap", "--", "/nonexistent/server"], input: Data(), environment: ["WARDEN_HOME": home])
        #expect(r.status == 127)
        #expect(r.stderr.contains("cannot start /nonexistent/server"))
    }
}
