import Foundation
import Synchronization
import WardenCore
import WardenStore

/// Keeps the audit chain's signed head: signs every new head that extends the one it signed before
/// and writes it to `$WARDEN_HOME/audit.head`, hands out anchors for the SIEM stream, and checks the
/// chain against the head file, its own memory and the anchors an operator brings back.
///
/// It never signs a head that does not extend the last one it signed: if records were removed from
/// the end, or the chain was rewritten, while the hub ran or since it last stopped, it stops
/// signing (and says so once on stderr), so `warden audit verify` keeps failing instead of the
/// next change blessing the damage. Thread-safe; file writes block briefly (the callers are the
/// hub's connection threads and its ticker, never the cooperative pool).
final class AuditSigner: Sendable {
    let key: AuditKey
    /// Records the chain had when this start made a new key over it (nil: the key was there).
    let createdOver: Int?
    private let headPath: String
    private let store: Store
    private let clock: @Sendable () -> Double

    private struct State {
        /// The last head this hub signed (or read, signed by its key, at start).
        var head: AuditAnchor?
        /// Why it stopped signing, once it has.
        var refusal: String?
        /// The last anchor handed to the SIEM stream, and when.
        var exported: (sequence: Int, at: Double)?
    }
    private let state = Mutex(State())

    /// How often a changed head goes to the SIEM stream at most, and how often an unchanged one
    /// is sent again (a heartbeat: a collector that stops seeing anchors knows the hub stopped).
    static let anchorInterval: Double = 5
    static let heartbeatInterval: Double = 3600

    init(home: WardenHome, store: Store, clock: @escaping @Sendable () -> Double) throws(StoreError) {
        self.headPath = home.auditHeadPath
        self.store = store
        self.clock = clock
        if let key = try AuditKey.load(path: home.auditKeyPath) {
            self.key = key
            createdOver = nil
            switch Self.read(headPath, key: key) {
            case .success(let head):
                state.withLock { $0.head = head }
            case .failure(let problem):
                // No base to extend: sign nothing until an operator has looked (docs/audit.md).
                state.withLock { $0.refusal = problem.text }
                Self.warn("not signing audit heads: \(problem.text)")
            }
        } else {
            // First start with signed heads, or the old key was moved aside: trust the chain as it
            // is now (HubService audits this, and the SIEM sees it). The head is written before the
            // key, so a crash in between leaves no key and the next start simply does this again.
            let key = AuditKey.generate()
            let current = try store.auditHead()
            let head = key.sign(sequence: current?.sequence ?? 0, head: current?.hash ?? AuditRecord.genesisHash, time: clock())
            try Self.write(head, to: headPath)
            try key.save(path: home.auditKeyPath)
            self.key = key
            createdOver = current?.sequence ?? 0
            state.withLock { $0.head = head }
        }
    }

    /// The last head signed.
    var head: AuditAnchor? { state.withLock { $0.head } }

    /// Signs the chain's new head if records were added after the signed one and link to it.
    /// Returns the new head, or nil when there was nothing to sign (or signing has stopped).
    @discardableResult
    func advance() -> AuditAnchor? {
        state.withLock { s -> AuditAnchor? in
            guard s.refusal == nil, let head = s.head else { return nil }
            guard let records = try? store.auditRecords(after: head.sequence), !records.isEmpty else { return nil }
            var sequence = head.sequence
            var hash = head.head
            for r in records {
                guard r.sequence == sequence + 1, r.previousHash == hash else {
                    let problem = "record \(r.sequence) does not extend the head this hub signed (record \(head.sequence), \(head.head.prefix(12))…): records were removed or rewritten"
                    s.refusal = problem
                    Self.warn("not signing audit heads: \(problem). Run `warden audit verify`.")
                    return nil
                }
                sequence = r.sequence
                hash = r.hash
            }
            let signed = key.sign(sequence: sequence, head: hash, time: clock())
            do throws(StoreError) {
                try Self.write(signed, to: headPath)
            } catch {
                // The next change tries again; until then `verify` reports the older head.
                Self.warn("cannot write \(headPath): \(error.problem)")
                return nil
            }
            s.head = signed
            return signed
        }
    }

