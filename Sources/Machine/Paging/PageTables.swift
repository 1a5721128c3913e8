// PageTables: building address spaces as real page tables in physical memory. `PagingUnit` is
// the MMU: physical memory, the TLB and the PAE PDPTE registers; this file creates root tables,
// writes the entries of `pages` mappings, shares the kernel half between address spaces and
// reads leaves back for expectations. The walk itself is in PageWalk.swift.
//
// Linear-address split (PG-1..PG-3):
//   32-bit:  31..22 PDE index | 21..12 PTE index | 11..0 offset      (4 MiB page: 21..0 offset)
//   PAE:     31..30 PDPTE     | 29..21 PDE       | 20..12 PTE | 11..0 (2 MiB page: 20..0 offset)
//   4-level: 47..39 PML4E | 38..30 PDPTE | 29..21 PDE | 20..12 PTE | 11..0
//            (1 GiB page: 29..0 offset; 2 MiB page: 20..0 offset)

/// How an upper-level entry got its flags (for conflict detection between mappings).
enum UpperEntryOrigin: Sendable, Equatable {
    /// Built with the defaults (present, writable, user, executable).
    case defaults
    /// Set explicitly by a `pml4e`/`pdpte`/`pde` override; holds the flag bits it set.
    case explicit(UInt64)
}

/// The level lists `PagingUnit.levels` hands out, built once instead of at every call.
private enum MapLevels {
    typealias Step = (level: PagingLevel, shift: UInt64, bits: UInt64)
    static let bits32: [Step] = [(.pde, 22, 10), (.pte, 12, 10)]
    static let bits32Large: [Step] = [(.pde, 22, 10)]
    static let pae: [Step] = [(.pdpte, 30, 2), (.pde, 21, 9), (.pte, 12, 9)]
    static let paeLarge: [Step] = [(.pdpte, 30, 2), (.pde, 21, 9)]
    static let level4: [Step] = [(.pml4e, 39, 9), (.pdpte, 30, 9), (.pde, 21, 9), (.pte, 12, 9)]
    static let level4Large: [Step] = [(.pml4e, 39, 9), (.pdpte, 30, 9), (.pde, 21, 9)]
    static let level4Huge: [Step] = [(.pml4e, 39, 9), (.pdpte, 30, 9)]
}

/// The paging unit: physical memory, TLB and PAE PDPTE registers.
public struct PagingUnit: Sendable {
    public var memory: PhysicalMemory
    public var tlb = TLB()
    /// The four PDPTEs of PAE paging, loaded from memory at CR3 writes (`loadPDPTEs`, PG-2).
    public internal(set) var pdpteRegisters: [UInt64] = [0, 0, 0, 0]
    /// Every upper-level entry that points at a page table, by its physical address, with the
    /// origin of its flags. An entry not listed is either unused or a leaf.
    var upperEntries = AddressMap<UpperEntryOrigin>()

    /// The most pages one mapping may cover.
    public static let maxPagesPerMapping: UInt64 = 262_144

    /// Upper-level entries default to present, writable, user, executable (as Linux builds them).
    static let upperDefaults: UInt64 = PageTableEntry.present | PageTableEntry.writable | PageTableEntry.user

    public init(memory: PhysicalMemory = PhysicalMemory()) {
        self.memory = memory
    }

    // MARK: Address spaces

    /// Allocates an empty root table and returns the CR3 value that names it. PAE: a PDPT whose
    /// four PDPTEs all point at (empty) page directories, so the kernel's PDPTE 3 can be shared.
    public mutating func createAddressSpace(mode: PagingMode) throws(MachineError) -> UInt64 {
        switch mode {
        case .off:
            throw MachineError("paging is off: there is no address space to create")
        case .bits32, .level4:
            return try memory.allocateTableFrame()
        case .pae:
            let pdpt = try memory.allocateTableFrame()
            for i in 0..<UInt64(4) {
                let pd = try memory.allocateTableFrame()
                try memory.write64(pdpt + 8 * i, pd | PageTableEntry.present)
                upperEntries[pdpt + 8 * i] = .defaults
            }
            return pdpt
        }
    }

