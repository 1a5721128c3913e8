// PagingTests: page sizes, PAE PDPTE loading, reserved bits, canonical addresses, protection keys,
// A/D bits, mapping conflicts, shared kernel halves and the TLB (PG-1..PG-15).

import Testing
@testable import Machine

private let P = PageFaultCode.present
private let W = PageFaultCode.write
private let U = PageFaultCode.user
private let RSVD = PageFaultCode.reserved
private let ID = PageFaultCode.instructionFetch
private let PK = PageFaultCode.protectionKey

private let userRead = MemoryAccess(.read, cpl: 3)
private let userWrite = MemoryAccess(.write, cpl: 3)
private let userFetch = MemoryAccess(.fetch, cpl: 3)
private let kernelRead = MemoryAccess(.read, cpl: 0)
private let kernelWrite = MemoryAccess(.write, cpl: 0)

/// A paging unit with one address space.
private struct Rig {
    var unit = PagingUnit()
    var control: PagingControl
    var trace = Trace()

    init(_ mode: PagingMode, pse: Bool = false, nxe: Bool = true, wp: Bool = true) throws {
        control = PagingControl(mode: mode, cr3: 0, wp: wp, pse: pse, nxe: nxe)
        control.cr3 = try unit.createAddressSpace(mode: mode)
    }

    mutating func map(_ m: PageMapping) throws {
        try unit.map(m, cr3: control.cr3, mode: control.mode, pse: control.pse, nxe: control.nxe)
    }

    mutating func go(_ linear: UInt64, _ access: MemoryAccess) throws(Fault) -> UInt64 {
        try unit.translate(linear, access, control, trace: &trace)
    }

    /// The fault of an access, or nil.
    mutating func fault(_ linear: UInt64, _ access: MemoryAccess) -> Fault? {
        do {
            _ = try go(linear, access)
            return nil
        } catch {
            return error
        }
    }

    func leaf(_ linear: UInt64) -> UInt64 {
        unit.leaf(for: linear, cr3: control.cr3, mode: control.mode, pse: control.pse)?.value ?? 0
    }
}

@Suite("Paging")
struct PagingTests {
    // MARK: Page sizes

    @Test("4 MiB pages in 32-bit paging need CR4.PSE; without it PS is ignored (PG-1)")
    func fourMegPages() throws {
        var r = try Rig(.bits32, pse: true)
        try r.map(PageMapping(virt: 0x0040_0000, phys: 0x0080_0000, size: .size4M, leaf: EntryFlags(writable: true, user: true)))
        #expect(try r.go(0x0052_3456, userWrite) == 0x0092_3456)
        #expect(r.leaf(0x0040_0000) & PageTableEntry.pageSize != 0)
        // PSE-36: a 4 MiB page above 4 GiB.
        try r.map(PageMapping(virt: 0x0080_0000, phys: 0x12_0040_0000, size: .size4M, leaf: EntryFlags(user: true)))
        #expect(try r.go(0x0080_0010, userRead) == 0x12_0040_0010)
        // With CR4.PSE=0 the PDE's PS bit is ignored: the PDE is read as a page-table pointer.
        r.unit.tlb.flushAll()
        r.control.pse = false
        var trace = Trace()
        #expect(throws: Fault.self) { try r.unit.translate(0x0040_0000, userRead, r.control, trace: &trace) }
        let pse0 = PagingUnit().leaf(for: 0, cr3: 0, mode: .bits32, pse: false)
        #expect(pse0 == nil)
        // Without PSE the mapping itself is refused.
        var r2 = try Rig(.bits32, pse: false)
        #expect(throws: MachineError.self) { try r2.map(PageMapping(virt: 0x40_0000, phys: 0, size: .size4M)) }
    }

    @Test("a walk through a 4 MiB PDE read with PSE=0 uses the PDE as a table pointer")
    func pse0WalksAsTable() throws {
        var r = try Rig(.bits32, pse: true)
        try r.map(PageMapping(virt: 0x0040_0000, phys: 0x0080_0000, size: .size4M, leaf: EntryFlags(user: true)))
        r.control.pse = false
        let f = r.fault(0x0040_0000, userRead)
        // The "page table" at 0x800000 is empty memory: its PTE is not present.
        #expect(f?.errorCode == U)
        #expect(f?.rule == "PG-12")
    }

