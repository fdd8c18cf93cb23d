import Testing
import WardenCore
@testable import WardenProtocol

@Suite("JSON-RPC validation")
struct RPCValidatorTests {
    func classify(_ text: String) throws -> Result<RPCMessage, RPCInvalid> {
        RPCValidator.classify(try JSONParser.parse(text))
    }

    @Test("requests, notifications, responses and errors")
    func kinds() throws {
        #expect(try classify(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#).get().kind == .request(method: "tools/list"))
        #expect(try classify(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).get().kind == .notification(method: "notifications/initialized"))
        #expect(try classify(#"{"jsonrpc":"2.0","id":"a","result":{}}"#).get().kind == .response)
        #expect(try classify(#"{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"m"}}"#).get().kind == .errorResponse)
    }

    @Test("ids 1 and \"1\" are different requests")
    func idKeys() throws {
        let a = try classify(#"{"jsonrpc":"2.0","id":1,"method":"x"}"#).get().idKey
        let b = try classify(#"{"jsonrpc":"2.0","id":"1","method":"x"}"#).get().idKey
        #expect(a != b)
    }

    @Test("invalid messages are refused with the id when there is one", arguments: [
        (#"{"id":1,"method":"x"}"#, true), (#"{"jsonrpc":"2.0","id":1,"method":5}"#, true),
        (#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#, true), (#"{"jsonrpc":"2.0","id":null,"method":"x"}"#, false),
        (#"{"jsonrpc":"2.0","id":1}"#, true), (#"{"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1,"message":""}}"#, true),
        (#"[1]"#, false), (#"{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"m"}}"#, true),
    ])
    func invalid(_ text: String, _ hasID: Bool) throws {
        guard case .failure(let invalid) = try classify(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect((invalid.id != nil) == hasID)
    }
}
