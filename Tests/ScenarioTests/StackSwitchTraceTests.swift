// The trace's `stack switch` (INT-7, INT-10, FAR-9, FAR-11) tells a switch that happened: it is recorded once
// the whole frame is on the new stack. A delivery or a call-gate CALL whose pushes page-fault on the stack
// read from the TSS records none; the delivery that finally succeeds records its own.

import Machine
@testable import Scenario
import Testing

struct SwitchTraceCase: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    /// The `source` of every stack switch recorded, in order.
    var switches: [String]
    var testDescription: String { name }
}

private let switchTraceCases: [SwitchTraceCase] = [
    SwitchTraceCase(name: "ia32 INT 0x80 with TSS.ESP0 unmapped: every delivery faults on its first push, none switched", yaml: """
        scenario: t
        machine: {mode: ia32, tss: {name: tss, ss0: kernel_ds, esp0: 0xf0000000}}
        kernel: none
        steps:
          - exec: "int 0x80"
        """, switches: []),
    SwitchTraceCase(name: "ia32 call gate with TSS.ESP0 unmapped: the CALL and the deliveries after it switched no stack", yaml: """
        scenario: t
        machine:
          mode: ia32
          tss: {name: tss, ss0: kernel_ds, esp0: 0xf0000000}
          gdt: {20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xc0100000}}
        kernel: none
        steps:
          - exec: "call far kgate:3:0"
        """, switches: []),
    SwitchTraceCase(name: "x86_64 INT 0x80 with TSS.RSP0 unmapped: only the #DF, on IST1, switched", yaml: """
        scenario: t
        machine: {mode: x86_64, tss: {name: tss, rsp0: 0xffff8880c0000000, ist1: 0xffff888003000000}}
        kernel: none
        steps:
          - exec: "int 0x80"
        """, switches: ["TSS.IST1"]),
    SwitchTraceCase(name: "x86_64 call gate with TSS.RSP0 unmapped: only the #DF, on IST1, switched", yaml: """
        scenario: t
        machine:
          mode: x86_64
          tss: {name: tss, rsp0: 0xffff8880c0000000, ist1: 0xffff888003000000}
          gdt: {20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xffffffff81000000}}
        kernel: none
        steps:
          - exec: "call far kgate:3:0"
        """, switches: ["TSS.IST1"]),
]

@Test("INT-7/INT-10/FAR-9/FAR-11: `stack switch` is traced only for a switch that completed", arguments: switchTraceCases)
func stackSwitchTracedOnlyWhenCompleted(_ c: SwitchTraceCase) {
    let loaded = decodeText(c.yaml)
    guard case let .spec(spec, warnings)? = loaded.first else {
        Issue.record("the scenario does not load: \(loaded)")
        return
    }
    var limits = RunLimits()
    limits.keepTrace = true
    let record = Runner.run(spec, file: "t.yaml", warnings: warnings, limits: limits)
    let sources = record.trace.compactMap { e -> String? in
        if case let .stackSwitch(_, _, source) = e { return source } else { return nil }
    }
    #expect(sources == c.switches, "\(record.trace.filter { if case .fault = $0 { return true } else { return false } })")
}
