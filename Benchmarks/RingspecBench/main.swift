// ringspec-bench: measures ringspec against the floor it is built on (a bare libyaml event parse)
// and prints the ratios of issue 7. Run it on a release build:
//
//   swift run -c release ringspec-bench             # everything (a few minutes)
//   swift run -c release ringspec-bench --quick     # smaller corpus and suites, no 10^6 ticks
//
// Subcommands used by the benchmark itself (also handy alone):
//   gen DIR --count N [--seed S]      write N generated scenario files into DIR
//   parse-files PATH...               bare libyaml parse of every scenario file (the C-speed loop)
//   run-files [--jobs N] PATH...      Suite.runFile over the files on N threads

import Dispatch
import Machine
import Scenario
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// MARK: options

struct BenchOptions {
    var seed: UInt64 = 7
    var corpus = 500            // distinct scenarios in memory for the per-scenario ratio
    var rounds = 5              // alternating rounds; the best round counts
    var files = 10_000          // suite size for throughput, --jobs and RSS
    var bigFiles = 100_000      // the second RSS point
    var ticks = [10_000, 100_000, 1_000_000]
    var mappings = [1_000, 5_000, 10_000]
    var startups = 20
    var only: Set<String> = []  // sections: scenario, suite, jobs, rss, startup, scaling
    var keep = false
    var dir: String?
}

func parseOptions(_ args: [String]) -> BenchOptions {
    var o = BenchOptions()
    var i = 0
    func value() -> String {
        i += 1
        guard i < args.count else { fail("\(args[i - 1]) needs a value") }
        return args[i]
    }
    while i < args.count {
        switch args[i] {
        case "--seed": o.seed = seedValue(value())
        case "--corpus": o.corpus = number(args[i], value())
        case "--rounds": o.rounds = number(args[i], value())
        case "--files": o.files = number(args[i], value())
        case "--big-files": o.bigFiles = number(args[i], value())
        case "--ticks": o.ticks = numbers(args[i], value())
        case "--mappings": o.mappings = numbers(args[i], value())
        case "--only": o.only.formUnion(value().split(separator: ",").map(String.init))
        case "--dir": o.dir = value()
        case "--keep": o.keep = true
        case "--quick":
            o.corpus = 200; o.rounds = 3; o.files = 2_000; o.bigFiles = 20_000
            o.ticks = [10_000, 100_000]; o.mappings = [1_000, 10_000]; o.startups = 10
        case "-h", "--help":
            print("""
            usage: ringspec-bench [--quick] [--only scenario,suite,jobs,rss,startup,scaling]
                                  [--seed S] [--corpus N] [--rounds N] [--files N] [--big-files N]
                                  [--ticks a,b,c] [--mappings a,b,c] [--dir DIR] [--keep]
                   ringspec-bench gen DIR --count N [--seed S]
                   ringspec-bench parse-files PATH...
                   ringspec-bench run-files [--jobs N] PATH...
            """)
            exit(0)
        default: fail("unknown option \(args[i])")
        }
        i += 1
    }
    return o
}

/// A positive count for `option`; anything else stops the benchmark (a typo must not run a different benchmark).
func number(_ option: String, _ text: String) -> Int {
    guard let n = Int(text), n > 0 else { fail("\(option) needs a positive whole number, got '\(text)'") }
    return n
}

/// A generator seed: any unsigned 64-bit number.
func seedValue(_ text: String) -> UInt64 {
    guard let n = UInt64(text) else { fail("--seed needs an unsigned whole number, got '\(text)'") }
    return n
}

/// A comma-separated list of positive counts for `option`.
func numbers(_ option: String, _ text: String) -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    return parts.map { number(option, $0) }
}

func fail(_ s: String) -> Never {
    let text = "ringspec-bench: \(s)\n"
    _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(2)
}

// MARK: time, files, processes

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func timed(_ body: () -> Void) -> Double {
    let t = now()
    body()
    return now() - t
}

func writeFile(_ path: String, _ text: String) {
    guard let f = fopen(path, "wb") else { fail("cannot write \(path)") }
    var t = text
    t.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, f) }
    fclose(f)
}

func readFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n == 0 { break }
        out += buf[0..<n]
    }
    return out
}

func makeDir(_ path: String) { _ = mkdir(path, 0o755) }

