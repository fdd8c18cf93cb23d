#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a byte stream into newline-delimited frames, as the MCP stdio transport defines them.
///
/// Bytes are read straight into the framer's buffer (`readInto`) and handed out as borrowed slices,
/// so a frame is never copied on the way through. A frame longer than `maxFrame` is discarded up to
/// its newline and reported as `oversized` with a prefix (enough to try to recover its id).
public struct LineFramer: ~Copyable {
    /// The largest frame accepted (64 MiB unless told otherwise).
    public let maxFrame: Int
    private var storage: UnsafeMutableRawBufferPointer
    private var head = 0
    private var tail = 0
    private var scanned = 0
    private var discarding = false
    private var discardedBytes = 0
    private var discardPrefix: [UInt8] = []

    /// Bytes of an oversized frame kept for diagnosis and id recovery.
    public static let oversizedPrefixLength = 64 * 1024

    public init(maxFrame: Int = 64 << 20, initialCapacity: Int = 64 * 1024) {
        self.maxFrame = maxFrame
        storage = .allocate(byteCount: max(initialCapacity, 4096), alignment: 16)
    }

    deinit { storage.deallocate() }

    /// One unit the framer hands out.
    public enum Frame {
        /// A complete line. `bytes` includes its terminator (`\n` or `\r\n`); `content` excludes it.
        /// Both are valid only inside the `drain` callback.
        case line(bytes: UnsafeRawBufferPointer, content: UnsafeRawBufferPointer)
        /// A frame over `maxFrame` bytes, dropped whole; `prefix` is its start.
        case oversized(length: Int, prefix: [UInt8])
    }

    /// Reads once from `fd` into free space. Returns the byte count, 0 at end of input, -1 on error
    /// (with `errno` set). Blocks as `read(2)` does; the caller owns the thread.
    public mutating func readInto(fd: Int32) -> Int {
        ensureSpace()
        let free = storage.count - tail
        let n = read(fd, storage.baseAddress! + tail, free)
        if n > 0 { tail += n }
        return n
    }

    /// Appends bytes (for tests and in-memory use).
    public mutating func append(_ bytes: some Collection<UInt8>) {
        for chunkStart in stride(from: 0, to: bytes.count, by: 1 << 20) {
            let chunk = bytes.dropFirst(chunkStart).prefix(1 << 20)
            ensureSpace(atLeast: chunk.count)
            let dest = UnsafeMutableRawBufferPointer(rebasing: storage[tail..<(tail + chunk.count)])
            dest.copyBytes(from: chunk)
            tail += chunk.count
        }
    }

    /// Hands every complete frame now buffered to `body`, in order.
    public mutating func drain(_ body: (Frame) throws -> Void) rethrows {
        while true {
            let hit = scanned < tail ? memchr(storage.baseAddress! + scanned, 0x0A, tail - scanned) : nil
            guard let hit else {
                scanned = tail
                if discarding {
                    // Keep nothing of a frame being discarded beyond its prefix.
                    discardedBytes += tail - head
                    head = tail
                    scanned = tail
                } else if tail - head > maxFrame {
                    discarding = true
                    discardPrefix = Array(UnsafeRawBufferPointer(rebasing: storage[head..<min(tail, head + Self.oversizedPrefixLength)]))
                    discardedBytes = tail - head
                    head = tail
                    scanned = tail
                }
                return
            }
            let newline = UnsafeRawPointer(storage.baseAddress!).distance(to: UnsafeRawPointer(hit))
            let lineEnd = newline + 1
            if discarding {
                discardedBytes += newline - head
                let frame = Frame.oversized(length: discardedBytes, prefix: discardPrefix)
                discarding = false
                discardPrefix = []
                discardedBytes = 0
                head = lineEnd
                scanned = lineEnd
                try body(frame)
                continue
            }
            if newline - head > maxFrame {
                let frame = Frame.oversized(length: newline - head, prefix: Array(UnsafeRawBufferPointer(rebasing: storage[head..<min(newline, head + Self.oversizedPrefixLength)])))
                head = lineEnd
                scanned = lineEnd
                try body(frame)
                continue
            }
            var contentEnd = newline
            if contentEnd > head, storage[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let bytes = UnsafeRawBufferPointer(rebasing: storage[head..<lineEnd])
            let content = UnsafeRawBufferPointer(rebasing: storage[head..<contentEnd])
            head = lineEnd
            scanned = lineEnd
            try body(.line(bytes: bytes, content: content))
        }
    }

    /// At end of input: the unterminated remainder, if any, as a final frame (without terminator).
    public mutating func finish(_ body: (Frame) throws -> Void) rethrows {
        if discarding {
            let frame = Frame.oversized(length: discardedBytes + (tail - head), prefix: discardPrefix)
            discarding = false
            head = tail
            try body(frame)
            return
        }
        guard tail > head else { return }
        let rest = UnsafeRawBufferPointer(rebasing: storage[head..<tail])
        head = tail
        scanned = tail
        try body(.line(bytes: rest, content: rest))
    }

    private mutating func ensureSpace(atLeast needed: Int = 16 * 1024) {
        if head == tail {
            head = 0; tail = 0; scanned = 0
        }
        if storage.count - tail >= needed { return }
        let live = tail - head
        // Compact first; grow (doubling, up to the frame limit plus a read's worth) only when that is not enough.
        if head > 0 && storage.count - live >= needed {
            storage.baseAddress!.copyMemory(from: storage.baseAddress! + head, byteCount: live)
            scanned -= head
            tail = live
            head = 0
            return
        }
        var capacity = storage.count
        while capacity - live < needed { capacity *= 2 }
        capacity = min(capacity, maxFrame + 2 * needed + 1024)
        let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(capacity, live + needed), alignment: 16)
        grown.baseAddress!.copyMemory(from: storage.baseAddress! + head, byteCount: live)
        storage.deallocate()
        storage = grown
        scanned -= head
        tail = live
        head = 0
    }
}

extension LineFramer {
    /// Reads newline-delimited messages from `fd` until end of file or an error (a server's pipe
    /// or socket, the client's stdin, a spool file), frame by frame.
    public static func readAll(fd: Int32, maxFrame: Int, _ deliver: (Frame) -> Void) {
        var framer = LineFramer(maxFrame: maxFrame)
        while true {
            let n = framer.readInto(fd: fd)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            framer.drain(deliver)
        }
        framer.finish(deliver)
    }
}
