import WardenCore
import WardenDetect

/// How a relay behaves; everything else it learns from the messages.
public struct RelayConfiguration: Sendable {
    /// The server's name in policy, events and messages (`warden wrap --name`).
    public var serverName: String
    public var policy: Policy
    /// Largest message accepted in either direction.
    public var maxFrame: Int = 64 << 20
    /// How often a held call with a progress token hears that it is still waiting.
    public var progressInterval: Double = 5
    /// Extra time past a grant's deadline before the relay stops waiting for the authority itself.
    public var grantGrace: Double = 2
    /// The signed registry named by the policy's `signatures:` (loaded at start; nil if unusable).
    public var registry: SignedRegistry?
    /// Operator suppressions to apply on top of the policy's (re-read when the hub says tools changed).
    public var suppressions: SuppressionFile?
    /// `controls.json`: servers blocked and egress lockdowns from playbooks (re-read on `tools.changed`).
    public var controlsPath: String?

    public init(serverName: String, policy: Policy) {
        self.serverName = serverName
        self.policy = policy
    }
}