/// Spawns argv with stdout and stderr to /dev/null (or `stdoutPath`); returns the exit status.
@discardableResult
func spawn(_ argv: [String], stdoutPath: String = "/dev/null") -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var cargs = argv.map { strdup($0) }
    cargs.append(nil)
    defer { for p in cargs { free(p) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, argv[0], &actions, nil, cargs, environ) == 0 else { fail("cannot run \(argv[0])") }
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return (status >> 8) & 0xFF
}

/// Best and median wall time of `runs` runs of argv; fails when the exit status is not 0.
func timeCommand(_ argv: [String], runs: Int) -> (best: Double, median: Double) {
    var times: [Double] = []
    for _ in 0..<runs {
        var status: Int32 = 0
        times.append(timed { status = spawn(argv) })
        if status != 0 { fail("\(argv.joined(separator: " ")) exited with \(status)") }
    }
    times.sort()
    return (times[0], times[times.count / 2])
}

func selfDir() -> String {
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    guard n > 0 else { fail("cannot find /proc/self/exe") }
    let path = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
}

func fmt(_ x: Double, _ digits: Int = 2) -> String {
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (x * p).rounded() / p
    var s = "\(r)"
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    }
    return s
}

func verdict(_ ok: Bool) -> String { ok ? "met" : "MISSED" }

// MARK: subcommands

/// Writes `count` generated files into dir, 1,000 per sub-folder.
func generate(into dir: String, count: Int, seed: UInt64, distinct: Int? = nil) {
    makeDir(dir)
    for i in 0..<count {
        let sub = "\(dir)/\(i / 1000)"
        if i % 1000 == 0 { makeDir(sub) }
        let idx = distinct.map { i % $0 } ?? i
        writeFile("\(sub)/s\(i).yaml", CorpusGenerator.scenario(seed: seed, index: idx))
    }
}

func parseFiles(_ paths: [String]) -> Int32 {
    let files: [String]
    do { files = try Suite.discover(paths) } catch { fail(error.description) }
    var events = 0
    for f in files {
        guard let bytes = readFile(f) else { fail("cannot read \(f)") }
        let n = BareParse.events(bytes)
        if n < 0 { fail("\(f): parse error") }
        events += n
    }
    print("\(files.count) files, \(events) events")
    return 0
}

final class Slots: @unchecked Sendable {
    var passed: [Int]
    var failed: [Int]
    /// The next file to run: workers take files one at a time, as `ringspec run --jobs N` does, so a
    /// worker on a slower core (a VM's stolen time) takes fewer files instead of holding up the end.
    let next = Atomic<Int>(0)
    init(_ n: Int) { passed = Array(repeating: 0, count: n); failed = passed }
}

func runFiles(_ args: [String]) -> Int32 {
    var jobs = 1
    var paths: [String] = []
    var i = 0
    while i < args.count {
        if args[i] == "--jobs", i + 1 < args.count { jobs = max(1, Int(args[i + 1]) ?? 1); i += 2; continue }
        paths.append(args[i]); i += 1
    }
    let files: [String]
    do { files = try Suite.discover(paths) } catch { fail(error.description) }
    let options = SuiteOptions(root: ".")
    let slots = Slots(jobs)
    let workers = jobs
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        var p = 0, f = 0
        while true {
            let k = slots.next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard k < files.count else { break }
            for r in Suite.runFile(files[k], options: options) {
                if case .passed = r.outcome { p += 1 } else { f += 1 }
            }
        }
        slots.passed[w] = p
        slots.failed[w] = f
    }
    let p = slots.passed.reduce(0, +), f = slots.failed.reduce(0, +)
    print("\(p) passed, \(f) failed")
    return f == 0 ? 0 : 1
}

// MARK: the benchmark

