/// What a `call.*` event says about one `tools/call`, typed: the relay builds it where it decides,
/// and the hub's store, correlator and SIEM records and the console read it back with
/// `Event.call`. On the wire (hub API, spool) it is the event's `fields` object, keys as below, so
/// relays and hubs of other builds still read each other.
///
/// Every field but the request id and the tool is optional: each kind of event carries its own
/// part (`call.held`: grant, digest, arguments, deadline; `call.completed`: latency, sizes,
/// destinations; `call.decided`: decision, who and why).
public struct CallFields: Sendable, Hashable {
    /// The call's JSON-RPC id in its session: the events of one call share it.
    public var id: JSONValue
    public var tool: String
    /// What Warden decided; nil when the event says none, or one this build does not know
    /// (`unknownDecision` keeps its name: never read as "allowed").
    public var decision: CallDecision?
    public var unknownDecision: String?
    /// The policy rule (or the control: `review`, `quarantine`, `egress`, …) that decided.
    public var rule: String?
    public var grantID: String?
    /// The operator (or `warden` for a standing grant) that decided a held call.
    public var decidedBy: String?
    public var reason: String?
    /// `ToolPin.digest` of the arguments a grant was asked for.
    public var argumentDigest: String?
    /// The arguments as shown to operators: compact JSON, secrets redacted, cut at 2 KiB, or a
    /// note that they were withheld.
    public var arguments: String?
    /// The destination outside the tool's egress that held or refused the call.
    public var destination: String?
    /// When a held call expires (seconds since 1970).
    public var deadline: Double?
    /// The limit a rate-limited call broke.
    public var limit: Int?
    /// The kinds of secret that refused a call (`deniedSecret`), comma-separated.
    public var secretKinds: String?
    /// Time from the call's arrival to its answer, and the answer's size.
    public var micros: Int?
    public var bytes: Int?
    /// The server answered with `isError`, or with a JSON-RPC error.
    public var isError: Bool
    public var rpcError: Bool
    /// The call came in a JSON-RPC batch.
    public var batch: Bool
    /// The arguments' size and top-level keys, and the paths and hosts found in them.
    public var argBytes: Int?
    public var argKeys: [String]
    public var targets: [String]
    /// What the call breaks of the priors that need no history (`CallPriors`).
    public var priors: [CallPrior]
    /// The pin of the definition the call was made against: a baseline learnt for one definition
    /// says nothing about another (a rug-pulled tool starts over).
    public var pin: String?

    public init(id: JSONValue, tool: String, decision: CallDecision? = nil, rule: String? = nil, grantID: String? = nil, decidedBy: String? = nil,
                reason: String? = nil, argumentDigest: String? = nil, arguments: String? = nil, destination: String? = nil, deadline: Double? = nil,
                limit: Int? = nil, secretKinds: String? = nil, micros: Int? = nil, bytes: Int? = nil, isError: Bool = false, rpcError: Bool = false, batch: Bool = false,
                argBytes: Int? = nil, argKeys: [String] = [], targets: [String] = [], priors: [CallPrior] = [], pin: String? = nil) {
        self.id = id
        self.tool = tool
        self.decision = decision
        self.rule = rule
        self.grantID = grantID
        self.decidedBy = decidedBy
        self.reason = reason
        self.argumentDigest = argumentDigest
        self.arguments = arguments
        self.destination = destination
        self.deadline = deadline
        self.limit = limit
        self.secretKinds = secretKinds
        self.micros = micros
        self.bytes = bytes
        self.isError = isError
        self.rpcError = rpcError
        self.batch = batch
        self.argBytes = argBytes
        self.argKeys = argKeys
        self.targets = targets
        self.priors = priors
        self.pin = pin
    }