    @Test("2 MiB pages in PAE and 4-level paging, 1 GiB pages in 4-level (PG-2, PG-3)")
    func largePages() throws {
        var pae = try Rig(.pae)
        try pae.map(PageMapping(virt: 0x8020_0000, phys: 0x0060_0000, size: .size2M, leaf: EntryFlags(user: true)))
        try pae.unit.loadPDPTEs(cr3: pae.control.cr3)
        #expect(try pae.go(0x803F_FFFF, userRead) == 0x007F_FFFF)

        var l4 = try Rig(.level4)
        try l4.map(PageMapping(virt: 0x7F00_0020_0000, phys: 0x0060_0000, size: .size2M, leaf: EntryFlags(user: true)))
        try l4.map(PageMapping(virt: 0x0000_0040_0000_0000, phys: 0x80_4000_0000, size: .size1G, leaf: EntryFlags(user: true)))
        #expect(try l4.go(0x7F00_0021_2345, userRead) == 0x0061_2345)
        #expect(try l4.go(0x0000_0040_1234_5678, userRead) == 0x80_5234_5678)
        #expect(l4.unit.leaf(for: 0x40_1234_5678, cr3: l4.control.cr3, mode: .level4, pse: false)?.pageSize == 0x4000_0000)

        // Sizes not valid in the mode; misalignment.
        #expect(throws: MachineError.self) { try pae.map(PageMapping(virt: 0, phys: 0, size: .size1G)) }
        #expect(throws: MachineError.self) { try l4.map(PageMapping(virt: 0, phys: 0, size: .size4M)) }
        #expect(throws: MachineError.self) { try l4.map(PageMapping(virt: 0x1000, phys: 0, size: .size2M)) }
        #expect(throws: MachineError.self) { try l4.map(PageMapping(virt: 0x20_0000, phys: 0x1000, size: .size2M)) }
        // Without phys, a large page is allocated aligned.
        try l4.map(PageMapping(virt: 0x8000_0000, size: .size2M, leaf: EntryFlags(user: true)))
        #expect(try l4.go(0x8000_0000, userRead) & 0x1F_FFFF == 0)
    }

    @Test("a large page may not replace a page table, nor a page table a large page")
    func largeVersusTable() throws {
        var r = try Rig(.level4)
        try r.map(PageMapping(virt: 0x20_0000, phys: 0x5000))
        #expect(throws: MachineError.self) { try r.map(PageMapping(virt: 0x20_0000, phys: 0x40_0000, size: .size2M)) }
        try r.map(PageMapping(virt: 0x40_0000, phys: 0x40_0000, size: .size2M))
        #expect(throws: MachineError.self) { try r.map(PageMapping(virt: 0x40_1000, phys: 0x5000)) }
    }

    // MARK: PAE PDPTEs

