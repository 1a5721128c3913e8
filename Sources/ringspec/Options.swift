// Options shared by the subcommands: report format and destination, colour, limits, root.

import ArgumentParser
import Scenario

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case human, json, junit, tap, gradescope
}

struct ReportOptions: ParsableArguments {
    @Option(name: .long, help: "Report format: human, json, junit, tap or gradescope.")
    var format: ReportFormat = .human

    @Option(name: .long, help: "Write the report to this file instead of standard output.")
    var output: String?

    @Flag(name: .long, inversion: .prefixedNo, help: "Colour the human report (default: only on a terminal; never when NO_COLOR is set).")
    var color: Bool?

    @Flag(name: .long, help: "Show descriptions, points and tags in the human report.")
    var verbose = false

    func reporter() -> any Reporter {
        switch format {
        case .human:
            let tty = output == nil && isatty(STDOUT_FILENO) != 0
            return HumanReporter(color: !Terminal.noColor && (color ?? tty), verbose: verbose)
        case .json: return JSONReporter()
        case .junit: return JUnitReporter()
        case .tap: return TAPReporter()
        case .gradescope: return GradescopeReporter()
        }
    }

    /// Where the report goes: `--output FILE` (created when the report is written), else standard output.
    func sink() -> FileSink {
        output.map { FileSink(path: $0) } ?? FileSink()
    }

    /// Flushes and closes the sink; an error writing the report is a usage error (exit 2), as before.
    func close(_ sink: FileSink) throws {
        do { try sink.close() } catch { throw ValidationError(error.description) }
    }

    /// A whole text at once (grade, new).
    func emit(_ text: String) throws {
        let sink = sink()
        sink.write(text.hasSuffix("\n") || output != nil ? text : text + "\n")
        try close(sink)
    }
}

struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: "Suite root: paths in scenarios (extends) must stay inside it. Default: for each path given, that folder (or the file's folder).")
    var root: String?

    @Option(name: .long, help: "Largest scenario file, in bytes.")
    var maxFileBytes: Int = YAMLLimits.defaultMaxFileBytes

    @Option(name: .long, help: "Deepest YAML nesting.")
    var maxDepth: Int = YAMLLimits.defaultMaxDepth

    @Option(name: .long, help: "Most nodes that aliases may re-use in one document.")
    var maxAliasNodes: Int = YAMLLimits.defaultMaxAliasExpansion

    @Option(name: .long, help: "Most bytes of text that aliases may re-use in one file.")
    var maxAliasBytes: Int = YAMLLimits.defaultMaxAliasBytes

    @Option(name: .long, help: "Longest YAML scalar (string), in bytes.")
    var maxScalarBytes: Int = YAMLLimits.defaultMaxScalarBytes

    @Option(name: .long, help: "Most documents in one file.")
    var maxDocuments: Int = YAMLLimits.defaultMaxDocuments

    @Option(name: .long, help: "Most scenario files in one run.")
    var maxFiles: Int = Suite.defaultMaxFiles

    @Option(name: .long, help: "Most page-table entries one scenario may map, summed over its mappings.")
    var maxPages: UInt64 = LoadOptions.defaultMaxMappedPages

    @Option(name: .long, help: "Most timer ticks one scenario may run.")
    var tickBudget: Int = RunLimits.defaultTickBudget

    @Option(name: .long, help: "Most bytes one scenario may write (console output and file contents together).")
    var maxOutputBytes: Int = RunLimits.defaultMaxOutputBytes

    @Option(name: .long, help: "Wall-clock seconds one scenario may run.")
    var timeLimit: Double = RunLimits.defaultTimeLimitSeconds

    func validate() throws {
        guard maxFileBytes > 0, maxDepth > 0, maxAliasNodes >= 0, maxAliasBytes >= 0, maxDocuments > 0, maxScalarBytes > 0, maxFiles > 0, tickBudget >= 0, maxOutputBytes > 0, timeLimit > 0 else {
            throw ValidationError("limits must be positive")
        }
    }

    /// `--root` must name an existing folder: a root that does not exist, or a file, would make
    /// every `extends` fail with a message about the scenario instead of about the option. (Called
    /// by the commands that take a root; `grade` refuses `--root` with a message of its own.)
    func validateRoot() throws {
        guard let root else { return }
        var st = stat()
        guard stat(root, &st) == 0 else {
            let why = String(cString: strerror(errno))
            throw ValidationError("--root '\(root)' cannot be used: \(why) (it must name an existing folder)")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw ValidationError("--root '\(root)' is not a folder (it must name the folder that `extends` paths stay inside)")
        }
    }

    /// A path given on the command line as a suite root: the folder itself, or a file's folder.
    static func folder(of path: String) -> String {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { return path }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
        return parts.isEmpty ? "." : (parts.joined(separator: "/").isEmpty ? "/" : parts.joined(separator: "/"))
    }

    func suiteOptions(paths: [String]) -> SuiteOptions {
        let defaultRoot = paths.first.map(Self.folder(of:)) ?? "."
        var o = SuiteOptions(root: root ?? defaultRoot)
        // Several paths and no --root: each file's root is the path it was found under.
        if root == nil, paths.count > 1 { o.roots = paths.map(Self.folder(of:)) }
        o.load.yaml.maxFileBytes = maxFileBytes
        o.load.yaml.maxDepth = maxDepth
        o.load.yaml.maxAliasExpansion = maxAliasNodes
        o.load.yaml.maxAliasBytes = maxAliasBytes
        o.load.yaml.maxDocuments = maxDocuments
        o.load.yaml.maxScalarBytes = maxScalarBytes
        o.load.maxMappedPages = maxPages
        o.run.tickBudget = tickBudget
        o.run.timeLimitSeconds = timeLimit
        o.run.maxOutputBytes = maxOutputBytes
        return o
    }
}

