// ExpectUpdater: `ringspec run --update`. Runs each scenario and writes what happened into its
// `expect` blocks, splicing new text at the byte span of each block so that every byte outside
// the blocks (comments, formatting, anchors, other documents) stays as it was.
//
// Written for a step (only what happened, so that the block stays short):
//   fault    when the step raised exactly one exception: `GP`, or `{vector, error_code, cr2}`
//   faults   when it raised several, in order
//   gate     the delivery: {vector, type, dpl, from_cpl, to_cpl, stack_switch}
//   cpl      always
//   returns  when a system call returned
//   output   when the step wrote to the console
//   switch   the first context switch: {from, to, reason}
//   current  the running task (kernel scenarios)
//   signal   when a signal was delivered; shutdown: true after a triple fault
// Written at the top level: output (when any), schedule, switches and processes
// {state, exit_code, signal} (kernel scenarios), shutdown: true after a triple fault.
// The author's keys stay in the author's order: a key whose check passed is kept as written
// (re-written in flow style when its block is rewritten); a key whose check failed gets the actual
// value, or is dropped when it is not one of the keys above (regs, trace, entry, states, ...).
// A block with nothing to change is left byte for byte.

import Machine

public enum ExpectUpdater {
    /// What one file's update did.
    public struct FileUpdate: Sendable {
        public var file: String
        public var updatedScenarios: [String]
        /// Scenarios left alone, with why (invalid, an anchored or aliased expect, ...).
        public var problems: [String]
        public var changed: Bool
    }

    /// Updates the scenarios of a file that `options` selects; writes the file when it changed.
    public static func update(file: String, options: SuiteOptions) -> FileUpdate {
        var outcome = FileUpdate(file: file, updatedScenarios: [], problems: [], changed: false)
        let bytes: [UInt8]
        switch FileAccess.read(file, maxBytes: options.load.yaml.maxFileBytes) {
        case let .success(b): bytes = b
        case let .failure(e): outcome.problems.append("\(file): \(e.message)"); return outcome
        }
        guard let docs = try? YAMLLoader.load(bytes, limits: options.load.yaml) else {
            outcome.problems.append("\(file): not valid YAML; run `ringspec check` for details")
            return outcome
        }
        let loaded = ScenarioDecoder.load(bytes: bytes, path: file, display: file, options: options.load)
        var splices: [Splice] = []
        var specIndex = 0
        for doc in docs {
            guard let root = doc.root else { continue }
            guard specIndex < loaded.count else { break }
            let item = loaded[specIndex]
            specIndex += 1
            guard case let .spec(spec, _) = item else {
                if case let .invalid(r) = item { outcome.problems.append("\(r.id): invalid, not updated") }
                continue
            }
            guard Suite.selected(spec, options) else { continue }
            let record = Runner.run(spec, file: file, limits: options.run)
            // A step the model refused ran nothing: writing what "happened" would record the state
            // before it as its outcome, and a schedule and process table cut short at it.
            if let refused = record.outcomes.firstIndex(where: { $0.error != nil }) {
                outcome.problems.append("\(spec.id): steps[\(refused)] could not run (see the report), so it and the steps after it have no outcome to write; not updated")
                continue
            }
            if case .invalid = record.result.outcome {
                outcome.problems.append("\(spec.id): invalid, not updated")
                continue
            }
            switch splicesFor(root, bytes: bytes, spec: spec, record: record) {
            case let .success((s, skipped)):
                splices += s
                if !s.isEmpty || skipped.isEmpty { outcome.updatedScenarios.append(spec.id) }
                outcome.problems += skipped.map { "\(spec.id): \($0.message)" }
            case let .failure(e):
                outcome.problems.append("\(spec.id): \(e.message)")
            }
        }
        let text = apply(splices, to: bytes)
        if text != bytes {
            outcome.changed = true
            if !FileAccess.write(file, text) { outcome.problems.append("\(file): cannot write the file") }
        }
        return outcome
    }

