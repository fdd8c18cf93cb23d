import WardenCore

/// Finds pseudo-tags and chat-template tokens: `<IMPORTANT>`, `<system>`, `<|im_start|>`, `[INST]`.
enum PseudoTags {
    static let tagNames: Set<String> = ["important", "system", "instructions", "instruction", "secret", "hidden", "admin",
                                         "assistant", "user", "context", "sys", "prompt", "override", "critical", "note_to_ai"]

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "<" || c == "[" {
                let close: Unicode.Scalar = c == "<" ? ">" : "]"
                var j = i + 1
                var name = String.UnicodeScalarView()
                while j < s.count, j - i <= 40, s[j] != close, s[j] != "\n" {
                    name.append(s[j])
                    j += 1
                }
                if j < s.count, s[j] == close {
                    let raw = String(name).lowercased()
                    var bare = raw.trimmingCharacters(in: .whitespaces)
                    if bare.hasPrefix("/") { bare.removeFirst() }
                    let isToken = raw.hasPrefix("|") && raw.hasSuffix("|")
                    let isInst = c == "[" && (bare == "inst" || bare == "/inst" || bare == "system" || bare.hasPrefix("system ")
                        || bare.hasSuffix(" directive") || bare.hasSuffix(" override"))
                    if (c == "<" && tagNames.contains(bare)) || isToken || isInst {
                        hits.append((i..<(j + 1), nil))
                        i = j + 1
                        continue
                    }
                }
            }
            i += 1
        }
        return hits
    }
}

/// Finds zero-width, bidi-control and Unicode tag characters, and decodes tag-character text.
enum InvisibleText {
    static func isInvisible(_ v: UInt32) -> Bool {
        switch v {
        case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2064, 0x2066...0x2069, 0xFEFF, 0x00AD, 0x180E, 0xE0000...0xE007F: true
        default: false
        }
    }

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        var i = 0
        while i < s.count {
            guard isInvisible(s[i].value) else { i += 1; continue }
            var j = i
            var hidden = String.UnicodeScalarView()
            while j < s.count, isInvisible(s[j].value) {
                // Tag characters mirror ASCII (U+E0020–U+E007E): the text a model reads and a person does not.
                if (0xE0020...0xE007E).contains(s[j].value) { hidden.append(Unicode.Scalar(s[j].value - 0xE0000)!) }
                j += 1
            }
            let note = hidden.isEmpty ? nil : "hidden text \"\(String(hidden))\""
            hits.append((i..<j, note))
            i = j
        }
        return hits
    }
}

/// Finds C0/C1 control characters other than tab, newline and carriage return. Escape sequences
/// (ESC, or the C1 CSI) are the attack; other controls are reported at low severity.
enum ControlCharacters {
    static func isEscape(_ v: UInt32) -> Bool { v == 0x1B || v == 0x9B }

    static func findEscapes(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        find(text).filter { isEscape(text.scalars[$0.range.lowerBound].value) }
    }

    static func findOthers(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        find(text).filter { !isEscape(text.scalars[$0.range.lowerBound].value) }
    }

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars
        var i = 0
        while i < s.count {
            let v = s[i].value
            guard (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || v == 0x7F || (0x80...0x9F).contains(v) else { i += 1; continue }
            var j = i + 1
            // Take the whole CSI sequence (ESC [ params final) as the evidence.
            if v == 0x1B, j < s.count, s[j] == "[" {
                j += 1
                while j < s.count, j - i < 32, !(0x40...0x7E).contains(s[j].value) { j += 1 }
                if j < s.count { j += 1 }
            }
            hits.append((i..<j, nil))
            i = j
        }
        return hits
    }
}

import Foundation
