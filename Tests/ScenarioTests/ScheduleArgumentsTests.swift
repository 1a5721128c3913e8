// `schedule` takes no arguments: a bare `- schedule`, `schedule:` (null) or `schedule: {}`. Any other value
// (a list, a number, a non-empty map) is refused at its position, as the JSON Schema refuses it (it was
// silently ignored unless it was a non-empty map; found by Fuzz/diff/schema_variants.py).

@testable import Scenario
import Testing

@Suite struct ScheduleArgumentsTests {
    @Test("schedule refuses a value", arguments: [
        ("- schedule: [1, 2]", 15),
        ("- schedule: 5", 15),
        ("- schedule: now", 15),
        ("- schedule: []", 15),
        ("- schedule: {a: 1}", 15),
    ])
    func refused(step: String, column: Int) {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nsteps:\n  \(step)\n"
        guard case let .invalid(d) = runText(yaml) else { Issue.record("not invalid: \(step)"); return }
        #expect(d.count == 1)
        #expect(d.first?.message.contains("schedule takes no arguments") == true)
        #expect(d.first?.location?.line == 4)
        #expect(d.first?.location?.column == column)
    }

    @Test("schedule without a value runs", arguments: ["- schedule", "- schedule:", "- schedule: {}", "- schedule: ~", "- schedule: null"])
    func accepted(step: String) {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nsteps:\n  \(step)\n"
        #expect(runText(yaml) == .passed)
    }
}
