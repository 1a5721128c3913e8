// FAST-1..FAST-12: SYSENTER/SYSEXIT and SYSCALL/SYSRET.
// Expected values are taken from docs/machine-rules.md (section FAST), not from the model.

import Testing
@testable import Machine

private func msrs(_ f: inout CPUFixture, _ values: [UInt32: UInt64]) {
    for (k, v) in values { f.m.cpu.setMSR(k, v) }
}

/// Puts an x86_64 fixture's CPU in compatibility mode: CS = a 32-bit code segment at the current CPL.
private func enterCompat(_ f: inout CPUFixture) {
    let cpl = f.m.cpu.cpl
    let sel = f.add(CPUFixture.code(dpl: cpl)) | UInt16(cpl)
    f.m.cpu.cs = SegmentRegister(selector: sel, cache: f.descriptor(sel).cache)
}

// MARK: SYSENTER

struct SysenterCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var vendor: CPUVendor = .intel
    var compat = false
    var cpl: UInt8 = 3
    var csMSR: UInt64 = 0x08
    var eip: UInt64 = 0x0040_0000
    var esp: UInt64 = 0x0009_0000
    var expect: Expected?
    var cs: UInt16 = 0x08
    var ss: UInt16 = 0x10
    var testDescription: String {
        "\(vendor) \(mode)\(compat ? " compat" : "") CPL\(cpl) CS_MSR=0x\(String(csMSR, radix: 16)) -> \(expect.map { "\($0)" } ?? "ok")"
    }
}

private let sysenterCases: [SysenterCase] = {
    var c: [SysenterCase] = []
    for mode in MachineMode.allCases {
        for cpl in UInt8(0)...3 { c.append(SysenterCase(mode: mode, cpl: cpl)) }  // FAST-1: any CPL
        for cs in [UInt64(0), 1, 2, 3] { c.append(SysenterCase(mode: mode, csMSR: cs, expect: Expected(.GP, 0, "FAST-1"))) }
        c.append(SysenterCase(mode: mode, csMSR: 0x0B))  // RPL bits ignored: CS 0x08, SS 0x10
        c.append(SysenterCase(mode: mode, csMSR: 0x60, cs: 0x60, ss: 0x68))
        c.append(SysenterCase(mode: mode, vendor: .amd, expect: mode == .x86_64 ? Expected(.UD, nil, "FAST-5") : nil))
    }
    c.append(SysenterCase(mode: .x86_64, compat: true))  // Intel: works from compatibility mode
    c.append(SysenterCase(mode: .x86_64, vendor: .amd, compat: true, expect: Expected(.UD, nil, "FAST-5")))
    c.append(SysenterCase(mode: .x86_64, eip: 0xFFFF_8000_0000_1000, esp: 0xFFFF_8000_0009_0000))
    c.append(SysenterCase(mode: .x86_64, eip: 0x0000_8000_0000_0000, expect: Expected(.GP, 0, "FAST-1")))
    c.append(SysenterCase(mode: .x86_64, esp: 0x0001_0000_0000_0000, expect: Expected(.GP, 0, "FAST-1")))
    return c
}()

@Test("FAST-1/2/5: SYSENTER", arguments: sysenterCases)
func fast1Sysenter(_ c: SysenterCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl, vendor: c.vendor)
    if c.compat { enterCompat(&f) }
    msrs(&f, [MSR.sysenterCS: c.csMSR, MSR.sysenterEIP: c.eip, MSR.sysenterESP: c.esp])
    f.m.cpu.rflags = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.rf | RFLAGS.cf | RFLAGS.tf
    let r = f.run(.sysenter)
    expectFirst(r, c.expect)
    guard c.expect == nil else {
        #expect(f.m.cpu.rip == Addr.handler(c.expect!.vector.rawValue))
        return
    }
    #expect(f.m.cpu.cs.selector == c.cs)
    #expect(f.m.cpu.ss.selector == c.ss)
    #expect(f.m.cpu.cpl == 0)
    #expect(f.m.cpu.rip == c.eip)
    #expect(f.m.cpu[.rsp] == c.esp)
    #expect(f.m.cpu.rflags == RFLAGS.reserved1 | RFLAGS.cf | RFLAGS.tf, "VM, IF, RF cleared")
    #expect(f.m.cpu.cs.cache.long == (c.mode == .x86_64), "IA-32e: 64-bit CS")
    #expect(f.m.cpu.cs.cache.dpl == 0 && f.m.cpu.ss.cache.dpl == 0)
    #expect(f.m.cpu.cs.cache.base == 0 && f.m.cpu.ss.cache.base == 0)
}

