// A task `context` that no processor can be in (a data segment in CS, a non-canonical RIP in 64-bit
// code, ...) is refused at the context's line, not run on a guess (Machine/Kernel/StartingContext.swift).
import Testing
@testable import Scenario

@Suite struct StartingContextLocationTests {
    @Test(arguments: [
        ("{cs: user_ds:3}", "names a data segment"),
        ("{rip: 0x8000000000000000}", "is not canonical"),
        ("{ss: user_cs:3}", "not a writable data segment"),
    ])
    func impossibleContextIsLocated(_ context: String, _ message: String) {
        let yaml = "scenario: c\nmachine: {mode: x86_64}\nkernel: none\nprocesses:\n  - name: main\n    context: \(context)\n"
            + "steps: [{exec: nop, expect: {fault: none}}]\n"
        guard let s = spec(yaml) else { Issue.record("the scenario did not decode: \(diagnostics(yaml))"); return }
        let e = Runner.buildProblems(s)?.first { $0.severity == .error }
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
        #expect(e?.location?.line == 6, "\(String(describing: e))")
    }
}
