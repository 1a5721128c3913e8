// RunReport: the results of a run as data. Reporters (human, JSON, JUnit, TAP, Gradescope) turn
// results into text, one at a time as they arrive (ReportStream) or one report at once (render);
// nothing else formats results.

/// A place in a scenario file: 1-based line and column.
public struct SourceLocation: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    /// `FILE:LINE:COLUMN`
    public var description: String { "\(file):\(line):\(column)" }
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// A problem in the user's input, or a warning about it.
public struct Diagnostic: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }
    public var severity: Severity
    public var message: String
    public var location: SourceLocation?
    /// Extra lines: "did you mean ...", "anchor defined here", ...
    public var notes: [String]
    public init(_ severity: Severity = .error, _ message: String, at location: SourceLocation?, notes: [String] = []) {
        self.severity = severity
        self.message = ReportClamp.clamp(message)
        self.location = location
        self.notes = notes.map(ReportClamp.clamp)
    }
    /// `FILE:LINE:COLUMN: error: message` followed by the notes.
    public var description: String {
        var s = ""
        if let location { s += "\(location): " }
        s += "\(severity.rawValue): \(message)"
        for n in notes { s += "\n    note: \(n)" }
        return s
    }
}

/// One failed check: where it is written, what was expected and what happened.
public struct CheckFailure: Sendable, Equatable, CustomStringConvertible {
    /// The path of the check in the scenario, `steps[3].expect.fault.error_code`.
    public var path: String
    public var expected: String
    public var actual: String
    public var location: SourceLocation
    /// Extra explanation (the rule that raised an unexpected fault, ...).
    public var note: String?
    /// The path of the check this failure is one wrong field of, when a map-valued check (`gate`,
    /// `fault`, `entry`, `switch`, a task of `processes`) reports each wrong field on its own
    /// (`steps[2].expect.gate` for `steps[2].expect.gate.dpl`); nil when the failure is a check of
    /// its own. The failures of one check count as one failed check (`failedChecks(_:)`).
    public var check: String?
    public init(path: String, expected: String, actual: String, location: SourceLocation, note: String? = nil, check: String? = nil) {
        self.path = path
        self.expected = ReportClamp.clamp(expected)
        self.actual = ReportClamp.clamp(actual)
        self.location = location
        self.note = note.map(ReportClamp.clamp)
        self.check = check
    }

    /// How many checks failed: each failure without `check` is one, the failures of one `check`
    /// (one per wrong field) one together (docs/grading.md "Scores").
    public static func failedChecks<S: Sequence>(_ failures: S) -> Int where S.Element == CheckFailure {
        var count = 0
        var seen: Set<String> = []
        for f in failures {
            if let c = f.check {
                if seen.insert(c).inserted { count += 1 }
            } else {
                count += 1
            }
        }
        return count
    }
    /// `steps[3].expect.fault.error_code: expected 0x402, got 0x0 (file.yaml:41:21)`
    public var description: String {
        var s = "\(path): expected \(expected), got \(actual) (\(location))"
        if let note { s += "\n      \(note)" }
        return s
    }
}

/// The outcome of one scenario.
public enum ScenarioOutcome: Sendable, Equatable {
    case passed
    case failed([CheckFailure])
    case invalid([Diagnostic])
    case skipped(String)

    public var isPassed: Bool { if case .passed = self { return true } else { return false } }
    public var isFailedOrInvalid: Bool {
        switch self {
        case .failed, .invalid: true
        default: false
        }
    }
}

/// The result of one scenario (or of a file that could not be read, with `id` = the file name).
public struct ScenarioResult: Sendable, Equatable {
    /// The scenario's id (`scenario:`), or the file's name when the file is invalid as a whole.
    public var id: String
    /// The file, as given on the command line (relative paths stay relative).
    public var file: String
    /// Where the scenario's document starts.
    public var line: Int
    public var description: String?
    public var tags: [String]
    public var points: Double
    public var outcome: ScenarioOutcome
    /// How many checks the scenario made (0: it checks nothing, reported as such).
    public var checkCount: Int
    /// Warnings that do not fail the scenario.
    public var warnings: [Diagnostic]
    /// Grading: a failed scenario earns points in proportion to its passed checks (`partial: true`).
    public var partial: Bool
    /// Grading a predict exercise: the handout's blanks and how many the submission answered
    /// right. When set, the score counts these blanks and nothing else (docs/grading.md).
    public var blanks: BlankTally?

    public init(id: String, file: String, line: Int, description: String? = nil, tags: [String] = [],
                points: Double = 1, outcome: ScenarioOutcome, checkCount: Int = 0, warnings: [Diagnostic] = [],
                partial: Bool = false, blanks: BlankTally? = nil) {
        self.id = id
        self.file = file
        self.line = line
        self.description = description
        self.tags = tags
        self.points = points
        self.outcome = outcome
        self.checkCount = checkCount
        self.warnings = warnings
        self.partial = partial
        self.blanks = blanks
    }

