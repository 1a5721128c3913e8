// EmptyAnswerTests: a predict blank answered by a check that states no field (`trace: []`,
// `gate: {}`, `entry: {}`, `switch: {}`, a task of `processes` mapped to `{}`) is wrong. Each of
// these earned the blank's full credit before (5 of 6 blanks of a red-team submission "right"
// without one prediction), since the check ran and passed: `trace: []` on every step, the others
// whenever anything was delivered, entered, switched or existed.

import Foundation
@testable import Scenario
import Testing

@Suite struct EmptyAnswerTests {
    /// One scenario per kind of blank: its header and steps, with `BLANK` where the blank goes.
    static let scenarios: [(name: String, text: String)] = [
        ("trace", """
            scenario: s
            machine: {mode: x86_64}
            processes:
              - {name: p, state: running}
            steps:
              - syscall: {via: syscall, nr: getpid}
                expect:
                  trace: BLANK
            """),
        ("gate", """
            scenario: s
            machine: {mode: ia32}
            processes:
              - {name: p, state: running}
            steps:
              - syscall: {via: int80, nr: getpid}
                expect:
                  gate: BLANK
            """),
        ("entry", """
            scenario: s
            machine: {mode: ia32}
            processes:
              - {name: p, state: running}
            steps:
              - syscall: {via: int80, nr: getpid}
                expect:
                  entry: BLANK
            """),
        ("switch", """
            scenario: s
            machine: {mode: x86_64}
            processes:
              - {name: a, state: running}
              - {name: b, state: ready}
            steps:
              - syscall: {via: syscall, nr: sched_yield}
                expect:
                  switch: BLANK
            """),
        ("processes", """
            scenario: s
            machine: {mode: x86_64}
            processes:
              - {name: a, state: running}
              - {name: b, state: ready}
            steps:
              - exit: 3
            expect:
              processes: BLANK
            """),
    ]

    static func text(_ kind: String, _ answer: String) -> String {
        (scenarios.first { $0.name == kind }?.text ?? "").replacingOccurrences(of: "BLANK", with: answer) + "\n"
    }

    /// The empty answer is a wrong blank ("an answer that checks something" expected); a real
    /// prediction of the same blank is right, so the blank itself can be earned.
    @Test(arguments: [
        ("trace", "[]", "[syscall, user p]"),
        ("gate", "{}", "{vector: 0x80, type: trap}"),
        ("entry", "{}", "{via: int80, cpl: 0}"),
        ("switch", "{}", "{from: a, to: b, reason: yield}"),
        ("processes", "{a: {}}", "{a: {state: zombie, exit_code: 3}}"),
    ])
    func anAnswerThatStatesNoFieldIsAWrongBlank(_ kind: String, _ empty: String, _ real: String) throws {
        let handout = Self.text(kind, "~")
        let wrong = try GradingTests.gradeOne(handout: handout, submission: Self.text(kind, empty), partial: true)
        #expect(wrong.blanks == BlankTally(right: 0, total: 1), "\(kind): \(wrong.outcome)")
        #expect(wrong.score == 0)
        guard case let .failed(fs) = wrong.outcome else {
            Issue.record("\(kind): expected a failed scenario, got \(wrong.outcome)")
            return
        }
        #expect(fs.contains { $0.actual == "an answer that checks nothing" }, "\(kind): \(fs)")
        let right = try GradingTests.gradeOne(handout: handout, submission: Self.text(kind, real), partial: true)
        #expect(right.blanks == BlankTally(right: 1, total: 1), "\(kind): \(right.outcome)")
        #expect(right.score == 3)
    }

    /// In a plain run these are still valid checks (the contract's `switch` takes "any subset"):
    /// only a predict blank refuses them as answers.
    @Test func theyRemainValidChecksInARun() throws {
        for s in Self.scenarios {
            let answer = s.name == "trace" ? "[]" : (s.name == "processes" ? "{a: {}}" : "{}")
            let loaded = ScenarioDecoder.load(bytes: Array(Self.text(s.name, answer).utf8), path: "e.yaml", display: "e.yaml",
                                              options: LoadOptions(root: "."))
            guard loaded.count == 1, case let .spec(spec, warnings) = loaded[0] else {
                Issue.record("\(s.name): not decoded: \(loaded)")
                continue
            }
            let checks = spec.steps.flatMap(\.checks) + spec.finalChecks
            #expect(checks.count == 1 && checks.allSatisfy(\.statesNoField), "\(s.name)")
            // `trace: []` cannot fail at all: the run says so.
            #expect(warnings.contains { $0.message == "steps[0].expect.trace: an empty list is found in every step's trace: this checks nothing" } == (s.name == "trace"),
                    "\(s.name): \(warnings)")
        }
    }
}
