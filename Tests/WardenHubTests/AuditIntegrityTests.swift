import Foundation
import Testing
import WardenCore
@testable import WardenHub
@testable import WardenStore

/// A home with a store and a signer on it, as a hub start makes them.
func signerRig(clock: ManualClock = ManualClock()) throws -> (AuditSigner, Store, WardenHome, ManualClock) {
    let home = WardenHome(path: FileManager.default.temporaryDirectory.appendingPathComponent("wa-\(UUID().uuidString)").path)
    try home.prepare()
    let store = try Store(path: home.path + "/warden.db")
    return (try AuditSigner(home: home, store: store, clock: clock.read), store, home, clock)
}

/// What signed heads and anchors catch, below the CLI: the attacker edits the database and the
/// head file directly.
@Suite("audit integrity: signed heads and anchors")
struct AuditSignerTests {
    @Test("each new head is signed into audit.head (0600) and the chain verifies against it")
    func signsHeads() throws {
        let (signer, store, home, _) = try signerRig()
        #expect(try signer.verify(anchors: []) == .intact(records: 0, head: AuditRecord.genesisHash))
        for i in 1...3 { try store.audit(actor: "alice", action: "grant.approved", subject: "g-\(i)") }
        let head = try #require(signer.advance())
        #expect(head.sequence == 3)
        #expect(AuditAnchor(token: try String(contentsOfFile: home.auditHeadPath, encoding: .utf8)) == head)
        #expect(try FileManager.default.attributesOfItem(atPath: home.auditHeadPath)[.posixPermissions] as? Int == 0o600)
        #expect(try FileManager.default.attributesOfItem(atPath: home.auditKeyPath)[.posixPermissions] as? Int == 0o600)
        guard case .intact(3, _) = try signer.verify(anchors: []) else { Issue.record("intact chain not verified"); return }
    }

    @Test("truncating the chain and writing a matching head by hand is found, with or without the hub that signed")
    func truncationWithForgedHead() throws {
        let (signer, store, home, clock) = try signerRig()
        for i in 1...5 { try store.audit(actor: "alice", action: "grant.approved", subject: "g-\(i)") }
        signer.advance()
        try store.pool.write { try $0.execute(sql: "DELETE FROM audit WHERE seq > 3") }
        let third = try #require(try store.auditHead())
        // The old, unsigned format; then the real format with the old signature.
        for forged in ["3 \(third.hash)\n", signer.head!.token.replacingOccurrences(of: ".5.", with: ".3.")] {
            try forged.write(toFile: home.auditHeadPath, atomically: true, encoding: .utf8)
            for verifier in [signer, try AuditSigner(home: home, store: store, clock: clock.read)] {
                guard case .broken(_, let problem) = try verifier.verify(anchors: []) else { Issue.record("forged head accepted"); continue }
                #expect(problem.contains("audit.head") && (problem.contains("signature") || problem.contains("not a signed")), "\(problem)")
            }
        }
        // A deleted head file is no better.
        try FileManager.default.removeItem(atPath: home.auditHeadPath)
        guard case .broken(_, let missing) = try signer.verify(anchors: []) else { Issue.record("missing head accepted"); return }
        #expect(missing.contains("missing"))
    }

    @Test("a re-signed head over a truncated chain still fails against the running hub's memory and an earlier anchor")
    func resignedTruncation() throws {
        let (signer, store, home, clock) = try signerRig()
        for i in 1...5 { try store.audit(actor: "alice", action: "grant.approved", subject: "g-\(i)") }
        signer.advance()
        let exported = try #require(signer.anchorDue())
        try store.pool.write { try $0.execute(sql: "DELETE FROM audit WHERE seq > 2") }
        // The attacker read the key and signs the truncated head.
        let key = try #require(try AuditKey.load(path: home.auditKeyPath))
        let third = try #require(try store.auditHead())
        try (key.sign(sequence: third.sequence, head: third.hash, time: 2000).token + "\n").write(toFile: home.auditHeadPath, atomically: true, encoding: .utf8)
        guard case .broken(3, let memory) = try signer.verify(anchors: []) else { Issue.record("running hub did not notice"); return }
        #expect(memory.contains("truncated"))
        // A hub started afterwards has only the file, which now verifies: the exported anchor decides.
        let restarted = try AuditSigner(home: home, store: store, clock: clock.read)
        let alone = try restarted.verify(anchors: [])
        guard case .intact = alone else { Issue.record("expected the re-signed head to verify on its own: \(alone)"); return }
        guard case .broken(3, let anchored) = try restarted.verify(anchors: [exported]) else { Issue.record("anchor did not catch it"); return }
        #expect(anchored.contains("anchor 5") && anchored.contains("truncated"))
    }

