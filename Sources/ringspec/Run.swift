// `ringspec run PATH...`: run scenarios and report.

import ArgumentParser
import Scenario

extension RingSpec {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run scenario files and folders (recursively) and report pass or fail.")

        @Argument(help: "Scenario files or folders.")
        var paths: [String]

        @OptionGroup var report: ReportOptions
        @OptionGroup var limits: LimitOptions

        @Option(name: .long, help: "Run only scenarios whose id matches this regular expression.")
        var filter: String?

        @Option(name: .long, help: "Run only scenarios with this tag (repeatable).")
        var tag: [String] = []

        mutating func run() throws {
            let found: Discovery
            do { found = try Suite.discoverAll(paths, maxFiles: limits.maxFiles) } catch {
                FileHandleOutput.stderr("ringspec: \(error.description)")
                throw ExitCode(ExitStatus.invalid)
            }
            let files = found.files
            guard !files.isEmpty || !found.refused.isEmpty else {
                FileHandleOutput.stderr("ringspec: no scenario files (*.yaml, *.yml) under \(paths.joined(separator: " "))")
                throw ExitCode(ExitStatus.invalid)
            }
            var options = limits.suiteOptions(paths: paths)
            options.filter = filter
            options.tags = tag
            var result = Suite.run(files: files, options: options)
            result.results = found.refused + result.results
            if result.results.isEmpty {
                FileHandleOutput.stderr("ringspec: no scenario matched the filter")
                throw ExitCode(ExitStatus.invalid)
            }
            try report.emit(report.reporter().render(result))
            let status = ExitStatus.of(result)
            if status != 0 { throw ExitCode(status) }
        }
    }
}

enum FileHandleOutput {
    static func stderr(_ s: String) {
        var e = StandardError()
        print(s, to: &e)
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        #if canImport(Glibc)
        _ = string.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
