// SelectorNameInFailureTests: a wrong `error_code.selector` names the table entries it compared, the
// preset's and the scenario's own, so a student who wrote `user_ds` reads `user_ds` back.

@testable import Scenario
import Testing

struct SelectorNameCase: CustomTestStringConvertible, Sendable {
    var name: String
    var step: String
    var written: String
    var failure: String
    var testDescription: String { name }
}

@Suite struct SelectorNameInFailureTests {
    static let cases: [SelectorNameCase] = [
        .init(name: "preset names", step: "mov ds, kernel_ds:3", written: "{selector: user_ds}",
              failure: "steps[0].expect.fault.error_code.selector: expected 0x78 (user_ds), got 0x68 (kernel_ds)"),
        .init(name: "the scenario's own GDT entry", step: "mov ds, gone:3", written: "{selector: kernel_ds}",
              failure: "steps[0].expect.fault.error_code.selector: expected 0x68 (kernel_ds), got 0xa0 (gone)"),
        .init(name: "an entry with no name keeps the number", step: "mov ds, 0xfff8", written: "{selector: 0xfff0}",
              failure: "steps[0].expect.fault.error_code.selector: expected 0xfff0, got 0xfff8"),
        .init(name: "faults list element", step: "mov ds, kernel_ds:3", written: "~",
              failure: "steps[0].expect.faults[0].error_code.selector: expected 0x78 (user_ds), got 0x68 (kernel_ds)"),
    ]

    @Test(arguments: cases) func failureNamesTheEntries(_ c: SelectorNameCase) {
        let expect = c.written == "~" ? "faults: [{vector: GP, error_code: {selector: user_ds}}]" : "fault: {vector: GP, error_code: \(c.written)}"
        let yaml = """
            scenario: t
            machine:
              mode: ia32
              gdt: {20: {name: gone, type: data, dpl: 3, present: false}}
            kernel: none
            steps:
              - exec: "\(c.step)"
                expect: {\(expect)}
            """
        guard case let .spec(spec, warnings)? = decodeText(yaml).first else {
            Issue.record("the scenario does not load")
            return
        }
        let record = Runner.run(spec, file: "t.yaml", warnings: warnings, limits: RunLimits())
        guard case let .failed(fs) = record.result.outcome else {
            Issue.record("expected a failure: \(record.result.outcome)")
            return
        }
        #expect(fs.map { "\($0.path): expected \($0.expected), got \($0.actual)" }.contains(c.failure), "\(fs)")
    }
}
