import Foundation
import Testing
@testable import WardenCore

/// Warden forwards a message only if the server reads it as Warden did. Python's `json` module is
/// what most MCP servers parse with, so every text Warden accepts must read the same there:
/// hand-written cases in the spirit of JSONTestSuite (accept, refuse, implementation-defined) and
/// seeded random documents and mutations, all sent through one `tools/json_oracle.py` process.
@Suite("JSON: Warden reads a text as Python's json module does, or refuses it")
struct JSONDifferentialTests {
    static let python: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = ["/usr/bin/python3"] + path.split(separator: ":").map { $0 + "/python3" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let oracle = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../tools/json_oracle.py").standardizedFileURL.path

    @Test("hand-written and random texts: refused by Warden, or read to the same tree as Python", .enabled(if: python != nil, "python3 is not installed"))
    func differential() async throws {
        var cases = Self.handWritten()
        cases += Self.random(seed: 0x5EED, count: 6000).map { Case($0, .either) }
        let verdicts = try await Self.askPython(cases.map(\.bytes))
        try #require(verdicts.count == cases.count, "the oracle answered \(verdicts.count) of \(cases.count)")
        var problems: [String] = []
        var agreed = 0
        for (c, verdict) in zip(cases, verdicts) {
            let warden = try? JSONParser.parse(c.bytes)
            switch (c.expect, warden) {
            case (.accept, nil): problems.append("Warden refused valid JSON \(Self.show(c.bytes))")
            case (.refuse, .some): problems.append("Warden accepted \(Self.show(c.bytes)), which it must refuse")
            default: break
            }
            guard let warden else { continue }
            switch verdict {
            case .refused(let reason):
                problems.append("Warden accepted \(Self.show(c.bytes)); Python refuses it (\(reason))")
            case .read(let tree):
                if let difference = Self.difference(warden, tree) {
                    problems.append("Warden and Python read \(Self.show(c.bytes)) differently: \(difference)")
                } else {
                    agreed += 1
                }
            }
        }
        let problemCount = problems.count
        #expect(problemCount == 0, "\(problems.prefix(12).joined(separator: "\n"))")
        // The comparison means something only if many texts were read by both.
        #expect(agreed > 1500, "only \(agreed) texts were read by both parsers")
    }

    // MARK: The cases

    enum Expectation { case accept, refuse, either }

    struct Case {
        var bytes: [UInt8]
        var expect: Expectation
        init(_ bytes: [UInt8], _ expect: Expectation) {
            self.bytes = bytes
            self.expect = expect
        }
        init(_ text: String, _ expect: Expectation) { self.init(Array(text.utf8), expect) }
    }

    static func nested(_ depth: Int, open: String = "[", close: String = "]", inner: String = "") -> String {
        String(repeating: open, count: depth) + inner + String(repeating: close, count: depth)
    }

    /// JSONTestSuite-style cases, written here: `y` valid JSON Warden must accept, `n` texts it must
    /// refuse (invalid JSON, and what Warden refuses by design: duplicate keys, lone surrogates,
    /// nesting past 512), `i` either way.
    static func handWritten() -> [Case] {
        let y: [String] = [
            "[]", "{}", "[null]", "[true]", "[false]", "0", "-0", "[-0]", "123", "-123", "[1.5]", "[1e5]", "[1E5]", "[1e+5]", "[1E-5]",
            "[0.5e-10]", "[-0.0]", "[0e0]", "[0E+0]", "[1.0e+308]", "[1.7976931348623157e308]", "[5e-324]", "[2.2250738585072014e-308]",
            "[123456789012345678901234567890]", "[-123456789012345678901234567890]", "[9007199254740993]", "[1E400]", "[-1e400]",
            "[1e-400]", "[-1e-400]", "[0.1]", "[100000000000000000000000000000000000000000000000000e-50]", "[1.000000000000000000000001]",
            #""x""#, #""""#, #"[""]"#, #""\u0000""#, #""\"""#, #""\\""#, #""\/""#, #""\b\f\n\r\t""#, #""\u00e9""#, #""\u00E9""#,
            #""\ud83d\ude80""#, #""\uD83D\uDE80""#, #""\udbff\udfff""#, #""\uFFFF""#, #""\uFDD0""#, #""\uFEFF""#, #""\u0061\u0062""#,
            "\"é\"", "\"🚀\"", "\"\u{7F}\"", "\"\u{2028}\u{2029}\"", "\"\u{FEFF}\"", "\"\u{10FFFF}\"", "\"\(nonCharacter)\"", "\"e\u{301}\"",
            #"{"a":1}"#, #"{"a":{"b":[1,2,{"c":null}]}}"#, " [ 1 , 2 ] ", "\t[\n1\r,\n2]\t", "\r\n{\r\n\"a\"\r\n:\r\n1\r\n}\r\n",
            #"{"":0}"#, #"{"a":1,"b":2,"A":3}"#, "[1,[2,[3]]]", #"{"é":1}"#, #"{"\u00e9x":1,"éy":2}"#, #"[{"a":[]},{"a":{}}]"#,
            #"{"\ud83d\ude80":"\ud83d\ude80"}"#, "[0,1,2,3,4,5,6,7,8,9,10,-10,0.0,-0e-0]", "[true,false,null,\"null\"]",
            nested(100), nested(512), nested(511, inner: "{\"a\":1}"), nested(256, open: "{\"k\":", close: "}", inner: "[]"),
        ]
        let n: [String] = [
            "", " ", "\n", "[", "]", "{", "}", "[1,]", "[,1]", "[1,,2]", "[,]", #"{"a":1,}"#, "{,}", #"{"a"}"#, #"{"a":}"#, #"{"a" 1}"#,
            "{a:1}", "{'a':1}", "['a']", "[01]", "[-01]", "[00]", "[1.]", "[.1]", "[-]", "[+1]", "[1e]", "[1e+]", "[1E-]", "[0x10]", "[1.5e]",
            "[- 1]", "[1 000]", "[NaN]", "[Infinity]", "[-Infinity]", "[nan]", "[inf]", "[tru]", "[True]", "[nul]", "[NULL]", "[null",
            #""abc"#, #""\x41""#, #""\u12""#, #""\u12G4""#, #""\U0041""#, #""\a""#, #""\'""#, #""\ ""#, "\"\u{01}\"", "\"\t\"", "\"\n\"",
            "\"\u{1F}\"", "\"a\u{00}b\"", "[1] [2]", "{} x", "[1]]", "/* c */ []", "[] // c", "# c\n[]", "[1 2]", #"{"a":1 "b":2}"#,
            "\u{FEFF}[]", "[]\u{FEFF}", "\u{A0}[]", "[\u{A0}1]", "[\u{0C}]", "[\u{0B}1]", "[1\u{2028}]", "[\u{00}]", "[1]\u{00}", "[1,\u{3000}2]",
            #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\udfff\ud800""#, #""\ud800\ud800""#, #""\ud800x""#, #""\ud83d\u0000""#,
            #"{"\ud800":1}"#, #"["a\udc00b"]"#, #""\ud83d\ude80\udc00""#,
            #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"a":{"x":1},"a":[]}"#, #"[{"k":1,"k":1}]"#, #"{"\ud83d\ude80":1,"🚀":2}"#,
            #"{"a\/b":1,"a/b":2}"#, nested(513), nested(600), nested(513, open: "{\"a\":", close: "}", inner: "1"), nested(100_000),
            "[\"a\"\"b\"]", "[1:2]", "{\"a\",1}", "{\"a\":1:2}", "[-1e400.0]", "\"\\u00\"", "\"\\",
        ]
        let i: [String] = [
            #"{"\u00e9":1,"e\u0301":2}"#,  // different code points, equal as Swift strings: Warden may refuse them as duplicates
            "{\"é\":1,\"e\u{301}\":2}",
        ]
        let invalidUTF8: [[UInt8]] = [
            [0x22, 0xFF, 0x22], [0x22, 0xFE, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xC1, 0xBF, 0x22], [0x22, 0xE0, 0x80, 0xAF, 0x22],
            [0x22, 0xF0, 0x80, 0x80, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xED, 0xBF, 0xBF, 0x22],
            [0x22, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xE2, 0x82, 0x22],
            [0x22, 0x80, 0x22], [0x22, 0xBF, 0x22], [0x22, 0xF8, 0x88, 0x80, 0x80, 0x80, 0x22], [0x22, 0xFC, 0x84, 0x80, 0x80, 0x80, 0x80, 0x22],
            [0xFF], [0x5B, 0xFF, 0x5D], [0x5B, 0x31, 0x5D, 0xC3], [0xEF, 0xBB], [0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D],
            [0x22, 0xE0, 0xA0, 0x22], [0x22, 0xF0, 0x90, 0x80, 0x22], [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],
        ]
        return y.map { Case($0, .accept) } + n.map { Case($0, .refuse) } + i.map { Case($0, .either) } + invalidUTF8.map { Case($0, .refuse) }
            + [Case([0xEF, 0xBB, 0xBF, 0x5B, 0x5D], .refuse), Case([0x22, 0xEF, 0xBB, 0xBF, 0x22], .accept), Case([0x22, 0xF4, 0x8F, 0xBF, 0xBF, 0x22], .accept)]
    }

    /// Random documents built from the pieces parsers disagree on, half of them then mutated.
    static func random(seed: UInt64, count: Int) -> [[UInt8]] {
        var rng = SplitMix(state: seed)
        var out: [[UInt8]] = []
        for k in 0..<count {
            var doc = Array(document(&rng).utf8)
            if k % 2 == 1 { mutate(&doc, &rng) }
            // Around the nesting limit (512), where parsers' limits differ.
            if k % 97 == 0 { doc = Array(nested(Int.random(in: 505...520, using: &rng), inner: "1").utf8) }
            out.append(doc)
        }
        return out
    }

    /// U+FDD0, which Swift refuses in a literal but JSON carries like any other scalar.
    static let nonCharacter = String(Unicode.Scalar(0xFDD0)!)

    static let numbers = [
        "0", "-0", "1", "-1", "10", "1.5", "-1.5", "1e5", "1E+5", "1e-5", "-0.0", "0.1e1", "1e400", "-1e400", "1e-400", "5e-324",
        "1.7976931348623157e308", "1.7976931348623159e308", "123456789012345678901234567890", "9007199254740993", "-9223372036854775809",
        "18446744073709551616", "0.30000000000000004", "2.5E-3", "100e-2", "0e10", "1.0", "3.141592653589793238462643383279",
    ]
    static let stringPieces = [
        "a", "key", " ", "é", "🚀", "日本", "\u{7F}", "\u{2028}", "\u{FEFF}", nonCharacter, "e\u{301}", "\\\"", "\\\\", "\\/", "\\b", "\\f",
        "\\n", "\\r", "\\t", "\\u0000", "\\u001f", "\\u0061", "\\u00e9", "\\u00E9", "\\uFFFF", "\\ud83d\\ude80", "\\uD834\\uDD1E",
        "\\ud800", "\\udc00", "\\udbff", "\\ud800\\u0041", "\\x", "\u{01}", "\t", "\\u12", "'",
    ]
    static let spaces = ["", "", "", " ", "\n", "\t", "\r\n", "  ", "\u{A0}", "\u{0C}", "\u{0B}", "\u{FEFF}", "\u{2028}", "\u{00}"]

    static func document(_ rng: inout SplitMix) -> String {
        var text = ""
        func space() { text += Int.random(in: 0..<10, using: &rng) < 8 ? spaces[Int.random(in: 0..<6, using: &rng)] : spaces.randomElement(using: &rng)! }
        func string() -> String {
            "\"" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                Int.random(in: 0..<10, using: &rng) < 7 ? stringPieces[Int.random(in: 0..<27, using: &rng)] : stringPieces.randomElement(using: &rng)!
            }.joined() + "\""
        }
        func value(_ depth: Int) {
            space()
            switch Int.random(in: 0..<(depth > 4 ? 6 : 9), using: &rng) {
            case 0: text += ["null", "true", "false", "NaN", "Infinity", "-Infinity", "nul", "True"][Int.random(in: 0..<(Int.random(in: 0..<20, using: &rng) == 0 ? 8 : 3), using: &rng)]
            case 1, 2: text += Int.random(in: 0..<30, using: &rng) == 0 ? ["01", "1.", ".5", "+1", "1e", "0x1F", "--1", "1_000"].randomElement(using: &rng)! : numbers.randomElement(using: &rng)!
            case 3, 4, 5: text += string()
            case 6:
                text += "["
                let n = Int.random(in: 0...4, using: &rng)
                for i in 0..<n {
                    if i > 0 { text += "," }
                    value(depth + 1)
                }
                if n > 0, Int.random(in: 0..<25, using: &rng) == 0 { text += "," }
                space()
                text += "]"
            default:
                text += "{"
                var keys: [String] = []
                let n = Int.random(in: 0...4, using: &rng)
                for i in 0..<n {
                    if i > 0 { text += "," }
                    space()
                    var key = string()
                    // Duplicates, literally or through escapes that decode to the same key.
                    if !keys.isEmpty, Int.random(in: 0..<6, using: &rng) == 0 {
                        key = [keys.randomElement(using: &rng)!, "\"\\u0061\"", "\"a\"", "\"\\u00e9\"", "\"é\"", "\"e\u{301}\""].randomElement(using: &rng)!
                    }
                    keys.append(key)
                    text += key
                    space()
                    text += ":"
                    value(depth + 1)
                }
                if n > 0, Int.random(in: 0..<25, using: &rng) == 0 { text += "," }
                space()
                text += "}"
            }
            space()
        }
        if Int.random(in: 0..<50, using: &rng) == 0 { text += "\u{FEFF}" }
        value(0)
        if Int.random(in: 0..<40, using: &rng) == 0 { text += ["x", "[]", ",", "\u{00}", "//"].randomElement(using: &rng)! }
        return text
    }

