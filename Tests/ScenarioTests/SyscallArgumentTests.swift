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
