// `ringspec explain` on a `wait` or `exit` step of a 32-bit task: the step makes its call with `int 0x80`, a
// software interrupt whose gate is checked against its DPL (INT-2; the engine does check it: a DPL-0 gate gives
// #GP(0x402)), but the prose said "an exception or external interrupt is not checked against the gate's DPL".
import Foundation
@testable import Scenario
import Testing

@Suite struct ExplainImplicitSyscallTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var mode: String
        var bits: Int?
        var step: String
        /// True: the step goes through gate 0x80 (a software interrupt); false: SYSCALL, no gate.
        var int80: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "ia32 wait", mode: "ia32", step: "  - wait: {}", int80: true),
        Case(name: "ia32 exit", mode: "ia32", step: "  - wait: {}\n  - exit: 0", int80: true),
        Case(name: "x86_64 32-bit task wait", mode: "x86_64", bits: 32, step: "  - wait: {}", int80: true),
        Case(name: "x86_64 64-bit task wait", mode: "x86_64", step: "  - wait: {}", int80: false),
    ]

    @Test(arguments: cases)
    func gateOfAnImplicitSystemCallIsASoftwareInterrupts(_ c: Case) throws {
        let bits = c.bits.map { ", bits: \($0)" } ?? ""
        let yaml = """
        scenario: e
        machine: {mode: \(c.mode)}
        processes:
          - {name: P, state: running\(bits)}
          - {name: C, parent: P\(bits)}
        steps:
        \(c.step)
        """
        let dir = NSTemporaryDirectory() + "ringspec-explain-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/e.yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let (text, _) = Explainer.explain(file: file, scenario: nil, options: SuiteOptions(root: dir))
        let gateLines = text.split(separator: "\n").filter { $0.contains("reads IDT entry 0x80") }
        if c.int80 {
            #expect(!gateLines.isEmpty, "\(text)")
            #expect(gateLines.allSatisfy { $0.contains("DPL check: a software interrupt needs CPL <= gate DPL") }, "\(text)")
            #expect(!text.contains("external interrupt is not checked"), "\(text)")
        } else {
            #expect(gateLines.isEmpty, "\(text)")
        }
    }
}

@Suite struct ExplainTimerReasonTests {
    /// The timer's reason names both ways a tick sets need_resched: cfs has no time slice.
    @Test func timerReasonCoversCFS() {
        let text = Explainer.reasonText("timer")
        #expect(text.contains("time slice"))
        #expect(text.contains("vruntime"))
    }
}
