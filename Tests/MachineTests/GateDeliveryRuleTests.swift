// INT-2..INT-11: delivery of interrupts and exceptions through the IDT.
// Expected values are taken from docs/machine-rules.md (section INT), not from the model.

import Testing
@testable import Machine

/// How the event is produced.
enum EventSource: String, Sendable, CaseIterable {
    /// INT n (EXT = 0, gate DPL checked).
    case intN
    /// An external interrupt (EXT = 1, gate DPL ignored).
    case external
}

private func fire(_ f: inout CPUFixture, _ vector: UInt8, _ source: EventSource) -> ExecutionResult {
    switch source {
    case .intN:
        return f.run(.int(vector))
    case .external:
        var r = ExecutionResult()
        r.delivery = f.m.deliverWithEscalation(InterruptEvent(vector: vector, source: .external, returnIP: f.m.cpu.rip),
                                               raised: &r.faults)
        return r
    }
}

private func ext(_ s: EventSource) -> UInt32 { s == .external ? 1 : 0 }

/// A gate word with an arbitrary type nibble and S bit.
private func rawGate(type: UInt8, s: Bool = false, dpl: UInt8 = 0, present: Bool = true, vector: UInt8) -> UInt64 {
    var raw = Descriptor.gate(type: .interruptGate, selector: Sel.kernelCode, offset: Addr.handler(vector), dpl: dpl,
                              present: present).low.raw
    raw &= ~(UInt64(0x1F) << 40)
    raw |= UInt64(type & 0xF) << 40
    if s { raw |= 1 << 44 }
    return raw
}

// MARK: INT-2 gate DPL

struct DPLCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var instr: String
    var cpl: UInt8
    var dpl: UInt8
    var testDescription: String { "\(mode) \(instr) CPL\(cpl) gate DPL\(dpl)" }
}

private let dplCases: [DPLCase] = {
    var c: [DPLCase] = []
    for mode in MachineMode.allCases {
        for instr in ["int 0x40", "int3", "into", "int1", "#UD", "external"] where !(mode == .x86_64 && instr == "into") {
            for cpl in UInt8(0)...3 { for dpl in UInt8(0)...3 { c.append(DPLCase(mode: mode, instr: instr, cpl: cpl, dpl: dpl)) } }
        }
    }
    return c
}()

@Test("INT-2: gate DPL is checked for INT n, INT3, INTO only", arguments: dplCases)
func int2GateDPL(_ c: DPLCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    let vector: UInt8
    let r: ExecutionResult
    var leading: [ExceptionVector] = []
    var software = true
    switch c.instr {
    case "int 0x40":
        vector = 0x40
        f.setGate(vector, dpl: c.dpl)
        r = f.run(.int(vector))
    case "int3":
        vector = 3
        f.setGate(vector, dpl: c.dpl)
        r = f.run(.int3)
        leading = [.BP]
    case "into":
        vector = 4
        f.setGate(vector, dpl: c.dpl)
        f.m.cpu.rflags |= RFLAGS.of
        r = f.run(.into)
        leading = [.OF]
    case "int1":
        vector = 1
        f.setGate(vector, dpl: c.dpl)
        r = f.run(.int1)
        leading = [.DB]
        software = false
    case "#UD":
        vector = 6
        f.setGate(vector, dpl: c.dpl)
        r = f.run(.movToCS)
        leading = [.UD]
        software = false
    default:
        vector = 0x40
        f.setGate(vector, dpl: c.dpl)
        r = fire(&f, vector, .external)
        software = false
    }
    #expect(Array(r.faults.prefix(leading.count)).map(\.vector) == leading)
    let rest = Array(r.faults.dropFirst(leading.count))
    if software && c.dpl < c.cpl {
        #expect(rest.count == 1)
        #expect(rest.first?.vector == .GP)
        #expect(rest.first?.errorCode == UInt32(vector) * 8 + 2, "INT-2: #GP(vector*8+2), EXT clear")
        #expect(rest.first?.rule == "INT-2")
        #expect(f.m.cpu.rip == Addr.handler(13))
        #expect(f.topOfStack() == UInt64(vector) * 8 + 2)
    } else {
        #expect(rest.isEmpty, "\(rest)")
        #expect(r.delivery == .delivered(vector: vector))
        #expect(f.m.cpu.rip == Addr.handler(vector))
        #expect(f.m.cpu.cpl == 0)
    }
}

// MARK: INT-3 IDT limit

struct IDTLimitCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var source: EventSource
    /// Limit relative to the last byte of the gate (0 = exactly covers it).
    var delta: Int
    var testDescription: String { "\(mode) \(source) limit = end\(delta >= 0 ? "+" : "")\(delta)" }
}

@Test("INT-3: vector*8+7 (legacy) / vector*16+15 (long) must be within IDTR.limit",
      arguments: MachineMode.allCases.flatMap { m in EventSource.allCases.flatMap { s in [-1, 0, 1, -8].map { IDTLimitCase(mode: m, source: s, delta: $0) } } })
func int3IDTLimit(_ c: IDTLimitCase) {
    var f = CPUFixture(c.mode, cpl: 0)
    let v: UInt8 = 0x40
    let size = c.mode == .x86_64 ? 16 : 8
    f.m.cpu.idtr.limit = UInt32(Int(v) * size + size - 1 + c.delta)
    let r = fire(&f, v, c.source)
    if c.delta >= 0 {
        expectFirst(r, nil)
        #expect(f.m.cpu.rip == Addr.handler(v))
    } else {
        expectFirst(r, Expected(.GP, UInt32(v) * 8 + 2 + ext(c.source), "INT-3"))
        #expect(f.m.cpu.rip == Addr.handler(13))
    }
}

