// INT-15: RF (EFLAGS bit 16) in the EFLAGS image an event saves. SDM Vol. 3B §17.3.1.1 ("for any
// fault-class exception except a debug exception generated in response to an instruction breakpoint,
// the value pushed for RF is 1"; software interrupts push 0, since RF is cleared at the start of the
// instruction; an interrupt arriving between instructions pushes EFLAGS.RF as it is). Bochs: exception()
// asserts RF for its fault class (which lists #DF) except #DB; INT n, INT3, INTO, INT1 do not go through it.

import Testing
@testable import Machine

/// What raises the event.
enum RFEvent: String, Sendable {
    /// `mov ds, 0x1FB`: #GP(0x1F8), a fault with an error code.
    case gpFault
    /// `mov cs, ...`: #UD, a fault without one.
    case udFault
    /// INT 0x40: a software interrupt.
    case intN
    /// INT3, INTO, INT1: traps.
    case int3, into, int1
    /// An external interrupt on vector 0x40, between instructions.
    case external
}

struct RFCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var event: RFEvent
    /// RF in EFLAGS before the event (as an IRET that restored a fault frame leaves it).
    var rfBefore: Bool
    var gate: SystemType = .interruptGate
    /// RF in the pushed image (a 16-bit gate pushes FLAGS[15:0], which cannot hold it).
    var pushedRF: Bool
    var testDescription: String { "\(mode) \(event) RF before \(rfBefore ? 1 : 0) via \(gate) -> pushed RF \(pushedRF ? 1 : 0)" }
}

private let rfCases: [RFCase] = {
    var c: [RFCase] = []
    for mode in MachineMode.allCases {
        for before in [false, true] {
            c.append(RFCase(mode: mode, event: .gpFault, rfBefore: before, pushedRF: true))
            c.append(RFCase(mode: mode, event: .udFault, rfBefore: before, pushedRF: true))
            c.append(RFCase(mode: mode, event: .intN, rfBefore: before, pushedRF: false))
            c.append(RFCase(mode: mode, event: .int3, rfBefore: before, pushedRF: false))
            c.append(RFCase(mode: mode, event: .int1, rfBefore: before, pushedRF: false))
            if mode == .ia32 {
                c.append(RFCase(mode: mode, event: .into, rfBefore: before, pushedRF: false))
                c.append(RFCase(mode: mode, event: .gpFault, rfBefore: before, gate: .trapGate, pushedRF: true))
                c.append(RFCase(mode: mode, event: .gpFault, rfBefore: before, gate: .interruptGate16, pushedRF: false))
            }
            c.append(RFCase(mode: mode, event: .external, rfBefore: before, pushedRF: before))
        }
    }
    return c
}()

@Test("INT-15: faults push RF=1; INT n, INT3, INTO, INT1 push 0; an interrupt between instructions pushes EFLAGS.RF",
      arguments: rfCases)
func int15ResumeFlagInFrame(_ c: RFCase) {
    var f = CPUFixture(c.mode, cpl: 3)
    let vector: UInt8
    switch c.event {
    case .gpFault: vector = 13
    case .udFault: vector = 6
    case .intN, .external: vector = 0x40
    case .int3: vector = 3
    case .into: vector = 4
    case .int1: vector = 1
    }
    f.setGate(vector, type: c.gate, dpl: 3)
    f.m.cpu.rflags = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.of | (c.rfBefore ? RFLAGS.rf : 0)
    var r = ExecutionResult()
    switch c.event {
    case .gpFault: r = f.run(.movToSegment(.ds, 0x1FB))
    case .udFault: r = f.run(.movToCS)
    case .intN: r = f.run(.int(vector))
    case .int3: r = f.run(.int3)
    case .into: r = f.run(.into)
    case .int1: r = f.run(.int1)
    case .external:
        r.delivery = f.m.deliverWithEscalation(InterruptEvent(vector: vector, source: .external, returnIP: f.m.cpu.rip),
                                               raised: &r.faults)
    }
    #expect(r.delivery == .delivered(vector: vector))
    #expect(f.m.cpu.rip == (c.gate == .interruptGate16 ? Addr.handler(vector) & 0xFFFF : Addr.handler(vector)))
    let width = c.mode == .x86_64 ? 8 : (c.gate == .interruptGate16 ? 2 : 4)
    let slot = c.event == .gpFault ? 3 : 2  // [error code,] EIP, CS, EFLAGS
    let image = f.read(f.m.cpu[.rsp] + UInt64(slot * width), width)
    #expect((image & RFLAGS.rf != 0) == c.pushedRF, "pushed EFLAGS 0x\(String(image, radix: 16))")
    #expect(image & RFLAGS.if != 0, "the rest of the image is EFLAGS as it was")
    #expect(f.m.cpu.rflags & RFLAGS.rf == 0, "INT-9: the handler starts with RF clear")
}

