// PageTableEntry: the bit layout of paging-structure entries (PG-1..PG-4) and, per mode and level,
// which bits are reserved (a present entry with one of them set faults P=1|RSVD, PG-12).
//
// 8-byte entry (PAE and 4-level paging), MAXPHYADDR (M) = 40:
//   63  62..59  58..52  51..M   M-1..12        11..9  8  7      6  5  4    3    2   1   0
//   XD  PKEY    ignored reserved frame          sw     G  PS/PAT D  A  PCD  PWT U/S R/W P
//   - XD is reserved when EFER.NXE = 0; PAE: bits 62:52 are reserved too (PKEY only in 4-level).
//   - PS (bit 7): PML4E reserved; PDPTE 1 GiB page; PDE 2 MiB page; PTE: PAT.
//   - large page: bit 12 = PAT; 2 MiB PDE bits 20:13 and 1 GiB PDPTE bits 29:13 reserved (alignment).
//   - PAE PDPTE register: bits 0 P, 3 PWT, 4 PCD, M-1..12 frame; 2:1, 8:5, 63:M reserved (#GP at load).
//
// 4-byte entry (32-bit paging):
//   31..12 frame  11..9 sw  8 G  7 PS/PAT  6 D  5 A  4 PCD  3 PWT  2 U/S  1 R/W  0 P
//   4 MiB PDE (PS=1, CR4.PSE=1): 31..22 PA 31:22, 21 reserved, 20..13 PA 39:32 (PSE-36),
//   12 PAT; the PSE-36 bits above MAXPHYADDR are reserved (none when M = 40). No XD bit exists.

/// The levels of a walk, top-down.
public enum PagingLevel: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case pml4e, pdpte, pde, pte

    /// The SDM's name of the entry: `PML4E`, `PDPTE`, `PDE`, `PTE`.
    public var description: String {
        switch self {
        case .pml4e: "PML4E"
        case .pdpte: "PDPTE"
        case .pde: "PDE"
        case .pte: "PTE"
        }
    }
}

/// The width of one entry in a paging mode.
public enum EntryWidth: Int, Sendable {
    case four = 4, eight = 8

    /// 4 bytes in 32-bit paging, 8 in PAE and 4-level paging.
    public init(_ mode: PagingMode) {
        self = mode == .bits32 ? .four : .eight
    }
}

/// Bits of paging-structure entries and the reserved-bit masks (PG-4).
public enum PageTableEntry {
    public static let present: UInt64 = 1 << 0
    public static let writable: UInt64 = 1 << 1
    public static let user: UInt64 = 1 << 2
    public static let writeThrough: UInt64 = 1 << 3
    public static let cacheDisable: UInt64 = 1 << 4
    public static let accessed: UInt64 = 1 << 5
    public static let dirty: UInt64 = 1 << 6
    /// PS in a PDE/PDPTE (a large page); PAT in a 4 KiB PTE.
    public static let pageSize: UInt64 = 1 << 7
    public static let pat4K: UInt64 = 1 << 7
    public static let global: UInt64 = 1 << 8
    /// PAT of a large-page leaf.
    public static let patLarge: UInt64 = 1 << 12
    /// Protection key, bits 62:59 (4-level leaf entries, PG-10).
    public static let pkeyShift: UInt64 = 59
    public static let pkeyMask: UInt64 = 0xF << 59
    /// Execute disable (PAE / 4-level, with EFER.NXE = 1).
    public static let executeDisable: UInt64 = 1 << 63

    static let maxPhys = UInt64(PhysicalMemory.maxPhysicalAddressBits)

    /// The frame bits of an 8-byte entry: M-1..12.
    public static let frameMask: UInt64 = ((1 << maxPhys) - 1) & ~0xFFF
    /// The frame bits of a 4-byte entry: 31..12.
    public static let frameMask32: UInt64 = 0xFFFF_F000

