import Foundation
import Testing

/// `warden demo`: the README's first command. Headless, its narrated run is asserted; in tmux, the
/// console shows the live demo and the operator's keys change what the agent experiences.
@Suite("warden demo end to end", .serialized)
struct DemoTests {
    func processes(mentioning text: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid in
            guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) && !line.contains("tmux") ? line : nil
        }
    }

    @Test("--headless narrates the whole job: hidden poisoned tool, rug pull, blocked exfiltration, approved and denied deletions, a playbook with a verified bundle; nothing left behind")
    func headless() async throws {
        let r = try await runProcess([Harness.warden, "demo", "--headless", "--pace", "0.2"],
                                     environment: ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()], timeout: 120)
        let out = r.stdoutText
        #expect(r.status == 0, "\(r.stderr)")
        for line in ["get_alerts is not offered: Warden hid it", "Warden: quarantined", "tools offered now: list_events",
                     "Warden: denied-egress", "[operator] approves files/delete_note", "Deleted old-draft", "[operator] denies files/delete_note",
                     "Warden: denied —", "starts playbook tool-poisoning", "evidence bundle verified", "audit chain intact", "demo finished"] {
            #expect(out.contains(line), "missing from the narration: \(line)")
        }
        let state = try #require(out.split(separator: "\n").first?.components(separatedBy: "state in ").last?.components(separatedBy: " ").first)
        #expect(!FileManager.default.fileExists(atPath: state), "the state directory is removed")
        #expect(processes(mentioning: state).isEmpty, "processes left behind: \(processes(mentioning: state))")
    }

    @Test("in the console: within 60 s ≥ 3 live sessions, a pending grant, flagged tools and alerts; approving and denying from the keys changes the agent's run; q ends everything")
    func console() async throws {
        try #require(ConsoleEndToEndTests.tmuxAvailable())
        let home = Harness.temporaryHome() + "-demo"
        let tmux = ConsoleEndToEndTests.Tmux()
        defer { Task { await tmux.kill() } }
        let started = Date()
        try await tmux.run(["new-session", "-d", "-s", "console", "-x", "130", "-y", "36",
                            "sh", "-c", "exec '\(Harness.warden)' demo --keep --home '\(home)' 2>>'\(home).err'"])
        let (screen, at) = try await tmux.waitFor("a live demo", timeout: 60) { s in
            s.contains("PENDING") && (s.range(of: #"[3-9] live"#, options: .regularExpression) != nil) && s.contains("alerts")
        }
        print("demo: \(Int(at.timeIntervalSince(started))) s to a full console")
        #expect(screen.contains("critical") || screen.contains("high"))
        try await tmux.keys("3")
        _ = try await tmux.waitFor("flagged tools") { $0.contains("malicious") && $0.contains("weather/get_alerts") }

        // Approve the first held deletion from the keyboard: the agent's call goes through.
        try await tmux.keys("2")
        _ = try await tmux.waitFor("the held deletion") { $0.contains("pending") && $0.contains("old-draft") }
        try await tmux.keys("a")
        try await tmux.keys("Enter")
        try await waitForLog(home, "Deleted old-draft")

        // Deny the next one: the agent is told who denied it and why.
        _ = try await tmux.waitFor("the next held deletion", timeout: 30) { $0.contains("pending") && $0.contains("scratch-2") }
        try await tmux.keys("d")
        try await tmux.run(["send-keys", "-t", "console", "-l", "not today"])
        try await tmux.keys("Enter")
        try await tmux.keys("y")
        try await waitForLog(home, #""not today""#)

        try await tmux.keys("q")
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, try await tmux.run(["has-session", "-t", "console"]).status == 0 { try await Task.sleep(for: .milliseconds(100)) }
        #expect(try await tmux.run(["has-session", "-t", "console"]).status != 0, "the demo did not exit on q")
        #expect(processes(mentioning: home).isEmpty, "processes left behind: \(processes(mentioning: home))")
        #expect(FileManager.default.fileExists(atPath: home + "/agent.log"), "--keep keeps the state")
        await tmux.kill()
    }

    func waitForLog(_ home: String, _ text: String) async throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let log = try? String(contentsOfFile: home + "/agent.log", encoding: .utf8), log.contains(text) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the agent never reported \(text)")
        throw CancellationError()
    }
}
