// YAMLNode: one node of a loaded YAML document (scalar, sequence or mapping) with its source span.

/// A loaded node. Aliases are already resolved: an alias yields a copy of the anchored
/// node (cheap: arrays are copy-on-write) with `aliasMark` set to where the alias was written.
///
/// Storage is kept small because documents can hold hundreds of thousands of nodes: marks are
/// stored in 32 bits per field (values beyond `UInt32.max` are clamped), and the rarely set
/// `tag`, `anchor` and `aliasMark` live together in one shared box, nil for most nodes.
public struct YAMLNode: Sendable {
    public enum Content: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    /// Tag, anchor, alias mark and source file: set on few nodes, so stored out of line.
    private final class Extras: Sendable {
        let tag: String?
        let anchor: String?
        let aliasMark: SourceMark?
        let source: String?

        init(tag: String?, anchor: String?, aliasMark: SourceMark?, source: String? = nil) {
            self.tag = tag
            self.anchor = anchor
            self.aliasMark = aliasMark
            self.source = source
        }
    }

    /// A SourceMark in 12 bytes.
    private struct PackedMark: Sendable {
        var line: UInt32
        var column: UInt32
        var offset: UInt32

        @inline(__always)
        init(_ mark: SourceMark) {
            line = UInt32(clamping: mark.line)
            column = UInt32(clamping: mark.column)
            offset = UInt32(clamping: mark.offset)
        }

        var mark: SourceMark { SourceMark(line: Int(line), column: Int(column), offset: Int(offset)) }
    }

    public var content: Content
    private var packedStart: PackedMark
    private var packedEnd: PackedMark
    private var extras: Extras?

    public init(
        content: Content, tag: String? = nil, start: SourceMark, end: SourceMark,
        anchor: String? = nil, aliasMark: SourceMark? = nil
    ) {
        self.content = content
        self.packedStart = PackedMark(start)
        self.packedEnd = PackedMark(end)
        if tag != nil || anchor != nil || aliasMark != nil {
            extras = Extras(tag: tag, anchor: anchor, aliasMark: aliasMark)
        }
    }

    /// A scalar without tag, anchor or alias mark (the loader's common case).
    @inline(__always)
    init(plainScalar text: String, style: ScalarStyle, start: SourceMark, end: SourceMark) {
        self.content = .scalar(text, style)
        self.packedStart = PackedMark(start)
        self.packedEnd = PackedMark(end)
        self.extras = nil
    }

    private mutating func setExtras(tag: String?, anchor: String?, aliasMark: SourceMark?, source: String?? = nil) {
        let source = source ?? self.source
        if tag == nil && anchor == nil && aliasMark == nil && source == nil {
            extras = nil
        } else {
            extras = Extras(tag: tag, anchor: anchor, aliasMark: aliasMark, source: source)
        }
    }

    /// The file the node was read from when it is not the document's own: set on the nodes an
    /// `extends` brings in (`withSource`), so that a diagnostic names the fragment, not the
    /// scenario file, at the fragment's line and column.
    public var source: String? {
        get { extras?.source }
        set { setExtras(tag: tag, anchor: anchor, aliasMark: aliasMark, source: .some(newValue)) }
    }

    /// This node and every node under it, marked as read from `file`.
    public func withSource(_ file: String) -> YAMLNode {
        var n = self
        switch content {
        case .scalar: break
        case let .sequence(items): n.content = .sequence(items.map { $0.withSource(file) })
        case let .mapping(pairs): n.content = .mapping(pairs.map { YAMLPair(key: $0.key.withSource(file), value: $0.value.withSource(file)) })
        }
        n.source = file
        return n
    }

    /// The resolved full tag when one was written (e.g. "tag:yaml.org,2002:str", or "!" for
    /// the non-specific tag); nil when the node carries no tag.
    public var tag: String? {
        get { extras?.tag }
        set { setExtras(tag: newValue, anchor: anchor, aliasMark: aliasMark) }
    }

    /// Where the node starts (its anchor or tag when written before it).
    public var start: SourceMark {
        get { packedStart.mark }
        set { packedStart = PackedMark(newValue) }
    }

    /// Where the node ends; its bytes are `start.offset ..< end.offset`.
    public var end: SourceMark {
        get { packedEnd.mark }
        set { packedEnd = PackedMark(newValue) }
    }

    /// The anchor (`&a`) defined on this node, if any.
    public var anchor: String? {
        get { extras?.anchor }
        set { setExtras(tag: tag, anchor: newValue, aliasMark: aliasMark) }
    }

    /// When this node was produced by an alias (`*a`), where that alias was written.
    public var aliasMark: SourceMark? {
        get { extras?.aliasMark }
        set { setExtras(tag: tag, anchor: anchor, aliasMark: newValue) }
    }

    /// True when the node has a tag, an anchor or an alias mark (a cheap test).
    var hasExtras: Bool { extras != nil }

    /// The scalar text, or nil for a collection.
    public var scalar: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }

    /// The scalar style, or nil for a collection.
    public var scalarStyle: ScalarStyle? {
        if case .scalar(_, let style) = content { return style }
        return nil
    }

    /// True for a null: a plain `""`, `~`, `null`, `Null` or `NULL` without a tag, or any of
    /// those texts (in any style) tagged `!!null`.
    public var isNullScalar: Bool {
        guard case .scalar(let text, let style) = content else { return false }
        switch tag {
        case nil: guard style == .plain else { return false }
        case YAMLTag.null?: break
        default: return false
        }
        switch text {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    /// The items, or nil when this is not a sequence.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The pairs (merge keys already resolved), or nil when this is not a mapping.
    public var mapping: [YAMLPair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// The value of the first pair whose key is a scalar with text `key`; nil when none
    /// or when this is not a mapping.
    public func value(forKey key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = content else { return nil }
        for pair in pairs {
            if case .scalar(let text, _) = pair.key.content, text == key { return pair.value }
        }
        return nil
    }
}
