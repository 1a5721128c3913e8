// Encoded lengths of the register forms that take a REX prefix in 64-bit mode. The saved return address of a
// trap and the RIP after a completed `exec` step come from these lengths. Worked out from the SDM's opcode
// tables (Vol. 2B MOV to/from control registers: "REX.R + 0F 22 /0 MOV CR8, r64"; Vol. 2 §2.2.1 REX prefixes:
// R8-R15 need REX.B, one REX byte carries R, B and W together), not from the model.

import Testing
@testable import Machine

@Test("MOV to/from CRn: 0F 22 /r and 0F 20 /r, one REX byte more for CR8 or R8-R15", arguments: [
    (Instruction.movToCR(0, .rax), UInt64(3)),         // 0F 22 C0
    (.movFromCR(.rax, 3), 3),                          // 0F 20 D8
    (.movToCR(8, .rax), 4),                            // 44 0F 22 C0
    (.movFromCR(.rbx, 8), 4),                          // 44 0F 20 C3
    (.movToCR(0, .r9), 4),                             // 41 0F 22 C1
    (.movFromCR(.r15, 4), 4),                          // 41 0F 20 E7
    (.movToCR(8, .r10), 4),                            // 45 0F 22 C2
])
func movControlRegisterLength(_ instruction: Instruction, _ length: UInt64) {
    #expect(instruction.length(in64BitMode: true) == length)
}

@Test("MOV CRn in legacy and compatibility mode has no REX: 3 bytes")
func movControlRegisterLegacyLength() {
    #expect(Instruction.movToCR(4, .rax).length(in64BitMode: false) == 3)
    #expect(Instruction.movFromCR(.rdi, 2).length(in64BitMode: false) == 3)
}

@Test("R8-R15 in MOV r, imm and MOV Sreg forms take a REX.B byte (REX.W forms already have one)", arguments: [
    (Instruction.movImmediate(.r9, 5, width: 4), UInt64(6)),       // 41 B9 id
    (.movImmediate(.r9, 5, width: 2), 5),                          // 66 41 B9 iw
    (.movImmediate(.r9, 5, width: 8), 10),                         // 49 B9 io
    (.movImmediate(.rcx, 5, width: 4), 5),                         // B9 id
    (.movRegisterToSegment(.ds, .r9), 3),                          // 41 8E D9
    (.movRegisterToSegment(.ds, .rcx), 2),                         // 8E D9
    (.movSegmentToRegister(.r9, .ds, width: 4), 3),                // 41 8C D9
    (.movSegmentToRegister(.r9, .ds, width: 2), 4),                // 66 41 8C D9
    (.movSegmentToRegister(.r9, .ds, width: 8), 3),                // 49 8C D9
])
func rexRegisterLength(_ instruction: Instruction, _ length: UInt64) {
    #expect(instruction.length(in64BitMode: true) == length)
}

@Test("INVLPG [disp32]: 7 bytes in 32-bit code, 8 in 64-bit mode, where the absolute form needs a SIB byte")
func invlpgLength() {
    #expect(Instruction.invlpg(0x0804_8000).length(in64BitMode: false) == 7)   // 0F 01 3D d32
    #expect(Instruction.invlpg(0x0060_0000).length(in64BitMode: true) == 8)    // 0F 01 3C 25 d32
}

@Test("MOV CRn of a control register that does not exist is #UD under ISA-1 (invalid opcode), before the CPL check",
      arguments: [(MachineMode.ia32, 5, UInt8(3)), (.ia32, 8, 0), (.x86_64, 1, 3), (.x86_64, 7, 0)])
func missingControlRegisterIsAnInvalidOpcode(_ mode: MachineMode, _ n: Int, _ cpl: UInt8) {
    var f = CPUFixture(mode, cpl: cpl)
    let r = f.run(.movToCR(n, .rax))
    #expect(faultList(r) == ["UD"])
    #expect(r.faults.first?.rule == "ISA-1")
    let read = f.run(.movFromCR(.rax, n))
    #expect(read.faults.first?.rule == "ISA-1")
}
