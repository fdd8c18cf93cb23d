import WardenCore

/// The built-in rules. Phrase rules are written as families of wording, not single examples, and are
/// kept narrow enough that real servers' "IMPORTANT: paths must be absolute" stays clean.
public enum RuleSet {
    /// Rules about instructions aimed at the model: also run on decoded payloads.
    public static let instructionRules: [DetectionRule] = [
        .phrases("instruction.override", .critical, .foundationModels,
                 "tells the model to set aside its instructions",
                 [PhrasePattern("ignore|disregard|forget|override previous|prior|above|earlier|all|any|your instruction*|rules|guidelines|prompt*|directions", gap: 2),
                  PhrasePattern([["new", "updated", "real", "actual"], ["instructions"]], gap: 0, requirement: .colonAfter),
                  PhrasePattern("ignore|disregard|bypass|override safety|security|content|default|assistant|system rules|checks|guidelines|policies|instructions|prompt*|behavio*", gap: 1),
                  PhrasePattern("instruction*|prompt override|injection", gap: 0),
                  PhrasePattern("system|developer directive|prompt override*|injection", gap: 0)]),
        .phrases("instruction.role", .high, .foundationModels,
                 "tries to give the model a new role or powers",
                 [PhrasePattern("act|acting as system|root|admin*|administrator|developer|superuser|dan|an|a", gap: 1),
                  PhrasePattern("you are now|hereby a|an|the|in", gap: 1),
                  PhrasePattern("pretend|simulate to|elevated be|privileges|root|admin*", gap: 2),
                  PhrasePattern("bypass|ignore|disable|skip all|any|the access|security|safety|permission* control*|check*|restriction*|filter*|guardrail*", gap: 2),
                  PhrasePattern("without any restriction*|limit*|limitation*", gap: 1),
                  PhrasePattern("unrestricted access|mode|queries|privileges", gap: 0),
                  PhrasePattern("trust all|any input*|request*|user*|command*", gap: 1),
                  PhrasePattern([["role"], ["directive"]], gap: 0),
                  PhrasePattern("developer|god|jailbreak* mode", gap: 0),
                  PhrasePattern("as if you have|are|were", gap: 0),
                  PhrasePattern("from now on you will|must|are|shall", gap: 1)]),
        .phrases("instruction.concealment", .high, .foundationModels,
                 "asks the model to hide something from the user",
                 [PhrasePattern("do|don't|dont|never not|tell|mention|inform|reveal|notify|alert|show tell|mention|inform|reveal|notify|alert|show|the user*", gap: 2),
                  PhrasePattern("without telling|informing|notifying|alerting|asking|mentioning the|user*", gap: 1),
                  PhrasePattern("hide|conceal this|it from the user*", gap: 2),
                  PhrasePattern("secretly|silently|covertly|quietly|stealthily|invisibly upload*|send*|cop*|forward*|exfiltrat*|record*|log*|collect*|share*|transmit*", gap: 1)]),
        .phrases("exfiltration.secrets", .high, .dataOperations,
                 "asks for secrets to be put somewhere they can leave",
                 [PhrasePattern("include|add|append|attach|pass|send|put|insert|provide any|all|the|user's|your api|access|secret|private|auth* key*|token*|password*|credential*|secret*", gap: 3),
                  PhrasePattern("always|must include|add|pass|provide the|user's password*|credential*|secret*|token*", gap: 2)]),
        .phrases("exfiltration.channel", .high, .dataOperations,
                 "tells the model to send data to an outside destination",
                 [PhrasePattern("send|post|upload|forward|transmit|leak|report the|all|this|any|results|data|text|content*|conversation|output|file*|everything|it to|at https|http|webhook*|endpoint|url|attacker*|external|remote|email|e-mail", gap: 3),
                  PhrasePattern([["exfiltrate*"]], gap: 0),
                  PhrasePattern("send|post|upload|forward|transmit to https|http|webhook*", gap: 1),
                  PhrasePattern("always|also|secretly|silently bcc|cc|copy|forward", gap: 0)]),
        .phrases("shadowing.preference", .high, .agentEcosystem,
                 "steers the model away from other tools",
                 [PhrasePattern("use|call|prefer this tool instead", gap: 2),
                  PhrasePattern("instead of|rather than using|calling|the any|other|safe*", gap: 2),
                  PhrasePattern("do|don't|never not use|call any|other tool*", gap: 2),
                  PhrasePattern("when|whenever|if tool|function called|invoked|used|runs", gap: 3),
                  PhrasePattern("always|afterwards|after|then call|invoke|run|use", gap: 2).requiringIdentifier()]),
    ]

