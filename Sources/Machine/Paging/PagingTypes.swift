// The vocabulary of address translation: paging modes, access kinds, mapping requests.

/// Which paging structure the CPU walks (PG-1..PG-3).
public enum PagingMode: String, Sendable, CaseIterable {
    /// CR0.PG = 0: linear = physical.
    case off
    /// 32-bit paging: 10/10/12, 4-byte entries (PG-1).
    case bits32 = "32bit"
    /// PAE paging: 2/9/9/12, 8-byte entries, PDPTEs loaded at CR3 writes (PG-2).
    case pae
    /// 4-level paging: 9/9/9/9/12 (PG-3).
    case level4 = "4level"
}

/// Read, write or instruction fetch.
public enum AccessKind: String, Sendable, CaseIterable {
    case read, write, fetch
}

/// One memory access as the paging unit sees it.
public struct MemoryAccess: Sendable, Equatable {
    public var kind: AccessKind
    /// The CPL of the code making the access.
    public var cpl: UInt8
    /// An implicit supervisor access made by the CPU itself (GDT/LDT/IDT/TSS reads, SDM §4.6.1):
    /// supervisor even at CPL 3, and SMAP applies regardless of AC (PG-7, PG-9). The pushes of an
    /// event delivery are not implicit: they are explicit accesses at the new CPL.
    public var implicit: Bool
    /// A stack reference (a non-canonical address then faults #SS instead of #GP, PG-3).
    public var stack: Bool

    public init(_ kind: AccessKind, cpl: UInt8, implicit: Bool = false, stack: Bool = false) {
        self.kind = kind
        self.cpl = cpl
        self.implicit = implicit
        self.stack = stack
    }

    /// A user-mode access in the sense of PG-6/PG-13: CPL 3 and not implicit.
    @inlinable public var isUser: Bool { cpl == 3 && !implicit }
}

/// The control state the walk depends on, taken from the CPU at the time of the access.
public struct PagingControl: Sendable, Equatable {
    public var mode: PagingMode
    public var cr3: UInt64
    /// CR0.WP
    public var wp: Bool
    /// CR4.PSE (32-bit paging only)
    public var pse: Bool
    /// CR4.PGE
    public var pge: Bool
    /// CR4.SMEP
    public var smep: Bool
    /// CR4.SMAP
    public var smap: Bool
    /// CR4.PKE
    public var pke: Bool
    /// EFER.NXE
    public var nxe: Bool
    /// RFLAGS.AC
    public var ac: Bool
    /// PKRU: 2 bits per key, AD = bit 2k, WD = bit 2k+1 (PG-10).
    public var pkru: UInt32

    public init(mode: PagingMode, cr3: UInt64, wp: Bool = true, pse: Bool = false, pge: Bool = false,
                smep: Bool = false, smap: Bool = false, pke: Bool = false, nxe: Bool = false,
                ac: Bool = false, pkru: UInt32 = 0) {
        self.mode = mode
        self.cr3 = cr3
        self.wp = wp
        self.pse = pse
        self.pge = pge
        self.smep = smep
        self.smap = smap
        self.pke = pke
        self.nxe = nxe
        self.ac = ac
        self.pkru = pkru
    }
}

/// Flags of one paging-structure entry, as a scenario states them. nil = the default for that level.
public struct EntryFlags: Sendable, Equatable, Hashable {
    public var present: Bool?
    public var writable: Bool?
    public var user: Bool?
    public var nx: Bool?
    public var global: Bool?
    public var accessed: Bool?
    public var dirty: Bool?
    public var pkey: UInt8?
    /// Set a reserved bit in the entry (for RSVD faults).
    public var reserved: Bool?
    public init(present: Bool? = nil, writable: Bool? = nil, user: Bool? = nil, nx: Bool? = nil,
                global: Bool? = nil, accessed: Bool? = nil, dirty: Bool? = nil, pkey: UInt8? = nil,
                reserved: Bool? = nil) {
        self.present = present
        self.writable = writable
        self.user = user
        self.nx = nx
        self.global = global
        self.accessed = accessed
        self.dirty = dirty
        self.pkey = pkey
        self.reserved = reserved
    }
}

/// Page sizes.
public enum PageSize: String, Sendable, CaseIterable {
    case size4K = "4k", size2M = "2m", size4M = "4m", size1G = "1g"
    public var bytes: UInt64 {
        switch self {
        case .size4K: 0x1000
        case .size2M: 0x20_0000
        case .size4M: 0x40_0000
        case .size1G: 0x4000_0000
        }
    }
}

/// A request to map one page or a run of pages (the `pages` entries of a scenario).
public struct PageMapping: Sendable, Equatable {
    public var virt: UInt64
    /// nil: frames are allocated from free physical memory.
    public var phys: UInt64?
    public var count: UInt64
    public var size: PageSize
    /// Leaf flags; defaults: present, not writable, not user, not nx.
    public var leaf: EntryFlags
    /// Overrides of the upper-level entries on the walk (default present/writable/user/executable).
    public var pml4e: EntryFlags?
    public var pdpte: EntryFlags?
    public var pde: EntryFlags?
    /// An opaque tag of where the mapping was written (the scenario layer's source location id).
    public var origin: Int?

    public init(virt: UInt64, phys: UInt64? = nil, count: UInt64 = 1, size: PageSize = .size4K,
                leaf: EntryFlags = EntryFlags(), pml4e: EntryFlags? = nil, pdpte: EntryFlags? = nil,
                pde: EntryFlags? = nil) {
        self.virt = virt
        self.phys = phys
        self.count = count
        self.size = size
        self.leaf = leaf
        self.pml4e = pml4e
        self.pdpte = pdpte
        self.pde = pde
    }
}
