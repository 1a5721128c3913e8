// INT n on a vector whose exception pushes an error code pushes none (INT-11, SDM Vol. 3A §6.13). When a
// scenario opens such a gate to ring 3 and the INT lands on Linux's entry, that entry takes the top of
// the frame as the error code (idtentry has_error_code=1, arch/x86/entry/entry_{32,64}.S), so Linux
// would misread the saved EIP, CS and EFLAGS. The kernel model refuses the step as not modelled. Was: it
// ran the exception's handler as if the CPU had raised it (SIGSEGV for `int 14`, SIGBUS for `int 11`).

@testable import Scenario
import Testing

@Suite struct IntNOnErrorCodeVectorTests {
    static let errorCodeVectors: [Int] = [10, 11, 12, 13, 14, 17]

    static func scenario(mode: String, vector: Int, expect: String) -> String {
        """
        scenario: c
        machine:
          mode: \(mode)
          idt:
            \(vector): {dpl: 3}
        processes:
          - {name: app, state: running}
        steps:
          - exec: "int \(vector)"
            expect: \(expect)
        """
    }

    @Test(arguments: ["ia32", "x86_64"], errorCodeVectors)
    func refused(mode: String, vector: Int) {
        let r = runScenarioText(Self.scenario(mode: mode, vector: vector, expect: "{fault: none}"))
        #expect(r.count == 1)
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("int \(vector) in \(mode): expected a refusal, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { $0.actual.contains("not modelled") && $0.actual.contains("without an error code") }, "\(fs)")
    }

    /// Vectors without an error code keep their frame's layout: Linux's entry reads it right.
    @Test(arguments: ["ia32", "x86_64"], [(0, "SIGFPE"), (3, "SIGTRAP"), (6, "SIGILL")])
    func vectorsWithoutErrorCodeStillSignal(mode: String, c: (vector: Int, signal: String)) {
        let r = runScenarioText(Self.scenario(mode: mode, vector: c.vector, expect: "{fault: none, signal: \(c.signal)}"))
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
