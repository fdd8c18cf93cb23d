import Testing
@testable import WardenTransport

@Suite("event streams: the SSE format, chunk by chunk")
struct EventStreamTests {
    func events(_ text: String, chunk: Int = .max, maxData: Int = 1 << 20) -> [EventStreamParser.Event] {
        var parser = EventStreamParser(maxData: maxData)
        let bytes = Array(text.utf8)
        var out: [EventStreamParser.Event] = []
        for start in stride(from: 0, to: bytes.count, by: min(chunk, max(1, bytes.count))) {
            out += parser.feed(Array(bytes[start..<min(bytes.count, start + chunk)]))
        }
        return out
    }

    @Test("data lines join with newlines; events end at a blank line; comments, ids, types and retry are read; any line ending, any chunking")
    func format() {
        let text = ":comment\nid: 7\nevent: message\ndata: {\"a\":\ndata:1}\n\nretry: 1500\ndata: two\r\n\r\nevent: ping\ndata: x\r\rdata: no end"
        for chunk in [1, 2, 3, 7, .max] {
            let got = events(text, chunk: chunk)
            #expect(got.map(\.type) == ["message", "message", "ping"], "chunk \(chunk)")
            #expect(got.map { String(decoding: $0.data, as: UTF8.self) } == ["{\"a\":\n1}", "two", "x"], "chunk \(chunk)")
            #expect(got.map(\.id) == ["7", "7", "7"])
        }
        var p = EventStreamParser(maxData: 100)
        _ = p.feed(Array("retry: 1500\n\n".utf8))
        #expect(p.retry == 1500)
    }

    @Test("an event over the limit keeps its start and its length, never the rest; the stream goes on")
    func oversized() {
        let big = String(repeating: "x", count: 10_000)
        for chunk in [1, 100, .max] {
            let got = events("data: \(big)\ndata: more\n\ndata: small\n\n", chunk: chunk, maxData: 64)
            #expect(got.count == 2)
            #expect(got[0].isOversized && got[0].data.count == 64 && got[0].length == 10_000 + 1 + 4, "chunk \(chunk): \(got[0].length)")
            #expect(!got[1].isOversized && got[1].data == Array("small".utf8))
        }
    }

    @Test("a field other than data is kept to 4 KiB: a 1 MiB id or comment costs nothing")
    func otherFieldsBounded() {
        for chunk in [3, 1000, .max] {
            let got = events("id: " + String(repeating: "i", count: 1 << 20) + "\n:" + String(repeating: "c", count: 1 << 20) + "\ndata: ok\n\n", chunk: chunk)
            #expect(got.count == 1 && got[0].data == Array("ok".utf8))
            #expect((got[0].id?.utf8.count ?? 0) <= 4096, "chunk \(chunk)")
        }
    }

    @Test("a byte-order mark opens the stream harmlessly; an id with a NUL is ignored; a field with no colon is a name alone")
    func edges() {
        let got = events("\u{FEFF}data: a\n\nid: x\u{0}y\ndata\n\n")
        #expect(got.map { String(decoding: $0.data, as: UTF8.self) } == ["a", ""])
        #expect(got[1].id == nil)
    }
}

@Suite("HTTP answers made one line")
struct OneLineTests {
    @Test("line breaks between tokens become spaces; one inside a string stays, so invalid JSON stays invalid; escapes are respected")
    func oneLine() {
        func line(_ s: String) -> String { String(decoding: HTTPUpstream.oneLine(Array(s.utf8)), as: UTF8.self) }
        #expect(line("{\n  \"a\": 1,\r\n  \"b\": \"x\\\"\\n\"\n}") == "{   \"a\": 1,    \"b\": \"x\\\"\\n\" }")
        #expect(line("{\"a\": \"two\nlines\"}") == "{\"a\": \"two\nlines\"}")
        #expect(line("{\"a\":1}") == "{\"a\":1}")
    }
}
