import Foundation
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

/// The same characters, escaped for logs and JSON outputs (SIEM export, `--json`, SARIF).
@Suite("escaping untrusted text for logs and JSON")
struct SafeOutputTests {
    /// OSC 52 (write the clipboard), clear screen, a right-to-left override, a zero-width space, a
    /// tag character (above U+FFFF) and a variation selector.
    static let hostile = "look\u{1B}]52;c;ZWNobyBwd25lZA==\u{07}\u{1B}[2J\u{202E}gpj.exe\u{200B}\u{E0041}x\u{FE0F}\u{9B}\u{7F}"

    @Test("code-point notation is ASCII only and leaves nothing a terminal or log viewer would act on")
    func codePoints() {
        let shown = SafeText.escape(Self.hostile, notation: .codePoints)
        #expect(shown == "look<U+001B>]52;c;ZWNobyBwd25lZA==<U+0007><U+001B>[2J<U+202E>gpj.exe<U+200B><U+E0041>x<U+FE0F><U+009B><U+007F>")
        #expect(shown.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F })
        #expect(SafeText.escape("日本語 🚀", notation: .codePoints) == "日本語 🚀")
        // Isolates, marks and the Arabic letter mark are bidi controls too.
        for v: UInt32 in [0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C, 0x202A, 0x202B, 0x202C, 0x202D, 0x2060] {
            #expect(SafeText.isUnsafe(Unicode.Scalar(v)!), "U+\(String(v, radix: 16))")
        }
    }

    @Test("safe JSON escapes them as \\uXXXX (surrogate pairs above U+FFFF) and parses back to the very same text")
    func safeJSON() throws {
        let value: JSONValue = ["name": .string(Self.hostile), Self.hostile: ["nested": [.string("\u{2066}a\u{2069}")]]]
        let text = JSONWriter.safe(value)
        #expect(text.unicodeScalars.allSatisfy { !SafeText.isUnsafe($0) })
        #expect(text.contains(#"\u001b]52;c;"#) && text.contains(#"\u202e"#) && text.contains(#"\udb40\udc41"#) && text.contains(#"\u0007"#))
        #expect(try JSONParser.parse(text) == value)
        // Ordinary text is written as compact JSON writes it.
        let plain: JSONValue = ["a": "日本語 \"quoted\" back\\slash\nline", "n": 1]
        #expect(JSONWriter.safe(plain) == JSONWriter.compact(plain))
    }
}

@Suite("owner-only files")
struct PrivateFileTests {
    func directory() -> String {
        let dir = NSTemporaryDirectory() + "wp-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func mode(_ path: String) -> Int? { (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int }

    @Test("files are written 0600 whatever the umask, atomically replacing the old content")
    func write() throws {
        let dir = directory()
        let old = umask(0o000)
        defer { umask(old) }
        try PrivateFile.write(Array("one".utf8), to: dir + "/f")
        try PrivateFile.write(Array("two".utf8), to: dir + "/f")
        #expect(mode(dir + "/f") == 0o600)
        #expect(try String(contentsOfFile: dir + "/f", encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f"])
    }

    @Test("directories are made and tightened to 0700; an existing 0644 file is tightened to 0600")
    func tighten() throws {
        let dir = directory()
        chmod(dir, 0o755)
        try PrivateFile.makeDirectory(dir)
        try PrivateFile.makeDirectory(dir + "/a/b")
        #expect(mode(dir) == 0o700 && mode(dir + "/a/b") == 0o700)
        _ = FileManager.default.createFile(atPath: dir + "/db", contents: Data("x".utf8), attributes: [.posixPermissions: 0o644])
        PrivateFile.prepare(dir + "/db")
        PrivateFile.prepare(dir + "/new")
        #expect(mode(dir + "/db") == 0o600 && mode(dir + "/new") == 0o600)
        #expect(try String(contentsOfFile: dir + "/db", encoding: .utf8) == "x")
    }
}
