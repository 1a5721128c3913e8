// UnreadableAnswerTests: in a predict exercise an answer that does not decode (a misspelt name, a
// wrong type, an unknown key inside the answer) is a wrong blank with the decode error as its
// reason, and the scenario's other blanks are graded (docs/grading.md "Predict exercises").

import Foundation
@testable import Scenario
import Testing

@Suite struct UnreadableAnswerTests {
    /// Three blanks: the fault's error code and cr2, and the signal.
    static let segv = """
        scenario: segv
        machine: {mode: ia32}
        steps:
          - access: {op: read, addr: 0xc0000000}
            expect:
              fault: {vector: PF, error_code: ~, cr2: ~}
              signal: ~

        """

    static func answer(errorCode: String = "0x5", cr2: String = "0xc0000000", signal: String = "SIGSEGV") -> String {
        segv.replacingOccurrences(of: "error_code: ~", with: "error_code: \(errorCode)")
            .replacingOccurrences(of: "cr2: ~", with: "cr2: \(cr2)")
            .replacingOccurrences(of: "signal: ~", with: "signal: \(signal)")
    }

    /// The 1-based line and column of the first `token` in `text`.
    static func place(of token: String, in text: String) -> (line: Int, column: Int)? {
        for (i, line) in text.components(separatedBy: "\n").enumerated() {
            if let r = line.range(of: token) { return (i + 1, line.distance(from: line.startIndex, to: r.lowerBound) + 1) }
        }
        return nil
    }

    static func failures(_ r: ScenarioResult) -> [CheckFailure] {
        if case let .failed(fs) = r.outcome { return fs }
        Issue.record("expected a failed scenario, got \(r.outcome)")
        return []
    }

    @Test func theRightAnswersScoreFull() throws {
        let r = try GradingTests.gradeOne(handout: Self.segv, submission: Self.answer(), partial: true)
        #expect(r.outcome == .passed)
        #expect(r.score == 3)
    }

    /// `signal: SIGSEV` with partial credit: that blank is wrong, named with the decode error at
    /// its line and column and the hint; the other two earn 2 of the 3 points. Every output
    /// format carries the error and its place.
    @Test func aMisspeltSignalIsOneWrongBlank() throws {
        let text = Self.answer(signal: "SIGSEV")
        let r = try GradingTests.gradeOne(handout: Self.segv, submission: text, partial: true)
        #expect(r.blanks == BlankTally(right: 2, total: 3))
        #expect(r.score == 2)
        let fs = Self.failures(r)
        try #require(fs.count == 1)
        let at = try #require(Self.place(of: "SIGSEV", in: text))
        #expect(fs[0].path == "steps[0].expect.signal")
        #expect(fs[0].location.file.hasSuffix("/a.yaml"))
        #expect(fs[0].location.line == at.line && fs[0].location.column == at.column)
        #expect(fs[0].actual == "error: unknown signal 'SIGSEV'")
        #expect(fs[0].note?.hasPrefix("did you mean 'SIGSEGV'?") == true, "\(fs[0])")
        let place = "a.yaml:\(at.line):\(at.column)"
        let report = RunReport(results: [r])
        let human = HumanReporter().render(report)
        #expect(human.contains("unknown signal 'SIGSEV' (") && human.contains(place) && human.contains("did you mean 'SIGSEGV'?"), "\(human)")
        let gradescope = GradescopeReporter().render(report)
        #expect(gradescope.contains("\"score\": 2,"))
        #expect(gradescope.contains("failed: 2 of 3 blanks right (partial credit)"), "\(gradescope)")
        #expect(gradescope.contains("unknown signal 'SIGSEV' (") && gradescope.contains(place) && gradescope.contains("did you mean 'SIGSEGV'?"))
        let json = JSONReporter(grading: true).render(report)
        #expect(json.contains("\"actual\": \"error: unknown signal 'SIGSEV'\""), "\(json)")
        #expect(json.contains("\"line\": \(at.line),\n          \"column\": \(at.column),"), "\(json)")
        #expect(json.contains("\"blanks_right\": 2"))
        let junit = JUnitReporter(grading: true).render(report)
        #expect(junit.contains("unknown signal &apos;SIGSEV&apos; (") && junit.contains(place + ")"), "\(junit)")
        #expect(junit.contains("<property name=\"score\" value=\"2\"/>"))
        let tap = TAPReporter(grading: true).render(report)
        #expect(tap.contains("actual: \"error: unknown signal 'SIGSEV'\""), "\(tap)")
        #expect(tap.contains("line: \(at.line)\n        column: \(at.column)"), "\(tap)")
        #expect(tap.hasSuffix("# score: 2 of 3\n"))
    }

