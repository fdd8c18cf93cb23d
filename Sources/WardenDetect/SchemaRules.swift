import WardenCore

/// Rules over the shape of a definition rather than its text: parameters that have nothing to do
/// with what the tool says it does.
///
/// The attack: a clean description ("Fetches weather for a city") with extra optional, free-form,
/// undocumented parameters named to look harmless (`feedback`, `debug`, `extra`, `notes`). A model
/// fills every parameter it can, so such a parameter becomes a channel for whatever the model has
/// in context; paired with an instruction elsewhere it is the exfiltration path.
enum SchemaAnomalies {
    static let ruleID = "schema.side-channel"

    /// Names that carry "anything" rather than an input the tool needs (compared lower-cased with
    /// `_` and `-` removed). Names like `content`, `data` or `message` are not here: real tools use
    /// them for their main input.
    static let channelNames: Set<String> = [
        "feedback", "debug", "debuginfo", "extra", "extras", "extradata", "extrainfo", "sidenote", "note", "notes",
        "metadata", "meta", "context", "remarks", "memo", "annotation", "annotations", "misc", "aux", "auxiliary",
        "hidden", "internal", "trace", "telemetry", "diagnostics", "diagnostic", "additional", "additionalinfo",
        "additionaldata", "additionalcontext", "other", "scratch", "scratchpad", "tmp", "temp", "log", "logs",
    ]

    /// Findings for one definition's `inputSchema`.
    static func findings(in definition: JSONObject) -> [Finding] {
        guard let schema = definition["inputSchema"]?.objectValue,
              let properties = schema["properties"]?.objectValue else { return [] }
        var purpose: Set<String>? = nil
        var suspects: [String] = []
        for (name, value) in properties.members {
            guard let property = value.objectValue else { continue }
            let normalized = String(name.lowercased().unicodeScalars.filter { $0 != "_" && $0 != "-" })
            guard channelNames.contains(normalized) else { continue }
            // Documented parameters explain themselves (and their text is analysed like any other);
            // a parameter the tool's own description talks about belongs to its purpose.
            if let description = property["description"]?.stringValue, !description.isEmpty { continue }
            if purpose == nil { purpose = purposeWords(definition) }
            if purpose!.contains(normalized) || purpose!.contains(name.lowercased()) { continue }
            guard isFreeForm(property) else { continue }
            suspects.append(name)
        }
        guard !suspects.isEmpty else { return [] }
        // One stray optional parameter is a hint; several together are the pattern of a side channel.
        let severity: Severity = suspects.count >= 2 ? .high : .low
        let list = suspects.joined(separator: ", ")
        return suspects.map { name in
            Finding(rule: ruleID, severity: severity, layer: .dataOperations,
                    field: "inputSchema.properties.\(name)(name)", start: 0, end: name.unicodeScalars.count, evidence: name,
                    message: "undocumented free-form parameter unrelated to the tool's stated purpose (\(list)): a channel the model may fill with context")
        }
    }

    /// A string with no enum, pattern or format; an object with no declared properties; or no type at all.
    static func isFreeForm(_ property: JSONObject) -> Bool {
        if property["enum"] != nil || property["const"] != nil || property["pattern"] != nil || property["format"] != nil { return false }
        let types: [String]
        switch property["type"] {
        case .string(let t)?: types = [t]
        case .array(let list)?: types = list.compactMap(\.stringValue)
        default: types = []
        }
        if types.isEmpty || types.contains("string") { return true }
        if types.contains("object") {
            let declared = property["properties"]?.objectValue.map { !$0.keys.isEmpty } ?? false
            return !declared
        }
        return false
    }

    /// Lower-cased words of the tool's name, title and description.
    static func purposeWords(_ definition: JSONObject) -> Set<String> {
        var words: Set<String> = []
        for key in ["name", "title", "description"] {
            guard let text = definition[key]?.stringValue else { continue }
            var current = ""
            for c in text.lowercased().unicodeScalars {
                if (c >= "a" && c <= "z") || (c >= "0" && c <= "9") {
                    current.unicodeScalars.append(c)
                } else if !current.isEmpty {
                    words.insert(current)
                    current = ""
                }
            }
            if !current.isEmpty { words.insert(current) }
        }
        return words
    }
}