// MARK: SYSEXIT

struct SysexitCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var vendor: CPUVendor = .intel
    var to64 = false
    var cpl: UInt8 = 0
    var csMSR: UInt64 = 0x08
    var rdx: UInt64 = 0x0804_8000
    var rcx: UInt64 = 0xBFFF_F000
    var expect: Expected?
    var cs: UInt16 = 0
    var ss: UInt16 = 0
    var testDescription: String {
        "\(vendor) \(mode) sysexit\(to64 ? "q" : "") CPL\(cpl) CS_MSR=0x\(String(csMSR, radix: 16)) -> \(expect.map { "\($0)" } ?? "ok")"
    }
}

private let sysexitCases: [SysexitCase] = {
    var c: [SysexitCase] = []
    for mode in MachineMode.allCases {
        c.append(SysexitCase(mode: mode, cs: 0x1B, ss: 0x23))  // (0x08+16)|3, (0x08+24)|3
        c.append(SysexitCase(mode: mode, csMSR: 0x60, cs: 0x73, ss: 0x7B))  // Linux ia32
        c.append(SysexitCase(mode: mode, csMSR: 0x61, cs: 0x73, ss: 0x7B))
        for cpl in UInt8(1)...3 { c.append(SysexitCase(mode: mode, cpl: cpl, expect: Expected(.GP, 0, "FAST-3"))) }
        c.append(SysexitCase(mode: mode, csMSR: 3, expect: Expected(.GP, 0, "FAST-3")))
        c.append(SysexitCase(mode: mode, vendor: .amd, expect: mode == .x86_64 ? Expected(.UD, nil, "FAST-5") : nil, cs: 0x1B, ss: 0x23))
    }
    c.append(SysexitCase(mode: .x86_64, to64: true, rdx: 0x0000_7FFF_0000_1000, rcx: 0x0000_7FFF_FFFF_F000, cs: 0x2B, ss: 0x33))
    c.append(SysexitCase(mode: .x86_64, to64: true, csMSR: 0x10, rdx: 0x40_0000, rcx: 0x7FFF_F000, cs: 0x33, ss: 0x3B))
    c.append(SysexitCase(mode: .x86_64, to64: true, rdx: 0x0000_8000_0000_0000, expect: Expected(.GP, 0, "FAST-4")))
    c.append(SysexitCase(mode: .x86_64, to64: true, rcx: 0xFFFF_7FFF_0000_0000, expect: Expected(.GP, 0, "FAST-4")))
    return c
}()

@Test("FAST-3/4/5: SYSEXIT", arguments: sysexitCases)
func fast3Sysexit(_ c: SysexitCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl, vendor: c.vendor)
    msrs(&f, [MSR.sysenterCS: c.csMSR])
    f.m.cpu[.rdx] = c.rdx | (c.to64 ? 0 : 0xFFFF_FFFF_0000_0000 & (c.mode == .x86_64 ? ~0 : 0))
    f.m.cpu[.rcx] = c.rcx
    let flags = f.m.cpu.rflags
    let r = f.run(.sysexit(to64: c.to64))
    expectFirst(r, c.expect)
    guard c.expect == nil else { return }
    #expect(f.m.cpu.cs.selector == c.cs)
    #expect(f.m.cpu.ss.selector == c.ss)
    #expect(f.m.cpu.cpl == 3)
    #expect(f.m.cpu.rip == c.rdx, "EIP = EDX (zero-extended) / RIP = RDX")
    #expect(f.m.cpu[.rsp] == c.rcx)
    #expect(f.m.cpu.cs.cache.dpl == 3 && f.m.cpu.ss.cache.dpl == 3)
    #expect(f.m.cpu.cs.cache.long == c.to64)
    #expect(f.m.cpu.rflags == flags)
}

// MARK: SYSCALL

private let star: UInt64 = 0x0023_0010_0000_5000  // user base 0x23, kernel CS 0x10, legacy EIP 0x5000
private let lstar: UInt64 = 0xFFFF_FFFF_8100_0000
private let cstar: UInt64 = 0xFFFF_FFFF_8100_0800
private let fmask: UInt64 = RFLAGS.if | RFLAGS.tf | RFLAGS.df | RFLAGS.ac

