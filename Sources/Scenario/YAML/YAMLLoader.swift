// YAMLLoader: the public entry points that load a YAML stream into documents.

/// Loads YAML streams (several documents allowed) into node trees, over libyaml's event API.
/// See `YAMLLimits` for the resource limits enforced and `YAMLMappingResolver` for merge keys
/// and duplicate keys.
public enum YAMLLoader {
    public static func load(
        _ bytes: UnsafeRawBufferPointer, limits: YAMLLimits = YAMLLimits()
    ) throws(YAMLError) -> [YAMLDocument] {
        if bytes.count > limits.maxFileBytes {
            throw YAMLError(
                message: "input of \(bytes.count) bytes exceeds the limit of \(limits.maxFileBytes) bytes (--max-file-bytes)",
                mark: .start)
        }
        if let error = UTF8Check.firstError(bytes) { throw error }
        var builder = YAMLTreeBuilder(input: bytes, limits: limits)
        return try builder.run()
    }

    public static func load(
        _ bytes: [UInt8], limits: YAMLLimits = YAMLLimits()
    ) throws(YAMLError) -> [YAMLDocument] {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(YAMLError) in try load(raw, limits: limits) }
        }
        return try result.get()
    }

    public static func load(
        _ string: String, limits: YAMLLimits = YAMLLimits()
    ) throws(YAMLError) -> [YAMLDocument] {
        var string = string
        let result = string.withUTF8 { utf8 in
            Result { () throws(YAMLError) in try load(UnsafeRawBufferPointer(utf8), limits: limits) }
        }
        return try result.get()
    }
}
