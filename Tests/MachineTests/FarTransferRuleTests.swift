// FAR-1..FAR-17: far JMP/CALL, call gates, far RET and IRET.
// Expected values are taken from docs/machine-rules.md (section FAR), not from the model.

import Testing
@testable import Machine

/// Far JMP/CALL encode in 7 bytes (Instruction.length): the saved return EIP is start + 7.
private let farNext = Addr.code + 7
private let target: UInt64 = 0x2000

// MARK: FAR-1..FAR-4 direct far JMP/CALL

struct DirectCase: Sendable, CustomTestStringConvertible {
    var kind: FarKind
    var conforming: Bool
    var cpl: UInt8, rpl: UInt8, dpl: UInt8
    var testDescription: String { "\(kind) \(conforming ? "conforming" : "non-conforming") CPL\(cpl) RPL\(rpl) DPL\(dpl)" }
    /// FAR-2.
    var allowed: Bool { conforming ? dpl <= cpl : (dpl == cpl && rpl <= cpl) }
}

private let directCases: [DirectCase] = {
    var c: [DirectCase] = []
    for kind in [FarKind.jmp, .call] {
        for conforming in [false, true] {
            for cpl in UInt8(0)...3 {
                for rpl in UInt8(0)...3 {
                    for dpl in UInt8(0)...3 {
                        c.append(DirectCase(kind: kind, conforming: conforming, cpl: cpl, rpl: rpl, dpl: dpl))
                    }
                }
            }
        }
    }
    return c
}()

@Test("FAR-2/3/4: direct far JMP/CALL privilege table (ia32)", arguments: directCases)
func far2DirectTable(_ c: DirectCase) {
    var f = CPUFixture(.ia32, cpl: c.cpl)
    let base = f.add(CPUFixture.code(dpl: c.dpl, conforming: c.conforming))
    let sel = base | UInt16(c.rpl)
    let oldCS = f.m.cpu.cs.selector
    let sp = f.m.cpu[.rsp]
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: sel, offset: target) : .callFar(selector: sel, offset: target))
    if c.allowed {
        expectFirst(r, nil)
        #expect(f.m.cpu.cpl == c.cpl, "FAR-3: CPL never changes")
        #expect(f.m.cpu.cs.selector == base | UInt16(c.cpl), "FAR-3: CS.RPL forced to CPL")
        #expect(f.m.cpu.rip == target)
        if c.kind == .call {
            #expect(f.m.cpu[.rsp] == sp - 8)
            #expect(f.stack(sp - 8, 2, width: 4) == [farNext, UInt64(oldCS)], "FAR-4: CS pushed, then EIP")
        } else {
            #expect(f.m.cpu[.rsp] == sp)
        }
    } else {
        expectFirst(r, Expected(.GP, UInt32(base), "FAR-2"))
        #expect(f.m.cpu.rip == Addr.handler(13))
    }
}

struct FarFaultCase: Sendable, CustomTestStringConvertible {
    var name: String
    var mode: MachineMode = .ia32
    var cpl: UInt8 = 3
    /// Builds the target and returns the selector to use.
    var setup: @Sendable (inout CPUFixture) -> UInt16
    var offset: UInt64 = 0x2000
    var kind: FarKind = .call
    /// Expected fault; `codeIsSelector` substitutes the returned selector (RPL cleared) for the error code.
    var vector: ExceptionVector?
    var code: UInt32? = nil
    var codeIsSelector = false
    var rule: String = ""
    /// False when the fault's own delivery cannot succeed (the test broke the TSS stack it needs too).
    var delivers = true
    var testDescription: String { "\(mode) \(name)" }
}

private let directFaults: [FarFaultCase] = [
    FarFaultCase(name: "null selector 0", setup: { _ in 0 }, vector: .GP, code: 0, rule: "FAR-1"),
    FarFaultCase(name: "null selector 3", setup: { _ in 3 }, kind: .jmp, vector: .GP, code: 0, rule: "FAR-1"),
    FarFaultCase(name: "beyond GDT limit", setup: { f in UInt16(f.m.gdt.count << 3) | 3 }, vector: .GP, codeIsSelector: true, rule: "FAR-1"),
    FarFaultCase(name: "data segment target", setup: { f in f.add(CPUFixture.data(dpl: 3)) | 3 }, vector: .GP, codeIsSelector: true, rule: "FAR-2"),
    FarFaultCase(name: "not present code DPL3", setup: { f in f.add(CPUFixture.code(dpl: 3, present: false)) | 3 },
                 vector: .NP, codeIsSelector: true, rule: "FAR-2"),
    FarFaultCase(name: "not present code DPL0 (privilege before present)", setup: { f in f.add(CPUFixture.code(dpl: 0, present: false)) | 3 },
                 vector: .GP, codeIsSelector: true, rule: "FAR-2"),
    FarFaultCase(name: "EIP beyond CS limit", setup: { f in f.add(CPUFixture.code(dpl: 3, limit: 0xFFF, g: false)) | 3 },
                 offset: 0x1000, vector: .GP, code: 0, rule: "FAR-2"),
    FarFaultCase(name: "EIP at CS limit", setup: { f in f.add(CPUFixture.code(dpl: 3, limit: 0xFFF, g: false)) | 3 }, offset: 0xFFF),
    FarFaultCase(name: "64-bit: L=1 and D=1", mode: .x86_64,
                 setup: { f in f.add(CPUFixture.code(dpl: 3, long: true, big: true)) | 3 }, vector: .GP, codeIsSelector: true, rule: "FAR-2"),
    FarFaultCase(name: "64-bit: non-canonical RIP", mode: .x86_64, setup: { _ in Sel.userCode },
                 offset: 0x0000_8000_0000_0000, vector: .GP, code: 0, rule: "FAR-2"),
]

private func runFarFault(_ c: FarFaultCase) -> (CPUFixture, ExecutionResult, UInt16) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    let sel = c.setup(&f)
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: sel, offset: c.offset) : .callFar(selector: sel, offset: c.offset))
    if let v = c.vector {
        expectFirst(r, Expected(v, c.codeIsSelector ? UInt32(sel & 0xFFFC) : c.code, c.rule))
        if c.delivers { #expect(f.m.cpu.rip == Addr.handler(v.rawValue)) }
    } else {
        expectFirst(r, nil)
    }
    return (f, r, sel)
}

@Test("FAR-1/2: direct far transfer faults", arguments: directFaults)
func far1DirectFaults(_ c: FarFaultCase) { _ = runFarFault(c) }

@Test("FAR-4: 64-bit far CALL pushes 8-byte CS and RIP")
func far4Call64() {
    var f = CPUFixture(.x86_64, cpl: 3)
    let sp = f.m.cpu[.rsp]
    expectFirst(f.run(.callFar(selector: Sel.userCode, offset: 0x1234_5678_9000)), nil)
    #expect(f.m.cpu.rip == 0x1234_5678_9000)
    #expect(f.m.cpu[.rsp] == sp - 16)
    #expect(f.stack(sp - 16, 2, width: 8) == [farNext, UInt64(Sel.userCode)])
}

// MARK: FAR-5 gate privilege

struct GatePrivCase: Sendable, CustomTestStringConvertible {
    var cpl: UInt8, rpl: UInt8, gateDPL: UInt8
    var testDescription: String { "CALL gate DPL\(gateDPL) CPL\(cpl) RPL\(rpl)" }
}

private let gatePrivCases: [GatePrivCase] = {
    var c: [GatePrivCase] = []
    for cpl in UInt8(0)...3 { for rpl in UInt8(0)...3 { for g in UInt8(0)...3 { c.append(GatePrivCase(cpl: cpl, rpl: rpl, gateDPL: g)) } } }
    return c
}()

@Test("FAR-5: gate DPL >= CPL and >= RPL (CALL to DPL-0 code)", arguments: MachineMode.allCases, gatePrivCases)
func far5GatePrivilege(_ mode: MachineMode, _ c: GatePrivCase) {
    var f = CPUFixture(mode, cpl: c.cpl)
    let gate = f.addCallGate(to: Sel.kernelCode, offset: 0x3000, dpl: c.gateDPL)
    let r = f.run(.callFar(selector: gate | UInt16(c.rpl), offset: 0))
    if c.gateDPL >= c.cpl && c.gateDPL >= c.rpl {
        expectFirst(r, nil)
        #expect(f.m.cpu.cpl == 0)
        #expect(f.m.cpu.cs.selector == Sel.kernelCode)
        #expect(f.m.cpu.rip == 0x3000)
    } else {
        expectFirst(r, Expected(.GP, UInt32(gate), "FAR-5"))
    }
}