func perScenario(_ o: BenchOptions) {
    print("== per-scenario cost: load+decode+run+check vs bare libyaml parse, same process, same bytes")
    let corpus: [[UInt8]] = (0..<o.corpus).map { Array(CorpusGenerator.scenario(seed: o.seed, index: $0).utf8) }
    let bytes = corpus.reduce(0) { $0 + $1.count }
    print("corpus: \(o.corpus) generated scenarios, \(bytes / o.corpus) bytes on average (min \(corpus.map(\.count).min()!), max \(corpus.map(\.count).max()!))")
    let options = LoadOptions(root: ".")
    // Check once that every scenario passes.
    var failed = 0
    for (i, b) in corpus.enumerated() {
        for l in ScenarioDecoder.load(bytes: b, path: "gen\(i).yaml", display: "gen\(i).yaml", options: options) {
            guard case let .spec(spec, _) = l else { failed += 1; continue }
            if case .passed = Runner.run(spec, file: "gen\(i).yaml").result.outcome {} else { failed += 1 }
        }
    }
    if failed > 0 { fail("\(failed) generated scenarios do not pass") }
    var bestParse = Double.infinity, bestFull = Double.infinity
    var bestTree = Double.infinity, bestDecode = Double.infinity
    var sink = 0
    for _ in 0..<o.rounds {
        bestParse = min(bestParse, timed { for b in corpus { sink &+= BareParse.events(b) } })
        // The stages on their own: the YAML tree (libyaml included), then tree + decoding.
        bestTree = min(bestTree, timed {
            for b in corpus { sink &+= ((try? YAMLLoader.load(b, limits: options.yaml))?.count ?? 0) }
        })
        bestDecode = min(bestDecode, timed {
            for b in corpus { sink &+= ScenarioDecoder.load(bytes: b, path: "g.yaml", display: "g.yaml", options: options).count }
        })
        bestFull = min(bestFull, timed {
            for b in corpus {
                for l in ScenarioDecoder.load(bytes: b, path: "g.yaml", display: "g.yaml", options: options) {
                    if case let .spec(spec, _) = l {
                        if case .passed = Runner.run(spec, file: "g.yaml").result.outcome { sink &+= 1 }
                    }
                }
            }
        })
    }
    let n = Double(o.corpus)
    let ratio = bestFull / bestParse
    print("bare parse:               \(fmt(bestParse / n * 1e6)) us/scenario (\(fmt(Double(bytes) / bestParse / 1e6, 1)) MB/s)")
    print("  YAML tree (libyaml incl.): \(fmt(bestTree / n * 1e6)) us/scenario (\(fmt(bestTree / bestParse))x the parse)")
    print("  + decode:                  \(fmt(bestDecode / n * 1e6)) us/scenario (decode \(fmt((bestDecode - bestTree) / n * 1e6)) us)")
    print("  + build, run and check:    run+check \(fmt((bestFull - bestDecode) / n * 1e6)) us")
    print("load+decode+run+check:    \(fmt(bestFull / n * 1e6)) us/scenario")
    print("RATIO per scenario:       \(fmt(ratio))x   (target <= 1.50x: \(verdict(ratio <= 1.5)))   [sink \(sink % 10)]")
}

