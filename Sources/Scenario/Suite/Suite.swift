// Suite: finding scenario files under the paths given on the command line, and running them all
// into one report in a stable order.

import Dispatch
import Machine
import Synchronization

/// Options of a suite run.
public struct SuiteOptions: Sendable {
    public var load: LoadOptions
    public var run = RunLimits()
    /// Only scenarios whose id matches this regular expression run (a match anywhere in the id;
    /// `^`/`$` anchor it). Swift's regex syntax: alternation, groups, classes, `\\d`, `(?i)`, ...
    /// A pattern that is not a regular expression matches nothing (the CLI refuses it first:
    /// `SuiteOptions.filterError`).
    public var filter: String?

    /// Why `pattern` is not a regular expression `--filter` can use, or nil when it is.
    public static func filterError(_ pattern: String) -> String? {
        do { _ = try Regex(pattern); return nil } catch { return "\(error)" }
    }
    /// Only scenarios with one of these tags run.
    public var tags: [String] = []
    /// Decode only (`ringspec check`).
    public var checkOnly = false
    /// Files run at once (each file on one thread; results keep file order whatever the count).
    public var jobs = 1
    /// Stop at the first failed or invalid scenario: the report ends with it, as with one job.
    public var failFast = false
    /// A scenario that checks nothing fails (it is only a warning otherwise).
    public var strict = false
    /// One suite root per command-line path (its folder, or a file's folder), used instead of
    /// `load.root` when not empty: a file's `extends` stays inside the root of the path it was
    /// found under (the longest root that contains it).
    public var roots: [String] = []
    public init(root: String) { load = LoadOptions(root: root) }

    /// The suite root for `file`: the longest of `roots` that is a prefix of its path (as a folder),
    /// or `load.root`.
    func root(for file: String) -> String {
        var best: String?
        for r in roots {
            let prefix = r.hasSuffix("/") ? r : r + "/"
            guard r == "." || file.hasPrefix(prefix) || file == r else { continue }
            // "." (the working folder) holds every relative path: any other match is longer.
            if let b = best, b != ".", r.count <= b.count { continue }
            best = r
        }
        return best ?? load.root
    }
}

public struct SuiteError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The scenario files found under the command line's paths, and the entries refused while looking.
public struct Discovery: Sendable {
    public var files = PathList()
    /// Entries refused while looking (a symbolic link that leads outside the folder being walked,
    /// a `_`-prefixed fragment named on the command line, a file or folder whose name is not
    /// UTF-8): each an invalid result, so the report shows them, in their place in file order
    /// (`refusedPositions`), and the run exits 2.
    public var refused: [ScenarioResult] = []
    /// Where each refused entry came in the walk: the number of files found before it. A shard
    /// takes the files and the refused entries by their place in that one list.
    public var refusedPositions: [Int] = []
    /// A path comes again after other paths, in report order (the files, each refused entry in
    /// its place among them): possible only when the command line's paths overlap (`a.yaml b.yaml a.yaml`,
    /// `dir dir/sub`). A streamed JUnit report needs each file's results together.
    public var hasSeparatedRepeats = false

    /// Refuses `path` in its place among the files found so far: an invalid result at line 1 with `message`.
    mutating func refuse(_ path: String, _ message: String) {
        refused.append(ScenarioDecoder.invalidFile(path, message, line: 1, column: 1))
        refusedPositions.append(files.count)
    }

    /// The paths in report order: the files, each refused entry in its place among them.
    var reportOrder: [String] {
        var out: [String] = []
        var r = 0
        for (i, file) in files.enumerated() {
            while r < refused.count, (r < refusedPositions.count ? refusedPositions[r] : Int.max) <= i {
                out.append(refused[r].file)
                r += 1
            }
            out.append(file)
        }
        out += refused[r...].map(\.file)
        return out
    }
}

public enum Suite {
    /// Most scenario files one run takes (`--max-files`).
    public static let defaultMaxFiles = 10_000
    /// Deepest folder nesting that discovery walks.
    public static let maxFolderDepth = 64

