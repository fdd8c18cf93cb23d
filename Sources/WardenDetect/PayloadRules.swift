import Foundation
import WardenCore

/// Finds markup that renders or runs rather than reads: HTML comments, script tags, event-handler
/// attributes and `javascript:` URLs.
enum ActiveMarkup {
    static let handlers = ["onclick", "onerror", "onload", "onmouseover", "onfocus", "onsubmit"]

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        guard s.contains(where: { $0 == "<" || $0 == "j" || $0 == "J" }) else { return [] }
        let lower = s.map(asciiLower)
        func matches(_ word: String, at i: Int) -> Bool {
            let w = Array(word.unicodeScalars)
            guard i + w.count <= lower.count else { return false }
            for k in 0..<w.count where lower[i + k] != w[k] { return false }
            return true
        }
        var i = 0
        while i < s.count {
            if matches("<!--", at: i) {
                var j = i + 4
                while j < s.count, !matches("-->", at: j) { j += 1 }
                let end = min(s.count, j + 3)
                hits.append((i..<end, "hidden comment \"\(text.slice((i + 4)..<min(j, s.count)).trimmingCharacters(in: .whitespaces))\""))
                i = end
                continue
            }
            if matches("<script", at: i) || matches("javascript:", at: i) || matches("<iframe", at: i) {
                hits.append((i..<min(s.count, i + 12), nil))
                i += 7
                continue
            }
            if s[i] == "<", i + 1 < s.count, (0x61...0x7A).contains(lower[i + 1].value) {
                // An HTML element with an event-handler attribute.
                var j = i + 1
                while j < s.count, s[j] != ">", j - i < 200 { j += 1 }
                let tag = String(String.UnicodeScalarView(lower[i..<j]))
                if handlers.contains(where: { tag.contains($0 + "=") }) { hits.append((i..<min(j + 1, s.count), nil)) }
                i = j
                continue
            }
            i += 1
        }
        return hits
    }
}

/// Finds shell payloads: destructive or remote-execution commands and command chaining, which have
/// no place in a parameter's default, example or description.
enum ShellPayload {
    static let patterns: [PhrasePattern] = [
        PhrasePattern([["rm"], ["rf", "fr", "r"]], gap: 1),
        PhrasePattern([["chmod", "chown"], ["r"]], gap: 1),
        PhrasePattern([["curl", "wget"], ["sh", "bash"]], gap: 6),
        PhrasePattern([["mkfs", "shutdown", "dd"], ["if", "dev", "h", "now"]], gap: 2),
        PhrasePattern([["nc", "ncat", "netcat"], ["e", "exec"]], gap: 3),
    ]

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits = patterns.flatMap { $0.matches(in: text) }.map { ($0, Optional<String>.none) }
        // Command substitution and chaining after a value: `x; rm`, `$(…)`, backticks, `| sh`.
        let s = text.scalars
        for i in 0..<s.count {
            if s[i] == "$", i + 1 < s.count, s[i + 1] == "(" { hits.append((i..<min(s.count, i + 12), nil)) }
            if s[i] == "|", i + 3 < s.count, String(String.UnicodeScalarView(s[(i + 1)..<min(s.count, i + 6)])).trimmingCharacters(in: .whitespaces).hasPrefix("sh") {
                hits.append((i..<min(s.count, i + 5), nil))
            }
        }
        return hits
    }
}

/// Finds encoded text (base64, hex, percent-encoding), decodes it, and runs the instruction rules
/// on what it says: an instruction nobody can read is still an instruction.
enum EncodedPayload {
    static func decoded(_ token: String) -> String? {
        if token.count >= 24, token.count % 4 == 0 || token.hasSuffix("="),
           token.allSatisfy({ $0.isLetter || $0.isNumber || "+/=_-".contains($0) }),
           let data = Data(base64Encoded: token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")),
           let text = String(data: data, encoding: .utf8), printable(text) {
            return text
        }
        if token.count >= 32, token.count % 2 == 0, token.allSatisfy(\.isHexDigit) {
            var bytes: [UInt8] = []
            var idx = token.startIndex
            while idx < token.endIndex {
                let next = token.index(idx, offsetBy: 2)
                bytes.append(UInt8(token[idx..<next], radix: 16)!)
                idx = next
            }
            if let text = String(bytes: bytes, encoding: .utf8), printable(text) { return text }
        }
        if token.contains("%"), token.count >= 18, let text = token.removingPercentEncoding, text != token,
           text.filter({ $0 == " " }).count >= 2, printable(text) {
            return text
        }
        return nil
    }

    static func printable(_ text: String) -> Bool {
        let letters = text.unicodeScalars.filter { $0.properties.isAlphabetic || $0 == " " }.count
        return text.count >= 8 && Double(letters) / Double(text.unicodeScalars.count) > 0.75 && text.contains(" ")
    }

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        var i = 0
        while i < s.count {
            guard !isSeparator(s[i]) else { i += 1; continue }
            var j = i
            while j < s.count, !isSeparator(s[j]) { j += 1 }
            if j - i >= 18, let plain = decoded(text.slice(i..<j)) {
                let inner = AnalyzedText(field: text.field, text: plain)
                let reasons = RuleSet.instructionRules.flatMap { $0.findings(in: inner) }
                if !reasons.isEmpty {
                    hits.append((i..<j, "decodes to \"\(plain.prefix(120))\" (\(Set(reasons.map(\.rule)).sorted().joined(separator: ", ")))"))
                }
            }
            i = j
        }
        return hits
    }

    static func isSeparator(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\n" || c == "\t" || c == "\"" || c == "'" || c == "(" || c == ")" || c == "," || c == "`"
    }
}

/// Finds URLs to hosts that exist to receive data: tunnels, request bins, interaction catchers.
enum CollectorURL {
    static let hosts = ["ngrok.io", "ngrok-free.app", "ngrok.app", "webhook.site", "requestbin", "pipedream.net", "burpcollaborator",
                        "interact.sh", "oast.", "trycloudflare.com", "serveo.net", "localtunnel.me", "loca.lt", "hookbin", "beeceptor"]

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let scalars = text.scalars.map(asciiLower)
        guard scalars.count > 8, zip(scalars, scalars.dropFirst()).contains(where: { $0 == "h" && $1 == "t" }) else { return [] }
        var i = 0
        while i + 8 < scalars.count {
            if scalars[i] == "h", String(String.UnicodeScalarView(scalars[i..<min(scalars.count, i + 8)])).hasPrefix("http") {
                var j = i
                while j < scalars.count, !scalars[j].properties.isWhitespace, scalars[j] != "\"", scalars[j] != ")" { j += 1 }
                let url = String(String.UnicodeScalarView(scalars[i..<j]))
                if hosts.contains(where: { url.contains($0) }) { hits.append((i..<j, nil)) }
                i = j
                continue
            }
            i += 1
        }
        return hits
    }
}

/// Lower-cases ASCII letters only: the patterns here are ASCII, and `Character.lowercased()` per
/// scalar costs more than the whole match.
@inline(__always) func asciiLower(_ c: Unicode.Scalar) -> Unicode.Scalar {
    (0x41...0x5A).contains(c.value) ? Unicode.Scalar(c.value + 32)! : c
}
