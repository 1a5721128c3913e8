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

        mutating func run() throws {
            let found: Discovery
            do { found = try Suite.discoverAll(paths, maxFiles: limits.maxFiles) } catch {
                FileHandleOutput.stderr("ringspec: \(error.description)")
                throw ExitCode(ExitStatus.invalid)
            }
            let files = found.files
            guard !files.isEmpty || !found.refused.isEmpty else {
                FileHandleOutput.stderr("ringspec: no scenario files under \(paths.joined(separator: " "))")
                throw ExitCode(ExitStatus.invalid)
            }
            var options = limits.suiteOptions(paths: paths)
            options.checkOnly = true
            var result = Suite.run(files: files, options: options)
            result.results = found.refused + result.results
            try report.emit(report.reporter().render(result))
            let status = ExitStatus.of(result)
            if status != 0 { throw ExitCode(status) }
        }
    }
}
