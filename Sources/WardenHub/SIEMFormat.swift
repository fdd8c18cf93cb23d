import Foundation
import WardenCore

/// The wire formats Warden exports to SIEMs.
///
/// Records carry untrusted text (tool names, reasons, evidence a server chose), so no format lets a
/// control character, escape sequence, bidi control or invisible character through as itself: OCSF
/// writes them as JSON `\uXXXX` escapes (lossless), CEF and syslog as `<U+XXXX>` after their own
/// escaping (`SafeText.Notation.codePoints`). A line never contains a raw ESC, BEL, line break,
/// bidi override or zero-width character, whatever a server sent (docs/audit.md).
public enum SIEMFormat: String, Sendable, CaseIterable {
    /// OCSF 1.3 JSON, one event per line.
    case ocsf
    /// ArcSight Common Event Format.
    case cef
    /// RFC 5424 syslog.
    case syslog

    /// The record encoded as one line (no trailing newline).
    public func encode(_ r: SIEMRecord, hostname: String = SIEMFormat.hostname) -> String {
        switch self {
        case .ocsf: OCSF.encode(r)
        case .cef: CEF.encode(r)
        case .syslog: Syslog.encode(r, hostname: hostname)
        }
    }

    public static let hostname: String = ProcessInfo.processInfo.hostName
    static let version = "0.1.0"
}

/// OCSF 1.3.0 encodings of the three classes Warden emits, with every required attribute.
enum OCSF {
    static let version = "1.3.0"

    static func severityID(_ s: Severity) -> Int {
        switch s {
        case .info: 1
        case .low: 2
        case .medium: 3
        case .high: 4
        case .critical: 5
        }
    }

    static func encode(_ r: SIEMRecord) -> String {
        let (category, classUID, activity): (Int, Int, Int) = switch r.kind {
        case .toolCall: (6, 6003, 99)  // API Activity: "Other" (an MCP tool call is not plain CRUD)
        case .finding: (2, 2004, 1)    // Detection Finding: Create
        case .access: (3, 3005, r.outcome == "approved" ? 1 : 2)  // User Access Management: Assign / Revoke Privileges
        case .anchor: (1, 1008, 99)     // Event Log Activity: "Other" (a signed head is none of Clear, Export, Rotate…)
        }
        var o = JSONObject(pairs: [
            ("category_uid", .int(category)), ("class_uid", .int(classUID)), ("activity_id", .int(activity)),
            ("type_uid", .int(classUID * 100 + activity)), ("time", .int(Int(r.time * 1000))),
            ("severity_id", .int(severityID(r.severity))), ("severity", .string(r.severity.rawValue.capitalized)),
            ("message", .string(r.message)),
            ("metadata", ["version": .string(version), "uid": .string(r.uid), "event_code": .string(r.name),
                          "product": ["name": "Warden", "vendor_name": "Warden", "version": .string(SIEMFormat.version)]]),
        ])
        var unmapped = r.extra
        if let session = r.session { unmapped["session"] = .string(session) }
        switch r.kind {
        case .toolCall:
            o["activity_name"] = "Other"
            o["actor"] = ["app_name": .string(r.actor), "user": ["name": .string(r.actor)]]
            o["api"] = ["operation": "tools/call", "service": ["name": .string(r.server)],
                        "request": ["uid": .string(r.uid)]]
            o["src_endpoint"] = ["hostname": .string(SIEMFormat.hostname), "name": "mcp-client"]
            o["dst_endpoint"] = ["name": .string(r.server)]
            o["resources"] = [["name": .string(r.tool ?? ""), "type": "mcp.tool"]]
            o["status_id"] = .int(r.outcome == "allowed" || r.outcome == "approved" ? 1 : 2)
            if let outcome = r.outcome { o["status_detail"] = .string(outcome) }
        case .finding:
            o["activity_name"] = "Create"
            o["is_alert"] = .bool(r.severity >= .high)
            o["finding_info"] = ["uid": .string(r.uid), "title": .string(r.message), "types": [.string(r.name)],
                                 "analytic": ["name": .string(r.name), "type_id": 1, "type": "Rule"]]
            if let tool = r.tool { o["resources"] = [["name": .string(tool), "type": "mcp.tool", "group": ["name": .string(r.server)]]] }
            o["status_id"] = 1
        case .access:
            o["activity_name"] = .string(activity == 1 ? "Assign Privileges" : "Revoke Privileges")
            o["user"] = ["name": .string(r.session ?? "mcp-session"), "type": "Other"]
            o["actor"] = ["user": ["name": .string(r.actor)]]
            o["privileges"] = [.string("tools/call \(r.server)/\(r.tool ?? "*")")]
            o["resources"] = [["name": .string(r.tool ?? ""), "type": "mcp.tool", "group": ["name": .string(r.server)]]]
        case .anchor:
            o["activity_name"] = "Other"
            o["actor"] = ["app_name": "warden hub"]
            o["device"] = ["hostname": .string(SIEMFormat.hostname), "type_id": 0]
            o["log_name"] = "warden audit chain"
            o["log_provider"] = "Warden"
            o["status_id"] = 1
        }
        if unmapped.count > 0 { o["unmapped"] = .object(unmapped) }
        return JSONWriter.safe(.object(o))
    }
}

