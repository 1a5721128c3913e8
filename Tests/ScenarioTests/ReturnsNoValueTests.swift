// ReturnsNoValueTests: a `returns` check on a step whose call never returned says which call ran and
// in which table: int 0x80 with 1 is exit in the i386 table (seed concept 4), not write.

@testable import Scenario
import Testing

@Suite struct ReturnsNoValueTests {
    static func failures(_ yaml: String) -> [String] {
        guard case let .spec(spec, warnings)? = decodeText(yaml).first else { return ["the scenario does not load"] }
        let record = Runner.run(spec, file: "t.yaml", warnings: warnings, limits: RunLimits())
        guard case let .failed(fs) = record.result.outcome else { return [] }
        return fs.map { "\($0.path): expected \($0.expected), got \($0.actual)" }
    }

    @Test func exitThroughInt80NamesTheCall() {
        let f = Self.failures("""
            scenario: t
            machine: {mode: x86_64}
            kernel: {scheduler: {policy: fifo}}
            steps:
              - syscall: {via: int80, nr: 1, args: [1, "hi", 2]}
                expect: {returns: 2}
            """)
        #expect(f == ["steps[0].expect.returns: expected 2, got no return value: the step called exit (number 1 in the i386 table), which did not return to user mode"])
    }

    @Test func aStepWithoutACallSaysSo() {
        let f = Self.failures("""
            scenario: t
            machine: {mode: ia32}
            kernel: {scheduler: {policy: fifo}}
            steps:
              - timer: 1
                expect: {returns: 0}
            """)
        #expect(f == ["steps[0].expect.returns: expected 0, got no return value: the step made no system call and dispatched no task whose call returns"])
    }
}
