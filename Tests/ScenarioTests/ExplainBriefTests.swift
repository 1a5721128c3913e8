// `ringspec explain --brief`: the story a student follows through a long run. Its output stays short for
// `timer: N` (equal ticks and repeated cycles of ticks collapse) and still names every context switch and
// every fault with its rule and SDM section; the default (`--full`) output is pinned byte for byte.

import Foundation
@testable import Machine
@testable import Scenario
import Testing

/// Runs a scenario with its trace kept; returns the record and its full and brief prose.
private func told(_ yaml: String) -> (record: RunRecord, full: String, brief: String)? {
    guard case let .spec(spec, warnings)? = decodeText(yaml).first else {
        Issue.record("the scenario does not load")
        return nil
    }
    var limits = RunLimits()
    limits.keepTrace = true
    // What these tests check does not depend on speed: a loaded machine (a debug build beside other builds)
    // must not turn an 80,000-tick run into a time-limit refusal.
    limits.timeLimitSeconds = 3600
    let record = Runner.run(spec, file: "t.yaml", warnings: warnings, limits: limits)
    return (record, Explainer.render(spec, record), Explainer.render(spec, record, detail: .brief))
}

/// Three CPU-bound tasks under round robin for `ticks` ticks.
private func roundRobin(ticks: Int, slice: Int = 3) -> String {
    """
    scenario: rr-long
    machine: {mode: ia32}
    kernel:
      scheduler: {policy: rr, timeslice: \(slice)}
    processes:
      - {name: A, state: running}
      - {name: B, state: ready}
      - {name: C, state: ready}
    steps:
      - timer: \(ticks)
    """
}

private func lines(_ s: String) -> [Substring] { s.split(separator: "\n", omittingEmptySubsequences: false) }

/// The brief of a long round-robin run stays within a bound whatever the number of ticks, and names
/// every switch: each pair the run made, and their count.
@Test("brief of a long rr run is bounded and names every switch", arguments: [(50, 3), (50, 1), (1000, 3), (1000, 2)])
func briefLongRoundRobin(_ ticks: Int, _ slice: Int) throws {
    let t = try #require(told(roundRobin(ticks: ticks, slice: slice)))
    let switches = try #require(t.record.outcomes.first).switches
    #expect(switches.count == ticks / slice)
    // Header and description, one line a run of ticks (a cycle is at most 6 runs, told once, then counted,
    // and a part cycle at the end), the count of switches, the afterwards and result lines.
    #expect(lines(t.brief).count <= 30, "\(t.brief)")
    #expect(lines(t.full).count > 10 * ticks)
    for pair in Set(switches.map { "\($0.from) -> \($0.to)" }) {
        #expect(t.brief.contains("context switch \(pair) (timer)"), "missing \(pair): \(t.brief)")
    }
    #expect(t.brief.contains("= \(switches.count) context switches in this step: "), "\(t.brief)")
    let firstRun = slice == 2 ? "tick 1" : "ticks 1-\(slice - 1)"
    #expect(t.brief.contains("  - \(firstRun): timer interrupt charged to A; ") || slice == 1, "\(t.brief)")
    for micro in ["TLB", "page walk", "pushed on", "stack switch: the new stack", "kernel stack:", "CR3 ="] {
        #expect(!t.brief.contains(micro), "brief tells micro detail '\(micro)'")
    }
}

/// Every switch told on its own while the ticks do not repeat as a cycle: 50 ticks of rr with a slice of
/// 25 switch twice, each at its own tick.
@Test func briefTellsEachSwitchAtItsTick() throws {
    let t = try #require(told(roundRobin(ticks: 50, slice: 25)))
    #expect(t.brief.contains("  - ticks 1-24: timer interrupt charged to A; gate 0x20 (interrupt gate, DPL 0): CPL 3 -> 0, stack switch: yes; user A -> kernel A; kernel A -> user A (IRET); no switch\n"), "\(t.brief)")
    #expect(t.brief.contains("  - tick 25: timer interrupt charged to A; gate 0x20 (interrupt gate, DPL 0): CPL 3 -> 0, stack switch: yes; user A -> kernel A; schedule() (timer): the running task used up its time slice (rr); context switch A -> B (timer); kernel B -> user B (IRET)\n"), "\(t.brief)")
    #expect(t.brief.contains("  - ticks 26-49: timer interrupt charged to B; "), "\(t.brief)")
    #expect(t.brief.contains("  - tick 50: timer interrupt charged to B; ") && t.brief.contains("context switch B -> C (timer)"), "\(t.brief)")
    #expect(t.brief.contains("  = 2 context switches in this step: A -> B, B -> C\n"), "\(t.brief)")
}

