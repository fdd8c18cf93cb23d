import Foundation
import Synchronization
import WardenCore
import WardenProtocol
import WardenDetect
@testable import WardenProxy
import WardenTransport

/// Collects what the relay writes to one side, line by line.
final class CollectingOutput: MessageOutput {
    let lines = Mutex<[String]>([])
    let raw = Mutex<[UInt8]>([])
    /// Sees each line first; a line it returns true for is answered by it and not collected.
    let interceptor = Mutex<(@Sendable (JSONValue) -> Bool)?>(nil)

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if let intercept = interceptor.withLock({ $0 }), let value = try? JSONParser.parse(bytes), intercept(value) { return true }
        raw.withLock { $0.append(contentsOf: bytes) }
        let text = String(decoding: bytes, as: UTF8.self)
        lines.withLock { $0.append(contentsOf: text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)) }
        return true
    }

    var all: [String] { lines.withLock { $0 } }
    var bytes: [UInt8] { raw.withLock { $0 } }

    func values() -> [JSONValue] { all.compactMap { try? JSONParser.parse($0) } }

    /// Waits (polling, bounded) until some line satisfies `predicate`.
    func wait(until predicate: (JSONValue) -> Bool, timeout: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if values().contains(where: predicate) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return false
    }

    /// Waits (polling, bounded) until `count` lines have arrived.
    func wait(for count: Int, timeout: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if all.count >= count { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return all.count >= count
    }
}

/// A grant authority whose answers the test scripts.
final class ScriptedAuthority: GrantAuthority {
    let answer: @Sendable (GrantRequest) async -> GrantOutcome
    let requests = Mutex<[GrantRequest]>([])
    let withdrawn = Mutex<[String]>([])

    init(_ answer: @escaping @Sendable (GrantRequest) async -> GrantOutcome) { self.answer = answer }

    func requestGrant(_ request: GrantRequest) async -> GrantOutcome {
        requests.withLock { $0.append(request) }
        return await answer(request)
    }

    func withdraw(requestID: String, reason: String) async {
        withdrawn.withLock { $0.append(requestID) }
    }
}

final class CollectingSink: EventSink {
    let events = Mutex<[Event]>([])
    func record(_ event: Event) { events.withLock { $0.append(event) } }
    func kinds() -> [EventKind] { events.withLock { $0.map(\.kind) } }
}

/// A value behind a lock, shareable by reference.
final class Box<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
}

struct RelayRig {
    let client = CollectingOutput()
    let server = CollectingOutput()
    let sink = CollectingSink()
    let authority: ScriptedAuthority
    let relay: Relay
    let pins: MemoryPinStore

    /// Tools the test's calls named: the stand-in server lists them when Warden asks for its list.
    let called = Box<Set<String>>([])
    /// The Warden-made requests the stand-in server answered.
    let wardenRequests = Box<[JSONValue]>([])

    /// `autoList`: answer Warden's own `tools/list` (sent before a call to a tool the session has not
    /// reviewed) with a plain definition of every tool the test called, as an honest server would.
    init(policy: Policy = .builtIn, maxFrame: Int = 64 << 20, pins: MemoryPinStore = MemoryPinStore(), autoList: Bool = true,
         answer: @escaping @Sendable (GrantRequest) async -> GrantOutcome = { _ in .unavailable(reason: "no hub in this test") }) {
        var config = RelayConfiguration(serverName: "srv", policy: policy)
        config.maxFrame = maxFrame
        config.progressInterval = 0.05
        config.grantGrace = 0.2
        authority = ScriptedAuthority(answer)
        self.pins = pins
        relay = Relay(config: config, session: SessionInfo(id: "s-test", server: "srv", wardenPID: 1, serverPID: 2, startedAt: 0),
                      toClient: client, toServer: server, authority: authority, events: sink, pins: pins)
        guard autoList else { return }
        let relay = self.relay, called = self.called, requests = self.wardenRequests
        server.interceptor.withLock {
            $0 = { value in
                guard value["id"]?.stringValue?.hasPrefix("warden-") == true else { return false }
                requests.withLock { $0.append(value) }
                let tools = called.withLock { $0 }.sorted().map { name -> JSONValue in
                    ["name": .string(name), "description": "Does one thing.", "inputSchema": ["type": "object"]]
                }
                let answer: JSONValue = ["jsonrpc": "2.0", "id": value["id"]!, "result": ["tools": .array(tools)]]
                var framer = LineFramer(maxFrame: relay.config.maxFrame)
                framer.append(JSONWriter.compactBytes(answer) + [0x0A])
                framer.drain(relay.serverFrame)
                return true
            }
        }
    }

    func fromClient(_ text: String) {
        for line in text.split(separator: "\n") {
            guard let value = try? JSONParser.parse(String(line)) else { continue }
            for message in value.arrayValue ?? [value] where message["method"] == "tools/call" {
                if let name = message["params"]?["name"]?.stringValue { called.withLock { _ = $0.insert(name) } }
            }
        }
        feed(text, relay.clientFrame)
    }
    func fromServer(_ text: String) { feed(text, relay.serverFrame) }

    private func feed(_ text: String, _ deliver: (LineFramer.Frame) -> Void) {
        var framer = LineFramer(maxFrame: relay.config.maxFrame)
        framer.append(Array(text.utf8))
        framer.drain(deliver)
        framer.finish(deliver)
    }
}

func call(_ id: Int, _ tool: String, _ arguments: String = "{}", progressToken: Int? = nil) -> String {
    let meta = progressToken.map { #","_meta":{"progressToken":\#($0)}"# } ?? ""
    return #"{"jsonrpc":"2.0","id":\#(id),"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)\#(meta)}}"#
}
