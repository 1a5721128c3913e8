// TSSAlias: a TSS is memory. The model keeps each TSS as a byte image keyed by its linear base (descriptor
// tables and TSSs are not read through paging, docs/machine-model.md); a data access by an instruction to the
// linear addresses a TSS image covers reaches that image, so that code which writes the TSS (the I/O permission
// bit map, an ESP0 slot) changes what the processor later reads there, as on hardware. The access itself is
// made first, through segmentation and paging, with their faults; only an access that completes touches the
// image. Another linear alias of a TSS's bytes (a second mapping of its frame) would reach memory the image does
// not mirror: such an access is refused as not modelled rather than answered from stale bytes.

extension Machine {
    /// The (base, offset range within the image, offset within the access) of every TSS image byte that the
    /// `size`-byte access at `linear` covers.
    private func tssBytes(at linear: UInt64, size: Int) -> [(base: UInt64, offset: Int, index: Int)] {
        var out: [(base: UInt64, offset: Int, index: Int)] = []
        for (base, image) in tssImages {
            for i in 0..<size {
                let addr = linear &+ UInt64(i)
                guard addr >= base, addr - base < UInt64(image.count) else { continue }
                out.append((base, Int(addr - base), i))
            }
        }
        return out
    }

    /// The physical address `linear` maps to under the current CR3, from the tables as built (no side effects);
    /// nil where nothing maps it.
    private func physicalAddress(of linear: UInt64) -> UInt64? {
        if pagingMode == .off { return linear }
        guard let leaf = paging.leaf(for: linear, cr3: cpu.cr3, mode: pagingMode, pse: cpu.cr4 & CR4.pse != 0),
              leaf.value & 1 != 0 else { return nil }
        let frame = paging.frameOfLeaf(leaf.value, mode: pagingMode, large: leaf.pageSize > 0x1000, size: leaf.pageSize)
        return frame | (linear & (leaf.pageSize - 1))
    }

    /// Refuses (as not modelled) a data access at `linear` that reaches a TSS's bytes through another linear
    /// address than the TSS's own: the image is kept by linear address, so such an alias is not mirrored.
    mutating func refuseTSSAlias(_ linear: UInt64, size: Int) {
        guard pagingMode != .off, !tssImages.isEmpty else { return }
        // Each page of each TSS image: its physical frame and the image offsets that lie in it.
        var tssFrames: [(frame: UInt64, base: UInt64, firstOffset: Int, lastOffset: Int)] = []
        for (base, image) in tssImages where !image.isEmpty {
            var offset = 0
            while offset < image.count {
                let page = (base &+ UInt64(offset)) & ~0xFFF
                let last = min(image.count - 1, Int(page &+ 0xFFF &- base))
                if let pa = physicalAddress(of: page) { tssFrames.append((pa & ~0xFFF, base, offset, last)) }
                offset = last + 1
            }
        }
        for i in 0..<size {
            let addr = linear &+ UInt64(i)
            if tssImages.contains(where: { addr >= $0.key && addr - $0.key < UInt64($0.value.count) }) { continue }
            guard let pa = physicalAddress(of: addr) else { continue }
            let inPage = Int(pa & 0xFFF)
            for hit in tssFrames where hit.frame == pa & ~0xFFF {
                let start = Int((hit.base &+ UInt64(hit.firstOffset)) & 0xFFF)
                let byte = hit.firstOffset + inPage - start
                guard inPage >= start, byte <= hit.lastOffset else { continue }
                unsupported = "the access at 0x\(String(addr, radix: 16)) reaches byte 0x\(String(byte, radix: 16)) of the TSS at 0x\(String(hit.base, radix: 16)) through another mapping of its page (physical 0x\(String(pa, radix: 16))): the model keeps a TSS by its linear address and does not follow aliases"
                return
            }
        }
    }

    /// After a store has completed: the bytes that fall inside a TSS image are written there too.
    mutating func storeIntoTSSImages(_ linear: UInt64, value: UInt64, size: Int) {
        for (base, offset, i) in tssBytes(at: linear, size: size) {
            tssImages[base]?[offset] = UInt8((value >> (8 * UInt64(i))) & 0xFF)
        }
    }

    /// After a load has completed: the bytes that fall inside a TSS image are read from it.
    func loadFromTSSImages(_ linear: UInt64, value: UInt64, size: Int) -> UInt64 {
        var v = value
        for (base, offset, i) in tssBytes(at: linear, size: size) {
            guard let b = tssImages[base]?[offset] else { continue }
            let shift = 8 * UInt64(i)
            v = (v & ~(0xFF << shift)) | (UInt64(b) << shift)
        }
        return v
    }
}
