// TASK-2..TASK-7 (ia32 hardware task switching) and TASK-9 (none in IA-32e mode).
// Expected values are taken from docs/machine-rules.md (section TASK), not from the model.

import Testing
@testable import Machine

/// The new task's TSS image (TASK-8 layout).
struct TaskImage {
    var link: UInt64 = 0xBEEF
    var esp0: UInt64 = 0x7_7770
    var ss0: UInt64 = UInt64(Sel.kernelData)
    var cr3: UInt64 = 0x9000
    var eip: UInt64 = 0x3000
    var eflags: UInt64 = RFLAGS.reserved1 | RFLAGS.cf
    var gprs: [UInt64] = [0xB0, 0xB1, 0xB2, 0xB3, 0x60000, 0xB5, 0xB6, 0xB7]
    /// ES, CS, SS, DS, FS, GS.
    var segs: [UInt16] = [Sel.kernelData, Sel.kernelCode, Sel.kernelData, Sel.kernelData, 0, 0]
    var ldt: UInt16 = 0
}

private let tssB: UInt64 = 0x7000
/// The first free GDT slot in ia32: task B's TSS descriptor.
private let selB: UInt16 = 0x50

extension CPUFixture {
    /// Adds a 32-bit TSS descriptor for `image` at `base`.
    @discardableResult
    mutating func addTask(_ image: TaskImage = TaskImage(), base: UInt64 = tssB, dpl: UInt8 = 0, limit: UInt32 = 0x67,
                          busy: Bool = false, present: Bool = true) -> UInt16 {
        m.tssImages[base] = [UInt8](repeating: 0, count: 0x68)
        tssWrite(TSS32.link, image.link, 2, base: base)
        tssWrite(TSS32.esp0, image.esp0, 4, base: base)
        tssWrite(TSS32.ss0, image.ss0, 2, base: base)
        tssWrite(TSS32.cr3, image.cr3, 4, base: base)
        tssWrite(TSS32.eip, image.eip, 4, base: base)
        tssWrite(TSS32.eflags, image.eflags, 4, base: base)
        for (i, (_, off)) in TSS32.gprOrder.enumerated() { tssWrite(off, image.gprs[i], 4, base: base) }
        for (i, (_, off)) in TSS32.segmentOrder.enumerated() { tssWrite(off, UInt64(image.segs[i]), 2, base: base) }
        tssWrite(TSS32.ldt, UInt64(image.ldt), 2, base: base)
        return addSystem(Descriptor.system(base: base, limit: limit, type: busy ? .tssBusy : .tssAvailable, dpl: dpl, present: present))
    }

    func tssType(_ sel: UInt16) -> UInt8 { Descriptor(raw: m.gdt[Int(sel >> 3)]).type }
}

// MARK: TASK-2 checks

struct TaskPrivCase: Sendable, CustomTestStringConvertible {
    var kind: FarKind
    var cpl: UInt8, rpl: UInt8, dpl: UInt8
    var testDescription: String { "\(kind) TSS DPL\(dpl) from CPL\(cpl) RPL\(rpl)" }
}

@Test("TASK-2: TSS DPL >= CPL and >= RPL", arguments: [FarKind.jmp, .call].flatMap { k in
    [UInt8(0), 3].flatMap { cpl in (UInt8(0)...3).flatMap { rpl in (UInt8(0)...3).map { TaskPrivCase(kind: k, cpl: cpl, rpl: rpl, dpl: $0) } } }
})
func task2Privilege(_ c: TaskPrivCase) {
    var f = CPUFixture(.ia32, cpl: c.cpl)
    let sel = f.addTask(dpl: c.dpl)
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: sel | UInt16(c.rpl), offset: 0) : .callFar(selector: sel | UInt16(c.rpl), offset: 0))
    if c.dpl >= c.cpl && c.dpl >= c.rpl {
        expectFirst(r, nil)
        #expect(f.m.cpu.tr.selector & 0xFFFC == sel)
        #expect(f.m.cpu.rip == 0x3000)
    } else {
        expectFirst(r, Expected(.GP, UInt32(sel), "TASK-2"))
        #expect(f.m.cpu.tr.selector == Sel.tss)
    }
}

struct TaskFaultCase: Sendable, CustomTestStringConvertible {
    var name: String
    var cpl: UInt8 = 3
    var kind: FarKind = .jmp
    /// Returns the selector to jump to and the expected error code.
    var setup: @Sendable (inout CPUFixture) -> (UInt16, UInt32)
    var vector: ExceptionVector
    var rule: String
    var testDescription: String { "\(kind) \(name)" }
}