    /// The anchor to put into the SIEM stream now, if one is due: the head changed and the last
    /// anchor is `anchorInterval` old (or, when `final`, any age: the hub is stopping), or the
    /// head did not change for `heartbeatInterval`.
    func anchorDue(final: Bool = false) -> AuditAnchor? {
        let now = clock()
        return state.withLock { s -> AuditAnchor? in
            guard let head = s.head else { return nil }
            if let last = s.exported {
                let changed = last.sequence != head.sequence && (final || now - last.at >= Self.anchorInterval)
                guard changed || now - last.at >= Self.heartbeatInterval else { return nil }
            }
            s.exported = (head.sequence, now)
            // Signed now, so the anchor's time says when the stream last heard from the hub.
            return key.sign(sequence: head.sequence, head: head.head, time: now)
        }
    }

    /// Checks the chain: every record's hash and link; that `audit.head` is signed by this hub's
    /// key and is the chain's last record; that the chain still has the head this hub signed last;
    /// and that it passes through each of `anchors` (which must carry this key's signature).
    func verify(anchors: [AuditAnchor]) throws(StoreError) -> AuditVerification {
        // Sign what was added since the last change (normally nothing), so a record written an
        // instant ago is not mistaken for an unsigned one; a writer racing this call gets a retry.
        for _ in 0..<5 {
            advance()
            let behind = try store.auditHead().map { $0.sequence > (head?.sequence ?? 0) } ?? false
            if !behind || state.withLock({ $0.refusal != nil }) { break }
        }
        let end = try store.auditHead()?.sequence ?? 0
        let file: AuditAnchor
        switch Self.read(headPath, key: key) {
        case .success(let head): file = head
        case .failure(let problem): return .broken(sequence: end, problem: problem.text)
        }
        var checkpoints = [AuditCheckpoint(sequence: file.sequence, hash: file.head, name: "the signed head in audit.head (record \(file.sequence))", isEnd: true)]
        let (memory, refusal) = state.withLock { ($0.head, $0.refusal) }
        if let memory, memory.sequence != file.sequence || memory.head != file.head {
            // The file was replaced by another head this key signed (an older one, say): the
            // hub's memory is out of a file writer's reach.
            checkpoints.append(AuditCheckpoint(sequence: memory.sequence, hash: memory.head, name: "the head this hub signed at \(Self.stamp(memory.time)) (record \(memory.sequence))"))
        }
        for anchor in anchors {
            if anchor.keyID != key.id {
                return .broken(sequence: anchor.sequence, problem: "anchor \(anchor.sequence) (signed \(Self.stamp(anchor.time))) is signed by key \(anchor.keyID), not this hub's audit key \(key.id): the key was replaced after the anchor was exported, so nothing signed since can be trusted")
            }
            guard key.signed(anchor) else {
                return .broken(sequence: anchor.sequence, problem: "the signature of anchor \(anchor.sequence) does not verify: it is not an anchor this hub signed (forged or edited)")
            }
            checkpoints.append(AuditCheckpoint(sequence: anchor.sequence, hash: anchor.head, name: "anchor \(anchor.sequence) (signed \(Self.stamp(anchor.time)))"))
        }
        let result = try store.verifyAudit(checkpoints: checkpoints)
        if case .broken(let sequence, let problem) = result, let refusal {
            return .broken(sequence: sequence, problem: "\(problem); the hub stopped signing heads: \(refusal)")
        }
        return result
    }

    // MARK: The head file

    struct Problem: Error { var text: String }

    /// The head in `path`, if it is one signed by `key`; otherwise what is wrong with it.
    static func read(_ path: String, key: AuditKey) -> Result<AuditAnchor, Problem> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(Problem(text: "audit.head is missing: the chain head is not signed, so records removed from the end (truncation) cannot be ruled out"))
        }
        guard let head = AuditAnchor(token: String(decoding: data, as: UTF8.self)) else {
            return .failure(Problem(text: "audit.head is not a signed chain head (it was rewritten, or written by a Warden before signed heads): the head is unsigned, so truncation cannot be ruled out"))
        }
        guard head.keyID == key.id else {
            return .failure(Problem(text: "audit.head is signed by key \(head.keyID), not this hub's audit key \(key.id) (keys/audit.key): it was forged or the key was replaced"))
        }
        guard key.signed(head) else {
            return .failure(Problem(text: "the signature on audit.head does not verify: the head was forged or edited (the log may have been truncated or rewritten)"))
        }
        return .success(head)
    }

    static func write(_ head: AuditAnchor, to path: String) throws(StoreError) {
        do { try PrivateFile.write(Array((head.token + "\n").utf8), to: path) } catch { throw StoreError(path: path, problem: error.reason, file: "audit head") }
    }

    static func stamp(_ time: Double) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: time))
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warden hub: \(message)\n".utf8))
    }
}
