// syscall arguments are register values: a non-negative number may use all 64 bits (a kernel
// pointer such as 0xffff888000000000, scenario-format.md "Integers" and `syscall.args`).
import Machine
@testable import Scenario
import Testing

@Suite struct SyscallArgumentTests {
    @Test func fullWidthPointerArgument() throws {
        let yaml = """
        scenario: a
        steps:
          - syscall: {via: syscall, nr: write, args: [1, 0xffff888000000000, -1]}
        """
        #expect(diagnostics(yaml).isEmpty)
        let s = try #require(spec(yaml))
        guard case let .syscall(_, _, args, _, _) = s.steps[0].event else {
            Issue.record("not a syscall step")
            return
        }
        #expect(args == [.number(1), .number(0xffff_8880_0000_0000), .number(UInt64.max)])
    }
}

// The number is a register value too: RAX may hold any 64 bits, and Linux 6.x reads its low half
// (do_syscall_64(struct pt_regs *, int nr); do_int80_syscall_32: (int)regs->orig_ax). A hex number
// above Int64.max was refused ("out of range (at most 9223372036854775807)") although `-4294967257`,
// the same bits, was accepted.
@Suite struct SyscallNumberWidthTests {
    @Test(arguments: [
        ("0xffffffff00000027", Int64(bitPattern: 0xffff_ffff_0000_0027)),
        ("0xffffffffffffffff", -1),
        ("-4294967257", Int64(bitPattern: 0xffff_ffff_0000_0027)),
        ("0x100000027", 0x1_0000_0027),
    ])
    func numberKeepsAll64Bits(text: String, expected: Int64) throws {
        let yaml = """
        scenario: a
        steps:
          - syscall: {via: syscall, nr: \(text)}
        """
        #expect(diagnostics(yaml).isEmpty)
        let s = try #require(spec(yaml))
        guard case let .syscall(_, nr, _, _, _) = s.steps[0].event else {
            Issue.record("not a syscall step")
            return
        }
        #expect(nr == expected)
    }

    @Test(arguments: [("0xffffffff00000027", Int64(1)), ("0xffffffff80000027", Int64(-38))])
    func upperHalfOfRAXIsIgnored(text: String, returns: Int64) throws {
        let yaml = """
        scenario: a
        machine: {mode: x86_64}
        steps:
          - syscall: {via: syscall, nr: \(text)}
            expect: {returns: \(returns)}
        """
        #expect(diagnostics(yaml).isEmpty)
        let r = runScenarioText(yaml)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
