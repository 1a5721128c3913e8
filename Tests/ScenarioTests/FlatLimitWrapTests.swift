// SDM Vol. 3A §5.3: "When the effective limit is FFFFFFFFH (4 GBytes), these accesses may or may not cause
// the indicated exceptions. Behavior is implementation-specific": an access that starts inside a 4 GiB
// expand-up segment and runs past offset 0xFFFFFFFF is refused as not modelled (it was answered #GP(0) /
// #SS(0)); the same access against a smaller limit, and an expand-down segment, keep their faults.

import Machine
@testable import Scenario
import Testing

@Suite struct FlatLimitWrapTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var passes: Bool
        /// The words the refusal of a failing case must contain.
        var refusal = "implementation specific"
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a dword load at DS:0xfffffffe of a flat segment is refused", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        steps:
          - exec: "mov eax, [0xfffffffe]"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: false),
        Case(name: "an access step crossing offset 0xffffffff of a flat DS is refused", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        steps:
          - access: {op: write, addr: 0xfffffffc, size: 8}
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: false),
        Case(name: "a far CALL whose push crosses offset 0xffffffff of a flat SS is refused", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        processes: [{name: main, context: {esp: 2}}]
        steps:
          - exec: "call far user_cs:3:0x1000"
            expect: {fault: {vector: SS, error_code: 0}}
        """, passes: false),
        Case(name: "a dword load ending at offset 0xffffffff is fine", yaml: """
        scenario: c
        machine:
          mode: ia32
          pages: [{virt: 0xfffff000, user: true}]
        kernel: none
        steps:
          - exec: "mov eax, [0xfffffffc]"
            expect: {fault: none}
        """, passes: true),
        Case(name: "a dword load past a byte limit is #GP(0)", yaml: """
        scenario: c
        machine:
          mode: ia32
          gdt: {20: {name: small, type: data, dpl: 3, limit: 0xffff}}
        kernel: none
        steps:
          - exec: "mov ds, small:3"
          - exec: "mov eax, [0xfffe]"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: true),
        Case(name: "a dword load past the top of a 32-bit expand-down segment is #GP(0)", yaml: """
        scenario: c
        machine:
          mode: ia32
          gdt: {20: {name: ed, type: data, dpl: 3, limit: 0xfff, expand_down: true}}
        kernel: none
        steps:
          - exec: "mov ds, ed:3"
          - exec: "mov eax, [0xfffffffe]"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: true),
        // Outside 64-bit mode an offset has 32 bits: a wider one is no access the CPU can make (was #GP(0)); ISA-1.
        Case(name: "an ia32 load at an offset wider than 32 bits is refused", yaml: """
        scenario: c
        machine: {mode: ia32}
        kernel: none
        steps:
          - exec: "mov eax, [0x100000000]"
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: false, refusal: "ISA-1"),
        Case(name: "a compatibility-mode access at an offset wider than 32 bits is refused", yaml: """
        scenario: c
        machine: {mode: x86_64}
        kernel: none
        processes: [{name: c, bits: 32}]
        steps:
          - access: {op: read, addr: 0x100000000, size: 4}
            expect: {fault: {vector: GP, error_code: 0}}
        """, passes: false, refusal: "ISA-1"),
    ]

    @Test(arguments: cases)
    func flatLimitWrap(_ c: Case) {
        let r = runScenarioText(c.yaml)
        #expect(r.count == 1)
        #expect(r.first?.outcome.isPassed == c.passes, "\(String(describing: r.first?.outcome))")
        if !c.passes, case let .failed(fs)? = r.first?.outcome {
            #expect(fs.contains { $0.actual.contains(c.refusal) }, "\(fs)")
        }
    }
}