    @Test("PAE: a present PDPTE with reserved bits is #GP(0) at the CR3 load; not-present faults P=0 on use (PG-2)")
    func paePDPTELoad() throws {
        var r = try Rig(.pae)
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(user: true)))
        try r.unit.loadPDPTEs(cr3: r.control.cr3)
        #expect(try r.go(0x1234, userRead) == 0x5234)

        let pdpte0 = r.unit.memory.read64(r.control.cr3)
        for bad in [UInt64(1) << 1, 1 << 2, 1 << 5, 1 << 8, 1 << 45, 1 << 63] {
            try r.unit.writeEntry(at: r.control.cr3, value: pdpte0 | bad, width: .eight)
            var caught: Fault?
            do { try r.unit.loadPDPTEs(cr3: r.control.cr3) } catch { caught = error }
            #expect(caught?.vector == .GP)
            #expect(caught?.errorCode == 0)
            #expect(caught?.rule == "PG-2")
        }
        // Not present (with garbage) loads fine and faults P=0 when used.
        try r.unit.writeEntry(at: r.control.cr3, value: (pdpte0 & ~PageTableEntry.present) | 0x6, width: .eight)
        try r.unit.loadPDPTEs(cr3: r.control.cr3)
        r.unit.tlb.flushAll()
        let f = r.fault(0x1234, userRead)
        #expect(f?.errorCode == U)
        #expect(f?.cr2 == 0x1234)
        #expect(f?.rule == "PG-12")
        // The registers, not memory, are used: restoring memory without a reload still faults.
        try r.unit.writeEntry(at: r.control.cr3, value: pdpte0, width: .eight)
        #expect(r.fault(0x1234, userRead)?.errorCode == U)
        try r.unit.loadPDPTEs(cr3: r.control.cr3)
        #expect(r.fault(0x1234, userRead) == nil)
    }

    // MARK: Reserved bits

    @Test("reserved bits fault P|RSVD: XD with NXE=0, bit 51, PAE bit 52, 4 MiB bit 21, PS in a PML4E (PG-4, PG-12)")
    func reservedBits() throws {
        // XD with NXE=0 (4-level).
        var r = try Rig(.level4, nxe: false)
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(user: true, nx: true)))
        #expect(r.fault(0x1000, userWrite)?.errorCode == P | W | U | RSVD)
        // The same entry with NXE=1 is fine to read, and a fetch faults on XD.
        r.control.nxe = true
        #expect(r.fault(0x1000, userRead) == nil)
        let fetch = r.fault(0x1000, userFetch)
        #expect(fetch?.errorCode == P | U | ID)
        #expect(fetch?.rule == "PG-8")

        // reserved: true -> bit 51.
        var r2 = try Rig(.level4)
        try r2.map(PageMapping(virt: 0x2000, phys: 0x6000, leaf: EntryFlags(user: true, reserved: true)))
        #expect(r2.leaf(0x2000) & (1 << 51) != 0)
        let f = r2.fault(0x2000, userRead)
        #expect(f?.errorCode == P | U | RSVD)
        #expect(f?.rule == "PG-12")
        #expect(f?.cr2 == 0x2000)
        // A not-present leaf with a reserved bit is P=0 (no RSVD).
        try r2.map(PageMapping(virt: 0x3000, phys: 0x6000, leaf: EntryFlags(present: false, reserved: true)))
        #expect(r2.fault(0x3000, kernelRead)?.errorCode == 0)
        // A reserved bit in an upper level is found before a not-present leaf.
        try r2.map(PageMapping(virt: 0x4000_0000, phys: 0x6000, leaf: EntryFlags(present: false), pde: EntryFlags(reserved: true)))
        #expect(r2.fault(0x4000_0000, kernelRead)?.errorCode == P | RSVD)
        // PS in a PML4E is reserved.
        let pml4e = r2.control.cr3
        try r2.unit.writeEntry(at: pml4e, value: r2.unit.memory.read64(pml4e) | PageTableEntry.pageSize, width: .eight)
        r2.unit.tlb.flushAll()
        #expect(r2.fault(0x2000, kernelRead)?.errorCode == P | RSVD)
        // Mis-aligned 2 MiB frame (bit 13 set).
        var r3 = try Rig(.level4)
        try r3.map(PageMapping(virt: 0x20_0000, phys: 0x20_0000, size: .size2M))
        let e = try #require(r3.unit.leaf(for: 0x20_0000, cr3: r3.control.cr3, mode: .level4, pse: false))
        try r3.unit.writeEntry(at: e.entryAddress, value: e.value | (1 << 13), width: .eight)
        #expect(r3.fault(0x20_0000, kernelRead)?.errorCode == P | RSVD)

        // PAE: bit 52 is reserved there (ignored in 4-level).
        var pae = try Rig(.pae)
        try pae.map(PageMapping(virt: 0x1000, phys: 0x5000))
        try pae.unit.loadPDPTEs(cr3: pae.control.cr3)
        let pe = try #require(pae.unit.leaf(for: 0x1000, cr3: pae.control.cr3, mode: .pae, pse: false))
        try pae.unit.writeEntry(at: pe.entryAddress, value: pe.value | (1 << 52), width: .eight)
        #expect(pae.fault(0x1000, kernelRead)?.errorCode == P | RSVD)
        var l4 = try Rig(.level4)
        try l4.map(PageMapping(virt: 0x1000, phys: 0x5000))
        let le = try #require(l4.unit.leaf(for: 0x1000, cr3: l4.control.cr3, mode: .level4, pse: false))
        try l4.unit.writeEntry(at: le.entryAddress, value: le.value | (1 << 52), width: .eight)
        #expect(l4.fault(0x1000, kernelRead) == nil)

        // 32-bit: a 4 MiB page with reserved: true sets bit 21; a 4 KiB PTE has no reserved bit.
        var b32 = try Rig(.bits32, pse: true)
        try b32.map(PageMapping(virt: 0x40_0000, phys: 0x40_0000, size: .size4M, leaf: EntryFlags(reserved: true)))
        #expect(b32.leaf(0x40_0000) & (1 << 21) != 0)
        #expect(b32.fault(0x40_0000, kernelWrite)?.errorCode == P | W | RSVD)
        #expect(throws: MachineError.self) { try b32.map(PageMapping(virt: 0x1000, phys: 0, leaf: EntryFlags(reserved: true))) }
        #expect(throws: MachineError.self) { try b32.map(PageMapping(virt: 0x1000, phys: 0, leaf: EntryFlags(nx: true))) }
    }

    // MARK: Canonical addresses

    @Test("non-canonical addresses: #GP(0), or #SS(0) for stack references, never #PF (PG-3)")
    func nonCanonical() throws {
        var r = try Rig(.level4)
        let gp = r.fault(0x0000_8000_0000_0000, userRead)
        #expect(gp?.vector == .GP)
        #expect(gp?.errorCode == 0)
        #expect(gp?.cr2 == nil)
        #expect(gp?.rule == "PG-3")
        let ss = r.fault(0xFFFF_7FFF_FFFF_F000, MemoryAccess(.write, cpl: 0, stack: true))
        #expect(ss?.vector == .SS)
        #expect(ss?.errorCode == 0)
        #expect(ss?.rule == "PG-3")
        // Canonical upper half: an ordinary #PF.
        #expect(r.fault(0xFFFF_8000_0000_0000, kernelRead)?.vector == .PF)
        #expect(throws: MachineError.self) { try r.map(PageMapping(virt: 0x0000_8000_0000_0000, phys: 0)) }
        var b32 = try Rig(.bits32)
        #expect(throws: MachineError.self) { try b32.map(PageMapping(virt: 0x1_0000_0000, phys: 0)) }
    }

    // MARK: Protection keys

    @Test("protection keys: AD and WD, WP, supervisor vs user, fetch unaffected, leaf key only (PG-10)")
    func protectionKeys() throws {
        var r = try Rig(.level4)
        r.control.pke = true
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(writable: true, user: true, pkey: 3)))
        try r.map(PageMapping(virt: 0x4000_0000, phys: 0x6000, leaf: EntryFlags(writable: true, pkey: 3)))
        let ad: UInt32 = 1 << 6, wd: UInt32 = 1 << 7

        r.control.pkru = ad
        var f = r.fault(0x1000, userRead)
        #expect(f?.errorCode == P | U | PK)
        #expect(f?.rule == "PG-10")
        #expect(r.fault(0x1000, kernelRead)?.errorCode == P | PK)
        #expect(r.fault(0x1000, userFetch) == nil)  // fetches ignore keys
        #expect(r.fault(0x4000_0000, kernelWrite) == nil)  // supervisor page: PKRU does not apply

        r.control.pkru = wd
        #expect(r.fault(0x1000, userRead) == nil)
        f = r.fault(0x1000, userWrite)
        #expect(f?.errorCode == P | W | U | PK)
        r.control.wp = true
        #expect(r.fault(0x1000, kernelWrite)?.errorCode == P | W | PK)
        r.control.wp = false
        #expect(r.fault(0x1000, kernelWrite) == nil)
        #expect(r.fault(0x1000, userWrite)?.errorCode == P | W | U | PK)  // WP irrelevant for user

        // PKE off: keys ignored.
        r.control.pke = false
        r.control.pkru = ad | wd
        #expect(r.fault(0x1000, userWrite) == nil)

        // PK alongside another violation: both reported.
        r.control.pke = true
        try r.map(PageMapping(virt: 0x2000, phys: 0x7000, leaf: EntryFlags(user: true, pkey: 3)))
        f = r.fault(0x2000, userWrite)
        #expect(f?.errorCode == P | W | U | PK)
        #expect(f?.rule == "PG-6")

        // Only the leaf's key counts: a key in the PDE is ignored.
        var k = try Rig(.level4)
        k.control.pke = true
        k.control.pkru = ad
        try k.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(user: true), pde: EntryFlags(pkey: 3)))
        #expect(k.fault(0x1000, userRead) == nil)
        // Keys exist only in 4-level paging.
        var pae = try Rig(.pae)
        #expect(throws: MachineError.self) { try pae.map(PageMapping(virt: 0x1000, phys: 0, leaf: EntryFlags(pkey: 1))) }
    }

    // MARK: A/D

    @Test("A set top-down and D on writes after success; nothing on faults (PG-14)")
    func accessedDirty() throws {
        var r = try Rig(.level4)
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(writable: true, user: true)))
        try r.map(PageMapping(virt: 0x3000, phys: 0x5000, leaf: EntryFlags(user: true)))
        #expect(r.leaf(0x1000) & (PageTableEntry.accessed | PageTableEntry.dirty) == 0)
        _ = try r.go(0x1000, userRead)
        #expect(r.leaf(0x1000) & PageTableEntry.accessed != 0)
        #expect(r.leaf(0x1000) & PageTableEntry.dirty == 0)
        // Every upper-level entry got A.
        var table = r.control.cr3
        for shift: UInt64 in [39, 30, 21] {
            let e = r.unit.memory.read64(table + ((0x1000 >> shift) & 511) * 8)
            #expect(e & PageTableEntry.accessed != 0)
            table = e & PageTableEntry.frameMask
        }
        // A write hit on an entry cached with D=0 walks again and sets D.
        _ = try r.go(0x1000, userWrite)
        #expect(r.leaf(0x1000) & PageTableEntry.dirty != 0)
        // A faulting write leaves the leaf alone.
        #expect(r.fault(0x3000, userWrite) != nil)
        #expect(r.leaf(0x3000) & (PageTableEntry.accessed | PageTableEntry.dirty) == 0)
    }

    // MARK: Conflicts of upper-level overrides

    @Test("two mappings setting one PDE differently is an error, in both orders")
    func overrideConflicts() throws {
        let a = PageMapping(virt: 0x1000, phys: 0x5000, pde: EntryFlags(writable: false))
        let b = PageMapping(virt: 0x2000, phys: 0x6000, pde: EntryFlags(user: false))
        for (first, second) in [(a, b), (b, a)] {
            var r = try Rig(.level4)
            try r.map(first)
            #expect {
                try r.map(second)
            } throws: { error in
                (error as? MachineError)?.message.contains("two mappings set the PDE for 0x0 differently") ?? false
            }
        }
        // An explicit override replaces defaults, in either order, and a default mapping leaves it.
        for order in [[a, PageMapping(virt: 0x3000, phys: 0x7000)], [PageMapping(virt: 0x3000, phys: 0x7000), a]] {
            var r = try Rig(.level4)
            for m in order { try r.map(m) }
            #expect(r.fault(0x3000, kernelWrite)?.rule == "PG-7")
        }
        // The same explicit flags twice are fine.
        var r = try Rig(.level4)
        try r.map(a)
        try r.map(PageMapping(virt: 0x2000, phys: 0x6000, pde: EntryFlags(writable: false, user: true)))
        // `overwrite` (a `set` step) may change an explicit entry.
        try r.unit.map(b, cr3: r.control.cr3, mode: .level4, pse: false, nxe: true, overwrite: true)
    }

    @Test("mapping requests the mode cannot express are refused")
    func invalidRequests() throws {
        var r = try Rig(.level4)
        #expect(throws: MachineError.self) { try r.map(PageMapping(virt: 0x1000, phys: 0x1234)) }
        #expect(throws: MachineError.self) { try r.map(PageMapping(virt: 0x1000, phys: 0, count: 0)) }
        #expect(throws: MachineError.self) { try r.map(PageMapping(virt: 0x1000, phys: 0x100_0000_0000)) }
        #expect(throws: MachineError.self) { try r.map(PageMapping(virt: 0x1000, phys: 0, leaf: EntryFlags(pkey: 16))) }
        var pae = try Rig(.pae)
        #expect(throws: MachineError.self) { try pae.map(PageMapping(virt: 0x1000, phys: 0, pdpte: EntryFlags(writable: false))) }
        #expect(throws: MachineError.self) { try pae.map(PageMapping(virt: 0x1000, phys: 0, pml4e: EntryFlags())) }
        var off = PagingUnit()
        #expect(throws: MachineError.self) { _ = try off.createAddressSpace(mode: .off) }
    }

    // MARK: Shared kernel half

    @Test("two address spaces share the kernel half's page tables")
    func sharedUpperHalf() throws {
        for mode in [PagingMode.level4, .bits32, .pae] {
            var r = try Rig(mode)
            let kernel: UInt64 = mode == .level4 ? 0xFFFF_8880_0000_0000 : 0xC000_0000
            try r.map(PageMapping(virt: kernel, phys: 0x10_0000, leaf: EntryFlags(writable: true)))
            let other = try r.unit.createAddressSpace(mode: mode)
            try r.unit.shareUpperHalf(from: r.control.cr3, into: other, mode: mode)
            // A later kernel mapping under the shared tables is seen by both.
            try r.unit.map(PageMapping(virt: kernel + 0x1000, phys: 0x20_0000), cr3: r.control.cr3, mode: mode, pse: false, nxe: true)
            var c2 = r.control
            c2.cr3 = other
            if mode == .pae { try r.unit.loadPDPTEs(cr3: other) }
            var trace = Trace()
            #expect(try r.unit.translate(kernel + 0x10, kernelRead, c2, trace: &trace) == 0x10_0010)
            #expect(try r.unit.translate(kernel + 0x1010, kernelRead, c2, trace: &trace) == 0x20_0010)
            #expect(r.unit.leaf(for: kernel, cr3: other, mode: mode, pse: false)?.entryAddress
                    == r.unit.leaf(for: kernel, cr3: r.control.cr3, mode: mode, pse: false)?.entryAddress)
            // The user half is not shared.
            try r.unit.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(user: true)), cr3: other, mode: mode, pse: false, nxe: true)
            #expect(r.unit.leaf(for: 0x1000, cr3: r.control.cr3, mode: mode, pse: false) == nil)
        }
    }

    // MARK: TLB

    @Test("a stale translation stays usable after the PTE is edited, until INVLPG (PG-15)")
    func staleTranslation() throws {
        var r = try Rig(.level4)
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(writable: true, user: true)))
        #expect(try r.go(0x1000, userWrite) == 0x5000)
        // set: pages: the PTE becomes not present in memory only.
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(present: false)))
        #expect(try r.go(0x1000, userWrite) == 0x5000)
        #expect(r.trace.events.last == .tlb(linear: 0x1000, hit: true))
        r.unit.tlb.invlpg(0x1000)
        let f = r.fault(0x1000, userWrite)
        #expect(f?.errorCode == W | U)
        #expect(f?.cr2 == 0x1000)
    }

    @Test("a CR3 write flushes non-global translations; global ones survive with PGE (PG-15)")
    func cr3Flush() throws {
        for pge in [false, true] {
            var r = try Rig(.level4)
            r.control.pge = pge
            try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(user: true)))
            try r.map(PageMapping(virt: 0x2000, phys: 0x6000, leaf: EntryFlags(user: true, global: true)))
            _ = try r.go(0x1000, userRead)
            _ = try r.go(0x2000, userRead)
            try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(present: false)))
            try r.map(PageMapping(virt: 0x2000, phys: 0x6000, leaf: EntryFlags(present: false, global: true)))
            r.unit.tlb.flushNonGlobal()
            #expect(r.fault(0x1000, userRead) != nil)
            #expect((r.fault(0x2000, userRead) == nil) == pge)
            // INVLPG drops a global translation too.
            r.unit.tlb.invlpg(0x2000)
            #expect(r.fault(0x2000, userRead) != nil)
        }
        // flushAll drops globals.
        var r = try Rig(.level4)
        r.control.pge = true
        try r.map(PageMapping(virt: 0x2000, phys: 0x6000, leaf: EntryFlags(global: true)))
        _ = try r.go(0x2000, kernelRead)
        try r.map(PageMapping(virt: 0x2000, phys: 0x6000, leaf: EntryFlags(present: false, global: true)))
        r.unit.tlb.flushAll()
        #expect(r.fault(0x2000, kernelRead) != nil)
    }

    @Test("loosening rights without INVLPG: one spurious fault, then success (PG-15)")
    func spuriousFault() throws {
        var r = try Rig(.level4)
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(user: true)))
        _ = try r.go(0x1000, userRead)
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000, leaf: EntryFlags(writable: true, user: true)))
        let f = r.fault(0x1000, userWrite)
        #expect(f?.errorCode == P | W | U)
        #expect(f?.rule == "PG-6")
        #expect(try r.go(0x1000, userWrite) == 0x5000)
    }

    @Test("the TLB is bounded")
    func tlbBound() throws {
        var r = try Rig(.level4)
        try r.map(PageMapping(virt: 0x1000_0000, phys: 0x100_0000, count: 5000))
        r.trace.enabled = false
        for i in 0..<UInt64(5000) { _ = try r.go(0x1000_0000 + i * 0x1000, kernelRead) }
        #expect(r.unit.tlb.count <= TLB.capacity)
    }

    @Test("trace: TLB miss, then the walk with its entries, then a hit")
    func traceEvents() throws {
        var r = try Rig(.bits32)
        try r.map(PageMapping(virt: 0x1000, phys: 0x5000))
        _ = try r.go(0x1000, kernelRead)
        _ = try r.go(0x1004, kernelRead)
        #expect(r.trace.events.count == 3)
        #expect(r.trace.events.first == .tlb(linear: 0x1000, hit: false))
        guard case let .pageWalk(linear, entries, physical) = r.trace.events[1] else {
            Issue.record("no page walk")
            return
        }
        #expect(linear == 0x1000)
        #expect(entries.map(\.level) == ["PDE", "PTE"])
        #expect(physical == 0x5000)
        #expect(r.trace.events[2] == .tlb(linear: 0x1004, hit: true))
    }

    // MARK: Physical memory

    @Test("physical memory: sparse, little endian, crosses frames, bounded")
    func physicalMemory() throws {
        var m = PhysicalMemory(frameLimit: 2)
        #expect(m.read64(0x1234_5678) == 0)
        try m.write64(0xFFC, 0x1122_3344_5566_7788)
        #expect(m.read64(0xFFC) == 0x1122_3344_5566_7788)
        #expect(m.read8(0x1000) == 0x44)
        #expect(m.read32(0xFFC) == 0x5566_7788)
        #expect(m.readBytes(0xFFE, count: 3) == [0x66, 0x55, 0x44])
        #expect(throws: MachineError.self) { try m.write8(0x5000, 1) }
        #expect(throws: MachineError.self) { try m.write8(PhysicalMemory.physicalAddressLimit, 1) }
        var n = PhysicalMemory()
        #expect(try n.allocateTableFrame() == 0x1000_0000)
        #expect(try n.allocateTableFrame() == 0x1000_1000)
        #expect(try n.allocateDataFrame() == 0x0200_0000)
        try n.write8(0x0200_1000, 7)
        #expect(try n.allocateDataFrame() == 0x0200_1000)
        #expect(n.read8(0x0200_1000) == 0)  // allocated frames are zeroed
        var pool = FrameAllocator()
        var exhausted = false
        for _ in 0..<100_000 {
            do { _ = try pool.take(.data, bytes: 0x1000) } catch { exhausted = true; break }
        }
        #expect(exhausted)
    }
}

