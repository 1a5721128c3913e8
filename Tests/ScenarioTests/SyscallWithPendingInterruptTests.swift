// A system call step while an external interrupt is held pending (IF = 0, or the STI / MOV SS shadow) is
// refused as not modelled: Linux enables interrupts on every system-call entry (kernel/entry/common.c
// syscall_enter_from_user_mode -> local_irq_enable), so the request would be taken inside the call, which
// the model used to skip (the held tick was never charged, the woken task stayed asleep).
@testable import Scenario
import Testing

@Suite struct SyscallWithPendingInterruptTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var step: String
        var held: String
        var testDescription: String { "\(mode) \(step) after \(held)" }
    }

    static let cases: [Case] = [
        Case(mode: "ia32", step: "syscall: {via: int80, nr: getpid}", held: "irq: {vector: 0x21, wakes: B}"),
        Case(mode: "ia32", step: "syscall: {via: sysenter, nr: getpid}", held: "timer: 2"),
        Case(mode: "x86_64", step: "syscall: {via: syscall, nr: getpid}", held: "timer: 1"),
        Case(mode: "x86_64", step: "syscall: {via: int80, nr: getpid}", held: "irq: 0x22"),
        Case(mode: "x86_64", step: "wait: {pid: -1}", held: "irq: {vector: 0x21, wakes: B}"),
        Case(mode: "ia32", step: "exit: 0", held: "timer: 1"),
        // The entry instructions themselves, which the kernel model serves as whole system calls.
        Case(mode: "x86_64", step: "exec: syscall", held: "irq: {vector: 0x21, wakes: B}"),
        Case(mode: "x86_64", step: "exec: \"int 0x80\"", held: "timer: 1"),
        Case(mode: "ia32", step: "exec: \"int 0x80\"", held: "irq: {vector: 0x21, wakes: B}"),
        Case(mode: "ia32", step: "exec: sysenter", held: "timer: 1"),
    ]

    func yaml(_ c: Case, sti: Bool) -> String {
        """
        scenario: p
        machine: {mode: \(c.mode)}
        processes:
          - {name: A, state: running, context: {rflags: {iopl: 3}}}
          - {name: B, state: sleeping}
        steps:
          - exec: cli
          - \(c.held)
            expect: {gate: none}
        \(sti ? "  - exec: sti\n" : "")  - \(c.step)
            expect: {states: {B: sleeping}}

        """
    }

    @Test(arguments: cases, [false, true])
    func isRefused(_ c: Case, afterSTI: Bool) {
        let outcome = runText(yaml(c, sti: afterSTI))
        guard case let .failed(fs) = outcome else {
            Issue.record("expected a refused step, got \(outcome)")
            return
        }
        let why = afterSTI ? "in the interrupt shadow after STI or MOV SS" : "with IF = 0"
        #expect(fs.contains { $0.actual.contains("not modelled: a system call while interrupt") && $0.actual.contains(why) }, "\(fs)")
    }

    @Test(arguments: cases)
    func runsOnceTheRequestIsTaken(_ c: Case) {
        let text = yaml(c, sti: true).replacingOccurrences(of: "  - \(c.step)", with: "  - exec: nop\n  - \(c.step)")
            .replacingOccurrences(of: "expect: {states: {B: sleeping}}\n", with: "\n")
        let outcome = runText(text)
        guard case .failed = outcome else { return }
        Issue.record("expected the step to run, got \(outcome)")
    }
}