    /// Makes `cr3` share the kernel half of `templateCR3`: the same upper-level page-table pages.
    /// 4-level: PML4 entries 256..511; 32-bit: PDEs 768..1023 (3G/1G split); PAE: PDPTE 3.
    /// The entries are copied as they are now: later mappings under those entries are seen by all.
    public mutating func shareUpperHalf(from templateCR3: UInt64, into cr3: UInt64, mode: PagingMode) throws(MachineError) {
        let width: UInt64
        let indices: Range<UInt64>
        switch mode {
        case .off: return
        case .bits32: (width, indices) = (4, 768..<1024)
        case .pae: (width, indices) = (8, 3..<4)
        case .level4: (width, indices) = (8, 256..<512)
        }
        let from = rootTable(templateCR3, mode)
        let to = rootTable(cr3, mode)
        let bytes = Int(width) * indices.count
        try memory.copyWithinFrames(from: from + width * indices.lowerBound, to: to + width * indices.lowerBound, count: bytes)
        // The origins of the copied entries: the same as `upperEntries[to + k] = upperEntries[from + k]`
        // for every copied slot, at the cost of one pass over the (few) recorded origins.
        let fromRange = (from + width * indices.lowerBound)..<(from + width * indices.upperBound)
        let toRange = (to + width * indices.lowerBound)..<(to + width * indices.upperBound)
        var copied: [(UInt64, UpperEntryOrigin)] = []
        var stale: [UInt64] = []
        for (address, origin) in upperEntries.entries {
            if fromRange.contains(address) { copied.append((address - fromRange.lowerBound + toRange.lowerBound, origin)) }
            if toRange.contains(address) { stale.append(address) }
        }
        for address in stale { upperEntries[address] = nil }
        for (address, origin) in copied { upperEntries[address] = origin }
    }

    /// The physical address of the root table named by a CR3 value.
    func rootTable(_ cr3: UInt64, _ mode: PagingMode) -> UInt64 {
        switch mode {
        case .off: 0
        case .bits32: cr3 & PageTableEntry.frameMask32
        case .pae: cr3 & 0xFFFF_FFE0
        case .level4: cr3 & PageTableEntry.frameMask
        }
    }

    // MARK: Mapping

    /// Whether an entry at `level` honours PS (maps a large page when PS=1): a 32-bit PDE with CR4.PSE
    /// (PG-1), a PAE PDE (PG-2), a 4-level PDE or PDPTE (PG-3). One place for the page walk, `probe` and the
    /// builder's leaf look-ups.
    @inline(__always)
    static func mapsLargePages(_ mode: PagingMode, _ level: PagingLevel, pse: Bool) -> Bool {
        switch (mode, level) {
        case (.bits32, .pde): pse
        case (.pae, .pde), (.level4, .pde), (.level4, .pdpte): true
        default: false
        }
    }

    /// The levels from the root down to the leaf of a page of `size`, with the linear-address
    /// bit where each level's index starts and the index width.
    static func levels(_ mode: PagingMode, _ size: PageSize) -> [(level: PagingLevel, shift: UInt64, bits: UInt64)] {
        switch mode {
        case .off:
            return []
        case .bits32:
            return size == .size4M ? MapLevels.bits32Large : MapLevels.bits32
        case .pae:
            return size == .size2M ? MapLevels.paeLarge : MapLevels.pae
        case .level4:
            switch size {
            case .size1G: return MapLevels.level4Huge
            case .size2M: return MapLevels.level4Large
            default: return MapLevels.level4
            }
        }
    }

