// SEG-2, SEG-3, SEG-5, SEG-6, SEG-7: selectors, table limits, loading data and stack segment registers.
// Expected values are taken from docs/machine-rules.md (section SEG), not from the model.

import Testing
@testable import Machine

private let dataRegs: [SegmentRegisterName] = [.ds, .es, .fs, .gs]

// MARK: SEG-2 null selectors

struct NullCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var cpl: UInt8
    var reg: SegmentRegisterName
    var sel: UInt16
    /// nil: the load succeeds.
    var expect: Expected?
    var testDescription: String { "\(mode) CPL\(cpl) mov \(reg), 0x\(String(sel, radix: 16)) -> \(expect.map { "\($0)" } ?? "ok")" }
}

private let nullCases: [NullCase] = {
    var c: [NullCase] = []
    for mode in MachineMode.allCases {
        for sel in UInt16(0)...3 {
            for reg in dataRegs {
                // SEG-5a: a null selector is always allowed in DS/ES/FS/GS.
                c.append(NullCase(mode: mode, cpl: 3, reg: reg, sel: sel, expect: nil))
            }
            // SEG-6a: null SS -> #GP(0) (the 64-bit exception needs CPL != 3).
            c.append(NullCase(mode: mode, cpl: 3, reg: .ss, sel: sel, expect: Expected(.GP, 0, "SEG-6a")))
        }
        // SEG-2: 4..7 are TI=1 index 0, not null: with no LDT loaded they fault like any LDT selector (SEG-3).
        for sel in UInt16(4)...7 {
            c.append(NullCase(mode: mode, cpl: 3, reg: .ds, sel: sel, expect: Expected(.GP, 4, "SEG-5b")))
            c.append(NullCase(mode: mode, cpl: 3, reg: .ss, sel: sel, expect: Expected(.GP, 4, "SEG-6b")))
        }
    }
    // SEG-6a exception: 64-bit mode, CPL != 3, RPL == CPL.
    c.append(NullCase(mode: .x86_64, cpl: 0, reg: .ss, sel: 0, expect: nil))
    c.append(NullCase(mode: .x86_64, cpl: 1, reg: .ss, sel: 1, expect: nil))
    c.append(NullCase(mode: .x86_64, cpl: 2, reg: .ss, sel: 2, expect: nil))
    c.append(NullCase(mode: .x86_64, cpl: 0, reg: .ss, sel: 3, expect: Expected(.GP, 0, "SEG-6a")))
    c.append(NullCase(mode: .x86_64, cpl: 1, reg: .ss, sel: 0, expect: Expected(.GP, 0, "SEG-6a")))
    c.append(NullCase(mode: .ia32, cpl: 0, reg: .ss, sel: 0, expect: Expected(.GP, 0, "SEG-6a")))
    return c
}()

@Test("SEG-2: selectors 0-3 are null, 4-7 are not", arguments: nullCases)
func seg2NullSelectors(_ c: NullCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    let r = f.run(.movToSegment(c.reg, c.sel))
    expectFirst(r, c.expect)
    if c.expect == nil {
        #expect(f.m.cpu[segment: c.reg].selector == c.sel)
        #expect(f.m.cpu.rip == Addr.code + 2)
        if c.reg != .ss && c.mode == .ia32 {
            #expect(!f.m.cpu[segment: c.reg].cache.usable, "SEG-5a: null makes the register unusable")
        }
    } else {
        #expect(f.m.cpu.rip == Addr.handler(c.expect!.vector.rawValue))
    }
}

struct LDTZeroCase: Sendable, CustomTestStringConvertible {
    var entry: UInt64
    var sel: UInt16
    var reg: SegmentRegisterName
    var expect: Expected?
    var testDescription: String { "LDT[0]=0x\(String(entry, radix: 16)) mov \(reg), 0x\(String(sel, radix: 16))" }
}

private let ldtZeroCases: [LDTZeroCase] = {
    var c: [LDTZeroCase] = []
    let userData = CPUFixture.data(dpl: 3).raw
    let kernelData = CPUFixture.data(dpl: 0).raw
    for sel in UInt16(4)...7 {
        c.append(LDTZeroCase(entry: userData, sel: sel, reg: .ds, expect: nil))
        // An all-zero LDT entry 0 is a system descriptor of type 0: not data/readable code (SEG-5c).
        c.append(LDTZeroCase(entry: 0, sel: sel, reg: .ds, expect: Expected(.GP, 4, "SEG-5c")))
        c.append(LDTZeroCase(entry: kernelData, sel: sel, reg: .es, expect: Expected(.GP, 4, "SEG-5d")))
    }
    c.append(LDTZeroCase(entry: userData, sel: 7, reg: .ss, expect: nil))
    c.append(LDTZeroCase(entry: userData, sel: 4, reg: .ss, expect: Expected(.GP, 4, "SEG-6c")))
    c.append(LDTZeroCase(entry: 0, sel: 7, reg: .ss, expect: Expected(.GP, 4, "SEG-6d")))
    return c
}()

