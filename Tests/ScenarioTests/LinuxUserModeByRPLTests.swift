// Which exceptions Linux treats as raised in user mode: user_mode(regs) (arch/x86/include/asm/ptrace.h)
// is `!!(regs->cs & 3)` on x86_64 and RPL 3 only (`>= USER_RPL`) on i386. So on x86_64 an exception from a
// task running at CPL 1 or 2 gets the user signal (#UD SIGILL, #BP SIGTRAP), while on i386 it is a kernel
// oops (die(): SIGSEGV). A page fault from CPL 1-2 is a supervisor access (error code U/S = 0), which
// __bad_area_nosemaphore oopses (SIGKILL) on both. Was: every exception from CPL 1-2 was an oops.

@testable import Scenario
import Testing

@Suite struct LinuxUserModeByRPLTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var ring: Int
        var step: String
        var expect: String
        var testDescription: String { "\(mode) CPL \(ring): \(step) -> \(expect)" }
    }

    static let cases: [Case] = [
        Case(mode: "x86_64", ring: 1, step: "exec: \"ud2\"", expect: "{fault: UD, signal: SIGILL}"),
        Case(mode: "x86_64", ring: 2, step: "exec: \"ud2\"", expect: "{fault: UD, signal: SIGILL}"),
        Case(mode: "x86_64", ring: 1, step: "exec: \"int3\"", expect: "{fault: BP, signal: SIGTRAP}"),
        Case(mode: "x86_64", ring: 1, step: "access: {op: read, addr: 0x10000000}", expect: "{fault: {vector: PF, error_code: 0}, signal: SIGKILL}"),
        Case(mode: "ia32", ring: 1, step: "exec: \"ud2\"", expect: "{fault: UD, signal: SIGSEGV}"),
        Case(mode: "ia32", ring: 2, step: "exec: \"int3\"", expect: "{fault: BP, signal: SIGSEGV}"),
        Case(mode: "ia32", ring: 1, step: "access: {op: read, addr: 0x10000000}", expect: "{fault: {vector: PF, error_code: 0}, signal: SIGKILL}"),
    ]

    @Test(arguments: cases)
    func signal(_ c: Case) {
        let long = c.mode == "x86_64" ? ", long: true" : ""
        let r = runScenarioText("""
        scenario: c
        machine:
          mode: \(c.mode)
          gdt:
            20: {name: rcs, type: code, dpl: \(c.ring)\(long)}
            21: {name: rds, type: data, dpl: \(c.ring)}
        processes:
          - name: t
            state: running
            context: {cs: rcs:\(c.ring), ss: rds:\(c.ring), ds: rds:\(c.ring)}
        steps:
          - \(c.step)
            expect: \(c.expect)
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