// MARK: INT-4 gate type

struct GateTypeCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var source: EventSource
    var type: UInt8
    var s: Bool = false
    var valid: Bool
    var rule: String = "INT-4"
    var testDescription: String { "\(mode) \(source) \(s ? "S=1 " : "")type 0x\(String(type, radix: 16))" }
}

private let gateTypeCases: [GateTypeCase] = {
    var c: [GateTypeCase] = []
    for source in EventSource.allCases {
        for t in UInt8(0)...15 where t != 5 {
            // SEG-4 / INT-4: legacy 6, 7, E, F (and 5, tested in TaskSwitchRuleTests) are valid.
            c.append(GateTypeCase(mode: .ia32, source: source, type: t, valid: [6, 7, 0xE, 0xF].contains(t)))
            // Long mode: only E and F; a task gate (5) -> #GP(vector*8+2+EXT) too (TASK-9).
            c.append(GateTypeCase(mode: .x86_64, source: source, type: t, valid: [0xE, 0xF].contains(t)))
        }
        c.append(GateTypeCase(mode: .x86_64, source: source, type: 5, valid: false, rule: "TASK-9"))
        for mode in MachineMode.allCases {
            c.append(GateTypeCase(mode: mode, source: source, type: 0xB, s: true, valid: false))
            c.append(GateTypeCase(mode: mode, source: source, type: 0x3, s: true, valid: false))
        }
    }
    return c
}()

@Test("INT-4: gate type", arguments: gateTypeCases)
func int4GateType(_ c: GateTypeCase) {
    var f = CPUFixture(c.mode, cpl: 0)
    let v: UInt8 = 0x40
    f.setGateRaw(v, low: rawGate(type: c.type, s: c.s, vector: v))
    let r = fire(&f, v, c.source)
    if c.valid {
        expectFirst(r, nil)
        #expect(f.m.cpu.rip == Addr.handler(v) & (c.type < 8 ? 0xFFFF : 0xFFFF_FFFF))
    } else {
        expectFirst(r, Expected(.GP, UInt32(v) * 8 + 2 + ext(c.source), c.rule))
        #expect(f.m.cpu.rip == Addr.handler(13))
    }
}

struct GateOrderCase: Sendable, CustomTestStringConvertible {
    var name: String
    var mode: MachineMode
    var low: UInt64
    var high: UInt64 = 0
    var cpl: UInt8
    var source: EventSource
    var expect: Expected
    var testDescription: String { "\(mode) \(name)" }
}

private let v40: UInt8 = 0x40
private let gateOrderCases: [GateOrderCase] = MachineMode.allCases.flatMap { mode in [
    // INT-5 order: limit, type, DPL (software only), present.
    GateOrderCase(name: "call gate DPL0 from CPL3: type before DPL", mode: mode, low: rawGate(type: 0xC, dpl: 0, vector: v40),
                  cpl: 3, source: .intN, expect: Expected(.GP, 0x202, "INT-4")),
    GateOrderCase(name: "bad type P=0: type before present", mode: mode, low: rawGate(type: 0x9, dpl: 3, present: false, vector: v40),
                  cpl: 0, source: .external, expect: Expected(.GP, 0x203, "INT-4")),
    GateOrderCase(name: "DPL0 P=0 int n from CPL3: DPL before present", mode: mode,
                  low: rawGate(type: 0xE, dpl: 0, present: false, vector: v40), cpl: 3, source: .intN, expect: Expected(.GP, 0x202, "INT-2")),
    // INT-5: not present -> #NP(vector*8+2+EXT).
    GateOrderCase(name: "P=0 int n", mode: mode, low: rawGate(type: 0xE, dpl: 3, present: false, vector: v40),
                  cpl: 3, source: .intN, expect: Expected(.NP, 0x202, "INT-5")),
    GateOrderCase(name: "P=0 trap gate int n CPL0", mode: mode, low: rawGate(type: 0xF, dpl: 0, present: false, vector: v40),
                  cpl: 0, source: .intN, expect: Expected(.NP, 0x202, "INT-5")),
    GateOrderCase(name: "P=0 external", mode: mode, low: rawGate(type: 0xE, dpl: 0, present: false, vector: v40),
                  cpl: 3, source: .external, expect: Expected(.NP, 0x203, "INT-5")),
] } + [
    GateOrderCase(name: "64-bit gate with upper type field != 0", mode: .x86_64, low: rawGate(type: 0xE, dpl: 3, vector: v40),
                  high: UInt64(0xE) << 40, cpl: 3, source: .intN, expect: Expected(.GP, 0x202, "INT-4")),
    GateOrderCase(name: "64-bit gate with upper type field != 0, external", mode: .x86_64, low: rawGate(type: 0xE, dpl: 3, vector: v40),
                  high: UInt64(0x1) << 40, cpl: 0, source: .external, expect: Expected(.GP, 0x203, "INT-4")),
]

@Test("INT-4/5: check order limit, type, DPL, present; #NP(vector*8+2+EXT)", arguments: gateOrderCases)
func int5GateOrder(_ c: GateOrderCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    f.setGateRaw(v40, low: c.low, high: c.high)
    let r = fire(&f, v40, c.source)
    expectFirst(r, c.expect)
    #expect(f.m.cpu.rip == Addr.handler(c.expect.vector.rawValue))
    #expect(f.topOfStack() == UInt64(c.expect.code!))
}

