// ringspec: the command line. The root command only declares subcommands; each lives in its own file.

import ArgumentParser
import Scenario

@main
struct RingSpec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ringspec",
        abstract: "Run declarative x86 protection, paging and kernel scenarios and check their outcomes.",
        version: "0.1.0",
        subcommands: [Run.self, Check.self, Explain.self, Grade.self, Schema.self, New.self],
        defaultSubcommand: nil
    )

    /// ArgumentParser's own entry point, with usage errors mapped to exit status 2 (it uses 64).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandleOutput.stderr(fullMessage(for: error))
                exit(withError: ExitCode(ExitStatus.invalid))
            }
            exit(withError: error)
        }
    }
}

/// Exit codes, in one place: 0 all passed, 1 some failed, 2 invalid input or usage.
enum ExitStatus {
    static let passed: Int32 = 0
    static let failed: Int32 = 1
    static let invalid: Int32 = 2

    static func of(_ summary: RunSummary) -> Int32 {
        if summary.hasInvalid { return invalid }
        return summary.failed > 0 ? failed : passed
    }
}
