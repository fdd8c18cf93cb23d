import Foundation
import WardenCore
import WardenProtocol

/// The event spool directory (`$WARDEN_HOME/spool`) as relays and the hub share it. A relay writes
/// what the hub could not take in time as whole files (`SESSION-NNNNNN.jsonl`, written under a
/// temporary name and renamed); a taker — the relay once it catches up, or the hub for files a
/// relay left when it exited — claims a file by renaming it to `….jsonl.replay-PID`, so one taker
/// replays it. A claim whose owner died is taken over; event ids make a file replayed twice
/// harmless.
public enum EventSpool {
    /// Claims and replays every file no live taker holds, oldest name first. A file replayed whole
    /// is removed; one whose replay failed is put back and the sweep stops there (false).
    /// `settle`: plain files younger than this many seconds are left to the relay writing them.
    @discardableResult
    public static func sweep(_ directory: String, settle: Double = 0, _ replay: (_ file: String) -> Bool) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return true }
        let now = Date().timeIntervalSince1970
        for name in names.sorted() {
            let path = "\(directory)/\(name)"
            let original: String
            if name.hasSuffix(".jsonl") {
                if settle > 0 {
                    guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                          now - modified.timeIntervalSince1970 >= settle else { continue }
                }
                original = path
            } else if let range = name.range(of: ".jsonl.replay-"), let owner = Int32(name[range.upperBound...]),
                      owner != getpid(), kill(owner, 0) != 0, errno == ESRCH {
                original = "\(directory)/\(name[..<range.lowerBound]).jsonl"
            } else {
                continue
            }
            let claimed = "\(original).replay-\(getpid())"
            guard rename(path, claimed) == 0 else { continue }
            if replay(claimed) {
                unlink(claimed)
            } else {
                rename(claimed, original)
                return false
            }
        }
        return true
    }

    /// Reads one spool file in batches of 1,000 events, so memory stays bounded whatever its size;
    /// false when `send` refused a batch.
    public static func replay(_ file: String, _ send: ([Event]) -> Bool) -> Bool {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var batch: [Event] = []
        batch.reserveCapacity(1000)
        var ok = true
        // After a refused batch the rest is read and skipped: the file goes back whole.
        LineFramer.readAll(fd: fd, maxFrame: 16 << 20) { frame in
            guard ok, case .line(_, let content) = frame, let value = try? JSONParser.parse(content), let e = Event(json: value) else { return }
            batch.append(e)
            if batch.count >= 1000 {
                ok = send(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if ok && !batch.isEmpty { ok = send(batch) }
        return ok
    }
}
