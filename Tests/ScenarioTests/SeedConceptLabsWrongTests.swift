// SeedConceptLabsWrongTests: the deliberately wrong variants of the seed-concept labs
// (Tests/Fixtures/seed-concepts-labs-wrong.yaml) each fail for their reason, at the line and column
// of the wrong expectation, and `ringspec explain` shows the rule (and SDM section) behind the truth.

import Foundation
import Testing

struct WrongLabVariant: CustomTestStringConvertible, Sendable {
    /// The scenario id.
    var id: String
    /// The failure line the run must print (path, expected and actual), without its location.
    var failure: String
    /// Where the location must point on the line marked `# WRONG`: the text before `|` is what precedes the
    /// column, the text after it starts at the column.
    var at: String
    /// What `ringspec explain` must say so that a student sees why: the rule id with its SDM section.
    var explains: [String]
    var testDescription: String { id }
}

@Suite(.serialized) struct SeedConceptLabsWrongTests {
    /// Relative to the package root, where the tests run the binary, so that reports name it as a student's would.
    static let fixture = "Tests/Fixtures/seed-concepts-labs-wrong.yaml"
    static let int7 = "INT-7, Intel SDM Vol. 3A §6.12.1"
    static let int9 = "INT-9, Intel SDM Vol. 3A §6.12.1"
    static let int10 = "INT-10, Intel SDM Vol. 3A §6.14"

    static let variants: [WrongLabVariant] = [
        .init(id: "wrong01-int80-is-not-an-interrupt-gate-ia32", failure: "steps[0].expect.gate.type: expected interrupt, got trap",
              at: "type: |interrupt", explains: ["a present trap gate of DPL 3", "a trap gate leaves IF as it was (\(int9)"]),
        .init(id: "wrong02-compat-int80-keeps-if-x86_64", failure: "steps[0].expect.gate.if: expected true, got false",
              at: "if: |true", explains: ["a present interrupt gate of DPL 3", "an interrupt gate clears IF (\(int9)", int10]),
        .init(id: "wrong03-syscall-enters-user-cs-x86_64", failure: "steps[0].expect.entry.cs: expected 0x33, got 0x10",
              at: "cs: |0x33", explains: ["CS = STAR[47:32]", "FAST-7, Intel SDM Vol. 2B SYSCALL"]),
        .init(id: "wrong04-syscall-in-ia32-does-not-fault", failure: "steps[0].expect.fault: expected none, got UD",
              at: "fault: |none", explains: ["FAST-6", "Intel SDM Vol. 2B SYSCALL", "only in 64-bit mode"]),
        .init(id: "wrong05-sysexit-cs-ia32", failure: "steps[2].expect.regs.cs: expected 0x7b, got 0x73",
              at: "cs: |0x7b", explains: ["CS = SYSENTER_CS + 16", "FAST-4, Intel SDM Vol. 2B SYSEXIT"]),
        .init(id: "wrong06-int80-number-1-is-exit-x86_64",
              failure: "steps[0].expect.returns: expected 2, got no return value: the step called exit (number 1 in the i386 table), which did not return to user mode",
              at: "returns: |2", explains: ["looks up number 1 in the i386 table and finds exit"]),
        .init(id: "wrong07-hlt-error-code-ia32", failure: "steps[0].expect.fault.error_code: expected 0x60, got 0x0",
              at: "error_code: |0x60", explains: ["PRIV-2", "Intel SDM Vol. 3A §5.9"]),
        .init(id: "wrong08-ds-load-error-code-names-the-selector-ia32", failure: "steps[0].expect.fault.error_code.selector: expected 0x78 (user_ds), got 0x68 (kernel_ds)",
              at: "selector: |user_ds", explains: ["SEG-5d", "Intel SDM Vol. 3A §5.6", "max(CPL 3, RPL 3) > DPL 0"]),
        .init(id: "wrong09-far-call-into-kernel-succeeds-ia32",
              failure: "steps[0].expect.fault: expected none (the step's expect mentions no fault), got #GP(0x60)",
              at: "  - |exec", explains: ["FAR-2", "Intel SDM Vol. 3A §5.8.1", "needs DPL == CPL"]),
        .init(id: "wrong10-pf-write-bit-ia32", failure: "steps[0].expect.fault.error_code: expected 0x5, got 0x7",
              at: "error_code: |5", explains: ["PG-6", "Intel SDM Vol. 3A §4.6", "user-mode write"]),
        .init(id: "wrong11-kernel-half-physical-x86_64", failure: "steps[0].expect.physical: expected 0xffff888000005678, got 0x5678",
              at: "physical: |0xffff", explains: ["page walk for linear address 0xffff888000005678", "-> physical address 0x5678"]),
        .init(id: "wrong12-heap-demand-paging-is-no-segv-ia32", failure: "steps[0].expect.signal: expected SIGSEGV, got none",
              at: "signal: |SIGSEGV", explains: ["PG-12", "Intel SDM Vol. 3A §4.7", "demand"]),
        .init(id: "wrong13-task-gate-privilege-ia32", failure: "steps[0].expect.gate.to_cpl: expected 3, got 0",
              at: "to_cpl: |3", explains: ["TASK-1, Intel SDM Vol. 3A §7.3", "the new task's CS.RPL"]),
        .init(id: "wrong14-task-gate-in-x86_64-vector-x86_64", failure: "steps[0].expect.fault: expected TS, got GP",
              at: "fault: |{vector", explains: ["TASK-9", "Intel SDM Vol. 3A §7.7"]),
        .init(id: "wrong15-trap-gate-stack-switch-ia32", failure: "steps[0].expect.gate.stack_switch: expected false, got true",
              at: "stack_switch: |false", explains: ["CPL 3 -> 0 (more privileged), so the CPU switches to the stack for CPL 0 (\(int7)", "read from TSS.SS0:ESP0"]),
        .init(id: "wrong16-timer-switches-to-wrong-task-ia32", failure: "steps[0].expect.switch.to: expected c, got b",
              at: "to: |c,", explains: ["schedule() runs (timer)", "context switch a -> b (timer)"]),
        .init(id: "wrong17-call-gate-forgets-parameters-ia32", failure: "steps[0].expect.regs.esp: expected 0xc2007ff0, got 0xc2007fe8",
              at: "esp: |0xc2007ff0", explains: ["pushed on the new stack, in order: SS=0x7b, ESP=0xbffffff0, param=0x0, param=0x0, CS=0x73",
                                                  "FAR-9, Intel SDM Vol. 3A §5.8.5"]),
        .init(id: "wrong18-ticks-charged-ia32", failure: "expect.processes.sleeper.ticks: expected 1, got 0",
              at: "ticks: |1", explains: ["charged to the running task only"]),
        .init(id: "wrong19-yield-reason-ia32", failure: "steps[0].expect.switch.reason: expected timer, got yield",
              at: "reason: |timer", explains: ["schedule() runs (yield)", "sched_yield calls schedule() itself"]),
        .init(id: "wrong20-double-fault-missing-np-x86_64",
              failure: "steps[0].expect.faults: expected [PF, DF], got [PF error_code=0x4 cr2=0x50000000, NP error_code=0x73, DF error_code=0x0]",
              at: "faults: |[PF", explains: ["INT-5", "Intel SDM Vol. 3A §6.11", "#NP while delivering #PF: double fault (DF-2; Intel SDM Vol. 3A §6.15", "Table 6-5"]),
    ]