func suite(_ o: BenchOptions, dir: String, bin: String, bench: String, sections: (String) -> Bool) {
    let suiteDir = "\(dir)/suite\(o.files)"
    print("== suite of \(o.files) generated files (\(suiteDir))")
    generate(into: suiteDir, count: o.files, seed: o.seed)
    if sections("suite") {
        _ = spawn([bench, "parse-files", suiteDir])   // warm the page cache
        // The target is for one core: `--jobs 1` (the default uses every core).
        let run = timeCommand([bin, "run", "--jobs", "1", suiteDir], runs: 3)
        let parse = timeCommand([bench, "parse-files", suiteDir], runs: 3)
        let all = timeCommand([bin, "run", suiteDir], runs: 3)
        let ratio = run.best / parse.best
        print("ringspec run --jobs 1: best \(fmt(run.best, 3)) s, median \(fmt(run.median, 3)) s, \(fmt(Double(o.files) / run.best, 0)) files/s")
        print("ringspec run (default --jobs, every core): best \(fmt(all.best, 3)) s, \(fmt(Double(o.files) / all.best, 0)) files/s")
        print("bare parse loop (C libyaml over the same files, one core): best \(fmt(parse.best, 3)) s, median \(fmt(parse.median, 3)) s")
        print("RATIO suite throughput, one core:   \(fmt(ratio))x   (target <= 1.50x: \(verdict(ratio <= 1.5)))")
    }
    if sections("jobs") {
        let one = timeCommand([bench, "run-files", "--jobs", "1", suiteDir], runs: 3)
        let two = timeCommand([bench, "run-files", "--jobs", "2", suiteDir], runs: 3)
        let ratio = two.best / one.best
        print("run-files --jobs 1: best \(fmt(one.best, 3)) s; --jobs 2: best \(fmt(two.best, 3)) s (Suite.runFile on 2 threads)")
        print("RATIO jobs 2 / jobs 1:    \(fmt(ratio))x   (target <= 0.60x: \(verdict(ratio <= 0.6)))")
    }
    if sections("rss") {
        let bigDir = "\(dir)/suite\(o.bigFiles)"
        generate(into: bigDir, count: o.bigFiles, seed: o.seed)   // unique ids: a suite rejects reused ones
        func rss(_ path: String) -> Int {
            let out = "\(dir)/rss.txt"
            let status = spawn(["/usr/bin/time", "-f", "%M", "-o", out, bin, "run", "--max-files", "\(max(o.files, o.bigFiles))", path])
            if status != 0 { fail("ringspec run \(path) exited with \(status)") }
            let text = String(decoding: readFile(out) ?? [], as: UTF8.self)
            return Int(text.split(separator: "\n").last.map(String.init) ?? "") ?? -1
        }
        let small = rss(suiteDir), big = rss(bigDir)
        print("peak RSS (/usr/bin/time -f %M): \(o.files) files \(small) KiB, \(o.bigFiles) files \(big) KiB")
        let ok = small < 64 * 1024 && big < 64 * 1024
        print("RSS bound:                \(fmt(Double(max(small, big)) / 1024, 1)) MiB   (target < 64 MiB for both: \(verdict(ok)))")
        // Not flat: the run keeps the sorted file list and the suite's id table (ids are unique in a suite).
        let perFile = Double((big - small) * 1024) / Double(max(o.bigFiles - o.files, 1))
        print("RSS growth:               \(big - small) KiB for \(o.bigFiles - o.files) more files = \(fmt(perFile, 0)) bytes a file (file list + id table)")
    }
}

func startup(_ o: BenchOptions, dir: String, bin: String) {
    let one = "\(dir)/one.yaml"
    writeFile(one, CorpusGenerator.scenario(seed: o.seed, index: 0))
    _ = spawn([bin, "run", one])
    let t = timeCommand([bin, "run", one], runs: o.startups)
    print("== start-up: ringspec run one-file.yaml, \(o.startups) runs")
    print("START-UP:                 best \(fmt(t.best * 1000, 1)) ms, median \(fmt(t.median * 1000, 1)) ms   (target < 30 ms: \(verdict(t.median < 0.030)))")
}

/// Seconds to load+decode+run one in-memory scenario (best of `runs`), failing unless it passes.
func runScenarioText(_ text: String, runs: Int) -> Double {
    var limits = RunLimits()
    limits.timeLimitSeconds = 600
    limits.tickBudget = Int.max
    let bytes = Array(text.utf8)
    var best = Double.infinity
    for _ in 0..<runs {
        var outcome = ""
        let t = timed {
            for l in ScenarioDecoder.load(bytes: bytes, path: "scale.yaml", display: "scale.yaml", options: LoadOptions(root: ".")) {
                switch l {
                case let .spec(spec, _):
                    let r = Runner.run(spec, file: "scale.yaml", limits: limits).result
                    if case .passed = r.outcome {} else { outcome = "\(r.outcome)" }
                case let .invalid(r): outcome = "\(r.outcome)"
                }
            }
        }
        if !outcome.isEmpty { fail("scaling scenario did not pass: \(outcome)") }
        best = min(best, t)
    }
    return best
}

/// Least-squares slope and the ratio of the last per-unit cost to the first.
func report(_ label: String, _ points: [(Int, Double)], unit: String) {
    for (n, t) in points {
        print("  \(label) \(n): \(fmt(t * 1000, 1)) ms, \(fmt(t / Double(n) * 1e6, 3)) us/\(unit)")
    }
    guard points.count >= 2 else { return }
    let xs = points.map { Double($0.0) }, ys = points.map(\.1)
    let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
    var sxy = 0.0, sxx = 0.0
    for (x, y) in zip(xs, ys) { sxy += (x - mx) * (y - my); sxx += (x - mx) * (x - mx) }
    let slope = sxy / sxx
    // log-log exponent between the first and last point: 1.0 is linear.
    let k = log(ys.last! / ys.first!) / log(xs.last! / xs.first!)
    print("SCALING \(label): slope \(fmt(slope * 1e6, 3)) us/\(unit), log-log exponent \(fmt(k)) (linear = 1.00: \(verdict(k < 1.15)))")
}