    /// Rules run on tool results: instructions aimed at the model and the markup that hides them.
    /// Not the rules about definitions' own shape (shadowing other tools, sensitive paths, payloads in
    /// defaults): results legitimately name files and commands.
    public static let resultRules: [DetectionRule] = instructionRules.filter { $0.id != "shadowing.preference" }
        + builtIn.filter { ["markup.pseudo-tag", "unicode.invisible", "markup.ansi", "markup.active"].contains($0.id) }

    /// Every built-in rule, in reporting order.
    public static let builtIn: [DetectionRule] = instructionRules + [
        .phrases("instruction.before-use", .medium, .agentFrameworks,
                 "orders the model to do something else first",
                 [PhrasePattern("before using|calling|invoking|running this|the|any tool", gap: 1),
                  PhrasePattern("you must|should first", gap: 0),
                  PhrasePattern("all commands must include", gap: 1)]),
        .phrases("resource.sensitive", .medium, .dataOperations,
                 "names a file or store that holds secrets",
                 [PhrasePattern("ssh id_rsa|id_ed25519|authorized_keys|known_hosts|key*", gap: 1),
                  PhrasePattern("id_rsa|id_ed25519", gap: 0),
                  PhrasePattern("mcp|credentials json", gap: 0),
                  PhrasePattern("claude_desktop_config*", gap: 0),
                  PhrasePattern("aws credentials", gap: 0),
                  PhrasePattern("etc passwd|shadow", gap: 0),
                  PhrasePattern("private key*", gap: 0),
                  PhrasePattern([["env"]], gap: 0, requirement: .dotBefore)]),
        DetectionRule(id: "markup.pseudo-tag", severity: .high, layer: .foundationModels,
                      message: "contains a tag or token aimed at the model, not the reader", finder: PseudoTags.find),
        DetectionRule(id: "markup.active", severity: .high, layer: .foundationModels,
                      message: "contains markup that hides or runs content (HTML comment, script, event handler)", finder: ActiveMarkup.find),
        DetectionRule(id: "unicode.invisible", severity: .high, layer: .foundationModels,
                      message: "contains invisible or direction-changing characters", finder: InvisibleText.find),
        DetectionRule(id: "markup.ansi", severity: .high, layer: .deploymentInfrastructure,
                      message: "contains ANSI escape sequences (they can hide or rewrite text on a terminal)", finder: ControlCharacters.findEscapes),
        DetectionRule(id: "markup.control-characters", severity: .low, layer: .deploymentInfrastructure,
                      message: "contains control characters", finder: ControlCharacters.findOthers),
        DetectionRule(id: "payload.shell", severity: .high, layer: .deploymentInfrastructure,
                      message: "carries a shell command that destroys data or runs remote code", finder: ShellPayload.find),
        DetectionRule(id: "payload.injection", severity: .high, layer: .deploymentInfrastructure,
                      message: "carries an injection payload (SQL tautology, path traversal, cloud metadata endpoint)", finder: InjectionPayload.find),
        DetectionRule(id: "unicode.mixed-script", severity: .high, layer: .foundationModels,
                      message: "mixes look-alike letters from different scripts in one word (homoglyphs)", finder: MixedScript.find),
        DetectionRule(id: "hidden.padding", severity: .medium, layer: .foundationModels,
                      message: "pushes text out of sight with repetition or long runs of blank space", finder: Padding.find),
        DetectionRule(id: "payload.encoded", severity: .high, layer: .foundationModels,
                      message: "hides instructions in encoded text", finder: EncodedPayload.find),
        DetectionRule(id: "exfiltration.collector", severity: .high, layer: .dataOperations,
                      message: "points at a host that exists to collect data (tunnel, request bin)", finder: CollectorURL.find),
    ]
}
