import Foundation
import WardenCore

/// Finds markup that renders or runs rather than reads: HTML comments, script tags, event-handler
/// attributes and `javascript:` URLs.
enum ActiveMarkup {
    static let handlers = ["onclick", "onerror", "onload", "onmouseover", "onfocus", "onsubmit"]

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        guard s.contains(where: { $0 == "<" || $0 == "j" || $0 == "J" || $0 == "!" }) else { return [] }
        let lower = text.lower
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
            if matches("![", at: i), let close = (i..<min(s.count, i + 300)).first(where: { matches("](http", at: $0) }) {
                // A markdown image from a remote host: renders as a request carrying whatever is in its URL.
                var j = close + 2
                while j < s.count, s[j] != ")", !s[j].properties.isWhitespace { j += 1 }
                hits.append((i..<min(s.count, j + 1), nil))
                i = j
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
        let scalars = text.lower
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


/// Finds classic injection payloads: SQL tautologies, path traversal, cloud metadata endpoints.
enum InjectionPayload {
    static let needles = ["' or '1'='1", "\" or \"1\"=\"1", "' or 1=1", "or 1=1--", "'; drop table", "union select",
                          "../../", "..\\..\\", "169.254.169.254", "metadata.google.internal", "100.100.100.200", "file:///etc/"]

    static let needleScalars: [[Unicode.Scalar]] = needles.map { Array($0.unicodeScalars) }
    static let firsts: Set<Unicode.Scalar> = Set(needleScalars.compactMap(\.first))

    /// One pass: only positions whose scalar starts some needle are compared.
    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        let lower = text.lower
        var hits: [(Range<Int>, String?)] = []
        var i = 0
        while i < lower.count {
            guard firsts.contains(lower[i]), let n = needleScalars.first(where: { i + $0.count <= lower.count && lower[i..<(i + $0.count)].elementsEqual($0) }) else {
                i += 1
                continue
            }
            hits.append((i..<(i + n.count), nil))
            i += n.count
        }
        return hits
    }
}

/// Finds words that mix Latin letters with Cyrillic or Greek ones (`Sуstem` with a Cyrillic у).
enum MixedScript {
    enum Script { case latin, cyrillic, greek, other }

    static func script(_ c: Unicode.Scalar) -> Script {
        switch c.value {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F: .latin
        case 0x400...0x52F: .cyrillic
        case 0x370...0x3FF: .greek
        default: .other
        }
    }

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        guard !text.isASCII else { return [] }
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        var i = 0
        while i < s.count {
            guard s[i].properties.isAlphabetic else { i += 1; continue }
            var j = i
            var scripts = Set<Script>()
            while j < s.count, s[j].properties.isAlphabetic {
                let sc = script(s[j])
                if sc != .other { scripts.insert(sc) }
                j += 1
            }
            if scripts.contains(.latin) && (scripts.contains(.cyrillic) || scripts.contains(.greek)) { hits.append((i..<j, nil)) }
            i = j
        }
        return hits
    }
}

/// Finds text pushed out of sight: a sentence repeated over and over, or long runs of blank space.
enum Padding {
    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        // Blank runs: indentation in real help text is fine; a screenful of blank lines or a very long
        // run of spaces is how text is pushed below what a reviewer sees.
        var runStart = 0, run = 0, lines = 0
        for (i, c) in s.enumerated() {
            if c == " " || c == "\n" || c == "\t" || c == "\r" {
                if run == 0 { runStart = i; lines = 0 }
                run += 1
                if c == "\n" { lines += 1 }
            } else {
                if lines >= 8 || run >= 100 { hits.append((runStart..<i, "\(lines) blank lines / \(run) blank characters in a row")) }
                run = 0
            }
        }
        if lines >= 8 || run >= 100 { hits.append((runStart..<s.count, "trailing blank run")) }
        guard s.count > 200 else { return hits }
        // Sentences (split on . ! ?) that repeat four times or more.
        var counts: [String: Int] = [:]
        var start = 0
        for (i, c) in s.enumerated() where c == "." || c == "!" || c == "?" {
            if i - start >= 12 {
                let sentence = text.slice(start..<i).trimmingCharacters(in: .whitespacesAndNewlines)
                counts[sentence, default: 0] += 1
                if counts[sentence] == 4 { hits.append((start..<(i + 1), "a sentence repeated 4+ times")) }
            }
            start = i + 1
        }
        return hits
    }
}
