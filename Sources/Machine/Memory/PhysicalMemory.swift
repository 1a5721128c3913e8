// PhysicalMemory: the machine's RAM, as sparse 4 KiB frames. A frame exists only once something
// was written into it; memory never written reads as zero. Multi-byte values are little endian and
// may cross frame boundaries. The frame allocator hands out zeroed frames from fixed pools so that
// page tables and data land at predictable, readable addresses.
//
//   physical address (MAXPHYADDR = 40 bits):
//   39                                12 11          0
//   +-----------------------------------+-------------+
//   |          frame number             |   offset    |
//   +-----------------------------------+-------------+
//
//   pools:  0x0000_0000 .. 0x01FF_FFFF   free for explicit `phys:` mappings
//           0x0200_0000 .. 0x0FFF_FFFF   data frames (allocateDataFrame), growing up
//           0x1000_0000 .. 0xFFFF_FFFF   page-table frames (allocateTableFrame), growing up;
//                                        kept below 4 GiB so 32-bit CR3/PDEs can reach them
//           0x1_0000_0000 .. 2^40 - 1    large pages without `phys:` (allocateLargePage)

/// Sparse physical memory of 4 KiB frames.
public struct PhysicalMemory: Sendable {
    /// MAXPHYADDR: the number of physical-address bits the modelled CPU implements. Entry bits
    /// MAXPHYADDR..51 are reserved (PG-4).
    public static let maxPhysicalAddressBits = 40
    /// One past the highest physical address.
    public static let physicalAddressLimit: UInt64 = 1 << UInt64(maxPhysicalAddressBits)
    /// The size of a frame.
    public static let frameSize: UInt64 = 0x1000
    /// Default cap on the number of frames that hold data (262 144 frames = 1 GiB of host memory).
    public static let defaultFrameLimit = 262_144

    /// The most frames that may hold data at once; a write that needs one more fails.
    public var frameLimit: Int
    /// Frame number -> its 4096 bytes.
    private var frames = FrameTable()
    /// Where new page-table and data frames come from.
    public var allocator = FrameAllocator()
    /// Frame numbers looked at by `zero` so far: the work of forgetting frames under large pages,
    /// which LargePageZeroingTests bounds (a count, not a timing).
    private(set) var zeroingProbes = 0

    public init(frameLimit: Int = PhysicalMemory.defaultFrameLimit) {
        self.frameLimit = frameLimit
    }

    /// Makes room in the byte store for `frames` more frames (a hint: creating frames works without it).
    public mutating func reserve(frames more: Int) {
        frames.reserve(more: more)
    }

    /// The frames holding data, by frame number (ascending).
    var frameNumbers: [UInt64] { frames.frameNumbers.sorted() }

    /// The number of frames holding data.
    public var frameCount: Int { frames.count }

    // MARK: Reading

    /// One byte; memory never written reads as zero.
    public func read8(_ address: UInt64) -> UInt8 {
        byte(at: address)
    }

    private func byte(at address: UInt64) -> UInt8 {
        guard let base = frames.offset(of: address >> 12) else { return 0 }
        return frames.byte(at: base + Int(address & 0xFFF))
    }

    /// `width` bytes (1, 2, 4 or 8), little endian; other widths read as 8.
    public func read(_ address: UInt64, width: Int) -> UInt64 {
        let n = (width == 1 || width == 2 || width == 4) ? width : 8
        let offset = Int(address & 0xFFF)
        if offset + n <= Int(Self.frameSize) {
            // Fast path: inside one frame.
            guard let base = frames.offset(of: address >> 12) else { return 0 }
            return frames.load(at: base + offset, width: n)
        }
        var v: UInt64 = 0
        for i in stride(from: n - 1, through: 0, by: -1) {
            v = (v << 8) | UInt64(byte(at: address &+ UInt64(i)))
        }
        return v
    }