private let taskFaults: [TaskFaultCase] = [FarKind.jmp, .call].flatMap { k in [
    TaskFaultCase(name: "busy TSS", kind: k, setup: { f in let s = f.addTask(dpl: 3, busy: true); return (s | 3, UInt32(s)) },
                  vector: .GP, rule: "TASK-2"),
    TaskFaultCase(name: "current (busy) TSS", kind: k, setup: { _ in (Sel.tss, UInt32(Sel.tss)) }, vector: .GP, rule: "TASK-2"),
    TaskFaultCase(name: "TSS not present", kind: k, setup: { f in let s = f.addTask(dpl: 3, present: false); return (s, UInt32(s)) },
                  vector: .NP, rule: "TASK-2"),
    TaskFaultCase(name: "TSS in the LDT (TI=1)", kind: k, setup: { f in
        f.installLDT([Descriptor.system(base: tssB, limit: 0x67, type: .tssAvailable, dpl: 3, present: true).low.raw])
        return (0x07, 0x04)
    }, vector: .GP, rule: "TASK-2"),
    TaskFaultCase(name: "task gate DPL0 from CPL3", kind: k, setup: { f in
        let t = f.addTask(dpl: 3)
        let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: t, offset: 0, dpl: 0, present: true))
        return (g, UInt32(g))
    }, vector: .GP, rule: "TASK-2"),
    TaskFaultCase(name: "task gate RPL3 > DPL2 at CPL0", cpl: 0, kind: k, setup: { f in
        let t = f.addTask(dpl: 3)
        let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: t, offset: 0, dpl: 2, present: true))
        return (g | 3, UInt32(g))
    }, vector: .GP, rule: "TASK-2"),
    TaskFaultCase(name: "task gate not present", kind: k, setup: { f in
        let t = f.addTask(dpl: 3)
        let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: t, offset: 0, dpl: 3, present: false))
        return (g, UInt32(g))
    }, vector: .NP, rule: "TASK-2"),
    TaskFaultCase(name: "task gate to a busy TSS", kind: k, setup: { f in
        let t = f.addTask(dpl: 3, busy: true)
        _ = f.addSystem(Descriptor.gate(type: .taskGate, selector: t, offset: 0, dpl: 3, present: true))
        return (0x58, UInt32(t))
    }, vector: .GP, rule: "TASK-2"),
    TaskFaultCase(name: "task gate to a TSS in the LDT", kind: k, setup: { f in
        f.installLDT([Descriptor.system(base: tssB, limit: 0x67, type: .tssAvailable, dpl: 3, present: true).low.raw])
        let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: 0x04, offset: 0, dpl: 3, present: true))
        return (g, 0x04)
    }, vector: .GP, rule: "TASK-2"),
    TaskFaultCase(name: "task gate to a data segment", kind: k, setup: { f in
        let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: Sel.userData, offset: 0, dpl: 3, present: true))
        return (g, UInt32(Sel.userData & 0xFFFC))
    }, vector: .GP, rule: "TASK-2"),
    TaskFaultCase(name: "task gate to a TSS not present", kind: k, setup: { f in
        let t = f.addTask(dpl: 3, present: false)
        _ = f.addSystem(Descriptor.gate(type: .taskGate, selector: t, offset: 0, dpl: 3, present: true))
        return (0x58, UInt32(t))
    }, vector: .NP, rule: "TASK-2"),
    // TASK-3
    TaskFaultCase(name: "new TSS limit 0x66", kind: k, setup: { f in let s = f.addTask(dpl: 3, limit: 0x66); return (s, UInt32(s)) },
                  vector: .TS, rule: "TASK-3"),
    TaskFaultCase(name: "old TSS limit 0x5e", kind: k, setup: { f in
        let s = f.addTask(dpl: 3)
        f.m.cpu.tr.cache.limit = 0x5E
        return (s, UInt32(Sel.tss))
    }, vector: .TS, rule: "TASK-3"),
] }

@Test("TASK-2/3: task switch checks", arguments: taskFaults)
func task2Faults(_ c: TaskFaultCase) {
    var f = CPUFixture(.ia32, cpl: c.cpl)
    let (sel, code) = c.setup(&f)
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: sel, offset: 0) : .callFar(selector: sel, offset: 0))
    expectFirst(r, Expected(c.vector, code, c.rule))
    #expect(f.m.cpu.tr.selector == Sel.tss, "no switch happened")
    #expect(f.m.cpu.rip == Addr.handler(c.vector.rawValue))
}

struct OldTSSLimitCase: Sendable, CustomTestStringConvertible {
    var kind: FarKind
    var limit: UInt32
    /// The old TSS holds the saved GS word at 0x5C..0x5F (TASK-5) only when its limit reaches 0x5F.
    var faults: Bool { limit < 0x5F }
    var testDescription: String { "\(kind) from a TSS of limit 0x\(String(limit, radix: 16))" }
}

// TASK-3 for the old TSS: it must hold the dynamic fields the switch writes (up to GS at 0x5C..0x5F); Bochs
// task_switch raises #TS(TR) only for "old TSS limit < 0x5F" (SDM Vol. 3A Table 6-6: "stores to the old TSS
// encounter a fault condition"); the 0x67 minimum is the new TSS's.
@Test("TASK-3: the old TSS needs a limit of 0x5F, not 0x67", arguments: [FarKind.jmp, .call].flatMap { k in
    [UInt32(0x5D), 0x5E, 0x5F, 0x60, 0x66, 0x67].map { OldTSSLimitCase(kind: k, limit: $0) }
})
func task3OldTSSLimit(_ c: OldTSSLimitCase) {
    var f = CPUFixture(.ia32, cpl: 0)
    let s = f.addTask(dpl: 0)
    f.m.cpu.tr.cache.limit = c.limit
    let oldBase = f.m.cpu.tr.cache.base
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: s, offset: 0) : .callFar(selector: s, offset: 0))
    if c.faults {
        expectFirst(r, Expected(.TS, UInt32(Sel.tss), "TASK-3"))
        #expect(f.m.cpu.tr.selector == Sel.tss, "no switch happened")
    } else {
        expectFirst(r, nil)
        #expect(f.m.cpu.tr.selector == s)
        #expect(f.m.tssRead(offset: TSS32.gs, size: 2, tssBase: oldBase, limit: c.limit) != nil, "GS saved inside the old TSS's limit")
    }
}

