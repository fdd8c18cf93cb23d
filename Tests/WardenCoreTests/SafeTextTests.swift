import Testing
@testable import WardenCore

@Suite("escaping untrusted text for terminals")
struct SafeTextTests {
    @Test("ANSI, bidi, zero-width, tag characters and controls become visible", arguments: [
        ("\u{1B}[31mred", "␛[31mred"),
        ("abc\u{202E}cba", "abc<U+202E>cba"),
        ("a\u{200B}b", "a<U+200B>b"),
        ("x\u{E0041}\u{E0042}", "x<U+E0041><U+E0042>"),
        ("bell\u{07}", "bell␇"),
        ("line\nbreak\ttab", "line␊break␉tab"),
        ("del\u{7F}", "del␡"),
        ("c1\u{9B}31m", "c1<U+009B>31m"),
        ("\u{FEFF}bom", "<U+FEFF>bom"),
    ])
    func escapes(_ raw: String, _ shown: String) {
        #expect(SafeText.escape(raw) == shown)
        #expect(!SafeText.isClean(raw))
    }

    @Test("ordinary text, CJK and emoji are untouched")
    func clean() {
        for s in ["hello", "日本語のテキスト", "emoji 🚀👍🏽", "Ünïcödé"] {
            #expect(SafeText.escape(s) == s)
            #expect(SafeText.isClean(s))
        }
        #expect(SafeText.escape("a\nb", multiline: true) == "a\nb")
    }
}
