// MOV to CR0/CR3/CR4 at CPL 0: the values that fault (PRIV-3), the mode changes the model refuses,
// and the PDPTE load of PAE paging (PG-2).

import Machine
@testable import Scenario
import Testing

@Suite struct ControlRegisterTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var passes: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "clearing CR4.PAE in IA-32e mode is #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0"
          - exec: "mov cr4, rax"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: true),
        Case(name: "clearing CR0.PG in 64-bit mode is #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0x80010001"
          - exec: "mov cr0, rax"
            expect: {fault: none}
          - exec: "mov rax, 0x10001"
          - exec: "mov cr0, rax"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: true),
        // SDM Vol. 2B MOV to CR0/CR4 (Bochs check_CR0): reserved bits 63:32 and the invalid CR0
        // combinations PG without PE, NW without CD are #GP(0) (not a refused mode change).
        Case(name: "setting CR0 bit 32 in IA-32e mode is #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0x180010001"
          - exec: "mov cr0, rax"
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr0: 0x80010011}}
        """, passes: true),
        Case(name: "CR0.NW without CD is #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0xa0010001"
          - exec: "mov cr0, rax"
            expect: {fault: {vector: GP, error_code: 0}}
          - exec: "mov rax, 0xe0010001"
          - exec: "mov cr0, rax"
            expect: {fault: none, regs: {cr0: 0xe0010011}}
        """, passes: true),
        Case(name: "CR0.PG without PE is #GP(0), not a refused mode change", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov eax, 0x80010000"
          - exec: "mov cr0, eax"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: true),
        Case(name: "setting CR4 bit 32 in IA-32e mode is #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0x100000020"
          - exec: "mov cr4, rax"
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr4: 0x20}}
        """, passes: true),
        Case(name: "CR4.PGE and SMEP can be set at CPL 0", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0x1000a0"
          - exec: "mov cr4, rax"
            expect: {fault: none, regs: {cr4: 0x1000a0}}
        """, passes: true),
        Case(name: "switching to PAE through CR4 is refused as not modelled", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov eax, 0x30"
          - exec: "mov cr4, eax"
            expect: {fault: GP}
        """, passes: false),
        // SDM Vol. 3A §2.5 (Figure 2-7): CR4 bit 15 and bits 31:29 are reserved: #GP(0) (was accepted).
        Case(name: "CR4 bit 15 is reserved: #GP(0)", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov eax, 0x8010"
          - exec: "mov cr4, eax"
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr4: 0x10}}
        """, passes: true),
        Case(name: "CR4 bit 31 is reserved: #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0x80000020"
          - exec: "mov cr4, rax"
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr4: 0x20}}
        """, passes: true),
        // CR4 features the model does not implement but that would change what it runs: refused.
        Case(name: "setting CR4.PKS is refused as not modelled", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0x1000020"
          - exec: "mov cr4, rax"
            expect: {fault: none}
        """, passes: false),
        Case(name: "a CR4 write that faults is #GP(0) even when it also sets PVI", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0xd02"
          - exec: "mov cr4, rax"
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr4: 0x20}}
        """, passes: true),
        Case(name: "setting CR4.PVI is refused as not modelled", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov eax, 0x12"
          - exec: "mov cr4, eax"
            expect: {fault: none}
        """, passes: false),
        Case(name: "setting CR4.CET with CR0.WP = 0 is #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 0x80000001"
          - exec: "mov cr0, rax"
          - exec: "mov rax, 0x800020"
          - exec: "mov cr4, rax"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: true),
        // SDM Vol. 2B MOV to CR0, Bochs SetCR0: clearing PG with CR4.PCIDE = 1 is #GP(0) (was: refused as
        // a mode change, leaving IA-32e mode from compatibility mode).
        Case(name: "clearing CR0.PG in compatibility mode with CR4.PCIDE = 1 is #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, bits: 32, context: {cs: kernel32_cs, ss: kernel_ds, eip: 0x08048000, esp: 0xffffdff0}}]
        steps:
          - exec: "mov eax, 0x20020"
          - exec: "mov cr4, eax"
            expect: {fault: none, regs: {cr4: 0x20020}}
          - exec: "mov eax, 0x10011"
          - exec: "mov cr0, eax"
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr0: 0x80010011}}
        """, passes: true),
        // SDM Vol. 2B MOV CRn: a control register that does not exist is #UD, decoded before the CPL
        // check (Bochs decoder); CR8 (TPR) exists in 64-bit mode only (was: #GP at CPL 3, #UD for CR8).
        Case(name: "MOV to CR5 at CPL 3 is #UD, not #GP", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        steps:
          - exec: "mov cr5, eax"
            expect: {fault: UD}
        """, passes: true),
        Case(name: "CR8 in 64-bit mode reads 0 and takes 0; bits 63:4 are #GP(0)", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 5"
          - exec: "mov rax, cr8"
            expect: {fault: none, regs: {rax: 0}}
          - exec: "mov cr8, rax"
            expect: {fault: none}
          - exec: "mov rax, 0x10"
          - exec: "mov cr8, rax"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: true),
        Case(name: "CR8 outside 64-bit mode is #UD", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov eax, cr8"
            expect: {fault: UD}
        """, passes: true),
        Case(name: "a non-zero CR8 task priority is refused as not modelled", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov rax, 2"
          - exec: "mov cr8, rax"
            expect: {fault: none}
        """, passes: false),
        // Outside 64-bit mode MOV CRn has a 32-bit operand (was: the whole 64-bit register, so bits
        // 63:32 left in RAX made a compatibility-mode MOV to CR0 fault as a reserved-bit write).
        Case(name: "compatibility-mode MOV to CR0 ignores RAX bits 63:32", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: k, state: running, bits: 32, context: {cs: kernel32_cs, ss: kernel_ds, eip: 0x08048000, esp: 0xffffdff0}}]
        steps:
          - set: {regs: {rax: 0x180010001}}
          - exec: "mov cr0, eax"
            expect: {fault: none, regs: {cr0: 0x80010011}}
        """, passes: true),
        // I/O at CPL > IOPL (PRIV-1, SDM Vol. 1 §19.5.2): the preset's TSS has no bitmap within its
        // limit, so no port is granted; a TSS with a bitmap inside its limit is refused for the bare
        // `in`/`out`, which name no port to look up (the operand forms check the map, PRIV-4).
        Case(name: "IN at CPL 3 with IOPL 0 and no I/O bitmap in the TSS is #GP(0)", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        steps:
          - exec: "in"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: true),
        Case(name: "OUT at CPL 3 with IOPL 3 needs no bitmap", yaml: """
        scenario: c
        machine: {mode: ia32, rflags: {iopl: 3}}
        kernel: none
        steps:
          - exec: "out"
            expect: {fault: none}
        """, passes: true),
        Case(name: "IN at CPL 3 with an I/O bitmap inside the TSS is refused as not modelled", yaml: """
        scenario: c
        machine:
          mode: ia32
          gdt:
            20: {name: iotss, type: tss32, limit: 0x2068, iomap: 0x68}
          tss: {name: iotss}
        kernel: none
        steps:
          - exec: "in"
            expect: {fault: GP}
        """, passes: false),
    ]

    /// CR4 bits 28:26 are reserved on the model's processor: bit 26 defines nothing, LASS (27) and LAM_SUP (28)
    /// belong to features it lacks (as CR3's LAM bits 62:61 are reserved there). MOV to CR4 with one set is #GP(0)
    /// in both modes and CR4 keeps its value (was: accepted and stored, claiming LASS/LAM without their rules).
    @Test(arguments: [26, 27, 28], ["ia32", "x86_64"])
    func cr4Bits28To26AreReserved(_ bit: Int, _ mode: String) {
        let long = mode == "x86_64"
        let cr4: UInt64 = long ? 0x20 : 0x10
        let r = runScenarioText("""
        scenario: c
        machine: {mode: \(mode)}
        kernel: none
        processes: [{name: k, state: running, context: {cs: kernel_cs, ss: kernel_ds}}]
        steps:
          - exec: "mov \(long ? "rax" : "eax"), 0x\(String(cr4 | (1 << UInt64(bit)), radix: 16))"
          - exec: "mov cr4, \(long ? "rax" : "eax")"
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr4: 0x\(String(cr4, radix: 16))}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// `set: {efer: {nxe: false}}` and `set: {msrs: {IA32_EFER: ...}}` are one edit (docs/format.md): both drop
    /// the translation cached while NXE was 1, so the next walk meets the stack PTE's XD bit as reserved.
    /// The MSR spelling used to keep the TLB, and the read went through the stale entry without a fault.
    @Test(arguments: ["efer: {nxe: false}", "msrs: {IA32_EFER: 0x501}", "msrs: {0xc0000080: 0x501}"])
    func bothEFERSpellingsDropTheCachedTranslation(_ edit: String) {
        let r = runScenarioText("""
        scenario: e
        machine: {mode: x86_64}
        steps:
          - access: {op: read, addr: 0x7fffffffe000, size: 4}
            expect: {fault: none}
          - set: {\(edit)}
          - access: {op: read, addr: 0x7fffffffe000, size: 4}
            expect: {fault: {vector: PF, error_code: {p: 1, u: 1, rsvd: 1}}, faults: [PF, PF, DF, PF], shutdown: true}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    @Test(arguments: cases)
    func controlRegisterWrites(_ c: Case) {
        let r = runScenarioText(c.yaml)
        #expect(r.count == 1)
        #expect(r.first?.outcome.isPassed == c.passes, "\(String(describing: r.first?.outcome))")
        if !c.passes, case let .failed(fs)? = r.first?.outcome {
            #expect(fs.contains { $0.actual.contains("not modelled") }, "\(fs)")
        }
    }
}
