// YAMLPair: one key/value entry of a YAML mapping.

/// One entry of a mapping, in source order (merged entries keep their own marks).
public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}
