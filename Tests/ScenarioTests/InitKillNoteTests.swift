// InitKillNoteTests: a task the author expected kill(2) to end, but which is pid 1 (the first task by the
// format's default numbering) and so init, which ignores every signal kill sends it (SIGNAL_UNKILLABLE):
// the failure says why and what to write, for the final `processes` check and a step's `states`.

@testable import Scenario
import Testing

@Suite struct InitKillNoteTests {
    static func failures(_ yaml: String) -> [(path: String, note: String?)] {
        guard case let .spec(spec, warnings)? = decodeText(yaml).first else { return [("the scenario does not load", nil)] }
        let record = Runner.run(spec, file: "t.yaml", warnings: warnings, limits: RunLimits())
        guard case let .failed(fs) = record.result.outcome else { return [] }
        return fs.map { ($0.path, $0.note) }
    }

    static func scenario(pid: Int?, expect: String) -> String {
        """
        scenario: t
        machine: {mode: ia32}
        processes:
          - {name: A, state: ready\(pid.map { ", pid: \($0)" } ?? "")}
          - {name: B, state: running, pid: 2}
        steps:
          - syscall: {via: int80, nr: kill, args: [\(pid ?? 1), 9]}
            expect: {returns: 0\(expect)}
        expect:
          processes: {A: {state: zombie, signal: SIGKILL}}
        """
    }

    @Test func finalAndStepChecksOfInitSayWhy() {
        let f = Self.failures(Self.scenario(pid: nil, expect: ", states: {A: zombie}"))
        #expect(f.map(\.path) == ["steps[0].expect.states.A", "expect.processes.A.state", "expect.processes.A.signal"])
        for note in [f.first?.note, f.last?.note] {
            #expect(note?.contains("A is pid 1, init, which ignores every signal kill sends it (SIGNAL_UNKILLABLE") == true)
            #expect(note?.contains("SIGKILL had no effect. Give A another pid") == true)
        }
    }

    /// With another pid the kill works and nothing needs explaining.
    @Test func anOrdinaryTaskDies() {
        #expect(Self.failures(Self.scenario(pid: 5, expect: ", states: {A: zombie}")).isEmpty)
    }
}
