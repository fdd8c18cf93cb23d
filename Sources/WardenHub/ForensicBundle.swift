import Crypto
import Foundation
import WardenCore
import WardenHubAPI
import WardenStore

/// A forensic bundle for an incident: its alerts and events, the tool definitions and pins involved,
/// grants, the whole audit chain with its verification (against the signed head too) and the signed
/// head itself (an anchor: `warden audit verify --anchor audit.head`), and `SHA256SUMS` over every
/// file (the format `sha256sum -c` reads) plus `manifest.json`. Everything is owner-only.
enum ForensicBundle {
    static func write(incident: Incident, store: Store, signer: AuditSigner, home: WardenHome, at time: Double) throws -> (path: String, files: Int) {
        let stamp = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: time)).replacingOccurrences(of: ":", with: "")
        let dir = "\(home.evidencePath)/\(incident.id)-\(stamp)"
        for d in [home.evidencePath, dir, dir + "/pins"] { try PrivateFile.makeDirectory(d) }
        var files: [(String, [UInt8])] = []
        func add(_ name: String, _ value: JSONValue) { files.append((name, Array((JSONWriter.safe(value) + "\n").utf8))) }
        func lines(_ name: String, _ values: [JSONValue]) { files.append((name, Array(values.map { JSONWriter.safe($0) + "\n" }.joined().utf8))) }

        let alerts = try incident.alerts.compactMap { try store.alert($0) }
        let sessions = Array(Set(alerts.compactMap(\.session))).sorted()
        let servers = Set(alerts.map(\.server))
        add("incident.json", incident.json)
        add("alerts.json", .array(alerts.map(\.json)))
        lines("events.jsonl", try store.events(sessions: sessions).map(\.json))
        let tools = try store.tools(flaggedOnly: false).filter { servers.contains($0.server) }
        add("tools.json", .array(tools.map { HubWire.encode(HubTool($0, detail: true)) }))
        add("grants.json", .array(try store.grants(limit: 100_000).filter { servers.contains($0.request.server) }.map(HubJSON.grant)))
        lines("audit.jsonl", try store.auditRecords(after: 0).map(HubJSON.audit))
        let verification: JSONValue
        switch try signer.verify(anchors: []) {
        case .intact(let records, let head): verification = ["intact": true, "records": .int(records), "head": .string(head)]
        case .broken(let seq, let problem): verification = ["intact": false, "sequence": .int(seq), "problem": .string(problem)]
        }
        add("audit-verification.json", verification)
        if let head = signer.head { files.append(("audit.head", Array((head.token + "\n").utf8))) }
        for server in servers.sorted() {
            if let data = FileManager.default.contents(atPath: "\(home.pinsPath)/\(server).json") { files.append(("pins/\(server).json", Array(data))) }
        }
        var sums = ""
        var manifest: [JSONValue] = []
        for (name, bytes) in files {
            try PrivateFile.write(bytes, to: "\(dir)/\(name)")
            let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
            sums += "\(digest)  \(name)\n"
            manifest.append(["file": .string(name), "sha256": .string(digest), "bytes": .int(bytes.count)])
        }
        let manifestValue: JSONValue = ["incident": .string(incident.id), "created": .number(String(time)), "files": .array(manifest),
                                        "auditHead": verification["head"] ?? .null]
        for (name, text) in [("manifest.json", JSONWriter.compact(manifestValue) + "\n"), ("SHA256SUMS", sums)] {
            try PrivateFile.write(Array(text.utf8), to: "\(dir)/\(name)")
        }
        return (dir, files.count)
    }
}
