// The MCP Swift SDK on both ends of `warden wrap`, for end-to-end tests:
//   warden-sdk-peer server                 an SDK server with two tools on stdio
//   warden-sdk-peer client -- CMD ARGS…    spawns CMD, connects an SDK client, lists the tools, calls
//                                          `add` and `greet`, prints what it got as one JSON object
import Foundation
import MCP
import SystemPackage

let arguments = Array(CommandLine.arguments.dropFirst())

func runServer() async throws {
    let server = Server(name: "warden-sdk-server", version: "1.0", capabilities: .init(tools: .init(listChanged: false)))
    await server.withMethodHandler(ListTools.self) { _ in
        .init(tools: [
            Tool(name: "add", description: "Add two integers.",
                 inputSchema: ["type": "object", "properties": ["a": ["type": "integer"], "b": ["type": "integer"]]],
                 annotations: .init(readOnlyHint: true)),
            Tool(name: "greet", description: "Greet someone by name (ünïcödé ok).",
                 inputSchema: ["type": "object", "properties": ["name": ["type": "string"]]],
                 annotations: .init(readOnlyHint: true)),
        ])
    }
    await server.withMethodHandler(CallTool.self) { params in
        switch params.name {
        case "add":
            let a = params.arguments?["a"]?.intValue ?? 0
            let b = params.arguments?["b"]?.intValue ?? 0
            return .init(content: [.text(text: "\(a + b)", annotations: nil, _meta: nil)], isError: false)
        case "greet":
            return .init(content: [.text(text: "Hello, \(params.arguments?["name"]?.stringValue ?? "?")!", annotations: nil, _meta: nil)], isError: false)
        default:
            return .init(content: [.text(text: "unknown tool \(params.name)", annotations: nil, _meta: nil)], isError: true)
        }
    }
    try await server.start(transport: StdioTransport())
    await server.waitUntilCompleted()
}

func runClient(_ command: [String]) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    let toServer = Pipe(), fromServer = Pipe()
    process.standardInput = toServer
    process.standardOutput = fromServer
    try process.run()
    let transport = StdioTransport(input: FileDescriptor(rawValue: fromServer.fileHandleForReading.fileDescriptor),
                                   output: FileDescriptor(rawValue: toServer.fileHandleForWriting.fileDescriptor))
    let client = Client(name: "warden-sdk-client", version: "1.0")
    let initialized = try await client.connect(transport: transport)
    let tools = try await client.listTools().tools.map(\.name)
    let sum = try await client.callTool(name: "add", arguments: ["a": 2, "b": 40])
    let greeting = try await client.callTool(name: "greet", arguments: ["name": "Ada 🚀"])
    func text(_ content: [Tool.Content]) -> String {
        content.compactMap { if case .text(let t, _, _) = $0 { t } else { nil } }.joined()
    }
    let summary: [String: Any] = ["server": initialized.serverInfo.name, "tools": tools,
                                  "add": text(sum.content), "greet": text(greeting.content)]
    let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
    FileHandle.standardOutput.write(data + Data("\n".utf8))
    await client.disconnect()
    try? toServer.fileHandleForWriting.close()
    process.waitUntilExit()
}

switch arguments.first {
case "server":
    try await runServer()
case "client":
    let command = Array(arguments.drop(while: { $0 != "--" }).dropFirst())
    guard !command.isEmpty else {
        FileHandle.standardError.write(Data("usage: warden-sdk-peer client -- CMD ARGS...\n".utf8))
        exit(2)
    }
    try await runClient(command)
default:
    FileHandle.standardError.write(Data("usage: warden-sdk-peer server | client -- CMD ARGS...\n".utf8))
    exit(2)
}