/// The terminal facts the CLI acts on.
enum Terminal {
    /// NO_COLOR set to anything but the empty string (https://no-color.org): no colour at all, even with --color.
    static var noColor: Bool {
        guard let v = getenv("NO_COLOR") else { return false }
        return v.pointee != 0
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    static var cores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// A progress line on standard error, redrawn in place; only when standard error is a terminal.
    static func progressReporter(total: Int) -> (@Sendable (Int, Int) -> Void)? {
        guard stderrIsTerminal, total > 1 else { return nil }
        return { done, total in
            FileHandleOutput.stderrRaw("\r\u{1b}[Kringspec: \(done)/\(total) files" + (done == total ? "\r\u{1b}[K" : ""))
        }
    }
}

/// Options of suites at scale: parallel files, early stop, CI shards, strictness.
struct ScaleOptions: ParsableArguments {
    @Option(name: .long, help: "Files run at once (default: the number of cores). The report is the same for any value.")
    var jobs: Int?

    @Flag(name: .long, help: "Stop at the first failed or invalid scenario (the report ends with it).")
    var failFast = false

    @Option(name: .long, help: "Run shard K of N (1-based, e.g. 2/4): file i of the sorted list goes to shard i mod N + 1.")
    var shard: String?

    @Flag(name: .long, help: "A scenario that checks nothing fails (otherwise it is a warning).")
    var strict = false

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
        if shard != nil, parsedShard == nil { throw ValidationError("--shard takes K/N with 1 <= K <= N, e.g. 2/4") }
    }

    var parsedShard: (Int, Int)? {
        guard let shard else { return nil }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else { return nil }
        return (k, n)
    }

    func apply(to o: inout SuiteOptions) {
        o.jobs = jobs ?? Terminal.cores
        o.failFast = failFast
        o.strict = strict
    }

    /// This shard's part of the discovery: its files and its refused entries (each reported by one shard only).
    func select(_ found: Discovery) -> Discovery {
        guard let (k, n) = parsedShard else { return found }
        return Suite.shard(found, k, of: n)
    }

    /// With `--shard`, which files of the whole list this shard runs (the others before its last
    /// file are decoded for their ids).
    func flags(_ found: Discovery) -> [Bool]? {
        parsedShard.map { Suite.shardFlags(found, $0.0, of: $0.1) }
    }
}