    /// Bits 51:M: reserved in every 4-level entry.
    public static let reservedHigh4Level: UInt64 = ((1 << 52) - 1) & ~((1 << maxPhys) - 1)
    /// Bits 62:M: reserved in every PAE entry (62:52 and the unimplemented address bits).
    public static let reservedHighPAE: UInt64 = ((1 << 63) - 1) & ~((1 << maxPhys) - 1)
    /// Bits 20:13 of a 2 MiB PDE (the frame must be 2 MiB aligned).
    public static let reservedAlign2M: UInt64 = 0x001F_E000
    /// Bits 29:13 of a 1 GiB PDPTE.
    public static let reservedAlign1G: UInt64 = 0x3FFF_E000
    /// Bits 21:(M-19) of a 4 MiB PDE: bit 21 and the PSE-36 bits above MAXPHYADDR.
    public static let reserved4M: UInt64 = ((1 << 22) - 1) & ~((1 << (maxPhys - 19)) - 1)
    /// The reserved bits of a PAE PDPTE register: 2:1, 8:5, 63:M (PG-2).
    public static let reservedPAEPDPTE: UInt64 = 0x6 | 0x1E0 | ~((1 << maxPhys) - 1)
    /// The bits of a PAE PDPTE that a mapping may set (no R/W, U/S, A there).
    public static let paePDPTEFlags: UInt64 = present | writeThrough | cacheDisable

    /// The reserved bit `reserved: true` sets in a leaf: bit 51 for 8-byte entries (one of 51:M,
    /// reserved in PAE and 4-level alike), bit 21 for a 4 MiB PDE; nil where none exists (a 4 KiB
    /// PTE or a non-leaf PDE of 32-bit paging).
    public static func reservedBitToSet(mode: PagingMode, large: Bool) -> UInt64? {
        switch mode {
        case .pae, .level4: 1 << 51
        case .bits32: large ? 1 << 21 : nil
        case .off: nil
        }
    }

    /// The bits that must be 0 in a present entry at `level` (PG-1..PG-4, PG-12); `large` says
    /// the entry maps a page (PS=1 at the PDPTE/PDE and honoured there). PAE PDPTEs are checked
    /// when loaded (`reservedPAEPDPTE`), not here.
    public static func reservedMask(mode: PagingMode, level: PagingLevel, large: Bool, nxe: Bool) -> UInt64 {
        let xd: UInt64 = nxe ? 0 : executeDisable
        switch mode {
        case .off:
            return 0
        case .bits32:
            return level == .pde && large ? reserved4M : 0
        case .pae:
            return reservedHighPAE | xd | (level == .pde && large ? reservedAlign2M : 0)
        case .level4:
            var m = reservedHigh4Level | xd
            switch level {
            case .pml4e: m |= pageSize
            case .pdpte: if large { m |= reservedAlign1G }
            case .pde: if large { m |= reservedAlign2M }
            case .pte: break
            }
            return m
        }
    }

    /// Says in words which reserved bits of `bits` are set, for fault reasons.
    static func describeReserved(_ bits: UInt64, mode: PagingMode, level: PagingLevel) -> String {
        var parts: [String] = []
        if bits & executeDisable != 0 { parts.append("XD (bit 63) with EFER.NXE=0") }
        if level == .pml4e && bits & pageSize != 0 { parts.append("PS (bit 7) in a PML4E") }
        let high = bits & ~executeDisable & ~((1 << maxPhys) - 1)
        if high != 0 {
            parts.append(mode == .pae ? "bits 62:\(maxPhys) (0x\(String(high, radix: 16)))"
                                      : "bits 51:\(maxPhys) above MAXPHYADDR (0x\(String(high, radix: 16)))")
        }
        let low = bits & ((1 << maxPhys) - 1) & ~pageSize
        if low != 0 {
            if mode == .bits32 {
                parts.append("bit 21 of a 4 MiB PDE (0x\(String(low, radix: 16)))")
            } else {
                parts.append("large-page frame bits below the page size (0x\(String(low, radix: 16)), mis-aligned frame)")
            }
        }
        return parts.isEmpty ? "0x\(String(bits, radix: 16))" : parts.joined(separator: ", ")
    }

    /// The flags of an entry as short words, for messages: `P W U NX G A D PS pkey=3`.
    public static func describeFlags(_ v: UInt64) -> String {
        var s: [String] = []
        s.append(v & present != 0 ? "P" : "not-present")
        if v & writable != 0 { s.append("W") }
        if v & user != 0 { s.append("U") }
        if v & executeDisable != 0 { s.append("NX") }
        if v & global != 0 { s.append("G") }
        if v & accessed != 0 { s.append("A") }
        if v & dirty != 0 { s.append("D") }
        let key = (v & pkeyMask) >> pkeyShift
        if key != 0 { s.append("pkey=\(key)") }
        let other = v & (reservedHigh4Level | writeThrough | cacheDisable)
        if other != 0 { s.append("bits=0x\(String(other, radix: 16))") }
        return s.joined(separator: " ")
    }
}
