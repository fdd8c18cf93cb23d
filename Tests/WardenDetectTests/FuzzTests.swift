import Foundation
import Testing
import WardenCore
@testable import WardenDetect

/// Random, Unicode-heavy and very large inputs: the analysis and the secret scanner never crash and
/// stay within a time bound (they are linear; a regression to backtracking would show here).
@Suite("fuzz: analysis and DLP on hostile input")
struct FuzzTests {
    static let pieces: [String] = ["ignore", " previous", "<IMPORTANT>", "</", "<!--", "-->", "\u{202E}", "\u{200B}", "\u{E0041}", "\u{1B}[31m",
                                   "http://", "ngrok.io", "../", "' OR '1'='1", "eyJ", "AKIA", "ghp_", "-----BEGIN ", "PRIVATE KEY-----",
                                   "password=", "日本", "🚀", "é", "\n", "  ", "[", "]", "|", "$(", "aWdub3Jl", "%20", "Ѕ", "a", "_", "=="]

    static func randomText(_ rng: inout SplitMix, length: Int) -> String {
        var scalars = String.UnicodeScalarView()
        var count = 0
        while count < length {
            if Bool.random(using: &rng) {
                let piece = pieces.randomElement(using: &rng)!.unicodeScalars
                scalars.append(contentsOf: piece)
                count += piece.count
            } else {
                scalars.append(Unicode.Scalar(UInt32.random(in: 0x20...0x2FFF, using: &rng)) ?? "x")
                count += 1
            }
        }
        return String(scalars)
    }

    @Test("random definitions: no crash, every evidence span lies inside its field", arguments: 0..<8)
    func random(_ seed: Int) async {
        let problems = await onOwnThread { Self.problems(seed: seed) }
        #expect(problems.isEmpty, "\(problems.prefix(5))")
    }

    /// Analyses 60 random definitions and their results; returns what broke an invariant.
    static func problems(seed: Int) -> [String] {
        var rng = SplitMix(state: UInt64(seed) &* 7919)
        let analyzer = ToolAnalyzer()
        var problems: [String] = []
        for round in 0..<60 {
            let description = Self.randomText(&rng, length: Int.random(in: 0...3000, using: &rng))
            let def = ToolDefinition(raw: JSONObject(pairs: [("name", .string(Self.randomText(&rng, length: 12))), ("description", .string(description)),
                                                              ("inputSchema", ["type": "object", "properties": ["p": ["type": "string", "default": .string(Self.randomText(&rng, length: 80))]]])]))
            let review = analyzer.review(def, server: "fuzz")
            if !(0...100).contains(review.score) { problems.append("round \(round): score \(review.score)") }
            for f in review.findings where !(f.start >= 0 && f.start <= f.end) { problems.append("round \(round): \(f.rule) span \(f.start)..<\(f.end)") }
            let bytes = Array(description.utf8)
            let secrets = bytes.withUnsafeBytes { SecretScanner.scan($0) }
            for m in secrets where m.range.upperBound > bytes.count { problems.append("round \(round): secret past the end \(m.range)") }
            let result: JSONValue = ["content": [["type": "text", "text": .string(description)]]]
            for f in ResultScanner.injections(in: result) where !(f.start >= 0 && f.start <= f.end && f.field == "content[0].text") {
                problems.append("round \(round): result finding \(f.rule) at \(f.field) \(f.start)..<\(f.end)")
            }
        }
        return problems
    }

    @Test("1 MiB inputs analyse in bounded time")
    func large() async {
        let elapsed = await onOwnThread {
            var rng = SplitMix(state: 42)
            let text = Self.randomText(&rng, length: 1 << 20)
            return threadCPUTime {
                _ = ToolAnalyzer().review(ToolDefinition(raw: JSONObject(pairs: [("name", "big"), ("description", .string(text))])), server: "fuzz")
                _ = Array(text.utf8).withUnsafeBytes { SecretScanner.scan($0) }
            }
        }
        print("1 MiB hostile description: analysis and secret scan took \(elapsed)")
        #expect(elapsed < .seconds(30), "took \(elapsed)")
    }
}