    /// Reads the fields of a call event; a field of the wrong type reads as absent.
    public init(_ f: JSONObject) {
        let name = f["decision"]?.stringValue
        let decision = name.flatMap(CallDecision.init(rawValue:))
        self.init(id: f["id"] ?? .null, tool: f["tool"]?.stringValue ?? "", decision: decision, rule: f["rule"]?.stringValue,
                  grantID: f["grantId"]?.stringValue, decidedBy: f["decidedBy"]?.stringValue, reason: f["reason"]?.stringValue,
                  argumentDigest: f["argumentDigest"]?.stringValue, arguments: f["arguments"]?.stringValue,
                  destination: f["destination"]?.stringValue, deadline: f["deadline"]?.doubleValue, limit: f["limit"]?.intValue,
                  secretKinds: f["kinds"]?.stringValue, micros: f["micros"]?.intValue, bytes: f["bytes"]?.intValue,
                  isError: f["isError"]?.boolValue ?? false, rpcError: f["error"]?.boolValue ?? false,
                  batch: f["batch"]?.boolValue ?? false, argBytes: f["argBytes"]?.intValue,
                  argKeys: f["argKeys"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  targets: f["targets"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                  priors: f["priors"]?.arrayValue?.compactMap(CallPrior.init(json:)) ?? [], pin: f["pin"]?.stringValue)
        if decision == nil { unknownDecision = name }
    }

    /// The wire form: only what is set, in a fixed order.
    public var pairs: [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [("id", id), ("tool", .string(tool))]
        func add(_ key: String, _ value: String?) { if let value { out.append((key, .string(value))) } }
        func add(_ key: String, _ value: Int?) { if let value { out.append((key, .int(value))) } }
        add("decision", decision?.rawValue ?? unknownDecision)
        add("rule", rule)
        add("grantId", grantID)
        add("decidedBy", decidedBy)
        add("reason", reason)
        add("argumentDigest", argumentDigest)
        add("arguments", arguments)
        add("destination", destination)
        if let deadline { out.append(("deadline", .number(String(deadline)))) }
        add("limit", limit)
        add("kinds", secretKinds)
        add("micros", micros)
        add("bytes", bytes)
        if micros != nil || isError { out.append(("isError", .bool(isError))) }
        if rpcError { out.append(("error", true)) }
        if batch { out.append(("batch", true)) }
        add("argBytes", argBytes)
        if !argKeys.isEmpty || argBytes != nil { out.append(("argKeys", .array(argKeys.map { .string($0) }))) }
        if !targets.isEmpty { out.append(("targets", .array(targets.map { .string($0) }))) }
        if !priors.isEmpty { out.append(("priors", .array(priors.map(\.json)))) }
        add("pin", pin)
        return out
    }

    /// The decision as a name: the known one, or "unknown decision X" (for records that must say
    /// something, such as SIEM outcomes).
    public var decisionName: String? {
        decision?.rawValue ?? unknownDecision.map { "unknown decision " + $0 }
    }
}

/// A prior a call broke: which, about what, what was seen and what was expected (for the alert,
/// which says both).
public struct CallPrior: Sendable, Hashable {
    /// `destination.ip-literal`, `destination.tunnel`, `destination.random-label`,
    /// `destination.port`, `destination.query-data`, `argument.size`, `argument.enum`, `argument.encoded`.
    public var prior: String
    /// The host or the parameter.
    public var subject: String
    public var seen: String
    public var expected: String

    public init(prior: String, subject: String, seen: String, expected: String) {
        (self.prior, self.subject, self.seen, self.expected) = (prior, subject, seen, expected)
    }

    public init?(json: JSONValue) {
        guard let prior = json["prior"]?.stringValue else { return nil }
        self.init(prior: prior, subject: json["subject"]?.stringValue ?? "", seen: json["seen"]?.stringValue ?? "", expected: json["expected"]?.stringValue ?? "")
    }

    public var json: JSONValue {
        .object(JSONObject(pairs: [("prior", .string(prior)), ("subject", .string(subject)), ("seen", .string(seen)), ("expected", .string(expected))]))
    }
}

extension Event {
    /// The call a `call.*` event is about, typed; nil for other kinds.
    public var call: CallFields? {
        switch kind {
        case .callCompleted, .callDecided, .callHeld, .callCancelled, .callForwarded: CallFields(fields)
        default: nil
        }
    }

    /// A `call.*` event from its typed fields.
    public init(sequence: Int, time: Double, session: String, server: String, kind: EventKind, call: CallFields) {
        self.init(sequence: sequence, time: time, session: session, server: server, kind: kind, fields: JSONObject(pairs: call.pairs))
    }
}