// MARK: FAR-7/8/9/10 target table through a gate

struct GateTargetCase: Sendable, CustomTestStringConvertible {
    var kind: FarKind
    var conforming: Bool
    var cpl: UInt8, dpl: UInt8
    var testDescription: String { "\(kind) via gate to \(conforming ? "conforming" : "non-conforming") DPL\(dpl) from CPL\(cpl)" }
}

private let gateTargetCases: [GateTargetCase] = {
    var c: [GateTargetCase] = []
    for kind in [FarKind.jmp, .call] {
        for conforming in [false, true] {
            for cpl in UInt8(0)...3 { for dpl in UInt8(0)...3 { c.append(GateTargetCase(kind: kind, conforming: conforming, cpl: cpl, dpl: dpl)) } }
        }
    }
    return c
}()

@Test("FAR-7/8/9/10: targets through a DPL-3 call gate", arguments: MachineMode.allCases, gateTargetCases)
func far7GateTargets(_ mode: MachineMode, _ c: GateTargetCase) {
    var f = CPUFixture(mode, cpl: c.cpl)
    let w = mode == .x86_64 ? 8 : 4
    let tsel = f.add(f.modeCode(dpl: c.dpl, conforming: c.conforming))
    let gate = f.addCallGate(to: tsel, offset: 0x3000, dpl: 3)
    let sp = f.m.cpu[.rsp], oldSS = f.m.cpu.ss.selector, oldCS = f.m.cpu.cs.selector
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: gate | 3, offset: 0) : .callFar(selector: gate | 3, offset: 0))
    if c.dpl > c.cpl {
        // FAR-7: target DPL must be <= CPL.
        expectFirst(r, Expected(.GP, UInt32(tsel), "FAR-7"))
        return
    }
    if c.kind == .jmp {
        if !c.conforming && c.dpl < c.cpl {
            expectFirst(r, Expected(.GP, UInt32(tsel), "FAR-8"))
            return
        }
        expectFirst(r, nil)
        #expect(f.m.cpu.cpl == c.cpl, "FAR-8: a JMP never changes privilege")
        #expect(f.m.cpu.cs.selector == tsel | UInt16(c.cpl))
        #expect(f.m.cpu[.rsp] == sp)
        #expect(f.m.cpu.rip == 0x3000)
        return
    }
    expectFirst(r, nil)
    #expect(f.m.cpu.rip == 0x3000)
    if !c.conforming && c.dpl < c.cpl {
        // FAR-9 / FAR-11: stack from the TSS, CPL := DPL.
        #expect(f.m.cpu.cpl == c.dpl)
        #expect(f.m.cpu.cs.selector == tsel | UInt16(c.dpl))
        let newSP = Addr.innerStack(c.dpl) - UInt64(4 * w)
        #expect(f.m.cpu[.rsp] == newSP)
        #expect(f.stack(newSP, 4, width: w) == [farNext, UInt64(oldCS), sp, UInt64(oldSS)])
        if mode == .ia32 {
            #expect(f.m.cpu.ss.selector == Sel.data(ring: c.dpl))
        } else {
            #expect(f.m.cpu.ss.selector == UInt16(c.dpl), "FAR-11: SS = null selector with RPL = new CPL")
        }
    } else {
        // FAR-10: same privilege, CS and EIP on the current stack.
        #expect(f.m.cpu.cpl == c.cpl)
        #expect(f.m.cpu.cs.selector == tsel | UInt16(c.cpl))
        #expect(f.m.cpu[.rsp] == sp - UInt64(2 * w))
        #expect(f.stack(sp - UInt64(2 * w), 2, width: w) == [farNext, UInt64(oldCS)])
        #expect(f.m.cpu.ss.selector == oldSS)
    }
}

// MARK: FAR-5/6/7/9 gate faults

private func gateTo(_ target: UInt16, dpl: UInt8 = 3, present: Bool = true, offset: UInt64 = 0x3000) -> @Sendable (inout CPUFixture) -> UInt16 {
    { f in f.addCallGate(to: target, offset: offset, dpl: dpl, present: present) | 3 }
}

private func withSS0(_ ss0: @escaping @Sendable (inout CPUFixture) -> UInt16) -> @Sendable (inout CPUFixture) -> UInt16 {
    { f in
        let s = ss0(&f)
        f.tssWrite(8, UInt64(s), 2)
        return f.addCallGate(to: Sel.kernelCode, offset: 0x3000, dpl: 3) | 3
    }
}

