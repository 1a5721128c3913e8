// Findings of the metamorphic test of the format (Fuzz/diff/spell_diff.py, branch metamorphic): two
// spellings the format calls equivalent must give one outcome.

@testable import Scenario
import Testing

@Suite struct SpellingEquivalenceTests {
    struct MergeCase: CustomStringConvertible, Sendable {
        let name: String
        let base: String       // the anchored map (under `x-base: &base`)
        let override: String   // the key written next to `<<: *base`, another spelling of one base key
        let table: String      // the machine key: idt, gdt or msrs
        let step: String
        let expect: String
        var description: String { name }
    }

    /// A `<<` merge key merges by what a key names, as `extends` does: a written key overrides the
    /// merged key it names, whichever spelling each uses (it was a "duplicate key" error unless both
    /// were spelt alike). The override must win (the merged value would pass the other check).
    @Test(arguments: [
        MergeCase(name: "idt PF over 14", base: "14: {dpl: 3}", override: "PF: {dpl: 0}", table: "idt",
                  step: "int 14", expect: "{fault: GP}"),
        MergeCase(name: "idt \"#PF\" over 0xe", base: "0xe: {dpl: 3}", override: "\"#PF\": {dpl: 0}", table: "idt",
                  step: "int 14", expect: "{fault: GP}"),
        MergeCase(name: "idt 128 over 0x80", base: "0x80: {dpl: 3}", override: "128: {dpl: 0}", table: "idt",
                  step: "int 0x80", expect: "{fault: GP}"),
        MergeCase(name: "msrs number over name", base: "IA32_SYSENTER_CS: 0x60", override: "0x174: 0", table: "msrs",
                  step: "sysenter", expect: "{fault: {vector: GP, error_code: 0}}"),
        MergeCase(name: "msrs name over number", base: "0x174: 0x60", override: "ia32_sysenter_cs: 0", table: "msrs",
                  step: "sysenter", expect: "{fault: {vector: GP, error_code: 0}}"),
        MergeCase(name: "gdt 0x14 over 20",
                  base: "20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xc0100000}",
                  override: "0x14: {name: kgate, type: call_gate, dpl: 0, selector: kernel_cs, offset: 0xc0100000}",
                  table: "gdt", step: "call far kgate:3:0", expect: "{fault: GP}"),
    ])
    func mergeKeyOverridesBySpellingMeaning(_ c: MergeCase) {
        let yaml = """
        scenario: merge
        x-base: &base
          \(c.base)
        machine:
          mode: ia32
          \(c.table):
            <<: *base
            \(c.override)
        kernel: none
        steps:
          - exec: "\(c.step)"
            expect: \(c.expect)
        """
        let r = runScenarioText(yaml)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// Two merged maps naming one key in two spellings: the earlier one wins (`<<: [*a, *b]`), as
    /// it does for one spelling.
    @Test func earlierMergedSpellingWins() {
        let r = runScenarioText("""
        scenario: merge2
        x-a: &a {PF: {dpl: 0}}
        x-b: &b {14: {dpl: 3}}
        machine:
          mode: ia32
          idt: {<<: [*a, *b]}
        kernel: none
        steps:
          - exec: "int 14"
            expect: {fault: GP}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// Two written spellings of one key stay an error, merge key or not.
    @Test func twoWrittenSpellingsNextToAMergeStayAnError() {
        let ds = diagnostics("""
        scenario: dup
        x-a: &a {13: {dpl: 0}}
        machine:
          mode: ia32
          idt:
            <<: *a
            PF: {dpl: 3}
            14: {dpl: 0}
        kernel: none
        steps:
          - exec: nop
            expect: {fault: none}
        """)
        #expect(ds.contains { $0.message.contains("duplicate key: idt vector 14") }, "\(ds)")
    }

    /// A quoted number is the number wherever a number is expected: `fault: "13"` is `fault: 13`
    /// (it was "unknown exception '13'", while `gate: {vector: "13"}` was accepted).
    @Test(arguments: ["13", "\"13\"", "'13'", "\"0xd\"", "GP", "\"#GP\"", "{vector: \"13\"}"])
    func quotedVectorNumberInFault(_ spelling: String) {
        let r = runScenarioText("""
        scenario: q
        machine: {mode: ia32}
        kernel: none
        steps:
          - exec: "mov ds, 0x68"
            expect:
              fault: \(spelling)
              faults: [\(spelling)]
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// Numeric options (`bits`, `default_size`, an access's `size`) are numbers: any base works, as for
    /// every number of the format (they were compared as text: `bits: 0x20` was "unknown bits").
    @Test(arguments: [
        ("bits: 0x20", "processes: [{name: t, bits: 0x20}]\n", "- exec: \"mov ds, user_ds:3\"\n    expect: {fault: none}"),
        ("bits: \"0b100000\"", "processes: [{name: t, bits: \"0b100000\"}]\n", "- exec: \"mov ds, user_ds:3\"\n    expect: {fault: none}"),
        ("default_size: 0x10", "", "- exec: \"mov ds, 0xa3\"\n    expect: {fault: none}"),
        ("size: 0x8", "", "- access: {op: read, addr: 0x400000, size: 0x8}\n    expect: {fault: none}"),
    ])
    func numericChoicesTakeAnyBase(_ name: String, _ processes: String, _ step: String) {
        let machine = name.hasPrefix("default_size")
            ? "machine:\n  mode: x86_64\n  gdt: {20: {name: d16, type: data, dpl: 3, default_size: 0x10}}\n"
            : "machine: {mode: x86_64}\n"
        let r = runScenarioText("scenario: n\n" + machine + "kernel: none\n" + processes + "steps:\n  " + step + "\n")
        #expect(r.first?.outcome.isPassed == true, "\(name): \(String(describing: r.first?.outcome))")
    }

    /// `lcall SEL, OFF` (AT&T order) takes SEL in every selector form, as `call far SEL:OFF` does
    /// (`lcall kgate:3, 0` was refused as "a far pointer is SEL:OFF": the AT&T split was made only when
    /// the operands held no ':').
    @Test(arguments: ["call far kgate:3:0", "call kgate:3:0", "lcall kgate:3, 0", "lcall $0xa3, $0",
                      "lcall {index: 20, ti: gdt, rpl: 3}, 0", "lcall 0xa3, 0", "call far {index: 20, ti: gdt, rpl: 3}:0"])
    func farCallSpellings(_ text: String) {
        let r = runScenarioText("""
        scenario: far
        machine:
          mode: ia32
          gdt:
            20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xc0100000}
        kernel: none
        steps:
          - exec: "\(text)"
            expect: {fault: none, cpl: 0, regs: {cs: kernel_cs, eip: 0xc0100000}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(text): \(String(describing: r.first?.outcome))")
    }
}
