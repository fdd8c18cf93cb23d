import WardenCore

/// The playbooks Warden ships, one per incident category of the MCP zero-trust framework. Each step
/// is tagged with its phase; `x-warden` commands run when the operator runs the step.
public enum BuiltInPlaybooks {
    public static let all: [Playbook] = [toolPoisoning, unauthorisedAccess, dataExfiltration, serverCompromise, resourceExhaustion]

    /// A linear playbook from (name, phase, description, commands) steps, with an optional condition
    /// step inserted after the step named by `branch`.
    static func make(_ slug: String, _ name: String, _ description: String,
                     _ steps: [(name: String, phase: String, description: String, commands: [Playbook.Command])],
                     branch: (after: Int, condition: String, ifTrue: (name: String, phase: String, description: String, commands: [Playbook.Command]))? = nil) -> Playbook {
        var out: [Playbook.Step] = [Playbook.Step(id: "start--\(slug)", kind: .start, onCompletion: "action--\(slug)-1")]
        for (i, s) in steps.enumerated() {
            let id = "action--\(slug)-\(i + 1)"
            var next = i + 1 < steps.count ? "action--\(slug)-\(i + 2)" : "end--\(slug)"
            if let b = branch, b.after == i + 1 { next = "if-condition--\(slug)" }
            out.append(Playbook.Step(id: id, kind: .action, name: s.name, description: s.description, phase: s.phase, commands: s.commands, onCompletion: next))
        }
        if let b = branch {
            let after = b.after < steps.count ? "action--\(slug)-\(b.after + 1)" : "end--\(slug)"
            out.append(Playbook.Step(id: "if-condition--\(slug)", kind: .ifCondition, name: "Decide", condition: b.condition,
                                     onTrue: "action--\(slug)-branch", onFalse: after))
            out.append(Playbook.Step(id: "action--\(slug)-branch", kind: .action, name: b.ifTrue.name, description: b.ifTrue.description,
                                     phase: b.ifTrue.phase, commands: b.ifTrue.commands, onCompletion: after))
        }
        out.append(Playbook.Step(id: "end--\(slug)", kind: .end))
        return Playbook(id: "playbook--warden-\(slug)", name: slug, description: description, start: "start--\(slug)", steps: out,
                        variables: ["$$server$$": "", "$$tool$$": "", "$$session$$": "", "$$incident$$": "", "$$secret_leaked$$": "false"])
    }

    static func manual(_ text: String) -> Playbook.Command { Playbook.Command(type: "manual", command: text) }
    static func warden(_ text: String) -> Playbook.Command { Playbook.Command(type: "x-warden", command: "warden " + text) }

    public static let toolPoisoning = make("tool-poisoning", "Tool poisoning",
        "A tool description carries instructions for the model, or changed after it was trusted.", [
            ("Confirm the finding", "detection-analysis", "Read the tool's description with the evidence highlighted (console: Tools, enter) and decide whether it is an attack.",
             [manual("Review $$server$$/$$tool$$ in the console or with: warden tools show $$server$$/$$tool$$")]),
            ("Quarantine the tool", "containment", "Hide $$server$$/$$tool$$ from every client and refuse its calls.", [warden("quarantine-tool $$server$$/$$tool$$")]),
            ("Revoke the server's grants", "containment", "Active grants for $$server$$ end now.", [warden("revoke-grants server $$server$$")]),
            ("Preserve evidence", "evidence-preservation", "Write a forensic bundle: events, definitions and pins, grants, alerts, and the audit chain with its proof.",
             [warden("export-bundle")]),
            ("Remove or replace the server", "eradication", "Uninstall the poisoned server or pin a known-good version; check where it came from.",
             [manual("Remove $$server$$ from the client configs or pin a reviewed version")]),
            ("Tell the people affected", "communication", "Tell the users of the affected clients what the tool could have done.", [manual("Notify the owners of the affected clients")]),
            ("Review", "post-incident-review", "Could a signed registry (warden registry) have stopped it? Record what to change.", [manual("Write the post-incident notes")]),
        ])

