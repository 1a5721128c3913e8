// YAMLTree: comparing two scenario documents node by node with their `expect` blocks left out
// (a predict submission may change nothing else), and finding the blanks a handout leaves.

enum YAMLTree {
    /// One difference between the exercise's document and the submission's.
    struct Difference: Sendable {
        var path: String
        var exercise: String
        var submission: String
        var mark: SourceMark
    }

    /// Differences outside `expect` (the top-level one and each step's), at most `limit`.
    /// Mappings compare key by key (order ignored), sequences item by item, scalars by text and
    /// by plain-versus-quoted (so `"16"` and `16` differ, as they mean different things).
    static func differencesOutsideExpect(_ exercise: YAMLNode, _ submission: YAMLNode, limit: Int = 20) -> [Difference] {
        var out: [Difference] = []
        compare(exercise, submission, path: "", skipExpect: true, stepsLevel: false, into: &out, limit: limit)
        return out
    }

    private static func compare(_ a: YAMLNode, _ b: YAMLNode, path: String, skipExpect: Bool, stepsLevel: Bool,
                                into out: inout [Difference], limit: Int) {
        guard out.count < limit else { return }
        switch (a.content, b.content) {
        case let (.scalar(x, sx), .scalar(y, sy)):
            if x != y || (sx == .plain) != (sy == .plain) {
                out.append(Difference(path: path, exercise: show(a), submission: show(b), mark: b.start))
            }
        case let (.sequence(xs), .sequence(ys)):
            if xs.count != ys.count {
                out.append(Difference(path: path, exercise: "\(xs.count) items", submission: "\(ys.count) items", mark: b.start))
                return
            }
            for (i, (x, y)) in zip(xs, ys).enumerated() {
                // The items of the top-level `steps` list keep their own `expect` out of the comparison.
                compare(x, y, path: "\(path)[\(i)]", skipExpect: stepsLevel, stepsLevel: false, into: &out, limit: limit)
            }
        case let (.mapping(xs), .mapping(ys)):
            func keyed(_ ps: [YAMLPair]) -> [(String, YAMLPair)] { ps.map { ($0.key.scalar ?? show($0.key), $0) } }
            let xk = keyed(xs), yk = keyed(ys)
            for (k, p) in xk where !(skipExpect && k == "expect") {
                let here = path.isEmpty ? k : "\(path).\(k)"
                guard let q = yk.first(where: { $0.0 == k })?.1 else {
                    out.append(Difference(path: here, exercise: show(p.value), submission: "(removed)", mark: b.start))
                    continue
                }
                compare(p.value, q.value, path: here, skipExpect: false, stepsLevel: path.isEmpty && k == "steps", into: &out, limit: limit)
            }
            for (k, q) in yk where !(skipExpect && k == "expect") && !xk.contains(where: { $0.0 == k }) {
                out.append(Difference(path: path.isEmpty ? k : "\(path).\(k)", exercise: "(absent)", submission: show(q.value), mark: q.key.start))
            }
        default:
            out.append(Difference(path: path, exercise: show(a), submission: show(b), mark: b.start))
        }
    }

    /// A short rendering of a node for messages.
    static func show(_ n: YAMLNode) -> String {
        switch n.content {
        case let .scalar(s, style): return style == .plain ? (s.isEmpty ? "(nothing)" : s) : "\"\(s)\""
        case let .sequence(items): return "a list of \(items.count)"
        case let .mapping(pairs): return "a mapping of \(pairs.count) keys"
        }
    }

    /// A blank a handout leaves for the student: `~`/`null`/nothing, or the word `TODO`.
    static func isBlank(_ n: YAMLNode) -> Bool {
        if n.isNullScalar { return true }
        if let s = n.scalar, n.scalarStyle == .plain, s.uppercased() == "TODO" { return true }
        return false
    }

    /// The paths of the leaves under an `expect` mapping (`steps[0].expect.gate.dpl`), blank or not.
    static func leaves(_ n: YAMLNode, path: String) -> [(path: String, blank: Bool, node: YAMLNode)] {
        if let pairs = n.mapping, !pairs.isEmpty {
            return pairs.flatMap { p in leaves(p.value, path: "\(path).\(p.key.scalar ?? show(p.key))") }
        }
        return [(path, isBlank(n), n)]
    }

