// Frictions a new author meets (the new-user audit of scenarios/examples/lab-*.yaml): each test
// pins the message, note or behaviour that now tells the author what went wrong in their words.

import Machine
@testable import Scenario
import Testing

@Suite struct AuthoringFrictionTests {
    /// `ringspec check` on a predict handout (or a half-filled copy) refuses its blanks; the note
    /// says that the null is a blank to fill in, not a mistake in the format.
    @Test(arguments: [
        ("      fault: {vector: GP, error_code: ~}\n", 7, 39),
        ("      fault: {vector: GP, error_code: TODO}\n", 7, 39),
        ("      signal: ~\n", 7, 15),
    ])
    func aPredictBlankGetsANote(line: String, row: Int, column: Int) throws {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nkernel: none\nsteps:\n  - exec: \"int 0x80\"\n    expect:\n" + line
        let d = try #require(diagnostics(yaml).first)
        #expect(d.location?.line == row && d.location?.column == column, "\(d)")
        #expect(d.notes.contains { $0.hasPrefix("`~` (or TODO) here is a blank of a predict handout") }, "\(d)")
    }

    /// A null outside `expect` is an ordinary mistake: no blank note.
    @Test func aNullOutsideExpectGetsNoBlankNote() throws {
        let d = try #require(diagnostics("scenario: a\nkernel: {scheduler: {policy: rr, timeslice: ~}}\n").first)
        #expect(!d.notes.contains { $0.contains("blank") }, "\(d)")
    }
}

@Suite struct AuthoringFrictionHintTests {
    /// An exception written as a C identifier or hyphenated title names it outright; a misspelt
    /// title gets the nearest title.
    @Test(arguments: [
        ("general_protection", "did you mean 'general protection'? (or GP; titles are written with spaces)"),
        ("Page-Fault", "did you mean 'page fault'? (or PF; titles are written with spaces)"),
        ("double_fault", "did you mean 'double fault'? (or DF; titles are written with spaces)"),
        ("segment not presnt", "did you mean 'segment not present'?"),
        ("BG", "did you mean 'BP'?"),
    ])
    func anExceptionNameGetsAUsefulHint(written: String, note: String) throws {
        let yaml = "scenario: a\nkernel: none\nsteps:\n  - exec: \"int3\"\n    expect: {fault: \"\(written)\"}\n"
        let d = try #require(diagnostics(yaml).first)
        #expect(d.message == "unknown exception '\(written)'")
        #expect(d.notes == [note], "\(d)")
    }

    /// A number that is not one of the options gets the list, not the nearest spelling (`3` was "did you mean '1'?").
    @Test(arguments: [("size: 3", "expected one of: 1, 2, 4, 8"), ("size: 16", "expected one of: 1, 2, 4, 8"), ("op: writ", "did you mean 'write'?")])
    func aNumberOutsideTheOptionsGetsTheList(field: String, note: String) throws {
        let yaml = "scenario: a\nsteps:\n  - access: {op: read, addr: 0x1000, \(field)}\n".replacingOccurrences(of: "op: read, addr: 0x1000, op: writ", with: "addr: 0x1000, op: writ")
        let d = try #require(diagnostics(yaml).first)
        #expect(d.notes == [note], "\(d)")
    }

    /// Two `running` tasks: the error names the one already running and says what to write.
    @Test func twoRunningTasksNameTheFirst() throws {
        let d = try #require(diagnostics("scenario: a\nprocesses:\n  - {name: a, state: running}\n  - {name: b, state: running}\n").first)
        #expect(d.message == "more than one process is running: 'a' is already `running`")
        #expect(d.location?.line == 4)
        #expect(d.notes.first?.hasPrefix("exactly one task runs at the start: give the others `state: ready`") == true)
    }
}

/// A #PF the kernel model fixes up (demand paging) must still be named; the failure says so, and
/// what the kernel did, whether the step wrote `fault: none` or mentioned no fault at all.
@Suite struct HandledFaultNoteTests {
    static func scenario(_ expect: String) -> String {
        """
        scenario: a
        processes:
          - name: app
            state: running
            memory:
              - {segment: heap, start: 0x600000, pages: 4, perm: "rw-"}
        steps:
          - access: {op: write, addr: 0x601008}
            expect: \(expect)
        """
    }

