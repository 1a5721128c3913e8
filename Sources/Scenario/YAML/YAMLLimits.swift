// YAMLLimits: resource limits and strictness switches for the YAML loader.

/// Limits enforced while loading, so that hostile input fails fast instead of
/// exhausting memory or time.
public struct YAMLLimits: Sendable {
    /// Largest accepted input, in bytes (1 MiB).
    public static let defaultMaxFileBytes = 1 << 20
    /// Deepest accepted nesting of sequences and mappings.
    public static let defaultMaxDepth = 64
    /// Total number of nodes that aliases may re-use, summed over all alias uses in a document.
    public static let defaultMaxAliasExpansion = 100_000
    /// Bytes of scalar text that aliases may re-use, summed over all alias uses in a stream (4 MiB).
    public static let defaultMaxAliasBytes = 4 << 20
    /// Most documents accepted in one stream.
    public static let defaultMaxDocuments = 1_000
    /// Longest accepted scalar, in bytes (1 MiB).
    public static let defaultMaxScalarBytes = 1 << 20

    public var maxFileBytes: Int
    public var maxDepth: Int
    public var maxAliasExpansion: Int
    public var maxAliasBytes: Int
    public var maxDocuments: Int
    public var maxScalarBytes: Int
    /// When true, any tag other than the core-schema ones and the non-specific `!` is an error.
    public var rejectUnknownTags: Bool

    public init(
        maxFileBytes: Int = YAMLLimits.defaultMaxFileBytes,
        maxDepth: Int = YAMLLimits.defaultMaxDepth,
        maxAliasExpansion: Int = YAMLLimits.defaultMaxAliasExpansion,
        maxAliasBytes: Int = YAMLLimits.defaultMaxAliasBytes,
        maxDocuments: Int = YAMLLimits.defaultMaxDocuments,
        maxScalarBytes: Int = YAMLLimits.defaultMaxScalarBytes,
        rejectUnknownTags: Bool = true
    ) {
        self.maxFileBytes = maxFileBytes
        self.maxDepth = maxDepth
        self.maxAliasExpansion = maxAliasExpansion
        self.maxAliasBytes = maxAliasBytes
        self.maxDocuments = maxDocuments
        self.maxScalarBytes = maxScalarBytes
        self.rejectUnknownTags = rejectUnknownTags
    }
}
