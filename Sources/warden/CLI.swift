import ArgumentParser
import Foundation
import Synchronization
import WardenCore
import WardenHubAPI
import WardenHubClient

/// Options every hub command takes.
struct HubOptions: ParsableArguments {
    @Option(name: .long, help: "State directory (default: $WARDEN_HOME or ~/.local/state/warden).")
    var home: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    var wardenHome: WardenHome { home.map(WardenHome.init(path:)) ?? WardenHome.current() }

    /// Calls a hub method, starting the hub if none is running. Refusals exit 1, other failures 2.
    /// A typed call (`HubCall`): the same request the console sends.
    func call<C: HubCall>(_ typed: C) throws -> JSONValue { try call(C.method, typed.params) }

    func call(_ method: HubMethod, _ params: JSONObject = JSONObject()) throws -> JSONValue {
        let connection: HubConnection
        do {
            connection = try HubLauncher.connect(home: wardenHome)
        } catch {
            CLI.fail("\(error)", code: 2)
        }
        defer { connection.close() }
        do {
            return try connection.callBlocking(method, params, timeout: 60)
        } catch HubError.remote(let code, let message) {
            CLI.fail(message, code: code == 1 ? 1 : 2)
        } catch {
            CLI.fail("\(error)", code: 2)
        }
    }

    /// Prints `value` as JSON (untrusted text's controls, bidi and invisible characters as `\uXXXX`),
    /// or hands it to `text` for people.
    /// A typed call's answer: as JSON with `--json`, else read as its type and handed to `text`.
    func output<C: HubCall>(_ call: C, text: (C.Answer) -> Void) throws {
        let value = try self.call(call)
        if json { return print(JSONWriter.safe(value)) }
        do {
            text(try HubWire.decode(C.Answer.self, from: value))
        } catch {
            CLI.fail("the hub's answer to \(C.method.rawValue) does not read: \(error)", code: 1)
        }
    }

    func output(_ value: JSONValue, text: (JSONValue) -> Void) {
        if json {
            print(JSONWriter.safe(value))
        } else {
            text(value)
        }
    }
}

/// Presentation helpers: every untrusted string goes through `SafeText` before it is printed.
enum CLI {
    static func fail(_ message: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("warden: \(SafeText.escape(message))\n".utf8))
        Foundation.exit(code)
    }

    /// An untrusted value, escaped for the terminal.
    static func s(_ v: JSONValue?) -> String {
        switch v {
        case .string(let t)?: SafeText.escape(t)
        case .number(let n)?: n
        case .bool(let b)?: b ? "yes" : "no"
        case nil, .null?: "-"
        case let other?: SafeText.escape(JSONWriter.compact(other))
        }
    }

    static func time(_ v: JSONValue?) -> String { time(v?.doubleValue) }

    /// An untrusted string, escaped for the terminal; `-` when absent.
    static func s(_ text: String?) -> String { text.map { SafeText.escape($0) } ?? "-" }

    /// Untrusted strings, escaped and joined; `-` when there are none.
    static func list(_ items: [String], separator: String = ",") -> String { items.isEmpty ? "-" : items.map { SafeText.escape($0) }.joined(separator: separator) }

    static func time(_ t: Double?) -> String {
        guard let t else { return "-" }
        let delta = t - Date().timeIntervalSince1970
        let d = DurationText.format(seconds: abs(delta))
        return delta >= 0 ? "in \(d)" : "\(d) ago"
    }

    /// An absolute local time (`2026-11-25 19:31:21`), or `-`.
    static func clock(_ v: JSONValue?) -> String { clock(v?.doubleValue) }

    static func clock(_ t: Double?) -> String {
        guard let t, t > 0 else { return "-" }
        return clockFormat.withLock { $0.string(from: Date(timeIntervalSince1970: t)) }
    }

    private static let clockFormat: Mutex<DateFormatter> = {
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return Mutex(f)
    }()

    /// Prints rows as aligned columns. On a terminal, when a line would not fit its width, the widest
    /// columns are cut (with an ellipsis) until it does; into a pipe or a file nothing is cut, so
    /// scripts and `grep` see every character.
    static func table(_ header: [String], _ rows: [[String]]) {
        let terminal = terminalColumns()
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        if let terminal {
            // The widest column gives way first, so a long description does not hide the ids beside it.
            while widths.reduce(0, +) + 2 * (widths.count - 1) > terminal, let widest = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[widest] > 8 {
                widths[widest] -= 1
            }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let w = i < widths.count ? widths[i] : c.count
                let cell = c.count > w ? String(c.prefix(w - 1)) + "…" : c
                return i == cells.count - 1 ? cell : cell.padding(toLength: w, withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        print(line(header))
        for row in rows { print(line(row)) }
        if rows.isEmpty { print("(none)") }
    }

    /// The terminal's width when standard output is one (nil into a pipe or a file).
    static func terminalColumns() -> Int? {
        guard isatty(STDOUT_FILENO) == 1 else { return nil }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// `key: value` lines.
    static func fields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (k, v) in pairs { print("\(k.padding(toLength: width, withPad: " ", startingAt: 0))  \(v)") }
    }
}
