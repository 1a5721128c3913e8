// init (pid 1) is SIGNAL_UNKILLABLE (kernel/fork.c copy_process): kernel/signal.c sig_task_ignored drops every
// SIG_DFL signal sent to it, SIGKILL and the stop signals included, so kill(1, sig) returns 0 and init runs
// on. The model used to let it die (and refused the stop signals).
@testable import Scenario
import Testing

@Suite struct InitUnkillableTests {
    static func yaml(sender: String, signal: Int) -> String {
        """
        scenario: i
        machine: {mode: x86_64}
        kernel: {scheduler: {policy: fifo}}
        processes:
          - {name: init, pid: 1, state: \(sender == "init" ? "running" : "ready")}
          - {name: A, pid: 2, state: \(sender == "A" ? "running" : "ready")}
        steps:
          - syscall: {via: syscall, nr: kill, args: [1, \(signal)]}
            expect: {returns: 0, switch: none, current: \(sender)}
        expect:
          processes: {init: {state: \(sender == "init" ? "running" : "ready")}}

        """
    }

    @Test(arguments: ["init", "A"], [9, 15, 19, 20, 2, 11, 34, 64])
    func killOfInitIsIgnored(_ sender: String, _ signal: Int) {
        let outcome = runText(Self.yaml(sender: sender, signal: signal))
        #expect(outcome.isPassed, "\(outcome)")
    }

    @Test func anotherPidStillDies() {
        let text = Self.yaml(sender: "init", signal: 15).replacingOccurrences(of: "args: [1, 15]", with: "args: [2, 15]")
            .replacingOccurrences(of: "processes: {init: {state: running}}", with: "processes: {A: {state: zombie, signal: SIGTERM}}")
        #expect(runText(text).isPassed)
    }
}