private let gateFaults: [FarFaultCase] = [
    FarFaultCase(name: "gate P=0", setup: gateTo(Sel.kernelCode, present: false), vector: .NP, codeIsSelector: true, rule: "FAR-5"),
    FarFaultCase(name: "gate P=0 DPL0 (DPL before present)", setup: gateTo(Sel.kernelCode, dpl: 0, present: false),
                 vector: .GP, codeIsSelector: true, rule: "FAR-5"),
    FarFaultCase(name: "gate target null", setup: gateTo(0), vector: .GP, code: 0, rule: "FAR-6"),
    FarFaultCase(name: "gate target null RPL3", setup: gateTo(3), kind: .jmp, vector: .GP, code: 0, rule: "FAR-6"),
    FarFaultCase(name: "gate target beyond limit", setup: gateTo(0x1F8), vector: .GP, code: 0x1F8, rule: "FAR-6"),
    FarFaultCase(name: "gate target is data", setup: gateTo(Sel.kernelData), vector: .GP, code: 0x10, rule: "FAR-7"),
    FarFaultCase(name: "gate target is a TSS", setup: gateTo(Sel.tss), vector: .GP, code: 0x48, rule: "FAR-7"),
    FarFaultCase(name: "gate target not present",
                 setup: { f in let t = f.add(CPUFixture.code(dpl: 0, present: false)); return f.addCallGate(to: t, offset: 0x3000, dpl: 3) | 3 },
                 vector: .NP, code: 0x50, rule: "FAR-7"),
    FarFaultCase(name: "gate target DPL3 from CPL0", cpl: 0,
                 setup: { f in f.addCallGate(to: Sel.userCode, offset: 0x3000, dpl: 3) }, vector: .GP, code: 0x18, rule: "FAR-7"),
    FarFaultCase(name: "JMP gate to more privileged non-conforming", setup: gateTo(Sel.kernelCode), kind: .jmp,
                 vector: .GP, code: 0x08, rule: "FAR-8"),
    // FAR-8: a JMP checks the target with check_cs (type, privilege, then present), so a more privileged
    // non-conforming target is #GP even when it is also not present; FAR-7's #NP is the CALL order.
    FarFaultCase(name: "JMP gate to more privileged non-conforming, not present (privilege before present)",
                 setup: { f in let t = f.add(CPUFixture.code(dpl: 0, present: false)); return f.addCallGate(to: t, offset: 0x3000, dpl: 3) | 3 },
                 kind: .jmp, vector: .GP, code: 0x50, rule: "FAR-8"),
    FarFaultCase(name: "JMP gate to a same-privilege code segment that is not present",
                 setup: { f in let t = f.add(CPUFixture.code(dpl: 3, present: false)); return f.addCallGate(to: t, offset: 0x3000, dpl: 3) | 3 },
                 kind: .jmp, vector: .NP, code: 0x50, rule: "FAR-8"),
    FarFaultCase(name: "64-bit JMP gate to more privileged non-conforming, not present", mode: .x86_64,
                 setup: { f in let t = f.add(CPUFixture.code(dpl: 0, present: false, long: true)); return f.addCallGate(to: t, offset: 0x3000, dpl: 3) | 3 },
                 kind: .jmp, vector: .GP, code: 0x58, rule: "FAR-8"),
    FarFaultCase(name: "TSS SS0 null", setup: withSS0 { _ in 0 }, vector: .TS, code: 0, rule: "FAR-9", delivers: false),
    FarFaultCase(name: "TSS SS0 beyond limit", setup: withSS0 { _ in 0x1F0 }, vector: .TS, code: 0x1F0, rule: "FAR-9", delivers: false),
    FarFaultCase(name: "TSS SS0 RPL 3", setup: withSS0 { _ in 0x13 }, vector: .TS, code: 0x10, rule: "FAR-9", delivers: false),
    FarFaultCase(name: "TSS SS0 read-only data", setup: withSS0 { f in f.add(CPUFixture.data(dpl: 0, writable: false)) },
                 vector: .TS, code: 0x50, rule: "FAR-9", delivers: false),
    FarFaultCase(name: "TSS SS0 code", setup: withSS0 { _ in Sel.kernelCode }, vector: .TS, code: 0x08, rule: "FAR-9", delivers: false),
    FarFaultCase(name: "TSS SS0 DPL1 data", setup: withSS0 { _ in Sel.ring1Data & 0xFFFC }, vector: .TS, code: 0x30, rule: "FAR-9", delivers: false),
    FarFaultCase(name: "TSS SS0 not present", setup: withSS0 { f in f.add(CPUFixture.data(dpl: 0, present: false)) },
                 vector: .SS, code: 0x50, rule: "FAR-9", delivers: false),
    FarFaultCase(name: "TSS limit excludes SS0",
                 setup: { f in f.m.cpu.tr.cache.limit = 8; return f.addCallGate(to: Sel.kernelCode, offset: 0x3000, dpl: 3) | 3 },
                 vector: .TS, code: 0x48, rule: "FAR-9", delivers: false),
    FarFaultCase(name: "gate offset beyond the new CS limit",
                 setup: { f in let t = f.add(CPUFixture.code(dpl: 0, limit: 0xFFF, g: false)); return f.addCallGate(to: t, offset: 0x3000, dpl: 3) | 3 },
                 vector: .GP, code: 0, rule: "FAR-9"),
    // FAR-11 (x86_64)
    FarFaultCase(name: "64-bit gate to a 32-bit code segment", mode: .x86_64,
                 setup: { f in let t = f.add(CPUFixture.code(dpl: 0)); return f.addCallGate(to: t, offset: 0x3000, dpl: 3) | 3 },
                 vector: .GP, code: 0x58, rule: "FAR-11"),
    FarFaultCase(name: "64-bit gate to a 32-bit code segment that is not present (type checks before P)", mode: .x86_64,
                 setup: { f in let t = f.add(CPUFixture.code(dpl: 0, present: false)); return f.addCallGate(to: t, offset: 0x3000, dpl: 3) | 3 },
                 vector: .GP, code: 0x58, rule: "FAR-11"),
    FarFaultCase(name: "64-bit gate to L=1 D=1 code", mode: .x86_64,
                 setup: { f in let t = f.add(CPUFixture.code(dpl: 0, long: true, big: true)); return f.addCallGate(to: t, offset: 0x3000, dpl: 3) | 3 },
                 vector: .GP, code: 0x58, rule: "FAR-11"),
    FarFaultCase(name: "16-bit call gate in long mode", mode: .x86_64,
                 setup: { f in f.addCallGate(to: Sel.kernelCode, offset: 0x3000, dpl: 3, type: .callGate16) | 3 },
                 vector: .GP, code: 0x58, rule: "FAR-5"),
    FarFaultCase(name: "64-bit gate upper type field not 0", mode: .x86_64,
                 setup: { f in
                     let g = f.addCallGate(to: Sel.kernelCode, offset: 0x3000, dpl: 3)
                     f.m.gdt[Int(g >> 3) + 1] |= UInt64(0xC) << 40
                     return g | 3
                 }, vector: .GP, code: 0x58, rule: "FAR-11"),
    FarFaultCase(name: "16-bit call gate not present in long mode (type before present)", mode: .x86_64,
                 setup: { f in f.addCallGate(to: Sel.kernelCode, offset: 0x3000, dpl: 3, present: false, type: .callGate16) | 3 },
                 vector: .GP, code: 0x58, rule: "FAR-5"),
    FarFaultCase(name: "64-bit gate not present", mode: .x86_64, setup: gateTo(Sel.kernelCode, present: false),
                 vector: .NP, code: 0x58, rule: "FAR-5"),
    FarFaultCase(name: "64-bit gate DPL0 from CPL3", mode: .x86_64, setup: gateTo(Sel.kernelCode, dpl: 0),
                 vector: .GP, code: 0x58, rule: "FAR-5"),
]

@Test("FAR-5..FAR-11: call gate faults", arguments: gateFaults)
func far5GateFaults(_ c: FarFaultCase) { _ = runFarFault(c) }

// MARK: FAR-11 the upper half of a 16-byte call gate, read after the gate's P bit

/// What the upper 8 bytes of a 64-bit call gate hold.
enum GateUpperHalf: String, Sendable, CaseIterable {
    case valid = "type 0"
    case nonZeroType = "type field 0x12"
    case beyondLimit = "beyond the GDT limit"
}

struct UpperHalfCase: Sendable, CustomTestStringConvertible {
    var kind: FarKind
    var present: Bool
    var upper: GateUpperHalf
    /// nil: the transfer completes.
    var expected: (vector: ExceptionVector, rule: String)?
    var testDescription: String { "\(kind.rawValue) through a 64-bit gate, P=\(present ? 1 : 0), upper half \(upper.rawValue)" }
}

/// SDM Vol. 2A CALL/JMP (CALL-GATE: #NP(gate) right after the DPL checks), Vol. 3A §5.8.3.1 (the upper
/// type field must be 0); Bochs call_protected/jump_protected check P before call_gate64/jmp_call_gate64
/// read the upper half (fetch_raw_descriptor_64: limit, then type); QEMU likewise. A not-present gate is
/// #NP(gate) whatever its upper half holds; a present one with a bad upper half is #GP(gate).
private let upperHalfCases: [UpperHalfCase] = [FarKind.call, .jmp].flatMap { kind in [
    UpperHalfCase(kind: kind, present: true, upper: .valid, expected: nil),
    UpperHalfCase(kind: kind, present: true, upper: .nonZeroType, expected: (.GP, "FAR-11")),
    UpperHalfCase(kind: kind, present: true, upper: .beyondLimit, expected: (.GP, "FAR-11")),
    UpperHalfCase(kind: kind, present: false, upper: .valid, expected: (.NP, "FAR-5")),
    UpperHalfCase(kind: kind, present: false, upper: .nonZeroType, expected: (.NP, "FAR-5")),
    UpperHalfCase(kind: kind, present: false, upper: .beyondLimit, expected: (.NP, "FAR-5")),
] }

@Test("FAR-5/FAR-11: a 64-bit call gate's P bit comes before its upper half's limit and type checks", arguments: upperHalfCases)
func far11UpperHalfAfterPresent(_ c: UpperHalfCase) {
    var f = CPUFixture(.x86_64, cpl: 3)
    let pair = Descriptor.gate(type: .callGate, selector: Sel.userCode, offset: 0x3000, dpl: 3, present: c.present)
    let gate = f.add(pair.low)
    switch c.upper {
    case .valid: f.addRaw(pair.high)
    case .nonZeroType: f.addRaw(CPUFixture.data(dpl: 3).raw)   // S=1, type 2 in bits 44..40
    case .beyondLimit: break                                     // the gate is the table's last 8 bytes
    }
    let sel = gate | 3
    let r = f.run(c.kind == .jmp ? .jmpFar(selector: sel, offset: 0) : .callFar(selector: sel, offset: 0))
    if let e = c.expected {
        expectFirst(r, Expected(e.vector, UInt32(gate), e.rule))
        #expect(f.m.cpu.rip == Addr.handler(e.vector.rawValue))
    } else {
        expectFirst(r, nil)
        #expect(f.m.cpu.rip == 0x3000 && f.m.cpu.cs.selector == Sel.userCode)
    }
}

// MARK: FAR-9 parameter copy

struct ParamCase: Sendable, CustomTestStringConvertible {
    var gate16: Bool
    var count: UInt8
    var testDescription: String { "\(gate16 ? "16" : "32")-bit gate, \(count) params" }
}

