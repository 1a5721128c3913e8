@testable import Scenario
import Testing

// A descriptor's `name` is text: a list or a map there is refused (it was silently no name, so a
// selector naming the entry failed far from the cause; found by Fuzz/diff/schema_variants.py).
@Suite struct DescriptorNameTests {
    @Test("a descriptor name that is not a scalar is refused", arguments: ["[1, 2]", "{a: 1}"])
    func refused(name: String) {
        let yaml = "scenario: a\nmachine: {mode: ia32, preset: none, gdt: [null, {type: code, name: \(name)}]}\nkernel: none\n"
        guard case let .invalid(d) = runText(yaml) else { Issue.record("not invalid: \(name)"); return }
        #expect(d.contains { $0.message.contains("gdt[1].name must be a string") })
    }

    @Test("a scalar name is the entry's name", arguments: ["kcode", "\"kcode\"", "7"])
    func accepted(name: String) {
        let yaml = "scenario: a\nmachine: {mode: ia32, preset: none, gdt: [null, {type: code, name: \(name)}]}\nkernel: none\n"
        guard case .invalid(let d) = runText(yaml) else { return }
        Issue.record("invalid: \(d.map(\.message))")
    }
}
