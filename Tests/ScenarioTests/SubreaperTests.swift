// prctl(PR_SET_CHILD_SUBREAPER) and find_new_reaper (kernel/exit.c): an exiting task's children go to the
// nearest ancestor that is a child subreaper and alive, else to init. prctl was missing from both tables
// (-ENOSYS by number, an unknown name by name), so orphans always went to init.
@testable import Scenario
import Testing

@Suite struct SubreaperTests {
    /// S (pid 2) optionally becomes a subreaper, forks M, M forks K, M exits: K's getppid.
    static func reparentYAML(via: String, setFlag: Int?) -> String {
        let mode = via == "syscall" ? "x86_64" : "ia32"
        let flag = setFlag.map { "  - syscall: {via: \(via), nr: prctl, args: [36, \($0)]}\n    expect: {returns: 0}\n" } ?? ""
        return """
        scenario: s
        machine: {mode: \(mode)}
        kernel: {scheduler: {policy: fifo}}
        processes:
          - {name: init, pid: 1, state: blocked}
          - {name: S, pid: 2, parent: init, state: running}
        steps:
        \(flag)  - syscall: {via: \(via), nr: fork, name: M}
          - syscall: {via: \(via), nr: sched_yield}
          - syscall: {via: \(via), nr: fork, name: K}
            as: M
          - syscall: {via: \(via), nr: exit, args: [0]}
            as: M
            expect: {switch: {from: M, to: S}}
          - syscall: {via: \(via), nr: sched_yield}
            expect: {switch: {from: S, to: K}}
          - syscall: {via: \(via), nr: getppid}
            as: K
            expect: {returns: \(setFlag.map { $0 != 0 ? 2 : 1 } ?? 1)}

        """
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var via: String
        var setFlag: Int?
        var testDescription: String { "\(via) prctl(36, \(setFlag.map(String.init) ?? "not called"))" }
    }

    static let cases: [Case] = [
        Case(via: "syscall", setFlag: 1), Case(via: "int80", setFlag: 1), Case(via: "syscall", setFlag: 0x100),
        Case(via: "syscall", setFlag: 0), Case(via: "int80", setFlag: nil),
    ]

    @Test(arguments: cases)
    func orphanGoesToSubreaperOrInit(_ c: Case) {
        let outcome = runText(Self.reparentYAML(via: c.via, setFlag: c.setFlag))
        #expect(outcome.isPassed, "\(outcome)")
    }

    @Test(arguments: [("syscall", 157), ("int80", 172)])
    func prctlNumbers(_ via: String, _ number: Int) {
        let mode = via == "syscall" ? "x86_64" : "ia32"
        let outcome = runText("scenario: p\nmachine: {mode: \(mode)}\nsteps:\n  - syscall: {via: \(via), nr: \(number), args: [36, 1]}\n    expect: {returns: 0}\n")
        #expect(outcome.isPassed, "\(outcome)")
    }

    @Test(arguments: [15, 4, 38, 1000])
    func otherPrctlOptionsAreRefused(_ option: Int) {
        let outcome = runText("scenario: p\nmachine: {mode: x86_64}\nsteps:\n  - syscall: {via: syscall, nr: prctl, args: [\(option), 0]}\n    expect: {returns: 0}\n")
        guard case let .failed(fs) = outcome else {
            Issue.record("expected a refused step, got \(outcome)")
            return
        }
        #expect(fs.contains { $0.actual.contains("not modelled: prctl(\(option), ...)") }, "\(fs)")
    }
}
