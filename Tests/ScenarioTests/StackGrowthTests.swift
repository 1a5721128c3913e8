// Stack growth (mm/mmap.c expand_downwards, reached from arch/x86/mm/fault.c do_user_addr_fault), for a
// stack VMA declared `grows_down: true`: a not-present page below it, in no VMA, grows the stack down to it
// and is demand paged (one #PF, no signal) within RLIMIT_STACK (8 MiB), at or above mmap_min_addr, and at
// least stack_guard_gap (1 MiB) above the VMA below (unless that one is a stack or PROT_NONE). A system
// call's copy grows it too (exception-table fix-up); an `access` at CPL 0 does not. Without `grows_down`
// (the default, and the default layout's stack) a user fault below the stack is SIGSEGV, as the format's
// "SIGSEGV for a user fault outside" a VMA says.

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
        var growsDown = true        // the stack VMA's grows_down
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
        Case(name: "one page below a stack without grows_down", memory: "", addr: "0x7feffff8", grows: false, growsDown: false),
        Case(name: "a read 1 MiB below a stack without grows_down", memory: "", addr: "0x7fe00010", op: "read", grows: false, growsDown: false),
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
              - {segment: stack, start: 0x7ff00000, pages: 2, perm: "rw-", populate: true\(c.growsDown ? ", grows_down: true" : "")}
        \(c.memory)    context: {rip: 0x400000, rsp: 0x7ff01ff0}
        steps:
          - access: {op: \(c.op), addr: \(c.addr), size: 4\(cpl)}
            expect:
              faults: [{vector: PF, error_code: 0x\(String(code, radix: 16)), cr2: \(c.addr)}]
              signal: \(c.grows ? "none" : c.cpl == 0 ? "SIGKILL" : "SIGSEGV")
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.name): \(String(describing: r.first?.outcome))")
            return
        }
    }

    /// read() into a buffer just below a `grows_down` stack: copy_to_user's fault grows the stack (#PF W,
    /// U=0) and the bytes arrive; 16 MiB below, it is -EFAULT with no fault (and the terminal line that
    /// read took, "xy\n", is gone: tty_io.c iterate_tty_read).
    @Test func copyToUserGrowsTheStack() {
        let r = runScenarioText("""
        scenario: grow-read
        machine: {mode: ia32}
        kernel: {stdin: "xy\nabc"}
        processes:
          - name: app
            state: running
            memory:
              - {segment: text, start: 0x08048000, pages: 1, perm: "r-x", populate: true}
              - {segment: stack, start: 0xbfffe000, pages: 2, perm: "rw-", populate: true, grows_down: true}
            context: {eip: 0x08048000, esp: 0xbffffff0}
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

    /// Without `grows_down` (here: the default layout's stack) the same read is -EFAULT: no VMA covers it.
    @Test func copyToUserBelowAFixedStackIsEFAULT() {
        let r = runScenarioText("""
        scenario: no-grow-read
        machine: {mode: ia32}
        kernel: {stdin: "abc"}
        processes:
          - {name: app, state: running}
        steps:
          - syscall: {via: int80, nr: read, args: [0, 0xbfff0000, 3]}
            expect: {returns: -EFAULT, faults: none}
          - access: {op: write, addr: 0xbfffd000}
            expect: {faults: [{vector: PF, error_code: 0x6, cr2: 0xbfffd000}], signal: SIGSEGV}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(String(describing: r.first?.outcome))")
            return
        }
    }

    @Test func growsDownOnlyOnAStack() {
        let r = runScenarioText("""
        scenario: bad-grows-down
        machine: {mode: x86_64}
        processes:
          - name: app
            memory:
              - {segment: heap, start: 0x600000, pages: 1, grows_down: true}
        steps:
          - timer: 1
        """)
        guard case .invalid(let diags)? = r.first?.outcome else {
            Issue.record("expected invalid, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(diags.contains { $0.message.contains("grows_down needs segment: stack") && $0.location?.line == 6 }, "\(diags)")
    }
}
