// Suite: finding scenario files under the paths given on the command line, and running them all
// into one report in a stable order.

import Machine

/// Options of a suite run.
public struct SuiteOptions: Sendable {
    public var load: LoadOptions
    public var run = RunLimits()
    /// Only scenarios whose id matches (substring or simple regex) run.
    public var filter: String?
    /// Only scenarios with one of these tags run.
    public var tags: [String] = []
    /// Decode only (`ringspec check`).
    public var checkOnly = false
    public init(root: String) { load = LoadOptions(root: root) }
}

public struct SuiteError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

public enum Suite {
    /// Scenario files under the paths: folders recursively (`*.yaml`, `*.yml`, sorted), `_`-prefixed files skipped.
    public static func discover(_ paths: [String]) throws(SuiteError) -> [String] {
        var files: [String] = []
        for p in paths {
            if FileAccess.isDirectory(p) {
                walk(p, into: &files, depth: 0)
            } else if FileAccess.exists(p) {
                files.append(p)
            } else {
                throw SuiteError(description: "\(p): no such file or directory")
            }
        }
        return files
    }

    static func walk(_ dir: String, into files: inout [String], depth: Int) {
        guard depth < 64 else { return }
        for name in FileAccess.list(dir) {
            if name.hasPrefix(".") { continue }
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            if FileAccess.isDirectory(path) {
                walk(path, into: &files, depth: depth + 1)
            } else if (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) && !name.hasPrefix("_") {
                files.append(path)
            }
        }
    }

    /// Loads and runs (or only checks) every scenario of the files, in order.
    public static func run(files: [String], options: SuiteOptions) -> RunReport {
        var results: [ScenarioResult] = []
        for f in files { results += runFile(f, options: options) }
        return RunReport(results: rejectDuplicateIDs(results))
    }

    /// Scenario ids are unique within a suite: a later scenario reusing an id is invalid.
    public static func rejectDuplicateIDs(_ results: [ScenarioResult]) -> [ScenarioResult] {
        var seen: [String: ScenarioResult] = [:]
        var out = results
        for (i, r) in results.enumerated() {
            if case .invalid = r.outcome { continue }
            if let first = seen[r.id] {
                out[i].outcome = .invalid([Diagnostic(.error, "scenario id '\(r.id)' is already used by \(first.file):\(first.line); ids are unique within a suite",
                                                      at: SourceLocation(file: r.file, line: r.line, column: 1))])
            } else {
                seen[r.id] = r
            }
        }
        return out
    }

    /// The results of one file.
    public static func runFile(_ file: String, options: SuiteOptions) -> [ScenarioResult] {
        var out: [ScenarioResult] = []
        for loaded in ScenarioDecoder.load(file: file, display: file, options: options.load) {
            switch loaded {
            case let .invalid(r):
                out.append(r)
            case let .spec(spec, warnings):
                guard selected(spec, options) else { continue }
                if options.checkOnly {
                    out.append(ScenarioResult(id: spec.id, file: file, line: spec.location.line, description: spec.description,
                                              tags: spec.tags, points: spec.points, outcome: .passed, checkCount: spec.checkCount,
                                              warnings: warnings))
                } else {
                    out.append(Runner.run(spec, file: file, warnings: warnings, limits: options.run).result)
                }
            }
        }
        return out
    }

    static func selected(_ spec: ScenarioSpec, _ o: SuiteOptions) -> Bool {
        if !o.tags.isEmpty && !spec.tags.contains(where: { o.tags.contains($0) }) { return false }
        if let f = o.filter, !f.isEmpty {
            return SimpleRegex(f).matches(spec.id)
        }
        return true
    }
}

/// A small regular-expression matcher for `--filter`: literals, `.`, `*`, `+`, `?`, `^`, `$`, and
/// `[...]` classes. Anchored only when `^`/`$` are written (substring match otherwise).
struct SimpleRegex {
    let pattern: [Character]
    init(_ p: String) { pattern = Array(p) }

    func matches(_ s: String) -> Bool {
        let text = Array(s)
        if pattern.first == "^" { return matchHere(1, text, 0) }
        for i in 0...text.count { if matchHere(0, text, i) { return true } }
        return false
    }

    /// One pattern atom at p: its length and whether it matches character c.
    func atom(_ p: Int) -> (Int, (Character) -> Bool) {
        if pattern[p] == "\\", p + 1 < pattern.count { let c = pattern[p + 1]; return (2, { $0 == c }) }
        if pattern[p] == "." { return (1, { _ in true }) }
        if pattern[p] == "[", let close = pattern[(p + 1)...].firstIndex(of: "]") {
            var set = Array(pattern[(p + 1)..<close])
            let negate = set.first == "^"
            if negate { set.removeFirst() }
            return (close - p + 1, { c in
                var i = 0, hit = false
                while i < set.count {
                    if i + 2 < set.count, set[i + 1] == "-" { if c >= set[i] && c <= set[i + 2] { hit = true }; i += 3 } else { if c == set[i] { hit = true }; i += 1 }
                }
                return hit != negate
            })
        }
        let c = pattern[p]
        return (1, { $0 == c })
    }

    func matchHere(_ p: Int, _ t: [Character], _ i: Int) -> Bool {
        if p == pattern.count { return true }
        if pattern[p] == "$" && p == pattern.count - 1 { return i == t.count }
        let (len, test) = atom(p)
        let next = p + len
        if next < pattern.count, "*+?".contains(pattern[next]) {
            let q = pattern[next]
            var j = i
            if q == "?" {
                if j < t.count && test(t[j]) && matchHere(next + 1, t, j + 1) { return true }
                return matchHere(next + 1, t, i)
            }
            if q == "+" { guard j < t.count && test(t[j]) else { return false }; j += 1 }
            var k = j
            while k < t.count && test(t[k]) { k += 1 }
            while k >= j { if matchHere(next + 1, t, k) { return true }; k -= 1 }
            return false
        }
        return i < t.count && test(t[i]) && matchHere(next, t, i + 1)
    }
}
