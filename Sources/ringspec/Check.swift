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

        func validate() throws { try limits.validateRoot() }

        mutating func run() throws {
            let all = try discoverScenarioFiles(paths, maxFiles: limits.maxFiles)
            var options = limits.suiteOptions(paths: paths)
            options.checkOnly = true
            scale.apply(to: &options)
            let found = scale.select(all)
            let summary = try runAndReport(found, files: all.files, only: scale.flags(all), options: options, report: report, requireResults: false)
            let status = ExitStatus.of(summary)
            if status != 0 { throw ExitCode(status) }
        }
    }
}