    /// The score this result earns out of `points`: all of them when passed; with `partial`, a
    /// failed scenario earns points x (checks passed / checks made); otherwise none. In a predict
    /// exercise (`blanks` set) only the handout's blanks count: all points when the scenario
    /// passed (every blank right, nothing else failed), with `partial` points x (blanks right /
    /// blanks); a scenario without a blank earns nothing.
    public var score: Double {
        if let blanks {
            guard blanks.total > 0 else { return 0 }
            switch outcome {
            case .passed: return blanks.right >= blanks.total ? points : 0
            case .failed: return partial ? points * Double(min(blanks.right, blanks.total)) / Double(blanks.total) : 0
            case .invalid, .skipped: return 0
            }
        }
        switch outcome {
        case .passed: return checkCount > 0 ? points : 0
        case let .failed(failures):
            guard partial, checkCount > 0 else { return 0 }
            let passed = max(0, checkCount - CheckFailure.failedChecks(failures))
            return points * Double(passed) / Double(checkCount)
        case .invalid, .skipped: return 0
        }
    }
}

extension ScenarioResult {
    /// Scores to 1/10000 of a point, so that 2/3 of a point prints the same everywhere.
    public static func roundedScore(_ x: Double) -> Double { (x * 10000).rounded() / 10000 }
    /// `score` as every report writes it, rounded to 1/10000 of a point; the run's total is the
    /// sum of these.
    public var reportedScore: Double { Self.roundedScore(score) }
}

/// The handout's blanks in one predict scenario, and how many were answered right.
public struct BlankTally: Sendable, Equatable {
    public var right: Int
    public var total: Int
    public init(right: Int, total: Int) {
        self.right = right
        self.total = total
    }
}

/// The counts and scores of a run, added up one result at a time, so a streaming report (and
/// the exit status) can have them without keeping the results.
public struct RunSummary: Sendable, Equatable {
    public private(set) var passed = 0
    /// Scenarios whose checks failed (not counting invalid ones).
    public private(set) var failedChecks = 0
    public private(set) var invalid = 0
    public private(set) var skipped = 0
    /// The points earned (grading): the sum of the results' scores as reported, each rounded to
    /// 1/10000 of a point (`ScenarioResult.reportedScore`), so the total is the sum of the parts.
    public private(set) var score: Double = 0
    /// The points there are to earn.
    public private(set) var maxScore: Double = 0

    public init() {}
    public init<S: Sequence>(_ results: S) where S.Element == ScenarioResult {
        for r in results { add(r) }
    }

    public mutating func add(_ result: ScenarioResult) {
        switch result.outcome {
        case .passed: passed += 1
        case .failed: failedChecks += 1
        case .invalid: invalid += 1
        case .skipped: skipped += 1
        }
        // Each addend is a multiple of 1/10000; rounding the sum keeps it one (no 4.33329999...).
        score = ScenarioResult.roundedScore(score + result.reportedScore)
        maxScore += result.points
    }

    /// All scenarios.
    public var total: Int { passed + failedChecks + invalid + skipped }
    /// Failed and invalid scenarios both count as failed.
    public var failed: Int { failedChecks + invalid }
    public var hasInvalid: Bool { invalid > 0 }
    /// `N passed, N failed` — always the last line of a human report.
    public var summaryLine: String { "\(passed) passed, \(failed) failed" }
}

/// All results of a run, in a stable order (file order as discovered, then document order).
public struct RunReport: Sendable, Equatable {
    public var results: [ScenarioResult]
    public init(results: [ScenarioResult]) { self.results = results }

    public var summary: RunSummary { RunSummary(results) }
    public var passed: Int { summary.passed }
    /// Failed and invalid scenarios both count as failed.
    public var failed: Int { summary.failed }
    public var skipped: Int { summary.skipped }
    public var hasInvalid: Bool { summary.hasInvalid }
    /// The points earned (grading).
    public var score: Double { summary.score }
    /// The points there are to earn.
    public var maxScore: Double { summary.maxScore }
    /// `N passed, N failed` — always the last line of a human report.
    public var summaryLine: String { summary.summaryLine }
}

/// Turns results into text. A reporter writes as results arrive (`stream(into:)`: one `add` per
/// result in run order, then `finish` with the run's summary), so a run need not keep its
/// results; `render` is the same path into memory, for a report already in hand.
public protocol Reporter {
    /// A stream that writes this format's text into `sink`.
    func stream(into sink: any ReportSink) -> any ReportStream
    /// The whole report as one string (by default: `stream(into:)` into a `MemorySink`).
    func render(_ report: RunReport) -> String
}

/// One report being written: `add` each result in run order, then `finish` once with the summary
/// of exactly those results. Formats whose totals come first (JSON, JUnit, TAP, Gradescope) hold
/// the results' text in a spool (`ReportSink.makeSpool`) until `finish`, not the results.
public protocol ReportStream: AnyObject {
    func add(_ result: ScenarioResult)
    func finish(_ summary: RunSummary)
}

extension Reporter {
    public func render(_ report: RunReport) -> String { renderByStreaming(report) }

    /// Every result of `report` through `stream(into:)` into memory.
    public func renderByStreaming(_ report: RunReport) -> String {
        let sink = MemorySink()
        let stream = stream(into: sink)
        for result in report.results { stream.add(result) }
        stream.finish(report.summary)
        return sink.text
    }
}

/// A stream that keeps the results and renders them all at `finish`: for the rare run a format
/// cannot stream (JUnit when a file's results do not come together, `JUnitReporter`).
public final class CollectingReportStream: ReportStream {
    let reporter: any Reporter
    let sink: any ReportSink
    var results: [ScenarioResult] = []

    public init(reporter: any Reporter, sink: any ReportSink) {
        self.reporter = reporter
        self.sink = sink
    }

    public func add(_ result: ScenarioResult) { results.append(result) }
    public func finish(_ summary: RunSummary) { sink.write(reporter.render(RunReport(results: results))) }
}
