// TranslationTable: the TLB's store, an OpenAddressTable
// from (address space, page base, page size) to a cached translation.
//
// It replaces a `[Key: TLBEntry]` dictionary: a look-up hashes three words with one multiply
// instead of a SipHash round, and emptying the table (every CR3 write) keeps its storage.

struct TranslationTable: Sendable {
    /// One slot's key; `size == 0` marks an empty slot (page sizes are never 0).
    struct Key: OpenAddressKey {
        var space: UInt64
        var base: UInt64
        var size: UInt64
        static let vacant = Key(space: 0, base: 0, size: 0)
        var isVacant: Bool { size == 0 }
        var tableHash: UInt64 { base ^ (space &* 0x9E37_79B9_7F4A_7C15) ^ (size >> 12) }
    }

    private var table = OpenAddressTable<Key, TLBEntry>()

    var count: Int { table.count }

    /// How many translations of each page size are cached (4 KiB, 2 MiB, 4 MiB, 1 GiB): a look-up
    /// skips the sizes that have none.
    private var countBySize: (Int, Int, Int, Int) = (0, 0, 0, 0)

    init() {}

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
        return table[Key(space: space, base: base, size: size)]
    }

    /// Caches (or replaces) a translation.
    mutating func insert(space: UInt64, base: UInt64, size: UInt64, _ entry: TLBEntry) {
        let before = table.count
        table[Key(space: space, base: base, size: size)] = entry
        if table.count != before { addToSizeCount(size, 1) }
    }

    /// Drops the translation of one page in one address space, if cached.
    mutating func remove(space: UInt64, base: UInt64, size: UInt64) {
        if sizeCount(size) == 0 { return }
        remove(Key(space: space, base: base, size: size))
    }

    private mutating func remove(_ key: Key) {
        let before = table.count
        table[key] = nil
        if table.count != before { addToSizeCount(key.size, -1) }
    }

    /// Drops the translations of one page in every address space.
    mutating func removeAllSpaces(base: UInt64, size: UInt64) {
        if table.count == 0 { return }
        for key in table.keys(where: { $0.size == size && $0.base == base }) { remove(key) }
    }

    /// Drops one translation (the first slot in use); false when the table is empty.
    mutating func removeAny() -> Bool {
        guard let key = table.firstKey else { return false }
        remove(key)
        return true
    }

    /// Drops every translation. A small table is cleared in place; a large one goes back to the
    /// initial size, so that a flush after a burst of fills does not keep a large table to scan.
    mutating func removeAll() {
        if table.count == 0 { return }
        table.removeAll(keepingCapacity: table.capacity <= 64)
        countBySize = (0, 0, 0, 0)
    }
}
