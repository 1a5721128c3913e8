// `ringspec grade --exercise DIR --submission DIR`: score a student's submission (see docs/grading.md).

import ArgumentParser
import Scenario

extension RingSpec {
    struct Grade: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grade a submission against a predict or construct exercise.",
            discussion: "With --format gradescope the results.json is always written, even when the exercise or the submission cannot be read (score 0 and the reason). Exit status: 0 full marks, 1 fewer, 2 nothing could be graded.")

        enum Format: String, ExpressibleByArgument, CaseIterable { case gradescope, json, junit, tap, human }

        @Option(name: .long, help: "The exercise folder (exercise.yaml, handout/, hidden/).")
        var exercise: String

        @Option(name: .long, help: "The submission folder.")
        var submission: String

        @Option(name: .long, help: "gradescope (default), json, junit, tap or human.")
        var format: Format = .gradescope

        @Option(name: .long, help: "Write the results to this file instead of standard output.")
        var output: String?

        @OptionGroup var limits: LimitOptions

        func validate() throws {
            if limits.root != nil {
                throw ValidationError("grade takes no --root: `extends` stays inside the submission folder (construct) or the handout (predict)")
            }
        }

        mutating func run() throws {
            var report = ReportOptions()
            report.output = output
            var runLimits = RunLimits()
            runLimits.tickBudget = limits.tickBudget
            runLimits.timeLimitSeconds = limits.timeLimit
            runLimits.maxOutputBytes = limits.maxOutputBytes
            // The YAML limits, the page budget and --max-files apply as in `run`; the root is the
            // submission folder (construct) or the handout (predict), never a flag.
            let load = limits.suiteOptions(paths: [submission]).load
            let graded: (report: RunReport, message: String?)
            do {
                graded = try Grader.grade(exercise: exercise, submission: submission, limits: runLimits, load: load,
                                          maxFiles: limits.maxFiles)
            } catch {
                FileHandleOutput.stderr("ringspec: grade: \(error.description)")
                if format == .gradescope {
                    try report.emit(GradescopeReporter.failure("The submission could not be graded: \(error.description)"))
                }
                throw ExitCode(ExitStatus.invalid)
            }
            let text: String
            switch format {
            case .gradescope: text = GradescopeReporter(message: graded.message).render(graded.report)
            case .json: text = JSONReporter(grading: true).render(graded.report)
            case .junit: text = JUnitReporter(grading: true).render(graded.report)
            case .tap: text = TAPReporter(grading: true).render(graded.report)
            case .human:
                text = HumanReporter(color: false).render(graded.report)
                    + "score: \(Self.number(graded.report.score)) of \(Self.number(graded.report.maxScore))\n"
            }
            try report.emit(text)
            if graded.report.score < graded.report.maxScore { throw ExitCode(ExitStatus.failed) }
        }

        static func number(_ d: Double) -> String {
            let r = (d * 10000).rounded() / 10000
            return r == r.rounded() ? String(Int(r)) : String(r)
        }
    }
}
