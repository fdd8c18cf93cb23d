import ArgumentParser
import Foundation
import WardenCore
import WardenDetect
import WardenProxy

/// `warden registry keygen|sign|verify`: signed tool registries (Ed25519 over canonical definitions).
struct Registry: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sign tool definitions and verify them against a registry.",
                                                    subcommands: [Keygen.self, Sign.self, Verify.self])

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a signing key: KEY (private, mode 0600) and KEY.pub.")
        @Option(help: "Where to write the private key.") var out = "registry.key"

        func run() throws {
            let (priv, pub) = SignedRegistry.generateKey()
            guard FileManager.default.createFile(atPath: out, contents: Data((priv + "\n").utf8), attributes: [.posixPermissions: 0o600]),
                  FileManager.default.createFile(atPath: out + ".pub", contents: Data((pub + "\n").utf8)) else { CLI.fail("cannot write \(out)", code: 2) }
            print("public key: \(pub)\n(put it in policy as signatures.public_key; keep \(out) secret)")
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a server's tool definitions into a registry file (created or updated).")
        @Option(help: "The private key file.") var key: String
        @Option(help: "The server's name (as in warden wrap --name).") var server: String
        @Option(help: "A tools/list result or an array of tool definitions.") var tools: String?
        @Option(help: "The registry file.") var registry = "registry.json"
        @Argument(parsing: .postTerminator, help: "Or: the server command, to fetch its definitions as it serves them.") var command: [String] = []

        func run() throws {
            guard let keyText = try? String(contentsOfFile: key, encoding: .utf8) else { CLI.fail("cannot read \(key)", code: 2) }
            let definitions: [JSONObject]
            if let tools {
                definitions = Registry.definitions(tools)
            } else if !command.isEmpty {
                do { definitions = try ServerProbe.listTools(command).tools } catch { CLI.fail("\(error)", code: 2) }
            } else {
                CLI.fail("give --tools FILE or -- COMMAND", code: 2)
            }
            do {
                var reg: SignedRegistry
                if FileManager.default.fileExists(atPath: registry) { reg = try SignedRegistry.load(path: registry) } else {
                    guard let pub = try? String(contentsOfFile: key + ".pub", encoding: .utf8) else { CLI.fail("no \(key).pub next to the key", code: 2) }
                    reg = SignedRegistry(publicKey: pub.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                try reg.sign(definitions, server: server, privateKey: keyText)
                try Data(JSONWriter.compactBytes(reg.json)).write(to: URL(fileURLWithPath: registry))
                print("signed \(definitions.count) tool(s) of \(SafeText.escape(server)) into \(registry)")
            } catch {
                CLI.fail("\(error)", code: 2)
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check every signature; with --tools, check those definitions are signed unchanged. Exit 1 on any failure.")
        @Option(help: "The registry file.") var registry = "registry.json"
        @Option(help: "Only trust this public key (base64).") var publicKey: String?
        @Option(help: "Definitions to check (needs --server).") var tools: String?
        @Option(help: "The server the definitions belong to.") var server: String?

        func run() throws {
            let reg: SignedRegistry
            do { reg = try SignedRegistry.load(path: registry) } catch { CLI.fail("\(error)", code: 2) }
            var failures = 0
            if let publicKey, publicKey != reg.publicKey {
                print("registry is signed by \(SafeText.escape(reg.publicKey)), not the expected key")
                failures += 1
            }
            for e in reg.entries where !reg.verifies(e) {
                print("BAD SIGNATURE  \(SafeText.escape(e.server))/\(SafeText.escape(e.tool))")
                failures += 1
            }
            if let tools {
                guard let server else { CLI.fail("--tools needs --server", code: 2) }
                for d in Registry.definitions(tools) {
                    let name = d["name"]?.stringValue ?? ""
                    let status = reg.status(server: server, tool: name, pin: ToolPin.digest(of: d))
                    print("\(status == .signed ? "signed  " : "NOT OK  ") \(SafeText.escape(server))/\(SafeText.escape(name))  \(status)")
                    if status != .signed { failures += 1 }
                }
            }
            print(failures == 0 ? "registry OK: \(reg.entries.count) signed definitions" : "\(failures) problem(s)")
            if failures > 0 { throw ExitCode(1) }
        }
    }

    static func definitions(_ path: String) -> [JSONObject] {
        guard let data = FileManager.default.contents(atPath: path), let v = try? JSONParser.parse(data) else { CLI.fail("cannot read JSON from \(path)", code: 2) }
        guard let list = v["tools"]?.arrayValue ?? v.arrayValue else { CLI.fail("\(path): expected {\"tools\":[…]} or an array", code: 2) }
        return list.compactMap(\.objectValue)
    }
}
