import Foundation
import Testing
@testable import WardenTransport

@Suite("server processes")
struct ServerProcessTests {
    /// What the child reads from its own descriptor table.
    static func run(_ script: String, infoPipe: Int32? = nil) throws -> String {
        let child = try ServerProcess.spawn(["/bin/sh", "-c", script], infoPipe: infoPipe)
        close(child.stdinFD)
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(child.stdoutFD, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        _ = child.wait()
        return String(decoding: out, as: UTF8.self)
    }

    @Test("a server inherits stdin, stdout, stderr (and the sandbox's info descriptor) and nothing else, close-on-exec or not")
    func nothingElseCrosses() throws {
        // Two descriptors opened the way NIO's sockets are: without close-on-exec. The second is
        // the lowest free one from 40 up (never dup2 onto a number: another test may hold it).
        let low = open("/dev/null", O_RDONLY), high = fcntl(low, F_DUPFD, 40)
        defer { close(low); close(high) }
        #expect(low > 2 && high >= 40)
        let probe = "for fd in 3 \(low) \(high); do if [ -e /proc/self/fd/$fd ]; then echo open $fd; else echo closed $fd; fi; done"
        let plain = try Self.run(probe)
        #expect(!plain.contains("open"), "\(plain)")
        let sandboxed = try Self.run(probe, infoPipe: 3)
        #expect(sandboxed.contains("open 3") && sandboxed.contains("closed \(high)") && (low == 3 || sandboxed.contains("closed \(low)")), "\(sandboxed)")
    }
}