    /// Writes the leaf entries of every page of `m`, allocating the page tables on the way.
    ///
    /// Leaf flags default to present, read-only, supervisor, executable, not global, A/D clear,
    /// key 0. Upper-level entries default to present/writable/user/executable and are overridden
    /// per level by `m.pml4e`, `m.pdpte`, `m.pde`.
    ///
    /// Conflict rule for upper-level entries (shared by every mapping below them): each remembers
    /// whether its flags were set explicitly by an override.
    ///   - explicit vs a different explicit -> MachineError (unless `overwrite`, as `set` does);
    ///   - an explicit override reaching an entry that so far had the defaults replaces them;
    ///   - a mapping with no override for that level leaves the entry as it is.
    ///
    /// `nx` with `nxe == false` still writes bit 63: the scenario asked for it, and the walk then
    /// treats it as a reserved bit (RSVD fault). Presets that want working mappings simply do not
    /// ask for nx when NXE is off. `pse` decides whether 4 MiB pages may be requested.
    public mutating func map(_ m: PageMapping, cr3: UInt64, mode: PagingMode, pse: Bool, nxe: Bool,
                             overwrite: Bool = false) throws(MachineError) {
        do {
            try mapEntries(m, cr3: cr3, mode: mode, pse: pse, nxe: nxe, overwrite: overwrite)
        } catch {
            var e = error
            if e.origin == nil { e.origin = m.origin }
            throw e
        }
    }

    /// `map` proper; errors are tagged with the mapping's origin by the caller.
    private mutating func mapEntries(_ m: PageMapping, cr3: UInt64, mode: PagingMode, pse: Bool, nxe: Bool,
                                     overwrite: Bool) throws(MachineError) {
        try validate(m, mode: mode, pse: pse)
        let size = m.size.bytes
        let width = EntryWidth(mode).rawValue
        let levels = Self.levels(mode, m.size)
        let large = m.size != .size4K
        let leafFlags = try leafBits(m.leaf, mode: mode, large: large)
        // The upper-level overrides, by level (no PTE override exists).
        let pml4eOverride = try m.pml4e.map { f throws(MachineError) in try upperBits(f, level: .pml4e, mode: mode) }
        let pdpteOverride = try m.pdpte.map { f throws(MachineError) in try upperBits(f, level: .pdpte, mode: mode) }
        let pdeOverride = try m.pde.map { f throws(MachineError) in try upperBits(f, level: .pde, mode: mode) }

        for i in 0..<m.count {
            let virt = m.virt + i * size
            var table = rootTable(cr3, mode)
            for (depth, step) in levels.enumerated() {
                let index = (virt >> step.shift) & ((1 << step.bits) - 1)
                let address = table + index * UInt64(width)
                let current = memory.read(address, width: width)
                let isLeafLevel = depth == levels.count - 1
                if isLeafLevel {
                    if upperEntries[address] != nil {
                        throw MachineError("the mapping of 0x\(pagingHex(virt)) as a \(m.size.rawValue) page would replace the page table of the \(step.level) for 0x\(pagingHex(coveredBase(virt, step.shift)))")
                    }
                    if step.level != .pte, current != 0, current & PageTableEntry.pageSize == 0 {
                        throw MachineError("the mapping of 0x\(pagingHex(virt)) as a \(m.size.rawValue) page would replace the \(step.level) for 0x\(pagingHex(coveredBase(virt, step.shift)))")
                    }
                    let phys: UInt64
                    if let p = m.phys {
                        phys = p + i * size
                    } else if current != 0 {
                        phys = frameOfLeaf(current, mode: mode, large: large, size: size)
                    } else if large {
                        phys = try memory.allocateLargePage(bytes: size)
                    } else {
                        phys = try memory.allocateDataFrame()
                    }
                    try memory.write(address, value: leafFlags | leafFrameBits(phys, mode: mode, large: large), width: width)
                    break
                }
                // An upper-level entry: find or build the table below it.
                let override: UInt64?
                switch step.level {
                case .pml4e: override = pml4eOverride
                case .pdpte: override = pdpteOverride
                case .pde: override = pdeOverride
                case .pte: override = nil
                }
                var next: UInt64
                if let origin = upperEntries[address] {
                    next = current & (mode == .bits32 ? PageTableEntry.frameMask32 : PageTableEntry.frameMask)
                    if let wanted = override {
                        if case let .explicit(had) = origin, had != wanted, !overwrite {
                            throw MachineError("two mappings set the \(step.level) for 0x\(pagingHex(coveredBase(virt, step.shift))) differently: \(PageTableEntry.describeFlags(had)) vs \(PageTableEntry.describeFlags(wanted))")
                        }
                        if origin != .explicit(wanted) {
                            try memory.write(address, value: next | wanted, width: width)
                            upperEntries[address] = .explicit(wanted)
                        }
                    }
                } else {
                    if current != 0 {
                        throw MachineError("the mapping of 0x\(pagingHex(virt)) as a \(m.size.rawValue) page would replace the large page mapped by the \(step.level) for 0x\(pagingHex(coveredBase(virt, step.shift)))")
                    }
                    next = try memory.allocateTableFrame()
                    let flags = override ?? (mode == .pae && step.level == .pdpte ? PageTableEntry.present : Self.upperDefaults)
                    try memory.write(address, value: next | flags, width: width)
                    upperEntries[address] = override.map { .explicit($0) } ?? .defaults
                }
                table = next
            }
        }
    }

