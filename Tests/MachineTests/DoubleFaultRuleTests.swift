// DF-1..DF-4: exception classes, double-fault escalation and the triple fault.
// Expected values are taken from docs/machine-rules.md (section DF), not from the model.

import Testing
@testable import Machine

/// DF-1 as written, with Intel's #CP (21) among the contributory exceptions (SDM Vol. 3A Table 6-4).
private func dfClass(_ v: ExceptionVector) -> ExceptionClass {
    switch v.rawValue {
    case 0, 10, 11, 12, 13, 21: .contributory
    case 14, 20: .pageFault
    default: .benign
    }
}

private func raiseFirst(_ f: inout CPUFixture, _ v: ExceptionVector) -> (DeliveryOutcome, [Fault]) {
    var faults: [Fault] = []
    let pushes: Set<UInt8> = [8, 10, 11, 12, 13, 14, 17, 21]
    let outcome = f.m.raise(Fault(v, code: pushes.contains(v.rawValue) ? 0 : nil, cr2: v == .PF ? 0xDEAD_0000 : nil,
                                  rule: "test", "raised by the test"),
                            returnIP: Addr.code, raised: &faults)
    return (outcome, faults)
}

private func names(_ faults: [Fault]) -> [String] { faults.map(\.vector.name) }

struct ClassCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var first: ExceptionVector
    var testDescription: String { "\(mode) first \(first) (\(dfClass(first))), second #NP" }
}

@Test("DF-1/DF-2: first exception of each class, then a contributory #NP (its gate is not present)",
      arguments: MachineMode.allCases.flatMap { m in ExceptionVector.allCases.filter { $0 != .DF }.map { ClassCase(mode: m, first: $0) } })
func df2ClassTable(_ c: ClassCase) {
    var f = CPUFixture(c.mode, cpl: 0)
    f.setGate(c.first.rawValue, present: false)
    let (outcome, faults) = raiseFirst(&f, c.first)
    let np = UInt32(c.first.rawValue) * 8 + 2 + 1  // INT-5 with EXT = 1
    #expect(faults.count >= 2)
    #expect(faults.dropFirst().first?.vector == .NP)
    #expect(faults.dropFirst().first?.errorCode == np)
    switch dfClass(c.first) {
    case .benign:
        // benign + contributory: serial, the #NP is delivered.
        #expect(names(faults) == [c.first.name, "NP"])
        #expect(outcome == .delivered(vector: 11))
        #expect(f.m.cpu.rip == Addr.handler(11))
        #expect(f.topOfStack() == UInt64(np))
    case .contributory, .pageFault:
        // contributory + contributory, page fault + contributory: #DF.
        #expect(names(faults) == [c.first.name, "NP", "DF"])
        #expect(faults.last?.rule == "DF-2")
        let during = dfClass(c.first) == .pageFault ? "a page fault" : "a contributory exception"
        #expect(faults.last?.reason == "#NP while delivering \(c.first): a contributory exception during \(during) gives a double fault (SDM Vol. 3A Table 6-5)")
        #expect(outcome == .delivered(vector: 8))
        #expect(f.m.cpu.rip == Addr.handler(8))
        #expect(f.topOfStack() == 0, "DF-3: #DF pushes error code 0")
    }
    #expect(!f.m.shutdown)
}

struct ChainCase: Sendable, CustomTestStringConvertible {
    var name: String
    var mode: MachineMode
    var cpl: UInt8 = 0
    var setup: @Sendable (inout CPUFixture) -> Void
    var instr: Instruction
    var expected: [String]
    /// Delivered vector, or nil for a triple fault.
    var delivered: UInt8?
    var testDescription: String { "\(mode) \(name)" }
}

private let badDS = Instruction.movToSegment(.ds, 0x1F8)