@Test("SEG-2: selector 4-7 names LDT entry 0 and goes through the normal checks", arguments: ldtZeroCases)
func seg2LDTEntryZero(_ c: LDTZeroCase) {
    var f = CPUFixture(.ia32, cpl: 3)
    f.installLDT([c.entry])
    let r = f.run(.movToSegment(c.reg, c.sel))
    expectFirst(r, c.expect)
    if c.expect == nil {
        #expect(f.m.cpu[segment: c.reg].selector == c.sel)
        #expect(f.m.cpu[segment: c.reg].cache.usable)
    }
}

// MARK: SEG-3 table limit

struct LimitCase: Sendable, CustomTestStringConvertible {
    var ldt: Bool
    var limit: UInt32
    var sel: UInt16
    var reg: SegmentRegisterName
    var expect: Expected?
    var testDescription: String { "\(ldt ? "LDT" : "GDT") limit 0x\(String(limit, radix: 16)) mov \(reg), 0x\(String(sel, radix: 16))" }
}

private let limitCases: [LimitCase] = [
    // user data 0x23 = index 4: bytes 0x20..0x27 must be inside the table.
    LimitCase(ldt: false, limit: 0x27, sel: 0x23, reg: .ds, expect: nil),
    LimitCase(ldt: false, limit: 0x26, sel: 0x23, reg: .ds, expect: Expected(.GP, 0x20, "SEG-5b")),
    LimitCase(ldt: false, limit: 0x20, sel: 0x23, reg: .gs, expect: Expected(.GP, 0x20, "SEG-5b")),
    LimitCase(ldt: false, limit: 0x1F, sel: 0x23, reg: .fs, expect: Expected(.GP, 0x20, "SEG-5b")),
    LimitCase(ldt: false, limit: 0x27, sel: 0x23, reg: .ss, expect: nil),
    LimitCase(ldt: false, limit: 0x26, sel: 0x23, reg: .ss, expect: Expected(.GP, 0x20, "SEG-6b")),
    // LDT with two DPL-3 data entries: 0x0F names index 1 (bytes 8..15).
    LimitCase(ldt: true, limit: 0x0F, sel: 0x0F, reg: .ds, expect: nil),
    LimitCase(ldt: true, limit: 0x0E, sel: 0x0F, reg: .ds, expect: Expected(.GP, 0x0C, "SEG-5b")),
    LimitCase(ldt: true, limit: 0x07, sel: 0x0F, reg: .es, expect: Expected(.GP, 0x0C, "SEG-5b")),
    LimitCase(ldt: true, limit: 0x0E, sel: 0x0F, reg: .ss, expect: Expected(.GP, 0x0C, "SEG-6b")),
]

@Test("SEG-3: descriptor bytes index*8..index*8+7 must lie within the table limit", arguments: limitCases)
func seg3TableLimit(_ c: LimitCase) {
    var f = CPUFixture(.ia32, cpl: 3)
    if c.ldt {
        f.installLDT([CPUFixture.data(dpl: 3).raw, CPUFixture.data(dpl: 3).raw])
        f.m.cpu.ldtr.cache.limit = c.limit
    } else {
        f.m.cpu.gdtr.limit = c.limit
    }
    let r = f.run(.movToSegment(c.reg, c.sel))
    expectFirst(r, c.expect)
    if c.expect == nil { #expect(f.m.cpu[segment: c.reg].selector == c.sel) }
}

@Test("SEG-3: a selector past the end of the GDT faults", arguments: MachineMode.allCases)
func seg3PastEnd(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 3)
    let sel = UInt16(f.m.gdt.count << 3) | 3
    expectFirst(f.run(.movToSegment(.ds, sel)), Expected(.GP, UInt32(sel & 0xFFFC), "SEG-5b"))
    // The #GP reaches its handler with the selector as error code.
    #expect(f.m.cpu.rip == Addr.handler(13))
    #expect(f.topOfStack() == UInt64(sel & 0xFFFC))
}