struct SyscallCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var vendor: CPUVendor = .intel
    var compat = false
    var sce = true
    var star: UInt64 = 0x0023_0010_0000_5000
    var expect: Expected?
    var cs: UInt16 = 0x10
    var ss: UInt16 = 0x18
    var testDescription: String {
        "\(vendor) \(mode)\(compat ? " compat" : "") SCE=\(sce ? 1 : 0) STAR=0x\(String(star, radix: 16)) -> \(expect.map { "\($0)" } ?? "ok")"
    }
}

private let syscallCases: [SyscallCase] = [
    SyscallCase(mode: .x86_64),
    SyscallCase(mode: .x86_64, vendor: .amd),
    SyscallCase(mode: .x86_64, sce: false, expect: Expected(.UD, nil, "FAST-6")),
    SyscallCase(mode: .x86_64, vendor: .amd, sce: false, expect: Expected(.UD, nil, "FAST-6")),
    SyscallCase(mode: .x86_64, compat: true, expect: Expected(.UD, nil, "FAST-6")),
    SyscallCase(mode: .x86_64, vendor: .amd, compat: true),
    SyscallCase(mode: .ia32, expect: Expected(.UD, nil, "FAST-6")),
    SyscallCase(mode: .ia32, vendor: .amd, sce: false, expect: Expected(.UD, nil, "FAST-6")),
    SyscallCase(mode: .ia32, vendor: .amd),
    // FAST-7: CS = STAR[47:32] & 0xFFFC, SS = STAR[47:32] + 8.
    SyscallCase(mode: .x86_64, star: 0x0023_0008_0000_0000, cs: 0x08, ss: 0x10),
    SyscallCase(mode: .x86_64, star: 0x0023_0013_0000_0000, cs: 0x10, ss: 0x1B),
    SyscallCase(mode: .x86_64, vendor: .amd, star: 0x0023_0013_0000_0000, cs: 0x10, ss: 0x1B),
]

@Test("FAST-6/7/8: SYSCALL", arguments: syscallCases, [UInt8(0), 3])
func fast6Syscall(_ c: SyscallCase, _ cpl: UInt8) {
    var f = CPUFixture(c.mode, cpl: cpl, vendor: c.vendor)
    if c.compat { enterCompat(&f) }
    f.m.cpu.efer = c.sce ? f.m.cpu.efer | EFER.sce : f.m.cpu.efer & ~EFER.sce
    msrs(&f, [MSR.star: c.star, MSR.lstar: lstar, MSR.cstar: cstar, MSR.fmask: fmask])
    let before = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.tf | RFLAGS.rf | RFLAGS.cf | RFLAGS.ac | RFLAGS.of
    f.m.cpu.rflags = before
    let sp = f.m.cpu[.rsp]
    let r = f.run(.syscall)
    expectFirst(r, c.expect)
    guard c.expect == nil else {
        #expect(f.m.cpu.rip == Addr.handler(6))
        return
    }
    #expect(f.m.cpu.cs.selector == c.cs)
    #expect(f.m.cpu.ss.selector == c.ss)
    #expect(f.m.cpu.cpl == 0)
    #expect(f.m.cpu[.rsp] == sp, "RSP unchanged, nothing pushed")
    #expect(f.m.cpu.cs.cache.dpl == 0 && f.m.cpu.ss.cache.dpl == 0)
    if c.mode == .x86_64 {
        #expect(f.m.cpu[.rcx] == Addr.code + 2, "RCX = next RIP")
        #expect(f.m.cpu[.r11] == before & ~RFLAGS.rf, "R11 = RFLAGS with RF cleared")
        #expect(f.m.cpu.rflags == (before & ~fmask & ~RFLAGS.rf) | RFLAGS.reserved1, "RFLAGS &= ~FMASK, RF cleared")
        #expect(f.m.cpu.rip == (c.compat ? cstar : lstar), "LSTAR from 64-bit mode, CSTAR from compatibility mode")
        #expect(f.m.cpu.cs.cache.long)
    } else {
        // FAST-8 (AMD legacy mode).
        #expect(f.m.cpu[.rcx] == Addr.code + 2, "ECX = EIP of the next instruction")
        #expect(f.m.cpu.rip == c.star & 0xFFFF_FFFF)
        #expect(f.m.cpu.rflags & (RFLAGS.if | RFLAGS.rf | RFLAGS.vm) == 0, "VM, IF, RF cleared")
        #expect(!f.m.cpu.cs.cache.long)
    }
}

// MARK: SYSRET