@Test("the non-throwing write used by the CPU remembers a refused write")
func droppedWrite() {
    var m = PhysicalMemory(frameLimit: 1)
    m.write(0x1000, value: 0xAB, size: 1)
    #expect(m.read(0x1000, size: 1) == 0xAB)
    m.write(0x2000, value: 0xCD, size: 1)
    #expect(m.read(0x2000, size: 1) == 0)
    #expect(m.droppedWriteError != nil)
    #expect(MachineError(message: "x") == MachineError("x"))
}

/// A MOV to CR0/CR4 in PAE paging and whether it reloads the PDPTEs (SDM §4.4.1: CR0.CD/NW/PG,
/// CR4.PAE/PGE/PSE/SMEP), with the bits it flips.
struct PDPTEReloadCase: Sendable, CustomStringConvertible {
    var cr: Int
    var flip: UInt64
    var reloads: Bool
    /// CR0 bits set before the write (NW may only be set with CD: Bochs check_CR0).
    var cr0Set: UInt64 = 0
    var description: String { "CR\(cr) ^= 0x\(String(flip, radix: 16)) \(reloads ? "reloads" : "keeps") the PDPTEs" }
}

private let pdpteReloadCases: [PDPTEReloadCase] = [
    PDPTEReloadCase(cr: 4, flip: CR4.pge, reloads: true),
    PDPTEReloadCase(cr: 4, flip: CR4.pse, reloads: true),
    PDPTEReloadCase(cr: 4, flip: CR4.smep, reloads: true),
    PDPTEReloadCase(cr: 4, flip: CR4.smap, reloads: false),
    PDPTEReloadCase(cr: 0, flip: CR0.cd, reloads: true),
    PDPTEReloadCase(cr: 0, flip: CR0.nw, reloads: true, cr0Set: CR0.cd),
    PDPTEReloadCase(cr: 0, flip: CR0.wp, reloads: false),
]

