// TAPReporter: the report as TAP version 14 (https://testanything.org/tap-version-14-specification.html).
//
//   TAP version 14
//   1..4
//   ok 1 - call-gate-raises-privilege
//   not ok 2 - far-call-refused
//     ---
//     message: "2 check(s) failed"
//     severity: "fail"
//     at:
//       file: "gates.yaml"
//       line: 24
//     failures:
//       - path: "steps[2].expect.fault.error_code"
//         expected: "0x60"
//         actual: "0x0"
//         at:
//           file: "gates.yaml"
//           line: 41
//           column: 21
//     ...
//   not ok 3 - broken.yaml          (YAML block: message "invalid scenario", severity "error",
//                                     at, diagnostics: [severity, message, at?, notes?])
//   ok 4 - long-mode-only # SKIP needs x86_64
//
// - The description is the scenario id, with `\` and `#` escaped (`\\`, `\#`) as TAP 14 requires.
// - The YAML block, indented two spaces, follows every failed or invalid scenario, and any
//   scenario with warnings (`warnings:`, same shape as `diagnostics:`) or that ran no checks
//   (`message: "checks nothing"`). Keys appear in the order above; keys with nothing to say
//   (a note, a location, notes) are left out.
// - Every YAML string is double-quoted with escapes, so no value can end the block or change
//   its structure; numbers are bare.

public struct TAPReporter: Reporter, Sendable {
    /// Add scores (for `ringspec grade --format tap`): every test point gets a YAML block with
    /// `score` and `max_score` (numbers, after `message`/`severity`), and the stream ends with the
    /// comment `# score: X of Y`.
    public let grading: Bool

    public init(grading: Bool = false) { self.grading = grading }

    public func stream(into sink: any ReportSink) -> any ReportStream { Stream(reporter: self, sink: sink) }

    /// The test points wait in a spool until the plan (`1..N`, which needs the count) is written
    /// after the version line.
    private final class Stream: ReportStream {
        let reporter: TAPReporter
        let sink: any ReportSink
        let spool: any ReportSpool
        var count = 0

        init(reporter: TAPReporter, sink: any ReportSink) {
            self.reporter = reporter
            self.sink = sink
            spool = sink.makeSpool()
        }

        func add(_ result: ScenarioResult) {
            count += 1
            var out = ""
            reporter.renderTestPoint(result, number: count, into: &out)
            spool.write(out)
        }

        func finish(_ summary: RunSummary) {
            sink.write("TAP version 14\n1..\(count)\n")
            spool.drain(into: sink)
            if reporter.grading {
                sink.write("# score: \(JUnitReporter.number(GradescopeReporter.rounded(summary.score))) of \(JUnitReporter.number(summary.maxScore))\n")
            }
        }
    }

    private func renderTestPoint(_ result: ScenarioResult, number: Int, into out: inout String) {
        let description = Escaping.tapDescription(result.id)
        var message: String?
        var severity: String?
        var failures: [CheckFailure] = []
        var diagnostics: [Diagnostic] = []
        switch result.outcome {
        case .passed:
            out += "ok \(number) - \(description)\n"
            if result.checkCount == 0 { message = "checks nothing" }
        case .failed(let f):
            out += "not ok \(number) - \(description)\n"
            message = "\(CheckFailure.failedChecks(f)) check(s) failed"
            severity = "fail"
            failures = f
        case .invalid(let d):
            out += "not ok \(number) - \(description)\n"
            message = "invalid scenario"
            severity = "error"
            diagnostics = d
        case .skipped(let reason):
            out += "ok \(number) - \(description) # SKIP \(Escaping.terminal(reason))\n"
        }

        guard message != nil || !result.warnings.isEmpty || grading else { return }
        var yaml = YAMLBlock()
        yaml.line("---")
        if let message { yaml.field("message", string: message) }
        if let severity { yaml.field("severity", string: severity) }
        if grading {
            yaml.line("score: " + JUnitReporter.number(GradescopeReporter.rounded(result.score)))
            yaml.line("max_score: " + JUnitReporter.number(result.points))
        }
        yaml.location(file: result.file, line: result.line, column: nil)
        if !failures.isEmpty {
            yaml.line("failures:")
            for failure in failures {
                yaml.listItem {
                    $0.field("path", string: failure.path)
                    $0.field("expected", string: failure.expected)
                    $0.field("actual", string: failure.actual)
                    $0.location(file: failure.location.file, line: failure.location.line,
                                column: failure.location.column)
                    if let note = failure.note { $0.field("note", string: note) }
                }
            }
        }
        if !diagnostics.isEmpty {
            yaml.line("diagnostics:")
            for diagnostic in diagnostics { yaml.diagnostic(diagnostic) }
        }
        if !result.warnings.isEmpty {
            yaml.line("warnings:")
            for warning in result.warnings { yaml.diagnostic(warning) }
        }
        yaml.line("...")
        out += yaml.text
    }
}

/// Writes the YAML diagnostics block of one test point, two spaces in from the test point.
private struct YAMLBlock {
    var text = ""
    var depth = 1

    mutating func line(_ content: String) {
        for _ in 0..<depth { text += "  " }
        text += content
        text += "\n"
    }

    mutating func field(_ key: String, string value: String) {
        line(key + ": " + Escaping.yamlDoubleQuoted(value))
    }

    mutating func field(_ key: String, number value: Int) {
        line(key + ": \(value)")
    }

    /// `at:` with `file`, `line` and, when known, `column` nested under it.
    mutating func location(file: String, line lineNumber: Int, column: Int?) {
        line("at:")
        depth += 1
        field("file", string: file)
        field("line", number: lineNumber)
        if let column { field("column", number: column) }
        depth -= 1
    }

    mutating func diagnostic(_ diagnostic: Diagnostic) {
        listItem {
            $0.field("severity", string: diagnostic.severity.rawValue)
            $0.field("message", string: diagnostic.message)
            if let location = diagnostic.location {
                $0.location(file: location.file, line: location.line, column: location.column)
            }
            if !diagnostic.notes.isEmpty {
                $0.line("notes:")
                $0.depth += 1
                for note in diagnostic.notes { $0.line("- " + Escaping.yamlDoubleQuoted(note)) }
                $0.depth -= 1
            }
        }
    }

    /// A `- ` list item, one level in from its key, whose mapping is written by `body`: the
    /// first line gets the dash, the others line up under it. (Every scalar is one line, so
    /// splitting the item's text on newlines splits it into its YAML lines.)
    mutating func listItem(_ body: (inout YAMLBlock) -> Void) {
        var item = YAMLBlock(text: "", depth: 0)
        body(&item)
        depth += 1
        var first = true
        for itemLine in item.text.split(separator: "\n") {
            line((first ? "- " : "  ") + itemLine)
            first = false
        }
        depth -= 1
    }
}
