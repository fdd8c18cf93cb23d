import Foundation
import WardenCore

/// Finds markup that renders or runs rather than reads: HTML comments, script tags, event-handler
/// attributes and `javascript:` URLs.
enum ActiveMarkup {
    /// Needles as scalar arrays, built once (lower-case; compared with `AnalyzedText.lower`).
    enum Needle {
        static let commentOpen = Array("<!--".unicodeScalars), commentClose = Array("-->".unicodeScalars)
        static let imageOpen = Array("![".unicodeScalars), imageURL = Array("](http".unicodeScalars)
        static let script = Array("<script".unicodeScalars), javascriptURL = Array("javascript:".unicodeScalars)
        static let iframe = Array("<iframe".unicodeScalars)
    }

    static let handlers = ["onclick", "onerror", "onload", "onmouseover", "onfocus", "onsubmit"].map { Array(($0 + "=").unicodeScalars) }

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        guard s.contains(where: { $0 == "<" || $0 == "j" || $0 == "J" || $0 == "!" }) else { return [] }
        let lower = text.lower
        func matches(_ needle: [Unicode.Scalar], at i: Int) -> Bool {
            guard i + needle.count <= lower.count, lower[i] == needle[0] else { return false }
            for k in 1..<needle.count where lower[i + k] != needle[k] { return false }
            return true
        }
        let commentOpen = Needle.commentOpen, commentClose = Needle.commentClose, imageOpen = Needle.imageOpen
        let imageURL = Needle.imageURL, script = Needle.script, javascriptURL = Needle.javascriptURL, iframe = Needle.iframe
        let handlers = Self.handlers
        var i = 0
        while i < s.count {
            // Every construct starts with `<`, `!` or `j`: other positions are passed at once.
            let c = lower[i]
            if c != "<" && c != "!" && c != "j" { i += 1; continue }
            if matches(commentOpen, at: i) {
                var j = i + 4
                while j < s.count, !matches(commentClose, at: j) { j += 1 }
                let end = min(s.count, j + 3)
                // The note quotes the comment's start: an unclosed one runs to the end of the text,
                // and quoting all of it would cost more than reading it. Padding first is skipped,
                // so a comment that opens with a screenful of blanks is still quoted by its words.
                var from = i + 4
                while from < min(j, s.count), s[from].properties.isWhitespace { from += 1 }
                let body = from..<min(j, s.count, from + 200)
                let cut = body.upperBound < min(j, s.count) ? "…" : ""
                hits.append((i..<end, "hidden comment \"\(text.slice(body).trimmingCharacters(in: .whitespacesAndNewlines))\(cut)\""))
                i = end
                continue
            }
            if matches(imageOpen, at: i), let close = (i..<min(s.count, i + 300)).first(where: { matches(imageURL, at: $0) }) {
                // A markdown image from a remote host: renders as a request carrying whatever is in its URL.
                var j = close + 2
                while j < s.count, s[j] != ")", !s[j].properties.isWhitespace { j += 1 }
                hits.append((i..<min(s.count, j + 1), nil))
                i = j
                continue
            }
            if matches(script, at: i) || matches(javascriptURL, at: i) || matches(iframe, at: i) {
                hits.append((i..<min(s.count, i + 12), nil))
                i += 7
                continue
            }
            if s[i] == "<", i + 1 < s.count, (0x61...0x7A).contains(lower[i + 1].value) {
                // An HTML element with an event-handler attribute.
                var j = i + 1
                while j < s.count, s[j] != ">", j - i < 200 { j += 1 }
                let handler = (i + 1..<j).contains { k in lower[k] == "o" && handlers.contains { matches($0, at: k) && k + $0.count <= j } }
                if handler { hits.append((i..<min(j + 1, s.count), nil)) }
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

    static let start = PhrasePattern.Step(patterns.flatMap { $0.steps.first ?? [] })

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        if start.occurs(in: text) {
            hits = patterns.flatMap { $0.matches(in: text) }.map { ($0, Optional<String>.none) }
        }
        // Command substitution and chaining after a value: `x; rm`, `$(…)`, backticks, `| sh`.
        guard !text.traits.isDisjoint(with: [.dollar, .pipe]) else { return hits }
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
            if j - i >= 18, (i..<j).allSatisfy({ encodable(s[$0]) }), let plain = decoded(text.slice(i..<j)) {
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

    /// Scalars base64 (either alphabet), hex and percent-encoding use: a token with any other is
    /// not decoded (URLs, paths and prose fail on their first `:` or `.`).
    @inline(__always) static func encodable(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
            || v == 0x2B || v == 0x2F || v == 0x3D || v == 0x5F || v == 0x2D || v == 0x25
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
    /// Needles that start with a letter are only tried where a word starts with one of these.
    static let wordStarts = PhrasePattern.Step(["or", "union", "metadata", "file"])
    static let letterNeedles: [[Unicode.Scalar]] = needleScalars.filter { $0[0].properties.isAlphabetic }
    static let symbolNeedles: [[Unicode.Scalar]] = needleScalars.filter { !$0[0].properties.isAlphabetic }
    /// Indexed by ASCII value: whether some symbol-first needle starts with it (every needle is ASCII).
    static let firsts: [Bool] = {
        var table = [Bool](repeating: false, count: 128)
        for n in symbolNeedles { if let f = n.first { table[Int(f.value)] = true } }
        return table
    }()

    /// One pass over the symbols that start needles, plus the words that start the others.
    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        let lower = text.lower
        let firsts = Self.firsts, symbolNeedles = Self.symbolNeedles
        var hits: [(Range<Int>, String?)] = []
        func at(_ i: Int, _ candidates: [[Unicode.Scalar]]) -> [Unicode.Scalar]? {
            candidates.first(where: { i + $0.count <= lower.count && lower[i..<(i + $0.count)].elementsEqual($0) })
        }
        var i = 0
        while i < lower.count {
            guard lower[i].value < 128, firsts[Int(lower[i].value)], let n = at(i, symbolNeedles) else {
                i += 1
                continue
            }
            hits.append((i..<(i + n.count), nil))
            i += n.count
        }
        if wordStarts.occurs(in: text) {
            for w in text.words.indices where wordStarts.matches(text, w) {
                let start = text.words[w].range.lowerBound
                if let n = at(start, letterNeedles) { hits.append((start..<(start + n.count), nil)) }
            }
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
        // ASCII letters are settled without a Unicode property lookup (most of any text).
        func isLetter(_ c: Unicode.Scalar) -> Bool {
            c.value < 0x80 ? (0x41...0x5A).contains(c.value) || (0x61...0x7A).contains(c.value) : c.properties.isAlphabetic
        }
        while i < s.count {
            guard isLetter(s[i]) else { i += 1; continue }
            var j = i
            var latin = false, lookalike = false
            while j < s.count, isLetter(s[j]) {
                switch script(s[j]) {
                case .latin: latin = true
                case .cyrillic, .greek: lookalike = true
                case .other: break
                }
                j += 1
            }
            if latin && lookalike { hits.append((i..<j, nil)) }
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
        // Sentences (split on . ! ?) that repeat four times or more, compared as trimmed scalar runs;
        // only sentences whose length occurs four times are compared at all.
        func isBlank(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\n" || c == "\t" || c == "\r" }
        var sentences: [(whole: Range<Int>, trimmed: Range<Int>)] = []
        var lengths: [Int: Int] = [:]
        var start = 0
        for i in 0..<s.count where s[i] == "." || s[i] == "!" || s[i] == "?" {
            if i - start >= 12 {
                var a = start, b = i
                while a < b, isBlank(s[a]) { a += 1 }
                while b > a, isBlank(s[b - 1]) { b -= 1 }
                sentences.append((start..<(i + 1), a..<b))
                lengths[b - a, default: 0] += 1
            }
            start = i + 1
        }
        guard lengths.values.contains(where: { $0 >= 4 }) else { return hits }
        var counts: [ArraySlice<Unicode.Scalar>: Int] = [:]
        for sentence in sentences where lengths[sentence.trimmed.count]! >= 4 {
            let n = counts[s[sentence.trimmed], default: 0] + 1
            counts[s[sentence.trimmed]] = n
            if n == 4 { hits.append((sentence.whole, "a sentence repeated 4+ times")) }
        }
        return hits
    }
}
