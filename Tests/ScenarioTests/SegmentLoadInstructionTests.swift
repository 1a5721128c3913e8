// POP Sreg and the far-pointer loads LDS, LES, LFS, LGS, LSS are real segment-loading instructions
// (SDM Vol. 2A/2B: they make the checks of MOV Sreg, SEG-5/SEG-6) that the model does not run. An
// `exec` step naming one is refused as not modelled, with the form that is (`mov SREG, SEL`), at its
// line and column: never answered with "unknown instruction ... did you mean 'nop'?" as if misspelt.
// Found by the blind audit of segment loads (scenarios/protection/blind-seg-3.yaml).

@testable import Scenario
import Testing

@Suite struct SegmentLoadInstructionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var text: String
        var mnemonic: String
        var testDescription: String { text }
    }

    static let cases: [Case] = [
        Case(text: "pop ds", mnemonic: "pop"), Case(text: "pop ss", mnemonic: "pop"), Case(text: "push es", mnemonic: "push"),
        Case(text: "lds eax, [0x1000]", mnemonic: "lds"), Case(text: "les eax, [0x1000]", mnemonic: "les"),
        Case(text: "lfs eax, [0x1000]", mnemonic: "lfs"), Case(text: "lgs eax, [0x1000]", mnemonic: "lgs"),
        Case(text: "lss esp, [0x1000]", mnemonic: "lss"), Case(text: "LSS esp, [0x1000]", mnemonic: "lss"),
    ]

    @Test("POP/PUSH and LDS/LES/LFS/LGS/LSS are refused as not modelled, pointing at MOV Sreg", arguments: cases)
    func refusedAsNotModelled(_ c: Case) {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nkernel: none\nsteps:\n  - exec: \"\(c.text)\"\n"
        let ds = diagnostics(yaml)
        guard let d = ds.first(where: { $0.message.contains("steps[0].exec") }) else {
            Issue.record("no diagnostic for `\(c.text)`: \(ds.map(\.description))")
            return
        }
        #expect(d.message.contains("`\(c.mnemonic)` is not modelled"), "\(d.message)")
        #expect(d.message.contains(c.mnemonic == "push" ? "mov [ADDR], REG" : "mov "), "\(d.message)")
        #expect(!d.message.contains("unknown instruction"), "\(d.message)")
        #expect(!d.notes.contains { $0.contains("did you mean") }, "\(d.notes)")
        #expect(d.description.contains(":5:11:"), "\(d.description)")
    }
}