// MARK: SEG-5 loading DS/ES/FS/GS

enum SegKind: String, Sendable, CaseIterable {
    case data, readOnlyData, code, conformingCode, executeOnlyCode, executeOnlyConforming
}

struct DataLoadCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var kind: SegKind
    var cpl: UInt8, rpl: UInt8, dpl: UInt8
    var present: Bool = true
    var expect: Expected?
    var testDescription: String {
        "\(mode) \(kind) CPL\(cpl) RPL\(rpl) DPL\(dpl)\(present ? "" : " P=0") -> \(expect.map { "\($0)" } ?? "ok")"
    }
}

private func segmentDescriptor(_ kind: SegKind, dpl: UInt8, present: Bool) -> Descriptor {
    switch kind {
    case .data: CPUFixture.data(dpl: dpl, present: present)
    case .readOnlyData: CPUFixture.data(dpl: dpl, writable: false, present: present)
    case .code: CPUFixture.code(dpl: dpl, present: present)
    case .conformingCode: CPUFixture.code(dpl: dpl, conforming: true, present: present)
    case .executeOnlyCode: CPUFixture.code(dpl: dpl, readable: false, present: present)
    case .executeOnlyConforming: CPUFixture.code(dpl: dpl, conforming: true, readable: false, present: present)
    }
}

/// The selector a test's new descriptor gets: the first free GDT slot (ia32 10, x86_64 11).
private func freeSelector(_ mode: MachineMode) -> UInt16 { mode == .ia32 ? 0x50 : 0x58 }

private let dataLoadCases: [DataLoadCase] = {
    var c: [DataLoadCase] = []
    for mode in MachineMode.allCases {
        for kind in SegKind.allCases {
            for cpl in UInt8(0)...3 {
                for rpl in UInt8(0)...3 {
                    for dpl in UInt8(0)...3 {
                        let code = UInt32(freeSelector(mode))
                        var e: Expected?
                        switch kind {
                        case .executeOnlyCode, .executeOnlyConforming:
                            e = Expected(.GP, code, "SEG-5c")
                        case .conformingCode:
                            e = nil  // SEG-5d: conforming readable code skips the privilege check
                        case .data, .readOnlyData, .code:
                            e = max(cpl, rpl) <= dpl ? nil : Expected(.GP, code, "SEG-5d")
                        }
                        c.append(DataLoadCase(mode: mode, kind: kind, cpl: cpl, rpl: rpl, dpl: dpl, expect: e))
                    }
                }
            }
        }
    }
    return c
}()

@Test("SEG-5 c/d: type and max(CPL, RPL) <= DPL for DS/ES/FS/GS", arguments: dataLoadCases)
func seg5DataLoads(_ c: DataLoadCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    let base = f.add(segmentDescriptor(c.kind, dpl: c.dpl, present: c.present))
    #expect(base == freeSelector(c.mode))
    let sel = base | UInt16(c.rpl)
    let reg = dataRegs[Int(c.cpl + c.rpl + c.dpl) % 4]
    let r = f.run(.movToSegment(reg, sel))
    expectFirst(r, c.expect)
    if c.expect == nil {
        #expect(f.m.cpu[segment: reg].selector == sel)
        #expect(f.m.cpu[segment: reg].cache.dpl == c.dpl)
        #expect(f.m.cpu.cpl == c.cpl)
    }
}

struct OddLoadCase: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: UInt64
    var cpl: UInt8
    var rpl: UInt8
    var expectVector: ExceptionVector?
    var rule: String
    var testDescription: String { name }
}

private func sys(_ t: SystemType, dpl: UInt8 = 3, present: Bool = true) -> UInt64 {
    switch t {
    case .callGate, .callGate16, .taskGate, .interruptGate, .interruptGate16, .trapGate, .trapGate16:
        Descriptor.gate(type: t, selector: Sel.kernelCode, offset: 0x2000, dpl: dpl, present: present).low.raw
    default:
        Descriptor.system(base: 0x7000, limit: 0x67, type: t, dpl: dpl, present: present).low.raw
    }
}

private let systemTypes: [SystemType] = [.tss16Available, .ldt, .tss16Busy, .callGate16, .taskGate, .interruptGate16,
                                         .trapGate16, .tssAvailable, .tssBusy, .callGate, .interruptGate, .trapGate]