    struct Splice {
        var range: Range<Int>
        var text: String
    }

    static func apply(_ splices: [Splice], to bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        // A file whose lines end in CR LF (its first line break says which) gets its added lines in CR LF too.
        let crlf = bytes.firstIndex(of: UInt8(ascii: "\n")).map { $0 > 0 && bytes[$0 - 1] == UInt8(ascii: "\r") } ?? false
        // Later splices first; of two at one offset (a step's expect and the top-level expect
        // both added at the end of the document) the later one first, so the earlier lands before it.
        let ordered = splices.enumerated().sorted { a, b in
            a.element.range.lowerBound != b.element.range.lowerBound ? a.element.range.lowerBound > b.element.range.lowerBound : a.offset > b.offset
        }
        for s in ordered.map(\.element) {
            let text = crlf ? s.text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n") : s.text
            out.replaceSubrange(s.range, with: Array(text.utf8))
        }
        return out
    }

    // MARK: Where the text goes

    /// The end of a node's own text: for a block collection, the end of its last item (libyaml's
    /// end mark of a block collection lies at the next token, after comments and blank lines).
    /// An alias ends where its `*name` ends: the node it stands for (a copy, with that node's marks)
    /// lies earlier in the file. A block collection ends at the furthest end of its items, since
    /// pairs merged in by `<<` carry the marks of the anchored mapping, not of the last line.
    static func contentEnd(_ n: YAMLNode, _ bytes: [UInt8]) -> Int {
        if let alias = n.aliasMark { return aliasEnd(alias.offset, bytes) }
        if isFlow(n, bytes) { return n.end.offset }
        switch n.content {
        case .scalar(_, .literal), .scalar(_, .folded):
            // A block scalar's end mark lies after its line breaks (the next line's start): the text
            // ends before them, or a splice there would swallow the break and join the next line on.
            var end = n.end.offset
            while end > n.start.offset, end <= bytes.count, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
            return end
        case .scalar: return n.end.offset
        case let .sequence(items): return items.map { contentEnd($0, bytes) }.max() ?? n.end.offset
        case let .mapping(pairs): return ownPairs(n, pairs).map { contentEnd($0.value, bytes) }.max() ?? n.end.offset
        }
    }

    /// The pairs written in the mapping itself, not merged in by `<<` from an anchored mapping
    /// (those carry the marks of the anchored text, which lies before the mapping).
    static func ownPairs(_ n: YAMLNode, _ pairs: [YAMLPair]) -> [YAMLPair] {
        pairs.filter { $0.key.start.offset >= n.start.offset }
    }

    /// The end of the alias token `*name` that starts at `offset` (an anchor name runs to a space,
    /// a line break or a flow indicator).
    static func aliasEnd(_ offset: Int, _ bytes: [UInt8]) -> Int {
        var i = offset + 1
        while i < bytes.count, !" \t\r\n,[]{}".utf8.contains(bytes[i]) { i += 1 }
        return i
    }

    /// A flow collection (`{...}` / `[...]`) as opposed to a block one: it starts with its bracket.
    static func isFlow(_ n: YAMLNode, _ bytes: [UInt8]) -> Bool {
        guard n.scalar == nil, n.start.offset < bytes.count else { return false }
        let first = bytes[n.start.offset]
        return first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
    }

    enum Problem: Error { case message(String)
        var message: String { if case let .message(m) = self { return m }; return "" }
    }