    /// Without partial credit the scenario still scores 0 (a blank is wrong), and says why: the
    /// scenario is failed with the decode error, not invalid.
    @Test func withoutPartialCreditAnUnreadableAnswerScoresZero() throws {
        let r = try GradingTests.gradeOne(handout: Self.segv, submission: Self.answer(signal: "SIGSEV"), partial: false)
        #expect(r.blanks == BlankTally(right: 2, total: 3))
        #expect(r.score == 0)
        #expect(Self.failures(r).map(\.path) == ["steps[0].expect.signal"])
    }

    /// The kinds of unreadable answer (a misspelt exception name, a wrong type, an unknown key
    /// inside an answer's mapping): each is the one wrong blank of the three, at its own place.
    @Test(arguments: [
        ("{fault: GPF, cpl: 0}", "{cpl: 3}", "steps[0].expect.fault", "GPF", "unknown exception 'GPF'"),
        ("{fault: none, cpl: yes}", "{cpl: 3}", "steps[0].expect.cpl", "yes", "steps[0].expect.cpl must be a number"),
        ("{fault: {vectr: GP}, cpl: 0}", "{cpl: 3}", "steps[0].expect.fault", "vectr", "unknown key 'vectr' in steps[0].expect.fault"),
        ("{fault: none, cpl: 0}", "{cpl: [3]}", "steps[1].expect.cpl", "[3]", "steps[1].expect.cpl must be a number"),
    ])
    func anUnreadableAnswerIsOneWrongBlank(_ e0: String, _ e1: String, _ path: String, _ token: String, _ message: String) throws {
        let text = GradingTests.submission(e0, e1, "{cpl: 0, fault: {vector: GP, error_code: {selector: kernel_cs}}}")
        let r = try GradingTests.gradeOne(handout: GradingTests.handout(), submission: text, partial: true)
        #expect(r.blanks == BlankTally(right: 2, total: 3), "\(r.outcome)")
        #expect(r.score == 2)
        let fs = Self.failures(r)
        try #require(fs.count == 1)
        let at = try #require(Self.place(of: token, in: text))
        #expect(fs[0].path == path)
        #expect(fs[0].actual.hasPrefix("error: " + message), "\(fs[0])")
        #expect(fs[0].location.line == at.line && fs[0].location.column == at.column, "\(fs[0])")
    }

    /// Two unreadable answers in one scenario: both blanks are wrong, each with its own error and
    /// place; the third blank still counts (1 of 3 points).
    @Test func twoUnreadableAnswersInOneScenario() throws {
        let text = Self.answer(errorCode: "five", signal: "SIGSEV")
        let r = try GradingTests.gradeOne(handout: Self.segv, submission: text, partial: true)
        #expect(r.blanks == BlankTally(right: 1, total: 3))
        #expect(r.score == 1)
        let fs = Self.failures(r)
        #expect(fs.map(\.path) == ["steps[0].expect.fault.error_code", "steps[0].expect.signal"])
        let five = try #require(Self.place(of: "five", in: text)), signal = try #require(Self.place(of: "SIGSEV", in: text))
        #expect(fs.map(\.location.line) == [five.line, signal.line])
        #expect(fs.map(\.location.column) == [five.column, signal.column])
        // All three unreadable: nothing right, no points, every blank named.
        let none = try GradingTests.gradeOne(handout: Self.segv, submission: Self.answer(errorCode: "five", cr2: "high", signal: "SIGSEV"), partial: true)
        #expect(none.blanks == BlankTally(right: 0, total: 3))
        #expect(none.score == 0)
        #expect(Self.failures(none).count == 3)
    }

    /// An unreadable answer and a change outside `expect`: the scenario scores 0 as before, for
    /// the change.
    @Test func anUnreadableAnswerAndAChangedMachineScoreZero() throws {
        let text = Self.answer(signal: "SIGSEV").replacingOccurrences(of: "addr: 0xc0000000", with: "addr: 0x1000")
        let r = try GradingTests.gradeOne(handout: Self.segv, submission: text, partial: true)
        #expect(r.score == 0)
        #expect(Self.failures(r).map(\.path) == ["steps[0].access.addr"])
    }