/// A repeated cycle of ticks is told once and then counted, with the switches it makes each time.
@Test func briefCountsARepeatedCycle() throws {
    let t = try #require(told(roundRobin(ticks: 50)))
    #expect(t.brief.contains("  - ticks 10-45: the cycle of ticks 1-9 again, 4 more times (each time: switches A -> B, B -> C, C -> A)\n"), "\(t.brief)")
    #expect(t.brief.contains("  = 16 context switches in this step: A -> B 6 times, B -> C 5 times, C -> A 5 times\n"), "\(t.brief)")
}

struct BriefFaultCase: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var testDescription: String { name }
}

/// Every fault keeps, in brief, its vector, error code, CR2, and the rule with its title and SDM section:
/// in a step of its own, and in ticks that raise it again and again (whose repeats collapse).
@Test("a fault's rule and SDM section appear in brief", arguments: [
    BriefFaultCase(name: "#PF from user mode, with CR2", yaml: """
        scenario: t
        machine: {mode: x86_64}
        steps:
          - access: {op: write, addr: 0x20000000}
        """),
    BriefFaultCase(name: "#GP, #NP and #DF of a far call", yaml: """
        scenario: t
        machine: {mode: ia32, idt: {GP: {present: false}}}
        steps:
          - exec: "call far 0x60:0xc0100000"
        """),
    BriefFaultCase(name: "#NP on every timer tick of a bare CPU", yaml: """
        scenario: t
        machine: {mode: ia32, idt: {0x20: {present: false}}}
        kernel: none
        steps:
          - set: {rflags: {if: 1}}
          - timer: 5
        """),
    BriefFaultCase(name: "#NP on timer ticks with a kernel (the task is killed, idle oopses)", yaml: """
        scenario: t
        machine: {mode: ia32, idt: {0x20: {present: false}}}
        steps:
          - timer: 3
        """),
])
func briefKeepsFaults(_ c: BriefFaultCase) throws {
    let t = try #require(told(c.yaml))
    let faults = t.record.trace.compactMap { e -> Fault? in if case let .fault(f) = e { f } else { nil } }
    #expect(!faults.isEmpty)
    for f in faults {
        var head = "FAULT \(f.vector) (\(f.vector.title)), vector \(f.vector.rawValue)"
        if let code = f.errorCode { head += ", error code 0x" + String(code, radix: 16) }
        #expect(t.brief.contains(head), "missing \(head): \(t.brief)")
        if let cr2 = f.cr2 { #expect(t.brief.contains("CR2=0x" + String(cr2, radix: 16)), "\(t.brief)") }
        let why = "why: rule \(f.rule) (\(RuleBook.title(f.rule)); \(RuleBook.reference(f.rule))): \(f.reason)"
        #expect(RuleBook.reference(f.rule).contains("SDM"))
        #expect(t.brief.contains(why), "missing \(why): \(t.brief)")
    }
    // The faults' list and the step's result lines are the full form's.
    for line in lines(t.full) where line.hasPrefix("  = ") || line.hasPrefix("  ! ") {
        #expect(t.brief.contains(line), "missing \(line)")
    }
}

/// Ticks after a triple fault never ran, and the brief says so rather than leaving them out silently.
@Test func briefTellsTicksAfterAShutdown() throws {
    let t = try #require(told("""
        scenario: t
        machine: {mode: ia32, idt: {0x20: {present: false}, NP: {present: false}, DF: {present: false}}}
        kernel: none
        steps:
          - set: {rflags: {if: 1}}
          - timer: 5
        """))
    #expect(t.brief.contains("  - tick 1: timer interrupt\n"), "\(t.brief)")
    #expect(t.brief.contains("triple fault (DF-4; "), "\(t.brief)")
    #expect(t.brief.contains("  - ticks 2-5: not run: the step stopped before them\n"), "\(t.brief)")
    #expect(!t.brief.contains("not told"))
}

/// Ticks whose events the trace could not keep (its limit of events) are named, not told as if whole.
@Test func briefTellsWhereTheTraceStopped() throws {
    let t = try #require(told(roundRobin(ticks: 80_000)))
    #expect(t.record.traceTruncated)
    let marked = try #require(t.record.outcomes.first).ticks.count
    #expect(marked > 0 && marked < 80_000)
    #expect(t.brief.contains("  - ticks \(marked + 1)-80000: not told: the trace reached its limit of events"), "\(t.brief)")
    #expect(lines(t.brief).count <= 30, "\(t.brief)")
    #expect(t.brief.contains("  = 26666 context switches in this step: "), "\(t.brief)")
}

/// An `access` that only walked the page tables: the brief counts the micro detail and tells where the
/// access landed (the page walk that would say it is not told).
@Test func briefTellsWhereAnAccessLanded() throws {
    let t = try #require(told("""
        scenario: t
        machine: {mode: x86_64}
        kernel: none
        processes:
          - name: k
            context: {cs: kernel_cs, ss: kernel_ds}
            pages:
              - {virt: 0x600000, phys: 0x200000, writable: true}
        steps:
          - access: {op: read, addr: 0x600000}
          - access: {op: read, addr: 0x600000}
        """))
    #expect(t.brief.contains("  - only micro detail: 1 TLB miss, 1 page walk (run without --brief to see it)\n"), "\(t.brief)")
    #expect(t.brief.contains("  - only micro detail: 1 TLB hit (run without --brief to see it)\n"), "\(t.brief)")
    #expect(t.brief.contains("  = the read at 0x600000 reaches physical address 0x200000 (the leaf entry now has A=1, D=0)\n"), "\(t.brief)")
    #expect(!t.brief.contains("PML4E"))
}

/// A failed scenario's failure lines are the same in brief as in full, and so is the exit status.
@Test func briefPrintsFailuresAsFullDoes() throws {
    let t = try #require(told("""
        scenario: t
        machine: {mode: ia32}
        kernel:
          scheduler: {policy: rr, timeslice: 2}
        processes:
          - {name: A, state: running}
          - {name: B, state: ready}
        steps:
          - timer: 10
            expect: {current: A, switch: none}
          - access: {op: read, addr: 0x20000000}
        """))
    guard case .failed = t.record.result.outcome else {
        Issue.record("the scenario should fail: \(t.record.result.outcome)")
        return
    }
    let tail = { (s: String) -> Substring? in s.range(of: "\nresult: failed\n").map { s[$0.lowerBound...] } }
    let full = try #require(tail(t.full)), brief = try #require(tail(t.brief))
    #expect(full == brief)
    #expect(brief.contains("steps[0].expect.current"))
    #expect(t.brief.hasPrefix("scenario t\n"))
}

/// The default form is the full one, byte for byte: pinned for a scenario with ticks, a switch and a fault.
@Test func fullOutputIsPinned() throws {
    let t = try #require(told(goldenScenario))
    #expect(t.full == goldenFull)
    guard case let .spec(spec, _)? = decodeText(goldenScenario).first else { return }
    #expect(Explainer.render(spec, t.record, detail: .full) == goldenFull)
}

/// The CLI: `--brief` with `--scenario`, `--brief` and `--full` are one choice, and `--full` is the default.
@Suite(.serialized) struct ExplainBriefCLITests {
    @Test func briefWithScenario() throws {
        let r = try CLI.run(["explain", "scenarios/kernel/sched-rr.yaml", "--brief", "--scenario", "rr-alone-keeps-running"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("scenario rr-alone-keeps-running\n"))
        #expect(!r.stdout.contains("scenario rr-three-tasks-timeslice-2"))
        #expect(r.stdout.contains("  - ticks 1-5: ") || r.stdout.contains("  - tick 1: "), "\(r.stdout)")
        #expect(r.stdout.contains("it picks the running task again: no switch"), "\(r.stdout)")
        #expect(!r.stdout.contains("TLB"))
        #expect(r.stdout.hasSuffix("result: passed (5 checks)\n"), "\(r.stdout)")
        // The same scenario's full form, the default, is what `--full` prints.
        let full = try CLI.run(["explain", "scenarios/kernel/sched-rr.yaml", "--scenario", "rr-alone-keeps-running"])
        let explicit = try CLI.run(["explain", "--full", "scenarios/kernel/sched-rr.yaml", "--scenario", "rr-alone-keeps-running"])
        #expect(full.status == 0 && full.stdout == explicit.stdout)
        #expect(full.stdout.contains("TLB") && full.stdout.count > r.stdout.count)
        // A misspelt id is refused the same way in both forms.
        let missing = try CLI.run(["explain", "scenarios/kernel/sched-rr.yaml", "--brief", "--scenario", "rr-alone"])
        #expect(missing.status == 2)
        #expect(missing.stdout.contains("no scenario 'rr-alone' in scenarios/kernel/sched-rr.yaml"), "\(missing.stdout)")
    }

    @Test func briefAndFullAreOneChoice() throws {
        let both = try CLI.run(["explain", "scenarios/kernel/sched-rr.yaml", "--brief", "--full"])
        #expect(both.status == 64 || both.status == 2, "\(both.status)")
        #expect(both.stderr.contains("--brief") && both.stderr.contains("--full"), "\(both.stderr)")
        let help = try CLI.run(["explain", "--help"])
        #expect(help.stdout.contains("--brief") && help.stdout.contains("--full"), "\(help.stdout)")
    }

    @Test func briefOfAFailedScenarioExitsAsFull() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.write("""
            scenario: wrong
            machine: {mode: x86_64}
            steps:
              - timer: 4
                expect: {cpl: 0}
            """, to: dir + "/f.yaml")
        let full = try CLI.run(["explain", dir + "/f.yaml"])
        let brief = try CLI.run(["explain", "--brief", dir + "/f.yaml"])
        #expect(full.status == brief.status)
        let tail = { (s: String) -> Substring? in s.range(of: "\nresult: ").map { s[$0.lowerBound...] } }
        #expect(tail(full.stdout) != nil && tail(full.stdout) == tail(brief.stdout), "\(brief.stdout)")
    }
}

private let goldenScenario = """
    scenario: golden
    description: Two tasks round robin, then a page fault that kills one.
    machine: {mode: ia32}
    kernel:
      scheduler: {policy: rr, timeslice: 1}
    processes:
      - {name: A, state: running}
      - {name: B, state: ready}
    steps:
      - timer: 2
        expect: {current: A}
      - access: {op: read, addr: 0x20000000}
        expect: {fault: PF, signal: SIGSEGV}
    """

private let goldenFull = #"""
    scenario golden
      Two tasks round robin, then a page fault that kills one.

    step 1 (timer: 2), line 10:
      - A runs in user mode (CPL 3)
      - the CPU reads IDT entry 0x20: a present interrupt gate of DPL 0; an exception or external interrupt is not checked against the gate's DPL; an interrupt gate clears IF (INT-9, Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: flag usage)), so maskable interrupts wait until IF is set again (STI, or IRET restoring the saved EFLAGS)
          privilege: CPL 3 -> 0 (more privileged), so the CPU switches to the stack for CPL 0 (INT-7, Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: stack switch); told next: the stack switch)
          pushed on the new stack, in order: SS=0x7b, ESP=0xbffffff0, EFLAGS=0x202, CS=0x73, EIP=0x8048000 (IRET pops them back)
      - stack switch: the new stack is SS=0x68 ESP=0xc2008000, read from TSS.SS0:ESP0; the old SS and ESP are pushed on it so that the return can restore them
      - TLB miss for 0xc2007ffc: no cached translation, so the CPU walks the page tables
      - page walk for linear address 0xc2007ffc, one entry per level:
          PDE #776 (address bits 31..22) at physical 0x10001c20 = 0x2000083 [P RW S PS]
          -> physical address 0x2007ffc
      - TLB hits for 0xc2007ff8, 0xc2007ff4, 0xc2007ff0, 0xc2007fec: the cached translations are used and no page table is read
      - A enters kernel mode: CPL 3 -> 0
      - schedule() runs (timer): the timer interrupt set need_resched: the running task used up its time slice (rr)
      - context switch A -> B (timer): A's registers saved in its task_struct, B's restored; current = B
          kernel stack: A's ESP 0xc2007fec saved, B's 0xc200dfec restored; the model finds current from the stack (thread_info at its base: sp & ~(THREAD_SIZE-1)), as ia32 Linux did before 2.6.22; Linux since reads the per-CPU variable current_task; TSS.esp0 = 0xc200e000, the top of B's kernel stack, where its next trap from user mode lands (LNX-6); SYSENTER_ESP follows it
          address space: CR3 = 0x10004000, B's page tables (the kernel half is shared, so only the user half changes)
      - TLB flush (cr3): CR3 was loaded, so every non-global translation is dropped (PG-15)
      - B runs in kernel mode (CPL 0)
      - TLB miss for 0xc200dfec: no cached translation, so the CPU walks the page tables
      - page walk for linear address 0xc200dfec, one entry per level:
          PDE #776 (address bits 31..22) at physical 0x10004c20 = 0x2000083 [P RW S PS]
          -> physical address 0x200dfec
      - TLB hits for 0xc200dff0, 0xc200dff4, 0xc200dff8, 0xc200dffc: the cached translations are used and no page table is read
      - IRET pops EIP, CS and EFLAGS, and, as the return CS.RPL is outer, ESP and SS (FAR-16, FAR-13): CS=0x73 SS=0x7b EIP=0x8048000 ESP=0xbffffff0
      - B returns to user mode: CPL 0 -> 3
      - B runs in user mode (CPL 3)
      - the CPU reads IDT entry 0x20: a present interrupt gate of DPL 0; an exception or external interrupt is not checked against the gate's DPL; an interrupt gate clears IF (INT-9, Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: flag usage)), so maskable interrupts wait until IF is set again (STI, or IRET restoring the saved EFLAGS)
          privilege: CPL 3 -> 0 (more privileged), so the CPU switches to the stack for CPL 0 (INT-7, Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: stack switch); told next: the stack switch)
          pushed on the new stack, in order: SS=0x7b, ESP=0xbffffff0, EFLAGS=0x202, CS=0x73, EIP=0x8048000 (IRET pops them back)
      - stack switch: the new stack is SS=0x68 ESP=0xc200e000, read from TSS.SS0:ESP0; the old SS and ESP are pushed on it so that the return can restore them
      - TLB hit for 0xc200dffc: the cached translation is used and no page table is read (an edited PTE is not seen until INVLPG, or a CR3 write for a non-global page)
      - TLB entry for 0xc200dffc has D=0: the write walks again to set D
      - page walk for linear address 0xc200dffc, one entry per level:
          PDE #776 (address bits 31..22) at physical 0x10004c20 = 0x20000a3 [P RW S A PS]
          -> physical address 0x200dffc
      - TLB hits for 0xc200dff8, 0xc200dff4, 0xc200dff0, 0xc200dfec: the cached translations are used and no page table is read
      - B enters kernel mode: CPL 3 -> 0
      - schedule() runs (timer): the timer interrupt set need_resched: the running task used up its time slice (rr)
      - context switch B -> A (timer): B's registers saved in its task_struct, A's restored; current = A
          kernel stack: B's ESP 0xc200dfec saved, A's 0xc2007fec restored; the model finds current from the stack (thread_info at its base: sp & ~(THREAD_SIZE-1)), as ia32 Linux did before 2.6.22; Linux since reads the per-CPU variable current_task; TSS.esp0 = 0xc2008000, the top of A's kernel stack, where its next trap from user mode lands (LNX-6); SYSENTER_ESP follows it
          address space: CR3 = 0x10001000, A's page tables (the kernel half is shared, so only the user half changes)
      - TLB flush (cr3): CR3 was loaded, so every non-global translation is dropped (PG-15)
      - A runs in kernel mode (CPL 0)
      - TLB miss for 0xc2007fec: no cached translation, so the CPU walks the page tables
      - page walk for linear address 0xc2007fec, one entry per level:
          PDE #776 (address bits 31..22) at physical 0x10001c20 = 0x20000e3 [P RW S A D PS]
          -> physical address 0x2007fec
      - TLB hits for 0xc2007ff0, 0xc2007ff4, 0xc2007ff8, 0xc2007ffc: the cached translations are used and no page table is read
      - IRET pops EIP, CS and EFLAGS, and, as the return CS.RPL is outer, ESP and SS (FAR-16, FAR-13): CS=0x73 SS=0x7b EIP=0x8048000 ESP=0xbffffff0
      - A returns to user mode: CPL 0 -> 3
      = afterwards the CPU runs at CPL 3 (user mode) and the current task is A

    step 2 (read of 4 bytes at 0x20000000), line 12:
      - A runs in user mode (CPL 3)
      - TLB miss for 0x20000000: no cached translation, so the CPU walks the page tables
      - page walk for linear address 0x20000000, one entry per level:
          PDE #128 (address bits 31..22) at physical 0x10001200 = 0x0 [not present]
          -> the walk stops at the not-present PDE (see the fault)
      - FAULT #PF (page fault), vector 14, error code 0x4 = {P=0: page not present; W/R=0: read; U/S=1: user-mode access}, CR2=0x20000000 (the linear address that faulted)
          why: rule PG-12 (not present / reserved bit; Intel SDM Vol. 3A §4.7 (page-fault exceptions), §4.3-4.5 (reserved bits of the entries)): the PDE for linear 0x20000000 is not present (P=0)
          error code bit by bit: bit 0 P=0 (the page was not present); bit 1 W/R=0 (a read); bit 2 U/S=1 (made at CPL 3); bit 3 RSVD=0; bit 4 I/D=0; bit 5 PK=0
      - the CPU reads IDT entry 0xe (#PF): a present interrupt gate of DPL 0; an exception or external interrupt is not checked against the gate's DPL; an interrupt gate clears IF (INT-9, Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: flag usage)), so maskable interrupts wait until IF is set again (STI, or IRET restoring the saved EFLAGS)
          privilege: CPL 3 -> 0 (more privileged), so the CPU switches to the stack for CPL 0 (INT-7, Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: stack switch); told next: the stack switch)
          pushed on the new stack, in order: SS=0x7b, ESP=0xbffffff0, EFLAGS=0x10202, CS=0x73, EIP=0x8048000, error code=0x4 (IRET pops them back, after the handler removes the error code)
      - stack switch: the new stack is SS=0x68 ESP=0xc2008000, read from TSS.SS0:ESP0; the old SS and ESP are pushed on it so that the return can restore them
      - TLB hits for 0xc2007ffc, 0xc2007ff8, 0xc2007ff4, 0xc2007ff0, 0xc2007fec, 0xc2007fe8: the cached translations are used and no page table is read
      - A enters kernel mode: CPL 3 -> 0
      - kernel: #PF from user mode: SIGSEGV to A
      - kernel: A is killed by SIGSEGV
      - schedule() runs (signal): a signal changed which task can run (the running task was killed, or a task was woken by one)
      - context switch A -> B (signal): A's registers saved in its task_struct, B's restored; current = B
          kernel stack: A's ESP 0xc2007fe8 saved, B's 0xc200dfec restored; the model finds current from the stack (thread_info at its base: sp & ~(THREAD_SIZE-1)), as ia32 Linux did before 2.6.22; Linux since reads the per-CPU variable current_task; TSS.esp0 = 0xc200e000, the top of B's kernel stack, where its next trap from user mode lands (LNX-6); SYSENTER_ESP follows it
          address space: CR3 = 0x10004000, B's page tables (the kernel half is shared, so only the user half changes)
      - TLB flush (cr3): CR3 was loaded, so every non-global translation is dropped (PG-15)
      - B runs in kernel mode (CPL 0)
      - TLB miss for 0xc200dfec: no cached translation, so the CPU walks the page tables
      - page walk for linear address 0xc200dfec, one entry per level:
          PDE #776 (address bits 31..22) at physical 0x10004c20 = 0x20000e3 [P RW S A D PS]
          -> physical address 0x200dfec
      - TLB hits for 0xc200dff0, 0xc200dff4, 0xc200dff8, 0xc200dffc: the cached translations are used and no page table is read
      - IRET pops EIP, CS and EFLAGS, and, as the return CS.RPL is outer, ESP and SS (FAR-16, FAR-13): CS=0x73 SS=0x7b EIP=0x8048000 ESP=0xbffffff0
      - B returns to user mode: CPL 0 -> 3
      = afterwards the CPU runs at CPL 3 (user mode) and the current task is B

    result: passed (3 checks)

    """#
