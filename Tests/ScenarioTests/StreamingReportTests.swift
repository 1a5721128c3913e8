// StreamingReportTests: the report written as results arrive (issue 7, constant memory).
// - Each format streamed into a file (through the 64 KiB buffer and the temporary-file spool)
//   gives the golden bytes of `ReporterTests` (the text the reporters made before streaming) and
//   the bytes of `render`, also for reports far larger than the buffer.
// - `Suite.run(..., deliver:)`: file order then document order for any job count, delivery while
//   the run goes on (workers stay a bounded window ahead), fail-fast, duplicate ids.
// - The binary: `--output` gets the same bytes as standard output; no file when nothing matched.

import Foundation
@testable import Scenario
import Synchronization
import Testing

/// Streams `results` through `reporter` into a file sink at a fresh path and reads the file back.
private func streamedThroughAFile(_ reporter: any Reporter, _ results: [ScenarioResult]) throws -> String {
    let path = try CLI.temporaryDirectory() + "/report"
    let sink = FileSink(path: path)
    let stream = reporter.stream(into: sink)
    var summary = RunSummary()
    for r in results {
        summary.add(r)
        stream.add(r)
    }
    stream.finish(summary)
    try sink.close()
    return try CLI.read(path)
}

/// A passing scenario, run in a moment.
private func quick(_ id: String, cpl: Int = 3) -> String {
    "scenario: \(id)\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: \(cpl)}\n"
}

/// Many scenarios of `count` results over a few files, of every outcome, for large reports.
private func manyResults(_ count: Int) -> [ScenarioResult] {
    (0..<count).map { i in
        let file = "dir/file-\(i / 7).yaml"
        let outcome: ScenarioOutcome = switch i % 5 {
        case 0: .failed([CheckFailure(path: "steps[\(i)].expect.cpl", expected: "3", actual: "0 <&>\u{1b}",
                                      location: SourceLocation(file: file, line: i, column: 5))])
        case 1: .invalid([Diagnostic(.error, "unknown key 'x\(i)'", at: SourceLocation(file: file, line: 2, column: 1), notes: ["é ü"])])
        case 2: .skipped("needs ia32 #\(i)")
        default: .passed
        }
        return ScenarioResult(id: "scenario-\(i) \"q\"", file: file, line: 1 + (i % 7) * 10, description: "Number \(i)\nline two",
                              tags: ["t\(i % 3)"], points: Double(i % 4) / 2, outcome: outcome, checkCount: i % 6,
                              warnings: i % 9 == 0 ? [Diagnostic(.warning, "w\(i)", at: nil)] : [], partial: i % 2 == 0)
    }
}

private final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

@Suite struct StreamingReportTests {
    static let formats: [ReporterTests.NamedReporter] = ReporterTests.allReporters

    // MARK: Each format, streamed

    /// The goldens were written for the reporters that rendered a whole report at once.
    @Test(arguments: ReporterTests.goldens)
    func streamingIntoAFileGivesTheGolden(_ golden: ReporterTests.Golden) throws {
        let streamed = try streamedThroughAFile(golden.reporter, golden.report.results)
        #expect(streamed == golden.expected)
        #expect(golden.reporter.render(golden.report) == golden.expected)
    }

    /// 3,000 results make every report several times the sink's 64 KiB buffer, so the buffer and
    /// the spool are refilled and drained many times.
    @Test(arguments: formats)
    func aLargeReportStreamedIntoAFileIsTheRenderedOne(_ named: ReporterTests.NamedReporter) throws {
        let results = manyResults(3_000)
        let rendered = named.reporter.render(RunReport(results: results))
        #expect(rendered.utf8.count > 4 * FileSink.capacity)
        let streamed = try streamedThroughAFile(named.reporter, results)
        #expect(streamed.utf8.count == rendered.utf8.count)
        #expect(streamed == rendered)
    }

