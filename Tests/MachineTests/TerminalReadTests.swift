// The terminal is read as Linux reads a tty in canonical mode: one line per read (drivers/tty/n_tty.c
// canon_copy_from_read_buf "copies one line of input up to and including the line-delimiting
// character"), taken in 64-byte chunks by iterate_tty_read (drivers/tty/tty_io.c), so a copy that comes
// up short loses the rest of its chunk. Before, a read returned as many bytes as its count, across lines,
// and a failed copy left every byte it had not stored for the next read.
import Testing
@testable import Machine

@Suite struct TerminalReadTests {
    struct LineCase: Sendable, CustomTestStringConvertible {
        var input: String
        var offset: Int
        var count: Int
        var expected: String
        var testDescription: String { "\(input.debugDescription) at \(offset), count \(count)" }
    }

    static let lineCases: [LineCase] = [
        LineCase(input: "ab\ncd\n", offset: 0, count: 100, expected: "ab\n"),
        LineCase(input: "ab\ncd\n", offset: 3, count: 100, expected: "cd\n"),
        LineCase(input: "ab\ncd\n", offset: 0, count: 2, expected: "ab"),
        LineCase(input: "ab\ncd\n", offset: 2, count: 2, expected: "\n"),
        LineCase(input: "\n\n", offset: 0, count: 5, expected: "\n"),
        LineCase(input: "no newline", offset: 3, count: 100, expected: "newline"),
        LineCase(input: "abc", offset: 3, count: 10, expected: ""),
    ]

    @Test(arguments: lineCases)
    func aReadReturnsAtMostOneLine(_ c: LineCase) {
        #expect(System.terminalReadBytes(Array(c.input.utf8), from: c.offset, count: c.count) == Array(c.expected.utf8))
    }

    @Test(arguments: [
        (10, 10, 10),     // a whole copy consumes what it took
        (10, 0, 10),      // -EFAULT: the first (only) chunk is gone
        (10, 6, 10),
        (100, 64, 100),   // the second chunk's copy failed at once: all of it consumed
        (200, 70, 128),   // failed inside the second chunk: up to its end
        (200, 0, 64),
        (200, 128, 192),
    ])
    func aShortCopyLosesTheRestOfItsChunk(taken: Int, copied: Int, consumed: Int) {
        #expect(System.terminalReadConsumed(taken: taken, copied: copied) == consumed)
    }

    @Test func readsThroughTheSystemCall() throws {
        var sys = try makeSystem(.x86_64) { _, k in k.stdin = Array("ab\ncd\nlost\nok".utf8) }
        let stack = LinuxLayout(mode: .x86_64).userSpaceTop - 0x100
        #expect(sys.call(.syscall, "read", [.number(0), .number(stack), .number(100)]).returns == 3)
        #expect(sys.call(.syscall, "read", [.number(0), .number(stack), .number(1)]).returns == 1)
        #expect(sys.call(.syscall, "read", [.number(0), .number(stack), .number(100)]).returns == 2)
        // Into an unmapped user page: -EFAULT, and "lost\n" is gone with it.
        #expect(sys.call(.syscall, "read", [.number(0), .number(0x1000_0000), .number(100)]).returns == -14)
        #expect(sys.call(.syscall, "read", [.number(0), .number(stack), .number(100)]).returns == 2)
        #expect(sys.call(.syscall, "write", [.number(1), .number(stack), .number(2)]).output == "ok")
        #expect(sys.call(.syscall, "read", [.number(0), .number(stack), .number(100)]).returns == 0)
    }
}