@Test("PG-2: in PAE paging a MOV to CR0/CR4 that changes CD, NW, PGE, PSE or SMEP reloads the PDPTEs (#GP(0) on a reserved bit)",
      arguments: pdpteReloadCases)
func paePDPTEReloadOnControlWrite(_ c: PDPTEReloadCase) throws {
    var sys = try makeSystem(.ia32) { m, _ in m.paging = .pae }
    sys.machine.cpu.cr0 |= c.cr0Set
    let cr3 = sys.machine.cpu.cr3
    let pdpte1 = sys.machine.paging.memory.read64(cr3 + 8)
    try sys.machine.paging.writeEntry(at: cr3 + 8, value: pdpte1 | 1 << 51, width: .eight)
    let old = c.cr == 0 ? sys.machine.cpu.cr0 : sys.machine.cpu.cr4
    var caught: Fault?
    do { try sys.machine.writeControlRegister(c.cr, old ^ c.flip) } catch { caught = error }
    if c.reloads {
        #expect(caught?.vector == .GP)
        #expect(caught?.errorCode == 0)
        #expect(caught?.rule == "PG-2")
        // The faulting MOV leaves the register unchanged.
        #expect((c.cr == 0 ? sys.machine.cpu.cr0 : sys.machine.cpu.cr4) == old)
    } else {
        #expect(caught == nil)
        #expect(sys.machine.paging.pdpteRegisters[1] == pdpte1)
    }
}

