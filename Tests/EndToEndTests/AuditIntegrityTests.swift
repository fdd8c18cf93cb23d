// The audit log against an attacker with the user's uid, end to end: the real hub and the real
// `warden` binary, and an attacker who edits the hub's files directly — deleting rows with the
// sqlite3 CLI, rewriting the whole chain with fresh hashes (GRDB), re-signing the head with the
// key it read (Crypto), and serving a tool whose name carries terminal escapes. Each test checks
// the attacker's outcome does not happen: `warden audit verify` fails (without an anchor when the
// head is not validly signed, with an earlier exported anchor when it is), no export or CLI output
// carries a raw escape, bidi or invisible character, and Warden's files are owner-only.
// What a same-uid attacker can and cannot hide is in docs/audit.md.
import Crypto
import Foundation
import GRDB
import Testing
import WardenCore

@Suite("audit integrity against a same-uid attacker", .serialized)
struct AuditIntegrityTests {
    static let toolName = "read\u{1B}]52;c;Y3VybCBldmlsLnNo\u{07}\u{1B}[2J\u{202E}txt.exe\u{200B}"

    /// One relay session without a Python client: initialize, tools/list, end of input.
    func session(_ home: String, name: String, mode: String) async throws {
        let lines = [
            #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"audit-test","version":"1"}}}"#,
            #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            #"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        ].map { $0 + "\n" }.joined()
        let r = try await runProcess([Harness.warden, "wrap", "--name", name, "--", Harness.fixtureServer, mode], input: Data(lines.utf8),
                                     environment: ["WARDEN_HOME": home], timeout: 60)
        #expect(r.stdoutText.contains(#""id":2"#), "wrap answered tools/list: \(r.stderr.suffix(2000))")
    }

    /// Waits until the hub knows `server`'s tools (the relay's events arrive in the background).
    func waitForTools(_ home: String, server: String) async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let tools = (try await wardenJSON(["tools", "list"], home: home)["tools"] as? [[String: Any]] ?? []).filter { $0["server"] as? String == server }
            if !tools.isEmpty { return tools }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("the hub never listed \(server)'s tools")
        throw CancellationError()
    }

    /// Audited history without Python: `changes` operator reviews of store/echo.
    func history(_ home: String, changes: Int) async throws {
        let known = try await wardenJSON(["tools", "list"], home: home)["tools"] as? [[String: Any]] ?? []
        if !known.contains(where: { $0["server"] as? String == "store" }) {
            try await session(home, name: "store", mode: "echo")
            _ = try await waitForTools(home, server: "store")
        }
        for i in 0..<changes {
            let r = try await warden(["tools", i % 2 == 0 ? "quarantine" : "approve", "store/echo", "--reason", "review \(i)"], home: home)
            #expect(r.status == 0, "\(r.stderr)")
        }
    }

