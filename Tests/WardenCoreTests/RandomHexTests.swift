import Testing
import WardenCore

@Suite("random hex")
struct RandomHexTests {
    @Test("n bytes are 2n lowercase hex digits, and two draws differ")
    func shape() {
        let a = RandomHex.make(bytes: 16), b = RandomHex.make(bytes: 16)
        #expect(a.count == 32 && a.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(a != b)
        #expect(RandomHex.make(bytes: 0).isEmpty)
    }
}