struct TSSEflagsCase: Sendable, CustomTestStringConvertible {
    var kind: FarKind
    var image: UInt64
    var loaded: UInt64
    var testDescription: String { "\(kind) to a TSS with EFLAGS 0x\(String(image, radix: 16))" }
}

// TASK-6: EFLAGS comes from the new TSS, but only the flags that exist (SDM Vol. 1 §3.4.3: bits 3, 5, 15, 22-31
// reserved, bit 1 always 1; Bochs task_switch loads it with writeEFlags(newEFLAGS, EFlagsValidMask)). CALL
// adds NT (TASK-4).
@Test("TASK-6: reserved EFLAGS bits of the new TSS are not loaded", arguments: [FarKind.jmp, .call].flatMap { k in [
    (UInt64(0xFFC0_8028), UInt64(0x2)),
    (0x0, 0x2),
    (0xFFFF_FFFF & ~RFLAGS.vm, 0x3D_7FD7),
    (0x0020_3A03, 0x20_3A03),
].map { TSSEflagsCase(kind: k, image: $0.0, loaded: k == .call ? $0.1 | RFLAGS.nt : $0.1) } })
func task6ReservedEflags(_ c: TSSEflagsCase) {
    var f = CPUFixture(.ia32, cpl: 0)
    var image = TaskImage()
    image.eflags = c.image
    let s = f.addTask(image, dpl: 0)
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: s, offset: 0) : .callFar(selector: s, offset: 0))
    expectFirst(r, nil)
    #expect(f.m.cpu.tr.selector == s)
    #expect(f.m.cpu.rflags == c.loaded)
}

@Test("TASK-2: a task gate of sufficient DPL reaches a TSS of lower DPL (TSS DPL not checked)", arguments: [FarKind.jmp, .call])
func task2GateSkipsTSSDPL(_ kind: FarKind) {
    var f = CPUFixture(.ia32, cpl: 3)
    let t = f.addTask(dpl: 0)
    let g = f.addSystem(Descriptor.gate(type: .taskGate, selector: t, offset: 0, dpl: 3, present: true))
    let r = f.run(kind == .jmp ? .jmpFar(selector: g | 3, offset: 0) : .callFar(selector: g | 3, offset: 0))
    expectFirst(r, nil)
    #expect(f.m.cpu.tr.selector & 0xFFFC == t)
    #expect(f.m.cpu.cpl == 0)
}

// MARK: TASK-4 busy bits, NT, back link, CR0.TS

struct Task4Case: Sendable, CustomTestStringConvertible {
    /// jmp, call, int (INT n through an IDT task gate), exception (#UD through an IDT task gate)
    var how: String
    var ntInNewTSS: Bool
    var testDescription: String { "\(how), NT in new TSS = \(ntInNewTSS ? 1 : 0)" }
}

@Test("TASK-4: JMP / CALL / interrupt effects on busy bits, NT, link, CR0.TS",
      arguments: ["jmp", "call", "int", "exception"].flatMap { h in [false, true].map { Task4Case(how: h, ntInNewTSS: $0) } })
func task4Effects(_ c: Task4Case) {
    var f = CPUFixture(.ia32, cpl: 3)
    var img = TaskImage()
    if c.ntInNewTSS { img.eflags |= RFLAGS.nt }
    let b = f.addTask(img, dpl: 3)
    f.m.cpu.rflags |= RFLAGS.nt  // NT of the old task, to see it saved unchanged
    let oldFlags = f.m.cpu.rflags
    f.m.cpu.cr0 &= ~CR0.ts
    let r: ExecutionResult
    switch c.how {
    case "jmp": r = f.run(.jmpFar(selector: b, offset: 0))
    case "call": r = f.run(.callFar(selector: b, offset: 0))
    case "int":
        f.setGate(0x40, type: .taskGate, selector: b, offset: 0, dpl: 3)
        r = f.run(.int(0x40))
    default:
        f.setGate(6, type: .taskGate, selector: b, offset: 0, dpl: 0)
        r = f.run(.movToCS)
    }
    #expect(r.faults.filter { $0.vector != .UD }.isEmpty, "\(r.faults)")
    #expect(f.m.cpu.tr.selector & 0xFFFC == b)
    #expect(f.tssType(b) == SystemType.tssBusy.rawValue, "new TSS busy")
    let jmp = c.how == "jmp"
    #expect(f.tssType(Sel.tss) == (jmp ? SystemType.tssAvailable : SystemType.tssBusy).rawValue, "old TSS busy bit")
    #expect((f.m.cpu.rflags & RFLAGS.nt != 0) == (jmp ? c.ntInNewTSS : true), "NT in the new task")
    #expect(f.tssRead(TSS32.eflags, 4) & RFLAGS.nt != 0, "old task's saved NT unchanged")
    // INT-15: a fault (#UD) sets RF in the EFLAGS image it saves, here the old task's TSS.
    let savedRF = c.how == "exception" ? RFLAGS.rf : 0
    #expect(f.tssRead(TSS32.eflags, 4) == (oldFlags | savedRF) & 0xFFFF_FFFF)
    #expect(f.tssRead(TSS32.link, 2, base: tssB) == (jmp ? 0xBEEF : UInt64(Sel.tss)), "back link")
    #expect(f.m.cpu.cr0 & CR0.ts != 0, "CR0.TS")
}

