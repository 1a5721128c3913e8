// `expect.fault.error_code.ti`: the selector's table, written `gdt` / `ldt` as in a selector map
// (`{index: 1, ti: ldt}`), or as a flag (true/1 = LDT). It must agree with the selector's bit 2.

@testable import Scenario
import Testing

@Suite struct ErrorCodeTableIndicatorTests {
    /// A ring-3 task loads ES with LDT entry 1 (DPL 0): #GP(0x0c), an LDT selector (SEG-5d).
    static func ldtFault(_ errorCode: String) -> String {
        """
        scenario: ti
        machine:
          mode: ia32
          gdt:
            24: {name: myldt, type: ldt}
          ldt:
            - {name: ldata, type: data, dpl: 3}
            - {name: ldata0, type: data, dpl: 0}
        kernel: none
        steps:
          - exec: "mov es, 0x0f"
            expect:
              fault: {vector: GP, error_code: \(errorCode)}
        """
    }

    struct Accepted: Sendable, CustomTestStringConvertible {
        var errorCode: String
        var testDescription: String { errorCode }
    }

    static let accepted: [Accepted] = [
        "{selector: ldata0, ti: ldt}", "{selector: ldata0, ti: LDT}", "{selector: 0x0c, ti: ldt}",
        "{selector: {index: 1, ti: ldt}, ti: ldt}", "{selector: 0x0c, ti: true}", "{selector: 0x0c, ti: 1}",
        "{selector: 0x0c, ti: yes}", "{selector: ldata0, ti: ldt, idt: false, ext: false}",
    ].map(Accepted.init)

    @Test("error_code.ti accepts gdt/ldt and flags, and the check passes", arguments: accepted)
    func acceptedAndPasses(_ c: Accepted) {
        let yaml = Self.ldtFault(c.errorCode)
        #expect(diagnostics(yaml).isEmpty, "\(diagnostics(yaml))")
        let r = runScenarioText(yaml)
        #expect(r.count == 1 && r.allSatisfy { $0.outcome.isPassed }, "\(r.map(\.outcome))")
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        var errorCode: String
        var message: String
        var note: String?
        var testDescription: String { errorCode }
    }

    static let refused: [Refused] = [
        Refused(errorCode: "{selector: 0x0c, ti: gdt}",
                message: "error_code.ti: gdt contradicts the selector 0xc, whose TI bit (bit 2) is 1 (LDT)"),
        Refused(errorCode: "{selector: 0x0c, ti: false}",
                message: "error_code.ti: false contradicts the selector 0xc, whose TI bit (bit 2) is 1 (LDT)"),
        Refused(errorCode: "{selector: 0x08, ti: ldt}",
                message: "error_code.ti: ldt contradicts the selector 0x8, whose TI bit (bit 2) is 0 (GDT)"),
        Refused(errorCode: "{selector: 0x0c, ti: ltd}",
                message: "error_code.ti must be gdt or ldt (or a flag: true or 1 for the LDT, false or 0 for the GDT), not 'ltd'",
                note: "did you mean 'ldt'?"),
        Refused(errorCode: "{selector: 0x0c, ti: 4}",
                message: "error_code.ti must be gdt or ldt (or a flag: true or 1 for the LDT, false or 0 for the GDT), not '4'"),
    ]

    @Test("error_code.ti: a contradiction or an unknown value is an error at its line", arguments: refused)
    func refusedAtItsLine(_ c: Refused) {
        let ds = diagnostics(Self.ldtFault(c.errorCode))
        guard let d = ds.first(where: { $0.message.contains(c.message) }) else {
            Issue.record("no diagnostic '\(c.message)' in:\n\(ds.map(\.description).joined(separator: "\n"))")
            return
        }
        #expect(d.location?.line == 13, "\(d)")
        if let note = c.note { #expect(d.notes.contains(note), "\(d)") }
    }

    @Test("the schema accepts gdt/ldt for error_code.ti")
    func schemaListsGDTAndLDT() {
        #expect(ScenarioSchema.json.contains("\"description\": \"The selector's table: gdt or ldt, or a flag (true = LDT); must agree with the selector's bit 2.\""))
    }
}