private let chainCases: [ChainCase] = MachineMode.allCases.flatMap { mode in [
    ChainCase(name: "#GP, gate not present -> GP, NP, DF", mode: mode, setup: { $0.setGate(13, present: false) },
              instr: badDS, expected: ["GP(1f8)", "NP(6b)", "DF(0)"], delivered: 8),
    ChainCase(name: "#GP beyond the IDT limit -> GP, GP, DF", mode: mode,
              setup: { $0.m.cpu.idtr.limit = UInt32(13 * ($0.is64 ? 16 : 8) - 1) },
              instr: badDS, expected: ["GP(1f8)", "GP(6b)", "DF(0)"], delivered: 8),
    ChainCase(name: "#GP with a bad gate type -> GP, GP, DF", mode: mode,
              setup: { $0.setGate(13, type: .callGate) },
              instr: badDS, expected: ["GP(1f8)", "GP(6b)", "DF(0)"], delivered: 8),
    ChainCase(name: "#NP (segment), #NP gate not present -> NP, NP, DF", mode: mode,
              setup: { f in _ = f.add(CPUFixture.data(dpl: 0, present: false)); f.setGate(11, present: false) },
              instr: .movToSegment(.ds, mode == .ia32 ? 0x50 : 0x58),
              expected: [mode == .ia32 ? "NP(50)" : "NP(58)", "NP(5b)", "DF(0)"], delivered: 8),
    ChainCase(name: "#SS (segment), #SS gate not present -> SS, NP, DF", mode: mode,
              setup: { f in _ = f.add(CPUFixture.data(dpl: 0, present: false)); f.setGate(12, present: false) },
              instr: .movToSegment(.ss, mode == .ia32 ? 0x50 : 0x58),
              expected: [mode == .ia32 ? "SS(50)" : "SS(58)", "NP(63)", "DF(0)"], delivered: 8),
    // benign first: always serial.
    ChainCase(name: "#UD, gate not present -> UD, NP (serial)", mode: mode, setup: { $0.setGate(6, present: false) },
              instr: .movToCS, expected: ["UD", "NP(33)"], delivered: 11),
    // UD -> GP is serial; the #GP's own gate (13) and then #DF's (8) are beyond the limit too.
    ChainCase(name: "#UD beyond the IDT limit -> UD, GP (serial), GP, DF, GP: triple fault", mode: mode,
              setup: { $0.m.cpu.idtr.limit = UInt32(6 * ($0.is64 ? 16 : 8) - 1) },
              instr: .movToCS, expected: ["UD", "GP(33)", "GP(6b)", "DF(0)", "GP(43)"], delivered: nil),
    ChainCase(name: "INT n beyond the IDT limit, #GP gate within it -> GP (software first: serial)", mode: mode,
              setup: { f in f.m.cpu.idtr.limit = UInt32(14 * (f.is64 ? 16 : 8) - 1) },
              instr: .int(0x40), expected: ["GP(202)"], delivered: 13),
    ChainCase(name: "#BP (int3), gate not present -> BP, NP (serial)", mode: mode, setup: { $0.setGate(3, present: false) },
              instr: .int3, expected: ["BP", "NP(1a)"], delivered: 11),
    ChainCase(name: "INT n, gate not present -> NP without EXT (serial)", mode: mode, setup: { $0.setGate(0x40, present: false) },
              instr: .int(0x40), expected: ["NP(202)"], delivered: 11),
    ChainCase(name: "#DB (int1), gate not present -> DB, NP (serial)", mode: mode, setup: { $0.setGate(1, present: false) },
              instr: .int1, expected: ["DB", "NP(b)"], delivered: 11),
    ChainCase(name: "#UD, #UD and #NP gates not present -> UD, NP, NP, DF", mode: mode,
              setup: { $0.setGate(6, present: false); $0.setGate(11, present: false) },
              instr: .movToCS, expected: ["UD", "NP(33)", "NP(5b)", "DF(0)"], delivered: 8),
    // DF-4: a fault while delivering #DF shuts the processor down.
    ChainCase(name: "#GP, GP and DF gates not present -> triple fault", mode: mode,
              setup: { $0.setGate(13, present: false); $0.setGate(8, present: false) },
              instr: badDS, expected: ["GP(1f8)", "NP(6b)", "DF(0)", "NP(43)"], delivered: nil),
    ChainCase(name: "#GP, DF gate with a bad target CS -> triple fault", mode: mode,
              setup: { $0.setGate(13, present: false); $0.setGate(8, selector: Sel.kernelData) },
              instr: badDS, expected: ["GP(1f8)", "NP(6b)", "DF(0)", "GP(11)"], delivered: nil),
    ChainCase(name: "#UD, UD/NP/DF gates not present -> triple fault", mode: mode,
              setup: { $0.setGate(6, present: false); $0.setGate(11, present: false); $0.setGate(8, present: false) },
              instr: .movToCS, expected: ["UD", "NP(33)", "NP(5b)", "DF(0)", "NP(43)"], delivered: nil),
    // From CPL 3 with an unusable ring-0 stack every delivery fails.
    ChainCase(name: "CPL3 #GP with TSS.SS0/RSP0 unusable -> triple fault", mode: mode, cpl: 3,
              setup: { f in if f.is64 { f.tssWrite(4, 0x0000_8000_0000_0000, 8) } else { f.tssWrite(8, 0, 2) } },
              instr: badDS, expected: mode == .ia32 ? ["GP(1f8)", "TS(1)", "DF(0)", "TS(1)"] : ["GP(1f8)", "SS(1)", "DF(0)", "SS(1)"],
              delivered: nil),
    ChainCase(name: "CPL3 #UD with TSS.SS0/RSP0 unusable -> triple fault", mode: mode, cpl: 3,
              setup: { f in if f.is64 { f.tssWrite(4, 0x0000_8000_0000_0000, 8) } else { f.tssWrite(8, 0, 2) } },
              instr: .movToCS,
              expected: mode == .ia32 ? ["UD", "TS(1)", "TS(1)", "DF(0)", "TS(1)"] : ["UD", "SS(1)", "SS(1)", "DF(0)", "SS(1)"],
              delivered: nil),
] }