private let oddDataLoads: [OddLoadCase] = {
    var c: [OddLoadCase] = systemTypes.map {
        OddLoadCase(name: "system type 0x\(String($0.rawValue, radix: 16)) DPL 3", raw: sys($0), cpl: 3, rpl: 3,
                    expectVector: .GP, rule: "SEG-5c")
    }
    // SEG-5e: present is checked last.
    c.append(OddLoadCase(name: "data DPL3 P=0", raw: CPUFixture.data(dpl: 3, present: false).raw, cpl: 3, rpl: 3,
                         expectVector: .NP, rule: "SEG-5e"))
    c.append(OddLoadCase(name: "read-only data DPL3 P=0", raw: CPUFixture.data(dpl: 3, writable: false, present: false).raw,
                         cpl: 0, rpl: 0, expectVector: .NP, rule: "SEG-5e"))
    c.append(OddLoadCase(name: "readable code DPL3 P=0", raw: CPUFixture.code(dpl: 3, present: false).raw, cpl: 3, rpl: 3,
                         expectVector: .NP, rule: "SEG-5e"))
    c.append(OddLoadCase(name: "conforming code DPL0 P=0 from CPL3", raw: CPUFixture.code(dpl: 0, conforming: true, present: false).raw,
                         cpl: 3, rpl: 3, expectVector: .NP, rule: "SEG-5e"))
    c.append(OddLoadCase(name: "data DPL0 P=0 from CPL3 (privilege before present)", raw: CPUFixture.data(dpl: 0, present: false).raw,
                         cpl: 3, rpl: 3, expectVector: .GP, rule: "SEG-5d"))
    c.append(OddLoadCase(name: "data DPL3 P=0 RPL... from CPL0 RPL0 ok privilege -> #NP", raw: CPUFixture.data(dpl: 3, present: false).raw,
                         cpl: 0, rpl: 0, expectVector: .NP, rule: "SEG-5e"))
    c.append(OddLoadCase(name: "execute-only code P=0 (type before present)", raw: CPUFixture.code(dpl: 3, readable: false, present: false).raw,
                         cpl: 3, rpl: 3, expectVector: .GP, rule: "SEG-5c"))
    c.append(OddLoadCase(name: "LDT P=0 (type before present)", raw: sys(.ldt, present: false), cpl: 3, rpl: 3,
                         expectVector: .GP, rule: "SEG-5c"))
    return c
}()

@Test("SEG-5 c/e: system descriptors and not-present segments", arguments: MachineMode.allCases, oddDataLoads)
func seg5OddLoads(_ mode: MachineMode, _ c: OddLoadCase) {
    var f = CPUFixture(mode, cpl: c.cpl)
    let sel = f.add(Descriptor(raw: c.raw)) | UInt16(c.rpl)
    if mode == .x86_64 { f.m.gdt.append(0) }
    let r = f.run(.movToSegment(.ds, sel))
    expectFirst(r, c.expectVector.map { Expected($0, UInt32(sel & 0xFFFC), c.rule) })
    if let v = c.expectVector {
        // Delivered through the IDT with the selector as error code.
        #expect(f.m.cpu.rip == Addr.handler(v.rawValue))
        #expect(f.topOfStack() == UInt64(sel & 0xFFFC))
        #expect(f.m.cpu.ds.selector == Sel.data(ring: c.cpl), "DS unchanged")
    }
}

// MARK: SEG-6 loading SS

struct StackLoadCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var cpl: UInt8, rpl: UInt8, dpl: UInt8
    var expect: Expected?
    var testDescription: String { "\(mode) CPL\(cpl) RPL\(rpl) DPL\(dpl) -> \(expect.map { "\($0)" } ?? "ok")" }
}

private let stackLoadCases: [StackLoadCase] = {
    var c: [StackLoadCase] = []
    for mode in MachineMode.allCases {
        for cpl in UInt8(0)...3 {
            for rpl in UInt8(0)...3 {
                for dpl in UInt8(0)...3 {
                    let code = UInt32(freeSelector(mode))
                    let e: Expected? = rpl != cpl ? Expected(.GP, code, "SEG-6c")
                        : dpl != cpl ? Expected(.GP, code, "SEG-6e") : nil
                    c.append(StackLoadCase(mode: mode, cpl: cpl, rpl: rpl, dpl: dpl, expect: e))
                }
            }
        }
    }
    return c
}()

