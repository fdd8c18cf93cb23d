import Synchronization
import WardenProtocol

/// Where the relay writes: one side of the conversation. Writes of whole lines are atomic with
/// respect to each other (the relay writes from its reader threads and from grant tasks).
public protocol MessageOutput: Sendable {
    /// Writes complete newline-terminated lines. Returns false when the peer has gone.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool
}

extension MessageOutput {
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBytes { write($0) } }
}

/// A blocking file-descriptor output; a lock keeps each line whole.
public final class FileDescriptorOutput: MessageOutput {
    private let fd: Mutex<Int32>

    public init(fd: Int32) { self.fd = Mutex(fd) }

    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        fd.withLock { fd in fd >= 0 && FileDescriptorIO.writeAll(fd: fd, bytes) }
    }

    /// Closes the descriptor after any write in progress; later writes report failure.
    public func close() {
        fd.withLock { fd in
            if fd >= 0 { _ = Glibc.close(fd) }
            fd = -1
        }
    }
}

import Glibc
