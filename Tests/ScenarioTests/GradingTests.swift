// GradingTests: scores from points and partial credit, and the Gradescope results.json shape.

import Foundation
@testable import Scenario
import Testing

@Suite struct GradingTests {
    static let here = SourceLocation(file: "f.yaml", line: 1, column: 1)
    static func failures(_ n: Int) -> [CheckFailure] {
        Array(repeating: CheckFailure(path: "expect.output", expected: "\"a\"", actual: "\"b\"", location: here), count: n)
    }

    @Test func scores() {
        #expect(ScenarioResult(id: "a", file: "f", line: 1, points: 2, outcome: .passed, checkCount: 3).score == 2)
        #expect(ScenarioResult(id: "a", file: "f", line: 1, points: 2, outcome: .passed, checkCount: 0).score == 0)
        #expect(ScenarioResult(id: "a", file: "f", line: 1, points: 2, outcome: .failed(Self.failures(1)), checkCount: 4).score == 0)
        #expect(ScenarioResult(id: "a", file: "f", line: 1, points: 2, outcome: .failed(Self.failures(1)), checkCount: 4, partial: true).score == 1.5)
        #expect(ScenarioResult(id: "a", file: "f", line: 1, points: 2, outcome: .failed(Self.failures(9)), checkCount: 4, partial: true).score == 0)
        #expect(ScenarioResult(id: "a", file: "f", line: 1, points: 2, outcome: .invalid([]), checkCount: 4, partial: true).score == 0)
    }

    @Test func gradescopeGolden() {
        let report = RunReport(results: [
            ScenarioResult(id: "one", file: "s.yaml", line: 1, description: "First.\n", points: 2, outcome: .passed, checkCount: 2),
            ScenarioResult(id: "two", file: "s.yaml", line: 9, points: 3, outcome: .failed(Self.failures(1)), checkCount: 3, partial: true),
        ])
        let expected = """
            {
              "score": 4,
              "output": "Lab 1\\n\\n1 passed, 1 failed",
              "output_format": "text",
              "test_output_format": "text",
              "test_name_format": "text",
              "visibility": "visible",
              "stdout_visibility": "hidden",
              "tests": [
                {
                  "name": "one (s.yaml)",
                  "score": 2,
                  "max_score": 2,
                  "status": "passed",
                  "output": "First.\\npassed: all 2 checks",
                  "visibility": "visible"
                },
                {
                  "name": "two (s.yaml)",
                  "score": 2,
                  "max_score": 3,
                  "status": "failed",
                  "output": "failed: 2 of 3 checks passed (partial credit)\\n  expect.output: expected \\"a\\", got \\"b\\" (f.yaml:1:1)",
                  "visibility": "visible"
                }
              ]
            }

            """
        #expect(GradescopeReporter(message: "Lab 1").render(report) == expected)
        #expect(GradescopeReporter.failure("no exercise").contains("\"score\": 0,"))
    }

    static let twoScored = RunReport(results: [
        ScenarioResult(id: "one", file: "s.yaml", line: 1, points: 2, outcome: .passed, checkCount: 2),
        ScenarioResult(id: "two", file: "s.yaml", line: 9, points: 3, outcome: .failed(failures(1)), checkCount: 3, partial: true),
    ])

    @Test func junitCarriesScoresWhenGrading() {
        let text = JUnitReporter(grading: true).render(Self.twoScored)
        let suite = "<testsuite name=\"s.yaml\""
        #expect(text.contains(suite))
        #expect(text.contains("    <properties><property name=\"score\" value=\"4\"/><property name=\"max_score\" value=\"5\"/></properties>\n"))
        #expect(text.contains("name=\"one\" file=\"s.yaml\" line=\"1\" time=\"0\">\n      <properties><property name=\"score\" value=\"2\"/><property name=\"max_score\" value=\"2\"/></properties>\n    </testcase>"))
        #expect(text.contains("<properties><property name=\"score\" value=\"2\"/><property name=\"max_score\" value=\"3\"/></properties>\n      <failure"))
        // A plain run's report has no scores.
        #expect(!JUnitReporter().render(Self.twoScored).contains("<properties>"))
    }