    @Test("a chain rewritten with fresh hashes and a re-signed head fails against an anchor exported before")
    func rewrittenChain() throws {
        let (signer, store, home, clock) = try signerRig()
        for i in 1...4 { try store.audit(actor: "alice", action: "grant.approved", subject: "g-\(i)", time: Double(i)) }
        signer.advance()
        let exported = try #require(signer.anchorDue())
        // Rewrite record 2's actor and recompute every hash after it, as an attacker with the key would.
        var records = try store.auditRecords(after: 0)
        records[1].actor = "mallory"
        var previous = AuditRecord.genesisHash
        for i in records.indices {
            records[i].previousHash = previous
            records[i].hash = Store.hash(records[i])
            previous = records[i].hash
        }
        try store.pool.write { db in
            for r in records {
                try db.execute(sql: "UPDATE audit SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?", arguments: [r.actor, r.previousHash, r.hash, r.sequence])
            }
        }
        let key = try #require(try AuditKey.load(path: home.auditKeyPath))
        try (key.sign(sequence: 4, head: previous, time: 3000).token + "\n").write(toFile: home.auditHeadPath, atomically: true, encoding: .utf8)
        let restarted = try AuditSigner(home: home, store: store, clock: clock.read)
        let result = try restarted.verify(anchors: [exported])
        guard case .broken(4, let problem) = result else { Issue.record("rewrite not caught by the anchor: \(result)"); return }
        #expect(problem.contains("rewritten"))
        // A forged anchor, or one of another key, is refused as such.
        var forged = exported
        forged.head = previous
        guard case .broken(_, let bad) = try restarted.verify(anchors: [forged]) else { Issue.record("forged anchor accepted"); return }
        #expect(bad.contains("does not verify"))
        let other = AuditKey.generate().sign(sequence: 4, head: previous, time: 3000)
        guard case .broken(_, let foreign) = try restarted.verify(anchors: [other]) else { Issue.record("foreign anchor accepted"); return }
        #expect(foreign.contains("not this hub's audit key"))
    }

    @Test("the hub does not sign a head that does not extend the one it signed (truncated, then regrown)")
    func refusesToBless() throws {
        let (signer, store, _, _) = try signerRig()
        for i in 1...4 { try store.audit(actor: "alice", action: "grant.approved", subject: "g-\(i)") }
        signer.advance()
        try store.pool.write { try $0.execute(sql: "DELETE FROM audit WHERE seq > 2") }
        for i in 3...6 { try store.audit(actor: "hub", action: "x", subject: "\(i)") }
        #expect(signer.advance() == nil)
        #expect(signer.head?.sequence == 4)
        guard case .broken(_, let problem) = try signer.verify(anchors: []) else { Issue.record("regrown chain accepted"); return }
        #expect(problem.contains("stopped signing"))
    }

