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

    /// On AMD, IA32_SYSENTER_ESP and IA32_SYSENTER_EIP are 32-bit MSRs (Linux syscall_init: "On AMD CPUs these
    /// MSRs are 32-bit, CPU truncates MSR_IA32_SYSENTER_EIP"; KVM svm_set_msr keeps `(u32)data`): WRMSR drops
    /// EDX, so a value that is not canonical as 64 bits raises no #GP(0), and RDMSR returns EDX = 0. Intel keeps
    /// 64 bits and refuses the non-canonical value. (Was: AMD as Intel, #GP(0) and EDX kept.)
    @Test(arguments: [0x175, 0x176], ["ia32", "x86_64"])
    func amdSysenterStackAndEntryKeepThirtyTwoBits(_ msr: Int, _ mode: String) {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: \(mode), vendor: amd}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov ecx, 0x\(String(msr, radix: 16))"
          - exec: "mov edx, 0x8000"
          - exec: "mov eax, 0xc0001000"
          - exec: "wrmsr"
            expect: {fault: none}
          - exec: "mov edx, 0x5"
          - exec: "rdmsr"
            expect: {fault: none, regs: {edx: 0, eax: 0xc0001000}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
        let intel = runScenarioText("""
        scenario: c
        machine: {mode: \(mode)}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov ecx, 0x\(String(msr, radix: 16))"
          - exec: "mov edx, 0x8000"
          - exec: "mov eax, 0xc0001000"
          - exec: "wrmsr"
            expect: {fault: {vector: GP, error_code: 0}}
        """)
        #expect(intel.first?.outcome.isPassed == true, "\(String(describing: intel.first?.outcome))")
    }

    /// The same width holds for values the scenario sets (machine.msrs, set.msrs) and for the preset's
    /// IA32_SYSENTER_EIP (entry_SYSENTER_compat, 0xffffffff81002400: AMD keeps 0x81002400).
    @Test(arguments: ["machine", "set", "preset"])
    func amdSysenterMSRsSetByTheScenarioKeepThirtyTwoBits(_ how: String) {
        let msrs = how == "preset" ? "" : "{IA32_SYSENTER_EIP: 0xffffffff81002400}"
        let r = runScenarioText("""
        scenario: c
        machine: {mode: x86_64, vendor: amd\(how == "machine" ? ", msrs: \(msrs)" : "")}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - set: {msrs: \(how == "set" ? msrs : "{}")}
          - exec: "mov ecx, 0x176"
          - exec: "rdmsr"
            expect: {fault: none, regs: {rdx: 0, rax: 0x81002400}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// AMD's EFER.LMSLE (bit 13) turns on data-segment limit checks in 64-bit mode on the processors that have
    /// it: WRMSR setting it is refused as not modelled (was: accepted with no effect); SVME (bit 12) is accepted.
    @Test(arguments: [(0x2d01, false), (0x1d01, true)])
    func amdEFERLMSLEIsRefused(_ value: Int, _ accepted: Bool) {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: x86_64, vendor: amd}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov ecx, 0xc0000080"
          - exec: "mov edx, 0"
          - exec: "mov eax, 0x\(String(value, radix: 16))"
          - exec: "wrmsr"
            expect: {fault: none}
        """)
        if accepted {
            #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
        } else if case let .failed(fs)? = r.first?.outcome {
            #expect(fs.contains { $0.actual.contains("not modelled") && $0.actual.contains("LMSLE") }, "\(fs)")
        } else {
            Issue.record("expected a refusal, got \(String(describing: r.first?.outcome))")
        }
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
