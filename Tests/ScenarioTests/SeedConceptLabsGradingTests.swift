// SeedConceptLabsGradingTests: three seed-concept labs graded as a course would grade them
// (Tests/Fixtures/seed-labs-grading: a predict exercise and a construct exercise with a student's
// submission), through every report format `ringspec grade` offers: the score, the blank or check
// that was wrong, and where, reach the student in each.

import Foundation
import Testing

@Suite(.serialized) struct SeedConceptLabsGradingTests {
    static let root = "Tests/Fixtures/seed-labs-grading"
    static let predictFile = root + "/predict/submission/labs.yaml"
    /// The wrong answers of the predict submission, as the student must see them.
    static let wrongESP = "steps[0].expect.regs.esp: expected 0xc2007ff0, got 0xc2007fe8 (\(predictFile):22:19)"
    static let wrongFaults = "steps[0].expect.faults: expected [PF, DF], got [PF error_code=0x4 cr2=0x50000000, NP error_code=0x73, DF error_code=0x0] (\(predictFile):41:15)"

    static func grade(_ kind: String, _ format: String) throws -> CLIResult {
        try runRingspec(["grade", "--exercise", "\(root)/\(kind)/exercise", "--submission", "\(root)/\(kind)/submission", "--format", format],
                        cwd: packageRoot())
    }

    @Test func predictInEveryFormat() throws {
        let human = try Self.grade("predict", "human")
        #expect(human.status == 1)
        #expect(human.stdout.contains("PASS  hello-int80") && human.stdout.contains("score: 3 of 6"), "\(human.stdout)")
        #expect(human.stdout.contains(Self.wrongESP) && human.stdout.contains(Self.wrongFaults), "\(human.stdout)")

        let gradescope = try Self.grade("predict", "gradescope")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(gradescope.stdout.utf8)) as? [String: Any])
        #expect(results["score"] as? Double == 3)
        let tests = try #require(results["tests"] as? [[String: Any]])
        #expect(tests.map { $0["score"] as? Double } == [2, 1, 0])
        #expect(tests.allSatisfy { $0["max_score"] as? Double == 2 })
        #expect((tests[1]["output"] as? String)?.contains("1 of 2 blanks right") == true && (tests[1]["output"] as? String)?.contains(Self.wrongESP) == true)
        // The description survives whole ("A #PF" is quoted: an unquoted " #" would start a YAML comment).
        #expect((tests[2]["output"] as? String)?.hasPrefix("Concept 20. A #PF whose IDT gate is not present") == true, "\(tests[2])")

        let json = try Self.grade("predict", "json")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let summary = try #require(report["summary"] as? [String: Any])
        #expect(summary["score"] as? Double == 3 && summary["max_score"] as? Double == 6)
        let scenarios = try #require(report["scenarios"] as? [[String: Any]])
        #expect(scenarios.map { $0["blanks_right"] as? Int } == [3, 1, 0])
        let failure = try #require((scenarios[1]["failures"] as? [[String: Any]])?.first)
        #expect(failure["path"] as? String == "steps[0].expect.regs.esp" && failure["line"] as? Int == 22 && failure["column"] as? Int == 19)

        let junit = try Self.grade("predict", "junit")
        #expect(junit.stdout.contains("<property name=\"score\" value=\"3\"/><property name=\"max_score\" value=\"6\"/>"), "\(junit.stdout)")
        #expect(junit.stdout.contains("<failure message=\"1 check(s) failed\" type=\"failure\">\(Self.wrongESP)</failure>"), "\(junit.stdout)")

        let tap = try Self.grade("predict", "tap")
        #expect(tap.stdout.contains("ok 1 - hello-int80") && tap.stdout.contains("not ok 2 - call-gate") && tap.stdout.contains("not ok 3 - double-fault"))
        #expect(tap.stdout.contains("path: \"steps[0].expect.faults\"") && tap.stdout.hasSuffix("# score: 3 of 6\n"), "\(tap.stdout)")
    }

    @Test func constructGivesPartialCreditPerHiddenCheck() throws {
        let human = try Self.grade("construct", "human")
        #expect(human.status == 1)
        for line in ["steps[0].expect.returns: expected 14, got 13 ((hidden expectations):5:16)",
                     "expect.processes.main.exit_code: expected 0, got 1 ((hidden expectations):11:48)",
                     "score: 1.3333 of 4"] {
            #expect(human.stdout.contains(line), "\(line) not in:\n\(human.stdout)")
        }
        let gradescope = try Self.grade("construct", "gradescope")
        let results = try #require(try JSONSerialization.jsonObject(with: Data(gradescope.stdout.utf8)) as? [String: Any])
        #expect(results["score"] as? Double == 1.3333)
        let test = try #require((results["tests"] as? [[String: Any]])?.first)
        #expect((test["output"] as? String)?.contains("2 of 6 checks passed") == true, "\(test)")
    }
}
