/// A tool as a server advertises it in `tools/list`, with the raw definition kept whole.
public struct ToolDefinition: Sendable, Hashable {
    /// The full definition object as received (pinned and analysed whole).
    public var raw: JSONObject

    public init(raw: JSONObject) { self.raw = raw }

    public var name: String { raw["name"]?.stringValue ?? "" }
    public var description: String { raw["description"]?.stringValue ?? "" }
    public var annotations: JSONObject? { raw["annotations"]?.objectValue }

    /// `annotations.readOnlyHint` (MCP 2025-03-26 and later); absent means not read-only.
    public var isReadOnly: Bool { annotations?["readOnlyHint"]?.boolValue == true }
    /// `annotations.destructiveHint` explicitly true.
    public var declaresDestructive: Bool { annotations?["destructiveHint"]?.boolValue == true }
}
