// Runner tests: the unexpected-exception rule, expectations that must fail, and located failures.

import Machine
@testable import Scenario
import Testing

func runScenarioText(_ yaml: String) -> [ScenarioResult] {
    decodeText(yaml).map { loaded in
        switch loaded {
        case let .spec(s, w): return Runner.run(s, file: "t.yaml", warnings: w).result
        case let .invalid(r): return r
        }
    }
}

/// Runs `steps` (YAML list items, two-space indented) on a fifo kernel whose running task A has one
/// child, B (pid 2).
func runParentAndChild(mode: String, steps: String) -> [ScenarioResult] {
    runScenarioText("""
    scenario: c
    machine: {mode: \(mode)}
    kernel: {scheduler: {policy: fifo}}
    processes:
      - {name: A, state: running}
      - {name: B, parent: A}
    steps:
    \(steps)
    """)
}

func failures(_ r: ScenarioResult) -> [CheckFailure] {
    if case let .failed(fs) = r.outcome { return fs }
    return []
}

@Suite struct RunnerTests {
    static let gpWithoutHandler = """
    scenario: chain
    machine: {mode: ia32, idt: {GP: {present: false}}}
    kernel: none
    steps:
      - exec: "mov ds, kernel_ds"
        expect: EXPECT
    """

    struct Case: Sendable, CustomTestStringConvertible {
        var expect: String
        var passes: Bool
        var testDescription: String { "\(expect) -> \(passes ? "pass" : "fail")" }
    }

    /// #GP(0x68) whose gate is not present: the CPU raises [GP, NP, DF] (DF-2).
    @Test(arguments: [
        Case(expect: "{faults: [GP, NP, DF]}", passes: true),
        Case(expect: "{faults: [{vector: GP, error_code: 0x68}, {vector: NP, error_code: 0x6b}, {vector: DF, error_code: 0}]}", passes: true),
        Case(expect: "{fault: GP}", passes: false),                 // #NP and #DF not mentioned
        Case(expect: "{fault: GP, faults: [GP, NP, DF]}", passes: true),
        Case(expect: "{faults: [GP, NP]}", passes: false),
        Case(expect: "{faults: [GP, DF, NP]}", passes: false),
        Case(expect: "{fault: none}", passes: false),
        Case(expect: "{cpl: 0}", passes: false),                    // raises exceptions it does not mention
        Case(expect: "{fault: {vector: GP, error_code: 0x69}, faults: [GP, NP, DF]}", passes: false),
        Case(expect: "{faults: [{vector: GP, error_code: {selector: kernel_ds, ext: false}}, {vector: NP, error_code: {selector: 0x68, idt: true, ext: true}}, DF]}", passes: true),
    ])
    func unexpectedExceptionRule(_ c: Case) {
        let r = runScenarioText(Self.gpWithoutHandler.replacing("EXPECT", with: c.expect))
        #expect(r.count == 1)
        #expect(r.first?.outcome.isPassed == c.passes, "\(String(describing: r.first?.outcome))")
    }

    @Test func idtErrorCodeForANotPresentGateHasTheIDTAndEXTBits() {
        // 13*8 + 2 + 1 = 0x6b: the #GP's gate (vector 13) is not present, detected while delivering an exception.
        let r = runScenarioText(Self.gpWithoutHandler.replacing("EXPECT", with: "{faults: [GP, {vector: NP, error_code: 0x6b}, DF]}"))
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    @Test func failureIsLocatedAtTheFieldThatDiffers() {
        let r = runScenarioText("""
        scenario: located
        machine: {mode: ia32}
        kernel: none
        steps:
          - exec: "mov ds, kernel_ds"
            expect:
              fault: {vector: GP, error_code: 0x402}
        """)
        let fs = failures(r[0])
        #expect(fs.count == 1)
        #expect(fs.first?.path == "steps[0].expect.fault.error_code")
        #expect(fs.first?.expected == "0x402")
        #expect(fs.first?.actual == "0x68")
        #expect(fs.first?.location == SourceLocation(file: "t.yaml", line: 7, column: 39))
        #expect(fs.first?.description.hasPrefix("steps[0].expect.fault.error_code: expected 0x402, got 0x68 (t.yaml:7:39)") == true)
    }

    @Test func aStepThatCannotRunFails() {
        let r = runScenarioText("""
        scenario: wrong-actor
        machine: {mode: x86_64}
        processes: [{name: a, state: running}, {name: b}]
        steps:
          - exit: 0
            as: b
        """)
        #expect(r.first?.outcome.isFailedOrInvalid == true)
    }

    @Test func tickBudgetMakesTheScenarioInvalid() {
        var limits = RunLimits()
        limits.tickBudget = 10
        guard case let .spec(s, _) = decodeText("scenario: t\nsteps: [{timer: 11}]\n").first else { Issue.record("decode"); return }
        let r = Runner.run(s, file: "t.yaml", limits: limits).result
        guard case let .invalid(ds) = r.outcome else { Issue.record("not invalid: \(r.outcome)"); return }
        #expect(ds.first?.message.contains("--tick-budget") == true)
        #expect(ds.first?.location?.line == 2)
    }
}

/// After HLT the processor runs nothing until an interrupt: an instruction step is refused, an
/// interrupt resumes it (SDM Vol. 2A, HLT).
struct HaltedCPUTests {
    static func scenario(_ between: String, _ then: String) -> String {
        """
        scenario: halted
        machine: {mode: ia32}
        kernel: none
        processes:
          - name: k
            context: {cs: kernel_cs, ss: kernel_ds, esp: 0xc0100000, eip: 0xc0100000}
        steps:
          - exec: "hlt"
        \(between)
          - \(then)
        """
    }

