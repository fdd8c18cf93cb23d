import Foundation
import Synchronization
import WardenCore
import WardenHubAPI

/// Turns the event stream into alerts: detections the relays made (poisoned tools, rug pulls,
/// secrets, injected results, blocked destinations, rate limits), behaviour that departs from a
/// tool's baseline, and toxic flows inside a session. Pure logic over events; the hub stores what it
/// returns (duplicates are grouped there by `key`).
public final class AlertCorrelator: Sendable {
    /// Calls of a tool that form its baseline before deviations are judged.
    public let warmUp: Int
    let state = Mutex(State())

    struct Baseline {
        var calls = 0
        var keys: Set<String> = []
        var maxArgBytes = 0
        var maxResultBytes = 0
        var latencies: [Int] = []
        var errors = 0
        var destinations: Set<String> = []
        /// The first three components of the paths seen (`/home/me/project`): where the tool works.
        var pathRoots: Set<String> = []
        var firstCall = 0.0
        var warmRate = 0.0
        /// Calls per second over the last minute (a ring of 60 buckets: constant work per call).
        var buckets = [Int](repeating: 0, count: 60)
        var bucketSecond = [Int](repeating: -1, count: 60)
        var recentErrors: [Bool] = []
        /// When the rate deviation was last reported (a flood reports every 10 s, not every call).
        var rateReportedAt = 0.0
        /// The definition this baseline was learnt for (nil: from a relay that does not say).
        var pin: String?

        init() {}

        /// What a restarted hub needs to go on judging without a new warm-up. The last minute's
        /// call-rate ring and recent errors are short-lived and start again.
        var json: JSONObject {
            func strings(_ set: Set<String>) -> JSONValue { .array(set.sorted().map { .string($0) }) }
            return JSONObject(pairs: [
                ("calls", .int(calls)), ("keys", strings(keys)), ("maxArgBytes", .int(maxArgBytes)), ("maxResultBytes", .int(maxResultBytes)),
                ("latencies", .array(latencies.map { .int($0) })), ("errors", .int(errors)), ("destinations", strings(destinations)),
                ("pathRoots", strings(pathRoots)), ("firstCall", .number(String(firstCall))), ("warmRate", .number(String(warmRate))),
                ("rateReportedAt", .number(String(rateReportedAt))),
            ] + (pin.map { [("pin", .string($0))] } ?? []))
        }

        init?(json: JSONObject) {
            guard let calls = json["calls"]?.intValue else { return nil }
            func strings(_ key: String) -> Set<String> { Set(json[key]?.arrayValue?.compactMap(\.stringValue) ?? []) }
            func int(_ key: String) -> Int { json[key]?.intValue ?? 0 }
            self.calls = calls
            keys = strings("keys")
            maxArgBytes = int("maxArgBytes")
            maxResultBytes = int("maxResultBytes")
            latencies = json["latencies"]?.arrayValue?.compactMap(\.intValue) ?? []
            errors = int("errors")
            destinations = strings("destinations")
            pathRoots = strings("pathRoots")
            firstCall = json["firstCall"]?.doubleValue ?? 0
            warmRate = json["warmRate"]?.doubleValue ?? 0
            rateReportedAt = json["rateReportedAt"]?.doubleValue ?? 0
            pin = json["pin"]?.stringValue
            // A baseline past its warm-up always has latencies to take a percentile of.
            if self.calls > 0, latencies.isEmpty { latencies = [0] }
        }
    }

    struct SessionFlow {
        /// Fingerprints of secrets that came back in results.
        var secrets: Set<String> = []
        /// A sensitive file was read (its path in call arguments).
        var sensitivePath: String?
    }

    struct State {
        var baselines: [String: Baseline] = [:]
        /// Baselines changed since `changedBaselines` last took them.
        var dirty: Set<String> = []
        var flows: [String: SessionFlow] = [:]
        /// The times of the last calls to each destination, per session (`session|host`).
        var rhythms: [String: [Double]] = [:]
        var counter = 0
    }

    public init(warmUp: Int = 20) { self.warmUp = warmUp }

    /// Takes the baselines learned or changed since the last call (`server/tool` and its JSON form),
    /// for the hub to store.
    public func changedBaselines() -> [(id: String, data: JSONObject)] {
        state.withLock { s in
            defer { s.dirty.removeAll() }
            return s.dirty.sorted().compactMap { id in s.baselines[id].map { (id: id, data: $0.json) } }
        }
    }

