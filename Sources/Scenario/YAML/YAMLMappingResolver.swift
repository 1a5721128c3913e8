// YAMLMappingResolver: finishes a mapping: resolves `<<` merge keys and rejects duplicate keys.

/// Merge keys (YAML 1.1 merge type): a plain `<<` key (or one tagged `!!merge`) whose value is
/// a mapping, or a sequence of mappings, merges their pairs in. Explicit keys win over merged
/// ones; within `<<: [*a, *b]` earlier mappings win over later ones. The merged pairs keep their
/// own marks and take the place of the (first) `<<` entry. Merged pairs whose key is not a
/// scalar are always kept.
///
/// Duplicate keys: two explicit scalar keys with the same text (whatever their style or tag)
/// are an error at the second, with a note at the first. A second `<<` entry counts as a
/// duplicate too. Keys that are collections are not compared.
enum YAMLMappingResolver {
    /// Above this many keys, duplicates are found with a dictionary instead of a linear scan.
    private static let linearScanLimit = 12

    /// Resolves merge keys and checks duplicates. `mayMerge` is false when the builder saw
    /// no key for which `mayBeMergeKey` holds, which skips the merge pass.
    static func resolve(_ pairs: [YAMLPair], mayMerge: Bool = true) throws(YAMLError) -> [YAMLPair] {
        try checkDuplicates(pairs)
        guard mayMerge else { return pairs }
        for pair in pairs where isMergeKey(pair.key) {
            return try merge(pairs)
        }
        return pairs
    }

    /// A cheap pre-check: false for every node that cannot be a merge key.
    static func mayBeMergeKey(_ key: YAMLNode) -> Bool {
        guard case .scalar(let text, _) = key.content else { return false }
        return key.tag != nil || text.utf8.count == 2
    }

    private static func isMergeKey(_ key: YAMLNode) -> Bool {
        guard case .scalar(let text, let style) = key.content else { return false }
        if key.tag == YAMLTag.merge { return true }
        return style == .plain && key.tag == nil && text == "<<"
    }

    private static func duplicateError(_ key: String, second: YAMLNode, first: YAMLNode) -> YAMLError {
        YAMLError(
            message: "duplicate key \"\(key)\"", mark: second.start,
            notes: ["first defined at \(first.start)"])
    }

    private static func checkDuplicates(_ pairs: [YAMLPair]) throws(YAMLError) {
        if pairs.count <= linearScanLimit {
            for i in pairs.indices {
                guard case .scalar(let text, _) = pairs[i].key.content else { continue }
                for j in 0..<i {
                    if case .scalar(let other, _) = pairs[j].key.content, other.utf8.count == text.utf8.count,
                        other == text
                    {
                        throw duplicateError(text, second: pairs[i].key, first: pairs[j].key)
                    }
                }
            }
            return
        }
        var seen: [String: Int] = [:]
        seen.reserveCapacity(pairs.count)
        for i in pairs.indices {
            guard case .scalar(let text, _) = pairs[i].key.content else { continue }
            if let j = seen.updateValue(i, forKey: text) {
                throw duplicateError(text, second: pairs[i].key, first: pairs[j].key)
            }
        }
    }

    private static func merge(_ pairs: [YAMLPair]) throws(YAMLError) -> [YAMLPair] {
        var taken = Set<String>()
        var sources: [(pairs: [YAMLPair], alias: SourceMark?)] = []
        var mergeIndex = -1
        for (index, pair) in pairs.enumerated() {
            if isMergeKey(pair.key) {
                if mergeIndex < 0 { mergeIndex = index }
                try collectSources(of: pair.value, into: &sources)
            } else if case .scalar(let text, _) = pair.key.content {
                taken.insert(text)
            }
        }
        var merged: [YAMLPair] = []
        for source in sources {
            for pair in source.pairs {
                if case .scalar(let text, _) = pair.key.content {
                    guard taken.insert(text).inserted else { continue }
                }
                var pair = pair
                pair.merged = true
                // A pair merged from an alias (`<<: *base`) is reported with a note at that alias, as a
                // value an alias brings is: the anchored map may be merged into several places.
                if let alias = source.alias {
                    if pair.key.aliasMark == nil { pair.key.aliasMark = alias }
                    if pair.value.aliasMark == nil { pair.value.aliasMark = alias }
                }
                merged.append(pair)
            }
        }
        var result: [YAMLPair] = []
        result.reserveCapacity(pairs.count + merged.count)
        for (index, pair) in pairs.enumerated() {
            if index == mergeIndex {
                result.append(contentsOf: merged)
            } else if !isMergeKey(pair.key) {
                result.append(pair)
            }
        }
        return result
    }

    private static func collectSources(
        of value: YAMLNode, into sources: inout [(pairs: [YAMLPair], alias: SourceMark?)]
    ) throws(YAMLError) {
        switch value.content {
        case .mapping(let pairs):
            sources.append((pairs, value.aliasMark))
        case .sequence(let items):
            for item in items {
                guard case .mapping(let pairs) = item.content else {
                    throw YAMLError(
                        message: "merge key \"<<\" needs a mapping or a sequence of mappings; this item is not a mapping",
                        mark: item.aliasMark ?? item.start)
                }
                sources.append((pairs, item.aliasMark))
            }
        case .scalar:
            throw YAMLError(
                message: "merge key \"<<\" needs a mapping or a sequence of mappings",
                mark: value.aliasMark ?? value.start)
        }
    }
}
