// The status word of a wait4 woken by a child's exit is written by the waiter as it runs again
// (kernel/exit.c do_wait -> wait_task_zombie -> put_user, in the waiter's context): a not-present
// status page of a writable VMA takes the kernel's #PF (W, U=0) in the step that dispatches the
// waiter, as it does for a wait4 that reaps at once (was: populated silently, no fault).

@testable import Scenario
import Testing

@Suite struct WokenWaitStatusFaultTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var via: String
        var text: String
        var data: String
        var stack: String
        var rax: String
        var testDescription: String { "\(mode) \(via)" }
    }

    static let cases: [Case] = [
        Case(mode: "x86_64", via: "syscall", text: "0x400000", data: "0x600000", stack: "0x7fffffffd000", rax: "rax"),
        Case(mode: "ia32", via: "int80", text: "0x08048000", data: "0x08049000", stack: "0xbfffe000", rax: "eax"),
        Case(mode: "ia32", via: "sysenter", text: "0x08048000", data: "0x08049000", stack: "0xbfffe000", rax: "eax"),
    ]

    static func scenario(_ c: Case, mentionFault: Bool) -> String {
        """
        scenario: w
        machine: {mode: \(c.mode)}
        kernel: {scheduler: {policy: fifo}}
        processes:
          - name: P
            state: running
            memory:
              - {segment: text, start: \(c.text), pages: 1, perm: "r-x", populate: true}
              - {segment: data, start: \(c.data), pages: 1, perm: "rw-"}
              - {segment: stack, start: \(c.stack), pages: 2, perm: "rw-", populate: true}
        steps:
          - syscall: {via: \(c.via), nr: fork}
          - syscall: {via: \(c.via), nr: wait4, args: [-1, \(c.data), 0, 0]}
            expect: {switch: {to: P-child}, fault: none}
          - exit: 5
            expect: {switch: {to: P}, returns: 2\(mentionFault ? ", fault: {vector: PF, error_code: {p: false, w: true, u: false}, cr2: \(c.data)}" : "")}
          - exec: "mov eax, [\(c.data)]"
            expect: {fault: none, regs: {\(c.rax): 0x500}}
        """
    }

    @Test(arguments: cases)
    func statusPageFaultsInTheDispatchStep(_ c: Case) {
        let ok = runScenarioText(Self.scenario(c, mentionFault: true))
        #expect(ok.first?.outcome.isPassed == true, "\(String(describing: ok.first?.outcome))")
        // Not mentioning the #PF fails the exit step: the fault is raised there.
        let silent = runScenarioText(Self.scenario(c, mentionFault: false))
        #expect(silent.first?.outcome.isPassed == false)
    }
}
