// The teaching audit of `ringspec explain` (scenarios/examples/seed-concepts-tour.yaml): the facts its prose
// states, checked against the SDM and Linux. Each test pins one fact, not the wording around it.

@testable import Machine
@testable import Scenario
import Testing

/// Runs a scenario with its trace kept and returns the trace and `explain`'s prose.
private func explained(_ yaml: String) -> (trace: [TraceEvent], text: String) {
    guard case let .spec(spec, warnings)? = decodeText(yaml).first else {
        Issue.record("the scenario does not load")
        return ([], "")
    }
    var limits = RunLimits()
    limits.keepTrace = true
    let record = Runner.run(spec, file: "t.yaml", warnings: warnings, limits: limits)
    return (record.trace, Explainer.render(spec, record))
}

private func index(_ trace: [TraceEvent], _ matches: (TraceEvent) -> Bool) -> Int? { trace.firstIndex(where: matches) }

struct DeliveryOrderCase: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var testDescription: String { name }
}

/// The CPU reads the gate and the new SS:ESP from the TSS before it pushes the frame (SDM Vol. 2A INT n and CALL
/// pseudo-code): the trace tells the gate, then the stack switch, then the pushes' TLB lookups and page walks.
@Test("gate and stack switch come before the memory accesses of the frame they push", arguments: [
    DeliveryOrderCase(name: "ia32 int 0x80 (inter-privilege, TSS.SS0:ESP0)", yaml: """
        scenario: t
        machine: {mode: ia32, tss: {name: tss, ss0: kernel_ds, esp0: 0xc2008000}}
        kernel: none
        steps:
          - exec: "int 0x80"
        """),
    DeliveryOrderCase(name: "x86_64 page fault (TSS.RSP0)", yaml: """
        scenario: t
        machine: {mode: x86_64}
        kernel: none
        steps:
          - access: {op: read, addr: 0x20000000}
        """),
    DeliveryOrderCase(name: "ia32 call gate to ring 0", yaml: """
        scenario: t
        machine:
          mode: ia32
          tss: {name: tss, ss0: kernel_ds, esp0: 0xc2008000}
          gdt: {20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xc0100000}}
        kernel: none
        steps:
          - exec: "call far kgate:3:0"
        """),
])
func gateBeforeItsPushes(_ c: DeliveryOrderCase) {
    let trace = explained(c.yaml).trace
    guard let gate = index(trace, { if case .gate = $0 { true } else { false } }) else {
        Issue.record("no gate in \(trace)")
        return
    }
    #expect(gate + 1 < trace.count && { if case .stackSwitch = trace[gate + 1] { true } else { false } }(), "\(trace)")
    // Every memory access of the frame (on the kernel stack) comes after the gate.
    let pushes = trace.indices.filter { i in
        if case let .tlb(linear, _) = trace[i] { return linear >= 0xc000_0000 }
        return false
    }
    #expect(!pushes.isEmpty && pushes.allSatisfy { $0 > gate }, "\(trace)")
}

/// A same-privilege call gate pushes the caller's CS, not the target's (SDM Vol. 2A CALL: Push(CS) before CS is loaded).
@Test func sameLevelCallGateTracesTheCallersCS() {
    let trace = explained("""
        scenario: t
        machine:
          mode: ia32
          gdt:
            20: {name: ucode, type: code, dpl: 3}
            21: {name: ugate, type: call_gate, dpl: 3, selector: "ucode:3", offset: 0x08048000}
        kernel: none
        steps:
          - exec: "call far ugate:3:0"
        """).trace
    let pushed = trace.compactMap { e -> [String]? in if case let .gate(_, _, _, _, _, _, p) = e { p } else { nil } }
    #expect(pushed == [["CS=0x73", "EIP=0x8048007"]])
}

struct SwitchProseCase: Sendable, CustomTestStringConvertible {
    var mode: String
    var field: String
    var testDescription: String { mode }
}