    /// The first linear address covered by the entry at a level whose index starts at `shift`.
    private func coveredBase(_ virt: UInt64, _ shift: UInt64) -> UInt64 {
        virt & ~((1 << shift) - 1)
    }

    /// The checks of a mapping request that do not depend on existing tables.
    private func validate(_ m: PageMapping, mode: PagingMode, pse: Bool) throws(MachineError) {
        let size = m.size.bytes
        switch (mode, m.size) {
        case (.off, _):
            throw MachineError("paging is off: pages cannot be mapped")
        case (_, .size4K), (.pae, .size2M), (.level4, .size2M), (.level4, .size1G):
            break
        case (.bits32, .size4M):
            guard pse else { throw MachineError("4m pages need CR4.PSE=1 in 32-bit paging (PG-1)") }
        default:
            throw MachineError("\(m.size.rawValue) pages do not exist in \(mode.rawValue) paging (4m: 32-bit with PSE; 2m: PAE and 4-level; 1g: 4-level)")
        }
        guard m.count >= 1, m.count <= Self.maxPagesPerMapping else {
            throw MachineError("a mapping covers 1 to \(Self.maxPagesPerMapping) pages, not \(m.count)")
        }
        guard m.virt & (size - 1) == 0 else {
            throw MachineError("virt 0x\(pagingHex(m.virt)) is not aligned to its \(m.size.rawValue) page size")
        }
        let (span, o1) = m.count.multipliedReportingOverflow(by: size)
        let (lastVirt, o2) = m.virt.addingReportingOverflow(span - 1)
        guard !o1, !o2 else { throw MachineError("the mapping at 0x\(pagingHex(m.virt)) runs past the end of the address space") }
        switch mode {
        case .bits32, .pae:
            guard lastVirt <= 0xFFFF_FFFF else {
                throw MachineError("virt 0x\(pagingHex(m.virt)) (\(m.count) pages) reaches beyond 4 GiB, the limit of \(mode.rawValue) paging")
            }
        case .level4:
            guard isCanonical(m.virt), isCanonical(lastVirt), (m.virt >> 63) == (lastVirt >> 63) else {
                throw MachineError("virt 0x\(pagingHex(m.virt)) (\(m.count) pages) is not canonical (bits 63:47 must all equal bit 47, PG-3)")
            }
        case .off:
            break
        }
        if let phys = m.phys {
            guard phys & (size - 1) == 0 else {
                throw MachineError("phys 0x\(pagingHex(phys)) is not aligned to its \(m.size.rawValue) page size")
            }
            let (lastPhys, o3) = phys.addingReportingOverflow(span - 1)
            let limit = (mode == .bits32 && m.size == .size4K) ? UInt64(0xFFFF_FFFF) : PhysicalMemory.physicalAddressLimit - 1
            guard !o3, lastPhys <= limit else {
                throw MachineError("phys 0x\(pagingHex(phys)) (\(m.count) pages) is beyond the physical addresses \(mode.rawValue) paging can map")
            }
        }
        if m.size == .size4M && m.pde != nil {
            throw MachineError("the PDE is the leaf of a 4m page: give its flags on the mapping itself, not in `pde`")
        }
        if m.size == .size2M && m.pde != nil {
            throw MachineError("the PDE is the leaf of a 2m page: give its flags on the mapping itself, not in `pde`")
        }
        if m.size == .size1G && (m.pdpte != nil || m.pde != nil) {
            throw MachineError("the PDPTE is the leaf of a 1g page: give its flags on the mapping itself (and there is no PDE)")
        }
        if m.pml4e != nil && mode != .level4 {
            throw MachineError("`pml4e` exists only in 4-level paging")
        }
        if m.pdpte != nil && mode == .bits32 {
            throw MachineError("`pdpte` does not exist in 32-bit paging")
        }
    }

