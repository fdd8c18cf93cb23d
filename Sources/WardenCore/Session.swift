/// What the relay knows about one client–server session.
public struct SessionInfo: Sendable, Hashable {
    public var id: String
    /// The `--name` given to `warden wrap` (the server's name in policy).
    public var server: String
    public var clientName: String?
    public var clientVersion: String?
    public var serverName: String?
    public var serverVersion: String?
    public var protocolVersion: String?
    public var instructions: String?
    public var wardenPID: Int32
    public var serverPID: Int32
    /// Seconds since 1970.
    public var startedAt: Double
    /// What isolation the server runs under (nil from relays older than the sandbox).
    public var isolation: Isolation?

    public init(id: String, server: String, wardenPID: Int32, serverPID: Int32, startedAt: Double) {
        self.id = id
        self.server = server
        self.wardenPID = wardenPID
        self.serverPID = serverPID
        self.startedAt = startedAt
    }

    /// The client as `name version`, or `unknown client` before `initialize`.
    public var clientLabel: String {
        guard let clientName else { return "unknown client" }
        return clientVersion.map { "\(clientName) \($0)" } ?? clientName
    }
}
