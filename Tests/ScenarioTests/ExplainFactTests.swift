// ExplainFactTests: what `ringspec explain` tells a student is checked against the Intel SDM and
// machine-rules.md, one fact per case.

import Foundation
import Machine
@testable import Scenario
import Testing

/// One error code and a phrase its bit-by-bit prose must (or must not) contain.
struct ExplainErrorCodeFact: Sendable, CustomTestStringConvertible {
    var vector: ExceptionVector
    var code: UInt32
    var contains: String
    var lacks: String
    var testDescription: String { "\(vector) 0x\(String(code, radix: 16)): \(contains)" }
}

@Suite struct ExplainFactTests {
    /// SDM Vol. 3A §4.7: U/S=0 is a supervisor-mode access, which includes implicit supervisor accesses made
    /// at CPL 3 (PG-13); P=1 with RSVD=1 is a reserved-bit violation, not a protection violation (PG-11).
    @Test("page-fault error-code bits are named as SDM §4.7 names them",
          arguments: [
            ExplainErrorCodeFact(vector: .PF, code: 0x0, contains: "bit 2 U/S=0 (a supervisor-mode access: made at CPL 0-2, or an implicit access",
                                 lacks: "made by the supervisor"),
            ExplainErrorCodeFact(vector: .PF, code: 0x9, contains: "bit 0 P=1 (the entries were present: a reserved-bit violation)",
                                 lacks: "a protection violation"),
            ExplainErrorCodeFact(vector: .PF, code: 0xD, contains: "bit 3 RSVD=1 (a reserved bit was set in an entry)",
                                 lacks: "a protection violation"),
            ExplainErrorCodeFact(vector: .PF, code: 0x7, contains: "bit 0 P=1 (the page was present: a protection violation)",
                                 lacks: "reserved-bit violation"),
            ExplainErrorCodeFact(vector: .PF, code: 0x4, contains: "bit 2 U/S=1 (made at CPL 3)", lacks: "supervisor"),
          ])
    func pageFaultBits(_ f: ExplainErrorCodeFact) {
        let prose = Explainer.errorCodeBits(f.vector, f.code)
        #expect(prose.contains(f.contains), "\(prose)")
        #expect(!prose.contains(f.lacks), "\(prose)")
    }

    @Test func shortDecodingOfAReservedBitFault() {
        #expect(Explainer.decodeErrorCode(.PF, 0x9) == "{P=1: reserved-bit violation; W/R=0: read; U/S=0: supervisor-mode access; RSVD=1: reserved bit set}")
        #expect(Explainer.decodeErrorCode(.PF, 0x7) == "{P=1: protection violation; W/R=1: write; U/S=1: user-mode access}")
    }

    /// SDM Vol. 2B SYSENTER, Operation: RFLAGS.VM, IF and RF are all cleared (FAST-2).
    @Test func sysenterClearsVMIFAndRF() {
        let s = Explainer.sentence(.fastEntry(instruction: "sysenter", cs: 0x60, ss: 0x68, ip: 0xc0100000, sp: 0xc2008000), legacy: true)
        #expect(s.contains("VM, IF and RF cleared"), "\(s)")
    }

    /// Linux since 2.6.22 (include/asm-i386/current.h, then arch/x86/include/asm/current.h) reads `current`
    /// from the per-CPU variable current_task on ia32 too; the sentence must not claim Linux finds it from the stack.
    @Test func currentOnIA32IsNotClaimedToComeFromTheStackInLinux() {
        let details = SwitchDetails(savedSP: 0xc2007fec, restoredSP: 0xc200dfec, cr3: nil, tssField: "TSS.esp0",
                                    kernelStackTop: 0xc200e000, sysenterESP: false)
        let s = Explainer.sentence(.contextSwitch(from: "A", to: "B", reason: "yield", details: details), legacy: true)
        #expect(s.contains("current_task"), "\(s)")
        #expect(s.contains("before 2.6.22"), "\(s)")
    }

    /// A JMP through a call gate is traced `call gate (jmp)`; its short forms include `call gate` (FAR-8), and
    /// `call gate` (any case) is a word of the trace vocabulary: no "did you mean task gate" warning.
    @Test(arguments: ["call gate", "Call Gate", "CALL  gate"])
    func callGateIsATraceWord(_ item: String) {
        let canonical = TraceItem.canonical(item)
        #expect(canonical == "call gate")
        #expect(TraceItem.suggestion(for: canonical) == nil)
    }

    @Test(arguments: ["call gate", "call gate (jmp)"])
    func callGateEventsHaveTheShortForm(_ kind: String) {
        let e = TraceEvent.gate(vector: nil, kind: kind, dpl: 3, fromCPL: 3, toCPL: 3, stackSwitch: false, pushed: [])
        #expect(e.shortForms.contains("call gate"))
    }

    /// SDM §6.15 Interrupt 11, Program State Change: after a task switch's commit point the registers hold the
    /// new TSS's selectors, unchecked. A later #GP through DS must not say DS "holds a null selector".
    @Test func dsAfterAFailedTaskSwitchIsNotCalledNull() throws {
        let r = try runRingspec(["explain", "--scenario", "bex-ds-after-failed-task-switch-holds-its-selector",
                                 "scenarios/examples/blind-explain.yaml"], cwd: packageRoot())
        #expect(r.output.contains("SEG-5a"), "\(r.output)")
        #expect(r.output.contains("holds selector 0x48 but no usable descriptor"), "\(r.output)")
        #expect(!r.output.contains("holds a null selector"), "\(r.output)")
    }

    /// The warning on scenarios/protection/call-gates.yaml:31 is gone: the scenario loads with no warning.
    @Test func callGatesScenarioHasNoTraceWarning() throws {
        let r = try runRingspec(["run", "scenarios/protection/call-gates.yaml"], cwd: packageRoot())
        #expect(!r.output.contains("is no trace event name"), "\(r.output)")
    }
}

/// SDM Vol. 3A §5.8.4, Table 5-1: a JMP through a call gate to a non-conforming segment needs DPL == CPL (FAR-8),
/// not only DPL <= CPL as a CALL does (FAR-7).
@Test func jmpThroughCallGateStatesTheJMPRule() {
    let jmp = Explainer.sentence(.gate(vector: nil, kind: "call gate (jmp)", dpl: 3, fromCPL: 3, toCPL: 3, stackSwitch: false, pushed: []),
                                 legacy: true)
    #expect(jmp.contains("non-conforming with DPL == CPL (FAR-8)"), "\(jmp)")
    #expect(!jmp.contains("FAR-7"), "\(jmp)")
    let call = Explainer.sentence(.gate(vector: nil, kind: "call gate", dpl: 3, fromCPL: 3, toCPL: 0, stackSwitch: true, pushed: []),
                                  legacy: true)
    #expect(call.contains("the target code segment's DPL <= CPL (FAR-7)"), "\(call)")
}

/// Rule-book titles that must describe every fault that cites them (machine-rules.md TASK-7 includes the T flag;
/// PRIV-2 is also cited for RDMSR/WRMSR operand faults, SDM Vol. 2B RDMSR/WRMSR).
@Test(arguments: [("TASK-7", "T flag"), ("PRIV-2", "RDMSR/WRMSR"), ("SEG-5a", "a memory use is #GP(0)")])
func ruleBookTitleCoversItsUses(_ pair: (String, String)) {
    #expect(RuleBook.title(pair.0).contains(pair.1), "\(RuleBook.title(pair.0))")
}

@Test func privTwoCitesRDMSRAndWRMSR() {
    #expect(RuleBook.reference("PRIV-2").contains("Vol. 2B RDMSR/WRMSR"))
}
