import Foundation
import Testing
import WardenCore
@testable import WardenConsole

/// Screens rendered into the in-memory screen and compared with checked-in snapshots (text and a
/// role map). `RECORD_SNAPSHOTS=1 swift test --filter SnapshotTests` re-records them.
@Suite("console snapshots")
struct SnapshotTests {
    static let sizes = [TerminalSize(rows: 24, cols: 80), TerminalSize(rows: 20, cols: 60), TerminalSize(rows: 50, cols: 200)]

    static let screens: [(name: String, setup: @Sendable (inout ConsoleModel) -> Void)] = [
        ("sessions", { $0.state.view = .sessions }),
        ("sessions-detail", { m in m.state.view = .sessions; _ = m.handle(.down); m.state.detail = .session("s-2") }),
        ("sessions-call", { m in
            m.state.view = .sessions; _ = m.handle(.down); m.state.detail = .session("s-2")
            _ = m.handle(.down)
            _ = m.handle(.enter)
        }),
        ("sessions-terminate", { m in m.state.view = .sessions; _ = m.handle(.char("K")); for c in "exfil" { _ = m.handle(.char(c)) } }),
        ("grants", { $0.state.view = .grants }),
        ("grants-approve", { m in m.state.view = .grants; _ = m.handle(.char("a")) }),
        ("grants-deny", { m in m.state.view = .grants; _ = m.handle(.char("d")); for c in "not now" { _ = m.handle(.char(c)) } }),
        ("grants-detail", { m in m.state.view = .grants; _ = m.handle(.down); m.state.detail = .grant("g-2") }),
        ("tools", { $0.state.view = .tools }),
        ("tools-detail", { m in m.state.view = .tools; m.state.detail = .tool("evil/add") }),
        ("tools-detail-baseline", { m in
            m.state.view = .tools
            m.update { d in
                var definition = JSONObject()
                definition["description"] = "Fetches a URL and returns the page as Markdown."
                d.toolDetail = ToolDetail(tool: d.tools[3], definition: definition,
                                          baseline: BaselineSummary(calls: 57, keys: ["url", "max_length"], destinations: ["docs.example.org", "evil\u{1B}[31m.example\u{202E}"],
                                                                    pathRoots: ["/home/me/project"], maxArgBytes: 180, maxResultBytes: 48_211, p95Micros: 412_000))
            }
            m.state.detail = .tool("git/git_status")
        }),
        ("grants-detail-calls", { m in
            m.state.view = .grants
            m.update { d in
                d.grantCalls = GrantCalls(grant: "g-2", calls: [
                    GrantCalls.Call(time: 1_760_000_100, session: "s-2", arguments: #"{"name":"groceries"}"#, call: "7"),
                    GrantCalls.Call(time: 1_760_000_160, session: "s-2", arguments: "{\"name\":\"plans\u{1B}[2J\u{202E}\"}", call: "8"),
                ], total: 5)
            }
            _ = m.handle(.down); m.state.detail = .grant("g-2")
        }),
        ("tools-trust-malicious", { m in m.state.view = .tools; _ = m.handle(.char("a")); for c in "tru" { _ = m.handle(.char(c)) } }),
        ("alerts", { $0.state.view = .alerts }),
        ("alerts-detail", { m in m.state.view = .alerts; m.state.detail = .alert("a-2") }),
        ("alerts-marked", { m in m.state.view = .alerts; _ = m.handle(.char("m")) }),
        ("alerts-closed-shown", { m in
            m.state.view = .alerts
            m.update { d in if d.alerts.count > 1 { d.alerts[1].status = .resolved } }
            _ = m.handle(.char("C"))
        }),
        ("alerts-assign", { m in m.state.view = .alerts; _ = m.handle(.char("A")); for c in "bob" { _ = m.handle(.char(c)) } }),
        ("notice", { m in
            m.state.view = .grants
            m.state.message = "held call files/delete_note expired unanswered: the client was told no (grant g-1, 2 lists them)"
            m.state.messageIsError = true
        }),
        ("detail-filter", { m in
            m.state.view = .sessions; _ = m.handle(.down); m.state.detail = .session("s-2")
            for k: Key in [.char("/"), .char("c"), .char("a"), .char("l"), .char("l")] { _ = m.handle(k) }
        }),
        ("playbooks", { $0.state.view = .playbooks }),
        ("playbooks-run", { m in m.state.view = .playbooks; m.state.detail = .run("r-1") }),
        ("audit", { $0.state.view = .audit }),
        ("audit-detail", { m in m.state.view = .audit; _ = m.handle(.enter) }),
        ("help", { $0.state.showHelp = true }),
        ("filter", { m in m.state.view = .audit; for k: Key in [.char("/"), .char("a"), .char("l"), .char("i"), .enter] { _ = m.handle(k) } }),
        ("command", { m in _ = m.handle(.char(":")); _ = m.handle(.char("t")) }),
    ]

    static var directory: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("__Snapshots__") }

    @Test("every view at 24x80, 20x60 and 50x200, hostile text included", arguments: screens.map(\.name))
    func snapshot(_ name: String) throws {
        let setup = Self.screens.first { $0.name == name }!.setup
        let record = ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1"
        for size in Self.sizes {
            var model = ConsoleModel(data: Fixtures.data)
            setup(&model)
            let frame = ConsoleRenderer(utcOffset: 0).render(&model, size: size, now: Fixtures.now)
            let screen = MemoryScreen(rows: size.rows, cols: size.cols)
            screen.present(frame)
            let shown = try #require(screen.frame)
            let text = shown.text + "\n--- roles ---\n" + shown.roleMap + "\n"
            // The invariant behind every snapshot: nothing raw reaches a cell.
            for cell in shown.cells {
                #expect(cell.text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F && !(0x80...0x9F).contains($0.value) && !(0x202A...0x202E).contains($0.value) && $0.value != 0x200B && !(0xE0000...0xE0FFF).contains($0.value) },
                        "raw control or invisible character in \(name) at \(size)")
            }
            let file = Self.directory.appendingPathComponent("\(name)-\(size.cols)x\(size.rows).txt")
            if record || !FileManager.default.fileExists(atPath: file.path) {
                try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
                try text.write(to: file, atomically: true, encoding: .utf8)
                if !record { Issue.record("recorded a new snapshot \(file.lastPathComponent); check it and commit it") }
                continue
            }
            let expected = try String(contentsOf: file, encoding: .utf8)
            #expect(text == expected, "\(name) at \(size.cols)x\(size.rows) differs from \(file.lastPathComponent) (RECORD_SNAPSHOTS=1 re-records)")
        }
    }
}