    /// The splices of a scenario's blocks, and the blocks left alone (an anchored or aliased
    /// `expect`: the others are still updated).
    static func splicesFor(_ root: YAMLNode, bytes: [UInt8], spec: ScenarioSpec, record: RunRecord) -> Result<([Splice], [Problem]), Problem> {
        guard root.mapping != nil, !isFlow(root, bytes) else { return .failure(.message("the scenario is a flow mapping; write it in block style to update it")) }
        var out: [Splice] = []
        var skipped: [Problem] = []
        let failedPaths = failurePaths(record.result.outcome)
        let steps = root.value(forKey: "steps")?.sequence ?? []
        for (i, stepNode) in steps.enumerated() where i < record.outcomes.count {
            let generated = stepExpect(record.outcomes[i], state: record.stepStates[i], kernel: spec.kernel.enabled)
            let existing = stepNode.value(forKey: "expect")
            let (pairs, changed) = merged(existing, path: "steps[\(i)].expect", generated: generated, failed: failedPaths, isStep: true)
            guard changed else { continue }
            switch spliceExpect(in: stepNode, existing: existing, pairs: pairs, bytes: bytes) {
            case let .success(s): out += s
            case let .failure(p): skipped.append(.message("steps[\(i)]: \(p.message)"))
            }
        }
        if let final = record.final {
            let generated = finalExpect(final)
            let existing = root.value(forKey: "expect")
            let (pairs, changed) = merged(existing, path: "expect", generated: generated, failed: failedPaths, isStep: false)
            if changed {
            switch spliceExpect(in: root, existing: existing, pairs: pairs, bytes: bytes) {
            case let .success(s): out += s
            case let .failure(p): skipped.append(.message("expect: \(p.message)"))
            }
            }
        }
        return .success((out, skipped))
    }

    static func failurePaths(_ o: ScenarioOutcome) -> [String] {
        if case let .failed(fs) = o { return fs.map(\.path) }
        return []
    }

    /// The new pairs of an expect block, and whether they differ from what is written. The
    /// author's keys stay in the author's order: a key whose check passed keeps its text (in flow
    /// style); a key whose check failed gets the actual value, or is dropped when the update does
    /// not write that key. Keys the update writes that the block lacks are added after them.
    static func merged(_ existing: YAMLNode?, path: String, generated: [(String, String)], failed: [String],
                       isStep: Bool) -> (pairs: [(String, String)], changed: Bool) {
        var out: [(String, String)] = []
        var used = Set<String>()
        var changed = false
        let faultKeys: Set<String> = ["fault", "faults"]
        for p in existing?.mapping ?? [] {
            guard let k = p.key.scalar else { continue }
            let here = "\(path).\(k)"
            let failedHere = failed.contains { $0 == here || $0.hasPrefix(here + ".") || $0.hasPrefix(here + "[") }
            let same = k == "stdout" ? "output" : k
            if isStep && faultKeys.contains(k) { used.formUnion(faultKeys) }
            used.insert(same)
            if !failedHere { out.append((k, flow(p.value))); continue }
            changed = true
            if let g = generated.first(where: { $0.0 == same }) {
                out.append((k, g.1))
            } else if isStep && faultKeys.contains(k) {
                out.append(generated.first { faultKeys.contains($0.0) } ?? (k, "none"))
            }
        }
        let added = generated.filter { !used.contains($0.0) }
        return (out + added, changed || !added.isEmpty)
    }

