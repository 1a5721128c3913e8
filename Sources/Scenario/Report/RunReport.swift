// RunReport: the results of a run as data. Reporters (human, JSON, JUnit, TAP, Gradescope) turn
// one report into text; nothing else formats results.

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
        self.message = message
        self.location = location
        self.notes = notes
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
    public init(path: String, expected: String, actual: String, location: SourceLocation, note: String? = nil) {
        self.path = path
        self.expected = expected
        self.actual = actual
        self.location = location
        self.note = note
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

    public init(id: String, file: String, line: Int, description: String? = nil, tags: [String] = [],
                points: Double = 1, outcome: ScenarioOutcome, checkCount: Int = 0, warnings: [Diagnostic] = [],
                partial: Bool = false) {
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
    }

    /// The score this result earns out of `points`: all of them when passed; with `partial`, a
    /// failed scenario earns points x (checks passed / checks made); otherwise none.
    public var score: Double {
        switch outcome {
        case .passed: return checkCount > 0 ? points : 0
        case let .failed(failures):
            guard partial, checkCount > 0 else { return 0 }
            let passed = max(0, checkCount - failures.count)
            return points * Double(passed) / Double(checkCount)
        case .invalid, .skipped: return 0
        }
    }
}

/// All results of a run, in a stable order (file order as discovered, then document order).
public struct RunReport: Sendable, Equatable {
    public var results: [ScenarioResult]
    public init(results: [ScenarioResult]) { self.results = results }

    public var passed: Int { results.filter { $0.outcome.isPassed }.count }
    /// Failed and invalid scenarios both count as failed.
    public var failed: Int { results.filter { $0.outcome.isFailedOrInvalid }.count }
    public var skipped: Int { results.filter { if case .skipped = $0.outcome { return true } else { return false } }.count }
    public var hasInvalid: Bool { results.contains { if case .invalid = $0.outcome { return true } else { return false } } }
    /// The points earned (grading).
    public var score: Double { results.reduce(0) { $0 + $1.score } }
    /// The points there are to earn.
    public var maxScore: Double { results.reduce(0) { $0 + $1.points } }
    /// `N passed, N failed` — always the last line of a human report.
    public var summaryLine: String { "\(passed) passed, \(failed) failed" }
}

/// Turns a report into text.
public protocol Reporter {
    func render(_ report: RunReport) -> String
}
