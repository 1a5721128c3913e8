// DecodeContext: reading typed values out of YAML nodes, collecting every problem as a located
// diagnostic (FILE:LINE:COLUMN) with "did you mean" hints, instead of stopping at the first.

import Machine

/// Collects diagnostics while a scenario document is decoded.
struct DecodeContext {
    let file: String
    var diagnostics: [Diagnostic] = []
    /// Where each page mapping was written, indexed by `PageMapping.origin`.
    var origins: [SourceLocation] = []
    /// Page-table entries the scenario asks for so far (machine.pages, processes' pages, populated
    /// memory areas, set.pages steps), against `maxMappedPages`.
    var mappedPages: UInt64 = 0
    var maxMappedPages: UInt64 = LoadOptions.defaultMaxMappedPages
    /// Whether the budget was already reported (one error per scenario is enough).
    var mappedPagesReported = false
    /// The tasks a scenario can name (its processes, `idle`, forked children), once known; nil: not checked.
    var taskNames: [String]?
    /// The processor's vendor (`machine.vendor`), once decoded: which bits of IA32_EFER exist.
    var vendor: CPUVendor = .intel
    /// The entry a `syscall` step without `via` uses: the tasks' natural one (int80 for 32-bit tasks, syscall
    /// for 64-bit ones); nil when the scenario's tasks mix both, so that `via` must be given.
    var defaultSyscallEntry: SyscallEntryKind?

    init(file: String) { self.file = file }

    init(file: String, maxMappedPages: UInt64) {
        self.file = file
        self.maxMappedPages = maxMappedPages
    }

    /// Adds `count` pages to the scenario's total; an error at `node` when it passes the budget.
    mutating func chargePages(_ count: UInt64, _ node: YAMLNode, _ what: @autoclosure () -> String) {
        mappedPages = mappedPages &+ count
        guard mappedPages > maxMappedPages, !mappedPagesReported else { return }
        mappedPagesReported = true
        error(node, "\(what()): the scenario maps \(mappedPages) pages in all, more than the budget of \(maxMappedPages) (--max-pages)")
    }

    func location(_ node: YAMLNode) -> SourceLocation {
        SourceLocation(file: node.source ?? file, line: node.start.line, column: node.start.column)
    }

    mutating func error(_ node: YAMLNode, _ message: String, notes: [String] = []) {
        var notes = notes
        if let alias = node.aliasMark { notes.append("value comes from the alias at \(node.source ?? file):\(alias.line):\(alias.column)") }
        // A predict handout's blank checked or run before it is filled in (`check` on a student's copy).
        if YAMLTree.isBlank(node), message.hasPrefix("expect.") || message.contains(".expect.") {
            notes.append("`~` (or TODO) here is a blank of a predict handout: write your answer in its place; `check` and `run` need every blank filled in (`ringspec grade` scores them)")
        }
        diagnostics.append(Diagnostic(.error, message, at: location(node), notes: notes))
    }

    mutating func warning(_ node: YAMLNode, _ message: String) {
        diagnostics.append(Diagnostic(.warning, message, at: location(node)))
    }

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// A task name written in a step or check: an error with a hint when no task can have it. Forked
    /// children are `PARENT-child`, `PARENT-child2`, ... of any known task, or the name a fork step gives.
    mutating func checkTaskName(_ node: YAMLNode, _ name: String) {
        guard let known = taskNames else { return }
        var n = Substring(name)
        while !known.containsText(String(n)) {
            while let l = n.last, l.isASCII, l.isNumber { n = n.dropLast() }
            guard n.hasSuffix("-child") else {
                let candidates = known + known.map { $0 + "-child" }
                error(node, "no task is named '\(name)'", notes: hint(name, candidates).map { [$0] } ?? ["tasks: \(known.joined(separator: ", ")) (and their forked children, NAME-child, NAME-child2, ...)"])
                return
            }
            n = n.dropLast(6)
        }
    }

    // MARK: Shapes

