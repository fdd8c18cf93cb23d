import WardenCore

extension AuditRecord {
    /// The hub API's form of an audit record (`audit.list`, the `hub.audit` push).
    public var hubJSON: JSONValue {
        .object(JSONObject(pairs: [
            ("sequence", .int(sequence)), ("time", .number(String(time))), ("actor", .string(actor)), ("action", .string(action)),
            ("subject", .string(subject)), ("details", .object(details)), ("previousHash", .string(previousHash)), ("hash", .string(hash)),
        ]))
    }

    /// Reads the hub API's form; nil when a field is missing or of the wrong type (a record that
    /// cannot be read cannot be verified, so it is not guessed at).
    public init?(hubJSON j: JSONValue) {
        guard let sequence = j["sequence"]?.intValue, let time = j["time"]?.doubleValue, let actor = j["actor"]?.stringValue,
              let action = j["action"]?.stringValue, let subject = j["subject"]?.stringValue, let details = j["details"]?.objectValue,
              let previous = j["previousHash"]?.stringValue, let hash = j["hash"]?.stringValue else { return nil }
        self.init(sequence: sequence, time: time, actor: actor, action: action, subject: subject, details: details, previousHash: previous, hash: hash)
    }
}
