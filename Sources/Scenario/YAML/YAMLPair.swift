// YAMLPair: one key/value entry of a YAML mapping.

/// One entry of a mapping, in source order (merged entries keep their own marks).
public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode
    /// True for a pair a `<<` merge key brought in (from an anchored mapping), false for one written
    /// in this mapping. The decoders of maps whose keys have several spellings (`gdt`/`ldt` indices,
    /// `idt` vectors, `msrs`) let a written key override a merged one that names the same thing.
    public var merged = false

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}