    func sqlite(_ home: String, _ sql: String) async throws -> String {
        let r = try await runProcess(["/usr/bin/sqlite3", home + "/warden.db", sql])
        #expect(r.status == 0, "sqlite3: \(r.stderr)")
        return r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func verify(_ home: String, _ extra: [String] = []) async throws -> Finished {
        try await warden(["audit", "verify"] + extra, home: home, timeout: 60)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// What the attacker does with the key it read: sign a head in the hub's own format.
    static func forgeHead(home: String, sequence: Int, head: String) throws -> String {
        let text = try String(contentsOfFile: home + "/keys/audit.key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var raw: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            raw.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        let keyID = String(hex(SHA256.hash(data: key.publicKey.rawRepresentation)).prefix(16))
        let signed = "warden-anchor.1.\(sequence).\(head).\(Int64(Date().timeIntervalSince1970 * 1000)).\(keyID)"
        return signed + "." + hex(try key.signature(for: Data(signed.utf8)))
    }

    /// Characters no output may carry raw (line breaks between records excepted).
    static func raw(_ text: String) -> [String] {
        text.unicodeScalars.filter { $0 != "\n" && SafeText.isUnsafe($0) }.map { "U+" + String($0.value, radix: 16, uppercase: true) }
    }

    @Test("(a) deleting the last records and rewriting audit.head to match: verify exits 1 and says the head is not signed, before and after a hub restart")
    func truncation() async throws {
        let home = Harness.temporaryHome()
        let first = try await HubProcess(home: home)
        try await history(home, changes: 5)
        let ok = try await verify(home)
        #expect(ok.status == 0 && ok.stdoutText.contains("audit log intact"), "\(ok.stdoutText)\(ok.stderr)")
        let before = Int(try await sqlite(home, "SELECT max(seq) FROM audit"))!
        let signedHead = try String(contentsOfFile: home + "/audit.head", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = signedHead.split(separator: ".")
        #expect(parts.count == 7 && signedHead.hasPrefix("warden-anchor.1.\(before)."), "audit.head is a signed anchor: \(signedHead)")

        // The attacker removes the last two records and writes the head the old Warden wrote.
        _ = try await sqlite(home, "DELETE FROM audit WHERE seq > \(before - 2)")
        let last = try await sqlite(home, "SELECT seq || ' ' || hash FROM audit ORDER BY seq DESC LIMIT 1")
        try (last + "\n").write(toFile: home + "/audit.head", atomically: true, encoding: .utf8)
        let caught = try await verify(home)
        #expect(caught.status == 1, "\(caught.stdoutText)")
        #expect(caught.stdoutText.contains("BROKEN") && caught.stdoutText.contains("not a signed chain head") && caught.stdoutText.contains("truncation"),
                "\(caught.stdoutText)")

        // Nor does a restart bless it, nor a head in the new format carrying the old signature.
        await first.stop()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        #expect(try await verify(home).status == 1)
        let (seq, hash) = (last.split(separator: " ")[0], last.split(separator: " ")[1])
        let forged = "warden-anchor.1.\(seq).\(hash).\(parts[4]).\(parts[5]).\(parts[6])\n"
        try forged.write(toFile: home + "/audit.head", atomically: true, encoding: .utf8)
        let bad = try await verify(home)
        #expect(bad.status == 1 && bad.stdoutText.contains("signature on audit.head does not verify"), "\(bad.stdoutText)")
    }

    @Test("(b) the chain rewritten with fresh hashes and its head re-signed with the stolen key: verify --anchor with an earlier export fails")
    func rewrite() async throws {
        let home = Harness.temporaryHome()
        try "export:\n  - {format: syslog, file: \(home)/siem.log}\n".write(toFile: home + "/config.yaml", atomically: true, encoding: .utf8)
        let first = try await HubProcess(home: home)
        try await history(home, changes: 3)
        // The operator keeps an export (it ends with the signed head) somewhere the attacker cannot reach.
        let export = try await warden(["audit", "export", "--format", "cef"], home: home)
        let saved = home + "/saved-export.cef"
        try export.stdout.write(to: URL(fileURLWithPath: saved))
        #expect(export.stdoutText.contains("warden-anchor.1."))
        try await history(home, changes: 2)
        let matched = try await verify(home, ["--anchor", saved])
        #expect(matched.status == 0 && matched.stdoutText.contains("1 anchor matched"), "\(matched.stdoutText)\(matched.stderr)")
        // The live stream carried anchors as the head moved (and carries the last one when the hub stops).
        await first.stop()
        let stream = try String(contentsOfFile: home + "/siem.log", encoding: .utf8)
        let streamed = stream.split(separator: "\n").compactMap { line in
            line.split(separator: "\"").first { $0.hasPrefix("warden-anchor.1.") && !$0.hasPrefix("warden-anchor.1.0.") }
        }
        #expect(!streamed.isEmpty, "the SIEM stream has anchors: \(stream.suffix(2000))")
        try stream.write(toFile: home + "/siem-before.log", atomically: true, encoding: .utf8)

        // The attacker rewrites who approved record 2, recomputes every hash and re-signs the head.
        let db = try DatabaseQueue(path: home + "/warden.db")
        let (previous, last) = try await db.write { db -> (String, Int) in
            var previous = AuditRecord.genesisHash
            var last = 0
            for row in try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq") {
                let details = (try? JSONParser.parse(row["details"] as String))?.objectValue ?? JSONObject()
                var record = AuditRecord(sequence: row["seq"], time: row["time"], actor: row["actor"], action: row["action"], subject: row["subject"],
                                         details: details, previousHash: previous, hash: "")
                if record.sequence == 2 { record.actor = "mallory" }
                record.hash = Self.hex(SHA256.hash(data: record.hashedContent))
                try db.execute(sql: "UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                               arguments: [record.actor, record.previousHash, record.hash, record.sequence])
                previous = record.hash
                last = record.sequence
            }
            return (previous, last)
        }
        try db.close()
        try (try Self.forgeHead(home: home, sequence: last, head: previous) + "\n").write(toFile: home + "/audit.head", atomically: true, encoding: .utf8)

        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        // Locally the rewrite is complete (the attacker had the key): only an anchor kept elsewhere tells.
        let alone = try await verify(home)
        #expect(alone.status == 0, "the rewrite was expected to pass on its own: \(alone.stdoutText)")
        let anchored = try await verify(home, ["--anchor", saved])
        #expect(anchored.status == 1 && anchored.stdoutText.contains("rewritten"), "\(anchored.stdoutText)\(anchored.stderr)")
        // The SIEM stream as the collector kept it catches it too, and so does one of its anchors pasted as a value.
        let fromStream = try await verify(home, ["--anchor", home + "/siem-before.log"])
        #expect(fromStream.status == 1, "\(fromStream.stdoutText)")
        let pasted = try await verify(home, ["--anchor", String(try #require(streamed.last))])
        #expect(pasted.status == 1, "\(pasted.stdoutText)")
    }

    @Test("(c) a tool named with OSC 52, clear screen, a bidi override and a zero-width space: no export or CLI output carries them raw")
    func escapes() async throws {
        let home = Harness.temporaryHome()
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        try await session(home, name: "esc", mode: "escapes")
        let tools = try await waitForTools(home, server: "esc")
        #expect(tools.contains { $0["name"] as? String == Self.toolName })
        // The operator's review puts the name into an audit record too.
        let q = try await warden(["tools", "quarantine", "esc/" + Self.toolName, "--reason", "escapes in its name"], home: home)
        #expect(q.status == 0, "\(q.stderr)")

        for format in ["cef", "syslog", "ocsf"] {
            let out = try await warden(["audit", "export", "--format", format], home: home)
            #expect(out.status == 0)
            #expect(Self.raw(out.stdoutText).isEmpty, "\(format) export carries raw \(Self.raw(out.stdoutText))")
            // The text is there, escaped the way the format allows.
            let escaped = format == "ocsf" ? #"read\u001b]52;c;Y3VybCBldmlsLnNo\u0007\u001b[2J\u202etxt.exe\u200b"#
                : "read<U+001B>]52;c;Y3VybCBldmlsLnNo<U+0007><U+001B>[2J<U+202E>txt.exe<U+200B>"
            #expect(out.stdoutText.contains(escaped), "\(format): \(out.stdoutText.prefix(3000))")
        }
        for args in [["audit", "list"], ["audit", "list", "--json"], ["tools", "list"], ["tools", "list", "--json"], ["events", "tail", "--json"],
                     ["tools", "show", "esc/" + Self.toolName]] {
            let out = try await warden(args, home: home)
            #expect(out.status == 0, "\(args): \(out.stderr)")
            #expect(Self.raw(out.stdoutText).isEmpty, "warden \(args.joined(separator: " ")) prints raw \(Self.raw(out.stdoutText))")
            #expect(out.stdoutText.contains("52;c;Y3VybCBldmlsLnNo"), "\(args) shows the tool")
        }
        // JSON output is escaped losslessly: a parser reads back the very name the server sent.
        let listed = try await wardenJSON(["audit", "list"], home: home)["records"] as? [[String: Any]] ?? []
        #expect(listed.contains { $0["subject"] as? String == "esc/" + Self.toolName })
    }

    @Test("(d) warden.db, its -wal and -shm, the spool, audit.head, the key, pins and exports are owner-only; a 0644 database is tightened")
    func modes() async throws {
        let home = Harness.temporaryHome()
        chmod(home, 0o755)
        func mode(_ path: String) -> Int? { (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int }
        // No hub: the relay spools its events.
        try await session(home, name: "store", mode: "echo")
        let spooled = (try FileManager.default.contentsOfDirectory(atPath: home + "/spool")).filter { $0.hasSuffix(".jsonl") }
        #expect(!spooled.isEmpty)
        for name in spooled { #expect(mode(home + "/spool/" + name) == 0o600, "spool/\(name)") }
        #expect(mode(home + "/spool") == 0o700 && mode(home) == 0o700)

        // A database an older Warden (or sqlite3) left 0644.
        _ = try await sqlite(home, "PRAGMA journal_mode=WAL; CREATE TABLE leftover (x)")
        chmod(home + "/warden.db", 0o644)
        try "export:\n  - {format: ocsf, file: \(home)/siem.jsonl}\n".write(toFile: home + "/config.yaml", atomically: true, encoding: .utf8)
        let hub = try await HubProcess(home: home)
        defer { Task { await hub.stop() } }
        try await history(home, changes: 2)
        for file in ["warden.db", "warden.db-wal", "warden.db-shm", "audit.head", "keys/audit.key", "pins/store.json", "siem.jsonl"] {
            #expect(mode(home + "/" + file) == 0o600, "\(file) is \(String(mode(home + "/" + file) ?? -1, radix: 8))")
        }
        #expect(mode(home + "/keys") == 0o700 && mode(home + "/pins") == 0o700)
    }
}