    /// The flag bits of a leaf entry (everything but the frame).
    private func leafBits(_ f: EntryFlags, mode: PagingMode, large: Bool) throws(MachineError) -> UInt64 {
        var v: UInt64 = 0
        if f.present ?? true { v |= PageTableEntry.present }
        if f.writable ?? false { v |= PageTableEntry.writable }
        if f.user ?? false { v |= PageTableEntry.user }
        if f.global ?? false { v |= PageTableEntry.global }
        if f.accessed ?? false { v |= PageTableEntry.accessed }
        if f.dirty ?? false { v |= PageTableEntry.dirty }
        if large { v |= PageTableEntry.pageSize }
        v |= try xdAndKeyBits(f, mode: mode)
        if f.reserved ?? false {
            guard let bit = PageTableEntry.reservedBitToSet(mode: mode, large: large) else {
                throw MachineError("a 4k PTE of 32-bit paging has no reserved bit to set (`reserved: true` needs a 4m page there)")
            }
            v |= bit
        }
        return v
    }

    /// The XD bit and the protection key of an entry, refused where the paging mode has none (PG-1, PG-10).
    private func xdAndKeyBits(_ f: EntryFlags, mode: PagingMode) throws(MachineError) -> UInt64 {
        var v: UInt64 = 0
        if f.nx ?? false {
            guard mode != .bits32 else {
                throw MachineError("32-bit paging has no XD bit: `nx` cannot be set (PG-1)")
            }
            v |= PageTableEntry.executeDisable
        }
        if let key = f.pkey {
            guard key < 16 else { throw MachineError("pkey \(key) is out of range (0-15)") }
            guard mode == .level4 || key == 0 else {
                throw MachineError("protection keys exist only in 4-level paging (PG-10)")
            }
            v |= UInt64(key) << PageTableEntry.pkeyShift
        }
        return v
    }

    /// The flag bits of an upper-level entry with an override (unset fields take the defaults).
    private func upperBits(_ f: EntryFlags, level: PagingLevel, mode: PagingMode) throws(MachineError) -> UInt64 {
        if mode == .pae && level == .pdpte {
            // PAE PDPTEs have only P (and PWT/PCD): no R/W, U/S, A, XD (PG-2).
            guard f.writable == nil, f.user == nil, f.nx == nil, f.global == nil, f.accessed == nil,
                  f.dirty == nil, f.pkey == nil else {
                throw MachineError("a PAE PDPTE has no R/W, U/S, XD, G, A, D or key: only `present` (and `reserved`) can be set (PG-2)")
            }
            var v: UInt64 = (f.present ?? true) ? PageTableEntry.present : 0
            if f.reserved ?? false { v |= 1 << 51 }
            return v
        }
        var v: UInt64 = 0
        if f.present ?? true { v |= PageTableEntry.present }
        if f.writable ?? true { v |= PageTableEntry.writable }
        if f.user ?? true { v |= PageTableEntry.user }
        // G and D are ignored in non-leaf entries, and so are the key bits (PG-10); a scenario
        // may still set them, to show that they are ignored.
        if f.global ?? false { v |= PageTableEntry.global }
        if f.accessed ?? false { v |= PageTableEntry.accessed }
        if f.dirty ?? false { v |= PageTableEntry.dirty }
        v |= try xdAndKeyBits(f, mode: mode)
        if f.reserved ?? false {
            guard mode != .bits32 else {
                throw MachineError("a non-leaf PDE of 32-bit paging has no reserved bit to set")
            }
            v |= 1 << 51
        }
        return v
    }

