// The declared processes' `parent` keys must form a tree, as Linux's processes do: a task that is its own
// parent (it then blocked in wait4 for itself, forever), a cycle of parents, and a live or zombie child of a
// zombie (an exiting task hands its children to init before it becomes a zombie, kernel/exit.c exit_notify ->
// forget_original_parent; getppid gave the zombie's pid) were accepted. Each is now an error at the `parent`
// that breaks the tree.
@testable import Scenario
import Testing

@Suite struct ProcessTreeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var processes: String
        /// The message, and the line of the `parent` it is reported at (nil: the scenario is valid).
        var message: String?
        var line: Int?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "own parent", processes: "  - {name: A, state: running, parent: A}",
             message: "'A' cannot be its own parent", line: 4),
        Case(name: "two-task cycle", processes: "  - {name: A, state: running, parent: B}\n  - {name: B, parent: A}",
             message: "the parents form a cycle (A -> B -> A)", line: 4),
        Case(name: "three-task cycle below a task outside it",
             processes: "  - {name: X, state: running}\n  - {name: A, parent: C}\n  - {name: B, parent: A}\n  - {name: C, parent: B}\n  - {name: D, parent: C}",
             message: "the parents form a cycle (A -> C -> B -> A)", line: 5),
        Case(name: "live child of a zombie", processes: "  - {name: A, state: running, parent: Z}\n  - {name: Z, state: zombie}",
             message: "'Z' is a zombie", line: 4),
        Case(name: "zombie child of a zombie", processes: "  - {name: A, state: running}\n  - {name: Z, state: zombie}\n  - {name: Y, state: zombie, parent: Z}",
             message: "'Z' is a zombie", line: 6),
        Case(name: "a tree with a zombie leaf is valid",
             processes: "  - {name: A, state: running}\n  - {name: B, parent: A}\n  - {name: C, parent: B}\n  - {name: D, parent: B, state: zombie}",
             message: nil, line: nil),
    ]

    @Test(arguments: cases)
    func processTree(_ c: Case) {
        let yaml = "scenario: t\nmachine: {mode: x86_64}\nprocesses:\n\(c.processes)\nsteps:\n  - timer: 1\n    expect: {switch: none}\n"
        let outcome = runText(yaml)
        guard let message = c.message else {
            #expect(outcome.isPassed, "\(outcome)")
            return
        }
        guard case let .invalid(ds) = outcome else {
            Issue.record("expected an invalid scenario, got \(outcome)")
            return
        }
        #expect(ds.count == 1, "\(ds.map(\.description))")
        #expect(ds.contains { $0.message.contains(message) && $0.location?.line == c.line }, "\(ds.map(\.description))")
    }
}
