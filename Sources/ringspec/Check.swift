// `ringspec check PATH...`: validate scenarios without running them.

import ArgumentParser
import Scenario

extension RingSpec {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate scenario files without running them.")

        @Argument(help: "Scenario files or folders.")
        var paths: [String]

        @OptionGroup var report: ReportOptions
        @OptionGroup var limits: LimitOptions
        @OptionGroup var scale: ScaleOptions

        mutating func run() throws {
            let found = try discoverScenarioFiles(paths, maxFiles: limits.maxFiles)
            let files = found.files
            var options = limits.suiteOptions(paths: paths)
            options.checkOnly = true
            scale.apply(to: &options)
            let selected = scale.select(files)
            let summary = try runAndReport(found, files: selected, options: options, report: report, requireResults: false)
            let status = ExitStatus.of(summary)
            if status != 0 { throw ExitCode(status) }
        }
    }
}