    /// The frame bits of a leaf mapping `phys`. 4 MiB PDE: PA 31:22 in bits 31:22, PA 39:32 in
    /// bits 20:13 (PSE-36).
    private func leafFrameBits(_ phys: UInt64, mode: PagingMode, large: Bool) -> UInt64 {
        if mode == .bits32 {
            if large { return (phys & 0xFFC0_0000) | (((phys >> 32) & 0xFF) << 13) }
            return phys & PageTableEntry.frameMask32
        }
        return phys & PageTableEntry.frameMask
    }

    /// The physical base a leaf maps (inverse of `leafFrameBits`).
    func frameOfLeaf(_ v: UInt64, mode: PagingMode, large: Bool, size: UInt64) -> UInt64 {
        if mode == .bits32 {
            if large { return (v & 0xFFC0_0000) | (((v >> 13) & 0xFF) << 32) }
            return v & PageTableEntry.frameMask32
        }
        return v & PageTableEntry.frameMask & ~(size - 1)
    }

    // MARK: Reading back

    /// The leaf entry that maps `linear` (no side effects, P bits not checked: tables are followed
    /// as built), for expectations on A/D bits and physical addresses. PAE reads PDPTEs from
    /// memory, not the registers. nil when no table reaches a leaf.
    public func leaf(for linear: UInt64, cr3: UInt64, mode: PagingMode, pse: Bool) -> (entryAddress: UInt64, value: UInt64, pageSize: UInt64)? {
        let width = EntryWidth(mode).rawValue
        let all = Self.levels(mode, .size4K)
        var table = rootTable(cr3, mode)
        for step in all {
            let index = (linear >> step.shift) & ((1 << step.bits) - 1)
            let address = table + index * UInt64(width)
            let v = memory.read(address, width: width)
            let canBeLarge = Self.mapsLargePages(mode, step.level, pse: pse)
            if step.level == .pte || (canBeLarge && v & PageTableEntry.pageSize != 0) {
                return (address, v, UInt64(1) << step.shift)
            }
            let next = v & (mode == .bits32 ? PageTableEntry.frameMask32 : PageTableEntry.frameMask)
            if next == 0 { return nil }
            table = next
        }
        return nil
    }

    /// How a walk to `linear` through the entries as built ends, without side effects (A/D bits, TLB).
    enum WalkProbe {
        /// An entry on the way is not present (P=0): the walk stops there, before any reserved-bit check below.
        case notPresent
        /// A present entry on the way sets a reserved bit (PG-12: P=1|RSVD).
        case reservedBit
        /// The walk reaches a leaf: the rights it combines (PG-5) and the leaf.
        case mapped(rights: EffectiveRights, leaf: (entryAddress: UInt64, value: UInt64, pageSize: UInt64))
    }

    /// The rights a walk to `linear` would combine (PG-5) from the entries as built, with `leafBits` ORed
    /// into the leaf (what the rights would be if the leaf had them), and the leaf; nil when an entry on the
    /// way is not present or sets reserved bits. No side effects (A/D bits, TLB). PAE reads the PDPTE from
    /// memory (it has no R/W, U/S or XD).
    func rights(for linear: UInt64, cr3: UInt64, mode: PagingMode, pse: Bool, nxe: Bool, leafBits: UInt64 = 0)
        -> (rights: EffectiveRights, leaf: (entryAddress: UInt64, value: UInt64, pageSize: UInt64))? {
        guard case let .mapped(rights, leaf) = probe(linear, cr3: cr3, mode: mode, pse: pse, nxe: nxe, leafBits: leafBits) else { return nil }
        return (rights, leaf)
    }

