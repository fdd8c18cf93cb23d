import Testing
@testable import WardenCore

@Suite("strict JSON parser")
struct JSONParserTests {
    @Test("parses objects keeping member order and exact number text")
    func orderAndNumbers() throws {
        let v = try JSONParser.parse(#"{"z":1,"a":[12345678901234567890123,-0.5e-10,true,null],"s":"é\n🚀"}"#)
        #expect(v.objectValue?.keys == ["z", "a", "s"])
        #expect(v["a"]?.arrayValue?[0] == .number("12345678901234567890123"))
        #expect(v["a"]?.arrayValue?[1] == .number("-0.5e-10"))
        #expect(v["s"] == .string("é\n🚀"))
    }

    @Test("numbers read as Int or Double only when they fit: no trap on 1e300, no inf or nan")
    func numberAccessors() throws {
        let v = try JSONParser.parse(#"[42, 7.9, -3.5, 1e300, 12345678901234567890123, 1e400, "9"]"#).arrayValue!
        #expect(v.map(\.intValue) == [42, 7, -3, nil, nil, nil, nil])
        #expect(v[1].doubleValue == 7.9 && v[3].doubleValue == 1e300 && v[5].doubleValue == nil && v[6].doubleValue == nil)
    }

    @Test("decodes escapes, including surrogate pairs")
    func escapes() throws {
        #expect(try JSONParser.parse(#""\u00e9\ud83d\ude80\t\"\\\/""#) == .string("é🚀\t\"\\/"))
    }

    @Test("refuses lone surrogate escapes, whether parsed or scanned", arguments: [
        #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800\ud800""#, #""\ud800x""#, #""\udfff\ud800""#, #"{"\ud83d":1}"#,
    ])
    func loneSurrogates(_ text: String) {
        #expect(throws: JSONError(kind: .loneSurrogate, offset: text.hasPrefix("{") ? 2 : 1)) { try JSONParser.parse(text) }
        let bytes = Array(text.utf8)
        #expect(bytes.withUnsafeBytes { raw in (try? JSONParser.scan(raw)) == nil }, "scan accepted \(text)")
    }

    @Test("rejects duplicate keys, even when written differently", arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"x":{"k":1,"k":1}}"#,
    ])
    func duplicates(_ text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test("rejects what RFC 8259 does not allow", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\u{01}\"", "\"\\x\"", "tru", "{} {}", "'a'", "NaN", "[1] x",
    ])
    func invalid(_ text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test("rejects invalid UTF-8")
    func invalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xFF, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]] {
            #expect(throws: JSONError.self) { try JSONParser.parse(bytes) }
        }
    }

    @Test("a nesting bomb is refused, not a stack overflow")
    func depth() {
        let bomb = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(throws: JSONError.self) { try JSONParser.parse(bomb) }
    }

    @Test("the top-level id is recovered from a broken message")
    func recoversID() {
        do {
            _ = try JSONParser.parse(#"{"jsonrpc":"2.0","id":"abc","method":"x", oops}"#)
            Issue.record("should not parse")
        } catch {
            #expect(error.recoveredID == .string("abc"))
        }
    }

    @Test("scan reports top-level member ranges without building values")
    func scan() throws {
        let text = Array(#"{"id":5,"result":{"tools":[]},"jsonrpc":"2.0"}"#.utf8)
        let outline = try text.withUnsafeBytes { try JSONParser.scan($0) }
        #expect(outline.shape == .object)
        #expect(outline.id == .number("5"))
        let r = try #require(outline.range(of: "result"))
        #expect(String(decoding: text[r], as: UTF8.self) == #"{"tools":[]}"#)
    }
}

@Suite("JSON writer")
struct JSONWriterTests {
    @Test("canonical form sorts keys and normalises numbers, so equal definitions pin equal")
    func canonical() throws {
        let a = try JSONParser.parse(#"{"b":1.0,"a":{"y":1e2,"x":"e\u0301"}}"#)
        let b = try JSONParser.parse(#"{"a":{"x":"é","y":100},"b":1}"#)
        #expect(JSONWriter.canonicalBytes(a) == JSONWriter.canonicalBytes(b))
        #expect(String(decoding: JSONWriter.canonicalBytes(b), as: UTF8.self) == #"{"a":{"x":"é","y":100},"b":1}"#)
    }

    @Test("compact output round-trips and escapes control characters")
    func compact() throws {
        let v: JSONValue = ["t": "a\u{1B}[31m\n\"", "n": .number("1e400")]
        let text = JSONWriter.compact(v)
        #expect(text == #"{"t":"a\u001b[31m\n\"","n":1e400}"#)
        #expect(try JSONParser.parse(text) == v)
    }
}

@Suite("events")
struct EventTests {
    @Test("the streamed line form equals the JSON form and reads back")
    func lineForm() throws {
        let e = Event(sequence: 7, time: 1.5, session: "s-1", server: "git\u{1B}", kind: .callCompleted,
                      fields: JSONObject(pairs: [("tool", "x\"y"), ("micros", 12)]))
        var bytes: [UInt8] = []
        e.appendLine(to: &bytes)
        #expect(bytes.last == 0x0A)
        let parsed = try JSONParser.parse(bytes.dropLast())
        #expect(parsed == e.json)
        #expect(Event(json: parsed) == e)
        #expect(e.id == "s-1:7")
    }
}

@Suite("scan mode")
struct ScanModeTests {
    @Test("finds the members of a top-level result in the same pass")
    func resultMembers() throws {
        let text = Array(#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"x"}],"isError":true}}"#.utf8)
        let outline = try text.withUnsafeBytes { try JSONParser.scan($0) }
        let flag = try #require(outline.resultMembers.first { $0.key == "isError" })
        #expect(String(decoding: text[flag.range], as: UTF8.self) == "true")
    }

    @Test("still rejects invalid JSON anywhere, and duplicate keys at the top level")
    func validity() {
        for bad in [#"{"a":{"b":[1,}}"#, #"{"a":{"b":"\x"}}"#, #"{"id":1,"id":2}"#, "{\"a\":\"\u{01}\"}"] {
            let bytes = Array(bad.utf8)
            #expect(throws: JSONError.self) { try bytes.withUnsafeBytes { try JSONParser.scan($0) } }
        }
    }

    @Test("strings are read eight bytes at a time: a quote, escape, control byte or non-ASCII byte at any offset is still seen")
    func wordAtATime() throws {
        for length in 0..<40 {
            for at in 0..<length {
                var plain = [UInt8](repeating: 0x61, count: length)
                // An escaped quote, a backslash escape, a newline escape and a two-byte letter at `at`.
                for (insert, expected) in [("\\\"", "\""), ("\\\\", "\\"), ("\\n", "\n"), ("é", "é"), ("\\u00e9", "é")] {
                    plain = [UInt8](repeating: 0x61, count: length)
                    plain.replaceSubrange(at..<(at + 1), with: Array(insert.utf8))
                    let text = "\"" + String(decoding: plain, as: UTF8.self) + "\""
                    let want = String(repeating: "a", count: at) + expected + String(repeating: "a", count: length - at - 1)
                    #expect(try JSONParser.parse(text) == .string(want), "\(insert) at \(at) of \(length)")
                }
                // A raw control byte or an unescaped end anywhere is refused.
                plain = [UInt8](repeating: 0x61, count: length)
                plain[at] = 0x0A
                #expect(throws: JSONError.self) { try JSONParser.parse([0x22] + plain + [0x22]) }
                plain[at] = 0xFF
                #expect(throws: JSONError.self) { try JSONParser.parse([0x22] + plain + [0x22]) }
                #expect(throws: JSONError.self) { try JSONParser.parse([0x22] + plain[..<at]) }
            }
        }
    }
}