@Test("INT-5: an exception whose gate is not present raises #NP with EXT set", arguments: MachineMode.allCases)
func int5ExceptionEXT(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 3)
    f.setGate(6, present: false)
    let r = f.run(.movToCS)
    #expect(faultList(r) == ["UD", "NP(33)"], "#NP(6*8+2+1)")
    #expect(r.faults.last?.rule == "INT-5")
    #expect(f.m.cpu.rip == Addr.handler(11))
    #expect(f.topOfStack() == 0x33)
}

// MARK: INT-6 target code segment

struct TargetCSCase: Sendable, CustomTestStringConvertible {
    var name: String
    var mode: MachineMode
    var cpl: UInt8 = 3
    var source: EventSource
    var target: @Sendable (inout CPUFixture) -> UInt16
    var vector: ExceptionVector = .GP
    var codeIsSelector = true
    var testDescription: String { "\(mode) \(source) \(name)" }
}

private let targetCSCases: [TargetCSCase] = MachineMode.allCases.flatMap { mode in EventSource.allCases.flatMap { src in [
    TargetCSCase(name: "null 0", mode: mode, source: src, target: { _ in 0 }),
    TargetCSCase(name: "null 3", mode: mode, source: src, target: { _ in 3 }, codeIsSelector: false),
    TargetCSCase(name: "beyond limit", mode: mode, source: src, target: { _ in 0x1F8 }),
    TargetCSCase(name: "data segment", mode: mode, source: src, target: { _ in Sel.kernelData }),
    TargetCSCase(name: "TSS", mode: mode, source: src, target: { _ in Sel.tss }),
    TargetCSCase(name: "DPL3 code from CPL0", mode: mode, cpl: 0, source: src, target: { _ in Sel.userCode }),
    TargetCSCase(name: "DPL2 code from CPL1", mode: mode, cpl: 1, source: src, target: { _ in Sel.ring2Code }),
    TargetCSCase(name: "not present", mode: mode, source: src, target: { f in f.add(f.modeCode(dpl: 0, present: false)) }, vector: .NP),
] } } + EventSource.allCases.flatMap { src in [
    TargetCSCase(name: "32-bit code segment", mode: .x86_64, source: src, target: { f in f.add(CPUFixture.code(dpl: 0)) }),
    TargetCSCase(name: "32-bit code segment, not present", mode: .x86_64, source: src,
                 target: { f in f.add(CPUFixture.code(dpl: 0, present: false)) }),
    TargetCSCase(name: "L=1 D=1 code segment", mode: .x86_64, source: src,
                 target: { f in f.add(CPUFixture.code(dpl: 0, long: true, big: true)) }),
] }

@Test("INT-6: the gate's target code segment", arguments: targetCSCases)
func int6TargetCS(_ c: TargetCSCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    let sel = c.target(&f)
    f.setGate(v40, selector: sel, dpl: 3)
    let r = fire(&f, v40, c.source)
    let code = (c.codeIsSelector ? UInt32(sel & 0xFFFC) : 0) | ext(c.source)
    expectFirst(r, Expected(c.vector, code, "INT-6"))
    #expect(f.m.cpu.rip == Addr.handler(c.vector.rawValue))
    #expect(f.topOfStack() == UInt64(code))
}

// MARK: INT-7 / INT-8 legacy frames

@Test("INT-7: inner privilege (32-bit gate) pushes SS, ESP, EFLAGS, CS, EIP on the TSS stack")
func int7InnerFrame() {
    var f = CPUFixture(.ia32, cpl: 3)
    f.setGate(0x80, type: .trapGate, dpl: 3)
    f.m.cpu.rflags = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.cf
    let flags = f.m.cpu.rflags
    expectFirst(f.run(.int(0x80)), nil)
    let sp = Addr.innerStack(0) - 20
    #expect(f.m.cpu[.rsp] == sp)
    #expect(f.stack(sp, 5, width: 4) == [Addr.code + 2, UInt64(Sel.userCode), flags, Addr.userStack, UInt64(Sel.userData)])
    #expect(f.m.cpu.cpl == 0)
    #expect(f.m.cpu.cs.selector == Sel.kernelCode)
    #expect(f.m.cpu.ss.selector == Sel.kernelData)
    #expect(f.m.cpu.rip == Addr.handler(0x80))
}

@Test("INT-7: an exception from CPL 3 adds its error code after EIP")
func int7InnerFrameWithCode() {
    var f = CPUFixture(.ia32, cpl: 3)
    let flags = f.m.cpu.rflags
    let r = f.run(.movToSegment(.ds, 0x1FB))
    #expect(faultList(r) == ["GP(1f8)"])
    let sp = Addr.innerStack(0) - 24
    #expect(f.m.cpu[.rsp] == sp)
    // INT-15: the #GP is a fault: RF is set in the pushed EFLAGS.
    #expect(f.stack(sp, 6, width: 4) == [0x1F8, Addr.code, UInt64(Sel.userCode), flags | RFLAGS.rf, Addr.userStack, UInt64(Sel.userData)])
}

