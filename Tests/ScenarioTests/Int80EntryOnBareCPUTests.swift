// `expect.entry` of an `exec: "int 0x80"` on a bare CPU (`kernel: none`): the INT 0x80 delivered through the
// IDT's system-call gate is the 32-bit way into the kernel (seed concept 1), so `entry` reports the state
// right after the delivery, as it does for a bare SYSENTER or SYSCALL (FAST-2, FAST-7). It used to fail with
// "no entry into the kernel". An `int 0x80` refused by the gate's DPL (#GP) enters nothing.

@testable import Scenario
import Testing

@Suite struct Int80EntryOnBareCPUTests {
    @Test(arguments: [
        // ia32: the trap gate's CS 0x60, the TSS's SS0 0x68, five dwords pushed on the ring-0 stack.
        ("ia32", "{via: int80, cs: 0x60, ss: 0x68, cpl: 0}", "{cs: 0x60, ss: 0x68}"),
        // x86_64: a privilege change in IA-32e mode loads SS with a null selector (RPL = the new CPL).
        ("x86_64", "{via: int80, cs: 0x10, ss: 0, cpl: 0}", "{cs: 0x10, ss: 0}"),
    ])
    func bareInt80IsAnEntry(_ mode: String, _ entry: String, _ regs: String) {
        let r = runScenarioText("""
        scenario: bare-int80
        machine: {mode: \(mode)}
        kernel: none
        steps:
          - exec: "int 0x80"
            expect:
              fault: none
              entry: int80
              gate: {vector: 0x80, dpl: 3, from_cpl: 3, to_cpl: 0, stack_switch: true}
          - exec: "nop"
        ---
        scenario: bare-int80-map
        machine: {mode: \(mode)}
        kernel: none
        steps:
          - exec: "int 0x80"
            expect: {entry: \(entry), regs: \(regs), cpl: 0}
        """)
        #expect(r.count == 2)
        for s in r {
            guard case .passed = s.outcome else {
                Issue.record("\(mode): \(String(describing: s.outcome))")
                continue
            }
        }
    }

    /// The entry's stack pointer is the handler's: the one the step leaves the CPU with.
    @Test func entryStackIsTheHandlers() {
        let r = runScenarioText("""
        scenario: bare-int80-sp
        machine: {mode: ia32, tss: {name: tss, esp0: 0xc0009000, ss0: kernel_ds}}
        kernel: none
        steps:
          - exec: "int 0x80"
            expect: {entry: {esp: 0xc0008fec, eip: 0xc0102000}, regs: {esp: 0xc0008fec}}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(String(describing: r.first?.outcome))")
            return
        }
    }

    @Test func refusedInt80EntersNothing() {
        let r = runScenarioText("""
        scenario: bare-int80-dpl0
        machine: {mode: ia32, idt: {0x80: {dpl: 0}}}
        kernel: none
        steps:
          - exec: "int 0x80"
            expect: {fault: {vector: GP, error_code: 0x402}, entry: int80}
        """)
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("expected the entry check to fail: \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.count == 1)
        #expect(fs.first.map { "\($0)".contains("no entry into the kernel") } == true)
    }
}
