// Linux's handlers that return without a signal. exc_spurious_interrupt_bug (vector 15) does nothing;
// math_error (#MF 16, #XM 19) signals only a pending unmasked FPU exception, and a task that never ran an
// FPU instruction has none (fpu__exception_code returns 0: "Retry when we get spurious exceptions",
// arch/x86/kernel/traps.c). Was: the kernel model killed the task with SIGFPE for `int 16` / `int 19` and
// refused `int 15` (and `int 9`, whose handler sends SIGFPE: DO_ERROR(X86_TRAP_OLD_MF, SIGFPE, ...)).
// exc_device_not_available (#NM, 7) clears a set CR0.TS and returns, or dies ("unexpected #NM exception",
// SIGSEGV) when TS is clear; the model refused `int 7`.

@testable import Scenario
import Testing

@Suite struct SpuriousExceptionVectorTests {
    /// IntNOnErrorCodeVectorTests' one-step scenario, with the check that the task is still running at the end.
    static func scenario(mode: String, vector: Int, expect: String) -> String {
        IntNOnErrorCodeVectorTests.scenario(mode: mode, vector: vector, expect: expect)
            + "\nexpect:\n  processes: {app: {state: running}}\n"
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

    @Test(arguments: ["ia32", "x86_64"])
    func deviceNotAvailableWithTSClearDies(mode: String) {
        let text = Self.scenario(mode: mode, vector: 7, expect: "{fault: none, signal: SIGSEGV}")
            .replacingOccurrences(of: "{app: {state: running}}", with: "{app: {state: zombie, signal: SIGSEGV}}")
        let r = runScenarioText(text)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// A hardware task switch (a far CALL to another TSS, and IRET back) leaves CR0.TS set: #NM then clears it
    /// and returns to the task, which runs on.
    @Test func deviceNotAvailableWithTSSetClearsItAndReturns() {
        let text = """
        scenario: c
        machine:
          mode: ia32
          idt:
            7: {dpl: 3}
          gdt:
            20: {name: t2, type: tss32, dpl: 3, eip: 0x08048100, esp: 0xbfffff00, eflags: 0x202,
                 cs: user_cs:3, ss: user_ds:3, ds: user_ds:3, es: user_ds:3}
        processes:
          - {name: app, state: running}
        steps:
          - exec: "call far t2:3:0"
            expect: {fault: none, regs: {tr: t2:3}}
          - exec: "iret"
            expect: {fault: none, regs: {cr0: 0x80010019}}
          - exec: "int 7"
            expect: {fault: none, signal: none, cpl: 3, current: app, regs: {cr0: 0x80010011}}
        expect:
          processes: {app: {state: running}}
        """
        let r = runScenarioText(text)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