/// LNX-6 and switch_mm: a context switch changes the kernel stack (TSS.esp0/rsp0 = the next task's stack top) and
/// CR3 (the next task's page tables); the prose names both, with their values.
@Test("a context switch says which kernel stack and which CR3 the next task gets", arguments: [
    SwitchProseCase(mode: "ia32", field: "TSS.esp0"), SwitchProseCase(mode: "x86_64", field: "TSS.rsp0"),
])
func contextSwitchNamesStackAndCR3(_ c: SwitchProseCase) {
    let (trace, text) = explained("""
        scenario: t
        machine: {mode: \(c.mode)}
        kernel: {scheduler: {policy: rr, timeslice: 1}}
        processes:
          - {name: A, state: running}
          - {name: B, state: ready}
        steps:
          - timer: 1
        """)
    guard let d = trace.compactMap({ e -> SwitchDetails? in if case let .contextSwitch(_, _, _, d) = e { d } else { nil } }).first else {
        Issue.record("no context switch with details in \(trace)")
        return
    }
    #expect(d.tssField == c.field)
    #expect(d.cr3 != nil)
    #expect(text.contains("\(c.field) = 0x\(String(d.kernelStackTop, radix: 16))"), "\(text)")
    #expect(text.contains("CR3 = 0x\(String(d.cr3 ?? 0, radix: 16)), B's page tables"), "\(text)")
}

/// The idle task borrows the previous address space (lazy TLB): CR3 does not change.
@Test func switchToIdleKeepsCR3() {
    let text = explained("""
        scenario: t
        machine: {mode: x86_64}
        processes:
          - {name: A, state: running}
        steps:
          - exit: 0
        """).text
    #expect(text.contains("CR3 stays: the idle task borrows A's address space"), "\(text)")
}

/// SYSCALL changes no stack pointer and takes CS/SS/RIP from STAR and LSTAR (SDM Vol. 2B SYSCALL); SYSENTER
/// takes them from the SYSENTER MSRs; a 32-bit machine's registers are EIP/ESP.
@Test func fastEntriesNameTheirMSRs() {
    let syscall = Explainer.sentence(.fastEntry(instruction: "syscall", cs: 0x10, ss: 0x18, ip: 0xffff_ffff_8100_2200, sp: 0x7fff_ffff_eff0))
    #expect(syscall.contains("STAR[47:32]") && syscall.contains("LSTAR") && syscall.contains("RCX = the return address"))
    #expect(syscall.contains("RSP is not changed"))
    let sysenter = Explainer.sentence(.fastEntry(instruction: "sysenter", cs: 0x60, ss: 0x68, ip: 0xc010_2100, sp: 0xc200_8000), legacy: true)
    #expect(sysenter.contains("EIP=0xc0102100 ESP=0xc2008000"))
    #expect(sysenter.contains("SYSENTER_CS + 8") && sysenter.contains("SYSENTER_ESP"))
    let sysexit = Explainer.sentence(.fastReturn(instruction: "sysexit", cs: 0x73, ss: 0x7b, ip: 0x0804_8002, sp: 0xbfff_ffe4), legacy: true)
    #expect(sysexit.contains("EIP = EDX") && sysexit.contains("ESP = ECX") && sysexit.contains("SYSENTER_CS + 16"))
    let sysret = Explainer.sentence(.fastReturn(instruction: "sysret", cs: 0x33, ss: 0x2b, ip: 0x40_0002, sp: 0x7fff_ffff_eff0))
    #expect(sysret.contains("RIP = RCX") && sysret.contains("RFLAGS = R11") && sysret.contains("STAR[63:48] + 16"))
}

/// A walk that read a not-present entry stopped there; a walk whose entries are all present completed, and the
/// rights refused the access (PG-12: permissions are checked only after a complete walk).
@Test func pageWalkEndSaysWhyThereIsNoAddress() {
    let stop = Explainer.sentence(.pageWalk(linear: 0x1000, entries: [WalkedEntry(level: "PDE", address: 0x1000, value: 0)], physical: nil))
    #expect(stop.contains("stops at the not-present PDE"))
    let refused = Explainer.sentence(.pageWalk(linear: 0x1000, entries: [WalkedEntry(level: "PDE", address: 0x1000, value: 0x2007),
                                                                         WalkedEntry(level: "PTE", address: 0x2004, value: 0x3001)], physical: nil))
    #expect(refused.contains("rights of the entries refuse") && !refused.contains("not-present"))
}