@Test("INT-7: inner privilege to ring 1 uses SS1:ESP1")
func int7Ring1() {
    var f = CPUFixture(.ia32, cpl: 3)
    f.setGate(0x80, selector: Sel.ring1Code & 0xFFFC, dpl: 3)
    expectFirst(f.run(.int(0x80)), nil)
    #expect(f.m.cpu.cpl == 1)
    #expect(f.m.cpu.ss.selector == Sel.ring1Data)
    #expect(f.m.cpu.cs.selector == Sel.ring1Code)
    #expect(f.m.cpu[.rsp] == Addr.innerStack(1) - 20)
}

@Test("INT-7: a 16-bit gate pushes words")
func int7Gate16() {
    var f = CPUFixture(.ia32, cpl: 3)
    f.setGate(0x80, type: .interruptGate16, dpl: 3)
    let flags = f.m.cpu.rflags
    expectFirst(f.run(.int(0x80)), nil)
    let sp = Addr.innerStack(0) - 10
    #expect(f.m.cpu[.rsp] == sp)
    #expect(f.stack(sp, 5, width: 2) == [Addr.code + 2, UInt64(Sel.userCode), flags & 0xFFFF, Addr.userStack & 0xFFFF, UInt64(Sel.userData)])
    #expect(f.m.cpu.rip == Addr.handler(0x80) & 0xFFFF)
}

struct TSSStackCase: Sendable, CustomTestStringConvertible {
    var name: String
    var source: EventSource
    var ss0: @Sendable (inout CPUFixture) -> UInt16
    var vector: ExceptionVector
    var selCode: Bool = true
    var testDescription: String { "\(source) \(name)" }
}

@Test("INT-7: TSS stack faults are #TS(...+EXT) / #SS(...+EXT)", arguments: EventSource.allCases.flatMap { s in [
    TSSStackCase(name: "SS0 null", source: s, ss0: { _ in 0 }, vector: .TS, selCode: false),
    TSSStackCase(name: "SS0 beyond limit", source: s, ss0: { _ in 0x1F8 }, vector: .TS),
    TSSStackCase(name: "SS0 RPL 3", source: s, ss0: { _ in 0x13 }, vector: .TS),
    TSSStackCase(name: "SS0 code", source: s, ss0: { _ in Sel.kernelCode }, vector: .TS),
    TSSStackCase(name: "SS0 DPL 1", source: s, ss0: { _ in 0x30 }, vector: .TS),
    TSSStackCase(name: "SS0 not present", source: s, ss0: { f in f.add(CPUFixture.data(dpl: 0, present: false)) }, vector: .SS),
] })
func int7TSSStack(_ c: TSSStackCase) {
    var f = CPUFixture(.ia32, cpl: 3)
    let ss = c.ss0(&f)
    f.tssWrite(8, UInt64(ss), 2)
    f.setGate(v40, dpl: 3)
    let r = fire(&f, v40, c.source)
    expectFirst(r, Expected(c.vector, (c.selCode ? UInt32(ss & 0xFFFC) : 0) | ext(c.source), "INT-7"))
}

@Test("INT-8: same privilege pushes EFLAGS, CS, EIP [, error code] on the current stack", arguments: [false, true])
func int8SamePrivilege(_ withCode: Bool) {
    var f = CPUFixture(.ia32, cpl: 0)
    let flags = f.m.cpu.rflags
    let sp0 = Addr.startStack(0)
    if withCode {
        _ = f.run(.movToSegment(.ds, 0x1F8))
        #expect(f.m.cpu[.rsp] == sp0 - 16)
        #expect(f.stack(sp0 - 16, 4, width: 4) == [0x1F8, Addr.code, UInt64(Sel.kernelCode), flags | RFLAGS.rf], "INT-15: RF for a fault")
    } else {
        expectFirst(f.run(.int(v40)), nil)
        #expect(f.m.cpu[.rsp] == sp0 - 12)
        #expect(f.stack(sp0 - 12, 3, width: 4) == [Addr.code + 2, UInt64(Sel.kernelCode), flags])
    }
    #expect(f.m.cpu.ss.selector == Sel.kernelData)
    #expect(f.m.cpu.cpl == 0)
}

@Test("INT-8: a conforming handler runs at the caller's CPL on the caller's stack", arguments: [UInt8(1), 2, 3])
func int8Conforming(_ cpl: UInt8) {
    var f = CPUFixture(.ia32, cpl: cpl)
    let conf = f.add(CPUFixture.code(dpl: 0, conforming: true))
    f.setGate(v40, selector: conf, dpl: 3)
    let sp = f.m.cpu[.rsp], ss = f.m.cpu.ss.selector
    expectFirst(f.run(.int(v40)), nil)
    #expect(f.m.cpu.cpl == cpl)
    #expect(f.m.cpu.cs.selector == conf | UInt16(cpl))
    #expect(f.m.cpu.ss.selector == ss)
    #expect(f.m.cpu[.rsp] == sp - 12)
    #expect(f.stack(sp - 12, 2, width: 4) == [Addr.code + 2, UInt64(Sel.code(ring: cpl))])
}

// MARK: INT-9 flags

struct FlagsCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var type: SystemType
    var testDescription: String { "\(mode) \(type)" }
}