    /// Every baseline, by `server/tool`, for operators: what was learnt, and whether the warm-up is over.
    public func baselines() -> [HubBaseline] {
        state.withLock { s in s.baselines.sorted { $0.key < $1.key }.map { summary($0.key, $0.value) } }
    }

    /// One tool's baseline (`server/tool`), if it has one.
    public func baseline(_ id: String) -> HubBaseline? {
        state.withLock { s in s.baselines[id].map { summary(id, $0) } }
    }

    /// The stored form plus what an operator reads first: whether the warm-up is over, the p95 latency.
    private func summary(_ id: String, _ b: Baseline) -> HubBaseline {
        HubBaseline(id: id, calls: b.calls, warmUp: warmUp, keys: b.keys.sorted(), destinations: b.destinations.sorted(), pathRoots: b.pathRoots.sorted(),
                    maxArgBytes: b.maxArgBytes, maxResultBytes: b.maxResultBytes, p95Micros: b.latencies.sorted().dropFirst(b.latencies.count * 95 / 100).first ?? 0,
                    errors: b.errors, firstCall: b.firstCall)
    }

    /// Forgets the baselines `name` selects (`SERVER/TOOL`, or `SERVER` for all its tools) so they are
    /// learnt again from the next calls. Returns the ids forgotten.
    public func reset(_ name: String) -> [String] {
        state.withLock { s in
            let ids = s.baselines.keys.filter { $0 == name || $0.hasPrefix(name + "/") }.sorted()
            for id in ids {
                s.baselines.removeValue(forKey: id)
                s.dirty.remove(id)
            }
            return ids
        }
    }

    /// Baselines a previous run of the hub stored; records that do not read are skipped (learned again).
    public func restore(_ stored: [(id: String, data: JSONObject)]) {
        state.withLock { s in
            for record in stored { if let b = Baseline(json: record.data) { s.baselines[record.id] = b } }
        }
    }

    /// Alerts the events raise (ungrouped; the store groups by key).
    public func alerts(for events: [Event]) -> [Alert] {
        events.flatMap(alerts(for:))
    }

