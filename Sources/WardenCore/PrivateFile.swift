import Foundation

/// Files and directories only their owner may read: everything Warden writes into `$WARDEN_HOME`
/// (the database, the spool, the audit head and key, pins, controls, evidence) is 0600, every
/// directory 0700.
///
/// Files are created with that mode from the first byte (`open(2)` with `O_EXCL` and mode 0600),
/// not written and then `chmod`ed, so there is no moment in which another user could open them.
/// Blocking file I/O: call it from a thread that may block.
public enum PrivateFile {
    /// The mode of every file Warden keeps.
    public static let fileMode: mode_t = 0o600
    /// The mode of every directory Warden keeps.
    public static let directoryMode: mode_t = 0o700

    /// Why a file could not be written, naming it.
    public struct WriteError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot write \(path): \(reason)" }
    }

    /// Replaces `path` with `bytes` atomically (a private temporary file, `fsync`, `rename`): a
    /// reader sees the old content or the new, never part of it, and never a file others can read.
    public static func write(_ bytes: some Collection<UInt8>, to path: String) throws(WriteError) {
        let temp = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        guard fd >= 0 else { throw WriteError(path: path, reason: String(cString: strerror(errno))) }
        // The umask can only take bits away; set exactly 0600 whatever it is.
        _ = fchmod(fd, fileMode)
        let array = Array(bytes)
        var written = 0
        let ok = array.withUnsafeBytes { raw -> Bool in
            while written < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                written += n
            }
            return true
        }
        let reason = ok ? nil : String(cString: strerror(errno))
        fsync(fd)
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            let why = reason ?? String(cString: strerror(errno))
            unlink(temp)
            throw WriteError(path: path, reason: why)
        }
    }

    /// Creates `path` and any missing parents as owner-only directories, and tightens `path` itself
    /// to 0700 if it already existed with a wider mode.
    public static func makeDirectory(_ path: String) throws(WriteError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: Int(directoryMode)])
        } catch {
            throw WriteError(path: path, reason: "\(error)")
        }
        tighten(path)
    }

    /// Creates an empty owner-only file at `path` if there is none (so a program that creates its
    /// files with a default mode, such as SQLite, opens one that is already private), and tightens
    /// an existing one.
    public static func prepare(_ path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, fileMode)
        if fd >= 0 { close(fd) }
        tighten(path)
    }

    /// Takes group and other permissions away from `path` if it exists (a file left 0644 by an
    /// older Warden, or created by another program); symbolic links are left alone.
    public static func tighten(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFLNK, info.st_mode & 0o077 != 0 else { return }
        _ = chmod(path, info.st_mode & 0o700)
    }
}