/// A control-register edit and what it does to the TLB (PG-15, SDM Vol. 3A §4.10.4.1): which
/// translations survive and which `tlb flush` event the trace records.
struct ControlFlushCase: Sendable, CustomStringConvertible {
    enum Edit: Sendable { case cr(Int, flip: UInt64), sameCR(Int), efer(flip: UInt64) }
    var edit: Edit
    /// The non-global translation survives.
    var keepsLocal: Bool
    /// The global translation (G=1, CR4.PGE=1) survives.
    var keepsGlobal: Bool
    /// The `tlb flush` kind the trace records, or nil for none.
    var traced: String?
    var description: String {
        switch edit {
        case let .cr(n, flip): "CR\(n) ^= 0x\(String(flip, radix: 16))"
        case let .sameCR(n): "CR\(n) written with its own value"
        case let .efer(flip): "EFER edit ^= 0x\(String(flip, radix: 16))"
        }
    }
}

private let controlFlushCases: [ControlFlushCase] = [
    ControlFlushCase(edit: .cr(0, flip: CR0.wp), keepsLocal: false, keepsGlobal: false, traced: "all"),
    ControlFlushCase(edit: .cr(0, flip: CR0.am), keepsLocal: true, keepsGlobal: true, traced: nil),
    ControlFlushCase(edit: .sameCR(0), keepsLocal: true, keepsGlobal: true, traced: nil),
    ControlFlushCase(edit: .sameCR(3), keepsLocal: false, keepsGlobal: true, traced: "cr3"),
    ControlFlushCase(edit: .cr(4, flip: CR4.pge), keepsLocal: false, keepsGlobal: false, traced: "all"),
    ControlFlushCase(edit: .cr(4, flip: CR4.smep), keepsLocal: false, keepsGlobal: false, traced: "all"),
    ControlFlushCase(edit: .cr(4, flip: CR4.smap), keepsLocal: false, keepsGlobal: false, traced: "all"),
    ControlFlushCase(edit: .cr(4, flip: CR4.pke), keepsLocal: false, keepsGlobal: false, traced: "all"),
    ControlFlushCase(edit: .sameCR(4), keepsLocal: true, keepsGlobal: true, traced: nil),
    ControlFlushCase(edit: .efer(flip: EFER.nxe), keepsLocal: false, keepsGlobal: false, traced: "all"),
]