    /// One to three byte-level edits: the bytes most likely to change a parser's mind, including
    /// invalid and overlong UTF-8.
    static func mutate(_ doc: inout [UInt8], _ rng: inout SplitMix) {
        let interesting: [[UInt8]] = [
            [0x22], [0x5C], [0x2C], [0x3A], [0x5B], [0x5D], [0x7B], [0x7D], [0x30], [0x65], [0x2D], [0x2E], [0x00], [0x1F], [0x7F], [0x20],
            [0x80], [0xFF], [0xC0, 0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xA2], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3], [0xEF, 0xBB, 0xBF],
            Array("\\ud800".utf8), Array("\\udc00".utf8), Array("\\u0000".utf8), Array("\"a\":1,".utf8), Array("1e999".utf8),
        ]
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let at = Int.random(in: 0...doc.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0 where at < doc.count: doc.remove(at: at)
            case 1 where at < doc.count: doc.replaceSubrange(at...at, with: interesting.randomElement(using: &rng)!)
            case 2 where at < doc.count:
                let end = min(doc.count, at + Int.random(in: 1...8, using: &rng))
                doc.insert(contentsOf: Array(doc[at..<end]), at: at)
            default: doc.insert(contentsOf: interesting.randomElement(using: &rng)!, at: at)
            }
        }
    }

    // MARK: Python

    /// What Python read: a value tree with strings as code points (lone surrogates visible) and
    /// objects as every member in order.
    indirect enum PyValue {
        case null, bool(Bool), int(String), float(String), string([UInt32]), array([PyValue]), object([([UInt32], PyValue)])
    }

    enum Verdict {
        case refused(String)
        case read(PyValue)
    }

    struct OracleError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the oracle once for all inputs (on a thread of its own: it blocks on the process).
    static func askPython(_ inputs: [[UInt8]]) async throws -> [Verdict] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("warden-json-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let inputFile = dir.appendingPathComponent("inputs.txt"), errorFile = dir.appendingPathComponent("stderr.txt")
        try Data(inputs.map { "=" + Data($0).base64EncodedString() }.joined(separator: "\n").utf8).write(to: inputFile)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let result: Result<String, OracleError> = await withCheckedContinuation { continuation in
            Thread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: python!)
                process.arguments = [oracle, inputFile.path]
                let out = Pipe()
                process.standardOutput = out
                process.standardError = try? FileHandle(forWritingTo: errorFile)
                do {
                    try process.run()
                } catch {
                    continuation.resume(returning: .failure(OracleError(description: "cannot run \(python!): \(error)")))
                    return
                }
                // Read to the end before waiting: the output is larger than a pipe holds.
                let data = out.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                if process.terminationStatus != 0 {
                    let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
                    continuation.resume(returning: .failure(OracleError(description: "\(oracle) exited with \(process.terminationStatus): \(stderr)")))
                } else {
                    continuation.resume(returning: .success(String(decoding: data, as: UTF8.self)))
                }
            }.start()
        }
        return try result.get().split(separator: "\n").map { line in
            if line.hasPrefix("refused ") { return .refused(String(line.dropFirst(8))) }
            guard line.hasPrefix("read ") else { throw OracleError(description: "unexpected oracle line: \(line.prefix(100))") }
            var tokens = line.dropFirst(5).split(separator: " ")[...]
            let value = try tree(&tokens)
            guard tokens.isEmpty else { throw OracleError(description: "trailing oracle tokens: \(line.prefix(100))") }
            return .read(value)
        }
    }

    static func tree(_ tokens: inout ArraySlice<Substring>) throws -> PyValue {
        guard let token = tokens.popFirst(), let tag = token.first else { throw OracleError(description: "oracle output ended early") }
        let rest = token.dropFirst()
        func count() throws -> Int {
            guard let n = Int(rest) else { throw OracleError(description: "bad count \(token)") }
            return n
        }
        func scalars(_ s: Substring) throws -> [UInt32] {
            try s.split(separator: ",").map { p in
                guard let v = UInt32(p) else { throw OracleError(description: "bad code point \(p)") }
                return v
            }
        }
        switch tag {
        case "n": return .null
        case "t": return .bool(true)
        case "f": return .bool(false)
        case "i": return .int(String(rest))
        case "d": return .float(String(rest))
        case "s": return .string(try scalars(rest))
        case "a": return .array(try (0..<count()).map { _ in try tree(&tokens) })
        case "o":
            return .object(try (0..<count()).map { _ in
                guard case .string(let key) = try tree(&tokens) else { throw OracleError(description: "object key is not a string") }
                return (key, try tree(&tokens))
            })
        default: throw OracleError(description: "unknown oracle token \(token)")
        }
    }

    // MARK: Comparing

    /// Where Warden's value differs from Python's, or `nil` when they are the same: numbers by value
    /// (integers exactly, others as `Double` with the sign of zero), strings by code points.
    static func difference(_ w: JSONValue, _ p: PyValue, at path: String = "$") -> String? {
        switch (w, p) {
        case (.null, .null): return nil
        case (.bool(let a), .bool(let b)): return a == b ? nil : "\(path): \(a) vs \(b)"
        case (.number(let text), .int(let decimal)):
            guard !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return "\(path): Warden \(text) is not an integer; Python read int \(decimal)" }
            let canonical = text.allSatisfy({ $0 == "-" || $0 == "0" }) ? "0" : text
            return canonical == decimal ? nil : "\(path): Warden \(text) vs Python int \(decimal)"
        case (.number(let text), .float(let repr)):
            guard let a = Double(text), let b = Double(repr) else { return "\(path): \(text) vs \(repr) not comparable" }
            return a == b && a.sign == b.sign ? nil : "\(path): Warden \(text) = \(a) vs Python float \(repr)"
        case (.string(let s), .string(let cps)):
            let mine = s.unicodeScalars.map(\.value)
            return mine == cps ? nil : "\(path): Warden code points \(mine.prefix(20)) vs Python \(cps.prefix(20))"
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return "\(path): \(a.count) elements vs \(b.count)" }
            for (i, (x, y)) in zip(a, b).enumerated() {
                if let d = difference(x, y, at: "\(path)[\(i)]") { return d }
            }
            return nil
        case (.object(let o), .object(let members)):
            guard o.keys.count == members.count else { return "\(path): \(o.keys.count) members vs Python's \(members.count) (duplicates?)" }
            for (i, (key, member)) in members.enumerated() {
                let mine = o.keys[i].unicodeScalars.map(\.value)
                guard mine == key else { return "\(path): key \(i) is \(mine) vs Python \(key)" }
                if let d = difference(o.values[i], member, at: "\(path).\(o.keys[i])") { return d }
            }
            return nil
        default:
            return "\(path): Warden \(String(describing: w).prefix(60)) vs Python \(String(describing: p).prefix(60))"
        }
    }

    /// An input as a reader can see it: printable ASCII as is, `\` doubled, other bytes as `\xNN`, long ones cut.
    static func show(_ bytes: [UInt8]) -> String {
        var out = ""
        for b in bytes.prefix(160) {
            out += b == 0x5C ? "\\\\" : b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : String(format: "\\x%02X", b)
        }
        return "`" + out + (bytes.count > 160 ? "…` (\(bytes.count) bytes)" : "`")
    }
}
