#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocking writes to file descriptors, shared by the relay and the hub client.
public enum FileDescriptorIO {
    /// Writes every byte, retrying on short writes and `EINTR`. Returns false when the peer is gone
    /// (`EPIPE` and the like); the caller decides what that means.
    @discardableResult
    public static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard var p = bytes.baseAddress else { return true }
        var left = bytes.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return false
            }
            p += n
            left -= n
        }
        return true
    }
}
