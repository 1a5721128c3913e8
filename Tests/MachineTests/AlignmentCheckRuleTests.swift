// AC-1: the alignment check (SDM Vol. 3A §6.15 "Interrupt 17 - Alignment Check Exception", §2.3 EFLAGS.AC,
// §2.5 CR0.AM). Expected values come from the SDM text, not from the model: #AC(0) exactly when CR0.AM = 1,
// EFLAGS.AC = 1, CPL = 3 and a data or stack access is not aligned on its size.

import Testing
@testable import Machine

struct AlignmentCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var cpl: UInt8
    var am: Bool
    var ac: Bool
    var instruction: Instruction
    var expect: Expected?
    var testDescription: String {
        "\(mode) CPL\(cpl) AM=\(am ? 1 : 0) AC=\(ac ? 1 : 0) \(instruction) -> \(expect.map { "\($0)" } ?? "ok")"
    }
}

private let alignmentCases: [AlignmentCase] = {
    var c: [AlignmentCase] = []
    let ac = Expected(.AC, 0, "AC-1")
    for mode in MachineMode.allCases {
        for (addr, size, misaligned) in [(0x8001, 4, true), (0x8002, 4, true), (0x8004, 4, false), (0x8001, 2, true),
                                         (0x8002, 2, false), (0x8004, 8, true), (0x8008, 8, false)] as [(UInt64, Int, Bool)] {
            // 8-byte operands (REX.W) exist only in 64-bit mode (ISA-1: refused elsewhere).
            if size == 8 && mode != .x86_64 { continue }
            for cpl in [UInt8(0), 3] {
                for (am, acFlag) in [(true, true), (true, false), (false, true)] {
                    let faults = misaligned && cpl == 3 && am && acFlag
                    c.append(AlignmentCase(mode: mode, cpl: cpl, am: am, ac: acFlag,
                                           instruction: .load(.rax, address: addr, size: size), expect: faults ? ac : nil))
                    c.append(AlignmentCase(mode: mode, cpl: cpl, am: am, ac: acFlag,
                                           instruction: .store(address: addr, .rax, size: size), expect: faults ? ac : nil))
                }
            }
        }
    }
    return c
}()

@Test("AC-1: misaligned data accesses at CPL 3 with CR0.AM and EFLAGS.AC raise #AC(0)", arguments: alignmentCases)
func ac1DataAccesses(_ c: AlignmentCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    if c.am { f.m.cpu.cr0 |= CR0.am }
    if c.ac { f.m.cpu.rflags |= RFLAGS.ac }
    let r = f.run(c.instruction)
    expectFirst(r, c.expect)
    if c.expect != nil {
        // #AC is a fault: the handler (at CPL 0) finds error code 0 on its stack.
        #expect(f.m.cpu.cpl == 0)
        #expect(f.topOfStack() == 0)
    }
}

struct AlignmentStackCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var stack: UInt64
    var expect: Expected?
    var testDescription: String { "\(mode) far CALL at CPL 3 with SP 0x\(String(stack, radix: 16)) -> \(expect.map { "\($0)" } ?? "ok")" }
}

@Test("AC-1: the pushes of a far CALL at CPL 3 are checked", arguments: [
    AlignmentStackCase(mode: .ia32, stack: 0x30000, expect: nil),
    AlignmentStackCase(mode: .ia32, stack: 0x30002, expect: Expected(.AC, 0, "AC-1")),
    AlignmentStackCase(mode: .x86_64, stack: 0x30000, expect: nil),
    AlignmentStackCase(mode: .x86_64, stack: 0x30004, expect: Expected(.AC, 0, "AC-1")),
])
func ac1FarCallPushes(_ c: AlignmentStackCase) {
    var f = CPUFixture(c.mode, cpl: 3)
    f.m.cpu.cr0 |= CR0.am
    f.m.cpu.rflags |= RFLAGS.ac
    f.m.cpu[.rsp] = c.stack
    let r = f.run(.callFar(selector: Sel.userCode, offset: 0x2000))
    expectFirst(r, c.expect)
}