@Test("FAR-9: privilege-raising CALL copies param_count parameters between SS:ESP and CS:EIP",
      arguments: [false, true].flatMap { g in [UInt8(0), 1, 3, 5].map { ParamCase(gate16: g, count: $0) } })
func far9ParamCopy(_ c: ParamCase) {
    var f = CPUFixture(.ia32, cpl: 3)
    let w = c.gate16 ? 2 : 4
    let params: [UInt64] = [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6]
    f.push(params, width: w)  // top of stack: 0xA6
    let oldSP = f.m.cpu[.rsp]
    let gate = f.addCallGate(to: Sel.kernelCode, offset: 0x3000, dpl: 3, params: c.count,
                             type: c.gate16 ? .callGate16 : .callGate)
    expectFirst(f.run(.callFar(selector: gate | 3, offset: 0)), nil)
    let n = Int(c.count)
    let newSP = Addr.innerStack(0) - UInt64(w * (4 + n))
    #expect(f.m.cpu[.rsp] == newSP)
    let copied = Array(params.reversed().prefix(n))  // the n slots at the old ESP, in memory order
    let expected: [UInt64] = [farNext & (c.gate16 ? 0xFFFF : 0xFFFF_FFFF), UInt64(Sel.userCode)] + copied
        + [oldSP & (c.gate16 ? 0xFFFF : 0xFFFF_FFFF), UInt64(Sel.userData)]
    #expect(f.stack(newSP, 4 + n, width: w) == expected)
    #expect(f.m.cpu.cpl == 0)
    #expect(f.m.cpu.cs.selector == Sel.kernelCode)
    #expect(f.m.cpu.ss.selector == Sel.kernelData)
    #expect(f.m.cpu.rip == 0x3000)
}

@Test("FAR-11: a 64-bit call gate copies no parameters")
func far11NoParamCopy() {
    var f = CPUFixture(.x86_64, cpl: 3)
    f.push([0xA1, 0xA2, 0xA3], width: 8)
    let oldSP = f.m.cpu[.rsp]
    let gate = f.addCallGate(to: Sel.kernelCode, offset: 0xFFFF_8000_0000_3000, dpl: 3, params: 3)
    expectFirst(f.run(.callFar(selector: gate | 3, offset: 0)), nil)
    let newSP = Addr.innerStack(0) - 32
    #expect(f.m.cpu[.rsp] == newSP)
    #expect(f.stack(newSP, 4, width: 8) == [farNext, UInt64(Sel.userCode), oldSP, UInt64(Sel.userData)])
    #expect(f.m.cpu.rip == 0xFFFF_8000_0000_3000, "offset 63..32 from the gate's third dword")
    #expect(f.m.cpu.ss.selector == 0)
    #expect(f.m.cpu.cpl == 0)
}

// MARK: FAR-12/13 far RET

struct RetCase: Sendable, CustomTestStringConvertible {
    var name: String
    var mode: MachineMode = .ia32
    var cpl: UInt8
    var imm: UInt16 = 0
    /// Builds the return frame; returns [SS, ESP] (or [] for a same-level frame) and CS.
    var frame: @Sendable (inout CPUFixture) -> (cs: UInt16, outer: [UInt64]?)
    var vector: ExceptionVector?
    var code: UInt32? = nil
    var rule: String = ""
    var newCPL: UInt8 = 0
    /// `retfw`/`retfd`/`retfq` (2, 4, 8); nil: plain `retf`, the mode's default.
    var width: Int? = nil
    var testDescription: String { "\(mode) \(name)" }
}

private let retCases: [RetCase] = [
    // An explicit operand size: RETFD in 64-bit mode pops 4-byte slots (REX.W absent); RETFQ
    // exists only in 64-bit mode (elsewhere 0x48 is DEC EAX): refused with #UD.
    RetCase(name: "retfd same level", mode: .x86_64, cpl: 0, frame: { _ in (Sel.kernelCode, nil) }, newCPL: 0, width: 4),
    RetCase(name: "retfd outer 0->3", mode: .x86_64, cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, UInt64(Sel.userData)]) },
            newCPL: 3, width: 4),
    RetCase(name: "retfq outside 64-bit mode", cpl: 3, frame: { _ in (Sel.userCode, nil) }, vector: .UD, rule: "FAR-16", width: 8),
    RetCase(name: "same level", cpl: 3, frame: { _ in (Sel.userCode, nil) }, newCPL: 3),
    RetCase(name: "same level imm 8", cpl: 3, imm: 8, frame: { _ in (Sel.userCode, nil) }, newCPL: 3),
    RetCase(name: "same level CPL0", cpl: 0, frame: { _ in (Sel.kernelCode, nil) }, newCPL: 0),
    RetCase(name: "null CS", cpl: 3, frame: { _ in (3, nil) }, vector: .GP, code: 0, rule: "FAR-12"),
    RetCase(name: "CS beyond limit", cpl: 3, frame: { _ in (0x1FB, nil) }, vector: .GP, code: 0x1F8, rule: "FAR-12"),
    RetCase(name: "RPL < CPL", cpl: 3, frame: { _ in (Sel.kernelCode, nil) }, vector: .GP, code: 0x08, rule: "FAR-12"),
    RetCase(name: "non-conforming DPL != RPL", cpl: 0, frame: { _ in (Sel.kernelCode | 3, [0x3F00, UInt64(Sel.userData)]) },
            vector: .GP, code: 0x08, rule: "FAR-12"),
    RetCase(name: "data segment as CS", cpl: 3, frame: { _ in (Sel.userData, nil) }, vector: .GP, code: 0x20, rule: "FAR-12"),
    RetCase(name: "conforming DPL0 at RPL3", cpl: 3, frame: { f in (f.add(CPUFixture.code(dpl: 0, conforming: true)) | 3, nil) }, newCPL: 3),
    RetCase(name: "conforming DPL3 at RPL0", cpl: 0, frame: { f in (f.add(CPUFixture.code(dpl: 3, conforming: true)), nil) },
            vector: .GP, code: 0x50, rule: "FAR-12"),
    RetCase(name: "CS not present", cpl: 3, frame: { f in (f.add(CPUFixture.code(dpl: 3, present: false)) | 3, nil) },
            vector: .NP, code: 0x50, rule: "FAR-12"),
    RetCase(name: "EIP beyond CS limit", cpl: 3, frame: { f in (f.add(CPUFixture.code(dpl: 3, limit: 0x1FFF, g: false)) | 3, nil) },
            vector: .GP, code: 0, rule: "FAR-12"),
    // FAR-13 outer level
    RetCase(name: "outer 0->3", cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, UInt64(Sel.userData)]) }, newCPL: 3),
    RetCase(name: "outer 0->3 imm 12", cpl: 0, imm: 12, frame: { _ in (Sel.userCode, [0x3F00, UInt64(Sel.userData)]) }, newCPL: 3),
    RetCase(name: "outer 1->2", cpl: 1, imm: 4, frame: { _ in (Sel.ring2Code, [0x3F00, UInt64(Sel.ring2Data)]) }, newCPL: 2),
    RetCase(name: "outer SS null", cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, 3]) }, vector: .GP, code: 0, rule: "FAR-13"),
    RetCase(name: "outer SS beyond limit", cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, 0x1FB]) }, vector: .GP, code: 0x1F8, rule: "FAR-13"),
    RetCase(name: "outer SS RPL mismatch", cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, 0x20]) }, vector: .GP, code: 0x20, rule: "FAR-13"),
    RetCase(name: "outer SS is code", cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, UInt64(Sel.userCode)]) }, vector: .GP, code: 0x18, rule: "FAR-13"),
    RetCase(name: "outer SS read-only", cpl: 0, frame: { f in (Sel.userCode, [0x3F00, UInt64(f.add(CPUFixture.data(dpl: 3, writable: false)) | 3)]) },
            vector: .GP, code: 0x50, rule: "FAR-13"),
    RetCase(name: "outer SS DPL mismatch", cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, 0x13]) }, vector: .GP, code: 0x10, rule: "FAR-13"),
    RetCase(name: "outer SS not present", cpl: 0, frame: { f in (Sel.userCode, [0x3F00, UInt64(f.add(CPUFixture.data(dpl: 3, present: false)) | 3)]) },
            vector: .SS, code: 0x50, rule: "FAR-13"),
    // x86_64: RETFQ, 8-byte slots; null SS allowed returning to a 64-bit segment at RPL != 3.
    RetCase(name: "retfq same level", mode: .x86_64, cpl: 0, frame: { _ in (Sel.kernelCode, nil) }, newCPL: 0),
    RetCase(name: "retfq outer 0->3", mode: .x86_64, cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, UInt64(Sel.userData)]) }, newCPL: 3),
    RetCase(name: "retfq outer 0->1 null SS", mode: .x86_64, cpl: 0, frame: { _ in (Sel.ring1Code, [0x3F00, 1]) }, newCPL: 1),
    RetCase(name: "retfq outer 0->3 null SS", mode: .x86_64, cpl: 0, frame: { _ in (Sel.userCode, [0x3F00, 3]) },
            vector: .GP, code: 0, rule: "FAR-13"),
]

