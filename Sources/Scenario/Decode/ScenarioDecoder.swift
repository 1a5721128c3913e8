// ScenarioDecoder: one YAML document -> one ScenarioSpec (or its diagnostics), including `extends`,
// which starts from another file's machine, kernel and processes, confined to the suite root.

import Machine

/// Where scenario files may come from, and the limits on reading them.
public struct LoadOptions: Sendable {
    /// Paths in scenarios (`extends`) resolve inside this folder, never outside it.
    public var root: String
    public var yaml = YAMLLimits()
    /// How many `extends` may chain.
    public static let defaultMaxExtendsDepth = 8
    public var maxExtendsDepth = LoadOptions.defaultMaxExtendsDepth
    /// Most page-table entries one scenario may ask for, summed over all its mappings.
    public static let defaultMaxMappedPages: UInt64 = 262_144
    public var maxMappedPages = LoadOptions.defaultMaxMappedPages
    public init(root: String) { self.root = root }
}

/// A document of a scenario file: decoded, or invalid with its diagnostics.
public enum LoadedScenario: Sendable {
    case spec(ScenarioSpec, warnings: [Diagnostic])
    case invalid(ScenarioResult)
}

public enum ScenarioDecoder {
    /// The keys an `extends` base may hold: what it gives (machine, kernel, processes), its own `extends`, and
    /// what describes it.
    static let extendsKeys: Set<String> = ["machine", "kernel", "processes", "extends", "scenario", "description", "tags"]
    static let topKeys = ["scenario", "description", "tags", "points", "extends", "machine", "kernel", "processes", "steps", "expect", "partial"]

    /// Loads every scenario of a file. `display` is the path shown in messages.
    public static func load(file path: String, display: String, options: LoadOptions) -> [LoadedScenario] {
        let bytes: [UInt8]
        switch FileAccess.read(path, maxBytes: options.yaml.maxFileBytes) {
        case let .success(b): bytes = b
        case let .failure(msg):
            return [.invalid(invalidFile(display, msg.message, line: 1, column: 1))]
        }
        return load(bytes: bytes, path: path, display: display, options: options)
    }