    /// The human report writes a scenario's lines when it arrives, not at the end; the formats
    /// whose totals come first write nothing into the sink before `finish`.
    @Test func humanWritesAsResultsArriveOthersAtTheEnd() {
        let results = manyResults(10)
        for named in Self.formats {
            let sink = MemorySink()
            let stream = named.reporter.stream(into: sink)
            stream.add(results[3])
            if named.name.hasPrefix("human") {
                #expect(sink.text.contains("PASS") && sink.text.contains("scenario-3"), "\(named.name): \(sink.text)")
            } else {
                #expect(sink.bytes.isEmpty, "\(named.name) wrote before finish")
            }
            stream.finish(RunSummary([results[3]]))
            #expect(!sink.bytes.isEmpty)
        }
    }

    @Test func humanKeepsFailedHeadlinesForTheEndAndTheSummaryLast() throws {
        let results = manyResults(12)
        let text = try streamedThroughAFile(HumanReporter(), results)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "")
        #expect(lines[lines.count - 2] == Substring(RunSummary(results).summaryLine))
        let listed = lines.filter { $0.hasPrefix("failed: ") || $0.hasPrefix("invalid: ") }
        #expect(listed.count == results.filter { $0.outcome.isFailedOrInvalid }.count)
        #expect(listed.first == "failed: scenario-0 \"q\" (dir/file-0.yaml:1)")
        #expect(listed.dropFirst().first == "invalid: scenario-1 \"q\" (dir/file-0.yaml:11)")
    }

    @Test func junitRenderGroupsAFileMetAgainButAStreamDoesNot() {
        let a1 = ScenarioResult(id: "a1", file: "a.yaml", line: 1, outcome: .passed, checkCount: 1)
        let b1 = ScenarioResult(id: "b1", file: "b.yaml", line: 1, outcome: .passed, checkCount: 1)
        let a2 = ScenarioResult(id: "a2", file: "a.yaml", line: 9, outcome: .passed, checkCount: 1)
        let rendered = JUnitReporter().render(RunReport(results: [a1, b1, a2]))
        #expect(rendered.components(separatedBy: "<testsuite ").count - 1 == 2)
        #expect(rendered == JUnitReporter().render(RunReport(results: [a1, a2, b1])))
        let sink = MemorySink()
        let stream = JUnitReporter().stream(into: sink)
        for r in [a1, b1, a2] { stream.add(r) }
        stream.finish(RunSummary([a1, b1, a2]))
        #expect(sink.text.components(separatedBy: "<testsuite ").count - 1 == 3)
    }

    @Test func separatedRepeatsAreFound() {
        #expect(!Suite.hasSeparatedRepeats([]))
        #expect(!Suite.hasSeparatedRepeats(["a", "a", "b", "c"]))
        #expect(Suite.hasSeparatedRepeats(["a", "b", "a"]))
        #expect(Suite.hasSeparatedRepeats(["a", "a", "b", "c", "b"]))
    }

    @Test func pathListHoldsThePathsAndShardsLikeAnArray() {
        let paths = ["a.yaml", "", "dir/caf\u{E9}.yaml", "dir/cafe\u{301}.yaml", "x/\u{FFFD}.yml"] + (0..<50).map { "d/\($0).yaml" }
        let list = PathList(paths)
        #expect(Array(list) == paths)
        #expect(list.count == paths.count)
        #expect(list[3].utf8.elementsEqual(paths[3].utf8))
        for n in 1...4 {
            for k in 1...n { #expect(Array(Suite.shard(list, k, of: n)) == Suite.shard(paths, k, of: n)) }
        }
        #expect(PathList().isEmpty)
    }

    @Test func discoveryFlagsAPathGivenAgainAfterOthers() throws {
        let dir = try makeSuite(["a.yaml": quick("a"), "b.yaml": quick("b"), "sub/c.yaml": quick("c")])
        #expect(!(try Suite.discoverAll([dir])).hasSeparatedRepeats)
        #expect(!(try Suite.discoverAll([dir + "/a.yaml", dir + "/a.yaml", dir + "/b.yaml"])).hasSeparatedRepeats)
        #expect(try Suite.discoverAll([dir + "/a.yaml", dir + "/b.yaml", dir + "/a.yaml"]).hasSeparatedRepeats)
        #expect(!(try Suite.discoverAll([dir, dir + "/sub"])).hasSeparatedRepeats)  // sub/c.yaml comes last in both
        #expect(try Suite.discoverAll([dir, dir + "/a.yaml"]).hasSeparatedRepeats)
        #expect(!(try Suite.discoverAll([dir + "/sub", dir + "/a.yaml"])).hasSeparatedRepeats)
    }

    @Test func collectingStreamRendersAtTheEnd() {
        let results = manyResults(30)
        let sink = MemorySink()
        let stream = CollectingReportStream(reporter: JUnitReporter(), sink: sink)
        for r in results.reversed() { stream.add(r) }
        #expect(sink.bytes.isEmpty)
        stream.finish(RunSummary(results))
        #expect(sink.text == JUnitReporter().render(RunReport(results: results.reversed())))
    }

    @Test func aFileSinkThatCannotOpenItsFileSaysSo() {
        let sink = FileSink(path: "/nonexistent-ringspec-dir/report.xml")
        sink.write("x")
        #expect(throws: ReportSinkError.self) { try sink.close() }
    }

    // MARK: Suite.run delivering

    /// The first file holds many documents, so with several jobs the later files finish first:
    /// the results still come in file order, then document order.
    @Test(arguments: [2, 3, 8])
    func deliveryIsInFileThenDocumentOrderForAnyJobs(_ jobs: Int) throws {
        var files: [String: String] = ["f00.yaml": (0..<40).map { quick("f00-\($0)") }.joined(separator: "---\n")]
        for f in 1..<30 { files[String(format: "f%02d.yaml", f)] = (0..<(f % 3 + 1)).map { quick(String(format: "f%02d-%d", f, $0)) }.joined(separator: "---\n") }
        let dir = try makeSuite(files)
        let paths = try Suite.discover([dir])
        var options = SuiteOptions(root: dir)
        options.jobs = 1
        var sequential: [ScenarioResult] = []
        Suite.run(files: paths, options: options) { sequential.append($0) }
        options.jobs = jobs
        var parallel: [ScenarioResult] = []
        Suite.run(files: paths, options: options) { parallel.append($0) }
        #expect(sequential.count == 40 + (1..<30).map { $0 % 3 + 1 }.reduce(0, +))
        #expect(parallel == sequential)
        let expectedIDs = (0..<40).map { "f00-\($0)" } + (1..<30).flatMap { f in (0..<(f % 3 + 1)).map { String(format: "f%02d-%d", f, $0) } }
        #expect(parallel.map(\.id) == expectedIDs)
        #expect(parallel.allSatisfy { $0.outcome == .passed })
    }

    /// Results are delivered while files still run: workers never get more than the window
    /// ahead of the delivery, so memory does not grow with the number of files.
    @Test(arguments: [1, 2])
    func deliveryStartsBeforeTheRunEnds(_ jobs: Int) throws {
        let count = Suite.deliveryWindow(jobs: jobs) + 40
        var files: [String: String] = [:]
        for f in 0..<count { files[String(format: "f%03d.yaml", f)] = quick("s\(f)") }
        let dir = try makeSuite(files)
        var options = SuiteOptions(root: dir)
        options.jobs = jobs
        let done = Counter()
        var doneAtDelivery: [Int] = []
        Suite.run(files: try Suite.discover([dir]), options: options, progress: { d, _ in done.value.store(d, ordering: .sequentiallyConsistent) }) { _ in
            doneAtDelivery.append(done.value.load(ordering: .sequentiallyConsistent))
        }
        #expect(doneAtDelivery.count == count)
        let first = try #require(doneAtDelivery.first)
        #expect(first <= (jobs == 1 ? 1 : Suite.deliveryWindow(jobs: jobs)), "the first result waited for \(first) files")
        #expect(first < count)
    }

    @Test(arguments: [1, 2, 4])
    func failFastEndsAtTheFirstFailureInFileOrder(_ jobs: Int) throws {
        var files = [
            "a.yaml": quick("a"),
            "b.yaml": quick("b1") + "---\n" + quick("b2-fails", cpl: 0) + "---\n" + quick("b3"),
            "c.yaml": quick("c-fails", cpl: 0),
            "d.yaml": quick("d"),
        ]
        for e in 0..<20 { files[String(format: "e%02d.yaml", e)] = quick("e\(e)") }
        let dir = try makeSuite(files)
        var options = SuiteOptions(root: dir)
        options.jobs = jobs
        options.failFast = true
        var delivered: [ScenarioResult] = []
        Suite.run(files: try Suite.discover([dir]), options: options) { delivered.append($0) }
        #expect(delivered.map(\.id) == ["a", "b1", "b2-fails"])
        #expect(delivered.last?.outcome.isFailedOrInvalid == true)
    }

    /// As before streaming, fail-fast looks at a scenario's own outcome: a passing scenario made
    /// invalid only because its id was used before is reported invalid and does not end the run.
    @Test(arguments: [1, 2])
    func failFastIsNotEndedByAReusedID(_ jobs: Int) throws {
        let dir = try makeSuite(["a.yaml": quick("x"), "b.yaml": quick("x"), "c.yaml": quick("c"), "d.yaml": quick("d-fails", cpl: 0), "e.yaml": quick("e")])
        var options = SuiteOptions(root: dir)
        options.jobs = jobs
        options.failFast = true
        var delivered: [ScenarioResult] = []
        Suite.run(files: try Suite.discover([dir]), options: options) { delivered.append($0) }
        #expect(delivered.map(\.id) == ["x", "x", "c", "d-fails"])
        #expect(delivered.map(\.outcome.isFailedOrInvalid) == [false, true, false, true])
    }

    /// Without fail-fast every file is delivered; a file that cannot be read is invalid and ends
    /// a fail-fast run like a failure.
    @Test(arguments: [1, 3])
    func failFastStopsAtAnInvalidFileToo(_ jobs: Int) throws {
        let dir = try makeSuite(["a.yaml": quick("a"), "b.yaml": "scenario: [unclosed\n", "c.yaml": quick("c")])
        var options = SuiteOptions(root: dir)
        options.jobs = jobs
        var all: [ScenarioResult] = []
        Suite.run(files: try Suite.discover([dir]), options: options) { all.append($0) }
        #expect(all.count == 3)
        options.failFast = true
        var delivered: [ScenarioResult] = []
        Suite.run(files: try Suite.discover([dir]), options: options) { delivered.append($0) }
        #expect(delivered.count == 2)
        guard case .invalid = delivered.last?.outcome else { Issue.record("not invalid: \(delivered)"); return }
    }

    /// A reused id is invalid, naming where it was first used, whatever the jobs; an invalid
    /// scenario does not claim its id. The same as `rejectDuplicateIDs` over all results.
    @Test(arguments: [1, 3])
    func duplicateIDsAreRejectedAsBefore(_ jobs: Int) throws {
        let dir = try makeSuite([
            "a.yaml": quick("same") + "---\n" + quick("other"),
            "b.yaml": "scenario: dup-of-invalid\nsteps: 3\n",
            "c.yaml": quick("dup-of-invalid") + "---\n" + quick("same"),
            "d.yaml": quick("other"),
        ])
        let files = try Suite.discover([dir])
        var options = SuiteOptions(root: dir)
        options.jobs = jobs
        var delivered: [ScenarioResult] = []
        Suite.run(files: files, options: options) { delivered.append($0) }
        #expect(delivered.map(\.id) == ["same", "other", "dup-of-invalid", "dup-of-invalid", "same", "other"])
        #expect(delivered.map(\.outcome.isPassed) == [true, true, false, true, false, false])
        guard case let .invalid(ds) = delivered[4].outcome else { Issue.record("second 'same' not invalid"); return }
        #expect(ds.map(\.message) == ["scenario id 'same' is already used by \(dir)/a.yaml:1; ids are unique within a suite"])
        #expect(ds.first?.location == SourceLocation(file: "\(dir)/c.yaml", line: 8, column: 1))
        guard case let .invalid(ds2) = delivered[5].outcome else { Issue.record("second 'other' not invalid"); return }
        #expect(ds2.first?.message.contains("already used by \(dir)/a.yaml:8") == true)
        let raw = files.flatMap { Suite.runFile($0, options: options) }
        #expect(delivered == Suite.rejectDuplicateIDs(raw))
        #expect(Suite.run(files: files, options: options).results == delivered)
    }

    /// The compact table against a plain dictionary, over enough ids to grow it many times, with
    /// ids that are equal as Swift strings but not byte for byte (é composed and decomposed).
    @Test func duplicateIDTableMatchesADictionary() {
        var table = Suite.DuplicateIDs()
        var reference: [String: String] = [:]
        for i in 0..<5_000 {
            let id = i % 7 == 0 ? "id-\(i / 3)" : (i % 11 == 0 ? "caf\u{E9}-\(i % 4)" : (i % 13 == 0 ? "cafe\u{301}-\(i % 4)" : "id-\(i)"))
            let file = "f\(i / 10).yaml"
            let outcome: ScenarioOutcome = i % 17 == 0 ? .invalid([Diagnostic(.error, "bad", at: nil)]) : .passed
            var result = ScenarioResult(id: id, file: file, line: i, outcome: outcome)
            table.check(&result)
            switch outcome {
            case .invalid:
                #expect(result.outcome == outcome)
            default:
                if let first = reference[id] {
                    #expect(result.outcome == .invalid([Diagnostic(.error, "scenario id '\(id)' is already used by \(first); ids are unique within a suite",
                                                                  at: SourceLocation(file: file, line: i, column: 1))]))
                } else {
                    #expect(result.outcome == .passed, "\(id) at \(i)")
                    reference[id] = "\(file):\(i)"
                }
            }
        }
        #expect(reference.count > 2_000)
        #expect(reference["cafe\u{301}-1"] != nil)
    }

    // MARK: The binary

    @Test(arguments: ["human", "json", "junit", "tap", "gradescope"])
    func outputFileHoldsTheSameBytesAsStandardOutput(_ format: String) throws {
        let path = try CLI.temporaryDirectory() + "/report"
        let out = try CLI.run(["run", "scenarios", "--format", format, "--jobs", "2"])
        let file = try CLI.run(["run", "scenarios", "--format", format, "--jobs", "2", "--output", path])
        #expect(out.status == 0 && file.status == 0)
        #expect(file.stdout.isEmpty)
        #expect(try CLI.read(path) == out.stdout)
    }

    @Test func nothingMatchedWritesNoReportAndExits2() throws {
        let path = try CLI.temporaryDirectory() + "/report.xml"
        for format in ["human", "junit"] {
            let r = try CLI.run(["run", "scenarios/hello", "--format", format, "--filter", "^no-such-id$", "--output", path])
            #expect(r.status == 2)
            #expect(r.stderr == "ringspec: no scenario matched the filter\n")
            #expect(!FileManager.default.fileExists(atPath: path))
            let s = try CLI.run(["run", "scenarios/hello", "--format", format, "--filter", "^no-such-id$"])
            #expect(s.status == 2 && s.stdout.isEmpty)
        }
    }

    /// `run a.yaml b.yaml a.yaml`: one <testsuite> per file as before streaming (reported from memory).
    @Test func junitKeepsOneTestsuiteForAFileGivenAgainAfterOthers() throws {
        let a = "scenarios/hello/hello-int80-ia32.yaml", b = "scenarios/hello/hello-syscall-x86_64.yaml"
        let r = try CLI.run(["run", a, b, a, "--format", "junit"])
        #expect(r.status == 2)  // the second a's ids are already used
        #expect(r.stdout.components(separatedBy: "<testsuite ").count - 1 == 2)
        #expect(r.stdout.contains("<testsuites name=\"ringspec\" tests=\"3\" failures=\"0\" errors=\"1\""))
    }

    @Test func checkStreamsTheSameWay() throws {
        let path = try CLI.temporaryDirectory() + "/check.json"
        let r = try CLI.run(["check", "scenarios", "--format", "json", "--output", path, "--jobs", "2"])
        #expect(r.status == 0)
        let document = try CLI.json(try CLI.read(path))
        #expect((document["summary"] as? [String: Any])?["passed"] as? Int == 286)
    }
}