@Test("TASK-4: IRET with NT=1 returns through the back link: old busy cleared, its saved NT cleared, new busy kept")
func task4Iret() {
    var f = CPUFixture(.ia32, cpl: 3)
    var img = TaskImage()
    img.eflags = RFLAGS.reserved1  // NT = 0 in B's TSS: CALL forces it to 1
    let b = f.addTask(img, dpl: 3)
    f.m.cpu.rflags = RFLAGS.reserved1 | RFLAGS.if
    expectFirst(f.run(.callFar(selector: b, offset: 0)), nil)
    #expect(f.m.cpu.rflags & RFLAGS.nt != 0)
    // Task A's link field is a sentinel that must stay.
    f.tssWrite(TSS32.link, 0xCAFE, 2)
    f.m.cpu.cr0 &= ~CR0.ts
    f.m.cpu[.rax] = 0x5151
    expectFirst(f.run(.iret(width: nil)), nil)
    #expect(f.m.cpu.tr.selector == Sel.tss)
    #expect(f.tssType(Sel.tss) == SystemType.tssBusy.rawValue, "returned-to TSS stays busy")
    #expect(f.tssType(b) == SystemType.tssAvailable.rawValue, "left TSS no longer busy")
    #expect(f.tssRead(TSS32.eflags, 4, base: tssB) & RFLAGS.nt == 0, "NT cleared in the left task's saved EFLAGS")
    #expect(f.tssRead(TSS32.eax, 4, base: tssB) == 0x5151, "left task's state saved")
    #expect(f.tssRead(TSS32.eip, 4, base: tssB) == 0x3000 + 1, "saved EIP of the left task: after the 1-byte IRET")
    #expect(f.tssRead(TSS32.link, 2) == 0xCAFE, "link unchanged")
    #expect(f.m.cpu.rflags & RFLAGS.nt == 0, "NT from the returned-to task's TSS")
    #expect(f.m.cpu.rflags & RFLAGS.if != 0)
    #expect(f.m.cpu.cr0 & CR0.ts != 0)
    // The caller resumes after its far CALL (TASK-5 saved the return EIP).
    #expect(f.m.cpu.rip == Addr.code + 7)
    #expect(f.m.cpu.cpl == 3)
    #expect(f.m.cpu.cs.selector == Sel.userCode)
}

struct IretLinkCase: Sendable, CustomTestStringConvertible {
    var name: String
    var link: @Sendable (inout CPUFixture) -> UInt16
    var vector: ExceptionVector
    var testDescription: String { name }
}

@Test("FAR-15: IRET with NT=1 checks the back link", arguments: [
    IretLinkCase(name: "link TI=1", link: { _ in 0x0C }, vector: .TS),
    IretLinkCase(name: "link beyond GDT", link: { _ in 0x1F8 }, vector: .TS),
    IretLinkCase(name: "link is an available TSS", link: { f in f.addTask(base: 0x8000, dpl: 0) }, vector: .TS),
    IretLinkCase(name: "link is a data segment", link: { _ in Sel.kernelData }, vector: .TS),
    IretLinkCase(name: "link is a busy TSS not present", link: { f in f.addTask(base: 0x8000, busy: true, present: false) }, vector: .NP),
])
func far15IretLink(_ c: IretLinkCase) {
    var f = CPUFixture(.ia32, cpl: 0)
    let link = c.link(&f)
    f.tssWrite(TSS32.link, UInt64(link), 2)
    f.m.cpu.rflags |= RFLAGS.nt
    let r = f.run(.iret(width: nil))
    expectFirst(r, Expected(c.vector, UInt32(link & 0xFFFC), "FAR-15"))
}

// MARK: TASK-5 / TASK-6 saved and loaded state

