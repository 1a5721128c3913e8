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
            expect: {fault: {vector: GP, error_code: 0}, regs: {cr0: 0x80010001}}
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
            expect: {fault: none, regs: {cr0: 0xe0010001}}
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
        // I/O at CPL > IOPL (PRIV-1, SDM Vol. 1 §19.5.2): the preset's TSS has no bitmap within its
        // limit, so no port is granted; a TSS with a bitmap inside its limit is refused (`in`/`out`
        // name no port to look up).
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