    /// An error outside every blank's answer leaves the scenario invalid, as before: a given value
    /// made unreadable, an unknown key inside a given mapping, a misspelt check beside the blanks.
    @Test(arguments: [
        ("{vector: PFF, error_code: 0x5, cr2: 0xc0000000}", "SIGSEGV", "unknown exception 'PFF'"),
        ("{vector: PF, error_code: 0x5, cr2: 0xc0000000, eror: 1}", "SIGSEV", "unknown key 'eror' in steps[0].expect.fault"),
        ("{vector: PF, error_code: 0x5, cr2: 0xc0000000}\n      signl: 11", "SIGSEV", "unknown key 'signl' in steps[0].expect"),
    ])
    func anErrorOutsideTheAnswersLeavesTheScenarioInvalid(_ fault: String, _ signal: String, _ message: String) throws {
        let text = Self.segv.replacingOccurrences(of: "{vector: PF, error_code: ~, cr2: ~}", with: fault)
            .replacingOccurrences(of: "signal: ~", with: "signal: \(signal)")
        let r = try GradingTests.gradeOne(handout: Self.segv, submission: text, partial: true)
        #expect(r.score == 0)
        guard case let .invalid(ds) = r.outcome else { Issue.record("\(r.outcome)"); return }
        #expect(ds.contains { $0.message == message }, "\(ds)")
        // The answer that could not be read is among the errors too.
        if signal == "SIGSEV" { #expect(ds.contains { $0.message == "unknown signal 'SIGSEV'" }) }
    }

    /// The errors are placed in answers only when every one of them lies in one: an error
    /// without a place, in another file (a base the scenario extends) or beside the answers
    /// places none, and neither does a decode that reports no error.
    @Test(arguments: [
        ([(7, 15)], "f.yaml", true, ["expect.signal"]),
        ([(7, 15), (6, 30), (6, 32)], "f.yaml", true, ["expect.fault.error_code", "expect.signal"]),
        ([(7, 15), (6, 5)], "f.yaml", true, []),
        ([(7, 15)], "base.yaml", true, []),
        ([(7, 15)], "f.yaml", false, []),
        ([], "f.yaml", true, []),
    ] as [([(Int, Int)], String, Bool, [String])])
    func errorsArePlacedInAnswersOnlyWhenAllAre(_ places: [(Int, Int)], _ file: String, _ located: Bool, _ blanks: [String]) throws {
        func node(_ line: Int, _ from: Int, _ to: Int) -> YAMLNode {
            YAMLNode(content: .scalar("x", .plain), start: SourceMark(line: line, column: from, offset: 0), end: SourceMark(line: line, column: to, offset: 0))
        }
        let answers = [(path: "expect.fault.error_code", node: node(6, 30, 34)), (path: "expect.signal", node: node(7, 15, 21))]
        let errors = places.map { Diagnostic(.error, "bad", at: located ? SourceLocation(file: file, line: $0.0, column: $0.1) : nil) }
        let placed = Grader.unreadableAnswers(errors, in: answers, file: "f.yaml")
        #expect((placed?.map(\.blank) ?? []) == blanks)
        if blanks.isEmpty { #expect(placed == nil) }
    }

    /// A YAML syntax error breaks the document, so the scenario cannot be found: it scores 0 and
    /// the file is named with its FILE:LINE:COLUMN.
    @Test func aYAMLSyntaxErrorIsNamedAsBefore() throws {
        let text = Self.answer(signal: "SIGSEV").replacingOccurrences(of: "cr2: 0xc0000000}", with: "cr2: 0xc0000000")
        let r = try GradingTests.gradeOne(handout: Self.segv, submission: text, partial: true)
        #expect(r.score == 0)
        let fs = Self.failures(r)
        try #require(fs.count == 1)
        #expect(fs[0].actual == "none")
        let note = try #require(fs[0].note)
        #expect(note.hasPrefix("files that could not be read: "), "\(note)")
        #expect(note.contains("/a.yaml:"), "\(note)")
    }

    /// A construct exercise is unchanged: an unreadable value in the submission leaves its
    /// scenario invalid.
    @Test func aConstructSubmissionWithAnUnreadableValueIsStillInvalid() throws {
        let dir = try CLI.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/ex/hidden", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try CLI.write("kind: construct\npoints: 3\npartial: true\n", to: dir + "/ex/exercise.yaml")
        try CLI.write("scenario: segv\nsteps:\n  - expect: {signal: SIGSEGV}\n", to: dir + "/ex/hidden/a.yaml")
        try CLI.write(Self.answer(signal: "SIGSEV"), to: dir + "/sub/a.yaml")
        let graded = try Grader.grade(exercise: dir + "/ex", submission: dir + "/sub")
        try #require(graded.report.results.count == 1)
        guard case let .invalid(ds) = graded.report.results[0].outcome else { Issue.record("\(graded.report.results[0].outcome)"); return }
        #expect(ds.map(\.message) == ["unknown signal 'SIGSEV'"])
    }
}
