// Stack growth (mm/mmap.c expand_downwards, reached from arch/x86/mm/fault.c do_user_addr_fault): a
// not-present page below a `stack` VMA, in no VMA, grows the stack down to it and is demand paged (one #PF,
// no signal) within RLIMIT_STACK (8 MiB), at or above mmap_min_addr, and at least stack_guard_gap (1 MiB)
// above the VMA below (unless that one is a stack or PROT_NONE). It used to be SIGSEGV ("VMAs never
// grow"). A system call's copy grows it too (exception-table fix-up); an `access` at CPL 0 does not.

@testable import Scenario
import Testing

@Suite struct StackGrowthTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var memory: String          // extra VMAs
        var addr: String
        var op = "write"
        var cpl = 3
        var grows: Bool
        var testDescription: String { name }
    }

    // The stack VMA: 0x7ff00000-0x7ff02000 (two pages, populated), in x86_64.
    static let cases: [Case] = [
        Case(name: "one page below the stack", memory: "", addr: "0x7feffff8", grows: true),
        Case(name: "a read 1 MiB below", memory: "", addr: "0x7fe00010", op: "read", grows: true),
        Case(name: "exactly RLIMIT_STACK long", memory: "", addr: "0x7f702000", grows: true),
        Case(name: "one page past RLIMIT_STACK", memory: "", addr: "0x7f701fff", grows: false),
        Case(name: "a VMA below within the guard gap", memory: "      - {segment: data, start: 0x7fd00000, pages: 1, perm: \"rw-\"}\n",
             addr: "0x7fe00000", grows: false),
        Case(name: "a VMA below exactly the guard gap away", memory: "      - {segment: data, start: 0x7fcff000, pages: 1, perm: \"rw-\"}\n",
             addr: "0x7fe00000", grows: true),
        Case(name: "a PROT_NONE VMA below does not count", memory: "      - {segment: data, start: 0x7fd00000, pages: 1, perm: \"---\"}\n",
             addr: "0x7fe00000", grows: true),
        Case(name: "the next VMA above is not a stack", memory: "      - {segment: data, start: 0x7fe00000, pages: 1, perm: \"rw-\"}\n",
             addr: "0x7fd00000", grows: false),
        Case(name: "kernel code (cpl 0) without a fix-up", memory: "", addr: "0x7feffff8", cpl: 0, grows: false),
    ]

    @Test(arguments: cases)
    func growth(_ c: Case) {
        let code = (c.op == "write" ? 0x2 : 0) | (c.cpl == 3 ? 0x4 : 0)
        let cpl = c.cpl == 0 ? ", cpl: 0" : ""
        let r = runScenarioText("""
        scenario: grow
        machine: {mode: x86_64}
        processes:
          - name: app
            state: running
            memory:
              - {segment: text, start: 0x400000, pages: 1, perm: "r-x", populate: true}
              - {segment: stack, start: 0x7ff00000, pages: 2, perm: "rw-", populate: true}
        \(c.memory)    context: {rip: 0x400000, rsp: 0x7ff01ff0}
        steps:
          - access: {op: \(c.op), addr: \(c.addr), size: 4\(cpl)}
            expect:
              faults: [{vector: PF, error_code: 0x\(String(code, radix: 16)), cr2: \(c.addr)}]
              signal: \(c.grows ? "none" : "SIGSEGV")
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.name): \(String(describing: r.first?.outcome))")
            return
        }
    }

    /// read() into a buffer just below the stack: copy_to_user's fault grows the stack (#PF W, U=0) and the
    /// bytes arrive; 16 MiB below, it is -EFAULT with no fault.
    @Test func copyToUserGrowsTheStack() {
        let r = runScenarioText("""
        scenario: grow-read
        machine: {mode: ia32}
        kernel: {stdin: "abc"}
        processes:
          - {name: app, state: running}
        steps:
          - syscall: {via: int80, nr: read, args: [0, 0xbf000000, 3]}
            expect: {returns: -EFAULT, faults: none}
          - syscall: {via: int80, nr: read, args: [0, 0xbfff0000, 3]}
            expect: {returns: 3, faults: [{vector: PF, error_code: 0x2, cr2: 0xbfff0000}]}
          - access: {op: read, addr: 0xbfff0000}
            expect: {faults: none}
          - syscall: {via: int80, nr: write, args: [1, 0xbfff0000, 3]}
            expect: {returns: 3, output: "abc"}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(String(describing: r.first?.outcome))")
            return
        }
    }
}
