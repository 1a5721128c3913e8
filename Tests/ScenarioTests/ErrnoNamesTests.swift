// `returns: -ENAME` accepts every errno of asm-generic/errno-base.h (1-34) and the common ones of errno.h,
// not only those the model returns: a scenario that expects -ENOTTY is a failed check, not an invalid file.

@testable import Machine
@testable import Scenario
import Testing

@Suite struct ErrnoNamesTests {
    @Test func errnoBaseIsComplete() {
        for v in Int64(1)...34 {
            #expect(KernelErrno.name(of: v) != nil, "errno \(v) has no name")
        }
        #expect(Set(KernelErrno.all.map(\.value)).count == KernelErrno.all.count)
        #expect(Set(KernelErrno.all.map(\.name)).count == KernelErrno.all.count)
        #expect(KernelErrno.value(of: "ENOTTY") == 25)
        #expect(KernelErrno.value(of: "ELOOP") == 40)
    }

    @Test func anExpectedErrnoTheModelDoesNotReturnFails() {
        let r = runScenarioText("""
        scenario: enotty
        machine: {mode: x86_64}
        steps:
          - syscall: {via: syscall, nr: close, args: [9]}
            expect: {returns: -ENOTTY}
        """)
        guard case .failed? = r.first?.outcome else {
            Issue.record("expected a failed check: \(String(describing: r.first?.outcome))")
            return
        }
    }
}
