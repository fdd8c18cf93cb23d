import Foundation
import Testing
import WardenCore
@testable import WardenHub

@Suite("alert correlation and behaviour baselines")
struct CorrelatorTests {
    func call(_ n: Int, session: String = "s1", tool: String = "fetch", keys: [String] = ["url"], argBytes: Int = 80, bytes: Int = 400,
              micros: Int = 900, targets: [String] = ["docs.example.org"], error: Bool = false, time: Double? = nil) -> Event {
        // Irregular, as work is: calls on a clock are a beacon's rhythm (tested on its own).
        Event(sequence: n, time: time ?? 1000 + Double(n) * 5 + Double((n &* 2_654_435_761) % 1000) / 400, session: session, server: "web", kind: .callCompleted, fields: [
            "tool": .string(tool), "argKeys": .array(keys.map { .string($0) }), "argBytes": .int(argBytes), "bytes": .int(bytes),
            "micros": .int(micros), "targets": .array(targets.map { .string($0) }), "isError": .bool(error),
        ])
    }

    @Test("steady use raises nothing; after warm-up, new keys, a big payload and a new destination each raise a behaviour alert with baseline and observed values")
    func baselines() {
        let c = AlertCorrelator(warmUp: 20)
        #expect(c.alerts(for: (1...40).map { call($0) }).isEmpty)
        let odd = c.alerts(for: [call(41, keys: ["url", "callback"], argBytes: 9000, targets: ["docs.example.org", "c2.evil.net"])])
        #expect(odd.count == 3)
        #expect(odd.allSatisfy { $0.rule == "behaviour.anomaly" && $0.details["baseline"] != nil && $0.details["observed"] != nil })
        #expect(odd.contains { $0.title.contains("c2.evil.net") && $0.severity == .high })
    }

    @Test("sizes are judged before the warm-up ends, with a margin that narrows as calls accumulate")
    func earlySizes() {
        let c = AlertCorrelator(warmUp: 20)
        #expect(c.alerts(for: (1...5).map { call($0, argBytes: 300) }).isEmpty)
        #expect(c.alerts(for: [call(6, argBytes: 9_000)]).isEmpty, "within the margin at 5 calls (limit 10,240)")
        #expect(c.alerts(for: [call(7, argBytes: 300)]).isEmpty)
        let early = c.alerts(for: [call(8, argBytes: 200_000)])
        #expect(early.count == 1 && early.first?.title.contains("after 7 calls") == true, "\(early.map(\.title))")
        #expect(early.first?.details["limit"] != nil && early.first?.details["calls"] == 7)
    }

    @Test("six calls to one host on a clock are a beacon, from the first six; the same calls bunched as work is are not")
    func beacons() {
        let c = AlertCorrelator(warmUp: 20)
        func forwarded(_ e: Event) -> Event { var e = e; e.kind = .callForwarded; return e }
        let steady = (1...6).map { forwarded(call($0, targets: ["status.example.net"], time: 5000 + Double($0) * 30 + ($0 % 2 == 0 ? 0.4 : -0.4))) }
        let raised = c.alerts(for: steady)
        #expect(raised.count == 1)
        #expect(raised.first?.rule == "behaviour.beacon" && raised.first?.title.contains("every 30 s") == true, "\(raised.map(\.title))")
        #expect(raised.first?.details["calls"] == 6)
        // Rotating subdomains of one domain keeps one clock.
        let rotating = (1...6).map { forwarded(call(30 + $0, session: "s3", targets: ["a\($0).rotate.example"], time: 7000 + Double($0) * 10)) }
        #expect(c.alerts(for: rotating).first?.rule == "behaviour.beacon")
        let bunched = [0.0, 2, 3, 40, 41, 95].enumerated().map { forwarded(call(10 + $0.offset, session: "s2", targets: ["beta.example.net"], time: 9000 + $0.element)) }
        #expect(c.alerts(for: bunched).isEmpty)
    }

    @Test("priors the relay found become alerts that say what was seen and what was expected, on the first call")
    func priorAlerts() {
        let c = AlertCorrelator(warmUp: 20)
        let e = Event(sequence: 1, time: 1000, session: "s1", server: "web", kind: .callForwarded, call: CallFields(
            id: 1, tool: "fetch", decision: .allowed, micros: 10, bytes: 10, targets: ["203.0.113.9"],
            priors: [CallPrior(prior: "destination.ip-literal", subject: "203.0.113.9", seen: "a call to the address 203.0.113.9, not a name", expected: "named hosts")]))
        let raised = c.alerts(for: [e])
        #expect(raised.count == 1)
        #expect(raised.first?.rule == "behaviour.prior" && raised.first?.severity == .high)
        #expect(raised.first?.details["seen"] == "a call to the address 203.0.113.9, not a name" && raised.first?.details["expected"] == "named hosts")
    }

