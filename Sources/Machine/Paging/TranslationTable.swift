// TranslationTable: the TLB's store, an open-addressing hash table (linear probing, Fibonacci
// hashing) from (address space, page base, page size) to a cached translation.
//
// It replaces a `[Key: TLBEntry]` dictionary: a look-up hashes three words with one multiply
// instead of a SipHash round, and emptying the table (every CR3 write) keeps its storage.

struct TranslationTable: Sendable {
    /// One slot's key; `size == 0` marks an empty slot (page sizes are never 0).
    private struct Key: Equatable {
        var space: UInt64
        var base: UInt64
        var size: UInt64
        static let empty = Key(space: 0, base: 0, size: 0)
    }

    private static let initialSlots = 16

    private var keys = [Key](repeating: .empty, count: TranslationTable.initialSlots)
    private var values = [TLBEntry?](repeating: nil, count: TranslationTable.initialSlots)
    /// 64 - log2(slot count): the top bits of the product pick the home slot.
    private var shift: UInt64 = 64 - 4
    private(set) var count = 0

    init() {}

    @inline(__always)
    private func home(_ k: Key) -> Int {
        let mixed = k.base ^ (k.space &* 0x9E37_79B9_7F4A_7C15) ^ (k.size >> 12)
        return Int(truncatingIfNeeded: (mixed &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }

    /// The slot holding `k`, or nil.
    private func slot(of k: Key) -> Int? {
        let mask = keys.count - 1
        var i = home(k)
        while true {
            let here = keys[i]
            if here == k { return i }
            if here.size == 0 { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// How many translations of each page size are cached (4 KiB, 2 MiB, 4 MiB, 1 GiB): a look-up
    /// skips the sizes that have none.
    private var countBySize: (Int, Int, Int, Int) = (0, 0, 0, 0)

    @inline(__always)
    private func sizeCount(_ size: UInt64) -> Int {
        switch size {
        case 0x1000: countBySize.0
        case 0x20_0000: countBySize.1
        case 0x40_0000: countBySize.2
        default: countBySize.3
        }
    }

    private mutating func addToSizeCount(_ size: UInt64, _ delta: Int) {
        switch size {
        case 0x1000: countBySize.0 += delta
        case 0x20_0000: countBySize.1 += delta
        case 0x40_0000: countBySize.2 += delta
        default: countBySize.3 += delta
        }
    }

    /// The translation cached for the page `base` of `size` in address space `space`.
    func find(space: UInt64, base: UInt64, size: UInt64) -> TLBEntry? {
        if sizeCount(size) == 0 { return nil }
        return slot(of: Key(space: space, base: base, size: size)).flatMap { values[$0] }
    }

    /// Caches (or replaces) a translation.
    mutating func insert(space: UInt64, base: UInt64, size: UInt64, _ entry: TLBEntry) {
        let k = Key(space: space, base: base, size: size)
        if let i = slot(of: k) {
            values[i] = entry
            return
        }
        if (count + 1) * 4 > keys.count * 3 { grow() }
        place(k, entry)
        count += 1
        addToSizeCount(size, 1)
    }

    private mutating func place(_ k: Key, _ entry: TLBEntry?) {
        let mask = keys.count - 1
        var i = home(k)
        while keys[i].size != 0 { i = (i &+ 1) & mask }
        keys[i] = k
        values[i] = entry
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [Key](repeating: .empty, count: oldKeys.count * 2)
        values = [TLBEntry?](repeating: nil, count: oldKeys.count * 2)
        shift -= 1
        for (k, v) in zip(oldKeys, oldValues) where k.size != 0 { place(k, v) }
    }

    /// Drops the translation of one page in one address space, if cached.
    mutating func remove(space: UInt64, base: UInt64, size: UInt64) {
        if sizeCount(size) == 0 { return }
        guard let i = slot(of: Key(space: space, base: base, size: size)) else { return }
        removeSlot(i)
    }

    /// Drops the translations of one page in every address space.
    mutating func removeAllSpaces(base: UInt64, size: UInt64) {
        if count == 0 { return }
        let spaces = keys.filter { $0.size == size && $0.base == base }.map(\.space)
        for space in spaces { remove(space: space, base: base, size: size) }
    }

    /// Drops one translation (the first slot in use); false when the table is empty.
    mutating func removeAny() -> Bool {
        guard count > 0, let i = keys.firstIndex(where: { $0.size != 0 }) else { return false }
        removeSlot(i)
        return true
    }

    /// Backward-shift deletion: keeps every probe chain whole without tombstones.
    private mutating func removeSlot(_ i: Int) {
        let mask = keys.count - 1
        count -= 1
        addToSizeCount(keys[i].size, -1)
        var hole = i
        var j = (i &+ 1) & mask
        while keys[j].size != 0 {
            let h = home(keys[j])
            // Move keys[j] into the hole when its home is not in (hole, j] (cyclically).
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                keys[hole] = keys[j]
                values[hole] = values[j]
                hole = j
            }
            j = (j &+ 1) & mask
        }
        keys[hole] = .empty
        values[hole] = nil
    }

    /// Drops every translation. A small table is cleared in place; a large one goes back to the
    /// initial size, so that a flush after a burst of fills does not keep a large table to scan.
    mutating func removeAll() {
        if count == 0 { return }
        if keys.count > 64 {
            self = TranslationTable()
            return
        }
        for i in keys.indices where keys[i].size != 0 {
            keys[i] = .empty
            values[i] = nil
        }
        count = 0
        countBySize = (0, 0, 0, 0)
    }
}
