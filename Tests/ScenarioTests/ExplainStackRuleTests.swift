// ExplainStackRuleTests: explain names the rule, with its SDM section, that takes the inner stack from
// the TSS (a student asking "why did ESP jump to 0xc2007fe8?" finds INT-7 / FAR-9 there), for each of
// the four ways the model switches stacks; and the IF rule of a gate comes with its section too.

@testable import Scenario
import Testing

struct StackRuleCase: CustomTestStringConvertible, Sendable {
    var name: String
    var yaml: String
    var citation: String
    var testDescription: String { name }
}

@Suite struct ExplainStackRuleTests {
    static let cases: [StackRuleCase] = [
        .init(name: "ia32 INT n", yaml: """
            scenario: t
            machine: {mode: ia32, tss: {name: tss, ss0: kernel_ds, esp0: 0xc2008000}}
            kernel: none
            steps: [{exec: "int 0x80"}]
            """, citation: "switches to the stack for CPL 0 (INT-7, Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: stack switch); told next"),
        .init(name: "x86_64 INT n", yaml: """
            scenario: t
            machine:
              mode: x86_64
              tss: {name: tss, rsp0: 0xffff888002008000}
              idt: {0x81: {type: trap, dpl: 3, selector: kernel_cs, offset: 0xffffffff81000100}}
            kernel: none
            steps: [{exec: "int 0x81"}]
            """, citation: "switches to the stack for CPL 0 (INT-10, Intel SDM Vol. 3A §6.14 (exception and interrupt handling in 64-bit mode); told next"),
        .init(name: "ia32 call gate", yaml: """
            scenario: t
            machine:
              mode: ia32
              tss: {name: tss, ss0: kernel_ds, esp0: 0xc2008000}
              gdt: {20: {name: door, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xc0100000}}
            kernel: none
            steps: [{exec: "call far door:3:0"}]
            """, citation: "switches to the stack for CPL 0 (FAR-9, Intel SDM Vol. 3A §5.8.5 (stack switching); told next"),
        .init(name: "x86_64 call gate", yaml: """
            scenario: t
            machine:
              mode: x86_64
              tss: {name: tss, rsp0: 0xffff888002008000}
              gdt: {20: {name: door, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xffffffff81000200}}
            kernel: none
            steps: [{exec: "call far door:3:0"}]
            """, citation: "switches to the stack for CPL 0 (FAR-11, Intel SDM Vol. 3A §5.8.3.1"),
    ]

    static func explain(_ yaml: String) -> String? {
        guard case let .spec(spec, warnings)? = decodeText(yaml).first else { return nil }
        var limits = RunLimits()
        limits.keepTrace = true
        return Explainer.render(spec, Runner.run(spec, file: "t.yaml", warnings: warnings, limits: limits))
    }

    @Test(arguments: cases) func stackSwitchNamesItsRule(_ c: StackRuleCase) throws {
        let text = try #require(Self.explain(c.yaml), "the scenario does not load")
        #expect(text.contains(c.citation), "\(text)")
    }

    @Test func gateFlagRuleHasItsSection() throws {
        let text = try #require(Self.explain(Self.cases[0].yaml))
        #expect(text.contains("a trap gate leaves IF as it was (INT-9, Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: flag usage))"), "\(text)")
    }
}
