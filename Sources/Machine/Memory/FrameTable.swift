// FrameTable: the frames of PhysicalMemory, in one contiguous byte store indexed by an
// open-addressing hash table (linear probing, Fibonacci hashing of the frame number).
//
// It replaces a `[UInt64: [UInt8]]` dictionary: no SipHash per byte, one lookup per access, and a
// machine copy (Machine is a value type) copies three arrays instead of one array per frame.

struct FrameTable: Sendable {
    static let frameBytes = 0x1000
    private static let empty = UInt64.max

    /// Frame numbers (empty slots hold `empty`); a power-of-two count.
    private var keys: [UInt64]
    /// For each key, the index of its frame in `storage`.
    private var slots: [Int32]
    /// The frames' bytes, 4 KiB each.
    private(set) var storage: [UInt8] = []
    /// Indices of freed frames in `storage`, reused first.
    private var free: [Int32] = []
    private var shift: UInt64
    private(set) var count = 0

    /// A frame of zeros, appended as one block (a per-byte `repeatElement` append costs a loop).
    private static let zeroFrame = [UInt8](repeating: 0, count: frameBytes)

    init() {
        keys = Array(repeating: Self.empty, count: 64)
        slots = Array(repeating: 0, count: 64)
        shift = 64 - 6
    }

    @inline(__always)
    private func home(_ fn: UInt64) -> Int { Int(truncatingIfNeeded: (fn &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The byte offset in `storage` of frame `fn`, or nil when it holds no data.
    @inline(__always)
    func offset(of fn: UInt64) -> Int? {
        let mask = keys.count - 1
        var i = home(fn)
        while true {
            let k = keys[i]
            if k == fn { return Int(slots[i]) &* Self.frameBytes }
            if k == Self.empty { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// The byte offset of frame `fn`, creating it zeroed when absent.
    mutating func offsetCreating(_ fn: UInt64) -> Int {
        if let o = offset(of: fn) { return o }
        if (count + 1) * 4 > keys.count * 3 { grow() }
        let index: Int32
        if let f = free.popLast() {
            index = f
            let start = Int(f) * Self.frameBytes
            storage.withUnsafeMutableBufferPointer { p in
                if let base = p.baseAddress { (base + start).update(repeating: 0, count: Self.frameBytes) }
            }
        } else {
            index = Int32(storage.count / Self.frameBytes)
            storage.append(contentsOf: Self.zeroFrame)
        }
        insertKey(fn, index)
        count += 1
        return Int(index) * Self.frameBytes
    }

    private mutating func insertKey(_ fn: UInt64, _ index: Int32) {
        let mask = keys.count - 1
        var i = home(fn)
        while keys[i] != Self.empty { i = (i &+ 1) & mask }
        keys[i] = fn
        slots[i] = index
    }

    private mutating func grow() {
        let oldKeys = keys, oldSlots = slots
        keys = Array(repeating: Self.empty, count: oldKeys.count * 2)
        slots = Array(repeating: 0, count: oldKeys.count * 2)
        shift -= 1
        for (k, s) in zip(oldKeys, oldSlots) where k != Self.empty { insertKey(k, s) }
    }

    /// Makes room for `more` frames beyond those present, so that creating them copies the store
    /// once (or not at all) instead of at every doubling.
    mutating func reserve(more: Int) {
        let wanted = (count + free.count + more) * Self.frameBytes
        if storage.capacity < wanted { storage.reserveCapacity(wanted) }
    }

    /// Forgets frame `fn` (it reads as zero again). Backward-shift deletion keeps probe chains whole.
    mutating func remove(_ fn: UInt64) {
        let mask = keys.count - 1
        var i = home(fn)
        while keys[i] != fn {
            if keys[i] == Self.empty { return }
            i = (i &+ 1) & mask
        }
        free.append(slots[i])
        count -= 1
        var hole = i
        var j = (i &+ 1) & mask
        while keys[j] != Self.empty {
            let h = home(keys[j])
            // Move keys[j] into the hole when its home is not in (hole, j] (cyclically).
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                keys[hole] = keys[j]
                slots[hole] = slots[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        keys[hole] = Self.empty
    }

    /// The frame numbers present.
    var frameNumbers: [UInt64] { keys.filter { $0 != Self.empty } }

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