@Test("FAR-12/13: far RET", arguments: retCases)
func far12FarReturn(_ c: RetCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    let w = c.width ?? (c.mode == .x86_64 ? 8 : 4)
    let (cs, outer) = c.frame(&f)
    let ip: UInt64 = 0x2000
    let start = f.m.cpu[.rsp]
    if let o = outer { f.push([o[1], o[0]], width: w) }  // SS, then ESP
    f.push(Array(repeating: 0xEE, count: Int(c.imm) / w), width: w)
    f.push([UInt64(cs), ip], width: w)
    _ = start
    let r = f.run(.retf(popBytes: c.imm, width: c.width))
    guard c.vector == nil else {
        expectFirst(r, Expected(c.vector!, c.code, c.rule))
        return
    }
    expectFirst(r, nil)
    #expect(f.m.cpu.rip == ip)
    #expect(f.m.cpu.cpl == c.newCPL)
    #expect(f.m.cpu.cs.selector == cs)
    if let o = outer {
        #expect(f.m.cpu[.rsp] == o[0] + UInt64(c.imm), "FAR-13: popped ESP plus imm16")
        #expect(f.m.cpu.ss.selector == UInt16(o[1]))
    } else {
        #expect(f.m.cpu[.rsp] == start)
    }
}

// MARK: FAR-14 data segments after an outer return

struct NullingCase: Sendable, CustomTestStringConvertible {
    var name: String
    var fromCPL: UInt8
    var toCPL: UInt8
    /// The descriptor loaded into DS before the return (nil: null selector), and whether it must survive.
    var descriptor: Descriptor?
    var survives: Bool
    var testDescription: String { "\(fromCPL)->\(toCPL) \(name)" }
}

private let nullingCases: [NullingCase] = [
    NullingCase(name: "DPL0 data", fromCPL: 0, toCPL: 3, descriptor: CPUFixture.data(dpl: 0), survives: false),
    NullingCase(name: "DPL3 data", fromCPL: 0, toCPL: 3, descriptor: CPUFixture.data(dpl: 3), survives: true),
    NullingCase(name: "DPL2 data", fromCPL: 0, toCPL: 3, descriptor: CPUFixture.data(dpl: 2), survives: false),
    NullingCase(name: "DPL0 non-conforming readable code", fromCPL: 0, toCPL: 3, descriptor: CPUFixture.code(dpl: 0), survives: false),
    NullingCase(name: "DPL0 conforming readable code", fromCPL: 0, toCPL: 3, descriptor: CPUFixture.code(dpl: 0, conforming: true), survives: true),
    NullingCase(name: "DPL1 data", fromCPL: 0, toCPL: 1, descriptor: CPUFixture.data(dpl: 1), survives: true),
    NullingCase(name: "DPL0 data", fromCPL: 0, toCPL: 1, descriptor: CPUFixture.data(dpl: 0), survives: false),
    NullingCase(name: "DPL2 data", fromCPL: 1, toCPL: 2, descriptor: CPUFixture.data(dpl: 2), survives: true),
    NullingCase(name: "DPL1 data", fromCPL: 1, toCPL: 2, descriptor: CPUFixture.data(dpl: 1), survives: false),
    NullingCase(name: "null (unusable)", fromCPL: 0, toCPL: 3, descriptor: nil, survives: false),
]

@Test("FAR-14: outer RET/IRET nulls DS/ES/FS/GS the new CPL may not use", arguments: nullingCases, ["retf", "iret"])
func far14Nulling(_ c: NullingCase, _ via: String) {
    var f = CPUFixture(.ia32, cpl: c.fromCPL)
    var sel: UInt16 = 0
    if let d = c.descriptor { sel = f.add(d) }
    for reg in [SegmentRegisterName.ds, .es, .fs, .gs] {
        f.m.cpu[segment: reg] = SegmentRegister(selector: sel, cache: c.descriptor?.cache ?? .unusable)
    }
    let cs = Sel.code(ring: c.toCPL), ss = Sel.data(ring: c.toCPL)
    if via == "retf" {
        f.push([UInt64(ss), 0x3F00, UInt64(cs), 0x2000], width: 4)
        expectFirst(f.run(.retf(popBytes: 0)), nil)
    } else {
        f.push([UInt64(ss), 0x3F00, 0x202, UInt64(cs), 0x2000], width: 4)
        expectFirst(f.run(.iret(width: nil)), nil)
    }
    #expect(f.m.cpu.cpl == c.toCPL)
    for reg in [SegmentRegisterName.ds, .es, .fs, .gs] {
        #expect(f.m.cpu[segment: reg].selector == (c.survives ? sel : 0), "\(reg)")
    }
}

@Test("FAR-14: in 64-bit mode a register already holding a null selector stays null with no `nulled` trace line",
      arguments: ["retf", "iret"])
func far14NullSelectorIn64BitMode(_ via: String) {
    var f = CPUFixture(.x86_64, cpl: 0)
    // A null selector loaded in 64-bit mode: usable, base 0 (SEG-5a), as the kernel leaves FS/GS for a user task.
    var cache = SegmentCache.unusable
    cache.usable = true
    cache.base = 0
    for reg in [SegmentRegisterName.ds, .es, .fs, .gs] { f.m.cpu[segment: reg] = SegmentRegister(selector: 0, cache: cache) }
    let kept = f.add(CPUFixture.data(dpl: 0))
    f.m.cpu.ds = SegmentRegister(selector: kept, cache: CPUFixture.data(dpl: 0).cache)
    if via == "retf" {
        f.push([UInt64(Sel.userData), 0x3F00, UInt64(Sel.userCode), 0x2000], width: 8)
        expectFirst(f.run(.retf(popBytes: 0)), nil)
    } else {
        f.push([UInt64(Sel.userData), 0x3F00, 0x202, UInt64(Sel.userCode), 0x2000], width: 8)
        expectFirst(f.run(.iret(width: nil)), nil)
    }
    #expect(f.m.cpu.cpl == 3)
    let nulled = f.m.trace.events.compactMap { e -> String? in
        if case let .segmentCheck(register, _, detail) = e, detail.contains("FAR-14") { return register } else { return nil }
    }
    #expect(nulled == ["ds"], "only DS, which held a DPL-0 data selector, is reported nulled")
    for reg in [SegmentRegisterName.ds, .es, .fs, .gs] { #expect(f.m.cpu[segment: reg].selector == 0, "\(reg)") }
}

// MARK: FAR-15 IRET with NT=1 in long mode

@Test("FAR-15: IRET with NT=1 in IA-32e mode is #GP(0)", arguments: [UInt8(0), 3])
func far15IretNTLongMode(_ cpl: UInt8) {
    var f = CPUFixture(.x86_64, cpl: cpl)
    f.m.cpu.rflags |= RFLAGS.nt
    let r = f.run(.iret(width: nil))
    expectFirst(r, Expected(.GP, 0, "FAR-15"))
    #expect(f.m.cpu.rip == Addr.handler(13))
}

// MARK: FAR-16/17 IRET flag restoration

struct IretFlagsCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var cpl: UInt8
    var iopl: UInt8
    var oldIF: Bool
    var testDescription: String { "\(mode) CPL\(cpl) IOPL\(iopl) IF=\(oldIF ? 1 : 0)" }
}

