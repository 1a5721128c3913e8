// Linux's handlers that return without a signal. exc_spurious_interrupt_bug (vector 15) does nothing;
// math_error (#MF 16, #XM 19) signals only a pending unmasked FPU exception, and a task that never ran an
// FPU instruction has none (fpu__exception_code returns 0: "Retry when we get spurious exceptions",
// arch/x86/kernel/traps.c). Was: the kernel model killed the task with SIGFPE for `int 16` / `int 19` and
// refused `int 15` (and `int 9`, whose handler sends SIGFPE: DO_ERROR(X86_TRAP_OLD_MF, SIGFPE, ...)).

@testable import Scenario
import Testing

@Suite struct SpuriousExceptionVectorTests {
    static func scenario(mode: String, vector: Int, expect: String) -> String {
        """
        scenario: c
        machine:
          mode: \(mode)
          idt:
            \(vector): {dpl: 3}
        processes:
          - {name: app, state: running}
        steps:
          - exec: "int \(vector)"
            expect: \(expect)
        expect:
          processes: {app: {state: running}}
        """
    }

    /// The task survives and runs on after the INT (EIP = the INT's address + 2).
    @Test(arguments: ["ia32", "x86_64"], [15, 16, 19])
    func handlerReturnsWithoutSignal(mode: String, vector: Int) {
        let next = mode == "ia32" ? "{eip: 0x08048002}" : "{rip: 0x400002}"
        let r = runScenarioText(Self.scenario(
            mode: mode, vector: vector, expect: "{fault: none, gate: {vector: \(vector)}, signal: none, cpl: 3, current: app, regs: \(next)}"))
        #expect(r.first?.outcome.isPassed == true, "int \(vector) in \(mode): \(String(describing: r.first?.outcome))")
    }

    @Test(arguments: ["ia32", "x86_64"])
    func coprocessorSegmentOverrunIsSIGFPE(mode: String) {
        let text = Self.scenario(mode: mode, vector: 9, expect: "{fault: none, signal: SIGFPE}")
            .replacingOccurrences(of: "{app: {state: running}}", with: "{app: {state: zombie, signal: SIGFPE}}")
        let r = runScenarioText(text)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
