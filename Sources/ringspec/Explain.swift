// `ringspec explain FILE [--scenario ID] [--brief | --full]`: the run's trace as prose.

import ArgumentParser
import Scenario

extension RingSpec {
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Explain, step by step, what a scenario's run did and why.")

        @Argument(help: "A scenario file.")
        var file: String

        @Option(name: .long, help: "The scenario to explain when the file holds several.")
        var scenario: String?

        @Flag(help: "How much to tell (default: --full).")
        var detail: ExplainDetailFlag = .full

        @OptionGroup var limits: LimitOptions

        func validate() throws { try limits.validateRoot() }

        mutating func run() throws {
            let options = limits.suiteOptions(paths: [file])
            let (text, ok) = Explainer.explain(file: file, scenario: scenario, options: options, detail: detail.detail)
            print(text, terminator: "")
            if !ok { throw ExitCode(ExitStatus.invalid) }
        }
    }
}

/// `--full` (the default) or `--brief`: one of the two.
enum ExplainDetailFlag: String, EnumerableFlag {
    case full, brief

    var detail: ExplainDetail {
        switch self {
        case .full: .full
        case .brief: .brief
        }
    }

    static func help(for value: Self) -> ArgumentHelp? {
        switch value {
        case .full: "Tell every micro-event: TLB lookups, page walks entry by entry, stack switches, pushed values."
        case .brief: "Tell the story a student follows: faults with their rule and SDM section, mode changes, gates in one line, system calls, schedule() and switches, signals, output; one line per tick, equal ticks and repeated cycles of ticks collapsed."
        }
    }
}
