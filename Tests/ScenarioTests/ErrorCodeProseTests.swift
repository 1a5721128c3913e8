import Machine
import Scenario
import Testing

/// `explain` spells every error code out bit by bit (SEG-8 selector codes, PG-11 page faults, DF-3). EXT=1 also
/// when the event being delivered is an earlier exception (SDM Vol. 3A §6.13: "an event external to the program,
/// such as an interrupt or an earlier exception"); with IDT=1 the index is a vector, not a selector.
struct ErrorCodeProseCase: Sendable, CustomTestStringConvertible {
    var vector: ExceptionVector
    var code: UInt32
    var expected: String
    var testDescription: String { "\(vector) error code \(code)" }
}

@Test("explain's error-code prose names what each bit means",
      arguments: [
        ErrorCodeProseCase(vector: .DF, code: 0, expected: "0: #DF always pushes an error code of 0 (DF-3)"),
        ErrorCodeProseCase(vector: .AC, code: 0, expected: "0: #AC always pushes an error code of 0"),
        ErrorCodeProseCase(vector: .GP, code: 0, expected: "0: no selector is involved (or the null selector)"),
        ErrorCodeProseCase(vector: .GP, code: 0x6B, expected:
            "bit 0 EXT=1 (raised while delivering an event external to the program: an interrupt or an earlier exception); bit 1 IDT=1 (the index is an IDT vector); bit 2 TI=0 (ignored); bits 15..3 index=13 (IDT vector 0xd)"),
        ErrorCodeProseCase(vector: .TS, code: 0x2C, expected:
            "bit 0 EXT=0 (caused by the program); bit 1 IDT=0 (the index is a descriptor-table entry); bit 2 TI=1 (LDT); bits 15..3 index=5 (selector 0x2c)"),
        ErrorCodeProseCase(vector: .PF, code: 0x15, expected:
            "bit 0 P=1 (the page was present: a protection violation); bit 1 W/R=0 (a read); bit 2 U/S=1 (made at CPL 3); bit 3 RSVD=0; bit 4 I/D=1 (an instruction fetch); bit 5 PK=0"),
      ])
func errorCodeProse(_ c: ErrorCodeProseCase) {
    #expect(Explainer.errorCodeBits(c.vector, c.code) == c.expected)
}