    @Test func tapCarriesScoresWhenGrading() {
        let text = TAPReporter(grading: true).render(Self.twoScored)
        #expect(text.hasPrefix("TAP version 14\n1..2\nok 1 - one\n  ---\n  score: 2\n  max_score: 2\n"))
        #expect(text.contains("not ok 2 - two\n  ---\n  message: \"1 check(s) failed\"\n  severity: \"fail\"\n  score: 2\n  max_score: 3\n"))
        #expect(text.hasSuffix("  ...\n# score: 4 of 5\n"))
        #expect(!TAPReporter().render(Self.twoScored).contains("score"))
    }

    @Test func yamlTreeFindsDifferencesOutsideExpectOnly() throws {
        let a = try YAMLLoader.load("scenario: x\nmachine: {mode: ia32}\nsteps:\n  - exec: nop\n    expect: {cpl: ~}\nexpect: {output: ~}\n")[0].root!
        let same = try YAMLLoader.load("scenario: x\nmachine:\n  mode: ia32\nsteps:\n  - {exec: nop, expect: {cpl: 3}}\n")[0].root!
        #expect(YAMLTree.differencesOutsideExpect(a, same).isEmpty)
        let other = try YAMLLoader.load("scenario: x\nmachine: {mode: x86_64}\nsteps:\n  - exec: \"nop\"\n")[0].root!
        #expect(YAMLTree.differencesOutsideExpect(a, other).map(\.path) == ["machine.mode", "steps[0].exec"])
    }

    // MARK: Predict: only the handout's blanks count

    /// A far call through a DPL-3 call gate (CPL 0 after it, no fault), its return (CPL 3), and a
    /// far call straight at the kernel's code segment (#GP with the selector, handled at CPL 0).
    static let machine = """
        machine:
          mode: ia32
          gdt:
            20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xc0100000, params: 2}
        kernel: none
        """

    /// The handout: three blanks and one given value (steps[2].expect.cpl).
    static func handout(_ third: String = "cpl: 0") -> String {
        """
        scenario: pad
        \(machine)
        steps:
          - exec: "call far kgate:3:0"
            expect:
              fault: ~
              cpl: ~
          - exec: "retf 8"
            expect:
              cpl: ~
          - exec: "call far kernel_cs:0xc0100000"
            expect:
              \(third)

        """
    }

    /// A submission of `handout()`, its step expect blocks given.
    static func submission(_ e0: String, _ e1: String, _ e2: String, final: String = "") -> String {
        """
        scenario: pad
        \(machine)
        steps:
          - exec: "call far kgate:3:0"
            expect: \(e0)
          - exec: "retf 8"
            expect: \(e1)
          - exec: "call far kernel_cs:0xc0100000"
            expect: \(e2)
        \(final)

        """
    }

    /// Grades one handout file against one submission file; the exercise gives 3 points.
    static func gradeOne(handout: String, submission: String, partial: Bool) throws -> ScenarioResult {
        let dir = try CLI.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/ex/handout", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try CLI.write("kind: predict\npoints: 3\npartial: \(partial)\n", to: dir + "/ex/exercise.yaml")
        try CLI.write(handout, to: dir + "/ex/handout/a.yaml")
        try CLI.write(submission, to: dir + "/sub/a.yaml")
        let graded = try Grader.grade(exercise: dir + "/ex", submission: dir + "/sub")
        try #require(graded.report.results.count == 1)
        return graded.report.results[0]
    }

    /// The reviewer's case: 2 of 3 blanks answered wrong, padded with correct checks of the
    /// student's own (a fault per step, shutdown, the fault count). It earned 2.25 of 3 (6 of 8
    /// checks); only the blanks count now: 1 of 3.
    @Test func extraChecksDoNotPadAPredictScore() throws {
        let r = try Self.gradeOne(
            handout: Self.handout(),
            submission: Self.submission("{fault: none, cpl: 3}", "{cpl: 0, fault: none}",
                                        "{cpl: 0, fault: {vector: GP, error_code: {selector: kernel_cs}}}",
                                        final: "expect: {shutdown: false, faults: 1}"),
            partial: true)
        #expect(r.blanks == BlankTally(right: 1, total: 3))
        #expect(r.checkCount == 8)
        #expect(r.score == 1)
        let text = GradescopeReporter().render(RunReport(results: [r]))
        #expect(text.contains("failed: 1 of 3 blanks right (partial credit)"), "\(text)")
        #expect(text.contains("\"score\": 1,"))
        // All three right, with the same extra checks: full points.
        let right = try Self.gradeOne(
            handout: Self.handout(),
            submission: Self.submission("{fault: none, cpl: 0}", "{cpl: 3, fault: none}",
                                        "{cpl: 0, fault: {vector: GP, error_code: {selector: kernel_cs}}}",
                                        final: "expect: {shutdown: false, faults: 1}"),
            partial: true)
        #expect(right.outcome == .passed)
        #expect(right.score == 3)
    }

