import Foundation
import WardenCore
import Yams

/// `$WARDEN_HOME/config.yaml`: retention and SIEM export. Missing file = defaults.
///
/// ```yaml
/// retention: {events: 30d}          # raw events older than this are pruned; audit is never pruned
/// export:
///   - {format: ocsf, file: /var/log/warden/ocsf.jsonl}
///   - {format: syslog, unix: /dev/log}
///   - {format: cef, udp: "127.0.0.1:514"}
///   - {format: syslog, tcp: "127.0.0.1:6514"}
/// ```
public struct HubConfig: Sendable {
    /// Where one export stream goes.
    public enum Destination: Sendable, Equatable {
        case file(String)
        case unixDatagram(String)
        case udp(host: String, port: UInt16)
        case tcp(host: String, port: UInt16)
    }

    public struct Export: Sendable, Equatable {
        public var format: SIEMFormat
        public var destination: Destination
    }

    public var eventRetention: Double = 30 * 86400
    public var exports: [Export] = []
    /// `console.theme`: the console's theme unless `--theme` names one.
    public var consoleTheme: String?
    /// `console.mouse`: whether the console takes mouse clicks and the wheel.
    public var consoleMouse = false
    /// `console.bell`: whether the console rings the terminal bell when a held call expires
    /// unanswered or a critical alert arrives (the notice shows either way).
    public var consoleBell = true

    public init() {}

    /// Reads the file, or defaults when there is none. Errors name the key (and line when known).
    public static func load(path: String) throws(PolicyError) -> HubConfig {
        guard FileManager.default.fileExists(atPath: path) else { return HubConfig() }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PolicyError(file: path, line: nil, key: "(file)", problem: "cannot be read")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw PolicyError(file: path, line: nil, key: "(syntax)", problem: "is not valid YAML: \(error)")
        }
        var config = HubConfig()
        guard let root = node?.mapping else { return config }
        for (k, v) in root {
            let key = k.string ?? ""
            switch key {
            case "retention":
                if let events = v.mapping?["events"] {
                    guard let s = events.string, let seconds = DurationText.seconds(s), seconds > 0 else {
                        throw PolicyError(file: path, line: events.mark?.line, key: "retention.events", problem: "must be a duration such as 30d")
                    }
                    config.eventRetention = seconds
                }
            case "export":
                for (i, item) in (v.sequence ?? []).enumerated() {
                    config.exports.append(try export(item, index: i, path: path))
                }
            case "console":
                for (ck, cv) in v.mapping ?? [:] {
                    switch ck.string ?? "" {
                    case "theme":
                        guard let name = cv.string, !name.isEmpty else { throw PolicyError(file: path, line: cv.mark?.line, key: "console.theme", problem: "must be a theme name") }
                        config.consoleTheme = name
                    case "mouse":
                        guard let b = cv.bool else { throw PolicyError(file: path, line: cv.mark?.line, key: "console.mouse", problem: "must be true or false") }
                        config.consoleMouse = b
                    case "bell":
                        guard let b = cv.bool else { throw PolicyError(file: path, line: cv.mark?.line, key: "console.bell", problem: "must be true or false") }
                        config.consoleBell = b
                    default:
                        throw PolicyError(file: path, line: ck.mark?.line, key: "console.\(ck.string ?? "")", problem: "is not a known key (expected theme, mouse or bell)")
                    }
                }
            default:
                throw PolicyError(file: path, line: k.mark?.line, key: key, problem: "is not a known key (expected retention, export or console)")
            }
        }
        return config
    }

    static func export(_ node: Node, index: Int, path: String) throws(PolicyError) -> Export {
        let key = "export[\(index)]"
        guard let m = node.mapping, let formatName = m["format"]?.string else {
            throw PolicyError(file: path, line: node.mark?.line, key: key, problem: "needs a format (ocsf, cef or syslog) and a destination")
        }
        guard let format = SIEMFormat(rawValue: formatName) else {
            throw PolicyError(file: path, line: m["format"]?.mark?.line, key: "\(key).format", problem: "must be ocsf, cef or syslog")
        }
        func hostPort(_ field: String) throws(PolicyError) -> (String, UInt16) {
            let text = m[field]?.string ?? ""
            guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
                throw PolicyError(file: path, line: m[field]?.mark?.line, key: "\(key).\(field)", problem: "must be HOST:PORT")
            }
            return (String(text[..<colon]), port)
        }
        if let file = m["file"]?.string { return Export(format: format, destination: .file(file)) }
        if let unix = m["unix"]?.string { return Export(format: format, destination: .unixDatagram(unix)) }
        if m["udp"] != nil { let (h, p) = try hostPort("udp"); return Export(format: format, destination: .udp(host: h, port: p)) }
        if m["tcp"] != nil { let (h, p) = try hostPort("tcp"); return Export(format: format, destination: .tcp(host: h, port: p)) }
        throw PolicyError(file: path, line: node.mark?.line, key: key, problem: "needs a destination: file, unix, udp or tcp")
    }
}
