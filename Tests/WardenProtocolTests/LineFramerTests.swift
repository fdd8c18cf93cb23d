import Testing
@testable import WardenProtocol

@Suite("newline framing")
struct LineFramerTests {
    func frames(_ chunks: [String], maxFrame: Int = 1 << 20) -> [String] {
        var framer = LineFramer(maxFrame: maxFrame, initialCapacity: 16)
        var out: [String] = []
        let collect: (LineFramer.Frame) -> Void = { frame in
            switch frame {
            case .line(_, let content): out.append(String(decoding: content, as: UTF8.self))
            case .oversized(let length, _): out.append("<oversized \(length)>")
            }
        }
        for c in chunks {
            framer.append(Array(c.utf8))
            framer.drain(collect)
        }
        framer.finish(collect)
        return out
    }

    @Test("partial reads join; CRLF is stripped from content; the tail without newline is the last frame")
    func partial() {
        #expect(frames(["{\"a\"", ":1}\n{\"b\":", "2}\r\n", "tail"]) == [#"{"a":1}"#, #"{"b":2}"#, "tail"])
    }

    @Test("bytes include the terminator for byte-for-byte forwarding")
    func terminator() {
        var framer = LineFramer()
        framer.append(Array("x\r\ny\n".utf8))
        var raw: [[UInt8]] = []
        framer.drain { if case .line(let bytes, _) = $0 { raw.append(Array(bytes)) } }
        #expect(raw == [Array("x\r\n".utf8), Array("y\n".utf8)])
    }

    @Test("an oversized frame is dropped whole and the stream recovers at the next line")
    func oversized() {
        let big = String(repeating: "a", count: 5000)
        #expect(frames(["{\"id\":1,\"x\":\"" + big, big + "\"}\n{\"ok\":1}\n"], maxFrame: 4096) == ["<oversized 10015>", #"{"ok":1}"#])
        #expect(frames([big + "\n" + "short\n"], maxFrame: 4096) == ["<oversized 5000>", "short"])
    }

    @Test("many lines in one chunk, blank lines kept as empty frames")
    func many() {
        #expect(frames(["a\n\nb\nc\n"]) == ["a", "", "b", "c"])
    }
}
