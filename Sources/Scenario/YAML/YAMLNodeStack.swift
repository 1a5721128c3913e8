// YAMLNodeStack: the scratch stack holding the children of all open collections while loading.

/// A growable stack of nodes from which a closing collection moves its children out
/// (no retain/release per child, one exactly sized allocation per collection).
struct YAMLNodeStack: ~Copyable {
    private var storage: UnsafeMutablePointer<YAMLNode>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 64) {
        self.capacity = max(capacity, 1)
        self.storage = .allocate(capacity: self.capacity)
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    mutating func push(_ node: consuming YAMLNode) {
        if count == capacity { grow() }
        (storage + count).initialize(to: node)
        count += 1
    }

    /// Pushes a plain scalar built in place (the loader's commonest node: no copy of it is made).
    @inline(__always)
    mutating func pushScalar(_ text: String, style: ScalarStyle, start: SourceMark, end: SourceMark) {
        if count == capacity { grow() }
        (storage + count).initialize(to: YAMLNode(plainScalar: text, style: style, start: start, end: end))
        count += 1
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<YAMLNode>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: storage, count: count)
        storage.deallocate()
        storage = bigger
        capacity *= 2
    }

    /// The end mark of the top node (the stack must not be empty).
    var lastEnd: SourceMark { storage[count - 1].end }

    /// Moves the nodes from `start` to the top out, as an array.
    mutating func popNodes(from start: Int) -> [YAMLNode] {
        let n = count - start
        guard n > 0 else { return [] }
        let source = storage + start
        count = start
        return [YAMLNode](unsafeUninitializedCapacity: n) { buffer, initialized in
            guard let base = buffer.baseAddress else { initialized = 0; return }
            base.moveInitialize(from: source, count: n)
            initialized = n
        }
    }

    /// Moves the nodes from `start` to the top out as key/value pairs (an odd last node,
    /// which libyaml never produces, is dropped).
    mutating func popPairs(from start: Int) -> [YAMLPair] {
        let n = (count - start) / 2
        let source = storage + start
        if (count - start) & 1 == 1 { (source + 2 * n).deinitialize(count: 1) }
        count = start
        guard n > 0 else { return [] }
        return [YAMLPair](unsafeUninitializedCapacity: n) { buffer, initialized in
            guard let target = buffer.baseAddress else { initialized = 0; return }
            for i in 0..<n {
                (target + i).initialize(
                    to: YAMLPair(key: (source + 2 * i).move(), value: (source + 2 * i + 1).move()))
            }
            initialized = n
        }
    }

    mutating func removeAll() {
        storage.deinitialize(count: count)
        count = 0
    }
}