    @Test("anchors for the SIEM stream: at once on start, then at most every few seconds while the head moves")
    func anchorsAreDue() throws {
        let (signer, store, _, clock) = try signerRig()
        #expect(signer.anchorDue()?.sequence == 0)
        #expect(signer.anchorDue() == nil)
        try store.audit(actor: "a", action: "x", subject: "y")
        signer.advance()
        #expect(signer.anchorDue() == nil)
        clock.advance(AuditSigner.anchorInterval)
        #expect(signer.anchorDue()?.sequence == 1)
        clock.advance(AuditSigner.anchorInterval)
        #expect(signer.anchorDue() == nil)
        clock.advance(AuditSigner.heartbeatInterval)
        let heartbeat = try #require(signer.anchorDue())
        #expect(heartbeat.sequence == 1 && signer.key.signed(heartbeat))
    }
}

@Suite("SIEM formats escape untrusted text")
struct SIEMEscapingTests {
    /// A tool name as a hostile server could choose it: OSC 52 (write the clipboard), clear screen,
    /// a right-to-left override, a zero-width space, a BEL, a line break, and CEF's own specials.
    static let name = "read\u{1B}]52;c;Y3VybCBldmlsLnNo\u{07}\u{1B}[2J\u{202E}txt.exe\u{200B}|a=b\\c\nd\u{2066}"

    static func record() -> SIEMRecord {
        SIEMRecord(kind: .finding, uid: "e-1", time: 1_800_000_000, severity: .high, name: "tool.quarantined",
                   message: "tool \(name) on fs quarantined: \(name)", server: "fs\u{1B}[31m", tool: name, session: "s-1",
                   actor: "warden", outcome: "quarantined", extra: JSONObject(pairs: [("evidence", .string(name))]))
    }

    static func dangerous(_ line: String) -> [String] {
        line.unicodeScalars.filter { SafeText.isUnsafe($0) }.map { "U+" + String($0.value, radix: 16) }
    }

    @Test("no raw control, escape, bidi or invisible character in any format", arguments: SIEMFormat.allCases)
    func noRawBytes(_ format: SIEMFormat) {
        let line = format.encode(Self.record(), hostname: "host")
        #expect(Self.dangerous(line).isEmpty, "\(format): \(Self.dangerous(line))")
        #expect(!line.contains("\n"))
    }

    @Test("CEF: header | and \\ escaped, extension \\ = and line breaks escaped, the rest as <U+XXXX>")
    func cef() {
        let line = SIEMFormat.cef.encode(Self.record())
        let header = line.split(separator: "|", maxSplits: 7, omittingEmptySubsequences: false)
        #expect(header.count == 8)
        #expect(line.contains("cs2=read<U+001B>]52;c;Y3VybCBldmlsLnNo<U+0007><U+001B>[2J<U+202E>txt.exe<U+200B>|a\\=b\\\\c\\nd<U+2066>"))
        // In the header, | is escaped so the field count holds.
        #expect(line.contains("txt.exe<U+200B>\\|a=b\\\\c<U+000A>d"))
    }

    @Test("syslog: SD-PARAM escaping plus <U+XXXX>; OCSF: \\uXXXX that parses back to the original")
    func syslogAndOCSF() throws {
        let syslog = SIEMFormat.syslog.encode(Self.record(), hostname: "host")
        #expect(syslog.contains("tool=\"read<U+001B>\\]52;c;Y3VybCBldmlsLnNo<U+0007><U+001B>[2J<U+202E>txt.exe<U+200B>|a=b\\\\c<U+000A>d<U+2066>\""))
        let ocsf = SIEMFormat.ocsf.encode(Self.record())
        #expect(ocsf.contains(#"\u001b]52;c;"#) && ocsf.contains(#"\u202e"#) && ocsf.contains(#"\u200b"#))
        let parsed = try JSONParser.parse(ocsf)
        #expect(parsed["unmapped"]?["evidence"]?.stringValue == Self.name)
    }

    @Test("an anchor record carries its token whole in every format", arguments: SIEMFormat.allCases)
    func anchorToken(_ format: SIEMFormat) {
        let anchor = AuditKey.generate().sign(sequence: 12, head: String(repeating: "c", count: 64), time: 1_800_000_000)
        let line = format.encode(SIEMRecord.from(anchor))
        #expect(AuditAnchor.all(in: line) == [anchor])
    }
}
