// Task gates in scenarios (TASK-1): `expect.gate: {type: task}` for IDT and GDT task gates, an IDT task
// gate written with `offset` or `ist` (fields it does not have), and `explain` citing DF-4 for a triple fault.

import Foundation
import Machine
@testable import Scenario
import Testing

@Suite struct TaskGateScenarioTests {
    // MARK: machine.idt: a task gate has no offset and no IST

    struct FieldCase: Sendable, CustomTestStringConvertible {
        var mode: String
        var key: String
        var value: String
        var testDescription: String { "\(mode) task gate with \(key)" }
    }

    static let fieldCases: [FieldCase] = ["ia32", "x86_64"].flatMap { mode in
        [FieldCase(mode: mode, key: "offset", value: "0xc0100000"), FieldCase(mode: mode, key: "ist", value: "1")]
    }

    @Test("an IDT task gate written with offset or ist is an error at that key's line", arguments: fieldCases)
    func taskGateFieldRefused(_ c: FieldCase) {
        let yaml = """
        scenario: a
        machine:
          mode: \(c.mode)
          idt:
            0x81:
              type: task
              dpl: 3
              \(c.key): \(c.value)
        kernel: none
        """
        let ds = diagnostics(yaml)
        guard let d = ds.first(where: { $0.message.hasPrefix("idt[0x81].\(c.key): a task gate has no ") }) else {
            Issue.record("no task-gate diagnostic for \(c.key) in:\n\(ds.map(\.description).joined(separator: "\n"))")
            return
        }
        #expect(d.location?.line == 8, "\(d)")
        #expect(d.location?.column == 7 + c.key.count + 2, "\(d)")
        #expect(ds.count == 1, "only the task-gate error (not also the ia32 'no IST' one): \(ds)")
    }

    @Test("an IDT task gate without offset or ist decodes, and an interrupt gate keeps them", arguments: ["ia32", "x86_64"])
    func taskGateWithoutOffsetDecodes(_ mode: String) {
        let yaml = """
        scenario: a
        machine:
          mode: \(mode)
          idt:
            0x81: {type: task, dpl: 3, tss: 0x80, present: true}
            0x82: {type: interrupt, dpl: 0, offset: 0x1000\(mode == "x86_64" ? ", ist: 2" : "")}
        kernel: none
        """
        #expect(diagnostics(yaml).isEmpty, "\(diagnostics(yaml))")
    }

    @Test("a task gate written over a gate with an IST does not keep the IST (as the x86_64 preset's #DF gate has one)")
    func taskGateOverISTGate() {
        let patches = [GatePatch(vector: 8, type: "task", dpl: 0, tss: 0x40)]
        var m = Machine(mode: .x86_64, vendor: .intel, pagingMode: .off, paging: PagingUnit())
        m.idt = Array(repeating: 0, count: 512)
        let g = Descriptor.gate(type: .interruptGate, selector: 0x10, offset: 0x1000, dpl: 0, present: true, ist: 1)
        m.idt[16] = g.low.raw
        m.idt[17] = g.high
        #expect(Runner.applyGatePatches(patches, to: &m) == nil)
        let d = Descriptor(raw: m.idt[16])
        #expect(d.systemType == .taskGate && d.ist == 0 && d.gateSelector == 0x40)
    }

    // MARK: expect.gate type task

    static let machine = """
    machine:
      mode: ia32
      gdt:
        20: {name: ktask, type: tss32, dpl: 0, eip: 0xc0100500, esp: 0xc2006000, eflags: 0x2,
             cs: kernel_cs, ss: kernel_ds, ds: kernel_ds}
        21: {name: tgate, type: task_gate, dpl: 3, tss: ktask}
      idt:
        0x81: {type: task, dpl: 3, tss: ktask}
    kernel: none
    """

    struct GateCheck: Sendable, CustomTestStringConvertible {
        var exec: String
        var gate: String
        var failure: String?
        var testDescription: String { "\(exec): gate \(gate)" }
    }

    static let gateChecks: [GateCheck] = [
        GateCheck(exec: "int 0x81", gate: "{vector: 0x81, type: task, dpl: 3, from_cpl: 3, to_cpl: 0, stack_switch: true}", failure: nil),
        GateCheck(exec: "call far tgate:3:0", gate: "{type: task, dpl: 3, from_cpl: 3, to_cpl: 0, stack_switch: true}", failure: nil),
        GateCheck(exec: "jmp far tgate:3:0", gate: "{type: task, dpl: 3}", failure: nil),
        GateCheck(exec: "call far tgate:3:0", gate: "{vector: 0x81}",
                  failure: "steps[0].expect.gate.vector: expected 0x81, got a GDT/LDT task gate (no vector)"),
        GateCheck(exec: "int 0x81", gate: "{type: interrupt}", failure: "steps[0].expect.gate.type: expected interrupt, got task"),
        GateCheck(exec: "call far tgate:3:0", gate: "none", failure: "steps[0].expect.gate: expected none, got a delivery through task gate"),
    ]

    @Test("expect.gate checks a delivery through an IDT or GDT task gate", arguments: gateChecks)
    func gateTypeTask(_ c: GateCheck) {
        let yaml = "scenario: a\n\(Self.machine)\nsteps:\n  - exec: \"\(c.exec)\"\n    expect:\n      gate: \(c.gate)\n"
        let r = runScenarioText(yaml)
        #expect(r.count == 1)
        guard let outcome = r.first?.outcome else { return }
        if let failure = c.failure {
            #expect("\(outcome)".contains(failure), "\(outcome)")
        } else {
            #expect(outcome.isPassed, "\(outcome)")
        }
    }

    // MARK: explain: a triple fault is DF-4

    @Test("explain cites DF-4 for a triple fault and DF-2 for the double fault before it")
    func explainTripleFaultCitesDF4() {
        let triple = Explainer.sentence(.escalation(first: .DF, second: .NP, result: "triple fault"))
        #expect(triple.contains("triple fault (DF-4;"), "\(triple)")
        let double = Explainer.sentence(.escalation(first: .GP, second: .NP, result: "double fault"))
        #expect(double.contains("double fault (DF-2;"), "\(double)")
        let root = FileManager.default.currentDirectoryPath
        let (text, ok) = Explainer.explain(file: root + "/scenarios/protection/double-triple-fault.yaml",
                                           scenario: "fault-during-double-fault-is-triple-fault", options: SuiteOptions(root: root))
        #expect(ok)
        #expect(text.contains("#NP while delivering #DF: triple fault (DF-4;"), "\(text)")
        #expect(text.contains("= the processor shut down: a fault while delivering #DF is a triple fault (DF-4"), "\(text)")
        #expect(!text.contains("triple fault (DF-2"), "\(text)")
    }
}