@Test("SEG-6 c/e: SS needs RPL == CPL and DPL == CPL", arguments: stackLoadCases)
func seg6StackPrivilege(_ c: StackLoadCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    let sel = f.add(CPUFixture.data(dpl: c.dpl)) | UInt16(c.rpl)
    let r = f.run(.movToSegment(.ss, sel))
    expectFirst(r, c.expect)
    if c.expect == nil { #expect(f.m.cpu.ss.selector == sel) }
}

private let oddStackLoads: [OddLoadCase] = {
    var c: [OddLoadCase] = systemTypes.map {
        OddLoadCase(name: "SS := system type 0x\(String($0.rawValue, radix: 16))", raw: sys($0), cpl: 3, rpl: 3,
                    expectVector: .GP, rule: "SEG-6d")
    }
    c += [
        OddLoadCase(name: "SS := read-only data", raw: CPUFixture.data(dpl: 3, writable: false).raw, cpl: 3, rpl: 3,
                    expectVector: .GP, rule: "SEG-6d"),
        OddLoadCase(name: "SS := readable code", raw: CPUFixture.code(dpl: 3).raw, cpl: 3, rpl: 3, expectVector: .GP, rule: "SEG-6d"),
        OddLoadCase(name: "SS := conforming code", raw: CPUFixture.code(dpl: 0, conforming: true).raw, cpl: 0, rpl: 0,
                    expectVector: .GP, rule: "SEG-6d"),
        // c before d: RPL mismatch wins over a bad type.
        OddLoadCase(name: "SS := read-only data with RPL != CPL", raw: CPUFixture.data(dpl: 3, writable: false).raw,
                    cpl: 3, rpl: 0, expectVector: .GP, rule: "SEG-6c"),
        // d before e: bad type wins over DPL mismatch.
        OddLoadCase(name: "SS := code DPL0 at CPL3", raw: CPUFixture.code(dpl: 0).raw, cpl: 3, rpl: 3, expectVector: .GP, rule: "SEG-6d"),
        // f: not present is #SS, checked last.
        OddLoadCase(name: "SS := writable data P=0", raw: CPUFixture.data(dpl: 3, present: false).raw, cpl: 3, rpl: 3,
                    expectVector: .SS, rule: "SEG-6f"),
        OddLoadCase(name: "SS := writable data DPL0 P=0 at CPL0", raw: CPUFixture.data(dpl: 0, present: false).raw, cpl: 0, rpl: 0,
                    expectVector: .SS, rule: "SEG-6f"),
        OddLoadCase(name: "SS := data DPL0 P=0 at CPL3 (DPL before present)", raw: CPUFixture.data(dpl: 0, present: false).raw,
                    cpl: 3, rpl: 3, expectVector: .GP, rule: "SEG-6e"),
        OddLoadCase(name: "SS := read-only P=0 (type before present)", raw: CPUFixture.data(dpl: 3, writable: false, present: false).raw,
                    cpl: 3, rpl: 3, expectVector: .GP, rule: "SEG-6d"),
    ]
    return c
}()

@Test("SEG-6 d/f: SS must be writable data; not present is #SS(sel)", arguments: MachineMode.allCases, oddStackLoads)
func seg6OddLoads(_ mode: MachineMode, _ c: OddLoadCase) {
    var f = CPUFixture(mode, cpl: c.cpl)
    let sel = f.add(Descriptor(raw: c.raw)) | UInt16(c.rpl)
    if mode == .x86_64 { f.m.gdt.append(0) }
    let r = f.run(.movToSegment(.ss, sel))
    expectFirst(r, c.expectVector.map { Expected($0, UInt32(sel & 0xFFFC), c.rule) })
    if let v = c.expectVector {
        #expect(f.m.cpu.rip == Addr.handler(v.rawValue))
        #expect(f.topOfStack() == UInt64(sel & 0xFFFC))
    }
}

// MARK: SEG-7 MOV CS

@Test("SEG-7: MOV CS is #UD (no error code), delivered as a fault", arguments: MachineMode.allCases, [UInt8(0), 3])
func seg7MovCS(_ mode: MachineMode, _ cpl: UInt8) {
    var f = CPUFixture(mode, cpl: cpl)
    let r = f.run(.movToCS)
    expectFirst(r, Expected(.UD, nil, "SEG-7"))
    #expect(r.faults.count == 1)
    #expect(f.m.cpu.rip == Addr.handler(6))
    #expect(f.m.cpu.cpl == 0)
    // No error code: the top of the handler's stack is the saved EIP of the faulting MOV.
    #expect(f.topOfStack() == Addr.code)
}

@Test("SEG-5a: a memory access through a null DS faults #GP(0) (protected mode)", arguments: [UInt16(0), 3])
func seg5aNullDSUse(_ sel: UInt16) {
    var f = CPUFixture(.ia32, cpl: 3)
    expectFirst(f.run(.movToSegment(.ds, sel)), nil)
    expectFirst(f.run(.load(.rax, address: 0x8000, size: 4)), Expected(.GP, 0, "SEG-5a"))
    #expect(f.m.cpu.rip == Addr.handler(13))
}

// MARK: Expand-down data and stack segments (SDM Vol. 3A §3.4.5.1, §5.3)

struct ExpandDownCase: Sendable, CustomTestStringConvertible {
    var big: Bool
    var offset: UInt64
    var size: Int
    var allowed: Bool
    var testDescription: String { "B=\(big ? 1 : 0) offset 0x\(String(offset, radix: 16)) size \(size)" }
}

/// An expand-down DPL-0 data segment with byte limit 0xFFF: valid offsets are 0x1000 ..
/// 0xFFFFFFFF (B=1) or 0x1000 .. 0xFFFF (B=0); offsets <= the limit fault.
private func expandDownData(big: Bool) -> Descriptor {
    .segment(base: 0, limit: 0xFFF, type: 0x7, dpl: 0, present: true, long: false, big: big, granularity4K: false)
}

@Test("§5.3: an access through an expand-down DS is valid only above the limit (up to 0xFFFF / 0xFFFFFFFF)", arguments: [
    ExpandDownCase(big: true, offset: 0x800, size: 4, allowed: false),
    ExpandDownCase(big: true, offset: 0xFFF, size: 1, allowed: false),
    ExpandDownCase(big: true, offset: 0x1000, size: 4, allowed: true),
    ExpandDownCase(big: true, offset: 0x8_0000, size: 4, allowed: true),
    ExpandDownCase(big: true, offset: 0xFFFF_FFFC, size: 4, allowed: true),
    ExpandDownCase(big: false, offset: 0xFFFC, size: 4, allowed: true),
    ExpandDownCase(big: false, offset: 0xFFFE, size: 4, allowed: false),
    ExpandDownCase(big: false, offset: 0x1_0000, size: 1, allowed: false),
    ExpandDownCase(big: false, offset: 0x10, size: 1, allowed: false),
])
func seg3ExpandDownData(_ c: ExpandDownCase) {
    var f = CPUFixture(.ia32, cpl: 0)
    let d = expandDownData(big: c.big)
    let sel = f.add(d)
    expectFirst(f.run(.movToSegment(.ds, sel)), nil)
    let r = f.run(.load(.rax, address: c.offset, size: c.size))
    expectFirst(r, c.allowed ? nil : Expected(.GP, 0, "SEG-11"))
}

@Test("§5.3: pushes onto an expand-down stack must stay above its limit, else #SS")
func seg3ExpandDownStack() {
    var f = CPUFixture(.ia32, cpl: 0)
    let d = expandDownData(big: true)
    let sel = f.add(d)
    f.m.cpu.ss = SegmentRegister(selector: sel, cache: d.cache)
    // ESP 0x2000: the 12-byte frame of INT n lands at 0x1FF4, above the limit: delivered.
    f.m.cpu[.rsp] = 0x2000
    f.setGate(0x40, dpl: 0)
    expectFirst(f.run(.int(0x40)), nil)
    #expect(f.m.cpu[.rsp] == 0x1FF4)
    // ESP 0x1008: the second push would reach 0x1000 - 4 = 0xFFC <= limit: #SS.
    f.m.cpu[.rsp] = 0x1008
    let r = f.run(.int(0x40))
    #expect(r.faults.first?.vector == .SS)
}

@Test("SEG-11: a DS access outside the segment's limits cites the limit check of §5.3, not SEG-3's descriptor-table limit")
func seg11CitesSegmentLimitCheck() {
    var f = CPUFixture(.ia32, cpl: 0)
    let d = Descriptor.segment(base: 0, limit: 0xFFF, type: 0x3, dpl: 0, present: true, long: false, big: true, granularity4K: false)
    let sel = f.add(d)
    expectFirst(f.run(.movToSegment(.ds, sel)), nil)
    expectFirst(f.run(.load(.rax, address: 0xFFD, size: 4)), Expected(.GP, 0, "SEG-11"))
    #expect(RuleBook.reference("SEG-11").contains("§5.3"))
    #expect(RuleBook.title("SEG-11") != "SEG-11")
    #expect(RuleBook.title("SEG-3") == "descriptor-table limit check")
}