    @Test("a baseline is learnt for one definition: a new pin (a rug pull) starts learning over instead of judging by the old one")
    func pinnedBaselines() {
        let c = AlertCorrelator(warmUp: 20)
        func pinned(_ n: Int, _ pin: String, keys: [String] = ["url"]) -> Event {
            var e = call(n, keys: keys)
            e.fields["pin"] = .string(pin)
            return e
        }
        #expect(c.alerts(for: (1...25).map { pinned($0, "sha256:a") }).isEmpty)
        #expect(!c.alerts(for: [pinned(26, "sha256:a", keys: ["url", "callback"])]).isEmpty)
        #expect(c.alerts(for: [pinned(27, "sha256:b", keys: ["url", "exfil"])]).isEmpty)
        #expect(c.baseline("web/fetch")?.calls == 1)
    }

    @Test("what one correlator learned, another restored from the stored form judges at once: no second warm-up")
    func restored() {
        let first = AlertCorrelator(warmUp: 20)
        _ = first.alerts(for: (1...25).map { call($0) })
        let stored = first.changedBaselines()
        #expect(stored.map(\.id) == ["web/fetch"])
        #expect(first.changedBaselines().isEmpty)  // taken once
        let second = AlertCorrelator(warmUp: 20)
        second.restore(stored + [(id: "web/broken", data: ["calls": "many"])])
        #expect(second.alerts(for: [call(26)]).isEmpty)
        let odd = second.alerts(for: [call(27, targets: ["docs.example.org", "c2.evil.net"])])
        #expect(odd.contains { $0.rule == "behaviour.anomaly" && $0.title.contains("c2.evil.net") })
        #expect(second.changedBaselines().map(\.id) == ["web/fetch"])
    }

    @Test("a path outside where the tool has worked is a behaviour alert; paths under the same root are not")
    func paths() {
        let c = AlertCorrelator(warmUp: 20)
        #expect(c.alerts(for: (1...25).map { call($0, tool: "read_file", keys: ["path"], targets: ["/home/me/project/src/f\($0).swift"]) }).isEmpty)
        let odd = c.alerts(for: [call(26, tool: "read_file", keys: ["path"], targets: ["/etc/ssl/private/server.key"])])
        #expect(odd.contains { $0.rule == "behaviour.anomaly" && $0.title.contains("/etc/ssl/private") })
    }

    @Test("a flood over five times the warm-up rate is reported, once per 10 s")
    func rate() {
        let c = AlertCorrelator(warmUp: 20)
        _ = c.alerts(for: (1...20).map { call($0, time: 1000 + Double($0) * 3) })
        let flood = c.alerts(for: (21...200).map { call($0, time: 1100 + Double($0) * 0.01) })
        #expect(flood.filter { $0.title.contains("calls in the last minute") }.count == 1)
    }

    @Test("a secret that came back in a result and leaves in arguments is a toxic flow; a sensitive read then an outbound call too")
    func toxicFlows() {
        let c = AlertCorrelator()
        let result = Event(sequence: 1, time: 1, session: "s", server: "fs", kind: .dlpFinding,
                           fields: ["tool": "read_file", "direction": "result", "kinds": ["github-token"], "findings": [["fingerprint": "abc"]]])
        let out = Event(sequence: 2, time: 2, session: "s", server: "mail", kind: .dlpFinding,
                        fields: ["tool": "send", "direction": "arguments", "kinds": ["github-token"], "findings": [["fingerprint": "abc"]]])
        #expect(c.alerts(for: [result]).map(\.rule) == ["dlp.secret"])
        #expect(c.alerts(for: [out]).map(\.rule).sorted() == ["dlp.secret", "flow.toxic"])
        let other = AlertCorrelator()
        _ = other.alerts(for: [call(1, session: "t", tool: "read_file", keys: ["path"], targets: ["/home/me/.ssh/id_rsa"])])
        let sent = other.alerts(for: [call(2, session: "t", tool: "http_post", keys: ["url"], targets: ["paste.example.net"])])
        #expect(sent.contains { $0.rule == "flow.toxic" && $0.details["source"]?.stringValue == "/home/me/.ssh/id_rsa" })
    }

