// `ringspec explain FILE [--scenario ID]`: the run's trace as prose.

import ArgumentParser
import Scenario

extension RingSpec {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Explain, step by step, what a scenario's run did and why.")

        @Argument(help: "A scenario file.")
        var file: String

        @Option(name: .long, help: "The scenario to explain when the file holds several.")
        var scenario: String?

        @OptionGroup var limits: LimitOptions

        func validate() throws { try limits.validateRoot() }

        mutating func run() throws {
            let options = limits.suiteOptions(paths: [file])
            let (text, ok) = Explainer.explain(file: file, scenario: scenario, options: options)
            print(text, terminator: "")
            if !ok { throw ExitCode(ExitStatus.invalid) }
        }
    }
}
