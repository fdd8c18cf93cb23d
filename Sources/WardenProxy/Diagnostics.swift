import Foundation
import WardenCore

/// Warden's own messages: always to stderr (stdout belongs to the MCP stream), always prefixed,
/// always escaped (they may quote server-supplied text).
public enum Diagnostics {
    /// Writes `warden[SERVER]: message` to stderr, escaped.
    public static func warn(server: String, _ message: String) {
        let line = "warden[\(SafeText.escape(server))]: \(SafeText.escape(message))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