@Test("INT-9: interrupt gates clear IF, trap gates keep it; both clear TF, NT, RF", arguments: [
    FlagsCase(mode: .ia32, type: .interruptGate), FlagsCase(mode: .ia32, type: .trapGate),
    FlagsCase(mode: .ia32, type: .interruptGate16), FlagsCase(mode: .ia32, type: .trapGate16),
    FlagsCase(mode: .x86_64, type: .interruptGate), FlagsCase(mode: .x86_64, type: .trapGate),
])
func int9Flags(_ c: FlagsCase) {
    var f = CPUFixture(c.mode, cpl: 3)
    f.setGate(v40, type: c.type, dpl: 3)
    let before = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.tf | RFLAGS.nt | RFLAGS.rf | RFLAGS.ac | RFLAGS.cf
    f.m.cpu.rflags = before
    expectFirst(f.run(.int(v40)), nil)
    let interrupt = c.type == .interruptGate || c.type == .interruptGate16
    let flags = f.m.cpu.rflags
    #expect((flags & RFLAGS.if != 0) == !interrupt)
    #expect(flags & (RFLAGS.tf | RFLAGS.nt | RFLAGS.rf | RFLAGS.vm) == 0)
    #expect(flags & (RFLAGS.ac | RFLAGS.cf) == RFLAGS.ac | RFLAGS.cf, "other flags kept")
    // The pushed EFLAGS is the value before delivery, but for RF, which INT n cleared at its start (INT-15).
    let w = c.mode == .x86_64 ? 8 : (c.type.rawValue < 8 ? 2 : 4)
    #expect(f.read(f.m.cpu[.rsp] + UInt64(2 * w), w) == before & ~RFLAGS.rf & (w == 2 ? 0xFFFF : ~0))
}

// MARK: INT-10 64-bit delivery

struct LongFrameCase: Sendable, CustomTestStringConvertible {
    var name: String
    var cpl: UInt8
    var startRSP: UInt64
    var ist: UInt8 = 0
    var target: UInt16 = Sel.kernelCode
    var newRSPBase: UInt64
    var newSS: UInt16
    var newCPL: UInt8
    var testDescription: String { name }
}

private let longFrameCases: [LongFrameCase] = [
    LongFrameCase(name: "CPL3 -> 0 via RSP0", cpl: 3, startRSP: Addr.userStack, newRSPBase: Addr.innerStack(0), newSS: 0, newCPL: 0),
    LongFrameCase(name: "CPL3 -> 0, user RSP unaligned", cpl: 3, startRSP: Addr.userStack - 3, newRSPBase: Addr.innerStack(0), newSS: 0, newCPL: 0),
    LongFrameCase(name: "CPL3 -> 1 via RSP1: SS = null with RPL 1", cpl: 3, startRSP: Addr.userStack, target: Sel.ring1Code & 0xFFFC,
                  newRSPBase: Addr.innerStack(1), newSS: 1, newCPL: 1),
    LongFrameCase(name: "CPL3 -> 2 via RSP2", cpl: 3, startRSP: Addr.userStack, target: Sel.ring2Code & 0xFFFC,
                  newRSPBase: Addr.innerStack(2), newSS: 2, newCPL: 2),
    LongFrameCase(name: "CPL0 same privilege, RSP aligned down to 16", cpl: 0, startRSP: 0x40008,
                  newRSPBase: 0x40000, newSS: Sel.kernelData, newCPL: 0),
    LongFrameCase(name: "CPL0 same privilege, aligned RSP", cpl: 0, startRSP: 0x40000,
                  newRSPBase: 0x40000, newSS: Sel.kernelData, newCPL: 0),
    LongFrameCase(name: "CPL0 IST2 (no privilege change)", cpl: 0, startRSP: 0x40008, ist: 2,
                  newRSPBase: Addr.ist(2), newSS: Sel.kernelData, newCPL: 0),
    LongFrameCase(name: "CPL3 IST7", cpl: 3, startRSP: Addr.userStack, ist: 7, newRSPBase: Addr.ist(7), newSS: 0, newCPL: 0),
    LongFrameCase(name: "CPL3 IST1", cpl: 3, startRSP: Addr.userStack, ist: 1, newRSPBase: Addr.ist(1), newSS: 0, newCPL: 0),
    LongFrameCase(name: "CPL3 to conforming DPL0: same privilege, SS kept, SS:RSP still pushed", cpl: 3, startRSP: Addr.userStack - 8,
                  target: 0x58, newRSPBase: Addr.userStack - 8, newSS: Sel.userData, newCPL: 3),
]

@Test("INT-10: 64-bit frames: SS, RSP, RFLAGS, CS, RIP always, 8 bytes, RSP aligned; IST; null SS", arguments: longFrameCases)
func int10LongFrames(_ c: LongFrameCase) {
    var f = CPUFixture(.x86_64, cpl: c.cpl)
    f.add(CPUFixture.code(dpl: 0, conforming: true, long: true))  // 0x58
    f.m.cpu[.rsp] = c.startRSP
    let handler: UInt64 = 0xFFFF_8000_1234_5678
    f.setGate(0x80, selector: c.target, offset: handler, dpl: 3, ist: c.ist)
    let flags = f.m.cpu.rflags, oldSS = f.m.cpu.ss.selector, oldCS = f.m.cpu.cs.selector
    expectFirst(f.run(.int(0x80)), nil)
    let sp = (c.newRSPBase & ~0xF) - 40
    #expect(f.m.cpu[.rsp] == sp)
    #expect(f.stack(sp, 5, width: 8) == [Addr.code + 2, UInt64(oldCS), flags, c.startRSP, UInt64(oldSS)])
    #expect(f.m.cpu.rip == handler, "offset 63..32 from the gate's second quadword")
    #expect(f.m.cpu.ss.selector == c.newSS)
    #expect(f.m.cpu.cpl == c.newCPL)
    #expect(f.m.cpu.cs.selector == c.target | UInt16(c.newCPL))
}

