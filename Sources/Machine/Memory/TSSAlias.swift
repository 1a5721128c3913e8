// TSSAlias: a TSS is memory. The model keeps each TSS as a byte image keyed by its linear base (descriptor
// tables and TSSs are not read through paging, docs/machine-model.md); a data access by an instruction to the
// linear addresses a TSS image covers reaches that image, so that code which writes the TSS (the I/O permission
// bit map, an ESP0 slot) changes what the processor later reads there, as on hardware. The access itself is
// made first, through segmentation and paging, with their faults; only an access that completes touches the
// image. Another linear alias of the same physical page is not followed.

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
