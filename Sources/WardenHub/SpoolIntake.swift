import Foundation
import WardenCore
import WardenProtocol

/// Takes in the event spool files relays leave behind. A relay spools what the hub could not take
/// in time (it was down, or slower than a flood) and replays it when it catches up; one that exits
/// first — its close waits two seconds at most — leaves its files on disk, and before this they
/// waited for the next relay of the same home. The hub now claims such files itself, with the same
/// atomic rename the relays use (so a file is replayed by one taker), and ingests them as
/// `events.append` would. Event ids make a file replayed twice (a taker that died half-way)
/// harmless.
struct SpoolIntake {
    let path: String
    /// A plain spool file younger than this is left to the relay that wrote it (it replays it
    /// itself, over its own connection, once it has caught up).
    var settle: Double = 1

    /// Ingests every file no live relay is replaying; returns how many events went in.
    @discardableResult
    func run(_ ingest: ([Event]) -> Bool) -> Int {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return 0 }
        var taken = 0
        let now = Date().timeIntervalSince1970
        for name in names.sorted() {
            let file = "\(path)/\(name)"
            let original: String
            if name.hasSuffix(".jsonl") {
                guard let modified = (try? FileManager.default.attributesOfItem(atPath: file))?[.modificationDate] as? Date,
                      now - modified.timeIntervalSince1970 >= settle else { continue }
                original = file
            } else if let range = name.range(of: ".jsonl.replay-"), let owner = Int32(name[range.upperBound...]),
                      owner != getpid(), kill(owner, 0) != 0, errno == ESRCH {
                original = "\(path)/\(name[..<range.lowerBound]).jsonl"
            } else {
                continue
            }
            let claimed = "\(original).replay-\(getpid())"
            guard rename(file, claimed) == 0 else { continue }
            if let n = Self.replay(claimed, ingest) {
                unlink(claimed)
                taken += n
            } else {
                // Put back for the next try (the store refused: full disk, a locked database).
                rename(claimed, original)
                return taken
            }
        }
        return taken
    }

    /// Reads a file in batches of 1,000 events; nil when a batch was not stored.
    static func replay(_ file: String, _ ingest: ([Event]) -> Bool) -> Int? {
        let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var framer = LineFramer(maxFrame: 16 << 20)
        var batch: [Event] = []
        var ok = true, count = 0
        let collect: (LineFramer.Frame) -> Void = { frame in
            guard ok, case .line(_, let content) = frame, let value = try? JSONParser.parse(content), let e = Event(json: value) else { return }
            batch.append(e)
            if batch.count >= 1000 {
                ok = ingest(batch)
                count += batch.count
                batch.removeAll(keepingCapacity: true)
            }
        }
        while ok {
            let n = framer.readInto(fd: fd)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            framer.drain(collect)
        }
        framer.finish(collect)
        if ok && !batch.isEmpty {
            ok = ingest(batch)
            count += batch.count
        }
        return ok ? count : nil
    }
}
