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

/// The scenario files found under the command line's paths, and the entries refused while looking.
public struct Discovery: Sendable {
    public var files: [String] = []
    /// Symbolic links that lead outside the folder being walked: each an invalid result, so the
    /// report shows them and the run exits 2.
    public var refused: [ScenarioResult] = []
}

public enum Suite {
    /// Most scenario files one run takes (`--max-files`).
    public static let defaultMaxFiles = 10_000
    /// Deepest folder nesting that discovery walks.
    public static let maxFolderDepth = 64

    /// Scenario files under the paths: folders recursively (`*.yaml`, `*.yml`, sorted), `_`-prefixed files skipped.
    public static func discover(_ paths: [String], maxFiles: Int = Suite.defaultMaxFiles) throws(SuiteError) -> [String] {
        try discoverAll(paths, maxFiles: maxFiles).files
    }

    /// Like `discover`, with the refused entries. A folder walk never leaves the folder: a symbolic
    /// link whose target lies outside it is refused, a linked folder already walked is skipped (no
    /// cycles), and more than `maxFiles` files is an error (a bound on the run's work).
    public static func discoverAll(_ paths: [String], maxFiles: Int = Suite.defaultMaxFiles) throws(SuiteError) -> Discovery {
        var found = Discovery()
        for p in paths {
            if FileAccess.isDirectory(p) {
                let base = FileAccess.canonical(p) ?? p
                var visited: Set<String> = [base]
                try walk(p, base: base, into: &found, visited: &visited, depth: 0, maxFiles: maxFiles)
            } else if FileAccess.exists(p) {
                try add(p, to: &found, maxFiles: maxFiles, under: p)
            } else {
                throw SuiteError(description: "\(p): no such file or directory")
            }
        }
        return found
    }

    static func add(_ path: String, to found: inout Discovery, maxFiles: Int, under top: String) throws(SuiteError) {
        guard found.files.count < maxFiles else {
            throw SuiteError(description: "\(path):1:1: error: more than \(maxFiles) scenario files under \(top) (--max-files)")
        }
        found.files.append(path)
    }

    static func walk(_ dir: String, base: String, into found: inout Discovery, visited: inout Set<String>,
                     depth: Int, maxFiles: Int) throws(SuiteError) {
        guard depth < maxFolderDepth else { return }
        for name in FileAccess.list(dir) {
            if name.hasPrefix(".") { continue }
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            let isScenarioName = (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) && !name.hasPrefix("_")
            if FileAccess.isSymlink(path) {
                guard let real = FileAccess.canonical(path) else {
                    if isScenarioName { try add(path, to: &found, maxFiles: maxFiles, under: dir) }  // dangling: reported as unreadable
                    continue
                }
                guard real == base || real.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
                    if isScenarioName || FileAccess.isDirectory(path) {
                        found.refused.append(ScenarioDecoder.invalidFile(path, "a symbolic link that leads outside \(dir); refused (scenario files must lie inside the folder given)", line: 1, column: 1))
                    }
                    continue
                }
                if FileAccess.isDirectory(path) {
                    guard visited.insert(real).inserted else { continue }
                    try walk(path, base: base, into: &found, visited: &visited, depth: depth + 1, maxFiles: maxFiles)
                } else if isScenarioName {
                    try add(path, to: &found, maxFiles: maxFiles, under: dir)
                }
            } else if FileAccess.isDirectory(path) {
                if let real = FileAccess.canonical(path) { guard visited.insert(real).inserted else { continue } }
                try walk(path, base: base, into: &found, visited: &visited, depth: depth + 1, maxFiles: maxFiles)
            } else if isScenarioName {
                try add(path, to: &found, maxFiles: maxFiles, under: dir)
            }
        }
    }

    /// Loads and runs (or only checks) every scenario of the files, in order.
    public static func run(files: [String], options: SuiteOptions) -> RunReport {
        var results: [ScenarioResult] = []
        for f in files { results += runFile(f, options: options) }
        return RunReport(results: results)
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
