// UTF8CheckTests: the scenario-file UTF-8 check skips ASCII eight bytes at a time; it must still find the
// first bad byte wherever it falls in a word, and agree with the standard library on what is UTF-8.

@testable import Scenario
import Testing

@Suite struct UTF8CheckTests {
    /// A bad byte at every offset of a long ASCII line (inside, at the start and at the end of a word) is
    /// found at that offset and column, and a valid multi-byte character before it does not hide it.
    @Test(arguments: 0..<40)
    func badByteAtEveryOffset(_ at: Int) {
        let ascii = Array(String(repeating: "abcdefgh", count: 6).utf8)
        var bytes = Array(ascii[0..<at]) + [0xFF] + Array(ascii[at...])
        var error = bytes.withUnsafeBytes { UTF8Check.firstError($0) }
        #expect(error?.mark == SourceMark(line: 1, column: at + 1, offset: at))
        bytes = Array("x\n\u{e9}".utf8) + bytes
        error = bytes.withUnsafeBytes { UTF8Check.firstError($0) }
        #expect(error?.mark == SourceMark(line: 2, column: at + 2, offset: at + 4))
    }

    /// Random bytes, mostly ASCII with some high ones: the check refuses exactly what
    /// `String(validating:as:)` refuses.
    @Test func agreesWithTheStandardLibrary() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let pieces: [[UInt8]] = [Array("abcdefg".utf8), [0x0A], Array("\u{e9}".utf8), Array("\u{20AC}".utf8), Array("\u{1F600}".utf8),
                                 [0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]]
        for _ in 0..<2000 {
            var bytes: [UInt8] = [0x78]  // never a byte order mark
            for _ in 0..<Int(next() % 12) {
                let r = Int(next() % 40)
                bytes += pieces[r < 30 ? r % 5 : 5 + r % 6]
            }
            let valid = String(validating: bytes, as: UTF8.self) != nil
            let refused = bytes.withUnsafeBytes { UTF8Check.firstError($0) } != nil
            #expect(valid != refused, "\(bytes)")
        }
    }
}
