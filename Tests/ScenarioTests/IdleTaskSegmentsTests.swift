// The idle task of the i386 preset runs kernel code with DS = ES = __USER_DS, as i386 Linux does
// (head_32.S: "DS/ES contains default USER segment"; entry_32.S loads it on every entry), so an
// `access` step while the CPU idles reads kernel memory through a flat segment. It used to hold a null
// DS and every data access faulted #GP(0) (SEG-5a). In 64-bit mode DS is not used.

@testable import Scenario
import Testing

@Suite struct IdleTaskSegmentsTests {
    @Test(arguments: [("ia32", "0xc0001000", "ds: 0x7b, es: 0x7b, cs: 0x60"),
                      ("x86_64", "0xffff888000001000", "cs: 0x10")])
    func idleReadsKernelMemory(_ mode: String, _ addr: String, _ regs: String) {
        let r = runScenarioText("""
        scenario: idle-access
        machine: {mode: \(mode)}
        steps:
          - exit: 0
            expect: {current: idle}
          - access: {op: read, addr: \(addr)}
            expect: {fault: none, physical: 0x1000, cpl: 0, regs: {\(regs)}}
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(mode): \(String(describing: r.first?.outcome))")
            return
        }
    }
}

/// `states` and the top-level `processes` may name the idle task (the format lets task names name `idle`):
/// `running` while it is current, `ready` once a woken task has taken the CPU, and 0 ticks ("the idle
/// task's ticks are not counted"). Both checks used to fail with "no task named 'idle'".
@Suite struct IdleTaskSummaryTests {
    @Test func idleStateAndTicks() {
        let r = runScenarioText("""
        scenario: idle-summary
        machine: {mode: x86_64}
        processes:
          - {name: a, state: running}
          - {name: s, state: sleeping}
        steps:
          - exit: 0
            expect: {current: idle, states: {idle: running, a: zombie}}
          - timer: 3
            expect: {states: {idle: running}}
          - irq: {vector: 0x21, wakes: s}
            expect: {current: s, states: {idle: ready, s: running}}
        expect:
          processes: {idle: {state: ready, ticks: 0}, s: {state: running}}
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(String(describing: r.first?.outcome))")
            return
        }
    }

    @Test func idleStateIsChecked() {
        let r = runScenarioText("""
        scenario: idle-summary-wrong
        machine: {mode: x86_64}
        steps:
          - timer: 1
            expect: {states: {idle: running}}
        """)
        guard case .failed? = r.first?.outcome else {
            Issue.record("expected a failure: \(String(describing: r.first?.outcome))")
            return
        }
    }
}