private let iretFlagCases: [IretFlagsCase] = {
    var c: [IretFlagsCase] = []
    for mode in MachineMode.allCases {
        for cpl in UInt8(0)...3 { for iopl in UInt8(0)...3 { for i in [false, true] { c.append(IretFlagsCase(mode: mode, cpl: cpl, iopl: iopl, oldIF: i)) } } }
    }
    return c
}()

@Test("FAR-17: IF changes only if CPL <= IOPL; IOPL/VIF/VIP only at CPL 0", arguments: iretFlagCases)
func far17IretFlags(_ c: IretFlagsCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl)
    let w = c.mode == .x86_64 ? 8 : 4
    let oldFlags = RFLAGS.reserved1 | (UInt64(c.iopl) << 12) | (c.oldIF ? RFLAGS.if : 0)
    f.m.cpu.rflags = oldFlags
    let newIOPL = UInt64(3 - c.iopl)
    let popped = RFLAGS.reserved1 | RFLAGS.cf | (newIOPL << 12) | (c.oldIF ? 0 : RFLAGS.if) | RFLAGS.vif | RFLAGS.vip
    let sp = f.m.cpu[.rsp]
    if c.mode == .x86_64 { f.push([UInt64(f.m.cpu.ss.selector), sp], width: 8) }
    f.push([popped, UInt64(f.m.cpu.cs.selector), 0x2000], width: w)
    expectFirst(f.run(.iret(width: nil)), nil)
    let flags = f.m.cpu.rflags
    #expect(f.m.cpu.rip == 0x2000)
    #expect(f.m.cpu.cpl == c.cpl)
    #expect(f.m.cpu[.rsp] == sp)
    #expect(flags & RFLAGS.cf != 0, "arithmetic flags always restored")
    let ifChanges = c.cpl <= c.iopl
    #expect((flags & RFLAGS.if != 0) == (ifChanges ? !c.oldIF : c.oldIF), "IF")
    #expect(RFLAGS.iopl(of: flags) == (c.cpl == 0 ? UInt8(newIOPL) : c.iopl), "IOPL")
    #expect((flags & RFLAGS.vif != 0) == (c.cpl == 0), "VIF")
    #expect((flags & RFLAGS.vip != 0) == (c.cpl == 0), "VIP")
    #expect(flags & RFLAGS.vm == 0, "VM unaffected")
}

@Test("FAR-16/17: outer IRET 0->3 pops ESP and SS, restores IOPL (CPL 0), checks CS as far RET",
      arguments: MachineMode.allCases)
func far16OuterIret(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 0)
    let w = mode == .x86_64 ? 8 : 4
    f.m.cpu.rflags = RFLAGS.reserved1
    let popped = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.iopl
    f.push([UInt64(Sel.userData), 0x3F00, popped, UInt64(Sel.userCode), 0x2000], width: w)
    expectFirst(f.run(.iret(width: nil)), nil)
    #expect(f.m.cpu.cpl == 3)
    #expect(f.m.cpu.cs.selector == Sel.userCode)
    #expect(f.m.cpu.ss.selector == Sel.userData)
    #expect(f.m.cpu[.rsp] == 0x3F00)
    #expect(f.m.cpu.rflags & RFLAGS.if != 0)
    #expect(RFLAGS.iopl(of: f.m.cpu.rflags) == 3)
    #expect(f.m.cpu.ds.selector == 0, "FAR-14: DPL-0 DS nulled")

    // The CS checks of FAR-12 apply to IRET: returning to RPL 0 from CPL 3 is refused.
    var g = CPUFixture(mode, cpl: 3)
    g.push([UInt64(Sel.kernelData), 0x3F00, RFLAGS.reserved1, UInt64(Sel.kernelCode), 0x2000], width: w)
    expectFirst(g.run(.iret(width: nil)), Expected(.GP, 0x08, "FAR-12"))
}

@Test("FAR-17: a popped VM=1 is ignored outside CPL 0 (VM unaffected)", arguments: [UInt8(1), 3])
func far17VMIgnored(_ cpl: UInt8) {
    var f = CPUFixture(.ia32, cpl: cpl)
    f.push([RFLAGS.reserved1 | RFLAGS.vm, UInt64(f.m.cpu.cs.selector), 0x2000], width: 4)
    expectFirst(f.run(.iret(width: nil)), nil)
    #expect(f.m.cpu.rflags & RFLAGS.vm == 0)
    #expect(f.m.cpu.rip == 0x2000)
}

@Test("FAR-16/17: a 16-bit IRET loads only FLAGS[15:0]; EFLAGS[31:16] (AC, ID, ...) keep their values")
func far16IretwKeepsUpperFlags() {
    var f = CPUFixture(.ia32, cpl: 0)
    f.m.cpu.rflags = RFLAGS.reserved1 | RFLAGS.ac | RFLAGS.id
    f.push([RFLAGS.reserved1 | RFLAGS.cf, UInt64(Sel.kernelCode), 0x2000], width: 2)
    expectFirst(f.run(.iret(width: 2)), nil)
    #expect(f.m.cpu.rip == 0x2000)
    #expect(f.m.cpu.rflags & RFLAGS.cf != 0)
    #expect(f.m.cpu.rflags & RFLAGS.ac != 0, "AC is in EFLAGS[31:16]: a 16-bit IRET leaves it")
    #expect(f.m.cpu.rflags & RFLAGS.id != 0, "ID is in EFLAGS[31:16]: a 16-bit IRET leaves it")
}

@Test("FAR-4/12/16: in a 16-bit code segment (D=0) far CALL, RETF and IRET use 16-bit slots")
func far4SixteenBitCodeSegment() {
    var f = CPUFixture(.ia32, cpl: 3)
    let code16 = f.add(CPUFixture.code(dpl: 3, big: false)) | 3
    f.m.cpu.cs = SegmentRegister(selector: code16, cache: f.descriptor(code16).cache)
    let sp = f.m.cpu[.rsp]
    expectFirst(f.run(.callFar(selector: code16, offset: 0x2000)), nil)
    // From 16-bit code the direct far CALL is CALL ptr16:16 (9A iw iw), 5 bytes: IP after it = Addr.code + 5.
    let next16 = Addr.code + 5
    #expect(f.m.cpu[.rsp] == sp - 4, "CS and IP pushed as words")
    #expect(f.stack(sp - 4, 2, width: 2) == [next16, UInt64(code16)])
    expectFirst(f.run(.retf(popBytes: 0)), nil)
    #expect(f.m.cpu[.rsp] == sp)
    #expect(f.m.cpu.rip == next16)
    f.push([0x202, UInt64(code16), 0x1234], width: 2)
    expectFirst(f.run(.iret(width: nil)), nil)
    #expect(f.m.cpu.rip == 0x1234)
    #expect(f.m.cpu[.rsp] == sp, "IRET popped three words")
}

@Test("FAR-16: an IRET that begins in 64-bit mode pops SS:RSP whatever its operand size (IRETD: SS:ESP as dwords)")
func far16IretdIn64BitModeSameLevel() {
    var f = CPUFixture(.x86_64, cpl: 0)
    let ss = f.m.cpu.ss.selector
    // SDM Vol. 2A IRET, IA-32e mode: "IF instruction began in 64-Bit Mode ... OperandSize = 32:
    // ESP <- Pop(); tempSS <- Pop()" (QEMU helper_ret_protected: HF_CS64 && is_iret takes the SS:RSP path).
    f.push([UInt64(ss), 0x7000, 0x202, UInt64(Sel.kernelCode), 0x2000], width: 4)
    expectFirst(f.run(.iret(width: 4)), nil)
    #expect(f.m.cpu.rip == 0x2000)
    #expect(f.m.cpu[.rsp] == 0x7000, "five dwords popped: EIP, CS, EFLAGS, ESP, SS")
    #expect(f.m.cpu.ss.selector == ss)
}

// MARK: Order of the CALL checks (SDM Vol. 2A CALL pseudo-code)

