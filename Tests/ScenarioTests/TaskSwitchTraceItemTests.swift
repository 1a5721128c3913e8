// TaskSwitchTraceItemTests: `task switch` is a trace item (TASK-1): the hardware task switch that a task
// gate, a far JMP/CALL to a TSS or an IRET with NT=1 makes is matched by it, and the item is no longer
// taken for a misspelt `stack switch`.

import Machine
@testable import Scenario
import Testing

@Suite struct TaskSwitchTraceItemTests {
    static let yaml = """
        scenario: t
        machine:
          mode: ia32
          gdt:
            20: {name: worker, type: tss32, eip: 0xc0100800, esp: 0xc2006000, cs: kernel_cs, ss: kernel_ds, ds: kernel_ds, es: kernel_ds}
          idt:
            0x40: {type: task, dpl: 3, tss: worker}
        kernel: none
        steps:
          - exec: "int 0x40"
            expect: {trace: [user main, task gate, task switch, kernel main]}
          - exec: iret
            expect: {trace: [task switch, user main]}
        """

    @Test func taskSwitchIsMatched() throws {
        guard case let .spec(spec, warnings)? = decodeText(Self.yaml).first else {
            Issue.record("the scenario does not load")
            return
        }
        #expect(warnings.isEmpty, "\(warnings)")
        let record = Runner.run(spec, file: "t.yaml", warnings: warnings, limits: RunLimits())
        guard case .passed = record.result.outcome else {
            Issue.record("\(record.result.outcome)")
            return
        }
    }

    @Test func theNoteHasTheShortForm() {
        let note = TraceEvent.note("task switch (iret) from TSS 0xa0 to TSS 0x80: ...")
        #expect(note.shortForms.contains("task switch"))
        #expect(!TraceEvent.note("task A exits").shortForms.contains("task switch"))
        #expect(TraceItem.suggestion(for: "task switch") == nil)
    }
}