@Test("INT-10: an exception frame in 64-bit mode carries an 8-byte error code")
func int10ErrorCode() {
    var f = CPUFixture(.x86_64, cpl: 3)
    let flags = f.m.cpu.rflags
    _ = f.run(.movToSegment(.ds, 0x1FB))
    let sp = Addr.innerStack(0) - 48
    #expect(f.m.cpu[.rsp] == sp)
    #expect(f.stack(sp, 6, width: 8) == [0x1F8, Addr.code, UInt64(Sel.userCode), flags | RFLAGS.rf, Addr.userStack, UInt64(Sel.userData)],
            "INT-15: RF for a fault")
}

@Test("INT-10: a non-canonical RSP0 / IST from the TSS is #SS", arguments: [UInt8(0), 3])
func int10NonCanonicalStack(_ ist: UInt8) {
    var f = CPUFixture(.x86_64, cpl: 3)
    if ist == 0 { f.tssWrite(4, 0x0000_8000_0000_0000, 8) } else { f.tssWrite(0x24 + 8 * 2, 0x0000_8000_0000_0000, 8) }
    f.setGate(0x80, dpl: 3, ist: ist)
    let r = f.run(.int(0x80))
    #expect(r.faults.first?.vector == .SS)
    #expect(r.faults.first?.rule == "INT-10")
}

// MARK: INT-11 error codes

private let pushing: Set<UInt8> = [8, 10, 11, 12, 13, 14, 17, 21]

@Test("INT-11: INT n never pushes an error code", arguments: MachineMode.allCases, [UInt8(0), 1, 3, 6, 8, 10, 11, 12, 13, 14, 17, 21])
func int11IntNNoErrorCode(_ mode: MachineMode, _ v: UInt8) {
    var f = CPUFixture(mode, cpl: 0)
    let sp = f.m.cpu[.rsp]
    expectFirst(f.run(.int(v)), nil)
    let frame: UInt64 = mode == .x86_64 ? 40 : 12
    #expect(f.m.cpu[.rsp] == sp - frame)
    #expect(f.topOfStack() == Addr.code + 2, "top of stack is the return EIP")
}

@Test("INT-11: hardware exceptions push an error code only for 8, 10-14, 17, 21",
      arguments: MachineMode.allCases, ExceptionVector.allCases)
func int11ExceptionErrorCodes(_ mode: MachineMode, _ v: ExceptionVector) {
    var f = CPUFixture(mode, cpl: 0)
    let sp = f.m.cpu[.rsp]
    let code: UInt32 = (v == .DF || v == .AC) ? 0 : 0x5A8
    var faults: [Fault] = []
    let outcome = f.m.raise(Fault(v, code: pushing.contains(v.rawValue) ? code : nil, rule: "test", "raised by the test"),
                            returnIP: Addr.code, raised: &faults)
    #expect(outcome == .delivered(vector: v.rawValue))
    #expect(faults.count == 1)
    let w: UInt64 = mode == .x86_64 ? 8 : 4
    let frame: UInt64 = (mode == .x86_64 ? 40 : 12) + (pushing.contains(v.rawValue) ? w : 0)
    #expect(f.m.cpu[.rsp] == sp - frame)
    #expect(f.topOfStack() == (pushing.contains(v.rawValue) ? UInt64(code) : Addr.code))
}

@Test("INT-12: INT3 saves the next EIP, #UD the faulting one")
func int12TrapVsFault() {
    var f = CPUFixture(.ia32, cpl: 0)
    f.setGate(3, dpl: 3)
    _ = f.run(.int3)
    #expect(f.topOfStack() == Addr.code + 1)
    var g = CPUFixture(.ia32, cpl: 0)
    _ = g.run(.movToCS)
    #expect(g.topOfStack() == Addr.code)
}

@Test("INT-10: an unaligned IST pointer is aligned down to 16 too")
func int10UnalignedIST() {
    var f = CPUFixture(.x86_64, cpl: 0)
    f.tssWrite(0x24 + 8 * 3, 0x54008, 8)  // IST4
    f.setGate(0x80, dpl: 3, ist: 4)
    expectFirst(f.run(.int(0x80)), nil)
    #expect(f.m.cpu[.rsp] == 0x54000 - 40)
}

@Test("INT-7 / FAR-9: a 16-bit TSS gives SPn at 2+4n and SSn at 4+4n")
func int7TSS16() {
    var f = CPUFixture(.ia32, cpl: 3)
    f.m.cpu.tr.cache.type = SystemType.tss16Busy.rawValue
    f.tssWrite(2, 0x1F00, 2)  // SP0
    f.tssWrite(4, UInt64(Sel.kernelData), 2)  // SS0
    f.setGate(0x80, dpl: 3)
    expectFirst(f.run(.int(0x80)), nil)
    #expect(f.m.cpu.ss.selector == Sel.kernelData)
    #expect(f.m.cpu[.rsp] == 0x1F00 - 20)
    #expect(f.read(0x1F00 - 4, 4) == UInt64(Sel.userData))
}

// MARK: EXT on #GP(0) / #SS(0) raised while delivering an external event (SEG-8, SEG-9)

@Test("INT-6: a handler offset beyond the CS limit is #GP(0+EXT)", arguments: EventSource.allCases)
func int6OffsetBeyondLimitHasEXT(_ src: EventSource) {
    var f = CPUFixture(.ia32, cpl: 3)
    let small = f.add(CPUFixture.code(dpl: 0, limit: 0xFFF, g: false))
    f.setGate(v40, selector: small, offset: 0x2000, dpl: 3)
    let r = fire(&f, v40, src)
    expectFirst(r, Expected(.GP, ext(src), "INT-6"))
    #expect(f.m.cpu.rip == Addr.handler(13))
}