@Test("PG-15: MOV to CR0/CR3/CR4 and EFER edits invalidate the TLB as documented, and the trace says so",
      arguments: controlFlushCases)
func controlRegisterFlushes(_ c: ControlFlushCase) throws {
    var sys = try makeSystem(.x86_64) { m, _ in m.cr4.set |= CR4.pge }
    let entry = TLBEntry(physicalBase: 0x80_0000, pageSize: 0x1000, rights: EffectiveRights(), global: false, dirty: false)
    var global = entry
    global.global = true
    let cr3 = sys.machine.cpu.cr3
    sys.machine.paging.tlb.fill(0x60_0000, cr3: cr3, entry: entry)
    sys.machine.paging.tlb.fill(0x70_0000, cr3: cr3, entry: global)
    let before = sys.machine.trace.count
    switch c.edit {
    case let .cr(n, flip):
        let old = n == 0 ? sys.machine.cpu.cr0 : sys.machine.cpu.cr4
        try sys.machine.writeControlRegister(n, old ^ flip)
    case let .sameCR(n):
        let value = n == 0 ? sys.machine.cpu.cr0 : n == 3 ? cr3 : sys.machine.cpu.cr4
        try sys.machine.writeControlRegister(n, value)
    case let .efer(flip):
        sys.machine.editEFER(sys.machine.cpu.efer ^ flip)
    }
    let mode = sys.machine.pagingMode
    #expect((sys.machine.paging.tlb.lookup(0x60_0000, cr3: sys.machine.cpu.cr3, mode: mode) != nil) == c.keepsLocal)
    #expect((sys.machine.paging.tlb.lookup(0x70_0000, cr3: sys.machine.cpu.cr3, mode: mode) != nil) == c.keepsGlobal)
    let flushes = sys.machine.trace.events[before...].compactMap { event -> String? in
        if case let .tlbFlush(kind, _) = event { return kind }
        return nil
    }
    #expect(flushes == (c.traced.map { [$0] } ?? []))
}
