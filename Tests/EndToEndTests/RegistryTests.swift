import Foundation
import Testing

@Suite("signed registries")
struct RegistryTests {
    @Test("keygen, sign and verify; a policy that requires signatures hides unsigned and changed tools")
    func signedDefinitions() async throws {
        try Harness.requirePeers()
        let home = Harness.temporaryHome()
        let key = home + "/registry.key", registry = home + "/registry.json"
        let keygen = try await warden(["registry", "keygen", "--out", key], home: home)
        #expect(keygen.status == 0)
        let publicKey = try String(contentsOfFile: key + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let sign = try await warden(["registry", "sign", "--key", key, "--server", "weather", "--registry", registry, "--", Harness.fixtureServer, "rugpull"], home: home)
        #expect(sign.status == 0, "\(sign.stderr)")
        #expect(try await warden(["registry", "verify", "--registry", registry, "--public-key", publicKey], home: home).status == 0)

        try """
            version: 1
            signatures: {registry: "\(registry)", public_key: "\(publicKey)", servers: ["weather"]}
            """.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        let report = try await pythonClient(command: [Harness.warden, "wrap", "--name", "weather", "--", Harness.fixtureServer, "rugpull"], steps: [
            ["op": "list"],
            ["op": "call", "name": "get_forecast", "arguments": ["city": "Oslo"]],
            ["op": "call", "name": "get_forecast", "arguments": ["city": "Lima"]],
            ["op": "list"],
        ], home: home)
        let r = report["results"] as! [Any]
        #expect(((r[0] as! [String: Any])["tools"] as! [Any]).count == 1, "the signed definition is shown")
        #expect(((r[3] as! [String: Any])["tools"] as! [Any]).isEmpty, "the changed definition is not")

        // Another server under the same requirement, never signed: all of its tools are hidden.
        try """
            version: 1
            signatures: {registry: "\(registry)", public_key: "\(publicKey)", servers: ["*"]}
            """.write(toFile: home + "/policy.yaml", atomically: true, encoding: .utf8)
        let unsigned = try await pythonClient(command: [Harness.warden, "wrap", "--name", "other", "--", Harness.fixtureServer, "hostile"],
                                              steps: [["op": "list"]], home: home)
        #expect((((unsigned["results"] as! [Any])[0] as! [String: Any])["tools"] as! [Any]).isEmpty)

        // Tampering with a signature is caught.
        var text = try String(contentsOfFile: registry, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"pin\":\"", with: "\"pin\":\"0")
        try text.write(toFile: registry, atomically: true, encoding: .utf8)
        let tampered = try await warden(["registry", "verify", "--registry", registry], home: home)
        #expect(tampered.status == 1 && tampered.stdoutText.contains("BAD SIGNATURE"))
    }
}