    func alerts(for e: Event) -> [Alert] {
        let f = e.fields
        let tool = f["tool"]?.stringValue
        func alert(_ rule: String, _ severity: Severity, _ layer: MaestroLayer, _ title: String, key: String, details: JSONObject = JSONObject()) -> Alert {
            let n = state.withLock { s in s.counter += 1; return s.counter }
            let id = "a-" + String(format: "%08x", UInt32(truncatingIfNeeded: Int(e.time * 1000) &+ n)) + String(format: "%04x", n & 0xFFFF)
            return Alert(id: id, rule: rule, severity: severity, layer: layer, title: title, key: "\(rule)|\(key)", server: e.server,
                         session: e.session, tool: tool, events: [e.id], firstSeen: e.time, lastSeen: e.time, details: details)
        }
        switch e.kind {
        case .toolReviewed:
            guard let verdict = f["verdict"]?.stringValue, verdict != "clean" else { return [] }
            let rules = Set(f["findings"]?.arrayValue?.compactMap { $0["rule"]?.stringValue } ?? []).sorted()
            return [alert("tool.poisoned", verdict == "malicious" ? .critical : .medium, .foundationModels,
                          "\(verdict) definition: \(e.server)/\(tool ?? "?") (\(rules.joined(separator: ", ")))",
                          key: "\(e.server)|\(tool ?? "")|\(f["pin"]?.stringValue ?? "")",
                          details: JSONObject(pairs: [("score", f["score"] ?? .null), ("rules", .array(rules.map { .string($0) }))]))]
        case .toolChanged:
            return [alert("tool.rug-pull", .high, .agentEcosystem, "definition of \(e.server)/\(tool ?? "?") changed after it was trusted",
                          key: "\(e.server)|\(tool ?? "")|\(f["pin"]?.stringValue ?? "")",
                          details: JSONObject(pairs: [("pin", f["pin"] ?? .null), ("trustedPin", f["trustedPin"] ?? .null)]))]
        case .dlpFinding:
            let direction = f["direction"]?.stringValue ?? "?"
            let kinds = f["kinds"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let prints = Set(f["findings"]?.arrayValue?.compactMap { $0["fingerprint"]?.stringValue } ?? [])
            var out = [alert("dlp.secret", .high, .dataOperations, "\(kinds.joined(separator: ", ")) in the \(direction) of \(e.server)/\(tool ?? "?")",
                             key: "\(e.server)|\(tool ?? "")|\(direction)|\(e.session)",
                             details: JSONObject(pairs: [("direction", .string(direction)), ("action", f["action"] ?? .null), ("kinds", .array(kinds.map { .string($0) }))]))]
            let flow = state.withLock { s -> (leaked: Bool, Void) in
                if direction == "result" { s.flows[e.session, default: SessionFlow()].secrets.formUnion(prints); return (false, ()) }
                return (!(s.flows[e.session]?.secrets.isDisjoint(with: prints) ?? true), ())
            }
            if flow.leaked {
                out.append(alert("flow.toxic", .critical, .dataOperations,
                                 "a secret returned earlier in this session is now leaving in the arguments of \(e.server)/\(tool ?? "?")",
                                 key: "\(e.session)|\(tool ?? "")", details: JSONObject(pairs: [("fingerprints", .array(prints.sorted().map { .string($0) }))])))
            }
            return out
        case .sandboxNetwork:
            let attempts = f["attempts"]?.intValue ?? 0
            return [alert("sandbox.network", .high, .deploymentInfrastructure,
                          "\(e.server) tried to reach the network \(attempts) time(s) although its sandbox has none (every attempt failed)",
                          key: "\(e.server)|\(e.session)", details: JSONObject(pairs: [("attempts", .int(attempts)), ("total", f["total"] ?? .null)]))]
        case .resultInjection:
            let rules = f["rules"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return [alert("result.injection", .high, .foundationModels, "result of \(e.server)/\(tool ?? "?") carries instructions for the model (\(rules.joined(separator: ", ")))",
                          key: "\(e.server)|\(tool ?? "")", details: JSONObject(pairs: [("action", f["action"] ?? .null)]))]
        case .callDecided:
            // A decision this hub does not know (a newer relay) raises nothing rather than a guess.
            let call = CallFields(f)
            guard let decision = call.decision else { return [] }
            switch decision {
            case .deniedEgress:
                let destination = call.destination ?? "?"
                return [alert("egress.blocked", .high, .deploymentInfrastructure, "\(e.server)/\(tool ?? "?") tried to reach \(destination), outside its allowed destinations",
                              key: "\(e.server)|\(destination)", details: JSONObject(pairs: [("destination", .string(destination)), ("decision", .string(decision.rawValue))]))]
            case .deniedRateLimit:
                return [alert("resource.exhaustion", .medium, .deploymentInfrastructure, "\(e.server): calls over the limit in session \(e.session) (\(call.reason ?? ""))",
                              key: "\(e.server)|\(e.session)", details: JSONObject(pairs: [("limit", call.limit.map { .int($0) } ?? .null)]))]
            case .quarantined, .blocked:
                return [alert("call.blocked", .medium, .agentFrameworks, "a call to \(decision.rawValue) tool \(e.server)/\(tool ?? "?") was refused",
                              key: "\(e.server)|\(tool ?? "")|\(e.session)")]
            case .deniedByPolicy, .deniedSecret:
                return [alert("access.denied", .low, .securityCompliance, "policy refused \(e.server)/\(tool ?? "?") (\(decision.rawValue))",
                              key: "\(e.server)|\(tool ?? "")|\(e.session)|\(decision.rawValue)")]
            case .allowed, .approved, .denied, .expired, .unavailable, .unreviewed, .invalid, .withheld:
                return []
            }
        case .callHeld:
            guard let destination = CallFields(f).destination else { return [] }
            return [alert("egress.blocked", .high, .deploymentInfrastructure, "\(e.server)/\(tool ?? "?") wants to reach \(destination), outside its allowed destinations (held for a person)",
                          key: "\(e.server)|\(destination)", details: JSONObject(pairs: [("destination", .string(destination)), ("decision", "held-egress")]))]
        case .callCompleted:
            let call = CallFields(f)
            return behaviour(e, call, tool: call.tool.isEmpty ? "?" : call.tool, alert: alert)
        case .callForwarded:
            let call = CallFields(f)
            let name = call.tool.isEmpty ? "?" : call.tool
            // Priors need no history: they judge the first call as they judge the thousandth.
            let priors = call.priors.map { p in
                let destination = p.prior.hasPrefix("destination.")
                return alert("behaviour.prior", Self.highPriors.contains(p.prior) ? .high : .medium, destination ? .deploymentInfrastructure : .dataOperations,
                             "\(e.server)/\(name): \(p.seen) (\(p.prior))", key: "\(e.server)|\(name)|\(p.prior)|\(p.subject)",
                             details: JSONObject(pairs: [("prior", .string(p.prior)), ("subject", .string(p.subject)), ("seen", .string(p.seen)), ("expected", .string(p.expected))]))
            }
            let beacons = beacon(e, call).map { b in
                alert("behaviour.beacon", .high, .deploymentInfrastructure,
                      "\(e.server)/\(name): \(b.calls) calls to \(b.host) every \(Self.seconds(b.interval)) (±\(Self.seconds(b.jitter))), the rhythm of a beacon",
                      key: "\(e.server)|\(name)|\(b.host)",
                      details: JSONObject(pairs: [("host", .string(b.host)), ("calls", .int(b.calls)), ("intervalSeconds", .number(String(b.interval))),
                                                  ("jitterSeconds", .number(String(b.jitter))),
                                                  ("expected", "calls an agent makes as it works: irregular, bunched by the task")]))
            }
            return priors + beacons
        case .sessionEnded:
            // Flows are per session: an ended session's sensitive reads cannot flow anywhere now.
            state.withLock { s in
                _ = s.flows.removeValue(forKey: e.session)
                s.rhythms = s.rhythms.filter { !$0.key.hasPrefix(e.session + "|") }
            }
            return []
        default:
            return []
        }
    }

    /// The first three components of a path: `/home/me/project/src/x` → `/home/me/project`.
    static func root(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).prefix(3)
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// Calls to one destination at a steady interval (a second or more, within a tenth of it or 0.3 s):
    /// command-and-control checks in on a clock, work does not. Needs no history: six calls.
    func beacon(_ e: Event, _ call: CallFields) -> [(host: String, calls: Int, interval: Double, jitter: Double)] {
        // Loopback is the operator's own machine: a local server polled on a clock is no beacon.
        // Keyed by registrable domain: rotating a1., a2., a3.evil.example keeps one clock.
        let hosts = Set(call.targets.filter { !$0.hasPrefix("127.") && $0 != "::1" && $0 != "localhost" }.map(Self.registrable))
        guard !hosts.isEmpty else { return [] }
        return state.withLock { s in
            // Bounded: past 50,000 clocks the half least recently called goes, not every session's.
            if s.rhythms.count > 50_000 {
                let keep = s.rhythms.sorted { ($0.value.last ?? 0) > ($1.value.last ?? 0) }.prefix(25_000)
                s.rhythms = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
            }
            var out: [(String, Int, Double, Double)] = []
            for host in hosts.sorted() {
                let key = e.session + "|" + host
                var times = s.rhythms[key] ?? []
                times.append(e.time)
                if times.count > Self.beaconCalls { times.removeFirst(times.count - Self.beaconCalls) }
                s.rhythms[key] = times
                guard times.count == Self.beaconCalls else { continue }
                let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
                let mean = gaps.reduce(0, +) / Double(gaps.count)
                let jitter = gaps.map { abs($0 - mean) }.max() ?? 0
                // A tenth of the interval, and never less than 0.3 s: a loaded machine delays each
                // check-in by a few hundred milliseconds without making it any less a clock.
                if mean >= 1, jitter <= max(0.1 * mean, 0.3) { out.append((host, times.count, mean, jitter)) }
            }
            return out
        }
    }

    static let beaconCalls = 6

    /// The part of a host its owner registered, near enough: the last two labels, or three under
    /// a two-letter country code with a short second label (`evil.co.uk`). Addresses stay whole.
    static func registrable(_ host: String) -> String {
        if host.contains(":") || host.split(separator: ".").allSatisfy({ $0.allSatisfy(\.isNumber) }) { return host }
        let labels = host.split(separator: ".")
        guard labels.count > 2 else { return host }
        let n = labels[labels.count - 1].count == 2 && labels[labels.count - 2].count <= 3 ? 3 : 2
        return labels.suffix(n).joined(separator: ".")
    }

    /// Calls after which sizes are judged, with a wide margin, before the warm-up ends.
    static let earlyJudgement = 5

    static func seconds(_ x: Double) -> String { x >= 10 ? "\(Int(x.rounded())) s" : String(format: "%.1f s", x) }

    /// Priors that, broken, look like data leaving or a channel being opened.
    static let highPriors: Set<String> = ["destination.ip-literal", "destination.tunnel", "destination.query-data", "destination.path-data", "argument.encoded"]

    static let sensitivePaths = ["/.ssh/", "id_rsa", "id_ed25519", "/.aws/", ".env", "credentials", "/.gnupg/", "/.kube/config", "claude_desktop_config", "/.config/gcloud"]
    static let sinkWords = ["send", "post", "upload", "email", "mail", "http", "fetch", "webhook", "message", "publish", "share", "request"]

    /// Baselines per server/tool and deviations from them; sensitive reads followed by outbound calls.
    func behaviour(_ e: Event, _ call: CallFields, tool: String, alert: (String, Severity, MaestroLayer, String, String, JSONObject) -> Alert) -> [Alert] {
        let keys = Set(call.argKeys)
        let targets = call.targets
        let destinations = Set(targets.filter { !$0.hasPrefix("/") && !$0.hasPrefix("~") })
        let roots = Set(targets.filter { $0.hasPrefix("/") || $0.hasPrefix("~") }.map(Self.root))
        let argBytes = call.argBytes ?? 0, resultBytes = call.bytes ?? 0, micros = call.micros ?? 0
        let isError = call.isError
        let warmUp = self.warmUp
        var found: [(String, Severity, String, JSONObject)] = []
        let id = "\(e.server)/\(tool)"
        let sensitiveRead = targets.first { t in Self.sensitivePaths.contains { t.contains($0) } }
        let previousSensitive: String? = state.withLock { s in
            // Taken out while it changes, so its sets are not copied on every call.
            var b = s.baselines.removeValue(forKey: id) ?? Baseline()
            // Another definition: what was learnt describes the old one, so learning starts over.
            if let pin = call.pin, let learnt = b.pin, pin != learnt { b = Baseline() }
            if b.pin == nil { b.pin = call.pin }
            defer {
                s.baselines[id] = b
                s.dirty.insert(id)
            }
            let second = Int(e.time)
            if b.bucketSecond[second % 60] != second { b.bucketSecond[second % 60] = second; b.buckets[second % 60] = 0 }
            b.buckets[second % 60] += 1
            b.recentErrors = Array((b.recentErrors + [isError]).suffix(warmUp))
            if b.calls < warmUp {
                // Sizes are judged during the warm-up too, with a margin that narrows as calls
                // accumulate (five times the full-baseline threshold at 5 calls, twice at 20): an
                // early payload far past everything seen does not wait for the twentieth call.
                if b.calls >= Self.earlyJudgement {
                    let margin = 1 + Double(warmUp) / Double(b.calls)
                    let argLimit = Int(Double(max(4 * b.maxArgBytes, 2048)) * margin)
                    if argBytes > argLimit {
                        found.append(("argument size", .medium, "arguments of \(argBytes) bytes after \(b.calls) calls of at most \(b.maxArgBytes) (limit \(argLimit) at this sample)",
                                      JSONObject(pairs: [("baseline", .int(b.maxArgBytes)), ("observed", .int(argBytes)), ("calls", .int(b.calls)), ("limit", .int(argLimit))])))
                    }
                    let resultLimit = Int(Double(max(10 * b.maxResultBytes, 256 * 1024)) * margin)
                    if resultBytes > resultLimit {
                        found.append(("result size", .medium, "a result of \(resultBytes) bytes after \(b.calls) calls of at most \(b.maxResultBytes) (limit \(resultLimit) at this sample)",
                                      JSONObject(pairs: [("baseline", .int(b.maxResultBytes)), ("observed", .int(resultBytes)), ("calls", .int(b.calls)), ("limit", .int(resultLimit))])))
                    }
                }
                if b.calls == 0 { b.firstCall = e.time }
                b.calls += 1
                b.keys.formUnion(keys)
                b.maxArgBytes = max(b.maxArgBytes, argBytes)
                b.maxResultBytes = max(b.maxResultBytes, resultBytes)
                b.latencies.append(micros)
                if isError { b.errors += 1 }
                b.destinations.formUnion(destinations)
                b.pathRoots.formUnion(roots)
                if b.calls == warmUp { b.warmRate = Double(warmUp) / max(1, (e.time - b.firstCall) / 60) }
            } else {
                b.calls += 1
                let novelKeys = keys.subtracting(b.keys)
                if !novelKeys.isEmpty {
                    found.append(("argument keys never seen", .medium, "new argument keys \(novelKeys.sorted().joined(separator: ", "))",
                                  JSONObject(pairs: [("baseline", .array(b.keys.sorted().map { .string($0) })), ("observed", .array(keys.sorted().map { .string($0) }))])))
                    b.keys.formUnion(novelKeys)
                }
                if argBytes > max(4 * b.maxArgBytes, 2048) {
                    found.append(("argument size", .medium, "arguments of \(argBytes) bytes (baseline max \(b.maxArgBytes))",
                                  JSONObject(pairs: [("baseline", .int(b.maxArgBytes)), ("observed", .int(argBytes))])))
                }
                if resultBytes > max(10 * b.maxResultBytes, 256 * 1024) {
                    found.append(("result size", .medium, "a result of \(resultBytes) bytes (baseline max \(b.maxResultBytes))",
                                  JSONObject(pairs: [("baseline", .int(b.maxResultBytes)), ("observed", .int(resultBytes))])))
                }
                let p95 = b.latencies.sorted()[min(b.latencies.count - 1, b.latencies.count * 95 / 100)]
                if micros > max(10 * p95, 2_000_000) {
                    found.append(("latency", .low, "a call took \(micros / 1000) ms (baseline p95 \(p95 / 1000) ms)",
                                  JSONObject(pairs: [("baseline", .int(p95)), ("observed", .int(micros))])))
                }
                let novel = destinations.subtracting(b.destinations)
                if !novel.isEmpty {
                    found.append(("new destination", .high, "a destination never seen for this tool: \(novel.sorted().joined(separator: ", "))",
                                  JSONObject(pairs: [("baseline", .array(b.destinations.sorted().map { .string($0) })), ("observed", .array(novel.sorted().map { .string($0) }))])))
                    b.destinations.formUnion(novel)
                }
                let novelRoots = roots.subtracting(b.pathRoots)
                if !novelRoots.isEmpty, !b.pathRoots.isEmpty {
                    found.append(("new path", .medium, "paths outside where this tool has worked: \(novelRoots.sorted().joined(separator: ", "))",
                                  JSONObject(pairs: [("baseline", .array(b.pathRoots.sorted().map { .string($0) })), ("observed", .array(novelRoots.sorted().map { .string($0) }))])))
                    b.pathRoots.formUnion(novelRoots)
                }
                let rate = Double(zip(b.buckets, b.bucketSecond).reduce(0) { $0 + (second - $1.1 < 60 ? $1.0 : 0) })
                if rate > max(5 * b.warmRate, 60), e.time - b.rateReportedAt >= 10 {
                    b.rateReportedAt = e.time
                    found.append(("call rate", .medium, "\(Int(rate)) calls in the last minute (baseline \(Int(b.warmRate))/min)",
                                  JSONObject(pairs: [("baseline", .number(String(b.warmRate))), ("observed", .number(String(rate)))])))
                }
                let errorRatio = Double(b.recentErrors.filter { $0 }.count) / Double(max(1, b.recentErrors.count))
                if errorRatio >= 0.5, Double(b.errors) / Double(warmUp) < 0.1, b.recentErrors.count == warmUp {
                    found.append(("error ratio", .medium, "\(Int(errorRatio * 100))% of the last \(warmUp) calls failed (baseline \(b.errors * 100 / warmUp)%)",
                                  JSONObject(pairs: [("baseline", .number(String(Double(b.errors) / Double(warmUp)))), ("observed", .number(String(errorRatio)))])))
                    b.recentErrors.removeAll()
                }
            }
            var flow = s.flows[e.session] ?? SessionFlow()
            defer { s.flows[e.session] = flow }
            let before = flow.sensitivePath
            if let sensitiveRead { flow.sensitivePath = sensitiveRead }
            return before
        }
        var out = found.map { aspect, severity, text, details in
            alert("behaviour.anomaly", severity, .evaluationObservability, "\(id): \(text)", "\(e.server)|\(tool)|\(aspect)", details)
        }
        // Whether the tool sends data out matters only after a sensitive read, so its name is
        // looked at only then.
        if let source = previousSensitive, !destinations.isEmpty || Self.sinkWords.contains(where: tool.lowercased().contains) {
            out.append(alert("flow.toxic", .high, .dataOperations,
                             "\(id) sends data out after \(source) was read in this session", "\(e.session)|\(tool)|sink",
                             JSONObject(pairs: [("source", .string(source)), ("sink", .string(tool)), ("destinations", .array(destinations.sorted().map { .string($0) }))])))
        }
        return out
    }
}
