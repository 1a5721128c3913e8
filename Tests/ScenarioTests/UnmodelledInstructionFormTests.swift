// Instruction forms and MSRs that a real processor accepts but the model does not implement are
// refused ("not modelled"), never answered with an invented exception: REX.W forms outside 64-bit
// mode (SYSRETQ, SYSEXITQ, as IRETQ and RETFQ), and architectural MSRs the model does not keep.
// Found by the differential oracle Fuzz/diff/fast_oracle.py.

@testable import Scenario
import Testing

@Suite struct UnmodelledInstructionFormTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Was: AMD ran SYSRETQ in compatibility mode as a 64-bit return (0x48 is DEC EAX there).
        Case(name: "SYSRETQ in compatibility mode (AMD)", yaml: """
        scenario: c
        machine: {mode: x86_64, vendor: amd}
        kernel: none
        processes: [{name: k, state: running, bits: 32, context: {cs: kernel32_cs, ss: kernel_ds, eip: 0x08048000, esp: 0xffffdff0}}]
        steps:
          - exec: "sysretq"
            expect: {fault: none}
        """),
        // Was: #UD after the CPL and SYSENTER_CS checks.
        Case(name: "SYSEXITQ in legacy mode", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "sysexitq"
            expect: {fault: UD}
        """),
        // Single-stepping (EFLAGS.TF = 1) raises #DB after each instruction: not modelled (was: no #DB).
        Case(name: "an instruction with EFLAGS.TF = 1", yaml: """
        scenario: c
        machine: {mode: ia32, rflags: {tf: true}}
        kernel: none
        steps:
          - exec: "nop"
            expect: {fault: none}
        """),
        Case(name: "SYSRET restoring TF = 1 from R11", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - set: {regs: {rcx: 0x400000, r11: 0x302}}
          - exec: "sysret"
            expect: {fault: none}
        """),
        // A task switch into a TSS with EFLAGS.VM = 1 would enter virtual-8086 mode (was: ran on as
        // protected-mode code with VM set).
        Case(name: "a task switch to a virtual-8086 task", yaml: """
        scenario: c
        machine:
          mode: ia32
          gdt:
            20: {name: v86, type: tss32, dpl: 3, eflags: 0x20202, eip: 0x1000, esp: 0x2000,
                 cs: user_cs:3, ss: user_ds:3, ds: user_ds:3, es: user_ds:3}
        kernel: none
        steps:
          - exec: "jmp far v86:0"
            expect: {fault: none}
        """),
        // Was: #GP(0), as for an unimplemented MSR number.
        Case(name: "RDMSR of IA32_FS_BASE", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov ecx, 0xc0000100"
          - exec: "rdmsr"
            expect: {fault: GP}
        """),
        Case(name: "WRMSR to IA32_PAT", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov ecx, 0x277"
          - exec: "wrmsr"
            expect: {fault: GP}
        """),
        Case(name: "RDMSR of IA32_TIME_STAMP_COUNTER", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov ecx, 0x10"
          - exec: "rdmsr"
            expect: {fault: GP}
        """),
    ]

    /// EFLAGS.VM = 1 in a task's numeric context would start it in virtual-8086 mode: an error at
    /// the value (was: accepted, and the task ran as protected-mode code with VM set).
    @Test func virtual8086ContextIsAnError() {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: u, state: running, context: {eflags: 0x20202}}]
        steps:
          - exec: "nop"
            expect: {fault: none}
        """)
        let text = String(describing: r.first?.outcome)
        #expect(r.first?.outcome.isPassed == false)
        #expect(text.contains("virtual-8086"), "\(text)")
    }

    @Test(arguments: cases)
    func refused(_ c: Case) {
        let r = runScenarioText(c.yaml)
        #expect(r.count == 1)
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("expected a refusal, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { $0.actual.contains("not modelled") }, "\(fs)")
    }

    /// ISA-1: R8-R15 and 64-bit operands (REX, REX.W) exist only in 64-bit mode. In compatibility and legacy
    /// mode no encoding names them (40h-4Fh are INC/DEC), so a step naming them is refused. Was: run anyway,
    /// e.g. `mov rax, [ADDR]` in compatibility mode read 8 bytes and `mov r8d, 5` wrote R8.
    @Test(arguments: [
        ("x86_64", 32, "mov rax, 5"), ("x86_64", 32, "mov r8d, 5"), ("x86_64", 32, "mov r15, 1"),
        ("x86_64", 32, "mov rax, [0x8048000]"), ("x86_64", 32, "mov [0xffffdff0], rbx"),
        ("x86_64", 32, "mov rax, ds"), ("x86_64", 32, "mov ds, r9"),
        ("ia32", 32, "mov rax, 5"), ("ia32", 32, "mov r8d, 5"), ("ia32", 32, "mov rcx, [0x8048000]"),
        ("x86_64", 32, "mov eax, [0x100000000]"), ("ia32", 32, "mov [0x100000000], eax"),
    ])
    func registerOnlyIn64BitMode(_ mode: String, _ bits: Int, _ text: String) {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: \(mode)}
        kernel: none
        processes: [{name: u, state: running, bits: \(bits)}]
        steps:
          - exec: "\(text)"
            expect: {fault: none}
        """)
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("expected a refusal, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { $0.actual.contains("only in 64-bit mode") && $0.actual.contains("ISA-1") }, "\(fs)")
    }

    /// The same instructions in 64-bit mode run (and 32-bit names outside it).
    @Test(arguments: [
        ("x86_64", 64, "mov rax, 5"), ("x86_64", 64, "mov r8d, 5"), ("x86_64", 64, "mov rax, [0x400000]"),
        ("x86_64", 64, "mov rax, ds"), ("x86_64", 32, "mov eax, [0x8048000]"), ("ia32", 32, "mov ecx, 5"),
    ])
    func encodableRegistersRun(_ mode: String, _ bits: Int, _ text: String) {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: \(mode)}
        kernel: none
        processes: [{name: u, state: running, bits: \(bits)}]
        steps:
          - exec: "\(text)"
            expect: {fault: none}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// ISA-1 for `access` steps: outside 64-bit mode no offset lies above 4 GiB (was: #GP(0) from the limit
    /// check). A `cpl: 0` access of a compatibility-mode task runs in the 64-bit kernel, where it may.
    @Test(arguments: [
        ("ia32", 32, "{op: read, addr: 0x100000000}", false), ("x86_64", 32, "{op: write, addr: 0x100000000}", false),
        ("ia32", 32, "{op: read, addr: 0x100000000, implicit: true}", false),
        ("x86_64", 32, "{op: read, addr: 0xffff888000001000, cpl: 0}", true), ("x86_64", 64, "{op: read, addr: 0x100000000}", true),
    ])
    func accessAbove4GiB(_ mode: String, _ bits: Int, _ access: String, _ runs: Bool) {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: \(mode)}
        processes: [{name: u, state: running, bits: \(bits)}]
        steps:
          - access: \(access)
            expect: {faults: [PF]}
        """)
        guard case let .failed(fs)? = r.first?.outcome else {
            #expect(runs, "expected a refusal, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { $0.actual.contains("ISA-1") } == !runs, "\(fs)")
    }
}
