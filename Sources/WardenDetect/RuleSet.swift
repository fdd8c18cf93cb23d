import WardenCore

/// The built-in rules. Phrase rules are written as families of wording, not single examples, and are
/// kept narrow enough that real servers' "IMPORTANT: paths must be absolute" stays clean.
public enum RuleSet {
    /// Every built-in rule, in reporting order.
    public static let builtIn: [DetectionRule] = [
        .phrases("instruction.override", .critical, .foundationModels,
                 "tells the model to set aside its instructions",
                 [PhrasePattern("ignore|disregard|forget|override previous|prior|above|earlier|all|any|your instruction*|rules|guidelines|prompt*", gap: 2),
                  PhrasePattern([["new", "updated", "real", "actual"], ["instructions"]], gap: 0, requirement: .colonAfter)]),
        .phrases("instruction.concealment", .high, .foundationModels,
                 "asks the model to hide something from the user",
                 [PhrasePattern("do|don't|dont|never not|tell|mention|inform|reveal|notify|alert|show tell|mention|inform|reveal|notify|alert|show|the user*", gap: 2),
                  PhrasePattern("without telling|informing|notifying|alerting|asking|mentioning the|user*", gap: 1),
                  PhrasePattern("hide|conceal this|it from the user*", gap: 2)]),
        .phrases("instruction.before-use", .medium, .agentFrameworks,
                 "orders the model to do something else first",
                 [PhrasePattern("before using|calling|invoking|running this|the|any tool", gap: 1),
                  PhrasePattern("you must|should first", gap: 0)]),
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
        DetectionRule(id: "unicode.invisible", severity: .high, layer: .foundationModels,
                      message: "contains invisible or direction-changing characters", finder: InvisibleText.find),
        DetectionRule(id: "markup.control-characters", severity: .high, layer: .deploymentInfrastructure,
                      message: "contains terminal control characters (ANSI escapes can hide text from people)", finder: ControlCharacters.find),
    ]
}

