// JUnitReporter: the report as JUnit XML, for CI systems (GitLab, Jenkins, GitHub actions).
//
//   <?xml version="1.0" encoding="UTF-8"?>
//   <testsuites name="ringspec" tests="5" failures="1" errors="1" skipped="1" time="0">
//     <testsuite name="gates.yaml" tests="2" failures="1" errors="0" skipped="0" time="0">
//       <testcase classname="gates.yaml" name="call-gate" file="gates.yaml" line="1" time="0"/>
//       <testcase classname="gates.yaml" name="far-call" file="gates.yaml" line="24" time="0">
//         <failure message="2 check(s) failed" type="failure">PATH: expected E, got A (FILE:LINE:COLUMN)
//   ...</failure>
//         <system-out>warning text</system-out>
//       </testcase>
//     </testsuite>
//   </testsuites>
//
// - One <testsuite> per scenario file, named after the file as given on the command line, in
//   the order the files first appear in the report; a file's scenarios keep their run order.
//   A stream (`stream(into:)`) needs each file's results together, as a run delivers them, and
//   starts a second <testsuite> for a file met again later; `render` groups them first, and
//   `ringspec run a.yaml b.yaml a.yaml` renders from memory (`Suite.hasSeparatedRepeats`).
// - failed -> <failure> (counted in `failures`), its text one CheckFailure description per line;
//   invalid -> <error message="invalid scenario"> (counted in `errors`), its text the diagnostics;
//   skipped -> <skipped message="REASON"/>.
// - Warnings, and "checks nothing" for a scenario that ran no checks, go to <system-out>.
// - Every `time` is "0": the report does not measure time, and the same run gives the same bytes.
// - Text and attributes go through `Escaping.xmlText` / `Escaping.xmlAttribute`: characters XML
//   1.0 forbids (and DEL, C1) appear as `\u{1b}`.
// - `ringspec grade --format junit` (`grading: true`) adds the scores as properties, which JUnit
//   readers keep: each <testsuite> and <testcase> gets
//   `<properties><property name="score" value="0.5"/><property name="max_score" value="1"/></properties>`
//   (scores rounded to 1/10000 of a point, as in GradescopeReporter), first among its children.

public struct JUnitReporter: Reporter, Sendable {
    /// Add scores (for `ringspec grade`).
    public let grading: Bool

    public init(grading: Bool = false) { self.grading = grading }

    public func stream(into sink: any ReportSink) -> any ReportStream { Stream(reporter: self, sink: sink) }

    /// The results grouped by file (files in order of first appearance), then streamed.
    public func render(_ report: RunReport) -> String {
        renderByStreaming(RunReport(results: suitesByFile(report.results).flatMap(\.results)))
    }

    /// A `<testsuite>` needs its file's counts first, so the results of the current file are
    /// held (one file's worth) and written as one block when the next file starts; the blocks
    /// wait in a spool until `finish` writes `<testsuites>` with the run's counts. A stream
    /// expects each file's results together, as a run delivers them; a file met again later
    /// gets a second `<testsuite>` (`render` groups them first).
    private final class Stream: ReportStream {
        let reporter: JUnitReporter
        let sink: any ReportSink
        let spool: any ReportSpool
        var file: String?
        var results: [ScenarioResult] = []

        init(reporter: JUnitReporter, sink: any ReportSink) {
            self.reporter = reporter
            self.sink = sink
            spool = sink.makeSpool()
        }

        func add(_ result: ScenarioResult) {
            if result.file != file { writeSuite() }
            file = result.file
            results.append(result)
        }

        func finish(_ summary: RunSummary) {
            writeSuite()
            sink.write("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<testsuites name=\"ringspec\"" + JUnitReporter.counts(summary) + ">\n")
            spool.drain(into: sink)
            sink.write("</testsuites>\n")
        }

        private func writeSuite() {
            guard let file, !results.isEmpty else { return }
            let summary = RunSummary(results)
            var out = "  <testsuite name=\"" + Escaping.xmlAttribute(file) + "\"" + JUnitReporter.counts(summary) + ">\n"
            if reporter.grading { out += JUnitReporter.scoreProperties(summary.score, of: summary.maxScore, indent: "    ") }
            for result in results { reporter.renderTestCase(result, into: &out) }
            out += "  </testsuite>\n"
            spool.write(out)
            results.removeAll()
        }
    }

    fileprivate func renderTestCase(_ result: ScenarioResult, into out: inout String) {
        let file = Escaping.xmlAttribute(result.file)
        out += "    <testcase classname=\"\(file)\" name=\"\(Escaping.xmlAttribute(result.id))\""
            + " file=\"\(file)\" line=\"\(result.line)\" time=\"0\""

        var systemOut: [String] = []
        let ran: Bool
        switch result.outcome {
        case .passed, .failed: ran = true
        case .invalid, .skipped: ran = false
        }
        if ran && result.checkCount == 0 { systemOut.append("checks nothing") }
        systemOut += result.warnings.map(\.description)

        if result.outcome.isPassed && systemOut.isEmpty && !grading {
            out += "/>\n"
            return
        }
        out += ">\n"
        if grading { out += Self.scoreProperties(result.score, of: result.points, indent: "      ") }
        switch result.outcome {
        case .passed:
            break
        case .failed(let failures):
            out += "      <failure message=\"\(CheckFailure.failedChecks(failures)) check(s) failed\" type=\"failure\">"
            out += Escaping.xmlText(failures.map(\.description).joined(separator: "\n"))
            out += "</failure>\n"
        case .invalid(let diagnostics):
            out += "      <error message=\"invalid scenario\" type=\"invalid\">"
            out += Escaping.xmlText(diagnostics.map(\.description).joined(separator: "\n"))
            out += "</error>\n"
        case .skipped(let reason):
            out += "      <skipped message=\"" + Escaping.xmlAttribute(reason) + "\"/>\n"
        }
        if !systemOut.isEmpty {
            out += "      <system-out>" + Escaping.xmlText(systemOut.joined(separator: "\n")) + "</system-out>\n"
        }
        out += "    </testcase>\n"
    }

    /// `<properties>` with the score and the most it could be.
    private static func scoreProperties(_ score: Double, of maxScore: Double, indent: String) -> String {
        indent + "<properties><property name=\"score\" value=\"\(number(GradescopeReporter.rounded(score)))\"/>"
            + "<property name=\"max_score\" value=\"\(number(maxScore))\"/></properties>\n"
    }

    /// A score as every reporter prints numbers (`Escaping.number`: `1`, not `1.0`).
    static func number(_ x: Double) -> String { Escaping.number(x) ?? x.description }

    /// ` tests="N" failures="N" errors="N" skipped="N" time="0"`
    private static func counts(_ summary: RunSummary) -> String {
        " tests=\"\(summary.total)\" failures=\"\(summary.failedChecks)\" errors=\"\(summary.invalid)\""
            + " skipped=\"\(summary.skipped)\" time=\"0\""
    }

    /// The results grouped by file, files in order of first appearance.
    private func suitesByFile(_ results: [ScenarioResult]) -> [(file: String, results: [ScenarioResult])] {
        var suites: [(file: String, results: [ScenarioResult])] = []
        var indexOfFile: [String: Int] = [:]
        for result in results {
            if let i = indexOfFile[result.file] {
                suites[i].results.append(result)
            } else {
                indexOfFile[result.file] = suites.count
                suites.append((result.file, [result]))
            }
        }
        return suites
    }
}