    /// Loads the scenarios of YAML text already in memory.
    public static func load(bytes: [UInt8], path: String, display: String, options: LoadOptions) -> [LoadedScenario] {
        let docs: [YAMLDocument]
        do {
            docs = try YAMLLoader.load(bytes, limits: options.yaml)
        } catch {
            var r = invalidFile(display, error.message, line: error.mark.line, column: error.mark.column)
            if case var .invalid(d) = r.outcome, !error.notes.isEmpty {
                d[0].notes = error.notes
                r.outcome = .invalid(d)
            }
            return [.invalid(r)]
        }
        var out: [LoadedScenario] = []
        var ids: [String: Int] = [:]
        for doc in docs {
            guard let root = doc.root else { continue }
            var ctx = DecodeContext(file: display, maxMappedPages: options.maxMappedPages)
            let spec = decodeDocument(root, ctx: &ctx, path: path, options: options, checkTaskNames: true)
            if let spec, let line = ids[spec.id] {
                ctx.error(root.value(forKey: "scenario") ?? root, "scenario id '\(spec.id)' is used twice in this file (first at line \(line))")
            }
            if let spec { ids[spec.id] = spec.location.line }
            let warnings = ctx.diagnostics.filter { $0.severity == .warning }
            if ctx.hasErrors || spec == nil {
                // An invalid scenario keeps its id when it has one worth showing; else FILE:LINE
                // (a report line or test name is never empty).
                let written = root.value(forKey: "scenario")?.scalar
                let id = written.flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 } ?? "\(baseName(display)):\(doc.start.line)"
                out.append(.invalid(ScenarioResult(id: id, file: display, line: root.start.line, outcome: .invalid(ctx.diagnostics.filter { $0.severity == .error }),
                                                   warnings: warnings)))
            } else if let spec {
                out.append(.spec(spec, warnings: warnings))
            }
        }
        if out.isEmpty {
            out.append(.invalid(invalidFile(display, "the file holds no scenario", line: 1, column: 1)))
        }
        return out
    }

    static func invalidFile(_ display: String, _ message: String, line: Int, column: Int) -> ScenarioResult {
        ScenarioResult(id: baseName(display), file: display, line: line,
                       outcome: .invalid([Diagnostic(.error, message, at: SourceLocation(file: display, line: line, column: column))]))
    }

    static func baseName(_ p: String) -> String { p.split(separator: "/").last.map(String.init) ?? p }

    /// With `checkTaskNames`, task names in steps and checks must name a task that can exist (grading
    /// leaves them to the run: a wrong prediction is a failed check there, not an invalid answer).
    static func decodeDocument(_ root: YAMLNode, ctx: inout DecodeContext, path: String, options: LoadOptions,
                               checkTaskNames: Bool = false) -> ScenarioSpec? {
        guard var top = ctx.mapping(root, "a scenario", allowed: topKeys, extensionKeys: true) else { return nil }
        var id = ""
        if let n = top["scenario"], let s = ctx.string(n, "scenario") {
            id = s
            if s.allSatisfy(\.isWhitespace) { ctx.error(n, "scenario id must not be empty or blank") }
        } else if top["scenario"] == nil {
            ctx.error(root, "a scenario needs an id: `scenario: NAME`")
        }
        let description = top["description"].flatMap { ctx.string($0, "description") }
        var tags: [String] = []
        if let n = top["tags"], let items = ctx.sequence(n, "tags") { tags = items.compactMap { ctx.string($0, "tag") } }
        let points = top["points"].map { Self.points($0, ctx: &ctx) } ?? 1.0
        let partial = top["partial"].flatMap { ctx.bool($0, "partial") } ?? false
        // A base that could not be read leaves its tasks unknown: their names are not checked then.
        var baseMissing = false
        if let n = top["extends"], let rel = ctx.string(n, "extends") {
            var chain: [String] = [FileAccess.canonical(path) ?? path]
            if let base = resolveExtends(rel, from: path, at: n, ctx: &ctx, options: options, chain: &chain) {
                for key in ["machine", "kernel", "processes"] {
                    if let b = base[key] { top[key] = top[key].map { mergeNodes(b, $0, path: [key]) } ?? b }
                }
            } else {
                baseMissing = true
            }
        }
        let (machine, gates, names) = ctx.decodeMachine(top["machine"])
        let kernel = ctx.decodeKernel(top["kernel"])
        let errorsBeforeProcesses = ctx.diagnostics.filter { $0.severity == .error }.count
        let tasks = ctx.decodeProcesses(top["processes"], mode: machine.mode, names: names, declaredFiles: Set(kernel.files.keys))
        // Task names are checked when the processes decoded cleanly (a task dropped by an error would make
        // every use of its name an error too); errors elsewhere (machine, kernel) do not silence the check.
        let processesClean = ctx.diagnostics.filter { $0.severity == .error }.count == errorsBeforeProcesses
        if processesClean {
            // A fork's `name:` names a new task: one already declared, or given by an earlier fork, is an error.
            var taken = Set((tasks?.map(\.name) ?? ["main"]) + ["idle"])
            for item in top["steps"]?.sequence ?? [] {
                guard let n = item.value(forKey: "syscall")?.value(forKey: "name"), let name = n.scalar else { continue }
                if taken.contains(name) {
                    ctx.error(n, "fork name '\(name)' is already the name of a task: a forked child needs a name of its own")
                }
                taken.insert(name)
            }
        }
        if checkTaskNames && processesClean && !baseMissing { ctx.taskNames = (tasks?.map(\.name) ?? ["main"]) + ["idle"] + forkNames(top["steps"]) }
        // `syscall` steps without `via` use the tasks' own entry (forked children keep their parent's width).
        let widths = Set((tasks ?? [TaskSpec(name: "main")]).map { $0.bits ?? (machine.mode == .ia32 ? 32 : 64) })
        ctx.defaultSyscallEntry = widths == [32] ? .int80 : (widths == [64] ? .syscall : nil)
        let steps = ctx.decodeSteps(top["steps"], mode: machine.mode, names: names, kernelEnabled: kernel.enabled)
        let final = ctx.decodeFinalExpect(top["expect"])
        if machine.paging == .off {
            // Without paging there are no page tables: mappings would be dropped without a word.
            var written: [YAMLNode] = []
            if let n = top["machine"]?.value(forKey: "pages") { written.append(n) }
            written += (top["processes"]?.sequence ?? []).compactMap { $0.value(forKey: "pages") }
            written += (top["steps"]?.sequence ?? []).compactMap { $0.value(forKey: "set")?.value(forKey: "pages") }
            for n in written where n.sequence?.isEmpty != true { ctx.error(n, "pages: paging is off (machine.paging), so there are no page tables to map them in") }
        }
        // An error in an `extends` base is located in the base; say which scenario brought it in, since a
        // base shared by several scenarios reports its errors once for each of them.
        if let n = top["extends"] {
            let at = ctx.location(n)
            // Errors only: a warning leaves the scenario valid, and its text stays the same whether the machine
            // is written in the scenario or in a base (Fuzz/diff/spell_diff.py's combo-b compares the two).
            for i in ctx.diagnostics.indices where ctx.diagnostics[i].severity == .error
                && ctx.diagnostics[i].location.map({ $0.file != at.file }) == true {
                ctx.diagnostics[i].notes.append("in the `extends` base of scenario '\(id)' (extends at \(at.file):\(at.line):\(at.column))")
            }
        }
        var spec = ScenarioSpec(id: id, description: description, tags: tags, points: points,
                                location: ctx.location(root), machine: machine, kernel: kernel, tasks: tasks,
                                steps: steps, finalChecks: final, partialCredit: partial)
        spec.gatePatches = gates
        spec.origins = ctx.origins
        spec.selectorNames = names
        return spec
    }

    /// The names fork steps give their children (`syscall: {nr: fork, name: NAME}`).
    static func forkNames(_ steps: YAMLNode?) -> [String] {
        (steps?.sequence ?? []).compactMap { $0.value(forKey: "syscall")?.value(forKey: "name")?.scalar }
    }

    /// `points`: a number from 0 to 1000000 (1 when it is not one, after the error).
    static func points(_ n: YAMLNode, ctx: inout DecodeContext) -> Double {
        // An integer in any of the format's forms (`0x10`, `1_000`), or a decimal fraction (`0.5`).
        if let s = n.scalar, case let .value(v, false) = parseInteger(s), v <= 1_000_000 { return Double(v) }
        if let s = n.scalar, parseInteger(s) == .leadingZero { ctx.leadingZeroError(n, s, "points"); return 1 }
        if let s = n.scalar, let d = Double(s), d >= 0, d <= 1_000_000, d.isFinite { return d }
        ctx.error(n, "points must be a number between 0 and 1000000")
        return 1
    }

    /// Resolves `extends` inside the root and returns the base document's top-level pairs (its own
    /// `extends` applied first). Absolute paths, `..` escapes, symlink escapes and cycles are errors.
    static func resolveExtends(_ rel: String, from path: String, at node: YAMLNode, ctx: inout DecodeContext,
                               options: LoadOptions, chain: inout [String]) -> [String: YAMLNode]? {
        guard chain.count <= options.maxExtendsDepth else {
            ctx.error(node, "extends chains more than \(options.maxExtendsDepth) files deep")
            return nil
        }
        // An empty path names this file's own folder, which is no file (not a place outside the root).
        if rel.allSatisfy(\.isWhitespace) { ctx.error(node, "extends must name a file (a path relative to this one), not be empty"); return nil }
        if rel.hasPrefix("/") { ctx.error(node, "extends must be a relative path inside the suite root, not an absolute path"); return nil }
        // The C calls that resolve and open the path stop at a NUL: `"_base.yaml\0anything"` was read
        // as `_base.yaml`, a file other than the one written.
        if rel.utf8.contains(0) { ctx.error(node, "extends: a path cannot hold a NUL character (\\0)"); return nil }
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let joined = dir.isEmpty ? rel : dir + "/" + rel
        // Where the path leads is checked before whether a file is there, so that a path outside
        // the root is refused in the same words whether or not its target exists.
        guard joined.utf8.count <= FileAccess.maxPathBytes else {
            ctx.error(node, "extends: the path is longer than \(FileAccess.maxPathBytes) bytes")
            return nil
        }
        guard let rootReal = FileAccess.canonical(options.root), let target = FileAccess.resolved(joined),
              FileAccess.isInside(target, root: rootReal) else {
            ctx.error(node, "extends: '\(rel)' lies outside the suite root (\(options.root))", notes: [outsideRootNote])
            return nil
        }
        guard let real = FileAccess.canonical(joined) else {
            ctx.error(node, "extends: no file '\(rel)'", notes: extendsHint(joined, rel, root: options.root).map { [$0] } ?? [])
            return nil
        }
        guard FileAccess.isInside(real, root: rootReal) else {
            ctx.error(node, "extends: '\(rel)' lies outside the suite root (\(options.root))", notes: [outsideRootNote])
            return nil
        }
        if chain.contains(real) { ctx.error(node, "extends: '\(rel)' forms a cycle"); return nil }
        chain.append(real)
        let bytes: [UInt8]
        // Messages name the file as the scenario wrote it, not by its canonical path (which would
        // show the grader's folders in the report).
        switch FileAccess.read(real, maxBytes: options.yaml.maxFileBytes, display: rel) {
        case let .success(b): bytes = b
        case let .failure(m): ctx.error(node, "extends: \(m.message)"); return nil
        }
        let docs: [YAMLDocument]
        do { docs = try YAMLLoader.load(bytes, limits: options.yaml) } catch {
            // Located in the base itself (its syntax error, duplicate key, ...), like an error of its nodes.
            let at = SourceLocation(file: joined, line: error.mark.line, column: error.mark.column)
            ctx.diagnostics.append(Diagnostic(.error, error.message, at: at, notes: error.notes))
            return nil
        }
        guard docs.count == 1, let root = docs[0].root, let pairs = root.mapping else {
            ctx.error(node, "extends: '\(rel)' must hold exactly one mapping document")
            return nil
        }
        var out: [String: YAMLNode] = [:]
        // Marked with the fragment's path: a diagnostic about one of its nodes names the fragment.
        for p in pairs {
            guard let k = p.key.scalar else {
                ctx.error(p.key.withSource(joined), "keys of an `extends` base must be plain names")
                continue
            }
            out[k] = p.value.withSource(joined)
            // `x-` keys are where a fragment, like a scenario, defines what its aliases reuse. A key no scenario
            // has (`macihne`) is an error at that key, as in a scenario; a scenario key that extends does not
            // take (`steps`) is a warning.
            if k.hasPrefix("x-") || Self.extendsKeys.contains(k) { continue }
            if Self.topKeys.contains(k) {
                ctx.warning(node, "extends: '\(rel)' has '\(k)', which extends does not take (only machine, kernel and processes)")
            } else {
                ctx.error(p.key.withSource(joined), "unknown key '\(k)' in an `extends` base",
                          notes: [hint(k, Self.extendsKeys.sorted()) ?? "an `extends` base takes machine, kernel and processes"])
            }
        }
        if let inner = out["extends"], let innerRel = inner.scalar {
            if let base = resolveExtends(innerRel, from: real, at: node, ctx: &ctx, options: options, chain: &chain) {
                for key in ["machine", "kernel", "processes"] {
                    if let b = base[key] { out[key] = out[key].map { mergeNodes(b, $0, path: [key]) } ?? b }
                }
            }
        }
        return out
    }

    /// "did you mean" for an `extends` path that names no file: the YAML files beside it whose name is close,
    /// looked up only in a folder inside the suite root.
    /// The same for every path outside the root (it must not tell whether the target exists).
    static let outsideRootNote = "the suite root is `--root`, or else the folder named on the command line (a named file's own folder): to share a fragment above it, run the folder that holds both or pass `--root`"

    static func extendsHint(_ joined: String, _ rel: String, root: String) -> String? {
        let parts = joined.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.isEmpty else { return nil }
        let dir = parts.dropLast().joined(separator: "/")
        guard let dirReal = FileAccess.canonical(dir.isEmpty ? "." : dir), let rootReal = FileAccess.canonical(root),
              dirReal == rootReal || dirReal.hasPrefix(rootReal.hasSuffix("/") ? rootReal : rootReal + "/") else { return nil }
        let prefix = rel.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let names = FileAccess.entries(dir.isEmpty ? "." : dir).map(\.name).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        return hint(rel, names.map { prefix.isEmpty ? $0 : prefix + "/" + $0 })
    }

    /// Maps merge key by key (recursively); anything else is replaced by the override. `path` is where the
    /// two nodes sit (`["machine", "gdt"]`): in the maps whose keys are numbers written in several ways
    /// (`gdt`/`ldt` indices, `idt` vectors, `msrs`) keys merge by what they mean (`20` and `0x14`, `14`
    /// and `PF`), and a `gdt`/`ldt` patch map over a base that wrote the table as a list patches that
    /// list (the table the scenario starts from), as it would patch the preset's table.
    static func mergeNodes(_ base: YAMLNode, _ over: YAMLNode, path: [String] = []) -> YAMLNode {
        let keyOf = mergeKey(path)
        if let items = base.sequence, let op = over.mapping, path == ["machine", "gdt"] || path == ["machine", "ldt"] {
            return patchList(base, items, over, op)
        }
        guard let bp = base.mapping, let op = over.mapping else { return over }
        var pairs = bp
        for o in op {
            let ok = keyOf(o.key)
            if let i = pairs.firstIndex(where: { ok != nil && keyOf($0.key) == ok }) {
                let kept = path == ["machine", "idt"] ? gateKept(pairs[i].value, under: o.value) : pairs[i].value
                pairs[i] = YAMLPair(key: o.key, value: mergeNodes(kept, o.value, path: path + [o.key.scalar ?? ""]))
            } else {
                pairs.append(o)
            }
        }
        var n = over
        n.content = .mapping(pairs)
        return n
    }

    /// What a base's IDT gate keeps under an extending scenario's gate at the same vector. A gate the
    /// scenario turns into a task gate (`type: task` over an interrupt or trap gate), or back, keeps only
    /// the base's `dpl` and `present`: a task gate names a TSS and has no offset or IST, the others name
    /// code, so the base's `offset`, `ist`, `selector` or `tss` would make the merged gate invalid, as a
    /// gate turned into a task gate over the preset keeps nothing of the preset's (docs/format.md, `idt`).
    static func gateKept(_ base: YAMLNode, under over: YAMLNode) -> YAMLNode {
        guard let bp = base.mapping, let op = over.mapping else { return base }
        func isTask(_ pairs: [YAMLPair]) -> Bool? {
            pairs.last { $0.key.scalar == "type" }?.value.scalar.map { $0 == "task" }
        }
        guard let overIsTask = isTask(op), overIsTask != (isTask(bp) ?? false) else { return base }
        var n = base
        n.content = .mapping(bp.filter { $0.key.scalar == "dpl" || $0.key.scalar == "present" })
        return n
    }

    /// How `mergeNodes` compares the keys of a map at `path`: by text, or by the number they name.
    static func mergeKey(_ path: [String]) -> (YAMLNode) -> String? {
        func number(_ k: YAMLNode) -> UInt64? {
            guard let s = k.scalar, case let .value(v, false) = parseInteger(s) else { return nil }
            return v
        }
        switch path {
        case ["machine", "gdt"], ["machine", "ldt"]:
            return { k in number(k).map { "#\($0)" } ?? k.scalar }
        case ["machine", "idt"]:
            return { k in
                guard let s = k.scalar else { return nil }
                if let v = number(k) { return "#\(v)" }
                return ExceptionVector(name: s).map { "#\($0.rawValue)" } ?? s
            }
        case ["machine", "msrs"]:
            return { k in
                guard let s = k.scalar else { return nil }
                if let v = number(k) { return "#\(v)" }
                return MSR.names.first(where: { $0.0 == s.uppercased() }).map { "#\($0.1)" } ?? s
            }
        default:
            return { $0.scalar }
        }
    }

    /// A `gdt`/`ldt` index map applied to a base table written as a list: each entry given replaces the
    /// list's entry at that index or adds it (the slots between staying null), as a patch map does to the
    /// preset's table; the other entries are kept.
    static func patchList(_ base: YAMLNode, _ items: [YAMLNode], _ over: YAMLNode, _ pairs: [YAMLPair]) -> YAMLNode {
        var list = items
        var unnumbered: [YAMLPair] = []
        for p in pairs {
            // The decoder reports a key that is no index; keep it in a map so that it still does.
            guard let s = p.key.scalar, case let .value(v, false) = parseInteger(s), v < 8192 else { unnumbered.append(p); continue }
            let i = Int(v)
            while list.count <= i {
                list.append(YAMLNode(content: .scalar("null", .plain), start: p.key.start, end: p.key.start))
            }
            list[i] = p.value
        }
        guard unnumbered.isEmpty else { return over }
        var n = over
        n.content = .sequence(list)
        return n
    }
}