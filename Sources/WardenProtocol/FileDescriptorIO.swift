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

/// `posix_spawn` attributes Warden uses for every child: an empty signal mask and default handling
/// of the signals Warden itself ignores or catches (SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT).
public enum SpawnDefaults {
    /// POSIX_SPAWN_SETSID (glibc ≥ 2.26), which Swift does not import.
    public static let newSession: Int32 = 0x80

    /// Fills `attributes` (already initialised); `flags` adds to the signal flags (e.g. `newSession`).
    public static func apply(to attributes: inout posix_spawnattr_t, flags: Int32 = 0) {
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) | flags))
    }
}