    /// A mapping's pairs by key; reports keys not in `allowed` (with a hint) and non-scalar keys.
    /// With `extensionKeys`, keys starting with `x-` are skipped (places to define anchors).
    mutating func mapping(_ node: YAMLNode, _ what: @autoclosure () -> String, allowed: [String],
                          extensionKeys: Bool = false) -> FieldMap? {
        guard let pairs = node.mapping else {
            error(node, "\(what()) must be a mapping, not \(describe(node))")
            return nil
        }
        var out = FieldMap()
        out.entries.reserveCapacity(pairs.count)
        for p in pairs {
            guard let k = p.key.scalar else {
                error(p.key, "keys of \(what()) must be plain names")
                continue
            }
            if extensionKeys && k.utf8.starts(with: "x-".utf8) { continue }
            if !allowed.containsText(k) {
                error(p.key, "unknown key '\(k)' in \(what())", notes: hint(k, allowed).map { [$0] } ?? ["valid keys: \(allowed.joined(separator: ", "))"])
                continue
            }
            // The loader has refused duplicate keys, so each key is new here.
            out.entries.append(FieldMap.Entry(key: k, value: p.value))
        }
        return out
    }

    mutating func sequence(_ node: YAMLNode, _ what: @autoclosure () -> String) -> [YAMLNode]? {
        guard let items = node.sequence else {
            error(node, "\(what()) must be a list, not \(describe(node))")
            return nil
        }
        return items
    }

