// MultiFieldFailureTests: a check written as a map (gate, fault and its error-code map, entry,
// switch, a task of processes) reports every wrong field, each with its own path and location, in
// the order written; for grading it is still one failed check.

import Foundation
@testable import Scenario
import Testing

@Suite struct MultiFieldFailureTests {
    /// A 32-bit `int 0x80` (the preset's trap gate, DPL 3, from CPL 3 to CPL 0) whose gate check
    /// is wrong in all three fields it writes.
    static let gateAllWrong = """
    scenario: g
    machine: {mode: ia32}
    processes:
      - {name: hello, state: running}
    steps:
      - syscall: {via: int80, nr: 4, args: [1, "hi", 2]}
        expect:
          gate: {type: interrupt, to_cpl: 3, dpl: 0}
          cpl: 3
    """

    @Test func everyWrongFieldOfAGateIsReportedInTheOrderWritten() {
        let r = runScenarioText(Self.gateAllWrong)
        let fs = failures(r[0])
        #expect(fs.map(\.description) == [
            "steps[0].expect.gate.type: expected interrupt, got trap (t.yaml:8:20)",
            "steps[0].expect.gate.to_cpl: expected 3, got 0 (t.yaml:8:39)",
            "steps[0].expect.gate.dpl: expected 0, got 3 (t.yaml:8:47)",
        ])
        #expect(fs.allSatisfy { $0.check == "steps[0].expect.gate" })
        #expect(CheckFailure.failedChecks(fs) == 1)
    }

    @Test func blockStyleFieldsKeepTheirWrittenOrder() {
        let r = runScenarioText("""
        scenario: g
        machine: {mode: ia32}
        processes:
          - {name: hello, state: running}
        steps:
          - syscall: {via: int80, nr: 4, args: [1, "hi", 2]}
            expect:
              gate:
                dpl: 0
                vector: 0x80
                if: false
                type: interrupt
        """)
        #expect(failures(r[0]).map(\.path) == ["steps[0].expect.gate.dpl", "steps[0].expect.gate.if", "steps[0].expect.gate.type"])
        #expect(failures(r[0]).map(\.location.line) == [9, 11, 12])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        /// The failures' paths, in order.
        var paths: [String]
        var testDescription: String { name }
    }

    @Test(arguments: [
        Case(name: "fault: vector, selector error code, cr2", yaml: """
            scenario: f
            machine: {mode: ia32}
            kernel: none
            steps:
              - exec: "mov ds, kernel_ds"
                expect:
                  fault: {vector: NP, error_code: {selector: 0x70, idt: true, ext: true}, cr2: 0x5}
            """, paths: ["steps[0].expect.fault", "steps[0].expect.fault.error_code.selector", "steps[0].expect.fault.error_code.idt",
                         "steps[0].expect.fault.error_code.ext", "steps[0].expect.fault.cr2"]),
        Case(name: "fault: page error-code bits", yaml: """
            scenario: f
            machine:
              mode: x86_64
              cr4: {smap: true}
              pages:
                - {virt: 0x60000000, user: true, writable: true}
            kernel: none
            steps:
              - access: {op: read, addr: 0x60000000, cpl: 0}
                expect:
                  fault: {vector: PF, error_code: {u: 1, p: 0, w: 1, rsvd: false}}
            """, paths: ["steps[0].expect.fault.error_code.u", "steps[0].expect.fault.error_code.p", "steps[0].expect.fault.error_code.w"]),
        // `faults`: the same exceptions with wrong fields fail element by element, each at its own
        // place (was: one failure for the whole list, at the list, with no field named).
        Case(name: "faults: an element's error code and cr2", yaml: """
            scenario: f
            machine:
              mode: ia32
              idt:
                GP: {present: false}
            kernel: none
            steps:
              - exec: "call far kernel_cs:0xc0100000"
                expect:
                  faults: [{vector: GP, error_code: 0x61}, {vector: NP, error_code: {idt: false}}, {vector: DF, cr2: 0x1}]
            """, paths: ["steps[0].expect.faults[0].error_code", "steps[0].expect.faults[1].error_code.idt",
                         "steps[0].expect.faults[2].cr2"]),
        Case(name: "faults: page error-code bits in block style", yaml: """
            scenario: f
            machine:
              mode: x86_64
              cr4: {smap: true}
              pages:
                - {virt: 0x60000000, user: true, writable: true}
            kernel: none
            steps:
              - access: {op: read, addr: 0x60000000, cpl: 0}
                expect:
                  faults:
                    - vector: PF
                      error_code: {u: 1, p: 0}
            """, paths: ["steps[0].expect.faults[0].error_code.u", "steps[0].expect.faults[0].error_code.p"]),
        Case(name: "entry", yaml: """
            scenario: e
            machine: {mode: x86_64}
            processes:
              - {name: a, state: running}
            steps:
              - syscall: {via: syscall, nr: getpid}
                expect:
                  entry: {via: int80, cs: 0x23, ss: 0x18, cpl: 3}
            """, paths: ["steps[0].expect.entry.via", "steps[0].expect.entry.cs", "steps[0].expect.entry.cpl"]),
        Case(name: "switch", yaml: """
            scenario: s
            machine: {mode: x86_64}
            kernel: {scheduler: {policy: rr}}
            processes:
              - {name: a, state: running}
              - {name: b, state: ready}
            steps:
              - syscall: {via: syscall, nr: sched_yield}
                expect: {switch: {from: b, to: a, reason: timer}}
            """, paths: ["steps[0].expect.switch.from", "steps[0].expect.switch.to", "steps[0].expect.switch.reason"]),
        Case(name: "processes", yaml: """
            scenario: p
            machine: {mode: x86_64}
            processes:
              - {name: a, state: running}
            steps:
              - syscall: {via: syscall, nr: getpid}
            expect:
              processes:
                a: {exit_code: 3, state: zombie}
            """, paths: ["expect.processes.a.exit_code", "expect.processes.a.state"]),
    ])
    func everyWrongFieldOfAMapValuedCheck(_ c: Case) {
        let r = runScenarioText(c.yaml)
        let fs = failures(r[0])
        #expect(fs.map(\.path) == c.paths, "\(fs.map(\.description))")
        // Each on its own line, at its own place, in the order written.
        #expect(Set(fs.map(\.location)).count == fs.count, "\(fs.map(\.description))")
        #expect(fs.map(\.location) == fs.map(\.location).sorted())
        #expect(CheckFailure.failedChecks(fs) == 1)
        #expect(r[0].score == 0)
    }

    @Test func theRuleThatRaisedTheFaultIsNotedOnceAfterTheFields() {
        let r = runScenarioText(Self.gateAllWrong.replacing("gate: {type: interrupt, to_cpl: 3, dpl: 0}", with: "fault: none"))
        #expect(failures(r[0]).count == 0)
        let f = runScenarioText("""
            scenario: f
            machine: {mode: ia32}
            kernel: none
            steps:
              - exec: "mov ds, kernel_ds"
                expect:
                  fault: {vector: NP, error_code: 0x70}
            """)
        let fs = failures(f[0])
        #expect(fs.map(\.path) == ["steps[0].expect.fault", "steps[0].expect.fault.error_code"])
        #expect(fs.map { $0.note == nil } == [true, false])
    }

    @Test func theSwitchComparedIsNamed() {
        let r = runScenarioText("""
            scenario: s
            machine: {mode: x86_64}
            kernel: {scheduler: {policy: rr}}
            processes:
              - {name: a, state: running}
              - {name: b, state: ready}
            steps:
              - syscall: {via: syscall, nr: sched_yield}
                expect: {switch: {from: a, to: b, reason: timer}}
            """)
        let fs = failures(r[0])
        #expect(fs.map(\.description) == ["steps[0].expect.switch.reason: expected timer, got yield (t.yaml:9:47)\n      the step's context switch: a -> b (yield)"])
    }

    // MARK: Grading counts checks, not fields

    @Test func aGateWithThreeWrongFieldsIsOneFailedCheckForPartialCredit() {
        let r = runScenarioText("partial: true\npoints: 4\n" + Self.gateAllWrong)
        #expect(r[0].checkCount == 2)
        #expect(failures(r[0]).count == 3)
        #expect(r[0].score == 2)
    }

    @Test func reportsCountChecksAndListEveryField() {
        var result = runScenarioText("partial: true\npoints: 4\n" + Self.gateAllWrong)[0]
        result.file = "t.yaml"
        let report = RunReport(results: [result])
        let human = HumanReporter().render(report)
        for field in ["type", "to_cpl", "dpl"] { #expect(human.contains("    steps[0].expect.gate.\(field): expected")) }
        let tap = TAPReporter().render(report)
        #expect(tap.contains("message: \"1 check(s) failed\""))
        #expect(tap.components(separatedBy: "- path: \"steps[0].expect.gate.").count == 4)
        let junit = JUnitReporter().render(report)
        #expect(junit.contains("<failure message=\"1 check(s) failed\""))
        #expect(junit.contains("steps[0].expect.gate.dpl: expected 0, got 3 (t.yaml:10:47)"))
        let gradescope = GradescopeReporter().render(report)
        #expect(gradescope.contains("failed: 1 of 2 checks passed (partial credit)"))
        #expect(gradescope.contains("\"score\": 2"))
        let json = JSONReporter(grading: true).render(report)
        #expect(json.components(separatedBy: "\"path\": \"steps[0].expect.gate.").count == 4)
        #expect(json.contains("\"score\": 2"))
        // Each failure names its check, so a tool counts the failed checks as the distinct "check" values.
        #expect(json.components(separatedBy: "\"check\": \"steps[0].expect.gate\"").count == 4)
    }
}