    /// The node with every blank pair removed (and mappings left empty by that removed too).
    static func removingBlanks(_ n: YAMLNode) -> YAMLNode? {
        if isBlank(n) { return nil }
        guard let pairs = n.mapping else { return n }
        var kept: [YAMLPair] = []
        for p in pairs {
            if let v = removingBlanks(p.value) { kept.append(YAMLPair(key: p.key, value: v)) }
        }
        if kept.isEmpty && !pairs.isEmpty { return nil }
        var copy = n
        copy.content = .mapping(kept)
        return copy
    }

    /// The expect blocks of a scenario document: (path prefix, node), the steps' first, then the top-level one.
    static func expectBlocks(_ root: YAMLNode) -> [(path: String, node: YAMLNode)] {
        var out: [(String, YAMLNode)] = []
        if let steps = root.value(forKey: "steps")?.sequence {
            for (i, s) in steps.enumerated() {
                if let e = s.value(forKey: "expect") { out.append(("steps[\(i)].expect", e)) }
            }
        }
        if let e = root.value(forKey: "expect") { out.append(("expect", e)) }
        return out
    }

    /// The document with the blanks of every expect block removed.
    static func removingBlankExpectations(_ root: YAMLNode) -> YAMLNode {
        mappingExpectBlocks(root) { _, node in removingBlanks(node) ?? emptyMapping(at: node) }
    }

    /// The document with each expect block replaced by `transform(path prefix, block)`, the
    /// prefixes those of `expectBlocks` (`steps[2].expect`, `expect`).
    static func mappingExpectBlocks(_ root: YAMLNode, _ transform: (String, YAMLNode) -> YAMLNode) -> YAMLNode {
        guard var top = root.mapping else { return root }
        for (i, p) in top.enumerated() {
            switch p.key.scalar {
            case "expect":
                top[i].value = transform("expect", p.value)
            case "steps":
                guard var steps = p.value.sequence else { continue }
                for (j, s) in steps.enumerated() {
                    guard var sp = s.mapping else { continue }
                    for (k, q) in sp.enumerated() where q.key.scalar == "expect" {
                        sp[k].value = transform("steps[\(j)].expect", q.value)
                    }
                    steps[j].content = .mapping(sp)
                }
                top[i].value.content = .sequence(steps)
            default:
                continue
            }
        }
        var copy = root
        copy.content = .mapping(top)
        return copy
    }

    /// Every node of the expect blocks with its path, named as `leaves` names them: the blocks
    /// themselves, the mappings inside them and their values (a list or a scalar is one node).
    static func expectNodes(_ root: YAMLNode) -> [(path: String, node: YAMLNode)] {
        func walk(_ n: YAMLNode, _ path: String, into out: inout [(path: String, node: YAMLNode)]) {
            out.append((path, n))
            for p in n.mapping ?? [] { walk(p.value, "\(path).\(p.key.scalar ?? show(p.key))", into: &out) }
        }
        var out: [(path: String, node: YAMLNode)] = []
        for block in expectBlocks(root) { walk(block.node, block.path, into: &out) }
        return out
    }

    /// The document with the expect nodes at `paths` put back as blanks (`~`, at the same place),
    /// as if never answered.
    static func blankingAnswers(_ root: YAMLNode, at paths: Set<String>) -> YAMLNode {
        func blanking(_ n: YAMLNode, _ path: String) -> YAMLNode {
            if paths.contains(path) { return YAMLNode(content: .scalar("~", .plain), start: n.start, end: n.end) }
            guard let pairs = n.mapping else { return n }
            var copy = n
            copy.content = .mapping(pairs.map { p in
                var q = p
                q.value = blanking(p.value, "\(path).\(p.key.scalar ?? show(p.key))")
                return q
            })
            return copy
        }
        return mappingExpectBlocks(root) { path, node in blanking(node, path) }
    }

    /// Whether a place in the source lies within a node's span (its first character up to, not
    /// including, its end; a node of no width holds its start).
    static func contains(_ n: YAMLNode, line: Int, column: Int) -> Bool {
        let at = (line, column), start = (n.start.line, n.start.column), end = (n.end.line, n.end.column)
        return start <= at && (at < end || at == start)
    }

    static func emptyMapping(at n: YAMLNode) -> YAMLNode {
        YAMLNode(content: .mapping([]), start: n.start, end: n.end)
    }
}