    /// The 1-based line and column of `at` (`prefix|rest`) on the line marked `# WRONG` in `id`'s document.
    static func position(of id: String, _ at: String) -> (line: Int, column: Int)? {
        guard let text = try? String(contentsOfFile: packageRoot() + "/" + fixture, encoding: .utf8) else { return nil }
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "scenario: \(id)") else { return nil }
        guard let marked = lines[start...].firstIndex(where: { $0.contains("# WRONG") }) else { return nil }
        let parts = at.components(separatedBy: "|")
        guard parts.count == 2, let r = lines[marked].range(of: parts[0] + parts[1]) else { return nil }
        return (marked + 1, lines[marked].distance(from: lines[marked].startIndex, to: r.lowerBound) + parts[0].count + 1)
    }

    @Test func theLibraryDoesNotRunTheWrongVariants() {
        #expect(!Self.fixture.hasPrefix("scenarios/"))
        #expect(Self.variants.count == 20)
    }

    @Test func everyWrongVariantFails() throws {
        let r = try runRingspec(["run", "--no-color", Self.fixture], cwd: packageRoot())
        #expect(r.status == 1, "\(r.output.prefix(2000))")
        #expect(r.stdout.contains("0 passed, 20 failed"), "\(r.stdout.suffix(500))")
        let listed = r.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("FAIL  ") }.count
        #expect(listed == Self.variants.count)
    }

    @Test(arguments: variants) func failsForItsReasonAtItsPlace(_ v: WrongLabVariant) throws {
        let r = try runRingspec(["run", "--no-color", "--filter", "^\(v.id)$", Self.fixture], cwd: packageRoot())
        #expect(r.status == 1, "\(r.output.prefix(2000))")
        #expect(r.stdout.contains("FAIL  \(v.id)"), "\(r.stdout.prefix(2000))")
        let place = try #require(Self.position(of: v.id, v.at), "no `# WRONG` line holding '\(v.at)' in \(v.id)")
        let line = "\(v.failure) (Tests/Fixtures/seed-concepts-labs-wrong.yaml:\(place.line):\(place.column))"
        #expect(r.stdout.contains(line), "expected the line\n  \(line)\nin:\n\(r.stdout.prefix(3000))")
        // One reason only: each variant states exactly one wrong thing.
        let failures = r.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("    ") && $0.contains("expected ") }
        #expect(failures.count == 1, "\(failures)")
    }

    @Test(arguments: variants) func explainShowsWhy(_ v: WrongLabVariant) throws {
        let r = try runRingspec(["explain", "--scenario", v.id, Self.fixture], cwd: packageRoot())
        #expect(r.status == 0, "\(r.output.prefix(2000))")
        for fragment in v.explains {
            #expect(r.stdout.contains(fragment), "explain does not say '\(fragment)':\n\(r.stdout.prefix(4000))")
        }
        // The result ends the explanation with the same failure, so the student reads both together.
        #expect(r.stdout.contains("result: failed") && r.stdout.contains(v.failure), "\(r.stdout.suffix(1500))")
    }
}
