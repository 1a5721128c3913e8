// INT3, INTO and INT1 whose #BP/#OF/#DB cannot be delivered (found by the blind-story scenarios). Written
// from the SDM's INT n/INTO/INT3/INT1 pseudo-code, `int3` through a DPL-0 gate at CPL 3 is
// `fault: {vector: GP, error_code: 0x1a}`: the instruction raises the #GP. The engine listed the step's
// exceptions as [#BP, #GP] (Table 6-5's view: the #BP is the first exception of the pair) and compared
// `fault` with the #BP, so that expectation failed twice ("expected GP, got BP", and the #BP unmentioned).
// Both views are the SDM's: either spelling passes; a wrong one still fails.

@testable import Scenario
@testable import Machine
import Testing

@Suite struct UndeliveredSoftwareExceptionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var idt: String
        var setup: String
        var instruction: String
        var expect: String
        var passes: Bool
        var testDescription: String { name }
    }

    static let dpl0BP = "{BP: {dpl: 0}}"
    static let dpl0OF = "{OF: {dpl: 0}}"
    static let cases: [Case] = [
        Case(name: "int3, DPL-0 gate: fault names the #GP", idt: dpl0BP, setup: "", instruction: "int3",
             expect: "{fault: {vector: GP, error_code: 0x1a}}", passes: true),
        Case(name: "int3, DPL-0 gate: faults without the #BP", idt: dpl0BP, setup: "", instruction: "int3",
             expect: "{faults: [{vector: GP, error_code: 0x1a}]}", passes: true),
        Case(name: "int3, DPL-0 gate: faults with the #BP (as before)", idt: dpl0BP, setup: "", instruction: "int3",
             expect: "{faults: [BP, {vector: GP, error_code: 0x1a}]}", passes: true),
        Case(name: "int3, DPL-0 gate: fault names the #BP (as before)", idt: dpl0BP, setup: "", instruction: "int3",
             expect: "{fault: BP, faults: [BP, GP]}", passes: true),
        Case(name: "int3, DPL-0 gate: a wrong error code still fails", idt: dpl0BP, setup: "", instruction: "int3",
             expect: "{fault: {vector: GP, error_code: 0x18}}", passes: false),
        Case(name: "int3, DPL-0 gate: naming only the #BP leaves the #GP unmentioned", idt: dpl0BP, setup: "",
             instruction: "int3", expect: "{fault: BP}", passes: false),
        Case(name: "int3, DPL-0 gate: no fault key at all still fails", idt: dpl0BP, setup: "", instruction: "int3",
             expect: "{cpl: 0}", passes: false),
        Case(name: "into, DPL-0 gate: fault names the #GP", idt: dpl0OF, setup: "  - set: {rflags: {of: true}}\n",
             instruction: "into", expect: "{fault: {vector: GP, error_code: 0x22}}", passes: true),
        Case(name: "int3, gate not present: #NP(0x1a) alone", idt: "{BP: {present: false}}", setup: "", instruction: "int3",
             expect: "{fault: {vector: NP, error_code: 0x1a}}", passes: true),
        Case(name: "int3 delivered: the #BP must still be named", idt: "{}", setup: "", instruction: "int3",
             expect: "{cpl: 0}", passes: false),
        Case(name: "int3 delivered: fault BP passes", idt: "{}", setup: "", instruction: "int3",
             expect: "{fault: BP}", passes: true),
        Case(name: "int3 delivered: naming another vector fails", idt: "{}", setup: "", instruction: "int3",
             expect: "{fault: GP}", passes: false),
    ]

    @Test(arguments: cases)
    func spellings(_ c: Case) {
        let r = runScenarioText("""
        scenario: s
        machine:
          mode: ia32
          tss: {name: tss, ss0: kernel_ds, esp0: 0xc2008000}
          idt: \(c.idt)
        kernel: none
        steps:
        \(c.setup)  - exec: "\(c.instruction)"
            expect: \(c.expect)
        """)
        #expect(r.count == 1)
        #expect(r.first?.outcome.isPassed == c.passes, "\(String(describing: r.first?.outcome))")
    }

    /// The machine marks the software exception only when its delivery faulted.
    @Test func machineMarksOnlyUndelivered() throws {
        let failed = runScenarioText("""
        scenario: m
        machine: {mode: x86_64, idt: {BP: {dpl: 0}}}
        kernel: none
        steps:
          - exec: "int3"
            expect: {fault: {vector: GP, error_code: 0x1a}, cpl: 0}
        """)
        #expect(failed.first?.outcome.isPassed == true, "\(String(describing: failed.first?.outcome))")
        var f = Fault(.BP, rule: "INT-12", "INT3")
        #expect(SoftwareExceptionFaults.withoutUndelivered([f, Fault.gp(0x1a, rule: "INT-2", "dpl")]) == nil)
        f.undeliveredSoftwareException = true
        #expect(SoftwareExceptionFaults.withoutUndelivered([f, Fault.gp(0x1a, rule: "INT-2", "dpl")])?.map(\.vector) == [.GP])
        #expect(SoftwareExceptionFaults.withoutUndelivered([f]) == nil)
    }
}