@Test("DF-2/DF-4: escalation chains", arguments: chainCases)
func df2Chains(_ c: ChainCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    c.setup(&f)
    let r = f.run(c.instr)
    #expect(faultList(r) == c.expected)
    if let v = c.delivered {
        #expect(r.delivery == .delivered(vector: v))
        #expect(f.m.cpu.rip == Addr.handler(v))
        #expect(!f.m.shutdown)
        if v == 8 { #expect(f.topOfStack() == 0, "DF-3") }
    } else {
        #expect(r.delivery == .shutdown)
        #expect(f.m.shutdown, "DF-4: triple fault")
        #expect(r.faults.last.map { $0.vector != .DF } == true)
        // A shut-down CPU executes nothing more.
        let after = f.run(.int(0x40))
        #expect(after.faults.isEmpty && after.delivery == nil)
    }
}

@Test("DF-1: #CP (21) is contributory, as SDM Vol. 3A Table 6-4 and Bochs's exceptions_info list it: its not-present gate's #NP is a #DF",
      arguments: MachineMode.allCases)
func df1ControlProtectionIsContributory(_ mode: MachineMode) {
    #expect(ExceptionVector.CP.exceptionClass == .contributory)
    var f = CPUFixture(mode, cpl: 0)
    f.setGate(21, present: false)
    let (outcome, faults) = raiseFirst(&f, .CP)
    #expect(names(faults) == ["CP", "NP", "DF"])
    #expect(faults.dropFirst().first?.errorCode == UInt32(21 * 8 + 2 + 1))
    #expect(outcome == .delivered(vector: 8))
    #expect(f.topOfStack() == 0, "DF-3: #DF pushes error code 0")
}

@Test("DF-4: a fault while delivering a directly raised #DF is a triple fault", arguments: MachineMode.allCases)
func df4DirectDF(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 0)
    f.setGate(8, present: false)
    let (outcome, faults) = raiseFirst(&f, .DF)
    #expect(names(faults) == ["DF", "NP"])
    #expect(outcome == .shutdown)
    #expect(f.m.shutdown)
}

@Test("DF-2: #PF then a contributory fault is #DF; the saved EIP of #DF is the faulting instruction's",
      arguments: MachineMode.allCases)
func df2PageFaultFirst(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 0)
    f.setGate(14, present: false)
    let (outcome, faults) = raiseFirst(&f, .PF)
    #expect(names(faults) == ["PF", "NP", "DF"])
    #expect(outcome == .delivered(vector: 8))
    #expect(f.m.cpu.cr2 == 0xDEAD_0000, "CR2 set by the #PF")
    let w = mode == .x86_64 ? 8 : 4
    #expect(f.stack(f.m.cpu[.rsp], 2, width: w) == [0, Addr.code])
}

@Test("DF-2 / TASK-7: a #DF through an IDT task gate switches task and pushes error code 0 on the new stack")
func df2TaskGateDF() {
    var f = CPUFixture(.ia32, cpl: 3)
    let b = f.addTask(dpl: 0)
    f.setGate(13, present: false)
    f.setGate(8, type: .taskGate, selector: b, offset: 0, dpl: 0)
    let r = f.run(.movToSegment(.ds, 0x1F8))
    #expect(faultList(r) == ["GP(1f8)", "NP(6b)", "DF(0)"])
    #expect(r.delivery == .delivered(vector: 8))
    #expect(f.m.cpu.tr.selector == b)
    #expect(f.m.cpu.rip == 0x3000)
    #expect(f.m.cpu[.rsp] == 0x60000 - 4)
    #expect(f.read(0x60000 - 4, 4) == 0)
    #expect(f.tssRead(TSS32.link, 2, base: 0x7000) == UInt64(Sel.tss))
    #expect(f.m.cpu.rflags & RFLAGS.nt != 0)
}