/// A small expand-up stack segment of DPL `dpl` at base 0x60000 (limit 0xFFF, byte granular).
private func smallStack(_ f: inout CPUFixture, dpl: UInt8) -> (UInt16, Descriptor) {
    let d = Descriptor.segment(base: 0x60000, limit: 0xFFF, type: 0x3, dpl: dpl, present: true, long: false,
                               big: true, granularity4K: false)
    return (f.add(d), d)
}

struct CallOrderCase: Sendable, CustomTestStringConvertible {
    var name: String
    var cpl: UInt8
    /// A call gate (else a direct far CALL to the small code segment).
    var gate: Bool
    var params: UInt8 = 0
    /// Where the room runs out: the new (TSS) stack, the current stack, or the caller's stack the
    /// parameters are copied from.
    var where_: String
    var expected: Expected
    var testDescription: String { name }
}

private let callOrderCases: [CallOrderCase] = [
    // MORE-PRIVILEGE: "IF new stack does not have room for parameters plus 16 bytes THEN #SS(NewSS)" is
    // checked before "IF CallGate(InstructionPointer) not within new code-segment limit THEN #GP(0)".
    CallOrderCase(name: "gate to inner level: no room on the new stack and a bad offset -> #SS(new SS) first, nothing written",
                  cpl: 3, gate: true, where_: "new", expected: Expected(.SS, 0x58, "FAR-9")),
    // The parameters are read from the caller's stack while they are pushed, after the offset check.
    CallOrderCase(name: "gate to inner level: parameters beyond the caller's stack and a bad offset -> #GP(0) first",
                  cpl: 3, gate: true, params: 2, where_: "caller", expected: Expected(.GP, 0, "FAR-9")),
    // SAME-PRIVILEGE: "IF stack does not have room for 8 bytes THEN #SS(0)" before the offset check.
    CallOrderCase(name: "gate at the same level: no room and a bad offset -> #SS(0) first, nothing written",
                  cpl: 0, gate: true, where_: "current", expected: Expected(.SS, 0, "FAR-10")),
    // Direct CALL: "IF stack not large enough for a 6-byte return address THEN #SS(0)" before "IF tempEIP
    // outside new code segment limit THEN #GP(0)" (Bochs: the pushes before branch_far).
    CallOrderCase(name: "direct far CALL: no room and a bad offset -> #SS(0) first, nothing written",
                  cpl: 0, gate: false, where_: "current", expected: Expected(.SS, 0, "FAR-4")),
]

@Test("FAR-4/9/10: CALL checks the stack's room before the target offset, and pushes only after both",
      arguments: callOrderCases)
func far9RoomBeforeOffsetBeforePushes(_ c: CallOrderCase) {
    var f = CPUFixture(.ia32, cpl: c.cpl)
    let smallCS = f.add(CPUFixture.code(dpl: 0, limit: 0xFFF, g: false))  // 0x50: offset 0x3000 lies beyond it
    let (ssSel, ss) = smallStack(&f, dpl: c.cpl == 3 && c.where_ == "new" ? 0 : c.cpl)
    switch c.where_ {
    case "new":
        // TSS.SS0:ESP0 = small:8: room for two dwords, the frame needs four.
        f.tssWrite(4, 8, 4)
        f.tssWrite(8, UInt64(ssSel), 2)
    case "current":
        f.m.cpu.ss = SegmentRegister(selector: ssSel | UInt16(c.cpl), cache: ss.cache)
        f.m.cpu[.rsp] = 4  // room for one dword, the return address needs two
    default:
        // The caller's stack holds one dword below its limit: the second parameter lies beyond it.
        f.m.cpu.ss = SegmentRegister(selector: ssSel | 3, cache: ss.cache)
        f.m.cpu[.rsp] = 0xFFC
    }
    let sel = c.gate ? f.addCallGate(to: smallCS, offset: 0x3000, dpl: 3, params: c.params) | UInt16(c.cpl) : smallCS
    let r = f.run(.callFar(selector: sel, offset: 0x3000))
    expectFirst(r, c.expected)
    if c.where_ != "caller" {
        #expect(f.read(0x60000, 8) == 0, "no slot of the frame was written before the fault")
    }
}

@Test("FAR-9/FAR-11: a CALL through a gate that faults after reading the TSS stack records no stack switch",
      arguments: MachineMode.allCases)
func far9NoStackSwitchTraceWhenCallFaults(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 3)
    let sel: UInt16
    if mode == .x86_64 {
        sel = f.addCallGate(to: Sel.kernelCode, offset: 0x0000_8000_0000_0000, dpl: 3) | 3
    } else {
        let small = f.add(CPUFixture.code(dpl: 0, limit: 0xFFF, g: false))
        sel = f.addCallGate(to: small, offset: 0x3000, dpl: 3) | 3
    }
    let r = f.run(.callFar(selector: sel, offset: 0))
    expectFirst(r, Expected(.GP, 0, mode == .x86_64 ? "FAR-11" : "FAR-9"))
    let switches = f.m.trace.events.filter { if case .stackSwitch = $0 { return true } else { return false } }
    #expect(switches.count == 1, "only the #GP's delivery switched stacks")
    #expect(f.m.lastDelivery?.vector == 13)
}

@Test("FAR-9: the TSS limit must cover SS0:ESP0 as read (bytes 4..9) for a privilege-raising CALL",
      arguments: [UInt32(0x8), 0x9])
func far9TSSSlotLimit(_ limit: UInt32) {
    // Current SDM CALL: "IF (TSSstackAddress + 5) > current TSS limit THEN #TS(current TSS selector)".
    var f = CPUFixture(.ia32, cpl: 3)
    f.m.cpu.tr.cache.limit = limit
    let sel = f.addCallGate(to: Sel.kernelCode, offset: 0x3000, dpl: 3) | 3
    let r = f.run(.callFar(selector: sel, offset: 0))
    if limit < 0x9 {
        expectFirst(r, Expected(.TS, UInt32(Sel.tss), "FAR-9"))
    } else {
        expectFirst(r, nil)
        #expect(f.m.cpu.cpl == 0)
    }
}

@Test("FAR-12: a far RET's code-segment privilege check is made against the return RPL, and its reason says so")
func far12ReasonNamesTheReturnRPL() {
    var f = CPUFixture(.ia32, cpl: 0)
    let conf3 = f.add(CPUFixture.code(dpl: 3, conforming: true))
    f.push([UInt64(conf3), 0x2000], width: 4)
    let r = f.run(.retf(popBytes: 0, width: nil))
    expectFirst(r, Expected(.GP, UInt32(conf3), "FAR-12"))
    #expect(r.faults.first?.reason == "conforming code segment DPL 3 > the return RPL 0")
}

@Test("FAR-4: a direct far CALL from 16-bit code is the 5-byte ptr16:16 form: it pushes CS and IP = its address + 5 as words")
func far4CallFrom16BitCodePushesIPPlus5() {
    var f = CPUFixture(.ia32, cpl: 3)
    let code16 = f.add(CPUFixture.code(dpl: 3, big: false))
    f.m.cpu.cs = SegmentRegister(selector: code16 | 3, cache: f.descriptor(code16).cache)
    f.m.cpu.rip = 0x100
    let sp = f.m.cpu[.rsp]
    expectFirst(f.run(.callFar(selector: Sel.userCode, offset: 0x8100)), nil)
    #expect(f.m.cpu[.rsp] == sp - 4)
    #expect(f.stack(f.m.cpu[.rsp], 2, width: 2) == [0x105, UInt64(code16 | 3)])
    #expect(Instruction.callFar(selector: 0, offset: 0).length(in64BitMode: false, codeSize16: true) == 5)
    #expect(Instruction.callFar(selector: 0, offset: 0).length(in64BitMode: false) == 7)
    #expect(Instruction.callFar(selector: 0, offset: 0).length(in64BitMode: true, codeSize16: true) == 7)
}

@Test("Instruction lengths of IRET: the code's own operand size has no prefix (CF), the other one takes 66; IRETQ is 48 CF")
func iretLengthsFollowTheCodeSize() {
    func len(_ w: Int?, _ is64: Bool, _ c16: Bool) -> UInt64 { Instruction.iret(width: w).length(in64BitMode: is64, codeSize16: c16) }
    #expect(len(nil, false, false) == 1 && len(4, false, false) == 1 && len(2, false, false) == 2)
    #expect(len(nil, false, true) == 1 && len(2, false, true) == 1 && len(4, false, true) == 2)
    #expect(len(8, true, false) == 2 && len(4, true, false) == 1 && len(2, true, false) == 2)
}