@Test("INT-10: a non-canonical handler RIP is #GP(0+EXT)", arguments: EventSource.allCases)
func int10NonCanonicalHandlerHasEXT(_ src: EventSource) {
    var f = CPUFixture(.x86_64, cpl: 3)
    f.setGate(v40, offset: 0x0000_8000_0000_0000, dpl: 3)
    let r = fire(&f, v40, src)
    expectFirst(r, Expected(.GP, ext(src), "INT-6"))
    #expect(f.m.cpu.rip == Addr.handler(13))
}

@Test("INT-8: a same-privilege push beyond the stack limit is #SS(0+EXT)", arguments: EventSource.allCases)
func int8StackLimitHasEXT(_ src: EventSource) {
    var f = CPUFixture(.ia32, cpl: 0)
    // A small expand-up stack at CPL 0: ESP 4 leaves room for one dword, the frame needs three.
    let small = Descriptor.segment(base: 0x40000, limit: 0xFFF, type: 0x3, dpl: 0, present: true, long: false,
                                   big: true, granularity4K: false)
    let sel = f.add(small)
    f.m.cpu.ss = SegmentRegister(selector: sel, cache: small.cache)
    f.m.cpu[.rsp] = 4
    f.setGate(v40, dpl: 3)
    let r = fire(&f, v40, src)
    #expect(r.faults.first?.vector == .SS)
    #expect(r.faults.first?.errorCode == ext(src))
}

@Test("INT-6/7/8: legacy delivery checks the stack's room for the frame (#SS) before the handler offset (#GP)",
      arguments: EventSource.allCases, [false, true])
func int6RoomCheckedBeforeOffset(_ src: EventSource, _ inner: Bool) {
    // SDM Vol. 2A INT n: "IF new stack does not have room for 20 bytes ... THEN #SS(NewSS+EXT)" (inner) /
    // "IF current stack does not have room for 12 bytes ... THEN #SS(EXT)" (same privilege) come before
    // "IF instruction pointer ... not within code-segment limits THEN #GP(EXT)"; Bochs: can_push, then EIP.
    var f = CPUFixture(.ia32, cpl: inner ? 3 : 0)
    let smallCS = f.add(CPUFixture.code(dpl: 0, limit: 0xFFF, g: false))
    f.setGate(v40, selector: smallCS, offset: 0x2000, dpl: 3)
    // A stack with room for one dword only (ESP 4, expand-up).
    let small = Descriptor.segment(base: 0x40000, limit: 0xFFF, type: 0x3, dpl: 0, present: true, long: false,
                                   big: true, granularity4K: false)
    let sel = f.add(small)
    if inner {
        f.tssWrite(4, 4, 4)
        f.tssWrite(8, UInt64(sel), 2)
    } else {
        f.m.cpu.ss = SegmentRegister(selector: sel, cache: small.cache)
        f.m.cpu[.rsp] = 4
    }
    let r = fire(&f, v40, src)
    #expect(r.faults.first?.vector == .SS)
    #expect(r.faults.first?.errorCode == (inner ? UInt32(sel & 0xFFFC) : 0) | ext(src))
    #expect(r.faults.first?.rule == (inner ? "INT-7" : "INT-8"))
}

// MARK: Order of the IA-32e checks (SDM Vol. 2A INT n pseudo-code)

@Test("INT-10: a non-canonical handler RIP is #GP(0+EXT) before anything is pushed on the new stack",
      arguments: EventSource.allCases, [UInt8(0), 3])
func int10RIPCheckedBeforePushes(_ src: EventSource, _ cpl: UInt8) {
    // SDM: "IF instruction pointer from IDT gate contains a non-canonical address THEN #GP(EXT)" comes
    // before "RSP := NewRSP & FFFFFFFFFFFFFFF0H" and the pushes. IST1 gives the vector a stack of its
    // own, so the #GP (delivered through RSP0 or the current stack) cannot hide what was written there.
    var f = CPUFixture(.x86_64, cpl: cpl)
    f.setGate(v40, offset: 0x0000_8000_0000_0000, dpl: 3, ist: 1)
    let r = fire(&f, v40, src)
    expectFirst(r, Expected(.GP, ext(src), "INT-6"))
    #expect(r.delivery == .delivered(vector: 13))
    #expect(f.stack(Addr.ist(1) - 40, 5, width: 8) == [0, 0, 0, 0, 0], "nothing pushed on the IST1 stack")
}

struct NewRSPCase: Sendable, CustomTestStringConvertible {
    var name: String
    var cpl: UInt8
    var rsp: UInt64 = 0
    var ist: UInt8 = 0
    var tssRSP0: UInt64? = nil
    var tssIST1: UInt64? = nil
    var badRIP: Bool
    var testDescription: String { name + (badRIP ? ", handler RIP also non-canonical" : "") }
}

