// ExplainRegisterNameTests: the heading of an `exec` step names the control-register move's general register
// as the machine has it: `eax` on an ia32 machine (which has no RAX), `rax` on an x86_64 one.

@testable import Scenario
import Testing

@Suite struct ExplainRegisterNameTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var mode: String
        var written: String
        var heading: String
        var testDescription: String { "\(mode): \(written)" }
    }

    static let cases: [Case] = [
        .init(mode: "ia32", written: "mov cr3, eax", heading: "(exec mov cr3, eax)"),
        .init(mode: "ia32", written: "mov ebx, cr0", heading: "(exec mov ebx, cr0)"),
        .init(mode: "x86_64", written: "mov cr3, rax", heading: "(exec mov cr3, rax)"),
        .init(mode: "x86_64", written: "mov rbx, cr0", heading: "(exec mov rbx, cr0)"),
    ]

    @Test(arguments: cases) func headingNamesTheRegisterOfTheMode(_ c: Case) throws {
        let yaml = """
            scenario: t
            machine: {mode: \(c.mode)}
            kernel: none
            steps: [{exec: "\(c.written)"}]
            """
        guard case let .spec(spec, warnings)? = decodeText(yaml).first else {
            Issue.record("the scenario does not load")
            return
        }
        var limits = RunLimits()
        limits.keepTrace = true
        let text = Explainer.render(spec, Runner.run(spec, file: "t.yaml", warnings: warnings, limits: limits))
        #expect(text.contains(c.heading), "\(text.prefix(400))")
    }
}
