// HumanReporter: the report a person reads in a terminal. One line per scenario with the reasons
// indented under it, then the failed and invalid scenarios once more, then `N passed, N failed`
// as the very last line (scripts and graders read that line, so it never carries colour).
//
//     PASS  call-gate-raises-privilege (gates.yaml:1)
//     FAIL  far-call-refused (gates.yaml:24)
//         steps[2].expect.fault.error_code: expected 0x60, got 0x0 (gates.yaml:41:21)
//     INVALID  broken.yaml (broken.yaml:1)
//         broken.yaml:3:1: error: unknown key 'stepz'
//             note: did you mean 'steps'?
//     SKIP  long-mode-only: needs x86_64
//
//     failed: far-call-refused (gates.yaml:24)
//     invalid: broken.yaml (broken.yaml:1)
//
//     1 passed, 2 failed
//
// Everything that comes from the user goes through `Escaping.terminal`, so an id or message
// holding ESC, NUL or CSI prints as `\u{1b}` instead of acting on the terminal.

public struct HumanReporter: Reporter, Sendable {
    /// Colour the status words and warnings with ANSI escapes: green PASS, red FAIL and INVALID,
    /// yellow SKIP and warnings.
    public var color: Bool
    /// Also print, under each scenario, its description and its checks, points and tags.
    public var verbose: Bool

    public init(color: Bool = false, verbose: Bool = false) {
        self.color = color
        self.verbose = verbose
    }

    private static let indent = "    "

    fileprivate enum Paint: String {
        case green = "\u{1b}[32m"
        case red = "\u{1b}[31m"
        case yellow = "\u{1b}[33m"
        static let reset = "\u{1b}[0m"
    }

    public func stream(into sink: any ReportSink) -> any ReportStream { Stream(reporter: self, sink: sink) }

    /// Writes each scenario as it arrives; keeps only the headlines of the failed and invalid
    /// ones, listed again before the summary line.
    private final class Stream: ReportStream {
        let reporter: HumanReporter
        let sink: any ReportSink
        var failed: [(invalid: Bool, headline: String)] = []

        init(reporter: HumanReporter, sink: any ReportSink) {
            self.reporter = reporter
            self.sink = sink
        }

        func add(_ result: ScenarioResult) {
            var out = ""
            reporter.renderScenario(result, into: &out)
            sink.write(out)
            switch result.outcome {
            case .failed: failed.append((false, reporter.headline(result)))
            case .invalid: failed.append((true, reporter.headline(result)))
            case .passed, .skipped: break
            }
        }

        func finish(_ summary: RunSummary) {
            var out = ""
            if !failed.isEmpty {
                out += "\n"
                for (invalid, headline) in failed {
                    out += reporter.paint(invalid ? "invalid:" : "failed:", .red) + " " + headline + "\n"
                }
            }
            if summary.total > 0 { out += "\n" }
            out += summary.summaryLine + "\n"
            sink.write(out)
        }
    }

    fileprivate func renderScenario(_ result: ScenarioResult, into out: inout String) {
        // A scenario that never ran (invalid, skipped) has no checks to speak of.
        let checksNothing = result.checkCount == 0 ? " (checks nothing)" : ""
        switch result.outcome {
        case .passed:
            out += paint("PASS", .green) + "  " + headline(result) + checksNothing + "\n"
        case .failed:
            out += paint("FAIL", .red) + "  " + headline(result) + checksNothing + "\n"
        case .invalid:
            out += paint("INVALID", .red) + "  " + headline(result) + "\n"
        case .skipped(let reason):
            out += paint("SKIP", .yellow) + "  " + Escaping.terminal(result.id) + ": "
                + Escaping.terminal(reason) + "\n"
        }

        if verbose {
            if let description = result.description {
                appendIndented(description, into: &out)
            }
            var facts = "checks: \(result.checkCount), points: \(Escaping.number(result.points) ?? "?")"
            if !result.tags.isEmpty {
                facts += ", tags: " + result.tags.map { Escaping.terminal($0) }.joined(separator: ", ")
            }
            out += Self.indent + facts + "\n"
        }

        switch result.outcome {
        case .failed(let failures):
            for failure in failures { appendIndented(failure.description, into: &out) }
        case .invalid(let diagnostics):
            for diagnostic in diagnostics { appendIndented(diagnostic.description, into: &out) }
        case .passed, .skipped:
            break
        }
        for warning in result.warnings {
            appendIndented(warning.description, paint: .yellow, into: &out)
        }
    }

    /// `id (file:line)`, on one line whatever the id and file hold.
    fileprivate func headline(_ result: ScenarioResult) -> String {
        Escaping.terminal(result.id) + " (" + Escaping.terminal(result.file) + ":\(result.line))"
    }

    /// `text` made terminal-safe, each of its lines indented under the scenario line.
    private func appendIndented(_ text: String, paint color: Paint? = nil, into out: inout String) {
        let safe = Escaping.terminal(text, keepingNewlines: true)
        for line in safe.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                out += "\n"
            } else if let color {
                out += Self.indent + paint(String(line), color) + "\n"
            } else {
                out += Self.indent + line + "\n"
            }
        }
    }

    fileprivate func paint(_ text: String, _ color: Paint) -> String {
        self.color ? color.rawValue + text + Paint.reset : text
    }
}
