// YAMLTag: the tags the loader knows (YAML core schema plus a few YAML 1.1 types) and their checks.

/// Tag names and the policy that decides which explicit tags are accepted.
public enum YAMLTag {
    public static let prefix = "tag:yaml.org,2002:"
    public static let str = "tag:yaml.org,2002:str"
    public static let int = "tag:yaml.org,2002:int"
    public static let bool = "tag:yaml.org,2002:bool"
    public static let null = "tag:yaml.org,2002:null"
    public static let float = "tag:yaml.org,2002:float"
    public static let map = "tag:yaml.org,2002:map"
    public static let seq = "tag:yaml.org,2002:seq"
    public static let merge = "tag:yaml.org,2002:merge"
    public static let binary = "tag:yaml.org,2002:binary"
    public static let timestamp = "tag:yaml.org,2002:timestamp"
    /// The non-specific tag `!` (forces a plain scalar to be a string).
    public static let nonSpecific = "!"

    /// The kind of node a tag may be put on.
    enum Kind { case scalar, sequence, mapping }

    /// Checks an explicit tag against the node kind; returns an error message, or nil when fine.
    /// Only called when `YAMLLimits.rejectUnknownTags` is set.
    static func problem(with tag: String, on kind: Kind) -> String? {
        let expected: Kind
        switch tag {
        case nonSpecific: return nil
        case str, int, bool, null, float, merge, binary, timestamp: expected = .scalar
        case map: expected = .mapping
        case seq: expected = .sequence
        default: return "unsupported tag \(shortName(tag))"
        }
        if expected == kind { return nil }
        let name: String
        switch kind {
        case .scalar: name = "a scalar"
        case .sequence: name = "a sequence"
        case .mapping: name = "a mapping"
        }
        return "tag \(shortName(tag)) cannot be applied to \(name)"
    }

    /// "!!str" for "tag:yaml.org,2002:str"; other tags unchanged.
    static func shortName(_ tag: String) -> String {
        tag.hasPrefix(prefix) ? "!!" + tag.dropFirst(prefix.count) : tag
    }
}