/// An interrupt gate clears IF until STI or IRET sets it again, not only "until IRET"; after STI an interrupt
/// waits one more instruction (SDM Vol. 2B STI).
@Test func interruptGateAndSTIShadow() {
    let text = explained("""
        scenario: t
        machine: {mode: ia32, tss: {name: tss, ss0: kernel_ds, esp0: 0xc2008000}}
        kernel: none
        steps:
          - irq: 0x21
          - irq: 0x22
          - exec: "sti"
          - exec: "nop"
        """).text
    #expect(text.contains("maskable interrupts wait until IF is set again (STI, or IRET"), "\(text)")
    #expect(text.contains("STI interrupt shadow"), "\(text)")
}

/// A task switch through a gate says what TASK-4 does to the busy bits, NT and the back link.
@Test func taskSwitchNoteTellsTheLink() {
    let text = explained("""
        scenario: t
        machine:
          mode: ia32
          gdt: {20: {name: t2, type: tss32, eip: 0xc0100000, esp: 0xc0200000, cs: kernel_cs, ss: kernel_ds, ds: kernel_ds, es: kernel_ds}}
          idt: {0x90: {type: task, dpl: 3, tss: t2}}
        kernel: none
        steps:
          - exec: "int 0x90"
        """).text
    #expect(text.contains("back link = 0x80 with NT = 1"), "\(text)")
    #expect(text.contains("CR3, LDTR"), "\(text)")
}

/// sched_yield calls schedule() inside the call; its 0 is the caller's, seen when the caller runs again.
@Test func yieldReturnBelongsToTheCaller() {
    let text = explained("""
        scenario: t
        machine: {mode: x86_64}
        kernel: {scheduler: {policy: rr, timeslice: 3}}
        processes:
          - {name: A, state: running}
          - {name: B, state: ready}
        steps:
          - syscall: {via: syscall, nr: sched_yield}
        """).text
    #expect(text.contains("= the system call of A (seen when A runs again) returns 0"), "\(text)")
}

/// Every rule id of machine-rules.md (and the ids ringspec added) has a title and a reference of its own
/// section, so `explain` never prints a bare id or only a chapter for a fault.
@Test("every rule id has a title and a section", arguments: [
    "SEG-1", "SEG-2", "SEG-3", "SEG-4", "SEG-5a", "SEG-5b", "SEG-5c", "SEG-5d", "SEG-5e", "SEG-6a", "SEG-6b", "SEG-6c",
    "SEG-6d", "SEG-6e", "SEG-6f", "SEG-7", "SEG-8", "SEG-9", "SEG-10", "SEG-11",
    "FAR-1", "FAR-2", "FAR-3", "FAR-4", "FAR-5", "FAR-6", "FAR-7", "FAR-8", "FAR-9", "FAR-10", "FAR-11", "FAR-12",
    "FAR-13", "FAR-14", "FAR-15", "FAR-16", "FAR-17",
    "INT-1", "INT-2", "INT-3", "INT-4", "INT-5", "INT-6", "INT-7", "INT-8", "INT-9", "INT-10", "INT-11", "INT-12",
    "INT-13", "INT-14", "INT-15",
    "TASK-1", "TASK-2", "TASK-3", "TASK-4", "TASK-5", "TASK-6", "TASK-7", "TASK-8", "TASK-9",
    "FAST-1", "FAST-2", "FAST-3", "FAST-4", "FAST-5", "FAST-6", "FAST-7", "FAST-8", "FAST-9", "FAST-10", "FAST-11",
    "FAST-12", "FAST-13", "FAST-14",
    "PG-1", "PG-2", "PG-3", "PG-4", "PG-5", "PG-6", "PG-7", "PG-8", "PG-9", "PG-10", "PG-11", "PG-12", "PG-13",
    "PG-14", "PG-15",
    "DF-1", "DF-2", "DF-3", "DF-4", "DF-5", "PRIV-1", "PRIV-2", "PRIV-3",
])
func everyRuleHasTitleAndSection(_ id: String) {
    #expect(RuleBook.title(id) != id)
    #expect(RuleBook.references[RuleBook.baseID(id)] != nil)
}