func scaling(_ o: BenchOptions) {
    print("== scaling inside a scenario")
    var tasks = ""
    for i in 0..<100 { tasks += "  - {name: t\(i)\(i == 0 ? ", state: running" : "")}\n" }
    var points: [(Int, Double)] = []
    for n in o.ticks {
        let text = "scenario: timer-\(n)\nmachine: {mode: x86_64}\nkernel:\n  scheduler: {policy: rr, timeslice: 3}\nprocesses:\n\(tasks)steps:\n  - timer: \(n)\nexpect:\n  faults: 0\n"
        points.append((n, runScenarioText(text, runs: n >= 1_000_000 ? 1 : 3)))
    }
    report("timer ticks (100 tasks)", points, unit: "tick")
    points = []
    for n in o.mappings {
        var text = "scenario: mappings-\(n)\nmachine: {mode: x86_64}\nprocesses:\n  - name: big\n    state: running\n    pages:\n"
        for i in 0..<n {
            text += "      - {virt: 0x\(String(0x4000_0000 + i * 0x1000, radix: 16)), phys: 0x\(String(0x100_0000 + i * 0x1000, radix: 16)), user: true, writable: true}\n"
        }
        text += "steps:\n"
        for i in stride(from: 0, to: n, by: max(1, n / 8)) {
            text += "  - access: {op: write, addr: 0x\(String(0x4000_0000 + i * 0x1000 + 8, radix: 16))}\n    expect: {fault: none, physical: 0x\(String(0x100_0000 + i * 0x1000 + 8, radix: 16))}\n"
        }
        points.append((n, runScenarioText(text, runs: 3)))
    }
    report("page mappings", points, unit: "mapping")
}

func benchmark(_ o: BenchOptions) {
    let here = selfDir()
    let bin = "\(here)/ringspec", bench = "\(here)/ringspec-bench"
    guard access(bin, X_OK) == 0 else { fail("\(bin) not found: build the ringspec product first (swift build -c release)") }
    #if DEBUG
    print("warning: this is a debug build; the ratios of issue 7 are for `swift run -c release ringspec-bench`")
    #endif
    let sections = { (s: String) in o.only.isEmpty || o.only.contains(s) }
    var dir = o.dir ?? ""
    if dir.isEmpty {
        var template = Array("/tmp/ringspec-bench-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { fail("mkdtemp failed") }
        dir = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        _ = p
    } else { makeDir(dir) }
    print("ringspec-bench: seed \(o.seed), work dir \(dir), binaries in \(here)")
    if sections("scenario") { perScenario(o) }
    if sections("suite") || sections("jobs") || sections("rss") { suite(o, dir: dir, bin: bin, bench: bench, sections: sections) }
    if sections("startup") { startup(o, dir: dir, bin: bin) }
    if sections("scaling") { scaling(o) }
    if !o.keep { _ = spawn(["/bin/rm", "-rf", dir]) }
}

// MARK: entry

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "gen":
    let usage = "usage: ringspec-bench gen DIR --count N [--seed S]"
    guard arguments.count >= 2, !arguments[1].hasPrefix("-") else {
        if arguments.dropFirst().contains(where: { $0 == "-h" || $0 == "--help" }) { print(usage); exit(0) }
        fail(usage)
    }
    var count = 100, seed: UInt64 = 7
    var i = 2
    while i < arguments.count {
        guard i + 1 < arguments.count else { fail("\(arguments[i]) needs a value; \(usage)") }
        switch arguments[i] {
        case "--count": count = number("--count", arguments[i + 1])
        case "--seed": seed = seedValue(arguments[i + 1])
        default: fail("unknown option \(arguments[i]); \(usage)")
        }
        i += 2
    }
    generate(into: arguments[1], count: count, seed: seed)
case "parse-files":
    exit(parseFiles(Array(arguments.dropFirst())))
case "run-files":
    exit(runFiles(Array(arguments.dropFirst())))
default:
    benchmark(parseOptions(arguments))
}
