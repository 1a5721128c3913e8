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
            let files: [String]
            do { files = try Suite.discover(paths) } catch {
                FileHandleOutput.stderr("ringspec: \(error.description)")
                throw ExitCode(ExitStatus.invalid)
            }
            guard !files.isEmpty else {
                FileHandleOutput.stderr("ringspec: no scenario files under \(paths.joined(separator: " "))")
                throw ExitCode(ExitStatus.invalid)
            }
            var options = limits.suiteOptions(paths: paths)
            options.checkOnly = true
            scale.apply(to: &options)
            let selected = scale.select(files)
            let result = Suite.run(files: selected, options: options, progress: Terminal.progressReporter(total: selected.count))
            try report.emit(report.reporter().render(result))
            let status = ExitStatus.of(result)
            if status != 0 { throw ExitCode(status) }
        }
    }
}