@Test("TASK-5: JMP saves dynamic fields (EIP = next instruction) and leaves static fields", arguments: [FarKind.jmp, .call])
func task5SavedState(_ kind: FarKind) {
    var f = CPUFixture(.ia32, cpl: 3)
    let b = f.addTask(dpl: 3)
    let gprs: [UInt64] = [0xA0, 0xA1, 0xA2, 0xA3, 0x2FF00, 0xA5, 0xA6, 0xA7]
    for (i, (r, _)) in TSS32.gprOrder.enumerated() { f.m.cpu[r] = gprs[i] }
    f.m.cpu.fs = SegmentRegister(selector: Sel.userData, cache: f.descriptor(Sel.userData).cache)
    f.m.cpu.rflags = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.cf | RFLAGS.of
    // Static-field sentinels in task A's TSS.
    f.tssWrite(TSS32.cr3, 0xAAAA_A000, 4)
    f.tssWrite(TSS32.ldt, 0x5A5A, 2)
    f.tssWrite(TSS32.iomap, 0x0068_0001, 4)
    f.tssWrite(TSS32.link, 0x4242, 2)
    expectFirst(f.run(kind == .jmp ? .jmpFar(selector: b, offset: 0) : .callFar(selector: b, offset: 0)), nil)
    #expect(f.tssRead(TSS32.eip, 4) == Addr.code + 7, "saved EIP is the instruction after the far JMP/CALL")
    #expect(f.tssRead(TSS32.eflags, 4) == RFLAGS.reserved1 | RFLAGS.if | RFLAGS.cf | RFLAGS.of)
    for (i, (_, off)) in TSS32.gprOrder.enumerated() { #expect(f.tssRead(off, 4) == gprs[i], "GPR at 0x\(String(off, radix: 16))") }
    let segs: [UInt64] = [UInt64(Sel.userData), UInt64(Sel.userCode), UInt64(Sel.userData), UInt64(Sel.userData), UInt64(Sel.userData), 0]
    for (i, (_, off)) in TSS32.segmentOrder.enumerated() { #expect(f.tssRead(off, 2) == segs[i], "segment at 0x\(String(off, radix: 16))") }
    #expect(f.tssRead(TSS32.esp0, 4) == Addr.innerStack(0), "ESP0 static")
    #expect(f.tssRead(TSS32.ss0, 2) == UInt64(Sel.kernelData), "SS0 static")
    #expect(f.tssRead(TSS32.cr3, 4) == 0xAAAA_A000, "CR3 static")
    #expect(f.tssRead(TSS32.ldt, 2) == 0x5A5A, "LDT static")
    #expect(f.tssRead(TSS32.iomap, 4) == 0x0068_0001, "T bit / I/O map static")
    #expect(f.tssRead(TSS32.link, 2) == 0x4242, "old task's link static")
}

@Test("TASK-6: the new task's CR3, LDTR, EFLAGS, EIP, GPRs, segments; CPL = CS.RPL", arguments: [UInt8(0), 3])
func task6LoadedState(_ newCPL: UInt8) {
    var f = CPUFixture(.ia32, cpl: 3)
    let ldt = f.addSystem(Descriptor.system(base: Addr.ldtBase, limit: 15, type: .ldt, dpl: 0, present: true))
    f.m.ldtTables[Addr.ldtBase] = [CPUFixture.data(dpl: 3).raw, CPUFixture.data(dpl: 3).raw]
    var img = TaskImage()
    img.ldt = ldt
    img.eflags = RFLAGS.reserved1 | RFLAGS.cf | RFLAGS.df
    let ds = Sel.data(ring: newCPL)
    img.segs = [ds, Sel.code(ring: newCPL), ds, 0x0C | 3, ds, 0]  // DS from the new LDT, index 1
    let b = f.addTask(img, dpl: 3)
    expectFirst(f.run(.jmpFar(selector: b, offset: 0)), nil)
    #expect(f.m.cpu.rip == 0x3000)
    #expect(f.m.cpu.rflags == RFLAGS.reserved1 | RFLAGS.cf | RFLAGS.df)
    for (i, (r, _)) in TSS32.gprOrder.enumerated() { #expect(f.m.cpu[r] == img.gprs[i]) }
    #expect(f.m.cpu.cr3 == 0x9000)
    #expect(f.m.cpu.ldtr.selector == ldt)
    #expect(f.m.cpu.cpl == newCPL)
    #expect(f.m.cpu.cs.selector == Sel.code(ring: newCPL))
    #expect(f.m.cpu.ss.selector == ds)
    #expect(f.m.cpu.es.selector == ds)
    #expect(f.m.cpu.fs.selector == ds)
    #expect(f.m.cpu.gs.selector == 0)
    if newCPL == 3 { #expect(f.m.cpu.ds.selector == 0x0F) }
}

// TASK-6: CR3 comes from a 32-bit TSS only with paging on (Bochs task_switch: `if (cr0.get_PG())`, QEMU
// switch_tss_ra: `if ((type & 8) && (env->cr[0] & CR0_PG_MASK))`, VirtualBox IEM: `cr0 & X86_CR0_PG ? cr3 : 0`).
@Test("TASK-6: the new TSS's CR3 is loaded only when CR0.PG = 1", arguments: [FarKind.jmp, .call].flatMap { k in
    [false, true].map { (k, $0) } })
func task6CR3OnlyWithPaging(_ kind: FarKind, _ paging: Bool) {
    var f = CPUFixture(.ia32, cpl: 0)
    if paging { f.m.cpu.cr0 |= CR0.pg } else { f.m.cpu.cr0 &= ~CR0.pg }
    f.m.cpu.cr3 = 0x1000
    var img = TaskImage()
    img.cr3 = 0x9000
    let s = f.addTask(img, dpl: 0)
    expectFirst(f.run(kind == .jmp ? .jmpFar(selector: s, offset: 0) : .callFar(selector: s, offset: 0)), nil)
    #expect(f.m.cpu.tr.selector == s)
    #expect(f.m.cpu.cr3 == (paging ? 0x9000 : 0x1000))
}

struct NewTaskFaultCase: Sendable, CustomTestStringConvertible {
    var name: String
    var patch: @Sendable (inout TaskImage, inout CPUFixture) -> UInt32
    var vector: ExceptionVector
    var testDescription: String { name }
}

@Test("TASK-6: faults after the commit point are raised in the new task", arguments: [
    NewTaskFaultCase(name: "CS is a data segment", patch: { i, _ in i.segs[1] = Sel.kernelData; return 0x10 }, vector: .TS),
    NewTaskFaultCase(name: "CS null", patch: { i, _ in i.segs[1] = 0; return 0 }, vector: .TS),
    NewTaskFaultCase(name: "CS not present", patch: { i, f in
        let s = f.add(CPUFixture.code(dpl: 0, present: false)); i.segs[1] = s; return UInt32(s) }, vector: .NP),
    NewTaskFaultCase(name: "SS null", patch: { i, _ in i.segs[2] = 0; return 0 }, vector: .TS),
    NewTaskFaultCase(name: "SS DPL != CPL", patch: { i, _ in i.segs[2] = Sel.userData & 0xFFFC; return 0x20 }, vector: .TS),
    NewTaskFaultCase(name: "SS read-only", patch: { i, f in
        let s = f.add(CPUFixture.data(dpl: 0, writable: false)); i.segs[2] = s; return UInt32(s) }, vector: .TS),
    NewTaskFaultCase(name: "SS not present", patch: { i, f in
        let s = f.add(CPUFixture.data(dpl: 0, present: false)); i.segs[2] = s; return UInt32(s) }, vector: .SS),
    NewTaskFaultCase(name: "DS is a TSS", patch: { i, _ in i.segs[3] = Sel.tss; return UInt32(Sel.tss) }, vector: .TS),
    NewTaskFaultCase(name: "DS is execute-only code", patch: { i, f in
        let s = f.add(CPUFixture.code(dpl: 0, readable: false)); i.segs[3] = s; return UInt32(s) }, vector: .TS),
    NewTaskFaultCase(name: "ES not present", patch: { i, f in
        let s = f.add(CPUFixture.data(dpl: 0, present: false)); i.segs[0] = s; return UInt32(s) }, vector: .NP),
    NewTaskFaultCase(name: "LDT selector names a data segment", patch: { i, _ in i.ldt = Sel.kernelData; return 0x10 }, vector: .TS),
    // SDM Table 7-1 (and Bochs): SS presence (#SS) is checked before SS.DPL == CPL (#TS).
    NewTaskFaultCase(name: "SS not present and DPL != CPL", patch: { i, f in
        let s = f.add(CPUFixture.data(dpl: 3, present: false)); i.segs[2] = s; return UInt32(s) }, vector: .SS),
    // SDM Vol. 2A JMP: after the switch, EIP beyond the new CS limit is #GP(0).
    NewTaskFaultCase(name: "EIP beyond the new CS limit", patch: { i, f in
        let s = f.add(CPUFixture.code(dpl: 0, limit: 0xFFF, g: false)); i.segs[1] = s; i.eip = 0x3000; return 0 }, vector: .GP),
])
func task6NewTaskFaults(_ c: NewTaskFaultCase) {
    var f = CPUFixture(.ia32, cpl: 0)
    var img = TaskImage()
    let code = c.patch(&img, &f)
    let b = f.addTask(img, dpl: 0)
    let r = f.run(.jmpFar(selector: b, offset: 0))
    expectFirst(r, Expected(c.vector, code, "TASK-6"))
    #expect(f.m.cpu.tr.selector == b, "the fault belongs to the new task")
    #expect(f.tssRead(TSS32.eip, 4) == Addr.code + 7, "old task saved before the commit point")
}

struct CommitFaultCase: Sendable, CustomTestStringConvertible {
    var name: String
    var patch: @Sendable (inout TaskImage, inout CPUFixture) -> UInt32
    var vector: ExceptionVector
    /// The CPL the fault is delivered from: 3 while the LDT and SS are checked, then the new CS.RPL (0).
    var fromCPL: UInt8
    var testDescription: String { name }
}

// After the commit point the model checks the LDT, SS, DS, ES, FS, GS, then CS, with the CPL taken as 3 until
// SS is loaded (Bochs tasking.cc; SDM Table 7-1 leaves the order model specific; docs/machine-model.md).
@Test("TASK-6: order of the checks after the commit point, and the CPL their faults are delivered from", arguments: [
    CommitFaultCase(name: "SS null: from CPL 3, on the new TSS's SS0:ESP0", patch: { i, _ in i.segs[2] = 0; return 0 },
                    vector: .TS, fromCPL: 3),
    CommitFaultCase(name: "LDT selector names a data segment: from CPL 3", patch: { i, _ in i.ldt = Sel.kernelData; return 0x10 },
                    vector: .TS, fromCPL: 3),
    CommitFaultCase(name: "SS not present: from CPL 3", patch: { i, f in
        let s = f.add(CPUFixture.data(dpl: 0, present: false)); i.segs[2] = s; return UInt32(s) }, vector: .SS, fromCPL: 3),
    CommitFaultCase(name: "DS is a TSS: from the new CPL 0, on the new stack", patch: { i, _ in
        i.segs[3] = Sel.tss; return UInt32(Sel.tss) }, vector: .TS, fromCPL: 0),
    CommitFaultCase(name: "CS not present: from the new CPL 0", patch: { i, f in
        let s = f.add(CPUFixture.code(dpl: 0, present: false)); i.segs[1] = s; return UInt32(s) }, vector: .NP, fromCPL: 0),
    CommitFaultCase(name: "CS a data segment and SS a code segment: SS first", patch: { i, _ in
        i.segs[1] = Sel.kernelData; i.segs[2] = Sel.kernelCode; return UInt32(Sel.kernelCode) }, vector: .TS, fromCPL: 3),
    CommitFaultCase(name: "CS a data segment and DS a TSS: DS first", patch: { i, _ in
        i.segs[1] = Sel.kernelData; i.segs[3] = Sel.tss; return UInt32(Sel.tss) }, vector: .TS, fromCPL: 0),
    CommitFaultCase(name: "DS a TSS and ES not present: DS before ES", patch: { i, f in
        let s = f.add(CPUFixture.data(dpl: 0, present: false)); i.segs[0] = s; i.segs[3] = Sel.tss
        return UInt32(Sel.tss) }, vector: .TS, fromCPL: 0),
    CommitFaultCase(name: "LDT bad and SS null: the LDT first", patch: { i, _ in
        i.ldt = Sel.kernelCode; i.segs[2] = 0; return UInt32(Sel.kernelCode) }, vector: .TS, fromCPL: 3),
])
func task6CommitFaultOrderAndCPL(_ c: CommitFaultCase) {
    var f = CPUFixture(.ia32, cpl: 0)
    var img = TaskImage()
    img.esp0 = Addr.innerStack(0)
    let code = c.patch(&img, &f)
    let b = f.addTask(img, dpl: 0)
    let r = f.run(.jmpFar(selector: b, offset: 0))
    #expect(faultList(r) == ["\(c.vector.name)(\(String(code, radix: 16)))"], "one fault, delivered without another")
    #expect(f.m.cpu.tr.selector == b)
    #expect(f.m.lastDelivery?.fromCPL == c.fromCPL)
    #expect(f.m.lastDelivery?.stackSwitch == (c.fromCPL == 3))
    // A privilege change pushes SS, ESP, EFLAGS, CS, EIP and the error code on SS0:ESP0; otherwise EFLAGS, CS,
    // EIP and the error code go on the new task's own stack (ESP 0x60000).
    #expect(f.m.cpu[.rsp] == (c.fromCPL == 3 ? Addr.innerStack(0) - 24 : 0x60000 - 16))
}

// MARK: TASK-7 error code on the new stack; saved EIP for traps and faults

@Test("TASK-7: an exception with an error code pushes it on the new task's stack")
func task7ErrorCode() {
    var f = CPUFixture(.ia32, cpl: 3)
    let b = f.addTask(dpl: 0)
    f.setGate(13, type: .taskGate, selector: b, offset: 0, dpl: 0)
    let r = f.run(.movToSegment(.ds, 0x1FB))
    #expect(faultList(r) == ["GP(1f8)"])
    #expect(f.m.cpu.tr.selector == b)
    #expect(f.m.cpu[.rsp] == 0x60000 - 4)
    #expect(f.read(0x60000 - 4, 4) == 0x1F8)
    #expect(f.tssRead(TSS32.eip, 4) == Addr.code, "fault: saved EIP is the faulting instruction")
    #expect(f.m.cpu.rflags & RFLAGS.nt != 0)
}

@Test("TASK-7 / INT-12: INT n through a task gate pushes nothing and saves the next EIP")
func task7IntN() {
    var f = CPUFixture(.ia32, cpl: 3)
    let b = f.addTask(dpl: 0)
    f.setGate(0x40, type: .taskGate, selector: b, offset: 0, dpl: 3)
    expectFirst(f.run(.int(0x40)), nil)
    #expect(f.m.cpu.tr.selector == b)
    #expect(f.m.cpu[.rsp] == 0x60000)
    #expect(f.tssRead(TSS32.eip, 4) == Addr.code + 2, "INT n is a trap: saved EIP is the next instruction")
}

@Test("TASK-2: INT n checks the task gate's DPL (#GP(vector*8+2)); an exception does not")
func task2IDTTaskGateDPL() {
    var f = CPUFixture(.ia32, cpl: 3)
    let b = f.addTask(dpl: 0)
    f.setGate(0x40, type: .taskGate, selector: b, offset: 0, dpl: 0)
    expectFirst(f.run(.int(0x40)), Expected(.GP, 0x202, "INT-2"))
    #expect(f.m.cpu.tr.selector == Sel.tss)
}

// MARK: TASK-9 no task switching in IA-32e mode

struct Task9Case: Sendable, CustomTestStringConvertible {
    var name: String
    var kind: FarKind
    var desc: @Sendable (inout CPUFixture) -> UInt16
    var testDescription: String { "\(kind) \(name)" }
}

@Test("TASK-9: JMP/CALL to a TSS or task gate in IA-32e mode is #GP(sel)", arguments: [FarKind.jmp, .call].flatMap { k in [
    Task9Case(name: "available TSS", kind: k, desc: { f in
        f.m.tssImages[0x8000] = [UInt8](repeating: 0, count: 0x68)
        return f.addSystem(Descriptor.system(base: 0x8000, limit: 0x67, type: .tssAvailable, dpl: 3, present: true)) }),
    Task9Case(name: "busy TSS (current)", kind: k, desc: { _ in Sel.tss }),
    Task9Case(name: "task gate", kind: k, desc: { f in
        f.addSystem(Descriptor.gate(type: .taskGate, selector: Sel.tss, offset: 0, dpl: 3, present: true)) }),
] })
func task9FarLongMode(_ c: Task9Case) {
    var f = CPUFixture(.x86_64, cpl: 3)
    let sel = c.desc(&f)
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: sel | 3, offset: 0) : .callFar(selector: sel | 3, offset: 0))
    expectFirst(r, Expected(.GP, UInt32(sel), "TASK-9"))
    #expect(f.m.cpu.tr.selector == Sel.tss)
}

@Test("TASK-9: an IDT task gate in IA-32e mode is #GP(vector*8+2+EXT)", arguments: [false, true])
func task9IDTTaskGate(_ exception: Bool) {
    var f = CPUFixture(.x86_64, cpl: 3)
    let v: UInt8 = exception ? 6 : 0x40
    f.setGate(v, type: .taskGate, selector: Sel.tss, offset: 0, dpl: 3)
    let r = exception ? f.run(.movToCS) : f.run(.int(v))
    let gp = r.faults.first { $0.vector == .GP }
    #expect(gp?.errorCode == UInt32(v) * 8 + 2 + (exception ? 1 : 0))
    #expect(gp?.rule == "TASK-9")
    #expect(f.m.cpu.rip == Addr.handler(13))
}

@Test("TASK-9: IRET with NT=1 in IA-32e mode is #GP(0)")
func task9Iret() {
    var f = CPUFixture(.x86_64, cpl: 0)
    f.m.cpu.rflags |= RFLAGS.nt
    expectFirst(f.run(.iret(width: nil)), Expected(.GP, 0, "FAR-15"))
    #expect(f.m.cpu.tr.selector == Sel.tss)
}

struct IDTTaskFaultCase: Sendable, CustomTestStringConvertible {
    var name: String
    var busy: Bool
    var present: Bool
    var vector: ExceptionVector
    var testDescription: String { name }
}

@Test("TASK-2: an exception through an IDT task gate needs an available, present TSS (code + EXT)", arguments: [
    IDTTaskFaultCase(name: "busy TSS", busy: true, present: true, vector: .GP),
    IDTTaskFaultCase(name: "TSS not present", busy: false, present: false, vector: .NP),
])
func task2IDTTaskGateFaults(_ c: IDTTaskFaultCase) {
    var f = CPUFixture(.ia32, cpl: 3)
    let b = f.addTask(dpl: 0, busy: c.busy, present: c.present)
    f.setGate(6, type: .taskGate, selector: b, offset: 0, dpl: 0)
    let r = f.run(.movToCS)
    #expect(r.faults.map(\.vector).prefix(2) == [.UD, c.vector])
    #expect(r.faults.dropFirst().first?.errorCode == UInt32(b) | 1)
    #expect(r.faults.dropFirst().first?.rule == "TASK-2")
    #expect(f.m.cpu.tr.selector == Sel.tss)
}

@Test("TASK-7: a new TSS with the T bit set raises #DB after the switch, in the new task",
      arguments: ["jmp", "call", "int"], [false, true])
func task7TBit(_ how: String, _ tBit: Bool) {
    var f = CPUFixture(.ia32, cpl: 3)
    let b = f.addTask(dpl: 3)
    if tBit { f.tssWrite(TSS32.iomap, 0x0068_0001, 4, base: tssB) }
    f.setGate(0x40, type: .taskGate, selector: b, offset: 0, dpl: 3)
    let r: ExecutionResult
    switch how {
    case "jmp": r = f.run(.jmpFar(selector: b, offset: 0))
    case "call": r = f.run(.callFar(selector: b, offset: 0))
    default: r = f.run(.int(0x40))
    }
    #expect(f.m.cpu.tr.selector == b)
    if tBit {
        #expect(faultList(r) == ["DB"])
        #expect(r.faults.first?.rule == "TASK-7")
        #expect(r.delivery == .delivered(vector: 1))
        #expect(f.m.cpu.rip == Addr.handler(1))
        // Delivered in the new task (CPL 0, its stack): the saved EIP is the new task's first instruction.
        #expect(f.m.cpu[.rsp] == 0x60000 - 12)
        #expect(f.stack(0x60000 - 12, 2, width: 4) == [0x3000, UInt64(Sel.kernelCode)])
    } else {
        #expect(r.faults.isEmpty)
        #expect(f.m.cpu.rip == 0x3000)
    }
    // Nothing is left pending for the next instruction.
    let next = f.run(.nop)
    #expect(next.faults.isEmpty)
}

@Test("TASK-6: an interrupt task switch to an EIP beyond the new CS limit is #GP(0+EXT)")
func task6InterruptEIPBeyondLimitHasEXT() {
    var f = CPUFixture(.ia32, cpl: 3)
    var img = TaskImage()
    let small = f.add(CPUFixture.code(dpl: 0, limit: 0xFFF, g: false))
    img.segs[1] = small
    img.eip = 0x3000
    let t = f.addTask(img, dpl: 0)
    f.setGateRaw(0x40, low: Descriptor.gate(type: .taskGate, selector: t, offset: 0, dpl: 0, present: true).low.raw)
    var r = ExecutionResult()
    r.delivery = f.m.deliverWithEscalation(InterruptEvent(vector: 0x40, source: .external, returnIP: f.m.cpu.rip), raised: &r.faults)
    expectFirst(r, Expected(.GP, 1, "TASK-6"))
    #expect(f.m.cpu.tr.selector == t)
}

@Test("TASK-6: a fault after the commit point saves the new task's EIP as its return address", arguments: [false, true])
func task6PostCommitFaultSavesNewEIP(_ viaInterrupt: Bool) {
    var f = CPUFixture(.ia32, cpl: 0)
    var img = TaskImage()
    let gone = f.add(CPUFixture.data(dpl: 0, present: false))
    img.segs[3] = gone  // DS not present: #NP(DS) in the new task, at CPL 0 on its stack (ESP 0x60000)
    let b = f.addTask(img, dpl: 0)
    let r: ExecutionResult
    if viaInterrupt {
        f.setGateRaw(0x40, low: Descriptor.gate(type: .taskGate, selector: b, offset: 0, dpl: 0, present: true).low.raw)
        var e = ExecutionResult()
        e.delivery = f.m.deliverWithEscalation(InterruptEvent(vector: 0x40, source: .external, returnIP: f.m.cpu.rip), raised: &e.faults)
        r = e
    } else {
        r = f.run(.jmpFar(selector: b, offset: 0))
    }
    expectFirst(r, Expected(.NP, UInt32(gone) | (viaInterrupt ? 1 : 0), "TASK-6"))
    #expect(f.m.cpu.rip == Addr.handler(11))
    #expect(f.m.cpu[.rsp] == img.gprs[4] - 16, "EFLAGS, CS, EIP, error code on the new task's stack")
    #expect(f.stack(f.m.cpu[.rsp], 2, width: 4) == [UInt64(gone) | (viaInterrupt ? 1 : 0), img.eip],
            "the saved EIP is the new task's first instruction, not the JMP")
}
