// A scenario that extends a base whose `idt` gives handlers (`GP: {offset: ...}`) and turns one of those
// vectors into a task gate (`GP: {type: task, tss: t2}`) was refused: `extends` merged the gates key by key,
// so the task gate carried the base's offset ("a task gate has no offset", at the base's line). Found by the
// blind-story scenarios (blind-story-task.yaml had to repeat the whole machine instead). A gate changing
// kind keeps only the base's dpl and present (docs/format.md, `idt`).

@testable import Scenario
import Testing

@Suite struct ExtendsGateKindTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var baseGate: String
        var gate: String
        var step: String
        var expect: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "interrupt gate with offset -> task gate", baseGate: "{offset: 0xc0100300}",
             gate: "{type: task, tss: t2}", step: "cli",
             expect: "{fault: {vector: GP, error_code: 0}, gate: {vector: GP, type: task}, regs: {tr: 0xa0, esp: 0xc2005ffc}}"),
        Case(name: "trap gate with selector -> task gate named by selector", baseGate: "{type: trap, selector: kernel_cs, offset: 0xc0100300}",
             gate: "{type: task, selector: t2}", step: "cli",
             expect: "{fault: GP, gate: {vector: GP, type: task}, regs: {tr: 0xa0}}"),
        Case(name: "task gate -> interrupt gate", baseGate: "{type: task, tss: t2}",
             gate: "{type: interrupt, offset: 0xc0100300}", step: "cli",
             expect: "{fault: GP, gate: {vector: GP, type: interrupt}, regs: {tr: 0x80, eip: 0xc0100300, esp: 0xc2007fe8}}"),
        Case(name: "same kind still merges key by key", baseGate: "{offset: 0xc0100300}",
             gate: "{dpl: 3}", step: "int 13",
             expect: "{fault: none, gate: {vector: GP, dpl: 3}, regs: {eip: 0xc0100300}}"),
        Case(name: "the base's dpl is kept by the new task gate", baseGate: "{dpl: 3, offset: 0xc0100300}",
             gate: "{type: task, tss: t2}", step: "int 13",
             expect: "{fault: none, gate: {vector: GP, type: task, dpl: 3}, regs: {tr: 0xa0}}"),
    ]

    @Test(arguments: cases)
    func gateChangesKind(_ c: Case) throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("""
        machine:
          mode: ia32
          tss: {name: tss, ss0: kernel_ds, esp0: 0xc2008000}
          gdt:
            20: {name: t2, type: tss32, dpl: 0, eip: 0xc0100100, esp: 0xc2006000, eflags: 0x2,
                 cs: kernel_cs, ss: kernel_ds, ds: kernel_ds, es: kernel_ds}
          idt:
            GP: \(c.baseGate)
        kernel: none

        """, to: dir + "/_base.yaml")
        try CLI.write("""
        scenario: s
        extends: _base.yaml
        machine:
          idt:
            13: \(c.gate)
        steps:
          - exec: "\(c.step)"
            expect: \(c.expect)

        """, to: dir + "/lab.yaml")
        let r = try CLI.run(["run", dir + "/lab.yaml"])
        #expect(r.status == 0, "\(r.stdout)")
    }
}
