import Foundation
import Synchronization
import WardenCore
import WardenProtocol
import WardenDetect
@testable import WardenProxy

/// Collects what the relay writes to one side, line by line.
final class CollectingOutput: MessageOutput {
    let lines = Mutex<[String]>([])
    let raw = Mutex<[UInt8]>([])

    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
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

struct RelayRig {
    let client = CollectingOutput()
    let server = CollectingOutput()
    let sink = CollectingSink()
    let authority: ScriptedAuthority
    let relay: Relay
    let pins: MemoryPinStore

    init(policy: Policy = .builtIn, maxFrame: Int = 64 << 20, pins: MemoryPinStore = MemoryPinStore(),
         answer: @escaping @Sendable (GrantRequest) async -> GrantOutcome = { _ in .unavailable(reason: "no hub in this test") }) {
        var config = RelayConfiguration(serverName: "srv", policy: policy)
        config.maxFrame = maxFrame
        config.progressInterval = 0.05
        config.grantGrace = 0.2
        authority = ScriptedAuthority(answer)
        self.pins = pins
        relay = Relay(config: config, session: SessionInfo(id: "s-test", server: "srv", wardenPID: 1, serverPID: 2, startedAt: 0),
                      toClient: client, toServer: server, authority: authority, events: sink, pins: pins)
    }

    func fromClient(_ text: String) { feed(text, relay.clientFrame) }
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
