// A process's VMAs (`processes.memory`) are disjoint and lie below the top of user space, as Linux's mm
// keeps them: overlapping VMAs, or one reaching into the kernel half (whose page tables every task
// shares), make the scenario invalid instead of silently building a layout Linux cannot have.
// Found with Fuzz/diff/mem_diff.py.

import Machine
@testable import Scenario
import Testing

@Suite struct VMALayoutErrorTests {
    struct Layout: Sendable, CustomTestStringConvertible {
        var name: String
        var mode: String
        var memory: [String]
        /// The message of the refusal, or nil when the layout is valid.
        var message: String?
        var testDescription: String { name }
    }

    static let cases: [Layout] = [
        Layout(name: "overlapping VMAs", mode: "x86_64",
               memory: ["{segment: text, start: 0x400000, pages: 2, perm: \"r-x\", populate: true}",
                        "{segment: data, start: 0x401000, pages: 2, perm: \"rw-\"}"],
               message: "memory[1] (data at 0x401000) overlaps memory[0] (text at 0x400000)"),
        Layout(name: "a VMA inside another", mode: "ia32",
               memory: ["{segment: data, start: 0x08048000, pages: 4}",
                        "{segment: bss, start: 0x08049000, pages: 1}"],
               message: "memory[1] (bss at 0x8049000) overlaps memory[0]"),
        Layout(name: "a VMA in the ia32 kernel half", mode: "ia32",
               memory: ["{segment: data, start: 0xC8000000, pages: 1, perm: \"rw-\", populate: true}"],
               message: "memory[0] (data at 0xc8000000) reaches above the top of user space 0xc0000000"),
        Layout(name: "a VMA crossing TASK_SIZE", mode: "x86_64",
               memory: ["{segment: stack, start: 0x7ffffffff000, pages: 2}"],
               message: "reaches above the top of user space 0x7ffffffff000"),
        Layout(name: "adjacent VMAs are fine", mode: "x86_64",
               memory: ["{segment: text, start: 0x400000, pages: 1, perm: \"r-x\", populate: true}",
                        "{segment: data, start: 0x401000, pages: 1, perm: \"rw-\"}",
                        "{segment: stack, start: 0x7fffffffd000, pages: 2, populate: true}"],
               message: nil),
    ]

    @Test(arguments: cases)
    func layoutIsCheckedAtBuild(_ c: Layout) {
        let yaml = "scenario: a\nmachine: {mode: \(c.mode)}\nprocesses:\n  - name: A\n    memory:\n"
            + c.memory.map { "      - \($0)\n" }.joined()
        let outcome = runText(yaml)
        guard let message = c.message else {
            #expect(outcome == .passed)
            return
        }
        guard case let .invalid(ds) = outcome else {
            Issue.record("expected an invalid scenario, got \(outcome)")
            return
        }
        #expect(ds.contains { $0.message.contains(message) }, "\(ds.map(\.description))")
        // At the VMA's line (6 is memory[0]), not at the scenario's first line.
        let bad = c.memory.count == 1 ? 6 : 7
        #expect(ds.first?.location?.line == bad, "\(ds.map(\.description))")
    }

    /// Two tasks with one pid (given, or a task's place in the list) are an error at the second's line.
    @Test(arguments: [
        ("  - {name: a, state: running}\n  - {name: b, pid: 1}\n", 5, "processes[1] has pid 1"),
        ("  - {name: a, state: running, pid: 2}\n  - {name: b}\n", 5, "processes[1] has pid 2 (its place in the list)"),
    ])
    func pidClashIsLocated(_ processes: String, _ line: Int, _ message: String) {
        let outcome = runText("scenario: p\nmachine: {mode: x86_64}\nprocesses:\n" + processes + "steps: [{timer: 1}]\n")
        guard case let .invalid(ds) = outcome else { Issue.record("expected invalid, got \(outcome)"); return }
        #expect(ds.first?.message.contains(message) == true, "\(ds.map(\.description))")
        #expect(ds.first?.location?.line == line, "\(ds.map(\.description))")
    }
}
