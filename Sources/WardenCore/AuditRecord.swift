/// One entry of the tamper-evident audit log. `hash` covers every other field and the previous
/// record's hash, so editing, deleting or reordering any record breaks the chain from there on.
public struct AuditRecord: Sendable, Hashable {
    /// 1, 2, 3… without gaps.
    public var sequence: Int
    /// Seconds since 1970.
    public var time: Double
    /// Who did it: an operator (`alice (uid 1000)`), `hub`, `wrap:<session>`, or `playbook:<run>`.
    public var actor: String
    /// What was done: `grant.approved`, `tool.quarantined`, `connection.refused`, …
    public var action: String
    /// What it was done to: a grant id, `server/tool`, a uid.
    public var subject: String
    public var details: JSONObject
    /// Hex SHA-256 of the previous record (64 zeros for the first).
    public var previousHash: String
    public var hash: String

    public init(sequence: Int, time: Double, actor: String, action: String, subject: String, details: JSONObject,
                previousHash: String, hash: String) {
        self.sequence = sequence
        self.time = time
        self.actor = actor
        self.action = action
        self.subject = subject
        self.details = details
        self.previousHash = previousHash
        self.hash = hash
    }

    public static let genesisHash = String(repeating: "0", count: 64)

    /// The bytes the hash is computed over: canonical JSON of every field but `hash`.
    public var hashedContent: [UInt8] {
        JSONWriter.canonicalBytes(.object(JSONObject(pairs: [
            ("sequence", .int(sequence)), ("time", .number(String(time))), ("actor", .string(actor)),
            ("action", .string(action)), ("subject", .string(subject)), ("details", .object(details)),
            ("previousHash", .string(previousHash)),
        ])))
    }
}
