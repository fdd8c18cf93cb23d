import Foundation
import Testing
import WardenCore
@testable import WardenDetect

/// Test secrets are assembled at run time so no file in the repository looks like a leaked key.
enum FakeSecret {
    static let aws = "AKI" + "A" + "QWERTYUIOPASDFGH"
    static let github = "gh" + "p_" + String(repeating: "aB3", count: 12)
    static let slack = "xox" + "b-" + "1234567890-0987654321-AbCdEfGhIjKl"
    static let stripe = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    static let jwt = "ey" + "JhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    static let pem = "-----BEGIN " + #"RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq\n-----END RSA PRIVATE KEY-----"#
}

@Suite("secret scanner")
struct SecretScannerTests {
    func kinds(_ text: String) -> [String] {
        Array(text.utf8).withUnsafeBytes { SecretScanner.scan($0).map(\.kind) }
    }

    @Test("finds each kind inside JSON text", arguments: [
        (FakeSecret.aws, "aws-access-key"), (FakeSecret.github, "github-token"), (FakeSecret.slack, "slack-token"),
        (FakeSecret.stripe, "stripe-key"), (FakeSecret.jwt, "jwt"), (FakeSecret.pem, "private-key"),
        (#"\"password\": \"Zx8kQ2vYLm9Tr4pWq7s\""#, "credential"), ("API_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "credential"),
    ])
    func finds(_ secret: String, _ kind: String) {
        #expect(kinds(#"{"content":[{"type":"text","text":"here: \#(secret) done"}]}"#) == [kind])
    }

    @Test("look-alikes stay quiet", arguments: [
        "the token count is 12345", "password: hunter2", "AKIA is a prefix AWS uses", "use ghp_ tokens with care",
        "550e8400-e29b-41d4-a716-446655440000", "eyJ alone is not a JWT", "-----BEGIN CERTIFICATE-----",
        "secret: aaaaaaaaaaaaaaaaaaaaaaaa",
    ])
    func quiet(_ text: String) {
        #expect(kinds(text).isEmpty, "\(kinds(text))")
    }

    @Test("redaction keeps the JSON valid and never keeps the value")
    func redaction() throws {
        let line = #"{"result":{"text":"k=\#(FakeSecret.aws) and \#(FakeSecret.github)"}}"#
        let bytes = Array(line.utf8)
        let redacted = bytes.withUnsafeBytes { SecretScanner.redact($0, SecretScanner.scan($0)) }
        let text = String(decoding: redacted, as: UTF8.self)
        #expect(text.contains("[REDACTED:aws-access-key]") && text.contains("[REDACTED:github-token]"))
        #expect(!text.contains(FakeSecret.aws) && !text.contains(FakeSecret.github))
        _ = try JSONParser.parse(text)
        let masked = bytes.withUnsafeBytes { SecretScanner.scan($0) }.map(\.masked)
        #expect(masked.allSatisfy { !$0.contains("QWERTYUIOP") })
    }

    /// Inputs that made earlier versions search the rest of the buffer once per occurrence: headers
    /// without footers, and credential words repeated inside one long token. Linear now; a
    /// quadratic regression takes minutes on these. (An END line whose key marker is the next
    /// block's header joins the two blocks: 5,000 matches for 10,000 headers.)
    @Test("adversarial repetitions scan in linear time", arguments: [
        ("-----BEGIN ", 30_000, 0), ("-----BEGIN " + "RSA PRIVATE KEY-----\n", 10_000, 10_000), ("token", 100_000, 0),
        ("password=", 50_000, 0), ("ey" + "Ja.", 100_000, 0), ("-----BEGIN " + "EC PRIVATE KEY-----\nAAAA\n-----END ", 10_000, 5_000),
    ])
    func linear(_ piece: String, _ count: Int, _ expected: Int) async {
        let (elapsed, found) = await onOwnThread {
            let bytes = Array(String(repeating: piece, count: count).utf8)
            var found = 0
            let elapsed = threadCPUTime { found = bytes.withUnsafeBytes { SecretScanner.scan($0).count } }
            return (elapsed, found)
        }
        #expect(found == expected)
        #expect(elapsed < .seconds(10), "took \(elapsed)")
    }
}