    public static let unauthorisedAccess = make("unauthorised-access", "Unauthorised access",
        "Calls were refused, or access was granted that should not have been.", [
            ("Establish what was accessed", "detection-analysis", "Read the session timeline and the grants it used.", [manual("warden sessions show $$session$$")]),
            ("Revoke the session's grants", "containment", "Every active grant of $$session$$ ends now.", [warden("revoke-grants session $$session$$")]),
            ("End the session", "containment", "Stop the relay and its server for $$session$$.", [warden("terminate-session $$session$$")]),
            ("Preserve evidence", "evidence-preservation", "Write a forensic bundle.", [warden("export-bundle")]),
            ("Tighten policy", "eradication", "Require grants for the tools involved; shorten max TTLs.", [manual("Edit policy.yaml rules for $$server$$")]),
            ("Review", "post-incident-review", "Record who approved what and why.", [manual("Write the post-incident notes")]),
        ])

    public static let dataExfiltration = make("data-exfiltration", "Data exfiltration",
        "A secret or sensitive data left, or tried to leave, through a tool call.", [
            ("Confirm the flow", "detection-analysis", "Check the DLP findings and where the data was headed.", [manual("Read the alert's events and destinations")]),
            ("Cut the egress", "containment",
             "Allow $$server$$ to reach only its allow-listed destinations; its next sessions start sandboxed with no network.",
             [warden("tighten-egress $$server$$"), warden("isolate-server $$server$$")]),
            ("Revoke the session's grants", "containment", "Every active grant of $$session$$ ends now.", [warden("revoke-grants session $$session$$")]),
            ("Preserve evidence", "evidence-preservation", "Write a forensic bundle.", [warden("export-bundle")]),
            ("Review", "post-incident-review", "Record what left and what to change.", [manual("Write the post-incident notes")]),
        ],
        branch: (after: 3, condition: "$$secret_leaked$$ == true",
                 ifTrue: ("Rotate the leaked credentials", "recovery", "A secret reached a destination: rotate it at its issuer.", [manual("Rotate every credential named in the DLP findings")])))

    public static let serverCompromise = make("server-compromise", "MCP server compromise",
        "A server behaves unlike itself: new destinations, crashes, injected results.", [
            ("Scope the compromise", "detection-analysis", "Which sessions used $$server$$ and what did it return?", [manual("warden sessions list; warden events tail --session $$session$$")]),
            ("Block the server", "containment", "Every call to $$server$$ is refused until it is unblocked.", [warden("block-server $$server$$")]),
            ("End the session", "containment", "Stop the relay and its server for $$session$$.", [warden("terminate-session $$session$$")]),
            ("Preserve evidence", "evidence-preservation", "Write a forensic bundle.", [warden("export-bundle")]),
            ("Rebuild the server", "eradication", "Reinstall from a trusted source; verify tool pins against the signed registry.", [manual("Reinstall $$server$$; warden registry verify")]),
            ("Restore service", "recovery", "Unblock once rebuilt.", [warden("unblock-server $$server$$")]),
            ("Review", "post-incident-review", "Record the root cause.", [manual("Write the post-incident notes")]),
        ])

    public static let resourceExhaustion = make("resource-exhaustion", "Denial of service / resource exhaustion",
        "A session floods a server with calls, or calls run away.", [
            ("Confirm the flood", "detection-analysis", "Compare the session's call rate with the tool's baseline.", [manual("Read the behaviour alert's baseline and observed values")]),
            ("End the session", "containment", "Stop the relay and its server for $$session$$.", [warden("terminate-session $$session$$")]),
            ("Preserve evidence", "evidence-preservation", "Write a forensic bundle.", [warden("export-bundle")]),
            ("Set limits", "recovery", "Add per-minute and concurrency limits for $$server$$ in policy.yaml (limits:).", [manual("Edit policy.yaml limits")]),
            ("Review", "post-incident-review", "Record the cause (a looping agent? an attack?).", [manual("Write the post-incident notes")]),
        ])
}
