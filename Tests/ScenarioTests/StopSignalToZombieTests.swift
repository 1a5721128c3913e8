// A stop signal to a zombie (not yet reaped) changes nothing and returns 0: no thread of an exited process
// wants it (kernel/signal.c complete_signal -> wants_signal: PF_EXITING). It used to be refused as a stop;
// a stop signal to a live task still is (stopped tasks are not modelled).
@testable import Scenario
import Testing

@Suite struct StopSignalToZombieTests {
    @Test(arguments: [19, 20, 21, 22])
    func stopSignalToAZombieReturnsZero(_ signal: Int) {
        let yaml = """
        scenario: z
        machine: {mode: ia32}
        processes:
          - {name: P, pid: 2, state: running}
          - {name: Z, pid: 3, parent: P, state: zombie}
        steps:
          - syscall: {via: int80, nr: kill, args: [3, \(signal)]}
            expect: {returns: 0, switch: none}
          - syscall: {via: int80, nr: waitpid, args: [3, 0, 0]}
            expect: {returns: 3}

        """
        #expect(runText(yaml).isPassed, "\(runText(yaml))")
    }

    @Test func stopSignalToALiveTaskIsStillRefused() {
        let yaml = "scenario: z\nmachine: {mode: ia32}\nprocesses:\n  - {name: P, pid: 2, state: running}\n  - {name: Q, pid: 3}\nsteps:\n  - syscall: {via: int80, nr: kill, args: [3, 19]}\n    expect: {returns: 0}\n"
        guard case let .failed(fs) = runText(yaml) else {
            Issue.record("expected a refused step")
            return
        }
        #expect(fs.contains { $0.actual.contains("not modelled: SIGSTOP (stopped tasks)") }, "\(fs)")
    }
}