// MARK: page faults during delivery (real paging unit)

struct PagedCase: Sendable, CustomTestStringConvertible {
    var name: String
    var mode: MachineMode
    var first: ExceptionVector
    /// Vectors whose gates go to a conforming DPL-0 handler (same privilege: the mapped user stack).
    var conformingGates: [UInt8]
    var expected: [String]
    var delivered: UInt8?
    var testDescription: String { "\(mode) \(name)" }
}

private let pagedCases: [PagedCase] = MachineMode.allCases.flatMap { mode in [
    PagedCase(name: "page fault + page fault -> #DF", mode: mode, first: .PF, conformingGates: [8],
              expected: ["PF", "PF", "DF"], delivered: 8),
    PagedCase(name: "page fault + page fault -> #DF; #DF delivery page-faults -> triple fault", mode: mode, first: .PF,
              conformingGates: [], expected: ["PF", "PF", "DF", "PF"], delivered: nil),
    PagedCase(name: "contributory + page fault -> serial", mode: mode, first: .GP, conformingGates: [14],
              expected: ["GP", "PF"], delivered: 14),
    PagedCase(name: "contributory #TS + page fault -> serial", mode: mode, first: .TS, conformingGates: [14],
              expected: ["TS", "PF"], delivered: 14),
    PagedCase(name: "benign + page fault -> serial", mode: mode, first: .UD, conformingGates: [14],
              expected: ["UD", "PF"], delivered: 14),
    PagedCase(name: "benign NMI + page fault -> serial", mode: mode, first: .NMI, conformingGates: [14],
              expected: ["NMI", "PF"], delivered: 14),
    PagedCase(name: "#VE (page-fault class) + page fault -> #DF", mode: mode, first: .VE, conformingGates: [8],
              expected: ["VE", "PF", "DF"], delivered: 8),
    PagedCase(name: "contributory + page fault (serial), whose delivery page-faults -> #DF", mode: mode, first: .GP,
              conformingGates: [8], expected: ["GP", "PF", "PF", "DF"], delivered: 8),
] }

@Test("DF-2: the page-fault column (a push to an unmapped ring-0 stack page-faults)", arguments: pagedCases)
func df2PageFaultColumn(_ c: PagedCase) throws {
    var f = CPUFixture(c.mode, cpl: 3)
    let pm: PagingMode = c.mode == .x86_64 ? .level4 : .bits32
    let cr3 = try f.m.paging.createAddressSpace(mode: pm)
    // Only the user stack is mapped (user, writable); the TSS's ring-0 stack at 0x20000 is not.
    try f.m.paging.map(PageMapping(virt: 0x2D000, phys: 0x2D000, count: 4,
                                   leaf: EntryFlags(present: true, writable: true, user: true)),
                       cr3: cr3, mode: pm, pse: false, nxe: false)
    f.m.pagingMode = pm
    f.m.cpu.cr3 = cr3
    let conf = f.add(CPUFixture.code(dpl: 0, conforming: true, long: c.mode == .x86_64))
    for v in c.conformingGates { f.setGate(v, selector: conf) }
    let (outcome, faults) = raiseFirst(&f, c.first)
    #expect(names(faults) == c.expected)
    if let v = c.delivered {
        #expect(outcome == .delivered(vector: v))
        #expect(f.m.cpu.rip == Addr.handler(v))
        #expect(f.m.cpu.cpl == 3, "conforming handler")
        #expect(!f.m.shutdown)
        if v == 14 { #expect(f.m.cpu.cr2 == (c.mode == .x86_64 ? 0x1FFF8 : 0x1FFFC), "CR2 = the failed push") }
    } else {
        #expect(outcome == .shutdown)
        #expect(f.m.shutdown)
    }
}

@Test("DF-2: the #DF's reason names the classes as SDM Table 6-4 does ('page fault', not the Swift case name)")
func df2ReasonNamesThePageFaultClass() {
    var f = CPUFixture(.ia32, cpl: 0)
    f.setGate(14, present: false)
    let (_, faults) = raiseFirst(&f, .PF)
    #expect(faults.last?.reason.contains("a contributory exception during a page fault") == true, "\(faults.last?.reason ?? "")")
    #expect("\(ExceptionClass.pageFault)" == "a page fault")
}
