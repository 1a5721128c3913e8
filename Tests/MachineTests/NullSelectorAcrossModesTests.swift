// SEG-5a: a null selector in DS is usable only while the CPU runs in 64-bit mode (SDM Vol. 3A §3.4.4:
// 64-bit mode does not check null selectors in DS, ES, FS, GS on use; MOV: "#GP(0) If the DS, ES, FS, or
// GS register is used to access memory and it contains a NULL segment selector"). The register holds a
// null selector whatever mode loaded it, so a null DS loaded in 64-bit mode faults on use once the CPU is
// in compatibility mode, and one loaded in compatibility mode is usable once it is in 64-bit mode.
// Found by the blind audit of segment loads (scenarios/protection/blind-seg-3.yaml): the null loaded in
// 64-bit mode was cached as a usable flat segment and kept working in compatibility mode.

import Testing
@testable import Machine

struct NullAcrossModesCase: Sendable, CustomTestStringConvertible {
    var selector: UInt16
    /// How the CPU leaves 64-bit mode: a far JMP or a same-level far RET to the 32-bit user code.
    var via: String
    var testDescription: String { "mov ds, \(selector) in 64-bit mode, then \(via) to compatibility mode" }
}

private let toCompatCases: [NullAcrossModesCase] = [UInt16(0), 1, 3].flatMap { s in
    ["jmp far", "retf"].map { NullAcrossModesCase(selector: s, via: $0) }
}

/// A flat 32-bit (L=0) user code segment in the fixture's GDT, as selector RPL 3.
private func addCompatUserCode(_ f: inout CPUFixture) -> UInt16 {
    f.add(CPUFixture.code(dpl: 3, long: false)) | 3
}

@Test("SEG-5a: a null DS loaded in 64-bit mode faults #GP(0) on use in compatibility mode", arguments: toCompatCases)
func nullDSFrom64BitModeFaultsInCompat(_ c: NullAcrossModesCase) {
    var f = CPUFixture(.x86_64, cpl: 3)
    let compat = addCompatUserCode(&f)
    expectFirst(f.run(.movToSegment(.ds, c.selector)), nil)
    // In 64-bit mode the null DS is not checked on use.
    expectFirst(f.run(.load(.rax, address: Addr.userStack - 0x100, size: 8)), nil)
    if c.via == "jmp far" {
        expectFirst(f.run(.jmpFar(selector: compat, offset: Addr.code)), nil)
    } else {
        f.push([UInt64(compat), Addr.code], width: 8)
        expectFirst(f.run(.retf(popBytes: 0)), nil)
    }
    #expect(!f.m.in64BitMode)
    #expect(f.m.cpu.ds.selector == c.selector, "a same-level transfer leaves DS alone")
    expectFirst(f.run(.load(.rax, address: Addr.userStack - 0x100, size: 4)), Expected(.GP, 0, "SEG-5a"))
}

@Test("SEG-5a: a null DS loaded in compatibility mode faults #GP(0) on use there", arguments: [UInt16(0), 3])
func nullDSInCompatFaults(_ sel: UInt16) {
    var f = CPUFixture(.x86_64, cpl: 3)
    let compat = addCompatUserCode(&f)
    expectFirst(f.run(.jmpFar(selector: compat, offset: Addr.code)), nil)
    expectFirst(f.run(.movToSegment(.ds, sel)), nil)
    expectFirst(f.run(.load(.rax, address: Addr.userStack - 0x100, size: 4)), Expected(.GP, 0, "SEG-5a"))
}

@Test("SEG-5a: a null DS loaded in compatibility mode is usable (base 0) once a far JMP reaches 64-bit code")
func nullDSFromCompatThen64Bit() {
    var f = CPUFixture(.x86_64, cpl: 3)
    let compat = addCompatUserCode(&f)
    expectFirst(f.run(.jmpFar(selector: compat, offset: Addr.code)), nil)
    expectFirst(f.run(.movToSegment(.ds, 0)), nil)
    expectFirst(f.run(.jmpFar(selector: Sel.userCode, offset: Addr.code)), nil)
    #expect(f.m.in64BitMode)
    expectFirst(f.run(.load(.rax, address: Addr.userStack - 0x100, size: 8)), nil)
}

// A null SS is allowed only in 64-bit mode at CPL 0-2 (SEG-6a); MOV SS, RET and IRET refuse it for
// compatibility mode (SEG-6a, FAR-13), but a same-level far JMP from 64-bit code keeps it. The SDM does not
// say what a stack access through it then does: the model refuses it as not modelled, never a guessed result.
@Test("SEG-6a: a stack access in compatibility mode through a null SS left by 64-bit code is refused",
      arguments: ["call far", "retf"])
func nullSSInCompatIsRefused(_ via: String) {
    var f = CPUFixture(.x86_64, cpl: 0)
    let compat0 = f.add(CPUFixture.code(dpl: 0, long: false))
    expectFirst(f.run(.movToSegment(.ss, 0)), nil)
    expectFirst(f.run(.jmpFar(selector: compat0, offset: Addr.code)), nil)
    #expect(!f.m.in64BitMode && f.m.cpu.ss.selector == 0)
    #expect(f.m.unsupported == nil)
    _ = f.run(via == "call far" ? .callFar(selector: compat0, offset: Addr.code) : .retf(popBytes: 0))
    #expect(f.m.unsupported?.contains("null SS") == true, "\(f.m.unsupported ?? "nil")")
}
