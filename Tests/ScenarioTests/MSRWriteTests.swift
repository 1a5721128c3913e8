// RDMSR/WRMSR of the MSRs the model keeps: what a write stores and which numbers fault (PRIV-2,
// SDM Vol. 2B RDMSR/WRMSR). Found by the differential oracle Fuzz/diff/fast_oracle.py.

@testable import Scenario
import Testing

@Suite struct MSRWriteTests {
    /// IA32_SYSENTER_CS is a 32-bit MSR: WRMSR ignores EDX, RDMSR returns EDX = 0 (Bochs, KVM).
    /// (Was: all 64 bits kept.)
    @Test func sysenterCSKeepsThirtyTwoBits() {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov ecx, 0x174"
          - exec: "mov edx, 0x1"
          - exec: "mov eax, 0x60"
          - exec: "wrmsr"
            expect: {fault: none}
          - exec: "mov edx, 0x5"
          - exec: "rdmsr"
            expect: {fault: none, regs: {rdx: 0, rax: 0x60}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// An MSR number no processor implements is still #GP(0) (PRIV-2).
    @Test func unimplementedMSRIsGP() {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov ecx, 0x12345678"
          - exec: "rdmsr"
            expect: {fault: {vector: GP, error_code: 0}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
