// GradescopeReporter: the report as a Gradescope autograder `results.json`
// (https://gradescope-autograders.readthedocs.io/en/latest/specs/). One test per scenario:
//
//   {
//     "score": 3.5,                    the sum of the tests' scores as written (each rounded to 1/10000)
//     "output": "2 passed, 1 failed",  shown above the tests (plus `message` when given)
//     "output_format": "text",         every text is plain text (not Gradescope's default
//     "test_output_format": "text",    simple_format, which renders some HTML)
//     "test_name_format": "text",
//     "visibility": "visible",
//     "stdout_visibility": "hidden",
//     "tests": [
//       {
//         "name": "call-gate (gates.yaml)",
//         "score": 2,                  RunReport's `score`: points when passed; with `partial: true`
//                                      points x passed checks / checks (predict: right blanks /
//                                      blanks); else 0; a scenario that checks nothing earns 0
//         "max_score": 2,              the scenario's points
//         "status": "passed" | "failed",  the outcome, as counted in the output's "N passed, N failed"
//                                      (in `run`, a scenario that checks nothing passes with 0 points)
//         "output": "...",             the failed checks, diagnostics and warnings, as the human report words them
//         "visibility": "visible"
//       }
//     ]
//   }
//
// Names and outputs have their control characters (all but the newline in outputs) written
// visibly, `\u{1b}`, as in the human report.
// Numbers are written as in the JSON report (integers when integral); keys always in this order,
// so the same report gives the same bytes. A report that cannot be made (no exercise, no
// submission) is written with `failure(_:)`: score 0 and the message as the output.

public struct GradescopeReporter: Reporter, Sendable {
    /// Text shown above the tests (e.g. problems with the submission as a whole).
    public var message: String?
    public init(message: String? = nil) { self.message = message }

    public func stream(into sink: any ReportSink) -> any ReportStream {
        JSONReporter.Value.StreamedDocument(sink: sink, arrayKey: "tests", element: test) { [message] summary in
            var output = summary.summaryLine
            if let message, !message.isEmpty { output = message + "\n\n" + output }
            return Self.leadingMembers(score: summary.score, output: output)
        }
    }

    /// A results.json for a run that could not happen: score 0 and a readable message.
    public static func failure(_ message: String) -> String {
        let doc: JSONReporter.Value = .object(leadingMembers(score: 0, output: message) + [("tests", .array([]))])
        var out = ""
        doc.write(into: &out, depth: 0)
        return out + "\n"
    }

    /// The members before `tests`. Every text is shown as plain text: Gradescope's default,
    /// `simple_format`, would let markup in an id or a printed string (`<a href=...>`) render in
    /// the results page.
    private static func leadingMembers(score: Double, output: String) -> [(key: String, value: JSONReporter.Value)] {
        [
            ("score", .number(rounded(score))),
            ("output", .string(shown(output))),
            ("output_format", .string("text")),
            ("test_output_format", .string("text")),
            ("test_name_format", .string("text")),
            ("visibility", .string("visible")),
            ("stdout_visibility", .string("hidden")),
        ]
    }

    /// Text as Gradescope shows it: the report's words and the user's data, with every control
    /// character but the newline written visibly (`\u{0}`, `\u{1b}`), as in the human report. JSON
    /// could carry them escaped, but a NUL is refused by databases that store text (PostgreSQL) and
    /// the rest mean nothing on a web page.
    static func shown(_ text: String) -> String { Escaping.terminal(text, keepingNewlines: true) }

    /// Scores to 1/10000 of a point, so that 2/3 of a point prints the same everywhere.
    static func rounded(_ x: Double) -> Double { ScenarioResult.roundedScore(x) }

    private func test(_ r: ScenarioResult) -> JSONReporter.Value {
        var lines: [String] = []
        if let d = r.description?.split(separator: "\n").joined(separator: "\n"), !d.isEmpty { lines.append(d) }
        switch r.outcome {
        case .passed:
            if let b = r.blanks {
                lines.append("passed: all \(b.total) blank\(b.total == 1 ? "" : "s") right (\(r.checkCount) checks)")
            } else {
                lines.append(r.checkCount > 0 ? "passed: all \(r.checkCount) checks" : "passed, but checks nothing, so it earns no points")
            }
        case let .failed(fs):
            if let b = r.blanks {
                lines.append("failed: \(b.right) of \(b.total) blank\(b.total == 1 ? "" : "s") right" + (r.partial ? " (partial credit)" : ""))
            } else {
                let passed = max(0, r.checkCount - CheckFailure.failedChecks(fs))
                lines.append("failed: \(passed) of \(r.checkCount) checks passed" + (r.partial ? " (partial credit)" : ""))
            }
            lines += fs.map { "  " + $0.description }
        case let .invalid(ds):
            lines.append("invalid:")
            lines += ds.map { "  " + $0.description }
        case let .skipped(why):
            lines.append("skipped: \(why)")
        }
        lines += r.warnings.map { "  " + $0.description }
        return .object([
            ("name", .string(Escaping.terminal("\(r.id) (\(r.file))"))),
            ("score", .number(Self.rounded(r.score))),
            ("max_score", .number(r.points)),
            // The status is the outcome, as in the summary line above the tests: a scenario that
            // checks nothing passes in `run` (with a warning) but earns no points.
            ("status", .string(r.outcome.isPassed ? "passed" : "failed")),
            ("output", .string(Self.shown(lines.joined(separator: "\n")))),
            ("visibility", .string("visible")),
        ])
    }
}

