// TLB: the translations the CPU has cached (PG-15). Each entry holds the physical page and the
// combined rights (effective R/W, U/S, XD, the leaf's protection key, G, D) fixed when it was
// filled. A hit uses those rights, not memory: editing an entry in memory leaves the cached
// translation usable until INVLPG, a CR3 write or a switch of address space. That staleness is
// the point of modelling a TLB at all.
//
//   key: (address space = CR3 & frame mask, linear page base, page size)
//   global entries (G=1 filled while CR4.PGE=1) are keyed without the address space: they are
//   shared by every address space and survive CR3 writes.

/// One cached translation.
public struct TLBEntry: Sendable, Equatable {
    /// Physical base of the page.
    public var physicalBase: UInt64
    /// 4 KiB, 2 MiB, 4 MiB or 1 GiB.
    public var pageSize: UInt64
    /// Effective R/W, U/S and XD (PG-5), and the first level that cleared or set each.
    public var rights: EffectiveRights
    /// G=1 in the leaf and CR4.PGE=1 at fill time: survives CR3 writes.
    public var global: Bool
    /// The leaf's D bit was 1 at fill (or this fill set it). A write through an entry with D=0
    /// walks again, because the CPU must set D in memory.
    public var dirty: Bool
}

/// Effective access rights of a translation (PG-5), with the level that decided each, so a fault
/// can say "PDE R/W=0".
public struct EffectiveRights: Sendable, Equatable {
    public var writable = true
    public var user = true
    public var executeDisable = false
    /// The leaf's protection key (PG-10: only the leaf's key counts).
    public var protectionKey: UInt8 = 0
    public var readOnlyAt: PagingLevel?
    public var supervisorAt: PagingLevel?
    public var executeDisableAt: PagingLevel?
    public init() {}
}

/// The translation lookaside buffer.
public struct TLB: Sendable {
    /// The most translations kept; beyond it an arbitrary entry is evicted.
    public static let capacity = 4096

    /// Translations of one address space each (tagged by CR3), and global ones (tag ignored).
    private var entries = TranslationTable()
    private var globals = TranslationTable()

    public init() {}

    /// The number of cached translations.
    public var count: Int { entries.count + globals.count }

    /// The address-space tag of a CR3 value.
    static func space(_ cr3: UInt64) -> UInt64 { cr3 & PageTableEntry.frameMask }

    /// Every page size, for drops that do not depend on the mode.
    private static let allSizes: [UInt64] = [0x1000, 0x20_0000, 0x40_0000, 0x4000_0000]

    /// The cached translation of `linear` in the address space of `cr3`, if any.
    public func lookup(_ linear: UInt64, cr3: UInt64, mode: PagingMode) -> TLBEntry? {
        if entries.count == 0 && globals.count == 0 { return nil }
        let space = Self.space(cr3)
        // The page sizes the mode can map, smallest first.
        @inline(__always) func probe(_ size: UInt64) -> TLBEntry? {
            let base = linear & ~(size - 1)
            return entries.find(space: space, base: base, size: size) ?? globals.find(space: 0, base: base, size: size)
        }
        switch mode {
        case .off: return nil
        case .bits32: return probe(0x1000) ?? probe(0x40_0000)
        case .pae: return probe(0x1000) ?? probe(0x20_0000)
        case .level4: return probe(0x1000) ?? probe(0x20_0000) ?? probe(0x4000_0000)
        }
    }

    /// Caches a translation of the page containing `linear`.
    public mutating func fill(_ linear: UInt64, cr3: UInt64, entry: TLBEntry) {
        if count >= Self.capacity {
            // Evict simply: drop one arbitrary entry (non-global first).
            if !entries.removeAny() { _ = globals.removeAny() }
        }
        let base = linear & ~(entry.pageSize - 1)
        if entry.global {
            globals.insert(space: 0, base: base, size: entry.pageSize, entry)
        } else {
            entries.insert(space: Self.space(cr3), base: base, size: entry.pageSize, entry)
        }
    }

    /// Drops the translation of the page containing `linear` in the address space of `cr3`
    /// (and a global one, which every address space shares). A #PF does this for its address.
    mutating func drop(_ linear: UInt64, cr3: UInt64) {
        let space = Self.space(cr3)
        for size in Self.allSizes {
            let base = linear & ~(size - 1)
            entries.remove(space: space, base: base, size: size)
            globals.remove(space: 0, base: base, size: size)
        }
    }

    /// INVLPG: drops every translation of the page containing `linear`, global ones included
    /// (PG-15). Non-global entries exist only for the current address space (a CR3 write flushes
    /// them), so dropping the page in all address spaces is the same thing.
    public mutating func invlpg(_ linear: UInt64) {
        if entries.count == 0 && globals.count == 0 { return }
        for size in Self.allSizes {
            let base = linear & ~(size - 1)
            entries.removeAllSpaces(base: base, size: size)
            globals.remove(space: 0, base: base, size: size)
        }
    }

    /// MOV to CR3: flushes all non-global translations; global ones (G=1 filled with CR4.PGE=1)
    /// survive (PG-15).
    public mutating func flushNonGlobal() {
        entries.removeAll()
    }

    /// Toggling CR4.PGE, changing CR0.PG / CR4.PAE or the paging mode: flushes everything.
    public mutating func flushAll() {
        entries.removeAll()
        globals.removeAll()
    }
}
