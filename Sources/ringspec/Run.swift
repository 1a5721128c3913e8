// `ringspec run PATH...`: run scenarios and report.

import ArgumentParser
import Scenario
import Synchronization

extension RingSpec {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run scenario files and folders (recursively) and report pass or fail.")

        @Argument(help: "Scenario files or folders.")
        var paths: [String]

        @OptionGroup var report: ReportOptions
        @OptionGroup var limits: LimitOptions

        @Option(name: .long, help: "Run only scenarios whose id matches this regular expression.")
        var filter: String?

        @Option(name: .long, help: "Run only scenarios with this tag (repeatable).")
        var tag: [String] = []

        @OptionGroup var scale: ScaleOptions

        @Flag(name: .long, help: "Rewrite the expect blocks of the selected scenarios with what the run did, then report the new run. Nothing outside expect blocks changes.")
        var update = false

        func validate() throws {
            try limits.validateRoot()
            if let filter, let why = SuiteOptions.filterError(filter) {
                throw ValidationError("--filter '\(filter)' is not a regular expression: \(why)")
            }
        }

        mutating func run() throws {
            let all = try discoverScenarioFiles(paths, maxFiles: limits.maxFiles)
            var options = limits.suiteOptions(paths: paths)
            options.filter = filter
            options.tags = tag
            scale.apply(to: &options)
            let found = scale.select(all)
            let selected = found.files
            if update {
                var problems = false
                for f in selected {
                    let u = ExpectUpdater.update(file: f, options: options)
                    for p in u.problems { FileHandleOutput.stderr("ringspec: update: \(p)"); problems = true }
                    if u.changed { FileHandleOutput.stderr("ringspec: updated \(f) (\(u.updatedScenarios.joined(separator: ", ")))") }
                }
                if problems { FileHandleOutput.stderr("ringspec: some scenarios were not updated") }
            }
            let summary = try runAndReport(found, files: all.files, only: scale.flags(all), options: options, report: report,
                                           requireResults: true, shard: selected.isEmpty ? scale.shard : nil)
            let status = ExitStatus.of(summary)
            if status != 0 { throw ExitCode(status) }
        }
    }
}

/// Runs (or checks) the files and writes the report while they run: each result as `Suite.run`
/// delivers it (file order, the refused entries in their places), so no result is kept once written. With
/// `requireResults`, a run with no result at all writes nothing and is the "no scenario matched
/// the filter" error (exit 2).
/// `found` is the shard's discovery (its refused entries are delivered), `files` the whole file
/// list with `only` marking the shard's files (`Suite.run`); `shard` names an empty shard.
func runAndReport(_ found: Discovery, files: PathList, only: [Bool]? = nil, options: SuiteOptions, report: ReportOptions,
                  requireResults: Bool, shard: String? = nil) throws -> RunSummary {
    let sink = report.sink()
    var progress = Terminal.progressReporter(total: only.map { f in f.lastIndex(of: true).map { $0 + 1 } ?? 0 } ?? files.count)
    if let draw = progress, report.output == nil, isatty(STDOUT_FILENO) != 0 {
        // The report and the progress line share the terminal: the line is cleared before the
        // first report text reaches it and not drawn again (the report scrolling shows progress).
        let gate = ProgressGate()
        progress = { done, total in gate.reportStarted.withLock { started in if !started { draw(done, total) } } }
        sink.beforeFlush = {
            gate.reportStarted.withLock { started in
                if !started { FileHandleOutput.stderrRaw("\r\u{1b}[K") }
                started = true
            }
        }
    }
    let reporter = report.reporter()
    // A <testsuite> holds all of a file's results, which a stream can group only when they come
    // together: a file given again after other files (`run a.yaml b.yaml a.yaml`) is reported
    // from memory, as before streaming, so the bytes stay the same.
    let stream = report.format == .junit && found.hasSeparatedRepeats
        ? CollectingReportStream(reporter: reporter, sink: sink)
        : reporter.stream(into: sink)
    var summary = RunSummary()
    let deliver = { (result: ScenarioResult) in
        summary.add(result)
        stream.add(result)
    }
    // The refused entries come in their place in file order (with --fail-fast the first failed
    // or invalid entry in that order, refused or not, ends the report).
    Suite.run(files: files, options: options, only: only, refused: found.refused, refusedPositions: found.refusedPositions,
              progress: progress, deliver: deliver)
    if requireResults && summary.total == 0 {
        if let shard {
            FileHandleOutput.stderr("ringspec: shard \(shard) holds no scenario file (fewer files than shards)")
        } else {
            FileHandleOutput.stderr("ringspec: no scenario matched the filter")
        }
        throw ExitCode(ExitStatus.invalid)
    }
    stream.finish(summary)
    try report.close(sink)
    return summary
}

/// Whether report text has reached the terminal, after which the progress line stays away.
final class ProgressGate: Sendable {
    let reportStarted = Mutex(false)
}

/// The scenario files under the paths (and the ones refused, as invalid results), or exit 2 with a
/// message when there are none.
func discoverScenarioFiles(_ paths: [String], maxFiles: Int) throws -> Discovery {
    let found: Discovery
    do { found = try Suite.discoverAll(paths, maxFiles: maxFiles) } catch {
        FileHandleOutput.stderr("ringspec: \(error.description)")
        throw ExitCode(ExitStatus.invalid)
    }
    guard !found.files.isEmpty || !found.refused.isEmpty else {
        FileHandleOutput.stderr("ringspec: no scenario files (*.yaml, *.yml) under \(paths.joined(separator: " "))")
        throw ExitCode(ExitStatus.invalid)
    }
    return found
}

enum FileHandleOutput {
    static func stderr(_ s: String) {
        var e = StandardError()
        print(s, to: &e)
    }

    /// Without a newline (the progress line).
    static func stderrRaw(_ s: String) {
        var e = StandardError()
        e.write(s)
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        #if canImport(Glibc)
        _ = string.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