    public func read16(_ address: UInt64) -> UInt16 { UInt16(truncatingIfNeeded: read(address, width: 2)) }
    public func read32(_ address: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: read(address, width: 4)) }
    public func read64(_ address: UInt64) -> UInt64 { read(address, width: 8) }

    /// `count` bytes starting at `address` (an empty array for count <= 0).
    public func readBytes(_ address: UInt64, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var out = [UInt8]()
        out.reserveCapacity(count)
        for i in 0..<count { out.append(byte(at: address &+ UInt64(i))) }
        return out
    }

    // MARK: Writing

    /// Writes the low `width` bytes (1, 2, 4 or 8) of `value`, little endian.
    public mutating func write(_ address: UInt64, value: UInt64, width: Int) throws(MachineError) {
        guard width == 1 || width == 2 || width == 4 || width == 8 else {
            throw MachineError("a memory write of \(width) bytes (only 1, 2, 4 or 8)")
        }
        try checkRange(address, count: width)
        let offset = Int(address & 0xFFF)
        if offset + width <= Int(Self.frameSize) {
            // Fast path: inside one frame, one lookup. A frame is created only for a nonzero byte,
            // as the byte-wise path below does.
            let fn = address >> 12
            let base: Int
            if let existing = frames.offset(of: fn) {
                base = existing
            } else {
                let mask: UInt64 = width == 8 ? ~0 : (1 << (8 * UInt64(width))) - 1
                if value & mask == 0 { return }
                guard frames.count < frameLimit else {
                    throw MachineError("physical memory limit reached (\(frameLimit) frames of 4 KiB)")
                }
                base = frames.offsetCreating(fn)
            }
            frames.store(value, at: base + offset, width: width)
            return
        }
        for i in 0..<width {
            try store(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))), at: address + UInt64(i))
        }
    }

    public mutating func write8(_ address: UInt64, _ value: UInt8) throws(MachineError) {
        try write(address, value: UInt64(value), width: 1)
    }
    public mutating func write16(_ address: UInt64, _ value: UInt16) throws(MachineError) {
        try write(address, value: UInt64(value), width: 2)
    }
    public mutating func write32(_ address: UInt64, _ value: UInt32) throws(MachineError) {
        try write(address, value: UInt64(value), width: 4)
    }
    public mutating func write64(_ address: UInt64, _ value: UInt64) throws(MachineError) {
        try write(address, value: value, width: 8)
    }

    /// The first write that `write(_:value:size:)` could not carry out (memory limit reached, or an
    /// address beyond MAXPHYADDR), for callers that cannot throw at that point to check afterwards.
    public private(set) var droppedWriteError: MachineError?

    /// `read(_:width:)` under the name the CPU code uses.
    public func read(_ address: UInt64, size: Int) -> UInt64 {
        read(address, width: size)
    }

    /// A write that cannot throw, for the CPU's data accesses (the address came out of a
    /// translation, so it is below MAXPHYADDR; only the frame limit can refuse it). A refused write
    /// is dropped and remembered in `droppedWriteError`. Prefer the throwing `write(_:value:width:)`.
    public mutating func write(_ address: UInt64, value: UInt64, size: Int) {
        do {
            try write(address, value: value, width: size)
        } catch {
            if droppedWriteError == nil { droppedWriteError = error }
        }
    }

    /// Writes `bytes` starting at `address`.
    public mutating func writeBytes(_ address: UInt64, _ bytes: [UInt8]) throws(MachineError) {
        try checkRange(address, count: bytes.count)
        for (i, b) in bytes.enumerated() { try store(b, at: address + UInt64(i)) }
    }

    /// Copies `count` bytes from `source` to `target`, both inside one frame each: the same as
    /// writing the source's bytes one by one (a frame is created only for a nonzero byte).
    public mutating func copyWithinFrames(from source: UInt64, to target: UInt64, count: Int) throws(MachineError) {
        guard count > 0 else { return }
        let so = Int(source & 0xFFF), to = Int(target & 0xFFF)
        guard so + count <= Int(Self.frameSize), to + count <= Int(Self.frameSize) else {
            for i in 0..<count { try store(byte(at: source &+ UInt64(i)), at: target &+ UInt64(i)) }
            return
        }
        try checkRange(target, count: count)
        let src = frames.offset(of: source >> 12)
        let dst: Int
        if let existing = frames.offset(of: target >> 12) {
            dst = existing
        } else {
            guard let src, frames.anyNonzero(from: src + so, count: count) else { return }
            guard frames.count < frameLimit else {
                throw MachineError("physical memory limit reached (\(frameLimit) frames of 4 KiB)")
            }
            dst = frames.offsetCreating(target >> 12)
        }
        frames.copy(from: src.map { $0 + so }, to: dst + to, count: count)
    }

    /// ORs `bits` into an entry that already holds data (the CPU setting A/D, PG-14). The entry was
    /// read as present, so its frame exists; nothing is created.
    mutating func setBits(_ bits: UInt64, at address: UInt64, width: Int) {
        let fn = address >> 12
        let offset = Int(address & 0xFFF)
        guard offset + width <= Int(Self.frameSize), let base = frames.offset(of: fn) else { return }
        for i in 0..<width {
            let b = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))
            if b != 0 { frames.orByte(b, at: base + offset + i) }
        }
    }

    @inline(__always)
    private func checkRange(_ address: UInt64, count: Int) throws(MachineError) {
        let (end, overflow) = address.addingReportingOverflow(UInt64(count))
        if overflow || end > Self.physicalAddressLimit {
            throw MachineError("physical address 0x\(String(address, radix: 16)) is beyond MAXPHYADDR (\(Self.maxPhysicalAddressBits) bits)")
        }
    }

    private mutating func store(_ b: UInt8, at address: UInt64) throws(MachineError) {
        let fn = address >> 12
        let base: Int
        if let o = frames.offset(of: fn) {
            base = o
        } else {
            if b == 0 { return }  // zero into a frame that does not exist: already reads as zero
            guard frames.count < frameLimit else {
                throw MachineError("physical memory limit reached (\(frameLimit) frames of 4 KiB)")
            }
            base = frames.offsetCreating(fn)
        }
        frames.setByte(b, at: base + Int(address & 0xFFF))
    }

    // MARK: Allocation

    /// A zeroed 4 KiB frame for a page table, from the table pool.
    public mutating func allocateTableFrame() throws(MachineError) -> UInt64 {
        let a = try allocator.take(.table, bytes: Self.frameSize)
        zero(a, bytes: Self.frameSize)
        return a
    }

    /// A zeroed 4 KiB frame for data, from the data pool.
    public mutating func allocateDataFrame() throws(MachineError) -> UInt64 {
        let a = try allocator.take(.data, bytes: Self.frameSize)
        zero(a, bytes: Self.frameSize)
        return a
    }

    /// A zeroed, naturally aligned region of `bytes` (a 2 MiB, 4 MiB or 1 GiB page) from the
    /// large-page pool above 4 GiB. Costs no host memory until written.
    public mutating func allocateLargePage(bytes: UInt64) throws(MachineError) -> UInt64 {
        let a = try allocator.take(.large, bytes: bytes)
        zero(a, bytes: bytes)
        return a
    }

    /// Forgets every frame in [address, address+bytes): they read as zero again.
    private mutating func zero(_ address: UInt64, bytes: UInt64) {
        let first = address >> 12
        let last = (address + bytes - 1) >> 12
        // A fresh large page lies above every frame written so far (the pool is a bump allocator
        // above the others): nothing to forget. Without this, each 2 MiB page cost 512 removals
        // once the machine had 512 frames, and 262,144 of them took 20 s to build.
        guard let top = frames.highestFrame, top >= first else { return }
        if last - first + 1 > UInt64(frames.count) {
            zeroingProbes += frames.count
            for fn in frames.frameNumbers where fn >= first && fn <= last { frames.remove(fn) }
        } else {
            zeroingProbes += Int(last - first + 1)
            for fn in first...last { frames.remove(fn) }
        }
    }
}