    /// The walk of `rights(for:)`, telling a not-present entry from a reserved bit: PG-12 without side effects,
    /// for the accesses the model stands for without running them through the CPU (the kernel's
    /// copy_from_user/copy_to_user). The first not-present entry ends the walk (no RSVD), as on the processor.
    /// PAE PDPTEs are not checked for reserved bits here: that happens when CR3 is loaded (PG-2).
    func probe(_ linear: UInt64, cr3: UInt64, mode: PagingMode, pse: Bool, nxe: Bool, leafBits: UInt64 = 0) -> WalkProbe {
        let width = EntryWidth(mode).rawValue
        var table = rootTable(cr3, mode)
        var rights = EffectiveRights()
        for step in Self.levels(mode, .size4K) {
            let index = (linear >> step.shift) & ((1 << step.bits) - 1)
            let address = table + index * UInt64(width)
            let raw = memory.read(address, width: width)
            var v = raw
            guard v & PageTableEntry.present != 0 else { return .notPresent }
            let large = Self.mapsLargePages(mode, step.level, pse: pse) && v & PageTableEntry.pageSize != 0
            let isLeaf = large || step.level == .pte
            let paePDPTE = mode == .pae && step.level == .pdpte  // its reserved bits are checked when loaded
            guard paePDPTE || v & PageTableEntry.reservedMask(mode: mode, level: step.level, large: large, nxe: nxe) == 0 else { return .reservedBit }
            if isLeaf { v |= leafBits }
            if !paePDPTE {
                if v & PageTableEntry.writable == 0 && rights.writable { rights.writable = false; rights.readOnlyAt = step.level }
                if v & PageTableEntry.user == 0 && rights.user { rights.user = false; rights.supervisorAt = step.level }
                if nxe && v & PageTableEntry.executeDisable != 0 && !rights.executeDisable {
                    rights.executeDisable = true
                    rights.executeDisableAt = step.level
                }
            }
            if isLeaf {
                if mode == .level4 { rights.protectionKey = UInt8((v & PageTableEntry.pkeyMask) >> PageTableEntry.pkeyShift) }
                return .mapped(rights: rights, leaf: (address, raw, UInt64(1) << step.shift))
            }
            table = v & (mode == .bits32 ? PageTableEntry.frameMask32 : PageTableEntry.frameMask)
        }
        return .notPresent
    }

    /// The lowest address at or above `linear` whose walk can reach a leaf: where an upper-level entry names no
    /// table, the whole span that entry covers is skipped (to the next entry's first address; UInt64.max past
    /// the top). Lets loops over a large, mostly unmapped range (a grown heap VMA) visit only its tables.
    public func nextWalkable(from linear: UInt64, cr3: UInt64, mode: PagingMode, pse: Bool) -> UInt64 {
        let width = EntryWidth(mode).rawValue
        var table = rootTable(cr3, mode)
        for step in Self.levels(mode, .size4K) {
            let index = (linear >> step.shift) & ((1 << step.bits) - 1)
            let v = memory.read(table + index * UInt64(width), width: width)
            let canBeLarge = Self.mapsLargePages(mode, step.level, pse: pse)
            if step.level == .pte || (canBeLarge && v & PageTableEntry.pageSize != 0) { return linear }
            let next = v & (mode == .bits32 ? PageTableEntry.frameMask32 : PageTableEntry.frameMask)
            if next == 0 {
                let span = UInt64(1) << step.shift
                let (after, overflow) = (linear & ~(span - 1)).addingReportingOverflow(span)
                return overflow ? UInt64.max : after
            }
            table = next
        }
        return linear
    }

    /// Writes one entry in memory (a `set: {pages}` edit): the TLB is not touched.
    public mutating func writeEntry(at address: UInt64, value: UInt64, width: EntryWidth) throws(MachineError) {
        try memory.write(address, value: value, width: width.rawValue)
    }
}

func pagingHex(_ v: UInt64) -> String { String(v, radix: 16) }
