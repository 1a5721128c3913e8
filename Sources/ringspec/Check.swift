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
            var result = Suite.run(files: selected, options: options, progress: Terminal.progressReporter(total: selected.count))
            result.results = found.refused + result.results
            try report.emit(report.reporter().render(result))
            let status = ExitStatus.of(result)
            if status != 0 { throw ExitCode(status) }
        }
    }
}