/// ArcSight CEF:0 with the escaping the format requires (header: `\` and `|`; extension values:
/// `\`, `=` and line breaks as `\n`, `\r`), and every other control, escape sequence, bidi control
/// and invisible character written as `<U+XXXX>`.
enum CEF {
    static func header(_ s: String) -> String {
        // Line breaks are not allowed in the header at all: `SafeText` makes them `<U+000A>` too.
        SafeText.escape(s, notation: .codePoints).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "|", with: "\\|")
    }

    static func value(_ s: String) -> String {
        // CEF's own escapes first (they leave no control character behind), then the visible
        // escapes for what CEF has no escape for (ESC, BEL, bidi, zero-width…).
        let cef = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "=", with: "\\=")
            .replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        return SafeText.escape(cef, notation: .codePoints)
    }

    static func severity(_ s: Severity) -> Int {
        switch s {
        case .info: 1
        case .low: 3
        case .medium: 5
        case .high: 8
        case .critical: 10
        }
    }

    static func encode(_ r: SIEMRecord) -> String {
        var ext: [(String, String)] = [("rt", String(Int(r.time * 1000))), ("msg", r.message), ("suser", r.actor),
                                       ("cs1Label", "server"), ("cs1", r.server), ("externalId", r.uid)]
        if let tool = r.tool { ext += [("cs2Label", "tool"), ("cs2", tool)] }
        if let session = r.session { ext += [("cs3Label", "session"), ("cs3", session)] }
        if let outcome = r.outcome { ext.append(("outcome", outcome)) }
        if r.kind == .anchor, let token = r.extra["anchor"]?.stringValue { ext += [("cs4Label", "anchor"), ("cs4", token)] }
        let extension_ = ext.map { "\($0.0)=\(value($0.1))" }.joined(separator: " ")
        return "CEF:0|Warden|Warden|\(SIEMFormat.version)|\(header(r.name))|\(header(r.message))|\(severity(r.severity))|\(extension_)"
    }
}

/// RFC 5424 syslog, facility `authpriv` (10): `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`.
/// SD-PARAM values and MSG carry untrusted text with every control, escape sequence, bidi control
/// and invisible character as `<U+XXXX>` (line breaks too: one record is one line on every transport).
enum Syslog {
    static func severity(_ s: Severity) -> Int {
        switch s {
        case .info: 6
        case .low: 5
        case .medium: 4
        case .high: 3
        case .critical: 2
        }
    }

    /// SD-PARAM values escape `"`, `\` and `]` (RFC 5424 §6.3.3).
    static func param(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "]", with: "\\]")
    }

    /// RFC 3339 UTC with milliseconds, as RFC 5424 §6.2.3 allows.
    static func timestamp(_ time: Double) -> String {
        var t = time_t(time)
        var parts = tm()
        gmtime_r(&t, &parts)
        let ms = Int((time - Double(Int(time))) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), ms)
    }

    static func encode(_ r: SIEMRecord, hostname: String) -> String {
        let pri = 10 * 8 + severity(r.severity)
        let stamp = timestamp(r.time)
        var params: [(String, String)] = [("server", r.server), ("actor", r.actor), ("uid", r.uid)]
        if let tool = r.tool { params.append(("tool", tool)) }
        if let session = r.session { params.append(("session", session)) }
        if let outcome = r.outcome { params.append(("outcome", outcome)) }
        if r.kind == .anchor, let token = r.extra["anchor"]?.stringValue { params.append(("anchor", token)) }
        let sd = "[warden@32473 " + params.map { "\($0.0)=\"\(param(SafeText.escape($0.1, notation: .codePoints)))\"" }.joined(separator: " ") + "]"
        let host = hostname.isEmpty ? "-" : String(hostname.prefix(255))
        // MSGID is at most 32 printable ASCII characters (RFC 5424 §6.2.7); names are Warden's own.
        let msgid = String(String(r.name.unicodeScalars.filter { $0.value > 0x20 && $0.value < 0x7F }).prefix(32))
        return "<\(pri)>1 \(stamp) \(host) warden \(getpid()) \(msgid.isEmpty ? "-" : msgid) \(sd) \(SafeText.escape(r.message, notation: .codePoints))"
    }
}
