// AddressMap: a map from physical addresses to values, as an open-addressing hash table (linear
// probing, Fibonacci hashing, backward-shift deletion), for the page-table bookkeeping looked up
// at every level of every mapping. A `[UInt64: Value]` dictionary hashes each key with SipHash;
// this hashes it with one multiply.

struct AddressMap<Value: Sendable>: Sendable {
    /// Marks an empty slot: no physical address reaches it (MAXPHYADDR is 40 bits).
    private static var empty: UInt64 { .max }
    private static var initialSlots: Int { 16 }

    private var keys = [UInt64](repeating: AddressMap.empty, count: AddressMap.initialSlots)
    private var values = [Value?](repeating: nil, count: AddressMap.initialSlots)
    /// 64 - log2(slot count): the top bits of the product pick the home slot.
    private var shift: UInt64 = 64 - 4
    private(set) var count = 0

    init() {}

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    private func slot(of key: UInt64) -> Int? {
        let mask = keys.count - 1
        var i = home(key)
        while true {
            let k = keys[i]
            if k == key { return i }
            if k == Self.empty { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// The value at `key`; assigning nil removes it.
    subscript(key: UInt64) -> Value? {
        get { count == 0 ? nil : slot(of: key).flatMap { values[$0] } }
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

    /// Every key and value, in no particular order.
    var entries: [(key: UInt64, value: Value)] {
        var out: [(key: UInt64, value: Value)] = []
        out.reserveCapacity(count)
        for i in keys.indices where keys[i] != Self.empty {
            if let v = values[i] { out.append((keys[i], v)) }
        }
        return out
    }

    private mutating func place(_ key: UInt64, _ value: Value?) {
        let mask = keys.count - 1
        var i = home(key)
        while keys[i] != Self.empty { i = (i &+ 1) & mask }
        keys[i] = key
        values[i] = value
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = [UInt64](repeating: Self.empty, count: oldKeys.count * 2)
        values = [Value?](repeating: nil, count: oldKeys.count * 2)
        shift -= 1
        for (k, v) in zip(oldKeys, oldValues) where k != Self.empty { place(k, v) }
    }

    private mutating func removeSlot(_ i: Int) {
        let mask = keys.count - 1
        count -= 1
        var hole = i
        var j = (i &+ 1) & mask
        while keys[j] != Self.empty {
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
        keys[hole] = Self.empty
        values[hole] = nil
    }
}
