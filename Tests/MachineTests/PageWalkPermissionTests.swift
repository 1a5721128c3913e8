// PageWalkPermissionTests: every combination of the permission inputs of a two-level walk
// (an upper-level entry and the leaf), for 4-level and 32-bit paging, against a small oracle
// written from the text of PG-5..PG-13 - not from the model's code.

import Testing
@testable import Machine

/// One combination of permission inputs.
struct PermissionCase: Sendable, CustomTestStringConvertible {
    var mode: PagingMode
    // The PDE (upper level on the walk) and the PTE (leaf).
    var upperP, upperW, upperU, upperXD: Bool
    var leafP, leafW, leafU, leafXD: Bool
    // Control state.
    var wp, smep, smap, ac, nxe: Bool
    // The access.
    var cpl: UInt8
    var kind: AccessKind
    var implicit: Bool

    var testDescription: String {
        func b(_ v: Bool) -> String { v ? "1" : "0" }
        return "\(mode.rawValue) PDE P\(b(upperP))W\(b(upperW))U\(b(upperU))X\(b(upperXD)) "
            + "PTE P\(b(leafP))W\(b(leafW))U\(b(leafU))X\(b(leafXD)) "
            + "WP\(b(wp)) SMEP\(b(smep)) SMAP\(b(smap)) AC\(b(ac)) NXE\(b(nxe)) "
            + "cpl\(cpl) \(kind.rawValue)\(implicit ? " implicit" : "")"
    }

    /// The cross product, flattened. 32-bit paging has no XD bit, so those stay 0 there.
    /// Implicit accesses are data accesses (GDT/IDT/TSS reads, pushes), never fetches.
    static let all: [PermissionCase] = {
        var out: [PermissionCase] = []
        for mode in [PagingMode.level4, .bits32] {
            let entryBits = mode == .level4 ? 8 : 6
            for e in 0..<(1 << entryBits) {
                func bit(_ i: Int) -> Bool { e & (1 << i) != 0 }
                for c in 0..<32 {
                    func cbit(_ i: Int) -> Bool { c & (1 << i) != 0 }
                    for cpl: UInt8 in [0, 3] {
                        for kind in AccessKind.allCases {
                            for implicit in (kind == .fetch ? [false] : [false, true]) {
                                out.append(PermissionCase(
                                    mode: mode,
                                    upperP: bit(0), upperW: bit(1), upperU: bit(2),
                                    upperXD: mode == .level4 && bit(6),
                                    leafP: bit(3), leafW: bit(4), leafU: bit(5),
                                    leafXD: mode == .level4 && bit(7),
                                    wp: cbit(0), smep: cbit(1), smap: cbit(2), ac: cbit(3), nxe: cbit(4),
                                    cpl: cpl, kind: kind, implicit: implicit))
                            }
                        }
                    }
                }
            }
        }
        return out
    }()
}

/// The oracle: the #PF error code the rules demand, or nil for no fault.
func expectedErrorCode(_ c: PermissionCase) -> UInt32? {
    // PG-13: U/S of the error code is the access mode: CPL 3 and not implicit.
    let userAccess = c.cpl == 3 && !c.implicit
    let pae4 = c.mode == .level4
    // PG-11: W/R for writes, U/S for user accesses, I/D for fetches only when
    // (PAE/4-level paging with NXE=1) or SMEP=1.
    var code: UInt32 = 0
    if c.kind == .write { code |= 2 }
    if userAccess { code |= 4 }
    if c.kind == .fetch && ((pae4 && c.nxe) || c.smep) { code |= 16 }

    // PG-12: top-down; first P=0 -> not present; present with a reserved bit (XD with NXE=0) -> P|RSVD.
    for (present, xd) in [(c.upperP, c.upperXD), (c.leafP, c.leafXD)] {
        if !present { return code }
        if pae4 && xd && !c.nxe { return code | 1 | 8 }
    }

    // PG-5: combination over the levels.
    let writable = c.upperW && c.leafW
    let userPage = c.upperU && c.leafU
    let executeDisable = pae4 && c.nxe && (c.upperXD || c.leafXD)

    var fault = false
    switch c.kind {
    case .fetch:
        // PG-8: XD for any CPL; user fetch from a supervisor page; SMEP for supervisor fetch from a
        // user page. Not affected by R/W, WP or SMAP.
        if executeDisable { fault = true }
        if userAccess && !userPage { fault = true }
        if !userAccess && userPage && c.smep { fault = true }
    case .read, .write:
        if userAccess {
            // PG-6
            if !userPage { fault = true }
            if c.kind == .write && !writable { fault = true }
        } else {
            // PG-9: supervisor data access to a user page unless explicit with AC=1.
            if c.smap && userPage && (c.implicit || !c.ac) { fault = true }
            // PG-7
            if c.kind == .write && c.wp && !writable { fault = true }
        }
    }
    return fault ? code | 1 : nil
}