/// Bump allocators over the fixed pools of physical memory (see the map at the top of this file).
public struct FrameAllocator: Sendable, Equatable {
    public enum Pool: Sendable {
        case table, data, large
    }

    public static let tablePool: Range<UInt64> = 0x1000_0000..<0x1_0000_0000
    public static let dataPool: Range<UInt64> = 0x0200_0000..<0x1000_0000
    public static let largePool: Range<UInt64> = 0x1_0000_0000..<PhysicalMemory.physicalAddressLimit

    /// The next free address of each pool.
    public private(set) var nextTable = FrameAllocator.tablePool.lowerBound
    public private(set) var nextData = FrameAllocator.dataPool.lowerBound
    public private(set) var nextLarge = FrameAllocator.largePool.lowerBound

    public init() {}

    /// Takes `bytes` (a power of two, at least 4 KiB) aligned to `bytes` from `pool`.
    mutating func take(_ pool: Pool, bytes: UInt64) throws(MachineError) -> UInt64 {
        guard bytes >= PhysicalMemory.frameSize, bytes & (bytes - 1) == 0 else {
            throw MachineError("cannot allocate a region of 0x\(String(bytes, radix: 16)) bytes")
        }
        let range: Range<UInt64>
        let next: UInt64
        let name: String
        switch pool {
        case .table: (range, next, name) = (Self.tablePool, nextTable, "page-table")
        case .data: (range, next, name) = (Self.dataPool, nextData, "data")
        case .large: (range, next, name) = (Self.largePool, nextLarge, "large-page")
        }
        let start = (next + bytes - 1) & ~(bytes - 1)
        guard start >= next, start < range.upperBound, range.upperBound - start >= bytes else {
            throw MachineError("the \(name) frame pool (0x\(String(range.lowerBound, radix: 16))..0x\(String(range.upperBound, radix: 16))) is exhausted")
        }
        switch pool {
        case .table: nextTable = start + bytes
        case .data: nextData = start + bytes
        case .large: nextLarge = start + bytes
        }
        return start
    }
}
