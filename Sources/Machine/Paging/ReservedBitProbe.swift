/// PG-12 without side effects: whether a walk to `linear` would stop at an entry with a reserved bit set
/// (P=1|RSVD), before any permission check. Used where the model stands for an access it does not run
/// through the CPU (the kernel's copy_from_user/copy_to_user): the walk's first not-present entry ends it
/// first (no RSVD), as on the processor. PAE PDPTEs are skipped: their reserved bits are checked when CR3
/// is loaded (PG-2).
extension PagingUnit {
    public func reservedBitStopsWalk(to linear: UInt64, cr3: UInt64, mode: PagingMode, pse: Bool, nxe: Bool) -> Bool {
        guard mode != .off else { return false }
        let width = EntryWidth(mode).rawValue
        var table = rootTable(cr3, mode)
        for step in Self.levels(mode, .size4K) {
            let index = (linear >> step.shift) & ((1 << step.bits) - 1)
            let v = memory.read(table + index * UInt64(width), width: width)
            guard v & PageTableEntry.present != 0 else { return false }
            let large = Self.mapsLargePages(mode, step.level, pse: pse) && v & PageTableEntry.pageSize != 0
            let paePDPTE = mode == .pae && step.level == .pdpte
            if !paePDPTE && v & PageTableEntry.reservedMask(mode: mode, level: step.level, large: large, nxe: nxe) != 0 { return true }
            if large || step.level == .pte { return false }
            table = v & (mode == .bits32 ? PageTableEntry.frameMask32 : PageTableEntry.frameMask)
        }
        return false
    }
}
