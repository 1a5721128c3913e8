// A kernel event (a system call, wait, exit, schedule()) in a scenario with `kernel: none` is invalid input,
// reported at the event's position like a `syscall` step always was (not a run-time failure).

@testable import Scenario
import Testing

@Suite struct KernelEventsNeedAKernelTests {
    @Test("kernel: none refuses kernel events at decode time", arguments: [
        ("- wait", "a wait event is a system call and needs a kernel", 5, 5),
        ("- wait: {pid: 2}", "a wait event is a system call and needs a kernel", 5, 11),
        ("- exit: 3", "an exit event is a system call and needs a kernel", 5, 11),
        ("- schedule", "a schedule event needs a kernel (its scheduler)", 5, 5),
        ("- schedule: {}", "a schedule event needs a kernel (its scheduler)", 5, 15),
        ("- syscall: {via: int80, nr: getpid}", "a syscall event needs a kernel", 5, 14),
    ])
    func refused(step: String, message: String, line: Int, column: Int) {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nkernel: none\nsteps:\n  \(step)\n"
        guard case let .invalid(d) = runText(yaml) else { Issue.record("not invalid: \(step)"); return }
        #expect(d.count == 1)
        #expect(d.first?.message.contains(message) == true)
        #expect(d.first?.location?.line == line)
        #expect(d.first?.location?.column == column)
    }

    @Test func withAKernelTheyRun() {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nsteps:\n  - schedule\n  - exit: 3\nexpect: {processes: {main: {exit_code: 3}}}\n"
        #expect(runText(yaml) == .passed)
    }
}
