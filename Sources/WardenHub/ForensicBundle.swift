import Crypto
import Foundation
import WardenCore
import WardenStore

/// A forensic bundle for an incident: its alerts and events, the tool definitions and pins involved,
/// grants, the whole audit chain with its verification, and `SHA256SUMS` over every file (the
/// format `sha256sum -c` reads) plus `manifest.json`.
enum ForensicBundle {
    static func write(incident: Incident, store: Store, home: WardenHome, at time: Double) throws -> (path: String, files: Int) {
        let stamp = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: time)).replacingOccurrences(of: ":", with: "")
        let dir = "\(home.evidencePath)/\(incident.id)-\(stamp)"
        try FileManager.default.createDirectory(atPath: dir + "/pins", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var files: [(String, [UInt8])] = []
        func add(_ name: String, _ value: JSONValue) { files.append((name, Array((JSONWriter.compact(value) + "\n").utf8))) }
        func lines(_ name: String, _ values: [JSONValue]) { files.append((name, Array(values.map { JSONWriter.compact($0) + "\n" }.joined().utf8))) }

        let alerts = try incident.alerts.compactMap { try store.alert($0) }
        let sessions = Array(Set(alerts.compactMap(\.session))).sorted()
        let servers = Set(alerts.map(\.server))
        add("incident.json", incident.json)
        add("alerts.json", .array(alerts.map(\.json)))
        lines("events.jsonl", try store.events(sessions: sessions).map(\.json))
        let tools = try store.tools(flaggedOnly: false).filter { servers.contains($0.server) }
        add("tools.json", .array(tools.map { HubJSON.tool($0, detail: true) }))
        add("grants.json", .array(try store.grants(limit: 100_000).filter { servers.contains($0.request.server) }.map(HubJSON.grant)))
        lines("audit.jsonl", try store.auditRecords(after: 0).map(HubJSON.audit))
        let verification: JSONValue
        switch try store.verifyAudit(knownHead: nil) {
        case .intact(let records, let head): verification = ["intact": true, "records": .int(records), "head": .string(head)]
        case .broken(let seq, let problem): verification = ["intact": false, "sequence": .int(seq), "problem": .string(problem)]
        }
        add("audit-verification.json", verification)
        for server in servers.sorted() {
            if let data = FileManager.default.contents(atPath: "\(home.pinsPath)/\(server).json") { files.append(("pins/\(server).json", Array(data))) }
        }
        var sums = ""
        var manifest: [JSONValue] = []
        for (name, bytes) in files {
            guard FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(bytes), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "\(dir)/\(name)"])
            }
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            sums += "\(digest)  \(name)\n"
            manifest.append(["file": .string(name), "sha256": .string(digest), "bytes": .int(bytes.count)])
        }
        let manifestValue: JSONValue = ["incident": .string(incident.id), "created": .number(String(time)), "files": .array(manifest),
                                        "auditHead": verification["head"] ?? .null]
        for (name, data) in [("manifest.json", Data((JSONWriter.compact(manifestValue) + "\n").utf8)), ("SHA256SUMS", Data(sums.utf8))] {
            guard FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: "\(dir)/\(name)"])
            }
        }
        return (dir, files.count)
    }
}