private let newRSPCases: [NewRSPCase] = [false, true].flatMap { bad in [
    // The pushes below RSP & ~0xF = 0x0000_8000_0000_0000 would land on canonical addresses: only the
    // check of NewRSP itself refuses them.
    NewRSPCase(name: "same privilege, current RSP non-canonical", cpl: 0, rsp: 0x0000_8000_0000_0008, badRIP: bad),
    NewRSPCase(name: "CPL 3 -> 0, TSS.RSP0 non-canonical", cpl: 3, tssRSP0: 0x0000_8000_0000_0008, badRIP: bad),
    NewRSPCase(name: "IST1 non-canonical", cpl: 0, rsp: 0x40000, ist: 1, tssIST1: 0xFFFF_0000_0000_0000, badRIP: bad),
] }

@Test("INT-10: a non-canonical NewRSP (RSPn, ISTn or the current RSP) is #SS(0+EXT), checked before the handler RIP",
      arguments: EventSource.allCases, newRSPCases)
func int10NewRSPCanonical(_ src: EventSource, _ c: NewRSPCase) {
    var f = CPUFixture(.x86_64, cpl: c.cpl)
    if c.cpl == 0 { f.m.cpu[.rsp] = c.rsp }
    if let v = c.tssRSP0 { f.tssWrite(4, v, 8) }
    if let v = c.tssIST1 { f.tssWrite(0x24, v, 8) }
    f.setGate(v40, offset: c.badRIP ? 0x0000_8000_0000_0000 : Addr.handler(v40), dpl: 3, ist: c.ist)
    f.setGate(12, ist: 2)  // the #SS is delivered on a good stack
    let r = fire(&f, v40, src)
    expectFirst(r, Expected(.SS, ext(src), "INT-10"))
    #expect(r.delivery == .delivered(vector: 12))
}

// MARK: The trace records a stack switch only when it happened

@Test("INT-7/INT-10: a delivery that faults after reading the TSS stack records no stack switch; the #GP's does",
      arguments: MachineMode.allCases)
func int10NoStackSwitchTraceWhenDeliveryFaults(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 3)
    if mode == .x86_64 {
        f.setGate(v40, offset: 0x0000_8000_0000_0000, dpl: 3)
    } else {
        let small = f.add(CPUFixture.code(dpl: 0, limit: 0xFFF, g: false))
        f.setGate(v40, selector: small, offset: 0x2000, dpl: 3)
    }
    let r = f.run(.int(v40))
    #expect(r.faults.map(\.vector) == [.GP])
    let events = f.m.trace.events
    let switches = events.indices.filter { if case .stackSwitch = events[$0] { return true } else { return false } }
    let fault = events.firstIndex { if case .fault = $0 { return true } else { return false } }
    #expect(switches.count == 1, "only the #GP's delivery switched stacks: \(events)")
    if let s = switches.first, let fault { #expect(s > fault, "the switch recorded is the #GP's") }
    #expect(f.m.lastDelivery?.vector == 13)
    #expect(f.m.lastDelivery?.stackSwitch == true)
}

// MARK: TSS stack slot limit (INT-7, FAR-9)

@Test("INT-7: the TSS limit must cover SS0:ESP0 as read, bytes 4..9 of a 32-bit TSS (#TS(TR+EXT))",
      arguments: EventSource.allCases, [UInt32(0x8), 0x9])
func int7TSSSlotLimit(_ src: EventSource, _ limit: UInt32) {
    // Current SDM INT n: "IF (TSSstackAddress + 5) > current TSS limit THEN #TS(error_code(current TSS
    // selector,0,EXT))" with TSSstackAddress = 8*DPL + 4. (Older editions, Bochs and QEMU: + 7, so a
    // limit of 9 would be #TS there; the model follows the current SDM.)
    var f = CPUFixture(.ia32, cpl: 3)
    f.m.cpu.tr.cache.limit = limit
    f.setGate(v40, dpl: 3)
    let r = fire(&f, v40, src)
    if limit < 0x9 {
        expectFirst(r, Expected(.TS, UInt32(Sel.tss) | ext(src), "INT-7"))
    } else {
        expectFirst(r, nil)
        #expect(f.m.cpu[.rsp] == Addr.innerStack(0) - 20)
    }
}

// MARK: 16-bit stacks move SP only

@Test("INT-8 / FAR-16: on a 16-bit stack (SS.B=0) the pushes and IRET's pops move SP; ESP[31:16] stay",
      arguments: [false, true])
func int8SixteenBitStackKeepsESPHigh(_ big: Bool) {
    // SDM Vol. 1 §6.2.3: the stack segment's B flag makes stack accesses use SP (16-bit) or ESP (32-bit).
    var f = CPUFixture(.ia32, cpl: 0)
    let d = Descriptor.segment(base: 0x60000, limit: 0x1FFFF, type: 0x3, dpl: 0, present: true, long: false,
                               big: big, granularity4K: false)
    let sel = f.add(d)
    f.m.cpu.ss = SegmentRegister(selector: sel, cache: d.cache)
    f.m.cpu[.rsp] = 0x0001_0100
    expectFirst(f.run(.int(v40)), nil)
    #expect(f.m.cpu[.rsp] == 0x0001_00F4, "12 bytes below, ESP[31:16] kept")
    let frame: UInt64 = 0x60000 + (big ? 0x1_00F4 : 0xF4)
    #expect(f.stack(frame, 3, width: 4) == [Addr.code + 2, UInt64(Sel.kernelCode), RFLAGS.reserved1 | RFLAGS.if],
            "the frame is at SS.base + \(big ? "ESP" : "SP")")
    expectFirst(f.run(.iret(width: nil)), nil)
    #expect(f.m.cpu[.rsp] == 0x0001_0100)
    #expect(f.m.cpu.rip == Addr.code + 2)
}