    @Test(arguments: ["exec: \"nop\"", "access: {op: read, addr: 0xc0000000}", "exec: \"hlt\""])
    func anInstructionAfterHLTIsRefused(_ step: String) {
        let outcome = runText(Self.scenario("", step))
        guard case let .failed(fs) = outcome else { Issue.record("\(outcome)"); return }
        #expect(fs.contains { "\($0)".contains("the CPU is halted (HLT)") })
    }

    @Test func withIFClearNothingResumesIt() {
        let outcome = runText(Self.scenario("  - set: {rflags: {if: false}}\n  - irq: 0x20", "exec: \"nop\""))
        guard case let .failed(fs) = outcome else { Issue.record("\(outcome)"); return }
        #expect(fs.contains { "\($0)".contains("with IF = 0 none is taken") })
    }

    @Test func anInterruptResumesIt() {
        let outcome = runText(Self.scenario("  - irq: 0x20", "exec: \"nop\""))
        guard case .passed = outcome else { Issue.record("\(outcome)"); return }
    }
}

/// `switch.reason: syscall_return` matches a switch that schedule() made on the way back from a system
/// call (recorded with the reason `wakeup`), and no other.
struct SyscallReturnReasonTests {
    static let base = """
        scenario: s
        machine: {mode: x86_64}
        kernel: {scheduler: {policy: priority}}
        processes:
          - {name: high, priority: 10, state: running}
          - {name: low, priority: 1, state: ready}
        steps:
        """

    @Test func aTickWakeupIsNotASyscallReturn() {
        let outcome = runText(Self.base + """

              - syscall: {via: syscall, nr: nanosleep, args: [1]}
              - timer: 1
                expect: {switch: {from: low, to: high, reason: syscall_return}}
            """)
        guard case let .failed(fs) = outcome else { Issue.record("\(outcome)"); return }
        // The wrong field on its own line; the switch compared named in the note.
        #expect(fs.contains { "\($0)".contains("switch.reason: expected syscall_return, got wakeup") && "\($0)".contains("low -> high (wakeup)") })
    }

    @Test(arguments: ["syscall_return", "wakeup"])
    func aWakeupOnTheWayBackFromKillMatchesBoth(_ reason: String) {
        let outcome = runText(Self.base + """

              - syscall: {via: syscall, nr: fork}
              - syscall: {via: syscall, nr: wait4, args: [-1, 0, 0, 0]}
              - syscall: {via: syscall, nr: nanosleep, args: [100]}
              - syscall: {via: syscall, nr: kill, args: [3, 9]}
                expect: {switch: {from: low, to: high, reason: \(reason)}}
            """)
        guard case .passed = outcome else { Issue.record("\(outcome)"); return }
    }

    @Test func aTickScheduleIsNotMarkedInTheTrace() {
        let outcome = runText(Self.base + """

              - syscall: {via: syscall, nr: nanosleep, args: [1]}
              - timer: 1
                expect: {trace: [schedule syscall_return]}
            """)
        guard case .failed = outcome else { Issue.record("\(outcome)"); return }
    }

    @Test func aYieldIsNotASyscallReturn() {
        let outcome = runText("""
            scenario: y
            machine: {mode: x86_64}
            kernel: {scheduler: {policy: rr}}
            processes:
              - {name: a, state: running}
              - {name: b, state: ready}
            steps:
              - syscall: {via: syscall, nr: sched_yield}
                expect: {switch: {from: a, to: b, reason: syscall_return}}
            """)
        guard case let .failed(fs) = outcome else { Issue.record("\(outcome)"); return }
        #expect(fs.contains { "\($0)".contains("switch.reason: expected syscall_return, got yield") && "\($0)".contains("a -> b (yield)") })
    }

    @Test func aBlockingSwitchIsNotASyscallReturn() {
        let outcome = runText(Self.base + """

              - syscall: {via: syscall, nr: nanosleep, args: [1]}
                expect: {switch: {from: high, to: low, reason: syscall_return}}
            """)
        guard case .failed = outcome else { Issue.record("\(outcome)"); return }
    }
}
