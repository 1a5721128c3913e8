// `kernel: {fork: copy | cow}` (docs/format.md, kernel): the decoder takes both spellings, defaults to
// the eager copy, and refuses anything else at the value with a "did you mean".

import Machine
@testable import Scenario
import Testing

@Suite struct ForkModeKeyTests {
    @Test(arguments: [("", ForkMode.copy), ("fork: copy, ", .copy), ("fork: cow, ", .cow)])
    func decodes(_ c: (key: String, mode: ForkMode)) {
        let s = spec("""
        scenario: t
        machine: {mode: x86_64}
        kernel: {\(c.key)scheduler: {policy: fifo}}
        steps: []
        """)
        #expect(s?.kernel.fork == c.mode)
    }

    @Test(arguments: [("cwo", "did you mean 'cow'?"), ("coyp", "did you mean 'copy'?"), ("eager", "expected one of: copy, cow")])
    func misspellingIsAnErrorAtTheValue(_ c: (value: String, note: String)) {
        let d = diagnostics("""
        scenario: t
        machine: {mode: x86_64}
        kernel: {fork: \(c.value)}
        steps: []
        """)
        #expect(d.count == 1)
        #expect(d.first?.message == "unknown kernel.fork mode '\(c.value)'")
        #expect(d.first?.notes == [c.note])
        #expect(d.first?.location?.line == 3)
        #expect(d.first?.location?.column == 16)
    }

    @Test func misspeltKeyIsNamed() {
        let d = diagnostics("""
        scenario: t
        machine: {mode: x86_64}
        kernel: {frok: cow}
        steps: []
        """)
        #expect(d.first?.notes.contains("did you mean 'fork'?") == true)
    }
}