    @Test(arguments: ["{fault: none}", "{cpl: 3}"])
    func aDemandPagedFaultNamesWhatTheKernelDid(expect: String) throws {
        let r = try #require(runScenarioText(Self.scenario(expect)).first)
        let f = try #require(failures(r).first { $0.path == "steps[0].expect.fault" })
        let note = try #require(f.note)
        #expect(note.contains("; the kernel handled it (`ringspec explain` shows how) and the task went on, but a fault the kernel handles is still raised and must be named"), "\(note)")
        #expect(note.hasSuffix("write `fault: PF` (or `fault: {vector: PF, error_code: 0x6}`)"), "\(note)")
    }

    /// A #PF that kills the task, or one on a bare CPU, was not handled: no such note.
    @Test func aFatalFaultGetsNoHandledNote() throws {
        let segv = "scenario: a\nsteps:\n  - access: {op: read, addr: 0x12345000}\n    expect: {fault: none}\n"
        let r = try #require(runScenarioText(segv).first)
        let f = try #require(failures(r).first)
        #expect(f.note?.contains("the kernel handled") == false, "\(f)")
    }
}

/// `expect:` left empty in a block-style step (what `ringspec new` users write to have `--update`
/// fill it in) gets its checks under it, one per line, as a missing expect does; it used to get
/// one long flow mapping on the key's line.
@Suite struct UpdateEmptyExpectTests {
    @Test func anEmptyBlockExpectIsFilledInBlockStyle() throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir + "/e.yaml"
        let text = """
            scenario: empty-expect
            machine: {mode: ia32}
            processes:
              - {name: a, state: running}
            steps:
              - syscall: {via: int80, nr: getpid}
                expect:
              - {timer: 1, expect: }
            expect:

            """
        try CLI.write(text, to: file)
        #expect(try CLI.run(["run", "--update", file]).status == 0)
        let after = try CLI.read(file)
        #expect(after.contains("""
                  - syscall: {via: int80, nr: getpid}
                    expect:
                      gate: {vector: 0x80, type: trap, dpl: 3, from_cpl: 3, to_cpl: 0, stack_switch: true, if: true}
                      cpl: 3
                      returns: 1
                      current: a
                  - {timer: 1, expect: {gate:
                """), "\(after)")
        #expect(after.contains("  - {timer: 1, expect: {gate: "), "\(after)")
        #expect(after.contains("\nexpect:\n  schedule: [a]\n"), "\(after)")
        #expect(try CLI.run(["run", "--update", file]).status == 0)
        #expect(try CLI.read(file) == after)
    }
}

/// A cfs preemption's trace (and so `explain`) gives the vruntimes that decided it: nice 0 against
/// nice 5 (weights 1024 and 335), the nice-5 task pays 1024/335 = 3.06 per tick.
@Suite struct CFSExplainNumbersTests {
    @Test func cfsPreemptionsNameTheVruntimes() throws {
        let yaml = """
            scenario: cfs
            kernel: {scheduler: {policy: cfs}}
            processes:
              - {name: fast, state: running, nice: 0}
              - {name: slow, state: ready, nice: 5}
            steps:
              - timer: 4
            """
        guard case let .spec(s, w)? = decodeText(yaml).first else { Issue.record("not decoded"); return }
        var limits = RunLimits()
        limits.keepTrace = true
        let record = Runner.run(s, file: "t.yaml", warnings: w, limits: limits)
        let notes = record.trace.compactMap { e -> String? in if case let .note(n) = e, n.hasPrefix("cfs:") { return n } else { return nil } }
        #expect(notes == [
            "cfs: fast's vruntime is 2.00 (a tick adds 1.00 at nice 0), more than one tick ahead of the smallest ready one, slow's 0.00: need_resched",
            "cfs: slow's vruntime is 6.11 (a tick adds 3.06 at nice 5), more than one tick ahead of the smallest ready one, fast's 2.00: need_resched",
        ])
    }
}

/// A task whose `memory` lists no stack VMA makes a SYSENTER through the vDSO: the step is refused (ESP is 0).
private let noStackVMAScenario = """
    scenario: refused
    machine: {mode: ia32}
    processes:
      - name: app
        state: running
        memory:
          - {segment: heap, start: 0x06000000, pages: 4, perm: "rw-"}
    steps:
      - syscall: {via: sysenter, nr: getpid}
        expect: {returns: 1}
    """

/// `--update` of a scenario whose step the model refuses (here a SYSENTER call whose vDSO pushes
/// land on an unmapped stack: a task that lists `memory` has no default stack) leaves the file
/// alone and says why; it used to write `cpl` and `current` of the state before the refused step
/// into its expect, and a schedule cut short at it into the top-level one.
@Suite struct UpdateRefusedStepTests {
    @Test func aRefusedStepIsNotUpdated() throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir + "/r.yaml"
        let text = noStackVMAScenario + "\n"
        try CLI.write(text, to: file)
        let r = try CLI.run(["run", "--update", file])
        #expect(r.status == 1)
        #expect(r.stderr.contains("ringspec: update: refused: steps[0] could not run (see the report), so it and the steps after it have no outcome to write; not updated"), "\(r.stderr)")
        #expect(try CLI.read(file) == text)
    }
}

/// `wait` names a pid; an author who writes the child's name is told so, with where pids come from.
@Suite struct WaitPidNameTests {
    @Test(arguments: [("  - wait: {pid: kid}\n", 6, 17, "steps[0].wait.pid takes a pid, not a task name ('kid')"),
                      ("  - wait: kid\n", 6, 11, "steps[0].wait takes a pid, not a task name ('kid')")])
    func aTaskNameWhereAPidGoesIsExplained(step: String, line: Int, column: Int, message: String) throws {
        let yaml = "scenario: a\nprocesses:\n  - {name: p, state: running}\n  - {name: kid, parent: p}\nsteps:\n" + step
        let d = try #require(diagnostics(yaml).first)
        #expect(d.message == message)
        #expect(d.location?.line == line && d.location?.column == column, "\(d)")
        #expect(d.notes.first?.hasPrefix("wait4 takes a pid: -1 (or 0) for any child, or the child's pid") == true)
    }
}

/// After `retf 8` through a call gate's frame ESP is the caller's plus 8: explain says why (the
/// immediate releases the parameters on both stacks, SDM Vol. 2 RET).
@Suite struct RetfExplainTests {
    @Test func retfNamesTheParameterRelease() throws {
        let yaml = """
            scenario: g
            machine:
              mode: ia32
              gdt:
                20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xc0100000, params: 2}
            kernel: none
            steps:
              - exec: "call far kgate:3:0"
              - exec: "retf 8"
                expect: {regs: {esp: 0xbffffff8}}
            """
        guard case let .spec(s, w)? = decodeText(yaml).first else { Issue.record("not decoded"); return }
        var limits = RunLimits()
        limits.keepTrace = true
        let record = Runner.run(s, file: "t.yaml", warnings: w, limits: limits)
        let text = Explainer.render(s, record)
        #expect(text.contains("RETF n also releases n bytes of parameters, from the called procedure's stack before ESP and SS are popped and again from the caller's stack after: CS=0x73 SS=0x7b EIP=0x8048007 ESP=0xbffffff8"), "\(text)")
    }
}

/// rr with one task: its slice ends, schedule() runs and picks it again. Explain says so instead of
/// leaving the reader to look for the switch; a schedule() that switches gets no such line.
@Suite struct ScheduleKeepsTaskExplainTests {
    @Test func aScheduleWithoutSwitchSaysTheTaskKeepsTheCPU() throws {
        let yaml = """
            scenario: alone
            kernel: {scheduler: {policy: rr, timeslice: 2}}
            processes:
              - {name: a, state: running}
              - {name: b, state: blocked}
            steps:
              - timer: 2
              - irq: {vector: 0x21, wakes: b}
              - timer: 2
            """
        guard case let .spec(s, w)? = decodeText(yaml).first else { Issue.record("not decoded"); return }
        var limits = RunLimits()
        limits.keepTrace = true
        let text = Explainer.render(s, Runner.run(s, file: "t.yaml", warnings: w, limits: limits))
        let keep = "  - schedule() picks the running task again: no ready task comes before it, so it keeps the CPU (with a fresh time slice) and no context switch happens\n"
        let steps = text.components(separatedBy: "\nstep ")
        #expect(steps.count == 4)
        #expect(steps[1].contains(keep), "\(text)")
        #expect(!steps[3].contains(keep) && steps[3].contains("context switch a -> b"), "\(text)")
    }
}

/// `explain --scenario` with an id the file lacks names the nearest id and lists the file's ids.
@Suite struct ExplainUnknownScenarioTests {
    @Test func aMisspeltScenarioIdGetsTheNearestAndTheList() throws {
        let r = try CLI.run(["explain", "scenarios/examples/lab-hello.yaml", "--scenario", "lab-hello-int08"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("no scenario 'lab-hello-int08' in scenarios/examples/lab-hello.yaml (did you mean 'lab-hello-int80'?); its scenarios: lab-hello-int80, lab-hello-syscall, lab-hello-sysenter, lab-hello-bad-fd"), "\(r.stdout)\(r.stderr)")
    }
}

/// A small bound reads in decimal (`cpl 7 ... at most 3`, it was `0x3`); a mask-like one (0xffffffff) stays hex.
@Suite struct SmallBoundTests {
    @Test(arguments: [
        ("    expect: {cpl: 7}\n", "steps[0].expect.cpl 7 is out of range (at most 3)"),
        ("    expect: {fault: {vector: 55}}\n", "steps[0].expect.fault.vector 55 is out of range (at most 31)"),
    ])
    func smallBoundsAreDecimal(expect: String, message: String) throws {
        let d = try #require(diagnostics("scenario: a\nkernel: none\nsteps:\n  - exec: nop\n" + expect).first)
        #expect(d.message == message, "\(d)")
    }

    @Test func aMaskBoundStaysHex() throws {
        let d = try #require(diagnostics("scenario: a\nmachine: {mode: ia32, pkru: 0x100000000}\n").first)
        #expect(d.message == "pkru 0x100000000 is out of range (at most 0xffffffff)", "\(d)")
    }
}

/// A mistake inside an `extends` base is located in the base, and now says which scenario's
/// `extends` brought it in (a base shared by several scenarios reports it under each).
@Suite struct ExtendsBaseErrorTests {
    @Test func aBaseErrorNamesTheExtendingScenario() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("machine:\n  mode: ia32\n  tss: {name: tss, ss0: kernal_ds}\nkernel: none\n", to: dir + "/_base.yaml")
        try CLI.write("scenario: uses-base\nextends: _base.yaml\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n", to: dir + "/lab.yaml")
        let r = try CLI.run(["check", dir + "/lab.yaml"])
        #expect(r.status == 2)
        #expect(r.stdout.contains("_base.yaml:3:25: error: tss.ss0: unknown selector name 'kernal_ds'"), "\(r.stdout)")
        #expect(r.stdout.contains("note: in the `extends` base of scenario 'uses-base' (extends at \(dir)/lab.yaml:2:10)"), "\(r.stdout)")
    }
}

/// SYSENTER through the vDSO for a task whose `memory` has no stack: the refusal says why ESP is 0.
@Suite struct NoStackVMARefusalTests {
    @Test func theRefusalNamesTheMissingStack() throws {
        let r = try #require(runScenarioText(noStackVMAScenario).first)
        let f = try #require(failures(r).first)
        #expect(f.actual.hasSuffix("; app has no stack VMA: a task that lists `memory` gets no default stack, so its ESP starts at 0 unless `context` sets it (add a `segment: stack` entry)"), "\(f)")
    }
}
