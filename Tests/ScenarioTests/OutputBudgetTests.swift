// OutputBudgetTests: a scenario may hold at most 16 MiB of console output and file contents
// (--max-output-bytes). One write moves at most 1 MiB, but nothing bounded the number of writes:
// a scenario of 10,000 `write(1, buf, 1 MiB)` steps (one anchor, aliased) kept every byte in memory
// three times (the console, the step's output, the trace) until the time limit, and a failed
// `output` check then quoted all of it in the report.

import Foundation
@testable import Scenario
import Testing

@Suite struct OutputBudgetTests {
    static func scenario(steps: Int, fd: String = "1", count: Int = 0x10000) -> String {
        var text = """
            scenario: writer
            machine: {mode: x86_64}
            kernel:
              files: {/log: ""}
            processes:
              - name: p
                state: running
                pages: [{virt: 0x10000000, phys: 0x0, count: 32, user: true, writable: true}]
            x-w: &w {via: syscall, nr: write, args: [\(fd), 0x10000000, \(count)]}
            steps:

            """
        if fd != "1" { text += "  - syscall: {via: syscall, nr: open, args: [\"/log\", 1, 0]}\n" }
        text += String(repeating: "  - syscall: *w\n", count: steps)
        return text + "expect: {faults: 0}\n"
    }

    /// Console output over the budget: the step that crosses it is named, the scenario is invalid.
    @Test func consoleOutputOverTheBudgetIsRefused() throws {
        let d = try TempDir()
        try d.write("w.yaml", Self.scenario(steps: 20))
        let r = try runRingspec(["run", "--max-output-bytes", "100000", d.path])
        expectRefused(r, "steps[1]: the scenario's console output and files hold 131072 bytes, more than the limit of 100000 bytes (--max-output-bytes)",
                      file: "w.yaml:12:")
    }

    /// File contents count as well: the writes go to /log (descriptor 3) instead of the console.
    @Test func fileContentsOverTheBudgetAreRefused() throws {
        let d = try TempDir()
        try d.write("w.yaml", Self.scenario(steps: 20, fd: "3"))
        let r = try runRingspec(["run", "--max-output-bytes", "100000", d.path])
        expectRefused(r, "steps[2]: the scenario's console output and files hold 131072 bytes, more than the limit of 100000 bytes (--max-output-bytes)",
                      file: "w.yaml:13:")
    }

    /// Under the budget nothing changes: the same writes pass with the default of 16 MiB.
    @Test func writesUnderTheBudgetRun() throws {
        #expect(RunLimits().maxOutputBytes == 16 << 20)
        let d = try TempDir()
        try d.write("w.yaml", Self.scenario(steps: 2))
        let r = try runRingspec(["run", d.path])
        #expect(r.status == 0, "\(r.output.prefix(2000))")
    }
}
