// GradingTests: scores from points and partial credit, and the Gradescope results.json shape.

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
}
