import Foundation
import Synchronization
import WardenCore

/// Sends SIEM records to the configured destinations as they happen. A destination that fails is
/// reported once on stderr and retried with the next record; export never blocks the hub's work
/// for long (datagrams do not block; files append; TCP reconnects on failure).
public final class SIEMExporter: Sendable {
    private let exports: [HubConfig.Export]
    private let sockets = Mutex<[Int: Int32]>([:])
    private let failed = Mutex<Set<Int>>([])

    public init(exports: [HubConfig.Export]) { self.exports = exports }

    public func send(_ records: [SIEMRecord]) {
        guard !exports.isEmpty, !records.isEmpty else { return }
        for (i, export) in exports.enumerated() {
            let lines = records.map { export.format.encode($0) }
            let ok = deliver(lines, to: export.destination, slot: i)
            failed.withLock { f in
                if ok {
                    f.remove(i)
                } else if f.insert(i).inserted {
                    FileHandle.standardError.write(Data("warden hub: SIEM export to \(export.destination) failed; will retry\n".utf8))
                }
            }
        }
    }

    private func deliver(_ lines: [String], to destination: HubConfig.Destination, slot: Int) -> Bool {
        switch destination {
        case .file(let path):
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            let bytes = Array(lines.map { $0 + "\n" }.joined().utf8)
            return bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count }
        case .unixDatagram(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
                raw[min(path.utf8.count, raw.count - 1)] = 0
            }
            return lines.allSatisfy { line in
                let bytes = Array(line.utf8)
                return withUnsafePointer(to: &address) { ptr in
                    ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                        bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_un>.size)) >= 0 }
                    }
                }
            }
        case .udp(let host, let port):
            guard let (fd, address) = Self.inet(host, port, stream: false) else { return false }
            defer { close(fd) }
            return lines.allSatisfy { line in
                let bytes = Array(line.utf8)
                return withUnsafePointer(to: address) { ptr in
                    ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                        bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) >= 0 }
                    }
                }
            }
        case .tcp(let host, let port):
            // Octet-counting framing (RFC 6587 §3.4.1): a message may not contain its own delimiter safely.
            let frames = Array(lines.map { "\($0.utf8.count) \($0)" }.joined().utf8)
            let fd = sockets.withLock { s -> Int32? in
                if let fd = s[slot] { return fd }
                guard let (fd, address) = Self.inet(host, port, stream: true) else { return nil }
                let ok = withUnsafePointer(to: address) { ptr in
                    ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
                }
                guard ok else { close(fd); return nil }
                s[slot] = fd
                return fd
            }
            guard let fd else { return false }
            let sent = frames.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) == $0.count }
            if !sent { sockets.withLock { s in if let fd = s.removeValue(forKey: slot) { close(fd) } } }
            return sent
        }
    }

    /// IPv4 only: SIEM collectors are addressed by the user, usually on loopback or a LAN address.
    static func inet(_ host: String, _ port: UInt16, stream: Bool) -> (Int32, sockaddr_in)? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        let name = host == "localhost" ? "127.0.0.1" : host
        guard inet_pton(AF_INET, name, &address.sin_addr) == 1 else { return nil }
        let fd = socket(AF_INET, Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue), 0)
        return fd >= 0 ? (fd, address) : nil
    }
}
