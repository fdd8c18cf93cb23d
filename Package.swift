// swift-tools-version: 6.1
// Warden: a zero-trust security layer and operator console for the Model Context Protocol.
// Targets follow ../shared/design/ARCHITECTURE.md: one per layer, dependencies point downward.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// The data path (JSON reading, the review, the relay) is optimised in debug builds too: every
/// byte of every message goes through it, and the end-to-end tests drive multi-MiB results through
/// the debug binary, where unoptimised byte loops are fifty times slower.
let dataPath: [SwiftSetting] = strict + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "warden",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "warden", targets: ["warden"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // Domain types, JSON value model, policy; pure, no I/O.
        .target(
            name: "WardenCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: dataPath),
        // JSON-RPC 2.0 framing and MCP message classification; raw bytes preserved.
        .target(name: "WardenProtocol", dependencies: ["WardenCore"], swiftSettings: dataPath),
        // Tool-definition analysis and pinning.
        .target(
            name: "WardenDetect",
            dependencies: ["WardenCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: dataPath),
        // SQLite persistence (GRDB, WAL): migrations, queries, the hash-chained audit log.
        .target(
            name: "WardenStore",
            dependencies: ["WardenCore", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // The control plane: socket API, grant broker, SIEM export.
        .target(
            name: "WardenHub",
            dependencies: ["WardenCore", "WardenHubAPI", "WardenProtocol", "WardenStore", "WardenDetect", "WardenSystem"],
            swiftSettings: strict),
        // The client side of the hub's socket API, the event spool, the hub-backed grant authority.
        .target(name: "WardenHubClient", dependencies: ["WardenCore", "WardenHubAPI", "WardenProtocol", "WardenSystem"], swiftSettings: strict),
        .target(name: "WardenHubAPI", dependencies: ["WardenCore", "WardenProtocol"], swiftSettings: strict),
        // prctl(2) for Swift (variadic in C): nothing else.
        .target(name: "CWardenSystem"),
        // The kernel's process table and process hardening, shared by the relay and the hub.
        .target(name: "WardenSystem", dependencies: ["CWardenSystem"], swiftSettings: strict),
        // Launching a server isolated: the bubblewrap profile from policy, and what isolation holds.
        .target(name: "WardenSandbox", dependencies: ["WardenCore", "WardenSystem"], swiftSettings: strict),
        // Where a relay's server is: a child on pipes, a stream socket, a Streamable HTTP endpoint; whole messages in and out.
        .target(name: "WardenTransport", dependencies: ["WardenCore", "WardenProtocol", "WardenSystem",
                                                        .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio")],
                swiftSettings: dataPath),
        // `warden gateway`: Streamable HTTP served to clients, one `warden wrap` child per MCP session.
        .target(
            name: "WardenGateway",
            dependencies: ["WardenCore", "WardenProtocol", "WardenTransport", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            swiftSettings: strict),
        // `warden wrap`: the relay session (in-path enforcement) and the runner that wires it to a transport.
        .target(
            name: "WardenProxy",
            dependencies: ["WardenCore", "WardenProtocol", "WardenDetect", "WardenHubClient", "WardenSandbox", "WardenSystem", "WardenTransport"],
            swiftSettings: dataPath),
        // ncursesw, for the console: only what Swift cannot import itself (macros) is in shim.h.
        .systemLibrary(name: "CNcursesw", providers: [.apt(["libncurses-dev"])]),
        // `warden console`: view model, renderer, themes, the ncurses and in-memory screens.
        .target(
            name: "WardenConsole",
            dependencies: ["WardenCore", "WardenHubAPI", "WardenHubClient", "CNcursesw", .product(name: "Yams", package: "Yams"),
                           .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // `warden demo`: demo MCP servers, a scripted agent, and the run that ties them to a hub and the console.
        .target(
            name: "WardenDemo",
            dependencies: ["WardenCore", "WardenProtocol", "WardenProxy", "WardenTransport", "WardenHubClient", "WardenConsole", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strict),
        // `warden install|uninstall`: MCP client config files, edited in place with backups.
        .target(name: "WardenSetup", dependencies: ["WardenCore", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .executableTarget(
            name: "warden",
            dependencies: [
                "WardenCore", "WardenProtocol", "WardenDetect", "WardenHubAPI", "WardenHubClient", "WardenProxy", "WardenTransport", "WardenHub", "WardenStore", "WardenConsole", "WardenDemo", "WardenSetup", "WardenSandbox", "WardenSystem", "WardenGateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // Test peers and the benchmark. Built with the package so tests and CI run real processes.
        .executableTarget(name: "warden-fixture-server", dependencies: ["WardenCore", "WardenProtocol", "WardenSystem"], swiftSettings: strict),
        .executableTarget(
            name: "warden-sdk-peer",
            dependencies: [.product(name: "MCP", package: "swift-sdk"), .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict),
        .executableTarget(
            name: "warden-bench",
            dependencies: ["WardenCore", "WardenProtocol", "WardenDetect", "WardenProxy", "WardenTransport", "WardenHub", "WardenStore", "WardenHubClient", "WardenConsole",
                           .product(name: "Crypto", package: "swift-crypto"), .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: strict),

        .testTarget(name: "WardenCoreTests", dependencies: ["WardenCore"]),
        .testTarget(name: "WardenProtocolTests", dependencies: ["WardenProtocol"]),
        .testTarget(name: "WardenDetectTests", dependencies: ["WardenDetect"]),
        .testTarget(name: "WardenSandboxTests", dependencies: ["WardenSandbox", "WardenCore"]),
        .testTarget(name: "WardenTransportTests", dependencies: ["WardenTransport"]),
        .testTarget(name: "WardenProxyTests", dependencies: ["WardenProxy", "WardenTransport", "WardenHubClient", "WardenDetect"]),
        .testTarget(name: "WardenStoreTests", dependencies: ["WardenStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "WardenConsoleTests", dependencies: ["WardenConsole", "WardenCore", "WardenHubAPI", "WardenHub", "WardenHubClient", .product(name: "Crypto", package: "swift-crypto")], exclude: ["__Snapshots__"]),
        .testTarget(name: "WardenHubTests", dependencies: ["WardenHub", "WardenHubAPI", "WardenStore", "WardenHubClient"]),
        // GRDB and Crypto are the attacker's tools in AuditIntegrityTests (rewriting the chain and
        // re-signing its head with a stolen key), not a way into Warden's own code.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["WardenCore", "WardenProtocol", "WardenHubClient", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Peers"]),
    ],
    swiftLanguageModes: [.v6]
)
