// The top-level `processes` check takes `signal: none` (the task was not killed by a signal), as the step's
// `signal` does (docs/format.md: `none` for `signal`). It was an error ("unknown signal 'none'"), so a
// scenario could not state that a task exited normally rather than by a signal.
@testable import Scenario
import Testing

@Suite struct ProcessSignalNoneTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var steps: String
        var check: String
        var passes: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "exit: signal none holds", steps: "  - {exit: 3, as: B}", check: "{state: zombie, exit_code: 3, signal: none}", passes: true),
        Case(name: "exit: quoted \"none\" holds", steps: "  - {exit: 3, as: B}", check: "{signal: \"none\"}", passes: true),
        Case(name: "killed: signal none fails", steps: """
          - syscall: {via: syscall, nr: kill, args: [2, 15]}
        """, check: "{signal: none}", passes: false),
        Case(name: "running: signal none holds", steps: "  - timer: 1", check: "{state: ready, signal: none}", passes: true),
    ]

    @Test(arguments: cases)
    func signalNone(_ c: Case) {
        var steps = c.steps
        if c.name.hasPrefix("exit") { steps = "  - wait: {}\n" + steps }
        let r = runParentAndChild(mode: "x86_64", steps: steps + "\nexpect:\n  processes: {B: \(c.check)}")
        #expect(r.first?.outcome.isPassed == c.passes, "\(String(describing: r.first?.outcome))")
        if !c.passes, let f = r.first.map(failures)?.first {
            #expect(f.path.hasSuffix("processes.B.signal"))
            #expect(f.expected == "none")
        }
    }
}