@Test("Instruction lengths in 16-bit code: MOV r16, imm16 is 3 bytes and MOV r32, imm32 6; MOV r16, Sreg 2 and MOV r32, Sreg 3")
func movLengthsIn16BitCode() {
    func len(_ i: Instruction, _ c16: Bool) -> UInt64 { i.length(in64BitMode: false, codeSize16: c16) }
    #expect(len(.movImmediate(.rax, 5, width: 2), true) == 3 && len(.movImmediate(.rax, 5, width: 4), true) == 6)
    #expect(len(.movImmediate(.rax, 5, width: 2), false) == 4 && len(.movImmediate(.rax, 5, width: 4), false) == 5)
    #expect(len(.movSegmentToRegister(.rax, .ds, width: 2), true) == 2 && len(.movSegmentToRegister(.rax, .ds, width: 4), true) == 3)
    #expect(len(.movSegmentToRegister(.rax, .ds, width: 2), false) == 3 && len(.movSegmentToRegister(.rax, .ds, width: 4), false) == 2)
    // Executed: in a 16-bit code segment `mov ax, 0x7b` advances IP by 3.
    var f = CPUFixture(.ia32, cpl: 3)
    let code16 = f.add(CPUFixture.code(dpl: 3, big: false))
    f.m.cpu.cs = SegmentRegister(selector: code16 | 3, cache: f.descriptor(code16).cache)
    f.m.cpu.rip = 0x100
    expectFirst(f.run(.movImmediate(.rax, 0x7b, width: 2)), nil)
    #expect(f.m.cpu.rip == 0x103)
}

struct NullSSReturnCase: Sendable, CustomTestStringConvertible {
    var via: String
    var fromCPL: UInt8
    var toCPL: UInt8
    /// The null SS popped: 0..3 (index 0, TI 0, this RPL).
    var ss: UInt16
    var allowed: Bool
    var testDescription: String { "\(via) \(fromCPL)->\(toCPL) SS=\(ss)" }
}

private let nullSSReturnCases: [NullSSReturnCase] = ["retfq", "iretq"].flatMap { via in
    [
        NullSSReturnCase(via: via, fromCPL: 0, toCPL: 1, ss: 1, allowed: true),
        NullSSReturnCase(via: via, fromCPL: 0, toCPL: 1, ss: 0, allowed: false),
        NullSSReturnCase(via: via, fromCPL: 0, toCPL: 1, ss: 2, allowed: false),
        NullSSReturnCase(via: via, fromCPL: 0, toCPL: 2, ss: 2, allowed: true),
        NullSSReturnCase(via: via, fromCPL: 1, toCPL: 2, ss: 1, allowed: false),
        NullSSReturnCase(via: via, fromCPL: 0, toCPL: 3, ss: 3, allowed: false),
    ]
} + [
    // IRETQ always pops SS:RSP, so a same-level return loads the null SS too: RPL must be the CPL.
    NullSSReturnCase(via: "iretq", fromCPL: 0, toCPL: 0, ss: 0, allowed: true),
    NullSSReturnCase(via: "iretq", fromCPL: 1, toCPL: 1, ss: 1, allowed: true),
    NullSSReturnCase(via: "iretq", fromCPL: 1, toCPL: 1, ss: 0, allowed: false),
]

@Test("FAR-13: a null SS returned to 64-bit mode at CPL 0-2 needs RPL = the new CPL, else #GP(0) (SDM IRET IA-32e-MODE-RETURN; Vol. 3A 6.15)",
      arguments: nullSSReturnCases)
func far13NullSSNeedsRPLEqualCPL(_ c: NullSSReturnCase) {
    var f = CPUFixture(.x86_64, cpl: c.fromCPL)
    let cs = Sel.code(ring: c.toCPL)
    if c.via == "iretq" {
        f.push([UInt64(c.ss), 0x3F00, RFLAGS.reserved1, UInt64(cs), 0x2000], width: 8)
    } else {
        f.push([UInt64(c.ss), 0x3F00, UInt64(cs), 0x2000], width: 8)
    }
    let r = f.run(c.via == "iretq" ? .iret(width: nil) : .retf(popBytes: 0, width: 8))
    guard c.allowed else {
        expectFirst(r, Expected(.GP, 0, "FAR-13"))
        return
    }
    expectFirst(r, nil)
    #expect(f.m.cpu.cpl == c.toCPL)
    #expect(f.m.cpu.ss.selector == c.ss)
    #expect(f.m.cpu[.rsp] == 0x3F00)
}

// MARK: IRET to a 16-bit stack segment (Linux espfix)

struct Iret16BitStackCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var width: Int
    /// The returned SS is a 16-bit segment (B = 0); else a 32-bit one.
    var ss16: Bool
    var testDescription: String { "\(mode) IRET (\(width)-byte slots) to a \(ss16 ? 16 : 32)-bit SS" }
}

@Test("FAR-16: an outer IRET to a 16-bit SS loads SP only; ESP[31:16] (RSP[63:16]) keep the inner stack's",
      arguments: [Iret16BitStackCase(mode: .ia32, width: 4, ss16: true), Iret16BitStackCase(mode: .ia32, width: 4, ss16: false),
                  Iret16BitStackCase(mode: .x86_64, width: 8, ss16: true), Iret16BitStackCase(mode: .x86_64, width: 4, ss16: true),
                  Iret16BitStackCase(mode: .x86_64, width: 8, ss16: false)])
func far16IretTo16BitStack(_ c: Iret16BitStackCase) {
    // Linux arch/x86/kernel/espfix_64.c (Intel, H. Peter Anvin): "The IRET instruction, when returning to a
    // 16-bit segment, only restores the bottom 16 bits of the user space stack pointer ... it also leaks kernel
    // state to user space" (Bochs iret_protected/long_iret and QEMU helper_ret_protected load SP only too).
    var f = CPUFixture(c.mode, cpl: 0)
    let code = f.add(CPUFixture.code(dpl: 3)) | 3          // 32-bit code: compatibility mode in x86_64
    let ss = f.add(Descriptor.segment(base: 0, limit: 0xFFFF, type: 0x3, dpl: 3, present: true, long: false,
                                      big: !c.ss16, granularity4K: false)) | 3
    f.push([UInt64(ss), 0x1234_ABCD, 0x202, UInt64(code), 0x2000], width: c.width)
    let inner = f.m.cpu[.rsp]
    expectFirst(f.run(.iret(width: c.width)), nil)
    #expect(f.m.cpu.cpl == 3)
    #expect(f.m.cpu.ss.selector == ss)
    #expect(f.m.cpu[.rsp] == (c.ss16 ? (inner & ~0xFFFF) | 0xABCD : 0x1234_ABCD))
}

@Test("FAR-13: RETF imm16 to an outer 16-bit stack (B = 0) releases the bytes from SP only: SP wraps, ESP[31:16] stay",
      arguments: [(UInt64(0x1234_FFFC), UInt16(8), UInt64(0x1234_0004)), (0x1234_0100, 8, 0x1234_0108), (0x0000_FFFE, 4, 0x2)])
func far13RetfImmTo16BitOuterStack(_ popped: UInt64, _ imm: UInt16, _ expected: UInt64) {
    var f = CPUFixture(.ia32, cpl: 0)
    let code = f.add(CPUFixture.code(dpl: 3)) | 3
    let ss = f.add(Descriptor.segment(base: 0, limit: 0xFFFF, type: 0x3, dpl: 3, present: true, long: false,
                                      big: false, granularity4K: false)) | 3
    // EIP, CS, imm bytes of parameters, ESP, SS (dwords).
    f.push([UInt64(ss), popped] + Array(repeating: 0, count: Int(imm) / 4) + [UInt64(code), 0x2000], width: 4)
    expectFirst(f.run(.retf(popBytes: imm)), nil)
    #expect(f.m.cpu.cpl == 3)
    #expect(f.m.cpu[.rsp] == expected)
}
