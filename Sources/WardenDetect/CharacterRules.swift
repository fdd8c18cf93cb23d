import WardenCore

/// Finds pseudo-tags and chat-template tokens: `<IMPORTANT>`, `<system>`, `<|im_start|>`, `[INST]`.
enum PseudoTags {
    static let tagNames: Set<String> = ["important", "system", "instructions", "instruction", "secret", "hidden", "admin",
                                         "assistant", "user", "context", "sys", "prompt", "override", "critical", "note_to_ai"]

    static func find(_ text: AnalyzedText) -> [(range: Range<Int>, note: String?)] {
        guard !text.traits.isDisjoint(with: [.lt, .bracket]) else { return [] }
        var hits: [(Range<Int>, String?)] = []
        let s = text.scalars, lower = text.lower
        let tagNames = Self.tagNames
        var i = 0
        while i < s.count {
            let c = s[i]
            guard c == "<" || c == "[" else { i += 1; continue }
            let close: Unicode.Scalar = c == "<" ? ">" : "]"
            var j = i + 1
            while j < s.count, j - i <= 40, s[j] != close, s[j] != "\n" { j += 1 }
            if j < s.count, s[j] == close, Self.isPseudoTag(opening: c, lower[(i + 1)..<j], tagNames: tagNames) {
                hits.append((i..<(j + 1), nil))
                i = j + 1
                continue
            }
            i += 1
        }
        return hits
    }

    /// Whether the name between `<` `>` or `[` `]` (lower-cased) makes a pseudo-tag or a chat-template
    /// token: `<important>`, `</system>`, `<|im_start|>`, `[INST]`, `[system override]`. Strings are
    /// built only for names that could match: source code and JSON are full of brackets.
    static func isPseudoTag(opening: Unicode.Scalar, _ name: ArraySlice<Unicode.Scalar>, tagNames: Set<String>) -> Bool {
        if name.count >= 2, name.first == "|", name.last == "|" { return true }
        var a = name.startIndex, b = name.endIndex
        while a < b, name[a].properties.isWhitespace { a += 1 }
        while b > a, name[b - 1].properties.isWhitespace { b -= 1 }
        if a < b, name[a] == "/" { a += 1 }
        guard a < b else { return false }
        if opening == "<" {
            guard b - a <= 12 else { return false }
            return tagNames.contains(String(String.UnicodeScalarView(name[a..<b])))
        }
        // `[inst]`, `[system…]`, `[… directive]`, `[… override]`.
        guard name[a] == "i" || name[a] == "s" || name[b - 1] == "e" else { return false }
        let bare = String(String.UnicodeScalarView(name[a..<b]))
        return bare == "inst" || bare == "system" || bare.hasPrefix("system ") || bare.hasSuffix(" directive") || bare.hasSuffix(" override")
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
