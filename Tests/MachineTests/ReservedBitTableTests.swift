// ReservedBitTableTests: every bit of every kind of paging-structure entry, reserved or not, against
// a table copied from the SDM's entry formats (Vol. 3A tables 4-4..4-6 for 32-bit paging, 4-9..4-11
// for PAE, 4-15..4-20 for 4-level paging) with MAXPHYADDR = 40 - not from the model's masks.
// The scenario format can only set bit 51 or bit 21 (`reserved: true`) and XD; this covers the rest
// (bits just above MAXPHYADDR, PAE's 62:52, PS in a PML4E, the alignment bits of large pages).

import Testing
@testable import Machine

/// One kind of entry: paging mode, level, whether it maps a page, EFER.NXE.
struct EntryKind: Sendable, CustomTestStringConvertible {
    var mode: PagingMode
    var level: PagingLevel
    var large: Bool
    var nxe: Bool
    /// The SDM's reserved bits for this kind, as inclusive ranges.
    var reserved: [ClosedRange<Int>]

    var testDescription: String {
        "\(mode.rawValue) \(level)\(large ? " (page)" : "") NXE=\(nxe ? 1 : 0)"
    }

    static let all: [EntryKind] = {
        var out: [EntryKind] = []
        for nxe in [false, true] {
            let xd: [ClosedRange<Int>] = nxe ? [] : [63...63]
            // 4-level: 51:M reserved everywhere; 62:52 ignored (keys on leaves); PS reserved in a PML4E.
            out.append(EntryKind(mode: .level4, level: .pml4e, large: false, nxe: nxe, reserved: [40...51, 7...7] + xd))
            out.append(EntryKind(mode: .level4, level: .pdpte, large: false, nxe: nxe, reserved: [40...51] + xd))
            out.append(EntryKind(mode: .level4, level: .pdpte, large: true, nxe: nxe, reserved: [40...51, 13...29] + xd))
            out.append(EntryKind(mode: .level4, level: .pde, large: false, nxe: nxe, reserved: [40...51] + xd))
            out.append(EntryKind(mode: .level4, level: .pde, large: true, nxe: nxe, reserved: [40...51, 13...20] + xd))
            out.append(EntryKind(mode: .level4, level: .pte, large: false, nxe: nxe, reserved: [40...51] + xd))
            // PAE: 62:M reserved (no keys, nothing ignored up there).
            out.append(EntryKind(mode: .pae, level: .pde, large: false, nxe: nxe, reserved: [40...62] + xd))
            out.append(EntryKind(mode: .pae, level: .pde, large: true, nxe: nxe, reserved: [40...62, 13...20] + xd))
            out.append(EntryKind(mode: .pae, level: .pte, large: false, nxe: nxe, reserved: [40...62] + xd))
        }
        // 32-bit paging: only a 4 MiB PDE has reserved bits: 21:(M-19) = bit 21 (20:13 hold PA 39:32).
        out.append(EntryKind(mode: .bits32, level: .pde, large: false, nxe: false, reserved: []))
        out.append(EntryKind(mode: .bits32, level: .pde, large: true, nxe: false, reserved: [21...21]))
        out.append(EntryKind(mode: .bits32, level: .pte, large: false, nxe: false, reserved: []))
        return out
    }()
}

@Suite struct ReservedBitTableTests {
    @Test("each bit of an entry is reserved exactly when the SDM's format says so (PG-4, PG-12)", arguments: EntryKind.all)
    func reservedBitsMatchTheSDM(_ k: EntryKind) {
        let width = k.mode == .bits32 ? 32 : 64
        let mask = PageTableEntry.reservedMask(mode: k.mode, level: k.level, large: k.large, nxe: k.nxe)
        for bit in 0..<width {
            let want = k.reserved.contains { $0.contains(bit) }
            let got = mask & (UInt64(1) << UInt64(bit)) != 0
            #expect(got == want, "bit \(bit): reserved \(got), the SDM says \(want)")
        }
    }
}
