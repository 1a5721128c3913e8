// An exception delivered through a task gate pushes its error code on the new task's stack (TASK-7). How
// wide that push is, when the new task runs 16-bit code (CS.D = 0) from a 32-bit TSS, is not settled: the
// SDM's INT n pseudo-code pushes with the operand size (a word; Bochs: push_16 when CS.D = 0), its §6.13
// prose ("depending on the ... task gate size") and QEMU (the TSS type) say a doubleword. The step is
// refused as not modelled. Was: a doubleword, silently.

@testable import Scenario
import Testing

@Suite struct TaskGateErrorCodeWidthTests {
    static func scenario(codeSize: Int, exec: String, expect: String) -> String {
        """
        scenario: c
        machine:
          mode: ia32
          gdt:
            20: {name: handler, type: tss32, dpl: 0, eip: 0x800, esp: 0xc2006000, cs: kcode, ss: kernel_ds, ds: kernel_ds}
            22: {name: kcode, type: code, dpl: 0, default_size: \(codeSize), base: 0xc0100000, limit: 0xffff}
          idt:
            GP: {type: task, dpl: 0, tss: handler}
            UD: {type: task, dpl: 0, tss: handler}
        kernel: none
        steps:
          - exec: "\(exec)"
            expect: \(expect)
        """
    }

    @Test func errorCodeInto16BitCodeIsRefused() {
        let r = runScenarioText(Self.scenario(codeSize: 16, exec: "mov ds, kernel_ds",
                                              expect: "{faults: [{vector: GP, error_code: 0x68}], regs: {esp: 0xc2005ffe}}"))
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("expected a refusal, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { $0.actual.contains("not modelled") && $0.actual.contains("16-bit code") }, "\(fs)")
    }

    /// 32-bit code: a doubleword, whichever reading; an exception without an error code into 16-bit code
    /// pushes nothing, so there is nothing to decide.
    @Test(arguments: [
        (32, "mov ds, kernel_ds", "{faults: [{vector: GP, error_code: 0x68}], regs: {tr: 0xa0, esp: 0xc2005ffc}}"),
        (16, "ud2", "{faults: [UD], regs: {tr: 0xa0, esp: 0xc2006000}}"),
    ])
    func settledCasesRun(c: (codeSize: Int, exec: String, expect: String)) {
        let r = runScenarioText(Self.scenario(codeSize: c.codeSize, exec: c.exec, expect: c.expect))
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
