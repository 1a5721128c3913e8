// kill and wait4/waitpid aimed at a process group or broadcast (kill pid 0, -1, < -1; wait pid < -1)
// are refused ("not modelled": the model has no process groups), never answered with -ESRCH or
// -ECHILD as if no such task existed: Linux would signal every task of the group (kill 0, -1) or wait
// for any child of it. Found by the scheduler oracle Fuzz/diff/sched_oracle.py.

@testable import Scenario
import Testing

@Suite struct UnmodelledProcessGroupTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var step: String
        var mode = "x86_64"
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        // Was: -ESRCH (kill_something_info: pid 0 is the caller's group, which always exists).
        Case(name: "kill(0, SIGTERM)", step: "syscall: {via: syscall, nr: kill, args: [0, 15]}"),
        // (kill(-1, sig), every task but init and the caller, is modelled: scenarios/kernel/kill-signals.yaml.)
        Case(name: "kill(-2, SIGKILL), i386", step: "syscall: {via: int80, nr: kill, args: [-2, 9]}", mode: "ia32"),
        // Was: -ECHILD (Linux waits for any child in process group 2).
        Case(name: "wait4(-2)", step: "syscall: {via: syscall, nr: wait4, args: [-2, 0, 0, 0]}"),
        Case(name: "waitpid(-3), i386", step: "syscall: {via: sysenter, nr: waitpid, args: [-3, 0, 0]}", mode: "ia32"),
    ]

    @Test(arguments: cases)
    func refused(_ c: Case) {
        let r = runParentAndChild(mode: c.mode, steps: "  - \(c.step)\n    expect: {switch: none}")
        #expect(r.count == 1)
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("expected a refusal, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { $0.actual.contains("not modelled") }, "\(fs)")
    }

    /// A `wait` step with a pid below -1 is refused the same way, at its line (it was "out of range (at
    /// least -1)", which did not say why); INT_MIN, which is no process group, stays out of range.
    @Test(arguments: ["wait: {pid: -5}", "wait: -3", "wait: {pid: -32768}"])
    func waitStepOfAProcessGroupIsNotModelled(_ step: String) {
        let r = runParentAndChild(mode: "x86_64", steps: "  - \(step)")
        guard case let .invalid(ds)? = r.first?.outcome else {
            Issue.record("expected an invalid scenario, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(ds.contains { $0.message.contains("not modelled") && $0.message.contains("process group") }, "\(ds)")
    }

    /// wait4(0) (the caller's own group: every child, as every task is in one group) and kill of a
    /// task's pid keep working.
    @Test func ownGroupAndSinglePidStillWork() {
        let r = runScenarioText("""
        scenario: c
        machine: {mode: x86_64}
        kernel: {scheduler: {policy: fifo}}
        processes:
          - {name: A, state: running}
          - {name: B, parent: A}
        steps:
          - syscall: {via: syscall, nr: kill, args: [2, 15]}
            expect: {returns: 0, signal: SIGTERM}
          - syscall: {via: syscall, nr: wait4, args: [0, 0, 0, 0]}
            expect: {returns: 2, switch: none}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