/// Section numbers that were wrong: RF's rules are in the debug chapter, which is in Vol. 3B; the privilege checks
/// of a data-segment load are §5.6, of an SS load §5.7, of a direct far JMP/CALL §5.8.1, a call gate's stack switch
/// §5.8.5; 64-bit mode has no task switching (§7.7).
@Test(arguments: [
    ("INT-15", "Vol. 3B §17.3.1.1"), ("SEG-5d", "§5.6"), ("SEG-6f", "§5.7"), ("FAR-2", "§5.8.1"), ("FAR-9", "§5.8.5"),
    ("TASK-9", "§7.7"), ("INT-2", "§6.12.1"), ("PG-12", "§4.7"), ("DF-2", "Table 6-5"),
])
func ruleCitesItsSection(_ id: String, _ section: String) {
    #expect(RuleBook.reference(id).contains(section), "\(RuleBook.reference(id))")
}

/// The timer's reason is the policy's own: rr and priority end a slice, cfs compares vruntimes.
@Test func timerReasonFollowsThePolicy() {
    #expect(Explainer.timerReasonText(.rr).contains("time slice") && !Explainer.timerReasonText(.rr).contains("vruntime"))
    #expect(Explainer.timerReasonText(.cfs).contains("vruntime") && !Explainer.timerReasonText(.cfs).contains("time slice"))
}

/// An IST gate switches stacks without a change of privilege (SDM Vol. 3A §6.14.5): the prose does not claim
/// the CPU stays on the current stack, nor that it switches because the privilege changed.
@Test func istSwitchWithoutPrivilegeChange() {
    let s = Explainer.sentence(.gate(vector: 0x81, kind: "interrupt", dpl: 0, fromCPL: 0, toCPL: 0, stackSwitch: true, pushed: []))
    #expect(s.contains("IST stack") && !s.contains("stays on the current stack"))
}

/// seed concept 16: on ia32 `current` comes from the kernel stack (thread_info at its base), on x86_64 from a
/// per-CPU variable (LNX-6).
@Test func currentIsFoundWhereLinuxFindsIt() {
    let details = SwitchDetails(savedSP: 0x1000, restoredSP: 0x2000, cr3: nil, tssField: nil, kernelStackTop: 0x3000, sysenterESP: false)
    let ia32 = Explainer.sentence(.contextSwitch(from: "A", to: "B", reason: "timer", details: details), legacy: true)
    let x64 = Explainer.sentence(.contextSwitch(from: "A", to: "B", reason: "timer", details: details))
    #expect(ia32.contains("thread_info") && x64.contains("per-CPU"))
}

/// AMD's legacy-mode SYSCALL takes EIP from STAR[31:0] and saves only ECX (FAST-8, AMD APM Vol. 3 SYSCALL): no LSTAR, no R11.
@Test func legacySyscallNamesSTAR() {
    let s = Explainer.sentence(.fastEntry(instruction: "syscall", cs: 0x60, ss: 0x68, ip: 0xc010_0000, sp: 0xbfff_fff0), legacy: true)
    #expect(s.contains("STAR[31:0]") && !s.contains("LSTAR") && !s.contains("R11"))
}

/// A task switch never saves LDTR: it loads it from the new TSS's LDT field (SDM Vol. 3A §7.3). A task whose TSS names
/// no LDT returns to a null LDTR, and explain says so instead of "fails the data-segment checks".
@Test("TASK-6: an LDT selector under the null LDT a task return loaded is explained by the TSS's LDT field",
      arguments: [(ldtField: "", fault: true), (ldtField: ", ldt: myldt", fault: false)])
func taskReturnNamesTheTSSLDTField(_ c: (ldtField: String, fault: Bool)) {
    let text = explained("""
        scenario: t
        machine:
          mode: ia32
          tss: {name: tss\(c.ldtField)}
          gdt:
            20: {name: myldt, type: ldt}
            21: {name: other, type: tss32, dpl: 3, eflags: 0x2, cs: user_cs:3, ss: user_ds:3, ds: user_ds:3, es: user_ds:3, eip: 0x8048000, esp: 0xbffffe00}
          ldt:
            - {name: l0, type: data, dpl: 3}
        kernel: none
        steps:
          - exec: "mov gs, 0x7"
          - exec: "call far other:0"
          - exec: "iret"
        """).text
    #expect(text.contains("the new task's GS 0x7 names an LDT entry, but LDTR is null (the new TSS's LDT field is 0") == c.fault, "\(text)")
}