struct SysretCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode = .x86_64
    var vendor: CPUVendor = .intel
    var to64: Bool
    var cpl: UInt8 = 0
    var sce = true
    var star: UInt64 = 0x0023_0010_0000_0000
    var rcx: UInt64 = 0x0000_0000_0040_1000
    var r11: UInt64 = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.cf
    var expect: Expected?
    var cs: UInt16 = 0
    var ss: UInt16 = 0x2B
    var rip: UInt64 = 0x40_1000
    var flags: UInt64 = RFLAGS.reserved1 | RFLAGS.if | RFLAGS.cf
    var testDescription: String {
        "\(vendor) \(mode) sysret\(to64 ? "q" : "") CPL\(cpl) STAR=0x\(String(star, radix: 16)) RCX=0x\(String(rcx, radix: 16)) R11=0x\(String(r11, radix: 16))"
    }
}

private let sysretCases: [SysretCase] = [
    // FAST-10/11: 64-bit: CS = base+16 | 3, SS = base+8 | 3, RIP = RCX.
    SysretCase(to64: true, cs: 0x33),
    SysretCase(vendor: .amd, to64: true, cs: 0x33),
    SysretCase(to64: true, star: 0x0020_0010_0000_0000, cs: 0x33),
    SysretCase(to64: true, star: 0x0030_0010_0000_0000, cs: 0x43, ss: 0x3B),
    SysretCase(to64: true, rcx: 0xFFFF_FFFF_FFFF_F000, cs: 0x33, rip: 0xFFFF_FFFF_FFFF_F000),
    // Compat: CS = base | 3, RIP = ECX zero-extended.
    SysretCase(to64: false, cs: 0x23),
    SysretCase(to64: false, rcx: 0xDEAD_BEEF_0804_8000, cs: 0x23, rip: 0x0804_8000),
    SysretCase(vendor: .amd, to64: false, rcx: 0xDEAD_BEEF_0804_8000, cs: 0x23, rip: 0x0804_8000),
    // RFLAGS = (R11 & 0x3C7FD7) | 2: RF and VM forced clear.
    SysretCase(to64: true, r11: RFLAGS.rf | RFLAGS.vm | RFLAGS.if | RFLAGS.nt, cs: 0x33, flags: RFLAGS.reserved1 | RFLAGS.if | RFLAGS.nt),
    SysretCase(to64: true, r11: 0xFFFF_FFFF_FFFF_FFFF, cs: 0x33, flags: 0x3C_7FD7),
    SysretCase(to64: false, r11: 0, cs: 0x23, flags: RFLAGS.reserved1),
    // FAST-9
    SysretCase(to64: true, sce: false, expect: Expected(.UD, nil, "FAST-9")),
    SysretCase(vendor: .amd, to64: false, sce: false, expect: Expected(.UD, nil, "FAST-9")),
    SysretCase(to64: true, cpl: 3, expect: Expected(.GP, 0, "FAST-9")),
    SysretCase(to64: false, cpl: 3, expect: Expected(.GP, 0, "FAST-9")),
    SysretCase(vendor: .amd, to64: true, cpl: 3, expect: Expected(.GP, 0, "FAST-9")),
    SysretCase(to64: true, cpl: 1, expect: Expected(.GP, 0, "FAST-9")),
    // FAST-10 legacy (AMD): CS = base | 3, SS = base + 8 | 3, EIP = ECX, IF set.
    SysretCase(mode: .ia32, vendor: .amd, to64: false, r11: 0, cs: 0x23, flags: RFLAGS.reserved1 | RFLAGS.if),
]

@Test("FAST-9/10/11: SYSRET", arguments: sysretCases)
func fast9Sysret(_ c: SysretCase) {
    var f = CPUFixture(c.mode, cpl: c.cpl, vendor: c.vendor)
    f.m.cpu.efer = c.sce ? f.m.cpu.efer | EFER.sce : f.m.cpu.efer & ~EFER.sce
    msrs(&f, [MSR.star: c.star])
    f.m.cpu[.rcx] = c.rcx
    f.m.cpu[.r11] = c.r11
    f.m.cpu.rflags = RFLAGS.reserved1  // IF clear: the legacy AMD form must set it
    let sp = f.m.cpu[.rsp]
    let r = f.run(.sysret(to64: c.to64))
    expectFirst(r, c.expect)
    guard c.expect == nil else {
        #expect(f.m.cpu.rip == Addr.handler(c.expect!.vector.rawValue))
        return
    }
    #expect(f.m.cpu.cs.selector == c.cs)
    #expect(f.m.cpu.ss.selector == c.ss)
    #expect(f.m.cpu.cpl == 3)
    #expect(f.m.cpu.rip == c.rip)
    #expect(f.m.cpu[.rsp] == sp, "RSP unchanged")
    #expect(f.m.cpu.rflags == c.flags)
    #expect(f.m.cpu.cs.cache.dpl == 3 && f.m.cpu.ss.cache.dpl == 3)
    #expect(f.m.cpu.cs.cache.long == c.to64)
}

