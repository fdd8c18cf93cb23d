import Crypto
import Foundation
import WardenCore

/// An MCP client's configuration file, edited in place: only the `command` and `args` of stdio
/// server entries change, so comments, trailing commas, key order and indentation elsewhere
/// survive (VS Code's files are JSON with comments).
public struct ClientConfigFile: Sendable {
    public let path: String
    public let text: String

    /// What install does (or would do) to one server entry.
    public enum Change: Sendable, Equatable {
        case wrapped(name: String, command: String)
        case alreadyWrapped(name: String)
        /// A remote (Streamable HTTP) entry now runs `warden wrap --connect URL`; its headers, if
        /// any, moved to an owner-only file.
        case connected(name: String, url: String, headerFile: String?)
        case skipped(name: String, why: String)
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var path: String
        public var problem: String
        public var description: String { "\(path): \(problem)" }
    }

    public init(path: String) throws(ParseError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw ParseError(path: path, problem: "cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw ParseError(path: path, problem: "is not UTF-8") }
        self.path = path
        self.text = text
    }

    init(path: String, text: String) {
        self.path = path
        self.text = text
    }

    /// JSON with comments and trailing commas (VS Code's files) as plain JSON: those blanked out.
    public static func plainJSON(_ text: String) -> String { String(decoding: blank(Array(text.utf8)), as: UTF8.self) }

    /// The text with comments and trailing commas blanked out (same length, newlines kept), so
    /// offsets found in it are offsets in the original.
    static func blank(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        var i = 0
        var inString = false
        var lastComma: Int? = nil
        while i < b.count {
            let c = b[i]
            if inString {
                if c == 0x5C { i += 2; continue }
                if c == 0x22 { inString = false }
                i += 1
                continue
            }
            switch c {
            case 0x22:
                inString = true
                lastComma = nil
                i += 1
            case 0x2F where i + 1 < b.count && b[i + 1] == 0x2F:
                while i < b.count, b[i] != 0x0A { b[i] = 0x20; i += 1 }
            case 0x2F where i + 1 < b.count && b[i + 1] == 0x2A:
                while i < b.count, !(b[i] == 0x2A && i + 1 < b.count && b[i + 1] == 0x2F) { if b[i] != 0x0A { b[i] = 0x20 }; i += 1 }
                if i < b.count { b[i] = 0x20; if i + 1 < b.count { b[i + 1] = 0x20 }; i += 2 }
            case 0x2C:
                lastComma = i
                i += 1
            case 0x7D, 0x5D:
                if let comma = lastComma { b[comma] = 0x20 }
                lastComma = nil
                i += 1
            case 0x20, 0x0A, 0x0D, 0x09:
                i += 1
            default:
                lastComma = nil
                i += 1
            }
        }
        return b
    }

    struct Entry {
        var name: String
        var range: Range<Int>
        var command: (value: String, range: Range<Int>)?
        var args: (value: [String], range: Range<Int>)?
        var url: String?
        var type: String?
        var headers: [(String, String)] = []
        var headersUnreadable = false
    }

    /// A remote entry `wrapped` turned into `warden wrap --connect`: what the installer must write
    /// before the new config is used (the headers file) and keep for an in-place uninstall (the
    /// entry as it was).
    public struct RemoteMove: Sendable, Equatable {
        public var name: String
        public var original: String
        /// `Name: value` lines, or nil when the entry sent no headers.
        public var headers: String?
    }

    /// The server entries with where their parts lie in the text.
    func entries() throws(ParseError) -> [Entry] {
        let bytes = Self.blank(Array(text.utf8))
        func scan(_ range: Range<Int>) -> JSONScan? {
            bytes.withUnsafeBytes { raw in try? JSONParser.scan(UnsafeRawBufferPointer(rebasing: raw[range])) }
        }
        func value(_ range: Range<Int>) -> JSONValue? { try? JSONParser.parse(Array(bytes[range])) }
        guard let root = scan(0..<bytes.count), root.shape == .object else { throw ParseError(path: path, problem: "is not a JSON object (comments and trailing commas are fine)") }
        func shift(_ r: Range<Int>, _ by: Int) -> Range<Int> { (r.lowerBound + by)..<(r.upperBound + by) }
        // Claude Desktop, Cursor and Claude Code: "mcpServers"; VS Code: "servers" (or "mcp": {"servers"} in settings.json).
        var tableRange = root.range(of: "mcpServers") ?? root.range(of: "servers")
        if tableRange == nil, let mcp = root.range(of: "mcp"), let inner = scan(mcp), let servers = inner.range(of: "servers") {
            tableRange = shift(servers, mcp.lowerBound)
        }
        guard let tableRange, let table = scan(tableRange), table.shape == .object else { return [] }
        return table.members.compactMap { name, r -> Entry? in
            let range = shift(r, tableRange.lowerBound)
            guard let entry = scan(range), entry.shape == .object else { return nil }
            var e = Entry(name: name, range: range)
            if let c = entry.range(of: "command"), case .string(let s)? = value(shift(c, range.lowerBound)) { e.command = (s, shift(c, range.lowerBound)) }
            if let a = entry.range(of: "args"), case .array(let items)? = value(shift(a, range.lowerBound)) {
                e.args = (items.compactMap(\.stringValue), shift(a, range.lowerBound))
            }
            if let u = entry.range(of: "url"), case .string(let s)? = value(shift(u, range.lowerBound)) { e.url = s }
            if let t = entry.range(of: "type"), case .string(let s)? = value(shift(t, range.lowerBound)) { e.type = s }
            if let h = entry.range(of: "headers") {
                if case .object(let object)? = value(shift(h, range.lowerBound)), object.values.allSatisfy({ $0.stringValue != nil }) {
                    e.headers = zip(object.keys, object.values).map { ($0, $1.stringValue ?? "") }
                } else {
                    e.headersUnreadable = true
                }
            }
            return e
        }
    }

    /// The names of entries install connected (`warden wrap … --connect`).
    public func connectedNames() throws(ParseError) -> [String] {
        try entries().compactMap { Self.connectedURL($0) == nil ? nil : $0.name }
    }

    /// The url an entry install connected reaches (`warden wrap … --connect URL`, no `--`), or nil.
    static func connectedURL(_ e: Entry) -> String? {
        guard let command = e.command, let a = e.args?.value, isWarden(command.value, a), !a.contains("--"),
              let flag = a.firstIndex(of: "--connect"), flag + 1 < a.count else { return nil }
        return a[flag + 1]
    }

    static func isWarden(_ command: String, _ args: [String]) -> Bool {
        (command as NSString).lastPathComponent == "warden" && args.first == "wrap"
    }

    static func quoted(_ s: String) -> String { JSONWriter.compact(.string(s)) }
    static func array(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }

    /// The file with every stdio entry running through `warden wrap --name NAME -- …`, and every
    /// Streamable HTTP entry through `warden wrap --name NAME --connect URL`. `headerFile` names
    /// where a remote entry's headers will be (the installer writes them, owner-only; a header is
    /// never put on a command line).
    public func wrapped(warden: String, headerFile: (String) -> String = { _ in "" }) throws(ParseError)
        -> (text: String, changes: [Change], moves: [RemoteMove]) {
        var edits: [(Range<Int>, String)] = []
        var changes: [Change] = []
        var moves: [RemoteMove] = []
        let bytes = Array(text.utf8)
        for e in try entries() {
            guard let command = e.command else {
                guard let url = e.url else { changes.append(.skipped(name: e.name, why: "no command")); continue }
                if let why = Self.notConnectable(e, url: url) { changes.append(.skipped(name: e.name, why: "remote server \(url): \(why)")); continue }
                var args = ["wrap", "--name", e.name, "--connect", url]
                var headerText: String?
                if !e.headers.isEmpty {
                    args += ["--header-file", headerFile(e.name)]
                    headerText = e.headers.map { "\($0.0): \($0.1)\n" }.joined()
                }
                // `type` stays only where the client uses it (VS Code and Claude Code need "stdio").
                let type = e.type == nil ? "" : "\"type\": \"stdio\", "
                edits.append((e.range, "{" + type + "\"command\": " + Self.quoted(warden) + ", \"args\": " + Self.array(args) + "}"))
                moves.append(RemoteMove(name: e.name, original: String(decoding: bytes[e.range], as: UTF8.self), headers: headerText))
                changes.append(.connected(name: e.name, url: url, headerFile: headerText == nil ? nil : headerFile(e.name)))
                continue
            }
            let args = e.args?.value ?? []
            if Self.isWarden(command.value, args) { changes.append(.alreadyWrapped(name: e.name)); continue }
            let newArgs = ["wrap", "--name", e.name, "--", command.value] + args
            edits.append((command.range, Self.quoted(warden)))
            if let a = e.args {
                edits.append((a.range, Self.array(newArgs)))
            } else {
                edits.append((command.range.upperBound..<command.range.upperBound, ", \"args\": " + Self.array(newArgs)))
            }
            changes.append(.wrapped(name: e.name, command: ([command.value] + args).joined(separator: " ")))
        }
        return (Self.apply(edits, to: text), changes, moves)
    }

    /// Why a remote entry cannot run through `wrap --connect` yet, or nil when it can.
    static func notConnectable(_ e: Entry, url: String) -> String? {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { return "its url is not http(s)" }
        if e.headersUnreadable { return "its headers are not a map of strings" }
        if e.headers.contains(where: { !HeaderField.isName($0.0) || !HeaderField.isValue($0.1) }) {
            return "a header's name or value holds characters no HTTP header may"
        }
        if e.headers.contains(where: { $0.1.contains("${input:") }) { return "a header asks the client for input (${input:…}), which only the client can answer" }
        return nil
    }

    /// The file with `warden wrap` taken out of every entry it wraps (for files edited since install).
    /// A remote entry install connected is put back as it was written (`original`, from what the
    /// installer kept), or as its bare url when that is gone.
    public func unwrapped(original: (String) -> String? = { _ in nil }) throws(ParseError) -> (text: String, names: [String]) {
        var edits: [(Range<Int>, String)] = []
        var names: [String] = []
        for e in try entries() {
            if let url = Self.connectedURL(e) {
                edits.append((e.range, original(e.name) ?? "{\"url\": " + Self.quoted(url) + "}"))
                names.append(e.name)
                continue
            }
            guard let command = e.command, let a = e.args, Self.isWarden(command.value, a.value),
                  let dash = a.value.firstIndex(of: "--"), dash + 1 < a.value.count else { continue }
            let original = Array(a.value[(dash + 1)...])
            edits.append((command.range, Self.quoted(original[0])))
            edits.append((a.range, Self.array(Array(original.dropFirst()))))
            names.append(e.name)
        }
        return (Self.apply(edits, to: text), names)
    }

    static func apply(_ edits: [(Range<Int>, String)], to text: String) -> String {
        var bytes = Array(text.utf8)
        for (range, replacement) in edits.sorted(by: { $0.0.lowerBound > $1.0.lowerBound }) {
            bytes.replaceSubrange(range, with: Array(replacement.utf8))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func sha256(_ text: String) -> String { SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined() }
}