    /// Scenario files under the paths: folders recursively (`*.yaml`, `*.yml`, sorted), `_`-prefixed files skipped.
    public static func discover(_ paths: [String], maxFiles: Int = Suite.defaultMaxFiles) throws(SuiteError) -> [String] {
        Array(try discoverAll(paths, maxFiles: maxFiles).files)
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
                let name = p.split(separator: "/").last.map(String.init) ?? p
                if name.hasPrefix("_") {
                    // A fragment named on the command line: say so rather than decode it as a scenario
                    // ("needs an id").
                    found.refuse(p, "\(name) is a fragment (its name starts with `_`): it is used through `extends` by the scenarios that name it, not run by itself")
                    continue
                }
                try add(p, to: &found, maxFiles: maxFiles, under: p)
            } else {
                if p.unicodeScalars.contains("\u{FFFD}") {
                    // The command line's bytes that are not UTF-8 reach the program repaired to U+FFFD.
                    throw SuiteError(description: "\(p): no such file or directory (the path holds U+FFFD: a path that is not valid UTF-8 cannot be given to ringspec; rename the file, or name its folder and it is reported with its bytes escaped)")
                }
                throw SuiteError(description: "\(p): no such file or directory")
            }
        }
        // One folder walk or one file never gives a path twice.
        if paths.count > 1 {
            found.hasSeparatedRepeats = hasSeparatedRepeats(found.reportOrder)
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
        // A folder past the limit is refused, not skipped: a failing scenario hidden 65 folders
        // down must not leave a run that passes.
        guard depth < maxFolderDepth else {
            found.refuse(dir, "a folder nested more than \(maxFolderDepth) levels deep; not walked (scenario folders may nest \(maxFolderDepth) levels)")
            return
        }
        for entry in FileAccess.entries(dir) {
            let name = entry.name
            if name.hasPrefix(".") { continue }
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            let isScenarioName = (name.hasSuffix(".yaml") || name.hasSuffix(".yml")) && !name.hasPrefix("_")
            if let bytes = entry.bytes {
                // A name that is not UTF-8 cannot be held in a path string (its repaired form names
                // no file): refused in its place, the name shown with its bytes escaped.
                let isFolder = FileAccess.isDirectory(in: dir, bytes: bytes)
                if isScenarioName || isFolder {
                    let shown = (dir.hasSuffix("/") ? dir : dir + "/") + FileAccess.escapedName(bytes)
                    let what = isFolder ? "a folder" : "a file"
                    found.refuse(shown, "\(what) whose name is not valid UTF-8 (shown with its bytes escaped as \\xNN); ringspec names files by UTF-8 paths and cannot \(isFolder ? "walk" : "run") it: rename it")
                }
                continue
            }
            if FileAccess.isSymlink(path) {
                // Where the link leads decides, whether or not its target exists, and whatever its
                // name: every link out of the folder is refused in the same words, so a submission
                // cannot probe which files the grading machine has.
                guard let target = FileAccess.resolved(path), FileAccess.isInside(target, root: base) else {
                    found.refuse(path, "a symbolic link that leads outside \(dir); refused (scenario files must lie inside the folder given)")
                    continue
                }
                guard let real = FileAccess.canonical(path) else {
                    if isScenarioName { try add(path, to: &found, maxFiles: maxFiles, under: dir) }  // dangling: reported as unreadable
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

    /// Loads and runs (or only checks) every scenario of the files into one report (`run(files:options:progress:deliver:)`
    /// collected in memory).
    public static func run<Files: RandomAccessCollection & Sendable>(
        files: Files, options: SuiteOptions, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) -> RunReport where Files.Element == String, Files.Index == Int {
        var results: [ScenarioResult] = []
        run(files: files, options: options, progress: progress) { results.append($0) }
        return RunReport(results: results)
    }

    /// Loads and runs (or only checks) every scenario of the files, and hands each result to
    /// `deliver` on the calling thread, in a stable order: file order, then document order, with
    /// a later reuse of a scenario id made invalid (`DuplicateIDs`). With `jobs` > 1 the files
    /// run on that many threads, the calling thread among them, which also delivers the finished files in order,
    /// so the results are the same, in the same order, for any `jobs`. A file's results are
    /// freed once delivered, and workers stay at most `window` files ahead of the delivery, so
    /// memory does not grow with the number of files. With `failFast` the delivery ends with the
    /// first failed or invalid scenario in that order (files after it may have run; their
    /// results are dropped, so what is delivered does not depend on timing). `progress(done,
    /// total)` is called as files finish, one call at a time.
    ///
    /// `only` (a shard: one flag per file) runs and delivers only the files it marks; the others
    /// before the last marked one are decoded (as `check` does) so that their ids count for the
    /// rule that ids are unique: a shard reports an id reused from another shard's file as the
    /// whole run does, and the union of the shards' reports is the whole run's.
    ///
    /// `refused` (entries discovery refused: a symbolic link out of the folder, a fragment named
    /// on the command line, a file name that is not UTF-8) are delivered in their place in the
    /// same order: entry i before the file that `refusedPositions[i]` (the number of files of
    /// this shard found before it) counts up to, so the report is in file order, refused entries
    /// included, for any `jobs`. With `failFast` a refused entry ends the delivery as an invalid
    /// scenario does.
    public static func run<Files: RandomAccessCollection & Sendable>(
        files: Files, options: SuiteOptions, only: [Bool]? = nil, refused: [ScenarioResult] = [], refusedPositions: [Int] = [],
        progress: (@Sendable (Int, Int) -> Void)? = nil,
        deliver: (ScenarioResult) -> Void
    ) where Files.Element == String, Files.Index == Int {
        var ids = DuplicateIDs()
        var refusedDelivered = 0
        var shardFilesDelivered = 0
        /// Delivers the refused entries that come before the shard's file number `position`
        /// (Int.max: all that are left); false when fail-fast ends the run.
        func deliverRefused(upTo position: Int) -> Bool {
            while refusedDelivered < refused.count {
                // An entry without a recorded position comes after every file.
                let at = refusedDelivered < refusedPositions.count ? refusedPositions[refusedDelivered] : Int.max
                guard at <= position else { return true }
                let result = refused[refusedDelivered]
                refusedDelivered += 1
                deliver(result)
                if options.failFast && result.outcome.isFailedOrInvalid { return false }
            }
            return true
        }
        let inShard = { @Sendable (i: Int) -> Bool in only.map { i < $0.count && $0[i] } ?? true }
        // Files after the shard's last one play no part in it.
        let count = only.map { flags in flags.lastIndex(of: true).map { $0 + 1 } ?? 0 } ?? files.count
        let decodeOnly = { var o = options; o.checkOnly = true; return o }()
        let optionsFor = { @Sendable (i: Int) -> SuiteOptions in inShard(i) ? options : decodeOnly }
        /// Delivers the results of file `i`; false when fail-fast ends the run.
        func deliverFile(_ i: Int, _ results: [ScenarioResult]) -> Bool {
            guard inShard(i) else {
                // Another shard's file: its ids are claimed, nothing is delivered.
                for var result in results { ids.check(&result, fileNumber: i) { files[$0] } }
                return true
            }
            guard deliverRefused(upTo: shardFilesDelivered) else { return false }
            shardFilesDelivered += 1
            for var result in results {
                let stop = options.failFast && result.outcome.isFailedOrInvalid
                ids.check(&result, fileNumber: i) { files[$0] }
                deliver(result)
                if stop { return false }
            }
            return true
        }

        let jobs = max(1, min(options.jobs, count))
        if jobs == 1 {
            for i in 0..<count {
                let results = runFile(files[i], options: optionsFor(i))
                progress?(i + 1, count)
                guard deliverFile(i, results) else { return }
            }
            _ = deliverRefused(upTo: Int.max)
            return
        }

        // The calling thread is one of the `jobs` workers: between its own files it delivers the
        // finished ones in order, and it waits only when it has nothing to run and the next file
        // to deliver is still running on another thread. (A delivering thread of its own, beside
        // `jobs` workers, woke once per file and competed with the workers for the cores.)
        let window = deliveryWindow(jobs: jobs)
        let state = SharedState(ParallelState(slots: Array(repeating: nil, count: count)))
        // Both start at 0 (libdispatch traps when a semaphore is freed below its initial value,
        // which a fail-fast stop would leave `room` at).
        let finished = DispatchSemaphore(value: 0)  // one signal per file a helper thread ran
        let room = DispatchSemaphore(value: 0)  // files a worker may take before delivery catches up
        for _ in 0..<window { room.signal() }
        /// The next file to run, or nil when there is none (all taken, or the run is stopping).
        @Sendable func take() -> Int? {
            state.withLock { s in
                guard !s.stopped, s.next < count, s.next < s.firstFailedFile else { return nil }
                defer { s.next += 1 }
                return s.next
            }
        }
        /// Runs file `i` and leaves its results in its slot.
        @Sendable func runAndStore(_ i: Int) {
            let results = runFile(files[i], options: optionsFor(i))
            state.withLock { s in
                s.slots[i] = results
                s.done += 1
                if options.failFast, inShard(i), results.contains(where: { $0.outcome.isFailedOrInvalid }) {
                    s.firstFailedFile = min(s.firstFailedFile, i)
                }
                progress?(s.done, count)
            }
        }
        let helpers = DispatchGroup()
        for _ in 1..<jobs {
            DispatchQueue.global().async(group: helpers) {
                while true {
                    room.wait()
                    guard let i = take() else { room.signal(); return }
                    runAndStore(i)
                    finished.signal()
                }
            }
        }
        var delivered = 0
        var stoppedEarly = false
        deliveries: while delivered < count {
            // Deliver every finished file that is next in order.
            while delivered < count {
                let ready: [ScenarioResult]? = state.withLock { s in
                    guard let slot = s.slots[delivered] else { return nil }
                    s.slots[delivered] = nil
                    return slot
                }
                guard let ready else { break }
                delivered += 1
                room.signal()
                if !deliverFile(delivered - 1, ready) { stoppedEarly = true; break deliveries }
            }
            guard delivered < count else { break }
            // Run a file here when the window allows one and one is left; otherwise wait for a
            // helper to finish one. Every file up to a fail-fast stop is taken by some worker, so
            // the slot awaited will be filled.
            if room.wait(timeout: .now()) == .success {
                if let i = take() { runAndStore(i); continue }
                room.signal()
            }
            finished.wait()
        }
        state.withLock { s in s.stopped = true }
        for _ in 0..<jobs { room.signal() }  // wake any helper waiting for room, to see the stop
        helpers.wait()
        if !stoppedEarly { _ = deliverRefused(upTo: Int.max) }
    }

    /// How many files the workers of a parallel run may have taken beyond the last one delivered.
    static func deliveryWindow(jobs: Int) -> Int { max(64, jobs * 16) }

    /// Scenario ids are unique within a suite: a later scenario reusing an id is invalid.
    public static func rejectDuplicateIDs(_ results: [ScenarioResult]) -> [ScenarioResult] {
        var ids = DuplicateIDs()
        return results.map { r in
            var r = r
            ids.check(&r)
            return r
        }
    }

    /// A lock around the state the worker threads share.
    final class SharedState: Sendable {
        let mutex: Mutex<ParallelState>
        init(_ s: ParallelState) { mutex = Mutex(s) }
        func withLock<R: Sendable>(_ body: (inout sending ParallelState) -> sending R) -> R { mutex.withLock(body) }
    }

    /// Shared by the worker threads of `run` and the delivering thread.
    struct ParallelState: Sendable {
        /// The results of files run and not yet delivered (delivered slots go back to nil).
        var slots: [[ScenarioResult]?]
        var next = 0
        var done = 0
        var firstFailedFile = Int.max
        /// The delivery is over: workers take no more files.
        var stopped = false
    }

    /// Whether a path comes again after other paths (`a b a`): then a file's results do not all
    /// come together in a run, which a streamed JUnit report needs. Only the paths' hashes are
    /// kept, so two different paths with the same hash give a cautious yes.
    public static func hasSeparatedRepeats<S: Sequence>(_ paths: S) -> Bool where S.Element == String {
        var seen: Set<Int> = []
        var previous: String?
        for p in paths {
            if p != previous && !seen.insert(p.hashValue).inserted { return true }
            previous = p
        }
        return false
    }

    /// The files of shard `k` of `n` (1-based): file i (0-based, in discovery order) belongs to
    /// shard i mod n + 1. Every file is in exactly one shard, whatever the machine.
    public static func shard(_ files: [String], _ k: Int, of n: Int) -> [String] {
        files.enumerated().filter { $0.offset % n == k - 1 }.map(\.element)
    }

    /// `shard` of a path list.
    public static func shard(_ files: PathList, _ k: Int, of n: Int) -> PathList {
        PathList(stride(from: k - 1, to: files.count, by: n).lazy.map { files[$0] })
    }

    /// Shard `k` of `n` of a discovery: its files and refused entries are one list in walk order
    /// (a refused entry is a file the walk found, too), and entry i of that list belongs to shard
    /// i mod n + 1. So every refused entry is reported by exactly one shard, as every file is run
    /// by exactly one, and the union of the shards' reports is the whole run's.
    public static func shard(_ found: Discovery, _ k: Int, of n: Int) -> Discovery {
        let flags = shardFlags(found, k, of: n)
        var out = Discovery()
        out.hasSeparatedRepeats = found.hasSeparatedRepeats
        var refusedIndex = 0
        var entry = 0
        func takeRefused(upTo files: Int) {
            while refusedIndex < found.refused.count,
                  (refusedIndex < found.refusedPositions.count ? found.refusedPositions[refusedIndex] : 0) <= files {
                if entry % n == k - 1 {
                    out.refused.append(found.refused[refusedIndex])
                    out.refusedPositions.append(out.files.count)
                }
                entry += 1
                refusedIndex += 1
            }
        }
        for (i, file) in found.files.enumerated() {
            takeRefused(upTo: i)
            if flags[i] { out.files.append(file) }
            entry += 1
        }
        takeRefused(upTo: Int.max)
        return out
    }

    /// Whether each file of the discovery belongs to shard `k` of `n` (as `shard` places it):
    /// `run(files:options:only:...)` takes the whole list with these flags.
    public static func shardFlags(_ found: Discovery, _ k: Int, of n: Int) -> [Bool] {
        var flags: [Bool] = []
        flags.reserveCapacity(found.files.count)
        var refusedIndex = 0
        for i in found.files.indices {
            while refusedIndex < found.refused.count,
                  (refusedIndex < found.refusedPositions.count ? found.refusedPositions[refusedIndex] : 0) <= i {
                refusedIndex += 1
            }
            flags.append((i + refusedIndex) % n == k - 1)
        }
        return flags
    }

    /// The results of one file.
    public static func runFile(_ file: String, options: SuiteOptions) -> [ScenarioResult] {
        var out: [ScenarioResult] = []
        var load = options.load
        if !options.roots.isEmpty { load.root = options.root(for: file) }
        for loaded in ScenarioDecoder.load(file: file, display: file, options: load) {
            switch loaded {
            case let .invalid(r):
                out.append(r)
            case let .spec(spec, warnings):
                guard selected(spec, options) else { continue }
                var result: ScenarioResult
                if options.checkOnly {
                    result = ScenarioResult(id: spec.id, file: file, line: spec.location.line, description: spec.description,
                                            tags: spec.tags, points: spec.points, outcome: .passed, checkCount: spec.checkCount,
                                            warnings: warnings, partial: spec.partialCredit)
                    // `check` also builds the machine (tables, page mappings, tasks), without running a step.
                    if let problems = Runner.buildProblems(spec) { result.outcome = .invalid(problems) }
                } else {
                    result = Runner.run(spec, file: file, warnings: warnings, limits: options.run).result
                }
                applyCheckNothingRule(&result, spec: spec, strict: options.strict)
                out.append(result)
            }
        }
        return out
    }

    /// A scenario without a single check proves nothing: a warning, or with `--strict` a failure.
    static func applyCheckNothingRule(_ result: inout ScenarioResult, spec: ScenarioSpec, strict: Bool) {
        guard spec.checkCount == 0 else { return }
        let message = "scenario '\(spec.id)' checks nothing: it has no `expect` on any step nor at the top level"
        if strict {
            let failure = CheckFailure(path: "expect", expected: "at least one check (--strict)", actual: "none", location: spec.location)
            switch result.outcome {
            case .passed: result.outcome = .failed([failure])
            case let .failed(fs): result.outcome = .failed(fs + [failure])
            default: break
            }
        } else {
            result.warnings.append(Diagnostic(.warning, message, at: spec.location))
        }
    }

    static func selected(_ spec: ScenarioSpec, _ o: SuiteOptions) -> Bool {
        if !o.tags.isEmpty && !spec.tags.contains(where: { o.tags.contains($0) }) { return false }
        if let f = o.filter, !f.isEmpty {
            // Compiled per scenario (a regex holding `AnyRegexOutput` is not Sendable, so the
            // options cannot keep one); that is microseconds against a scenario's run.
            guard let r = try? Regex(f) else { return false }
            return spec.id.contains(r)
        }
        return true
    }
}
