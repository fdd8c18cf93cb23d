import WardenCore
import Foundation

/// Small text formats shared by the views.
enum Format {
    /// `HH:MM:SS` at a UTC offset (seconds).
    static func clock(_ t: Double, offset: Int) -> String {
        guard t > 0, t < 1e11 else { return "--:--:--" }
        let s = (Int(t) + offset) % 86_400
        let v = s < 0 ? s + 86_400 : s
        return String(format: "%02d:%02d:%02d", v / 3600, (v / 60) % 60, v % 60)
    }

    /// `12s`, `4m05s`, `2h10m`, `3d`: a duration a person reads at a glance.
    static func span(_ seconds: Double) -> String {
        let s = Int(min(max(0, seconds), 1e12).rounded(.down))  // NaN and absurd values cannot trap
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        if s < 86_400 { return String(format: "%dh%02dm", s / 3600, (s / 60) % 60) }
        return "\(s / 86_400)d"
    }

    /// `812 B`, `14.2 KB`, `3.1 MB`: sizes in bytes, for people.
    static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1024 * 1024 { return String(format: "%.1f KB", Double(n) / 1024) }
        return String(format: "%.1f MB", Double(n) / 1_048_576)
    }

    /// `12s ago` style, or `-` for no time.
    static func ago(_ t: Double, now: Double) -> String { t > 0 ? span(now - t) + " ago" : "-" }

    /// The role for a severity or verdict word.
    static func role(_ s: Severity) -> Role { role(severity: s.rawValue) }
    static func role(_ v: Verdict) -> Role { role(severity: v.rawValue) }

    static func role(severity: String) -> Role {
        switch severity.lowercased() {
        case "critical", "malicious": .critical
        case "high": .high
        case "medium", "suspicious", "changed": .medium
        case "low": .low
        case "clean", "approved": .success
        case "quarantined": .high
        default: .info
        }
    }
}