/// The control-register part of the cross product; each test case runs every entry and access
/// combination under it (one test case per control setting keeps Swift Testing's per-case cost
/// low while every combination is still checked).
struct PermissionControls: Sendable, CustomTestStringConvertible {
    var mode: PagingMode
    var wp, smep, smap, ac, nxe: Bool

    var testDescription: String {
        "\(mode.rawValue) WP=\(wp ? 1 : 0) SMEP=\(smep ? 1 : 0) SMAP=\(smap ? 1 : 0) AC=\(ac ? 1 : 0) NXE=\(nxe ? 1 : 0)"
    }

    static let all: [PermissionControls] = {
        var out: [PermissionControls] = []
        for mode in [PagingMode.level4, .bits32] {
            for c in 0..<32 {
                func cbit(_ i: Int) -> Bool { c & (1 << i) != 0 }
                out.append(PermissionControls(mode: mode, wp: cbit(0), smep: cbit(1), smap: cbit(2), ac: cbit(3), nxe: cbit(4)))
            }
        }
        return out
    }()

    /// Every case under these controls.
    var cases: [PermissionCase] {
        PermissionCase.all.filter {
            $0.mode == mode && $0.wp == wp && $0.smep == smep && $0.smap == smap && $0.ac == ac && $0.nxe == nxe
        }
    }
}

@Suite("Page-walk permissions (PG-5..PG-13), exhaustive")
struct PageWalkPermissionTests {
    @Test("the cross product has every combination")
    func crossProductSize() {
        // 4-level: 2^8 entry bits, 32-bit: 2^6; times 2^5 controls; times 2 CPLs x (read, write
        // explicit/implicit + fetch) = 10 accesses.
        #expect(PermissionCase.all.count == (256 + 64) * 32 * 10)
    }

    @Test("P, R/W, U/S, XD at PDE and PTE x CPL x read/write/fetch x explicit/implicit",
          arguments: PermissionControls.all)
    func permissions(_ controls: PermissionControls) throws {
        let cases = controls.cases
        #expect(cases.count == (controls.mode == .level4 ? 256 : 64) * 10)
        var failures = 0
        // Cases come grouped by entry bits: build the tables once per group, flush the TLB per access.
        var unit = PagingUnit()
        var cr3: UInt64 = 0
        var lastEntries: [Bool] = []
        for c in cases {
            let linear: UInt64 = c.mode == .level4 ? 0x0000_7F12_3440_0ABC : 0x1234_5ABC
            let phys: UInt64 = 0x0030_0000
            let entries = [c.upperP, c.upperW, c.upperU, c.upperXD, c.leafP, c.leafW, c.leafU, c.leafXD]
            if entries != lastEntries {
                lastEntries = entries
                unit = PagingUnit()
                cr3 = try unit.createAddressSpace(mode: c.mode)
                let nx: Bool? = c.mode == .level4 ? true : nil
                try unit.map(PageMapping(
                    virt: linear & ~0xFFF, phys: phys,
                    leaf: EntryFlags(present: c.leafP, writable: c.leafW, user: c.leafU, nx: c.leafXD ? nx : nil),
                    pde: EntryFlags(present: c.upperP, writable: c.upperW, user: c.upperU, nx: c.upperXD ? nx : nil)),
                    cr3: cr3, mode: c.mode, pse: false, nxe: c.nxe)
            }
            unit.tlb.flushAll()
            let control = PagingControl(mode: c.mode, cr3: cr3, wp: c.wp, smep: c.smep, smap: c.smap,
                                        nxe: c.nxe, ac: c.ac)
            var trace = Trace()
            trace.enabled = false
            let expected = expectedErrorCode(c)
            var problem: String?
            do {
                let p = try unit.translate(linear, MemoryAccess(c.kind, cpl: c.cpl, implicit: c.implicit), control, trace: &trace)
                if expected != nil { problem = "no fault, expected #PF(0x\(String(expected ?? 0, radix: 16)))" }
                else if p != phys | 0xABC { problem = "physical 0x\(String(p, radix: 16))" }
            } catch {
                if error.vector != .PF || error.errorCode != expected || error.cr2 != linear {
                    problem = "\(error), expected " + (expected.map { "#PF(0x\(String($0, radix: 16)))" } ?? "no fault")
                }
            }
            if let problem {
                failures += 1
                if failures <= 20 { Issue.record("\(c.testDescription): \(problem)") }
            }
        }
        #expect(failures == 0)
    }
}