    func describe(_ node: YAMLNode) -> String {
        switch node.content {
        case let .scalar(s, _): node.isNullScalar ? "null" : "'\(s.prefix(40))'"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    // MARK: Scalars

    mutating func string(_ node: YAMLNode, _ what: @autoclosure () -> String) -> String? {
        guard let s = node.scalar, !(node.isNullScalar && node.scalarStyle == .plain) else {
            error(node, "\(what()) must be a string, not \(describe(node))")
            return nil
        }
        return s
    }

    mutating func bool(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Bool? {
        // Quoted (`"true"`) it is the same flag.
        if let s = node.scalar, !node.isNullScalar {
            switch s {
            // YAML 1.1's booleans (its type repository: y|Y|yes|Yes|YES|n|N|no|No|NO|true|...|on|On|ON|off|Off|OFF).
            case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y": return true
            case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N": return false
            // Bits and flags are often written as 1 and 0 (`error_code: {p: 1, w: 0}`, `present: 0`).
            case "1": return true
            case "0": return false
            default: break
            }
        }
        error(node, "\(what()) must be true or false (or 1 or 0), not \(describe(node))")
        return nil
    }

    /// An unsigned integer in decimal, 0x, 0b, 0o, with `_` separators; must fit `max`. Quoted
    /// (`"0x1000"`) it is the same number: YAML quotes change nothing a number could mean here.
    mutating func uint(_ node: YAMLNode, _ what: @autoclosure () -> String, max: UInt64 = .max) -> UInt64? {
        guard let s = node.scalar, !node.isNullScalar else {
            error(node, "\(what()) must be a number, not \(describe(node))")
            return nil
        }
        switch parseInteger(s) {
        case let .value(v, negative):
            if negative && v != 0 {
                error(node, "\(what()) must not be negative (\(s))")
                return nil
            }
            if v > max {
                // A bound like 0xffff reads best in hex; a count like 262144, and a small bound like a CPL's 3
                // or an exception vector's 31, in decimal.
                let bound = max > 0xff && max & (max &+ 1) == 0 ? "0x\(String(max, radix: 16))" : "\(max)"
                error(node, "\(what()) \(s) is out of range (at most \(bound))")
                return nil
            }
            return v
        case .overflow:
            error(node, "\(what()) \(s) does not fit in 64 bits")
            return nil
        case .leadingZero:
            leadingZeroError(node, s, what())
            return nil
        case .invalid:
            error(node, "\(what()) must be a number (decimal, 0x hex, 0b binary or 0o octal), not '\(s.prefix(40))'")
            return nil
        }
    }

    mutating func int(_ node: YAMLNode, _ what: @autoclosure () -> String, min: Int64 = .min, max: Int64 = .max) -> Int64? {
        guard let s = node.scalar, !node.isNullScalar else {
            error(node, "\(what()) must be a number, not \(describe(node))")
            return nil
        }
        switch parseInteger(s) {
        case let .value(v, negative):
            if negative {
                guard v <= UInt64(Int64.max) + 1 else { error(node, "\(what()) \(s) does not fit in 64 bits"); return nil }
                let r = v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
                guard r >= min else { error(node, "\(what()) \(s) is out of range (at least \(min))"); return nil }
                return r
            }
            guard v <= UInt64(Int64.max), Int64(v) <= max else { error(node, "\(what()) \(s) is out of range (at most \(max))"); return nil }
            guard Int64(v) >= min else { error(node, "\(what()) \(s) is out of range (at least \(min))"); return nil }
            return Int64(v)
        case .overflow:
            error(node, "\(what()) \(s) does not fit in 64 bits")
            return nil
        case .leadingZero:
            leadingZeroError(node, s, what())
            return nil
        case .invalid:
            error(node, "\(what()) must be a number, not '\(s.prefix(40))'")
            return nil
        }
    }

    /// The error for a leading-zero decimal (`010`, IntegerLiteral.leadingZero), with the two spellings
    /// that say which number is meant.
    mutating func leadingZeroError(_ node: YAMLNode, _ s: String, _ what: String) {
        let sign = s.hasPrefix("-") ? "-" : ""
        let digits = s.drop { $0 == "-" || $0 == "+" }
        let trimmed = digits.drop { $0 == "0" || $0 == "_" }
        let decimal = sign + (trimmed.isEmpty ? "0" : String(trimmed))
        let octal = digits.allSatisfy { ("0"..."7").contains($0) || $0 == "_" }
        let fix = octal ? "write \(sign)0o\(trimmed.isEmpty ? "0" : String(trimmed)) for octal or \(decimal) for decimal" : "write \(decimal)"
        error(node, "\(what) \(s.prefix(40)) has a leading zero: YAML 1.1 reads such a number as octal, YAML 1.2 as decimal",
              notes: [fix])
    }

    /// A name from a fixed set, with a hint when misspelt.
    mutating func choice<T>(_ node: YAMLNode, _ what: @autoclosure () -> String, _ options: [(String, T)]) -> T? {
        guard let s = node.scalar else {
            error(node, "\(what()) must be one of \(options.map(\.0).joined(separator: ", "))")
            return nil
        }
        if let hit = options.first(where: { $0.0 == s }) { return hit.1 }
        // A numeric option (`bits: 64`, `default_size: 32`, `size: 4`) may be written in any base,
        // quoted or not, as every number of the format may (`bits: 0x40`).
        if case let .value(n, negative) = parseInteger(s),
           let hit = options.first(where: { parseInteger($0.0) == .value(n, negative: negative) }) {
            return hit.1
        }
        if parseInteger(s) == .leadingZero, options.contains(where: { parseInteger($0.0) != .invalid }) {
            leadingZeroError(node, s, what())
            return nil
        }
        let names = options.map(\.0)
        // A number is not misspelt: `size: 3` is near `1` only in spelling. List the options.
        let numeric: Bool = if case .invalid = parseInteger(s) { false } else { true }
        let note = numeric ? nil : hint(s, names)
        error(node, "unknown \(what()) '\(s)'", notes: [note ?? "expected one of: \(names.joined(separator: ", "))"])
        return nil
    }

    /// A case of a string-valued enum by its raw value (the option list is built only for an error).
    mutating func choice<T: RawRepresentable & CaseIterable>(_ node: YAMLNode, _ what: @autoclosure () -> String, of type: T.Type) -> T?
    where T.RawValue == String {
        if let s = node.scalar, let v = T(rawValue: s) { return v }
        return choice(node, what(), T.allCases.map { ($0.rawValue, $0) })
    }

    /// One of a list of names.
    mutating func choice(_ node: YAMLNode, _ what: @autoclosure () -> String, names: [String]) -> String? {
        if let s = node.scalar, names.contains(s) { return s }
        return choice(node, what(), names.map { ($0, $0) })
    }
}

/// String equality that first compares UTF-8 lengths: most keys compared against a list differ in
/// length, and that test is a few instructions where `==` on two different strings takes a call
/// into the runtime.
@inline(__always)
func sameText(_ a: String, _ b: String) -> Bool {
    a.utf8.count == b.utf8.count && a == b
}

extension Array where Element == String {
    /// `contains(_:)` through `sameText`.
    @inline(__always)
    func containsText(_ s: String) -> Bool {
        for e in self where sameText(e, s) { return true }
        return false
    }
}

/// The checked pairs of a mapping, looked up by key. Mappings in a scenario have a handful of keys
/// (and the loader has already refused duplicates), so a linear scan beats hashing every key.
struct FieldMap {
    /// One checked pair. A struct, not a tuple: copies of a `(String, YAMLNode)` tuple went through the
    /// runtime's generic tuple witnesses, a struct's are specialised.
    struct Entry {
        var key: String
        var value: YAMLNode
    }

    var entries: [Entry] = []

    /// The value under `key`; setting replaces it (or appends a new pair), setting nil removes it.
    subscript(key: String) -> YAMLNode? {
        get {
            for e in entries where sameText(e.key, key) { return e.value }
            return nil
        }
        set {
            let i = entries.firstIndex { sameText($0.key, key) }
            switch (i, newValue) {
            case let (i?, v?): entries[i].value = v
            case let (i?, nil): entries.remove(at: i)
            case let (nil, v?): entries.append(Entry(key: key, value: v))
            case (nil, nil): break
            }
        }
    }

    var keys: [String] { entries.map(\.key) }
}

/// The result of parsing an integer literal.
enum IntegerLiteral: Equatable {
    case value(UInt64, negative: Bool)
    case overflow
    /// A decimal spelling with a leading zero (`010`, `-007`, `0_1`): YAML 1.1 reads `010` as octal 8
    /// (yaml.org/type/int: `[-+]?0[0-7_]+`), YAML 1.2's core schema as decimal 10 (YAML 1.2.2
    /// §10.3.2: `[-+]?[0-9]+`), and the CI's schema check reads it with PyYAML (1.1). A scenario file
    /// would mean one number to one reader and another to the next, so the format refuses it
    /// (`0o10` or `10` say which). `0` alone, and leading zeros after a base prefix (`0x0010`), are fine.
    case leadingZero
    case invalid
}

/// Parses `123`, `-14`, `0x1f`, `0b101`, `0o17`, `1_000`. A leading-zero decimal (`017`) is
/// `.leadingZero` (refused in a scenario: write `0o17` or `17`) unless `leadingZeroIsDecimal`, as
/// in an `exec` operand, where the assembler's reading (NASM: decimal) applies.
func parseInteger(_ text: String, leadingZeroIsDecimal: Bool = false) -> IntegerLiteral {
    var text = text
    return text.withUTF8 { parseInteger(utf8: $0, leadingZeroIsDecimal: leadingZeroIsDecimal) }
}

/// `parseInteger` over the UTF-8 bytes of the text.
func parseInteger(utf8 b: UnsafeBufferPointer<UInt8>, leadingZeroIsDecimal: Bool = false) -> IntegerLiteral {
    var i = 0
    let n = b.count
    var negative = false
    if i < n, b[i] == UInt8(ascii: "-") { negative = true; i += 1 } else if i < n, b[i] == UInt8(ascii: "+") { i += 1 }
    if !leadingZeroIsDecimal, n - i >= 2, b[i] == UInt8(ascii: "0"),
       (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i + 1]) || b[i + 1] == UInt8(ascii: "_") {
        // Only a well-formed decimal is the ambiguous case; anything else stays `.invalid` below.
        let rest = UnsafeBufferPointer(rebasing: b[i...])
        if case .value = parseInteger(utf8: rest, leadingZeroIsDecimal: true) { return .leadingZero }
        if case .overflow = parseInteger(utf8: rest, leadingZeroIsDecimal: true) { return .leadingZero }
    }
    var radix: UInt64 = 10
    if n - i > 2, b[i] == UInt8(ascii: "0") {
        switch b[i + 1] {
        case UInt8(ascii: "x"), UInt8(ascii: "X"): radix = 16; i += 2
        case UInt8(ascii: "b"), UInt8(ascii: "B"): radix = 2; i += 2
        case UInt8(ascii: "o"), UInt8(ascii: "O"): radix = 8; i += 2
        default: break
        }
    }
    guard i < n, b[i] != UInt8(ascii: "_"), b[n - 1] != UInt8(ascii: "_") else { return .invalid }
    var v: UInt64 = 0
    var digits = 0
    while i < n {
        let c = b[i]
        i += 1
        if c == UInt8(ascii: "_") { continue }
        let d: UInt64
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt64(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt64(c - UInt8(ascii: "A") + 10)
        default: return .invalid
        }
        guard d < radix else { return .invalid }
        let (m, o1) = v.multipliedReportingOverflow(by: radix)
        let (a, o2) = m.addingReportingOverflow(d)
        if o1 || o2 { return .overflow }
        v = a
        digits += 1
    }
    return digits == 0 ? .invalid : .value(v, negative: negative)
}

/// "did you mean 'x'?" for a misspelt name, by edit distance.
func hint(_ word: String, _ candidates: [String]) -> String? {
    var cells = 0
    return hint(word, candidates, cells: &cells)
}

/// `hint(_:_:)`, adding to `cells` the edit-distance table cells it computed.
func hint(_ word: String, _ candidates: [String], cells: inout Int) -> String? {
    var best: (String, Int)?
    let w = Array(word.lowercased())
    for c in candidates {
        // At most 3 edits count, so the distance is computed in a band of that width: a long
        // misspelt name (a scenario can hold a 1 MiB one) against long names costs their length,
        // not its square (500 task names of 1,500 characters against a 100,000-character `as:`
        // took minutes before).
        guard let d = editDistance(w, Array(c.lowercased()), atMost: max(1, min(3, c.count / 3 + 1)), cells: &cells) else { continue }
        if let b = best, b.1 <= d { continue }
        best = (c, d)
    }
    return best.map { "did you mean '\($0.0)'?" }
}

/// The edit distance of `a` and `b` when it is at most `k`, else nil. Adjacent transpositions count as
/// one edit (optimal string alignment), so that a swapped pair of letters (`exce` for `exec`) is nearer
/// than two changed letters (`exit`). Computed only on the cells within `k` of the diagonal (no alignment
/// that leaves it can cost `k` or less): time O((|a| + |b|) * k).
func editDistance(_ a: [Character], _ b: [Character], atMost k: Int) -> Int? {
    var cells = 0
    return editDistance(a, b, atMost: k, cells: &cells)
}

/// `editDistance(_:_:atMost:)`, adding to `cells` the number of table cells it computed (the work
/// HintTests bounds by (|a| + |b|) * (2k + 1), instead of timing it).
func editDistance(_ a: [Character], _ b: [Character], atMost k: Int, cells: inout Int) -> Int? {
    guard k >= 0, abs(a.count - b.count) <= k else { return nil }
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    let far = k + 1  // any cost above k: "too far"
    var before = Array(repeating: far, count: b.count + 1)
    var prev = (0...b.count).map { Swift.min($0, far) }
    var cur = Array(repeating: far, count: b.count + 1)
    for i in 1...a.count {
        let lo = Swift.max(1, i - k), hi = Swift.min(b.count, i + k)
        cur[0] = Swift.min(i, far)
        if lo > 1 { cur[lo - 1] = far }
        if hi < b.count { cur[hi + 1] = far }
        var best = cur[0]
        if lo <= hi {
            cells += hi - lo + 1
            for j in lo...hi {
                var v = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { v = Swift.min(v, before[j - 2] + 1) }
                cur[j] = Swift.min(v, far)
                best = Swift.min(best, cur[j])
            }
        }
        if best > k { return nil }
        (before, prev, cur) = (prev, cur, before)
    }
    return prev[b.count] <= k ? prev[b.count] : nil
}

/// The pairs of a map whose keys have several spellings (`20` and `0x14`, `14` and `PF`,
/// `IA32_LSTAR` and `0xc0000082`) without the pairs a `<<` merge key brought in that a written key, or
/// an earlier merged one, names too: a merge key merges by what a key names, as `extends` does, so
/// `{<<: *base, PF: ...}` overrides the base's `14:` as `{<<: *base, 14: ...}` does (YAML 1.1's merge
/// compares the keys' text, which would leave both, a duplicate). `key` gives what a key names (nil:
/// not a key of this map, left for the decoder to report).
func droppingOverriddenMerges<Key: Hashable>(_ pairs: [YAMLPair], key: (YAMLNode) -> Key?) -> [YAMLPair] {
    guard pairs.contains(where: \.merged) else { return pairs }
    var written = Set<Key>()
    for p in pairs where !p.merged {
        if let k = key(p.key) { written.insert(k) }
    }
    var mergedSeen = Set<Key>()
    return pairs.filter { p in
        guard p.merged, let k = key(p.key) else { return true }
        return !written.contains(k) && mergedSeen.insert(k).inserted
    }
}

/// Keys of a mapping after decoding (`20` and `0x14`, `14` and `PF`), so that two spellings of one
/// key are refused as the loader refuses two equal texts: the second is an error naming the first.
struct FirstKeys<Key: Hashable> {
    private var first: [Key: YAMLNode] = [:]

    /// True the first time `key` is met; otherwise reports `node` as a duplicate of the first.
    mutating func isNew(_ key: Key, _ node: YAMLNode, _ what: String, context: inout DecodeContext) -> Bool {
        if let earlier = first[key] {
            context.error(node, "duplicate key: \(what) is also given at \(earlier.start.line):\(earlier.start.column) (as '\(earlier.scalar ?? "")')")
            return false
        }
        first[key] = node
        return true
    }
}
