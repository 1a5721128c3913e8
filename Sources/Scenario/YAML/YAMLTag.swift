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

    /// Checks an explicit tag against the node kind and, on a scalar, its text; returns an error
    /// message, or nil when fine. Only called when `YAMLLimits.rejectUnknownTags` is set.
    static func problem(with tag: String, on kind: Kind, text: String? = nil) -> String? {
        if let problem = problem(with: tag, on: kind) { return problem }
        guard let text, let valid = validText(of: tag) else { return nil }
        return valid(text) ? nil : "'\(text.prefix(40))' is not a valid \(shortName(tag)) (\(spelling(of: tag)))"
    }

    /// An explicit tag says what the scalar is, so its text must be a value of that type (YAML 1.2.2
    /// §3.3.2: a node whose content is not in its tag's set of values is invalid): `!!bool 5` or `!!null x`
    /// is an error, not the number 5 or the text "x". The sets are YAML 1.1's type repository
    /// (yaml.org/type), which holds the core schema's: the booleans the decoder takes (yes/no/on/off
    /// too), integers with a base prefix and `_` (the leading-zero check is the decoder's), floats.
    /// `!!str` and `!` take any text.
    static func validText(of tag: String) -> ((String) -> Bool)? {
        switch tag {
        case null: return { ["", "~", "null", "Null", "NULL"].contains($0) }
        case bool: return { booleans.contains($0) }
        case int: return isInteger
        case float: return { isInteger($0) || isFloat($0) }
        case merge: return { $0 == "<<" }
        case binary: return isBase64
        case timestamp: return isTimestamp
        default: return nil
        }
    }

    /// What a tag's text may be, for the error message.
    static func spelling(of tag: String) -> String {
        switch tag {
        case null: return "~, null or nothing"
        case bool: return "true/false, yes/no, on/off or y/n"
        case int: return "decimal, 0x hex, 0b binary or 0o octal, `_` between digits"
        case float: return "a decimal number, with an optional fraction and exponent, or .inf, .nan"
        case merge: return "only the key <<"
        case binary: return "base64"
        case timestamp: return "YYYY-MM-DD, with an optional time"
        default: return ""
        }
    }

    static let booleans: Set<String> = [
        "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
        "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
    ]
    static let base64 = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\n\r".unicodeScalars)

    /// Base64 (RFC 4648, which yaml.org/type/binary names): its alphabet and `=`, white space ignored, in
    /// groups of four.
    static func isBase64(_ text: String) -> Bool {
        let significant = text.unicodeScalars.filter { !" \t\n\r".unicodeScalars.contains($0) }
        return !significant.isEmpty && significant.count % 4 == 0 && significant.allSatisfy { base64.contains($0) }
    }

    /// `[-+]?` then `0x`/`0o`/`0b` and digits of that base, or decimal digits; `_` between digits.
    static func isInteger(_ text: String) -> Bool {
        var t = Substring(text)
        if t.first == "-" || t.first == "+" { t = t.dropFirst() }
        var digits: (Character) -> Bool = { $0.isASCII && $0.isNumber }
        let prefix = t.prefix(2).lowercased()
        if prefix == "0x" { digits = { $0.isHexDigit }; t = t.dropFirst(2) }
        if prefix == "0o" { digits = { ("0"..."7").contains($0) }; t = t.dropFirst(2) }
        if prefix == "0b" { digits = { $0 == "0" || $0 == "1" }; t = t.dropFirst(2) }
        guard let f = t.first, let l = t.last, f != "_", l != "_" else { return false }
        return t.allSatisfy { digits($0) || $0 == "_" }
    }

    /// The core schema's floats (YAML 1.2.2 §10.3.2) with YAML 1.1's `_`: `1.5`, `-.5`, `1e3`, `2.`, `.inf`, `.nan`.
    static func isFloat(_ text: String) -> Bool {
        var t = Substring(text)
        if [".nan", ".NaN", ".NAN"].contains(t) { return true }
        if t.first == "-" || t.first == "+" { t = t.dropFirst() }
        if [".inf", ".Inf", ".INF"].contains(t) { return true }
        var mantissa = t, exponent: Substring?
        if let e = t.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = t[..<e]
            exponent = t[t.index(after: e)...]
        }
        let number: (Character) -> Bool = { ($0.isASCII && $0.isNumber) || $0 == "_" }
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.allSatisfy({ $0.allSatisfy(number) }), parts.contains(where: { $0.contains { $0 != "_" } }) else { return false }
        guard var e = exponent else { return true }
        if e.first == "-" || e.first == "+" { e = e.dropFirst() }
        return !e.isEmpty && e.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// yaml.org/type/timestamp: `YYYY-M-D`, optionally `T` or spaces and `H:MM:SS`, a fraction, a zone.
    static func isTimestamp(_ text: String) -> Bool {
        text.wholeMatch(of: #/[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(([Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]*)?([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?/#) != nil
    }

    /// Checks an explicit tag against the node kind; nil when it may be put on that kind.
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
