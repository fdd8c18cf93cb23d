/// Reads a `text/event-stream` (the WHATWG server-sent events format) as it arrives, chunk by
/// chunk, and hands out whole events. An event's data is kept up to `maxData` bytes: a longer one
/// is reported with its length and its start, never buffered whole (a server can send 50 MB in an
/// event; the relay needs only to know it cannot pass it).
public struct EventStreamParser {
    public struct Event: Equatable, Sendable {
        /// `message` unless the stream named another type.
        public var type: String
        public var data: [UInt8]
        /// The stream's last event id when this event was dispatched (`Last-Event-ID` resumes after it).
        public var id: String?
        /// Bytes of data the event carried; more than `data.count` when it was over the limit.
        public var length: Int
        public var isOversized: Bool { length > data.count }
    }

    public let maxData: Int
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var dataLength = 0
    private var type = ""
    private var sawData = false
    /// After a CR: a following LF belongs to the same line end.
    private var afterCR = false
    private var started = false
    public private(set) var lastEventID: String?
    /// The reconnection delay the stream asked for, in milliseconds.
    public private(set) var retry: Int?

    public init(maxData: Int) { self.maxData = maxData }

    /// Feeds bytes; returns the events they completed, in order.
    public mutating func feed(_ bytes: [UInt8]) -> [Event] { bytes.withUnsafeBytes { feed($0) } }

    /// Feeds bytes; returns the events they completed, in order. Lines are found by scanning and
    /// copied whole (a chunk of a 70 MB event costs a copy, not a call per byte).
    public mutating func feed(_ buffer: UnsafeRawBufferPointer) -> [Event] {
        var events: [Event] = []
        var i = 0
        let n = buffer.count
        while i < n {
            if afterCR {
                afterCR = false
                if buffer[i] == 0x0A { i += 1; continue }
            }
            var j = i
            while j < n, buffer[j] != 0x0A, buffer[j] != 0x0D { j += 1 }
            // A data line may be as long as the data limit; any other field (an id, a type, a
            // comment) 4 KiB. What is past the limit is counted, not kept. The field is known once
            // its first bytes are in.
            let head = min(j, i + max(0, 8 - line.count))
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[i..<head]))
            let limit = line.starts(with: Self.dataField) || line.count < 4 ? maxData + 64 : 4096
            let room = max(0, limit - line.count)
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[head..<min(j, head + room)]))
            dropped += max(0, j - head - room)
            if j == n { break }
            afterCR = buffer[j] == 0x0D
            if let e = endLine() { events.append(e) }
            i = j + 1
        }
        return events
    }

    /// The stream ended: an event not closed by a blank line is dropped, as the format says.
    public mutating func finish() -> [Event] { [] }

    /// Bytes of the current line past the limit.
    private var dropped = 0
    private static let dataField = Array("data".utf8)

    private mutating func endLine() -> Event? {
        defer {
            // A large event's buffers are not kept for the life of the stream.
            line.removeAll(keepingCapacity: line.capacity <= 1 << 16)
            dropped = 0
        }
        if !started {
            started = true
            // A byte-order mark at the start of the stream is not part of the first field.
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        if line.isEmpty { return dispatch() }
        if line.first == 0x3A { return nil }  // a comment
        let colon = line.firstIndex(of: 0x3A)
        let field = String(decoding: line[..<(colon ?? line.count)], as: UTF8.self)
        var value = colon.map { line.index(after: $0) } ?? line.count
        if value < line.count, line[value] == 0x20 { value += 1 }
        let rest = line[value...]
        switch field {
        case "data":
            if sawData {
                dataLength += 1
                if data.count < maxData { data.append(0x0A) }
            }
            sawData = true
            dataLength += rest.count + dropped
            if data.count < maxData { data.append(contentsOf: rest.prefix(maxData - data.count)) }
        case "event":
            type = String(decoding: rest, as: UTF8.self)
        case "id":
            // An id with a NUL is ignored, as the format says.
            if !rest.contains(0) { lastEventID = String(decoding: rest, as: UTF8.self) }
        case "retry":
            if !rest.isEmpty, rest.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let ms = Int(String(decoding: rest, as: UTF8.self)) { retry = ms }
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> Event? {
        defer {
            data.removeAll(keepingCapacity: data.capacity <= 1 << 16)
            dataLength = 0
            type = ""
            sawData = false
        }
        guard sawData else { return nil }
        return Event(type: type.isEmpty ? "message" : type, data: data, id: lastEventID, length: dataLength)
    }
}
