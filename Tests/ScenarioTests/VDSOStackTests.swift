// `via: sysenter` from a 32-bit task stands for a call of the vDSO's __kernel_vsyscall, whose prologue
// pushes ECX, EDX and EBP on the user stack (docs/kernel-model.md). Those are user-mode writes: the model
// makes them only when the 12 bytes are mapped present, user and writable, and refuses the step
// otherwise (it does not fault them in, nor deliver the SIGSEGV Linux would for a read-only stack).
// A read-only stack used to be written through. Found while probing the stack layouts of
// Fuzz/diff/mem_diff.py.

@testable import Scenario
import Testing

@Suite struct VDSOStackTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var stack: String
        /// nil: the call completes and returns the pid.
        var refusal: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "read-only populated stack", stack: "perm: \"r--\", populate: true",
             refusal: "not modelled unless those 12 bytes are mapped present, user and writable"),
        Case(name: "stack not populated", stack: "perm: \"rw-\"",
             refusal: "not modelled unless those 12 bytes are mapped present, user and writable"),
        Case(name: "writable populated stack", stack: "perm: \"rw-\", populate: true", refusal: nil),
    ]

    @Test(arguments: cases)
    func vdsoPushes(_ c: Case) {
        let r = runScenarioText("""
        scenario: v
        machine: {mode: ia32}
        processes:
          - name: A
            memory:
              - {segment: text, start: 0x08048000, pages: 1, perm: "r-x", populate: true}
              - {segment: stack, start: 0xbfffe000, pages: 2, \(c.stack)}
        steps:
          - syscall: {via: sysenter, nr: getpid}
            expect: {returns: 1}
        """)
        #expect(r.count == 1)
        guard let refusal = c.refusal else {
            #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
            return
        }
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("expected a refusal, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { $0.actual.contains(refusal) }, "\(fs)")
    }

    /// The same holds for a compat SYSCALL's argument 6, which the step stores at 0(%esp) as the caller would.
    @Test(arguments: [("perm: \"r--\", populate: true", false), ("perm: \"rw-\", populate: true", true)])
    func compatSyscallArgumentSix(_ stack: String, _ completes: Bool) {
        let r = runScenarioText("""
        scenario: v
        machine: {mode: x86_64, vendor: amd}
        processes:
          - name: A
            bits: 32
            memory:
              - {segment: text, start: 0x08048000, pages: 1, perm: "r-x", populate: true}
              - {segment: stack, start: 0xffffc000, pages: 2, \(stack)}
        steps:
          - syscall: {via: syscall, nr: getpid, args: [0, 0, 0, 0, 0, 6]}
            expect: {returns: 1}
        """)
        #expect(r.count == 1)
        if completes {
            #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
        } else {
            guard case let .failed(fs)? = r.first?.outcome else {
                Issue.record("expected a refusal, got \(String(describing: r.first?.outcome))")
                return
            }
            #expect(fs.contains { $0.actual.contains("not modelled unless 0(%esp) is mapped present, user and writable") }, "\(fs)")
        }
    }
}

/// `via: sysenter` is the 32-bit vDSO's entry: from a 64-bit task the step is refused (a 32-bit task in
/// x86_64 and every ia32 task may use it).
struct SysenterFromA64BitTaskTests {
    @Test(arguments: [("x86_64", "", false), ("x86_64", ", bits: 32", true), ("ia32", "", true)])
    func refusedOnlyFor64BitTasks(_ mode: String, _ bits: String, _ completes: Bool) {
        let r = runScenarioText("""
        scenario: s
        machine: {mode: \(mode)}
        processes:
          - {name: A, state: running\(bits)}
        steps:
          - syscall: {via: sysenter, nr: getpid}
            expect: {returns: 1}
        """)
        if completes {
            #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
        } else {
            guard case let .failed(fs)? = r.first?.outcome else { Issue.record("\(String(describing: r.first?.outcome))"); return }
            #expect(fs.contains { $0.actual.contains("`via: sysenter` is the 32-bit vDSO's entry") }, "\(fs)")
        }
    }
}
