import Foundation
import Synchronization
import WardenCore

/// What Warden remembers about a tool between sessions: the pin an operator (or first sight) trusted.
/// The relay enforces from these files even when the hub is down; the hub writes them when an
/// operator approves or quarantines a tool, and tells live relays to reload.
public struct ToolPinRecord: Sendable, Hashable {
    /// The trusted pin.
    public var pin: String
    /// The trusted definition (for the diff shown when it changes).
    public var definition: JSONObject
    /// Set while a changed or flagged definition awaits review, or when an operator quarantined it.
    public var quarantined: Bool
    /// Why, when an operator quarantined it.
    public var reason: String?
    /// Who approved this exact definition; an approval outranks the analyser's verdict.
    public var approvedBy: String?

    public init(pin: String, definition: JSONObject, quarantined: Bool, reason: String? = nil, approvedBy: String? = nil) {
        self.pin = pin
        self.definition = definition
        self.quarantined = quarantined
        self.reason = reason
        self.approvedBy = approvedBy
    }
}

/// Pins per server, persisted so that a definition changed between two sessions is still caught.
public protocol PinStore: Sendable {
    func record(server: String, tool: String) -> ToolPinRecord?
    func save(server: String, tool: String, record: ToolPinRecord)
    /// Drops any cached copy, so the next read sees what another process wrote.
    func reload(server: String)
}

/// Pins in `$WARDEN_HOME/pins/<server>.json`, written atomically (rename), read at start.
/// The hub takes pins over when it lands; this keeps `wrap` correct on its own.
public final class FilePinStore: PinStore {
    private let directory: String
    private let cache = Mutex<[String: [String: ToolPinRecord]]>([:])

    public init(directory: String) { self.directory = directory }

    public func record(server: String, tool: String) -> ToolPinRecord? {
        cache.withLock { cache in
            if cache[server] == nil { cache[server] = load(server) }
            return cache[server]?[tool]
        }
    }

    public func save(server: String, tool: String, record: ToolPinRecord) {
        cache.withLock { cache in
            if cache[server] == nil { cache[server] = load(server) }
            cache[server]![tool] = record
            persist(server, cache[server]!)
        }
    }

    public func reload(server: String) {
        _ = cache.withLock { $0.removeValue(forKey: server) }
    }

    private func file(_ server: String) -> String {
        let safe = server.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" ? String($0) : "_" }.joined()
        return "\(directory)/\(safe).json"
    }

    private func load(_ server: String) -> [String: ToolPinRecord] {
        guard let data = FileManager.default.contents(atPath: file(server)), let value = try? JSONParser.parse(data),
              let tools = value["tools"]?.objectValue else { return [:] }
        var out: [String: ToolPinRecord] = [:]
        for (name, entry) in tools.members {
            guard let pin = entry["pin"]?.stringValue, let def = entry["definition"]?.objectValue else { continue }
            out[name] = ToolPinRecord(pin: pin, definition: def, quarantined: entry["quarantined"]?.boolValue ?? false,
                                      reason: entry["reason"]?.stringValue, approvedBy: entry["approvedBy"]?.stringValue)
        }
        return out
    }

    private func persist(_ server: String, _ records: [String: ToolPinRecord]) {
        var tools = JSONObject()
        for (name, r) in records.sorted(by: { $0.key < $1.key }) {
            var entry = JSONObject(pairs: [("pin", .string(r.pin)), ("definition", .object(r.definition)), ("quarantined", .bool(r.quarantined))])
            if let reason = r.reason { entry["reason"] = .string(reason) }
            if let by = r.approvedBy { entry["approvedBy"] = .string(by) }
            tools[name] = .object(entry)
        }
        let doc = JSONValue.object(JSONObject(pairs: [("server", .string(server)), ("tools", .object(tools))]))
        try? PrivateFile.makeDirectory(directory)
        try? PrivateFile.write(JSONWriter.compactBytes(doc), to: file(server))
    }
}

/// Pins in memory only (tests).
public final class MemoryPinStore: PinStore {
    private let records = Mutex<[String: ToolPinRecord]>([:])
    public init() {}
    public func record(server: String, tool: String) -> ToolPinRecord? { records.withLock { $0["\(server)/\(tool)"] } }
    public func save(server: String, tool: String, record: ToolPinRecord) { records.withLock { $0["\(server)/\(tool)"] = record } }
    public func reload(server: String) {}
}
