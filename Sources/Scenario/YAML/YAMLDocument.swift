// YAMLDocument: one document of a YAML stream.

/// One document of a stream. `root` is nil for an empty document (e.g. a lone `---`).
public struct YAMLDocument: Sendable {
    public var root: YAMLNode?
    /// Where the document starts (its `---`, or its first content when implicit).
    public var start: SourceMark

    public init(root: YAMLNode?, start: SourceMark) {
        self.root = root
        self.start = start
    }
}
