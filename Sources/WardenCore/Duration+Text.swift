/// Parsing and printing of the short durations used in policy and on the command line (`90s`, `15m`, `2h`).
public enum DurationText {
    /// Seconds for `"45"`, `"45s"`, `"15m"`, `"2h"`, `"1d"`, `"500ms"`; `nil` when it is not one.
    public static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let n = Double(t.dropLast(suffix.count)), n >= 0, n.isFinite else { return nil }
            return n * factor
        }
        guard let n = Double(t), n >= 0, n.isFinite else { return nil }
        return n
    }

    /// A latency: `412 µs` under a millisecond, else whole milliseconds (`38 ms`).
    public static func format(micros: Int) -> String {
        switch micros {
        case ..<1000: "\(micros) µs"
        case ..<1_000_000: "\(micros / 1000) ms"
        case ..<60_000_000: String(format: "%.1f s", Double(micros) / 1e6)
        default: format(seconds: Double(micros) / 1e6)
        }
    }

    /// A compact rendering: `45s`, `15m`, `2h5m`.
    public static func format(seconds: Double) -> String {
        let s = Int(min(max(0, seconds), 1e12).rounded())  // NaN and absurd values cannot trap
        if s < 60 { return "\(s)s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m\(s % 60)s" }
        let m = (s % 3600) / 60
        return m == 0 ? "\(s / 3600)h" : "\(s / 3600)h\(m)m"
    }
}

import Foundation