@Test("INT-15: the vectors whose delivery sets RF are the fault-class ones of SDM Table 6-1, with #DF, without #DB",
      arguments: ExceptionVector.allCases)
func int15FaultClassVectors(_ v: ExceptionVector) {
    let expected: Set<ExceptionVector> = [.DE, .BR, .UD, .NM, .DF, .TS, .NP, .SS, .GP, .PF, .MF, .AC, .XM, .VE, .CP]
    #expect(v.setsResumeFlag == expected.contains(v))
    #expect(InterruptEvent(vector: v.rawValue, source: .exception, returnIP: 0).setsResumeFlag == expected.contains(v))
    #expect(!InterruptEvent(vector: v.rawValue, source: .softwareInterrupt, returnIP: 0).setsResumeFlag, "INT n never sets it")
    #expect(!InterruptEvent(vector: v.rawValue, source: .external, returnIP: 0).setsResumeFlag, "nor an external interrupt")
}

@Test("INT-15: the #DF frame after a contributory fault carries RF=1", arguments: MachineMode.allCases)
func int15DoubleFaultFrame(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 3)
    f.setGate(13, present: false)
    let r = f.run(.movToSegment(.ds, 0x1FB))
    #expect(r.faults.map(\.vector) == [.GP, .NP, .DF])
    #expect(r.delivery == .delivered(vector: 8))
    let w = mode == .x86_64 ? 8 : 4
    let image = f.read(f.m.cpu[.rsp] + UInt64(3 * w), w)  // error code, EIP, CS, EFLAGS
    #expect(image & RFLAGS.rf != 0)
    #expect(f.m.cpu.rflags & RFLAGS.rf == 0)
}

@Test("INT-15: IRET restores RF from a fault frame; the next instruction clears it at its start",
      arguments: MachineMode.allCases)
func int15IretRestoresThenNextInstructionClears(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 0)
    let r = f.run(.movToCS)  // #UD at CPL 0: no error code, the frame IRET pops as it is
    #expect(r.faults.map(\.vector) == [.UD])
    expectFirst(f.run(.iret(width: nil)), nil)
    #expect(f.m.cpu.rip == Addr.code, "back at the faulting instruction")
    #expect(f.m.cpu.rflags & RFLAGS.rf != 0, "RF from the image, so that an instruction breakpoint does not fire again")
    expectFirst(f.run(.nop), nil)
    #expect(f.m.cpu.rflags & RFLAGS.rf == 0, "cleared by the instruction that ran")
}

@Test("INT-15: a fault through a task gate saves RF=1 in the old task's TSS")
func int15TaskGateSavesRF() {
    var f = CPUFixture(.ia32, cpl: 0)
    // A second 32-bit TSS the #UD task gate switches to; its image runs ring-0 code on the kernel stack.
    let tssB: UInt64 = 0x7000
    var image = [UInt8](repeating: 0, count: 0x68)
    func put(_ off: Int, _ size: Int, _ v: UInt64) {
        for i in 0..<size { image[off + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) }
    }
    put(0x20, 4, Addr.handler(6))
    put(0x24, 4, RFLAGS.reserved1)
    put(0x38, 4, 0x48000)
    put(0x4C, 2, UInt64(Sel.kernelCode))
    for off in [0x48, 0x50, 0x54] { put(off, 2, UInt64(Sel.kernelData)) }
    f.m.tssImages[tssB] = image
    let b = f.addSystem(Descriptor.system(base: tssB, limit: 0x67, type: .tssAvailable, dpl: 0, present: true))
    f.setGateRaw(6, low: Descriptor.gate(type: .taskGate, selector: b, offset: 0, dpl: 0, present: true).low.raw)
    let r = f.run(.movToCS)
    #expect(r.faults.map(\.vector) == [.UD])
    #expect(r.delivery == .delivered(vector: 6))
    #expect(f.m.cpu.tr.selector & 0xFFFC == b)
    #expect(f.tssRead(0x24, 4) & RFLAGS.rf != 0, "EFLAGS saved in the old TSS has RF")
    #expect(f.tssRead(0x20, 4) == Addr.code, "the saved EIP is the faulting instruction's")
}
