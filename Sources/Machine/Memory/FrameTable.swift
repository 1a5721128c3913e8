// FrameTable: the frames of PhysicalMemory, in one contiguous byte store indexed by an
// OpenAddressTable from frame number to frame index.
//
// It replaces a `[UInt64: [UInt8]]` dictionary: no SipHash per byte, one lookup per access, and a
// machine copy (Machine is a value type) copies three arrays instead of one array per frame.

struct FrameTable: Sendable {
    static let frameBytes = 0x1000

    /// Frame number -> the index of its frame in `storage`.
    private var index = OpenAddressTable<UInt64, Int32>(initialSlotsLog2: 6)
    /// The frames' bytes, 4 KiB each.
    private(set) var storage: [UInt8] = []
    /// Indices of freed frames in `storage`, reused first.
    private var free: [Int32] = []

    /// The number of frames present.
    var count: Int { index.count }

    /// At least the highest frame number ever created (never lowered by `remove`), nil before the
    /// first: a range above it holds no frame, which `PhysicalMemory` uses to skip zeroing a
    /// fresh large page.
    private(set) var highestFrame: UInt64?

    /// A frame of zeros, appended as one block (a per-byte `repeatElement` append costs a loop).
    private static let zeroFrame = [UInt8](repeating: 0, count: frameBytes)

    init() {}

    /// The byte offset in `storage` of frame `fn`, or nil when it holds no data.
    @inline(__always)
    func offset(of fn: UInt64) -> Int? {
        index[fn].map { Int($0) &* Self.frameBytes }
    }

    /// The byte offset of frame `fn`, creating it zeroed when absent.
    mutating func offsetCreating(_ fn: UInt64) -> Int {
        if let o = offset(of: fn) { return o }
        let slot: Int32
        if let f = free.popLast() {
            slot = f
            let start = Int(f) * Self.frameBytes
            storage.withUnsafeMutableBufferPointer { p in
                if let base = p.baseAddress { (base + start).update(repeating: 0, count: Self.frameBytes) }
            }
        } else {
            slot = Int32(storage.count / Self.frameBytes)
            storage.append(contentsOf: Self.zeroFrame)
        }
        index[fn] = slot
        if highestFrame.map({ fn > $0 }) ?? true { highestFrame = fn }
        return Int(slot) * Self.frameBytes
    }

    /// Makes room for `more` frames beyond those present, so that creating them copies the store
    /// once (or not at all) instead of at every doubling.
    mutating func reserve(more: Int) {
        let wanted = (count + free.count + more) * Self.frameBytes
        if storage.capacity < wanted { storage.reserveCapacity(wanted) }
    }

    /// Forgets frame `fn` (it reads as zero again); its storage is reused by the next new frame.
    mutating func remove(_ fn: UInt64) {
        guard let slot = index[fn] else { return }
        free.append(slot)
        index[fn] = nil
    }

    /// The frame numbers present.
    var frameNumbers: [UInt64] { index.keys { _ in true } }

    func anyNonzero(from offset: Int, count: Int) -> Bool {
        storage.withUnsafeBufferPointer { p in
            for j in offset..<(offset + count) where p[j] != 0 { return true }
            return false
        }
    }

    /// Copies `count` bytes inside the store (from nil: zeros).
    mutating func copy(from source: Int?, to target: Int, count: Int) {
        storage.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            if let source {
                (base + target).update(from: base + source, count: count)
            } else {
                (base + target).update(repeating: 0, count: count)
            }
        }
    }

    @inline(__always)
    func byte(at offset: Int) -> UInt8 { storage[offset] }

    /// `width` bytes (1, 2, 4 or 8) at `offset`, little endian; the caller keeps them inside one frame.
    @inline(__always)
    func load(at offset: Int, width: Int) -> UInt64 {
        precondition(offset >= 0 && offset + width <= storage.count)
        return storage.withUnsafeBytes { p in
            switch width {
            case 1: UInt64(p[offset])
            case 2: UInt64(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
            case 4: UInt64(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            default: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            }
        }
    }

    /// Stores the low `width` bytes (1, 2, 4 or 8) of `value` at `offset`, little endian.
    @inline(__always)
    mutating func store(_ value: UInt64, at offset: Int, width: Int) {
        precondition(offset >= 0 && offset + width <= storage.count)
        storage.withUnsafeMutableBytes { p in
            switch width {
            case 1: p[offset] = UInt8(truncatingIfNeeded: value)
            case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: UInt16.self)
            case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: value).littleEndian, toByteOffset: offset, as: UInt32.self)
            default: p.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
            }
        }
    }

    @inline(__always)
    mutating func setByte(_ b: UInt8, at offset: Int) { storage[offset] = b }

    @inline(__always)
    mutating func orByte(_ b: UInt8, at offset: Int) { storage[offset] |= b }
}