// MARK: FAST-12 non-canonical SYSRET

@Test("FAST-12: non-canonical RCX: Intel #GP(0) at CPL 0 on the user RSP; AMD returns, then faults at CPL 3",
      arguments: CPUVendor.allCases)
func fast12NonCanonicalSysret(_ vendor: CPUVendor) {
    var f = CPUFixture(.x86_64, cpl: 0, vendor: vendor)
    f.m.cpu.efer |= EFER.sce
    msrs(&f, [MSR.star: star])
    let userRSP: UInt64 = 0x0000_0066_6600_0008  // attacker-chosen (below the 40-bit physical limit: paging is off), left in RSP by SYSCALL
    let bad: UInt64 = 0x0000_8000_0000_0000
    f.m.cpu[.rsp] = userRSP
    f.m.cpu[.rcx] = bad
    f.m.cpu[.r11] = RFLAGS.reserved1 | RFLAGS.if
    let r = f.run(.sysret(to64: true))
    #expect(faultList(r) == ["GP(0)"])
    #expect(r.faults.first?.rule == "FAST-12")
    #expect(f.m.cpu.rip == Addr.handler(13))
    #expect(f.m.cpu.cpl == 0)
    let frame = f.stack(f.m.cpu[.rsp], 6, width: 8)  // error code, RIP, CS, RFLAGS, RSP, SS
    if vendor == .intel {
        // Raised at CPL 0: same privilege, so the handler's frame sits on the user-controlled RSP.
        #expect(f.m.cpu[.rsp] == (userRSP & ~0xF) - 48)
        #expect(frame[0] == 0)
        #expect(frame[1] == Addr.code, "the faulting SYSRET")
        #expect(frame[2] == UInt64(Sel.kernelCode), "faulted at CPL 0")
        #expect(frame[4] == userRSP)
    } else {
        // The return completed: the fault comes from CPL 3 and switches to RSP0.
        #expect(f.m.cpu[.rsp] == Addr.innerStack(0) - 48)
        #expect(frame[0] == 0)
        #expect(frame[1] == bad)
        #expect(frame[2] == 0x33, "faulted at CPL 3 in the user's 64-bit CS")
        #expect(frame[4] == userRSP)
        #expect(frame[5] == 0x2B)
    }
}

// MARK: A null SS selector computed by SYSENTER/SYSEXIT

/// SYSENTER and SYSEXIT load fixed, usable caches whatever the selectors they compute (SDM Vol. 2B): when
/// SYSENTER_CS + 8 (or + 24) wraps to a null selector, SS still holds the flat stack, and a push uses it (it is not
/// the null SS of SEG-6a, which only a 64-bit-mode load gives and whose use outside 64-bit mode is not modelled).
@Test("FAST-2/3: a null SS selector from SYSENTER/SYSEXIT still holds the flat stack", arguments: ["sysenter", "sysexit"])
func fastWrappedNullSSIsUsable(_ via: String) {
    var f = CPUFixture(.ia32, cpl: via == "sysenter" ? 3 : 0)
    if via == "sysenter" {
        msrs(&f, [MSR.sysenterCS: 0xFFF8, MSR.sysenterEIP: Addr.code, MSR.sysenterESP: Addr.innerStack(0)])
        expectFirst(f.run(.sysenter), nil)
        #expect(f.m.cpu.ss.selector == 0 && f.m.cpu.cpl == 0)
    } else {
        msrs(&f, [MSR.sysenterCS: 0xFFE8])
        f.m.cpu[.rdx] = Addr.code
        f.m.cpu[.rcx] = Addr.userStack
        expectFirst(f.run(.sysexit(to64: false)), nil)
        #expect(f.m.cpu.ss.selector == 3 && f.m.cpu.cpl == 3)
    }
    let sp = f.m.cpu[.rsp]
    let target = via == "sysenter" ? Sel.kernelCode : Sel.userCode
    expectFirst(f.run(.callFar(selector: target, offset: 0x2000)), nil)
    #expect(f.m.unsupported == nil, "\(f.m.unsupported ?? "")")
    #expect(f.m.cpu[.rsp] == sp - 8, "CS and EIP pushed through the SS cache")
}