    @Test("relay detections become alerts: egress, rate limits, quarantined calls; an operator's denial does not")
    func decisions() {
        let c = AlertCorrelator()
        func decided(_ d: String, _ extra: JSONObject = [:]) -> Event {
            var f: JSONObject = ["tool": "fetch", "decision": .string(d)]
            for (k, v) in extra.members { f[k] = v }
            return Event(sequence: 1, time: 1, session: "s", server: "web", kind: .callDecided, fields: f)
        }
        #expect(c.alerts(for: [decided("denied-egress", ["destination": "c2.example"])]).first?.rule == "egress.blocked")
        #expect(c.alerts(for: [decided("denied-rate-limit")]).first?.rule == "resource.exhaustion")
        #expect(c.alerts(for: [decided("quarantined")]).first?.rule == "call.blocked")
        #expect(c.alerts(for: [decided("denied")]).isEmpty)
        #expect(c.alerts(for: [decided("approved")]).isEmpty)
    }
}

@Suite("playbooks: CACAO model and runs")
struct PlaybookModelTests {
    @Test("the built-in playbooks export to CACAO 2.0 and import back unchanged; every action step has a phase")
    func roundTrip() throws {
        for pb in BuiltInPlaybooks.all {
            let back = try Playbook.cacao(try JSONParser.parse(JSONWriter.compact(pb.cacao)))
            #expect(back.steps == pb.steps && back.start == pb.start && back.name == pb.name)
            #expect(pb.steps.values.filter { $0.kind == .action }.allSatisfy { Playbook.phases.contains($0.phase ?? "") })
        }
        #expect(Set(BuiltInPlaybooks.all.map(\.name)) == ["tool-poisoning", "unauthorised-access", "data-exfiltration", "server-compromise", "resource-exhaustion"])
    }

    @Test("if-condition branches on playbook variables; parallel steps must all be done before what follows")
    func flow() throws {
        let doc = """
        {"type":"playbook","spec_version":"cacao-2.0","id":"playbook--t","name":"t","workflow_start":"start--1",
         "playbook_variables":{"$$leaked$$":{"type":"string","value":"false"}},
         "workflow":{
          "start--1":{"type":"start","on_completion":"if--1"},
          "if--1":{"type":"if-condition","condition":"$$leaked$$ == true","on_true":"action--rotate","on_false":"parallel--1"},
          "action--rotate":{"type":"action","name":"Rotate","commands":[{"type":"manual","command":"rotate"}],"on_completion":"parallel--1"},
          "parallel--1":{"type":"parallel","next_steps":["action--a","action--b"],"on_completion":"action--c"},
          "action--a":{"type":"action","name":"A","commands":[{"type":"manual","command":"a"}]},
          "action--b":{"type":"action","name":"B","commands":[{"type":"x-warden","command":"warden export-bundle"}]},
          "action--c":{"type":"action","name":"C","commands":[{"type":"manual","command":"c"}],"on_completion":"end--1"},
          "end--1":{"type":"end"}}}
        """
        let pb = try Playbook.cacao(try JSONParser.parse(doc))
        var run = PlaybookRun(id: "r", playbook: pb, incident: "i", variables: [:], actor: "t", at: 0)
        #expect(run.current?.name == "A")
        run.complete(outcome: "done", actor: "t", at: 1)
        #expect(run.current?.name == "B")
        run.complete(outcome: "ran", actor: "t", at: 2)
        #expect(run.current?.name == "C")
        run.complete(outcome: "done", actor: "t", at: 3)
        #expect(run.status == .completed)
        let leaked = PlaybookRun(id: "r2", playbook: pb, incident: "i", variables: ["$$leaked$$": "true"], actor: "t", at: 0)
        #expect(leaked.current?.name == "Rotate")
        #expect(PlaybookRun(json: leaked.json) == leaked, "runs persist as JSON and come back the same")
    }

    @Test("imports name what is wrong: unsupported step types, unknown Warden actions, dangling references")
    func badImports() {
        func problem(_ doc: String) -> String {
            do { _ = try Playbook.cacao(try JSONParser.parse(doc)); return "accepted" } catch { return "\(error)" }
        }
        let head = #"{"type":"playbook","spec_version":"cacao-2.0","id":"p","name":"p","workflow_start":"start--1","workflow":{"start--1":{"type":"start","on_completion":"a"},"#
        #expect(problem(head + #""a":{"type":"while-condition"}}}"#).contains("workflow.a.type"))
        #expect(problem(head + #""a":{"type":"action","commands":[{"type":"x-warden","command":"warden format-disk"}]}}}"#).contains("unknown Warden action"))
        #expect(problem(head + #""a":{"type":"action","on_completion":"b"}}}"#).contains("workflow.a.on_completion: names no step (b)"))
    }
}