    /// A blank answered by a mapping is right only when every field of it is: one wrong field
    /// makes the whole `fault` blank wrong (3 of the 4 blanks right), the other blanks still count.
    @Test(arguments: [
        ("{vector: GP, error_code: {selector: kernel_cs}}", 4, 3.0),
        ("{vector: GP, error_code: 0x1234}", 3, 2.25),
        ("{vector: GP, error_code: {selector: kernel_cs}, cr2: 0x10}", 3, 2.25),
        ("{vector: PF, error_code: {selector: kernel_cs}}", 3, 2.25),
    ])
    func aMappingAnswerToABlankIsRightOnlyWhenAllOfItIs(_ answer: String, _ right: Int, _ score: Double) throws {
        let r = try Self.gradeOne(
            handout: Self.handout("fault: ~"),
            submission: Self.submission("{fault: none, cpl: 0}", "{cpl: 3}", "{fault: \(answer)}"),
            partial: true)
        #expect(r.blanks == BlankTally(right: right, total: 4), "\(r.outcome)")
        #expect(abs(r.score - score) < 0.0001)
    }

    /// Without partial credit: every blank right is not enough when a check the student added
    /// (or a given value) fails; the failed check is reported, the score is 0. With partial
    /// credit the failed extra check takes nothing away.
    @Test func aFailingExtraCheckFailsAScenarioWithoutPartialCredit() throws {
        let gp = "{cpl: 0, fault: {vector: GP, error_code: {selector: kernel_cs}}}"
        let sub = Self.submission("{fault: none, cpl: 0, regs: {eax: 0x1234}}", "{cpl: 3}", gp)
        let strict = try Self.gradeOne(handout: Self.handout(), submission: sub, partial: false)
        #expect(strict.blanks == BlankTally(right: 3, total: 3))
        guard case let .failed(fs) = strict.outcome else { Issue.record("\(strict.outcome)"); return }
        #expect(fs.map(\.path) == ["steps[0].expect.regs.eax"])
        #expect(strict.score == 0)
        let lenient = try Self.gradeOne(handout: Self.handout(), submission: sub, partial: true)
        #expect(lenient.score == 3)
        // A wrong given value (changed by the student) fails the scenario in the same way.
        let given = try Self.gradeOne(handout: Self.handout(), submission: Self.submission("{fault: none, cpl: 0}", "{cpl: 3}", "{cpl: 3, fault: {vector: GP}}"),
                                      partial: false)
        #expect(given.blanks == BlankTally(right: 3, total: 3))
        #expect(given.score == 0)
        #expect(!given.outcome.isPassed)
        // So does a step raising an exception its expect does not mention (the #GP of step 2).
        let unmentioned = Self.submission("{fault: none, cpl: 0}", "{cpl: 3}", "{cpl: 0}")
        let raised = try Self.gradeOne(handout: Self.handout(), submission: unmentioned, partial: false)
        if case let .failed(fs) = raised.outcome { #expect(fs.map(\.path) == ["steps[2].expect.fault"]) } else { Issue.record("\(raised.outcome)") }
        #expect(raised.score == 0)
        #expect(try Self.gradeOne(handout: Self.handout(), submission: unmentioned, partial: true).score == 3)
    }

    /// A blank inside a mapping check (`gate: {vector: 0x80, type: ~, to_cpl: ~}`) is judged on
    /// its own field: a wrong `type` does not make `to_cpl` wrong, and changing a given field so
    /// the check stops early does not make a blank after it right.
    @Test func blanksInsideAMappingCheckAreJudgedFieldByField() throws {
        let handout = """
            scenario: hello
            machine: {mode: ia32}
            processes:
              - {name: hello, state: running}
            steps:
              - syscall: {via: int80, nr: write, args: [1, "Hi\\n", 3]}
                expect:
                  gate: {vector: 0x80, type: ~, to_cpl: ~}

            """
        func answer(_ gate: String) -> String {
            handout.replacingOccurrences(of: "gate: {vector: 0x80, type: ~, to_cpl: ~}", with: "gate: \(gate)")
        }
        let oneWrong = try Self.gradeOne(handout: handout, submission: answer("{vector: 0x80, type: interrupt, to_cpl: 0}"), partial: true)
        #expect(oneWrong.blanks == BlankTally(right: 1, total: 2))
        #expect(oneWrong.score == 1.5)
        // The given vector changed to a wrong one: the check no longer stops at it before `to_cpl`.
        let hidden = try Self.gradeOne(handout: handout, submission: answer("{vector: 0x81, type: trap, to_cpl: 3}"), partial: true)
        #expect(hidden.blanks == BlankTally(right: 1, total: 2))
        #expect(hidden.score == 1.5)
    }

    /// Blanks in a step the run never reached (the machine shut down before it) are wrong, with
    /// a reason, not right for want of a failure.
    @Test func blanksAfterTheRunStoppedAreWrong() throws {
        let handout = """
            scenario: stop
            machine:
              mode: ia32
              idt:
                GP: {present: false}
                DF: {present: false}
            kernel: none
            steps:
              - exec: "mov ds, kernel_ds:3"
                expect:
                  faults: [GP, NP, DF, {vector: NP, error_code: 0x43}]
                  shutdown: ~
              - exec: "nop"
                expect: {cpl: ~}
              - exec: "nop"
                expect: {cpl: ~}

            """
        let r = try Self.gradeOne(handout: handout, submission: handout.replacingOccurrences(of: "shutdown: ~", with: "shutdown: true")
                                                                     .replacingOccurrences(of: "cpl: ~", with: "cpl: 3"), partial: true)
        #expect(r.blanks == BlankTally(right: 1, total: 3))
        guard case let .failed(fs) = r.outcome else { Issue.record("\(r.outcome)"); return }
        #expect(fs.map(\.path) == ["steps[1]", "steps[2].expect.cpl"])
        #expect(fs.last?.actual == "not checked: the run stopped at an earlier step")
        #expect(r.score == 1)
    }

    // MARK: Rounding and the Gradescope total

    /// Three scenarios of 1 point at 2/3 each: each test says 0.6667 and the total is their sum,
    /// 2.0001, not the rounded exact total 2.
    @Test func theTotalIsTheSumOfTheScoresAsWritten() {
        let third = ScenarioResult(id: "t", file: "f", line: 1, points: 1, outcome: .failed(Self.failures(1)), checkCount: 3, partial: true)
        let report = RunReport(results: [third, third, third])
        #expect(report.score == 2.0001)
        let text = GradescopeReporter().render(report)
        #expect(text.hasPrefix("{\n  \"score\": 2.0001,"), "\(text)")
        #expect(text.components(separatedBy: "\"score\": 0.6667,").count == 4)
        #expect(JSONReporter(grading: true).render(report).contains("\"score\": 2.0001"))
        #expect(TAPReporter(grading: true).render(report).hasSuffix("# score: 2.0001 of 3\n"))
        #expect(JUnitReporter(grading: true).render(report).contains("<property name=\"score\" value=\"2.0001\"/>"))
    }

    // MARK: A scenario that checks nothing, in `run --format gradescope`

    /// The test said "failed" with score 0 while the output above it said "1 passed": the status
    /// is the outcome (it passed, with a warning), the score 0 (it earns nothing), the output says so.
    @Test func aScenarioThatChecksNothingPassesWithNoPoints() {
        let warning = Diagnostic(.warning, "scenario 'x' checks nothing", at: Self.here)
        let r = ScenarioResult(id: "x", file: "f.yaml", line: 1, points: 1, outcome: .passed, checkCount: 0, warnings: [warning])
        let text = GradescopeReporter().render(RunReport(results: [r]))
        #expect(text.contains("\"score\": 0,\n  \"output\": \"1 passed, 0 failed\""), "\(text)")
        #expect(text.contains("\"status\": \"passed\""))
        #expect(!text.contains("\"status\": \"failed\""))
        #expect(text.contains("passed, but checks nothing, so it earns no points"))
    }
}
