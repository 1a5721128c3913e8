// OpenAddressTable: the one hash table behind the machine's hot look-ups (physical frames, page-table
// bookkeeping, the TLB): open addressing with linear probing, Fibonacci hashing (one multiply per
// look-up instead of a SipHash round) and backward-shift deletion (no tombstones).

/// A key of an `OpenAddressTable`: one reserved value marks an empty slot.
protocol OpenAddressKey: Equatable, Sendable {
    /// The value that marks an empty slot; never stored as a key.
    static var vacant: Self { get }
    /// Whether this is `vacant` (a key may test it more cheaply than `==`).
    var isVacant: Bool { get }
    /// The key folded into one word, before the table's multiply.
    var tableHash: UInt64 { get }
}

/// A physical address or frame number: all ones is beyond MAXPHYADDR, so it marks empty slots.
extension UInt64: OpenAddressKey {
    static var vacant: UInt64 { .max }
    var isVacant: Bool { self == .max }
    var tableHash: UInt64 { self }
}

/// A map from `Key` to `Value`, kept at most 3/4 full, with a power-of-two slot count.
struct OpenAddressTable<Key: OpenAddressKey, Value: Sendable>: Sendable {
    private var keys: [Key]
    private var values: [Value?]
    /// 64 - log2(slot count): the top bits of the product pick the home slot.
    private var shift: UInt64
    private(set) var count = 0
    private let initialSlotsLog2: UInt64

    /// An empty table of 2^`initialSlotsLog2` slots.
    init(initialSlotsLog2: UInt64 = 4) {
        self.initialSlotsLog2 = initialSlotsLog2
        keys = [Key](repeating: .vacant, count: 1 << Int(initialSlotsLog2))
        values = [Value?](repeating: nil, count: 1 << Int(initialSlotsLog2))
        shift = 64 - initialSlotsLog2
    }

    /// The number of slots.
    var capacity: Int { keys.count }

    @inline(__always)
    private func home(_ key: Key) -> Int { Int(truncatingIfNeeded: (key.tableHash &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    @inline(__always)
    private func slot(of key: Key) -> Int? {
        let mask = keys.count - 1
        var i = home(key)
        while true {
            let k = keys[i]
            if k == key { return i }
            if k.isVacant { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// The value at `key`; assigning nil removes it.
    subscript(key: Key) -> Value? {
        @inline(__always) get { count == 0 ? nil : slot(of: key).flatMap { values[$0] } }
        set {
            if let i = slot(of: key) {
                if let newValue { values[i] = newValue } else { removeSlot(i) }
                return
            }
            guard let newValue else { return }
            if (count + 1) * 4 > keys.count * 3 { grow() }
            place(key, newValue)
            count += 1
        }
    }

    /// Every key and value, in slot order.
    var entries: [(key: Key, value: Value)] {
        var out: [(key: Key, value: Value)] = []
        out.reserveCapacity(count)
        for i in keys.indices where !keys[i].isVacant {
            if let v = values[i] { out.append((keys[i], v)) }
        }
        return out
    }

    /// The keys present that satisfy `predicate`, in slot order.
    func keys(where predicate: (Key) -> Bool) -> [Key] {
        keys.filter { !$0.isVacant && predicate($0) }
    }

    /// The first key present in slot order, or nil when the table is empty.
    var firstKey: Key? { count == 0 ? nil : keys.first { !$0.isVacant } }

    /// Empties the table; with `keepingCapacity` false it goes back to its initial size.
    mutating func removeAll(keepingCapacity: Bool) {
        guard keepingCapacity else {
            self = OpenAddressTable(initialSlotsLog2: initialSlotsLog2)
            return
        }
        if count == 0 { return }
        for i in keys.indices where !keys[i].isVacant {
            keys[i] = .vacant
            values[i] = nil
        }
        count = 0
    }

    private mutating func place(_ key: Key, _ value: Value?) {
        let mask = keys.count - 1
        var i = home(key)
        while !keys[i].isVacant { i = (i &+ 1) & mask }
        keys[i] = key
        values[i] = value
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [Key](repeating: .vacant, count: oldKeys.count * 2)
        values = [Value?](repeating: nil, count: oldKeys.count * 2)
        shift -= 1
        for (k, v) in zip(oldKeys, oldValues) where !k.isVacant { place(k, v) }
    }

    /// Backward-shift deletion: keeps every probe chain whole without tombstones.
    private mutating func removeSlot(_ i: Int) {
        let mask = keys.count - 1
        count -= 1
        var hole = i
        var j = (i &+ 1) & mask
        while !keys[j].isVacant {
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
        keys[hole] = .vacant
        values[hole] = nil
    }
}