    /// Replaces the `expect` value of a mapping (a step or the document), or adds one.
    static func spliceExpect(in owner: YAMLNode, existing: YAMLNode?, pairs: [(String, String)], bytes: [UInt8]) -> Result<[Splice], Problem> {
        if let e = existing {
            if e.aliasMark != nil || e.anchor != nil {
                return .failure(.message("its expect is an anchor or an alias; not updated"))
            }
            let start = e.start.offset, end = contentEnd(e, bytes)
            let block = !isFlow(e, bytes) && e.mapping.map { !$0.isEmpty } == true
            if block && !pairs.isEmpty {
                let indent = String(repeating: " ", count: e.start.column - 1)
                return .success([Splice(range: start..<end, text: pairs.map { "\($0.0): \($0.1)" }.joined(separator: "\n" + indent))])
            }
            var text = flowMapping(pairs)
            // `expect:` with nothing after it: the null scalar has no width. In a block-style step
            // (or at the top level) the checks go under it, one per line, as for a missing expect.
            if start == end, start > 0, bytes[start - 1] == UInt8(ascii: ":") {
                guard !isFlow(owner, bytes), !pairs.isEmpty else { return .success([Splice(range: start..<end, text: " " + text)]) }
                var line = start
                while line > 0, bytes[line - 1] != UInt8(ascii: "\n") { line -= 1 }
                var column = 0
                while line + column < start, bytes[line + column] == UInt8(ascii: " ") || bytes[line + column] == UInt8(ascii: "-") { column += 1 }
                let inner = "\n" + String(repeating: " ", count: column + 2)
                text = pairs.map { inner + "\($0.0): \($0.1)" }.joined()
                // After a comment that ends the `expect:` line (`expect:   # to fill in`), which stays there.
                var eol = start
                while eol < bytes.count, bytes[eol] != UInt8(ascii: "\n") { eol += 1 }
                if eol > 0, bytes[eol - 1] == UInt8(ascii: "\r") { eol -= 1 }
                return .success([Splice(range: eol..<eol, text: text)])
            }
            return .success([Splice(range: start..<end, text: text)])
        }
        guard !pairs.isEmpty else { return .success([]) }
        if owner.aliasMark != nil { return .failure(.message("it is an alias; not updated")) }
        if owner.scalar != nil {
            // A bare `- wait` / `- schedule` step becomes a flow mapping with its expect.
            let s = owner.scalar ?? ""
            return .success([Splice(range: owner.start.offset..<owner.end.offset, text: "{\(s): {}, expect: \(flowMapping(pairs))}")])
        }
        // The pair written last in the file (merged pairs carry the anchored mapping's marks).
        guard let ownerPairs = owner.mapping, !ownerPairs.isEmpty else { return .failure(.message("an empty step")) }
        // The pair written last in the mapping's own text. A mapping whose keys all come from `<<`
        // has no line of its own to add to (adding to the anchored mapping would change every alias).
        guard let last = ownPairs(owner, ownerPairs).max(by: { contentEnd($0.value, bytes) < contentEnd($1.value, bytes) }) else {
            return .failure(.message("its keys all come from a merge (<<); not updated"))
        }
        if isFlow(owner, bytes) {
            let end = owner.end.offset - 1  // before `}`
            return .success([Splice(range: end..<end, text: ", expect: \(flowMapping(pairs))")])
        }
        let end = contentEnd(last.value, bytes)
        let indent = String(repeating: " ", count: last.key.start.column - 1)
        let inner = indent + "  "
        let text = "\n\(indent)expect:\n" + pairs.map { "\(inner)\($0.0): \($0.1)" }.joined(separator: "\n")
        // After any comment that ends the owner's last line.
        var at = end
        while at < bytes.count, bytes[at] != UInt8(ascii: "\n") { at += 1 }
        if at > end, bytes[end..<at].contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\r") }) {
            return .success([Splice(range: at..<at, text: text)])
        }
        return .success([Splice(range: end..<end, text: text)])
    }

    // MARK: What is written

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// A system call's result as a scenario would write it: an errno by name (`-EFAULT`), an address in hex
    /// (an mmap or brk result), a count or pid in decimal.
    static func returnsText(_ r: Int64) -> String {
        if r < 0, r >= -4095, let name = KernelErrno.name(of: -r) { return "-\(name)" }
        if r >= 0x10000 { return hex(UInt64(r)) }
        return "\(r)"
    }

    static func stepExpect(_ o: StepOutcome, state: StepState, kernel: Bool) -> [(String, String)] {
        var out: [(String, String)] = []
        if o.faults.count == 1 {
            out.append(("fault", faultText(o.faults[0])))
        } else if o.faults.count > 1 {
            out.append(("faults", "[" + o.faults.map(faultText).joined(separator: ", ") + "]"))
        }
        if let g = o.gate {
            var parts: [(String, String)] = []
            if let v = g.vector { parts.append(("vector", hex(UInt64(v)))) }
            parts += [("type", g.type), ("dpl", "\(g.dpl)"), ("from_cpl", "\(g.fromCPL)"), ("to_cpl", "\(g.toCPL)"),
                      ("stack_switch", "\(g.stackSwitch)"), ("if", "\(g.interruptsEnabled)")]
            out.append(("gate", flowMapping(parts)))
        }
        out.append(("cpl", "\(state.cpl)"))
        if let r = o.returns { out.append(("returns", returnsText(r))) }
        if !o.output.isEmpty { out.append(("output", quoted(o.output))) }
        if let s = o.switches.first {
            out.append(("switch", flowMapping([("from", name(s.from)), ("to", name(s.to)), ("reason", s.reason)])))
        }
        if kernel { out.append(("current", name(state.current))) }
        if let s = o.signal { out.append(("signal", s)) }
        if o.shutdown { out.append(("shutdown", "true")) }
        return out
    }

    static func faultText(_ f: Fault) -> String {
        guard f.errorCode != nil || f.cr2 != nil else { return f.vector.name }
        var parts = [("vector", f.vector.name)]
        if let c = f.errorCode { parts.append(("error_code", hex(UInt64(c)))) }
        if let c = f.cr2 { parts.append(("cr2", hex(c))) }
        return flowMapping(parts)
    }

    static func finalExpect(_ f: FinalState) -> [(String, String)] {
        var out: [(String, String)] = []
        if !f.output.isEmpty { out.append(("output", quoted(f.output))) }
        if f.kernelEnabled {
            out.append(("schedule", "[" + f.schedule.map(name).joined(separator: ", ") + "]"))
            out.append(("switches", "\(f.switches)"))
            let procs = f.processes.map { p -> (String, String) in
                var parts = [("state", p.summary.state.rawValue)]
                if let c = p.summary.exitCode { parts.append(("exit_code", "\(c)")) }
                if let s = p.summary.signal { parts.append(("signal", s)) }
                return (name(p.name), flowMapping(parts))
            }
            if !procs.isEmpty { out.append(("processes", flowMapping(procs))) }
        }
        if f.shutdown { out.append(("shutdown", "true")) }
        return out
    }

    static func flowMapping(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// A task name, plain when YAML reads it back as the same string, else double-quoted.
    static func name(_ s: String) -> String {
        let safe = !s.isEmpty && s.unicodeScalars.allSatisfy { ($0.properties.isAlphabetic && $0.isASCII) || "0123456789-_.".unicodeScalars.contains($0) }
        let reserved = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "none"].contains(s.lowercased())
        let numeric = s.first.map { "0123456789-.".contains($0) } ?? false
        return safe && !reserved && !numeric ? s : quoted(s)
    }

    /// A double-quoted YAML string (the reporters' escaping: reads back as exactly `s`).
    static func quoted(_ s: String) -> String { Escaping.yamlDoubleQuoted(s) }

    /// A node re-written in flow style (for the author's keys that are kept).
    static func flow(_ n: YAMLNode) -> String {
        switch n.content {
        case let .scalar(s, style):
            // A tag is part of what a plain scalar means (`!!str null` is the text "null", not null): a
            // string tag becomes quotes, any other is written again before the text.
            if style == .plain, let tag = n.tag {
                return tag == YAMLTag.str || tag == YAMLTag.nonSpecific ? quoted(s) : YAMLTag.shortName(tag) + " " + s
            }
            if style == .plain { return s.isEmpty ? "~" : s }
            return quoted(s)
        case let .sequence(items): return "[" + items.map(flow).joined(separator: ", ") + "]"
        case let .mapping(pairs): return "{" + pairs.map { "\(flow($0.key)): \(flow($0.value))" }.joined(separator: ", ") + "}"
        }
    }
}
