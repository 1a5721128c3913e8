// Format-contract findings of the blind audit (branch blind-fmt): keys written twice in two forms,
// extends merging by meaning, located build errors, YAML 1.1 booleans, errno/gate-type spellings,
// files names, default syscall entry, idle in checks, kernel oops signals and more, one suite each.

import Foundation
@testable import Scenario
import Testing

@Suite struct KeySpellingTests {
    func firstError(_ yaml: String) -> Diagnostic? {
        diagnostics(yaml).first { $0.severity == .error }
    }

    @Test(arguments: [
        ("machine:\n  mode: ia32\n  gdt:\n    20: {name: a, type: data, dpl: 3}\n    0x14: {name: b, type: data, dpl: 3}\n", 5, "gdt index 20 is also given at 5:5"),
        ("machine:\n  mode: ia32\n  gdt: {9: {name: l, type: ldt}}\n  ldt:\n    1: {name: a, type: data}\n    0b1: {name: b, type: data}\n", 6, "ldt index 1"),
        ("machine:\n  mode: x86_64\n  idt:\n    \"#PF\": {ist: 1}\n    14: {ist: 2}\n", 5, "idt vector 14 is also given at 5:5"),
        ("machine:\n  mode: x86_64\n  idt:\n    13: {dpl: 3}\n    general protection: {dpl: 0}\n", 5, "idt vector 13"),
        ("machine:\n  mode: x86_64\n  msrs:\n    IA32_LSTAR: 0xffffffff81000000\n    0xc0000082: 0xffffffff81000010\n", 5, "MSR 0xc0000082"),
        ("machine:\n  mode: ia32\n  gdt:\n    20: {name: a, type: data, dpl: 3}\n    21: {name: a, type: data}\n", 5, "gdt entry name 'a' is already used at t.yaml:5:16"),
        ("machine:\n  mode: ia32\n  gdt:\n    20: {name: a, type: data, dpl: 3}\n    21: {name: l, type: ldt}\n  ldt:\n    - {name: a, type: data, dpl: 3}\n", 7, "ldt entry name 'a' is also the name of a GDT entry"),
    ])
    func twoSpellingsOfOneKeyAreAnError(_ machine: String, _ line: Int, _ message: String) {
        let yaml = "scenario: dup\n" + machine + "kernel: none\nsteps:\n  - exec: nop\n    expect: {fault: none}\n"
        let e = firstError(yaml)
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
        #expect(e?.location?.line == line + 1, "\(String(describing: e))")
    }

    /// A preset name given to a written entry is that entry's name (no error): the scenario's table wins.
    @Test func aWrittenEntryMayTakeAPresetName() {
        #expect(firstError("""
        scenario: rename
        machine:
          mode: ia32
          gdt: {20: {name: user_ds, type: data, dpl: 3}}
        kernel: none
        steps:
          - exec: "mov ds, user_ds:3"
            expect: {fault: none, regs: {ds: 0xa3}}
        """) == nil)
    }

    /// "maps merge key by key, lists are replaced": a child's gdt patch map over a base whose gdt is a
    /// list patches that list (it replaced the whole table, so the base's entries were lost).
    @Test func extendsPatchesABaseListWithAMap() throws {
        let base = """
        machine:
          mode: ia32
          gdt:
            - null
            - {name: kcs, type: code}
            - {name: kds, type: data}
            - {name: ucs, type: code, dpl: 3}
            - {name: uds, type: data, dpl: 3}
        kernel: none
        processes:
          - {name: t, context: {cs: "ucs:3", ss: "uds:3", ds: "uds:3", es: "uds:3", fs: 0, gs: 0}}
        """
        let child = """
        scenario: child
        extends: _base.yaml
        machine:
          gdt:
            6: {name: extra, type: data, dpl: 3}
            0x2: {name: kds, type: data, dpl: 3}
        steps:
          - exec: "mov ds, extra:3"
            expect: {fault: none, regs: {ds: 0x33}}
          - exec: "mov es, kds:3"
            expect: {fault: none, regs: {es: 0x13}}
          - exec: "mov fs, uds:3"
            expect: {fault: none}
        """
        let dir = try makeSuite(["_base.yaml": base, "child.yaml": child])
        let loaded = ScenarioDecoder.load(file: dir + "/child.yaml", display: "child.yaml", options: SuiteOptions(root: dir).load)
        guard case let .spec(s, _) = loaded.first else { Issue.record("child invalid: \(loaded)"); return }
        guard case let .replace(list)? = s.machine.gdt else { Issue.record("gdt is not a list: \(String(describing: s.machine.gdt))"); return }
        #expect(list.count == 7)
        #expect(list[5] == nil)  // the slot between stays empty
        let result = Runner.run(s, file: "child.yaml", warnings: []).result
        #expect(result.outcome.isPassed, "\(result.outcome)")
    }

    /// Keys of idt and msrs merge by meaning: the child's `PF` overrides the base's `14`.
    @Test func extendsMergesIDTVectorsAndMSRsByNumber() throws {
        let dir = try makeSuite([
            "_base.yaml": "machine:\n  mode: x86_64\n  idt:\n    14: {ist: 1}\n  msrs: {0xc0000082: 0xffffffff81000000}\n",
            "child.yaml": "scenario: c\nextends: _base.yaml\nmachine:\n  idt:\n    PF: {ist: 2}\n  msrs: {IA32_LSTAR: 0xffffffff81000010}\nkernel: none\nsteps: [{exec: nop, expect: {fault: none}}]\n",
        ])
        let loaded = ScenarioDecoder.load(file: dir + "/child.yaml", display: "child.yaml", options: SuiteOptions(root: dir).load)
        guard case let .spec(s, _) = loaded.first else { Issue.record("child invalid: \(loaded)"); return }
        #expect(s.gatePatches.filter { $0.vector == 14 }.map(\.ist) == [2])
        #expect(s.machine.msrs[0xC000_0082] == 0xFFFF_FFFF_8100_0010)
    }

    /// A fragment's `x-` keys define anchors, as a scenario's do: no "extends does not take" warning.
    @Test func fragmentExtensionKeysAreNotWarnedAbout() throws {
        let dir = try makeSuite([
            "_base.yaml": "x-task: &t {state: ready}\nmachine: {mode: ia32}\nprocesses:\n  - {<<: *t, name: a, state: running}\n  - {<<: *t, name: b}\n",
            "child.yaml": "scenario: c\nextends: _base.yaml\nsteps: [{timer: 1, expect: {current: a}}]\n",
        ])
        let loaded = ScenarioDecoder.load(file: dir + "/child.yaml", display: "child.yaml", options: SuiteOptions(root: dir).load)
        guard case let .spec(_, warnings) = loaded.first else { Issue.record("child invalid: \(loaded)"); return }
        #expect(warnings.isEmpty, "\(warnings)")
    }
}

@Suite struct LDTDescriptorLocationTests {
    /// "When machine.ldt is given, LDTR starts loaded with this descriptor (exactly one must exist)":
    /// none, or two, is an error at `ldt`'s line (it was "cannot build this machine" at 1:1).
    @Test(arguments: [("", 0), ("    9: {name: l1, type: ldt}\n    10: {name: l2, type: ldt}\n", 2)])
    func ldtWithoutExactlyOneDescriptorIsLocated(_ gdt: String, _ found: Int) {
        let yaml = "scenario: l\nmachine:\n  mode: ia32\n" + (gdt.isEmpty ? "" : "  gdt:\n" + gdt)
            + "  ldt:\n    - {name: a, type: data, dpl: 3}\nkernel: none\nsteps: [{exec: nop, expect: {fault: none}}]\n"
        let e = diagnostics(yaml).first { $0.severity == .error }
        #expect(e?.message.contains("exactly one LDT descriptor in the GDT (`type: ldt`), found \(found)") == true, "\(String(describing: e))")
        #expect(e?.location?.line == (gdt.isEmpty ? 5 : 8), "\(String(describing: e))")
    }
}

@Suite struct SelectorErrorCodeBitsTests {
    static func yaml(_ errorCode: String) -> String {
        """
        scenario: np-idt
        machine:
          mode: ia32
          idt:
            0x90: {dpl: 3, present: false}
        kernel: none
        steps:
          - exec: "int 0x90"
            expect:
              fault: {vector: NP, error_code: \(errorCode)}
        """
    }

    /// `error_code: {idt, ext}` without a selector checks those bits only (it was refused: "needs a selector").
    @Test func idtAndExtAloneCheckOnlyThoseBits() {
        let pass = runScenarioText(Self.yaml("{idt: true, ext: false}"))
        #expect(pass.first?.outcome.isPassed == true, "\(pass.map(\.outcome))")
        let fail = runScenarioText(Self.yaml("{idt: false}"))
        guard case let .failed(fs)? = fail.first?.outcome else { Issue.record("\(fail.map(\.outcome))"); return }
        #expect(fs.map(\.path) == ["steps[0].expect.fault.error_code.idt"], "\(fs)")
    }

    @Test func pageBitsWithIDTAreAnError() {
        let e = diagnostics(Self.yaml("{p: true, idt: true}")).first
        #expect(e?.message.contains("mixes page-fault bits (p) with idt/ext") == true, "\(String(describing: e))")
        #expect(e?.location?.line == 10)
    }
}

@Suite struct VectorNameHintTests {
    /// A misspelt exception in `fault.vector` / `gate.vector` gets the "did you mean" of `fault: NAME`
    /// (it was "must be a number").
    @Test(arguments: [("{fault: {vector: PG}}", "PG", "GP"), ("{gate: {vector: GPP}}", "GPP", "GP")])
    func misspeltVectorGetsAHint(_ expect: String, _ written: String, _ meant: String) {
        let e = diagnostics("scenario: v\nmachine: {mode: ia32}\nkernel: none\nsteps:\n  - exec: \"int 0x80\"\n    expect: \(expect)\n").first
        #expect(e?.message == "unknown exception '\(written)'", "\(String(describing: e))")
        #expect(e?.notes == ["did you mean '\(meant)'?"], "\(String(describing: e))")
        #expect(e?.location?.line == 6)
    }
}

@Suite struct ProcessFilesTests {
    static func yaml(_ files: String, kernel: String = "") -> String {
        "scenario: f\nmachine: {mode: x86_64}\n\(kernel)processes:\n  - name: p\n    files: \(files)\nsteps:\n  - syscall: {via: syscall, nr: write, args: [2, \"x\", 1]}\n    expect: {returns: 1, output: x}\n"
    }

    /// A misspelt terminal name in `files` is an unknown name with a hint (it silently opened a file named
    /// `stdrr`, so writes to fd 2 went nowhere visible).
    @Test func misspeltFileNameIsAnError() {
        let e = diagnostics(Self.yaml("[stdin, stdout, stdrr]")).first
        #expect(e?.message == "unknown file 'stdrr'", "\(String(describing: e))")
        #expect(e?.notes == ["did you mean 'stderr'?"])
        #expect(e?.location?.line == 5)
    }

    @Test(arguments: ["[stdin, null, stderr]", "{0: stdin, 2: stderr}", "{2: /dev/tty}", "[stdin, stdout, stderr, log]"])
    func validFileNamesPass(_ files: String) {
        let r = runScenarioText(Self.yaml(files, kernel: "kernel: {files: {log: \"\"}}\n"))
        #expect(r.first?.outcome.isPassed == true, "\(r.map(\.outcome))")
    }

    @Test func oneDescriptorTwiceIsAnError() {
        let e = diagnostics(Self.yaml("{2: stderr, 0x2: stdout}")).first
        #expect(e?.message.contains("file descriptor 2 is also given") == true, "\(String(describing: e))")
    }
}

@Suite struct YAML11BooleanTests {
    /// Every YAML 1.1 boolean spelling is a flag (`YES`, `ON`, `y` were refused).
    @Test(arguments: ["YES", "ON", "y", "Y", "yes", "On", "true", "1"])
    func trueSpellings(_ t: String) {
        let r = runScenarioText("scenario: b\nmachine:\n  mode: ia32\n  gdt: {20: {name: a, type: data, dpl: 3, present: \(t)}}\nkernel: none\nsteps:\n  - exec: \"mov ds, a:3\"\n    expect: {fault: none, shutdown: \(t == "1" ? "0" : "n")}\n")
        #expect(r.first?.outcome.isPassed == true, "\(r.map(\.outcome))")
    }

    @Test(arguments: ["NO", "OFF", "n", "N", "no", "Off", "false", "0"])
    func falseSpellings(_ f: String) {
        let r = runScenarioText("scenario: b\nmachine:\n  mode: ia32\n  gdt: {20: {name: a, type: data, dpl: 3, present: \(f)}}\nkernel: none\nsteps:\n  - exec: \"mov ds, a:3\"\n    expect: {fault: {vector: NP, error_code: {selector: a}}}\n")
        #expect(r.first?.outcome.isPassed == true, "\(r.map(\.outcome))")
    }
}

@Suite struct ErrnoSpellingTests {
    /// An errno name in `returns` is read in any case, as signal names are (`-efault` was "must be a number").
    @Test(arguments: ["-EFAULT", "-efault", "-EFault", "EFAULT", "-14", "-0xe"])
    func errnoSpellings(_ r: String) {
        let out = runScenarioText("scenario: e\nmachine: {mode: x86_64}\nsteps:\n  - syscall: {via: syscall, nr: write, args: [1, 0xdead0000, 5]}\n    expect: {returns: \(r)}\n")
        #expect(out.first?.outcome.isPassed == true, "\(out.map(\.outcome))")
    }
}

@Suite struct KernelOopsSignalTests {
    /// "a kernel fault with no fix-up is an oops that kills the task": a page fault ends in page_fault_oops,
    /// whose oops_end(..., SIGKILL) kills with SIGKILL (it was SIGSEGV); a #GP goes through die_addr, SIGSEGV.
    @Test(arguments: [("0xffffc90000000000", "PF", "SIGKILL"), ("0x8000000000000000", "GP", "SIGSEGV")])
    func oopsSignal(_ addr: String, _ fault: String, _ signal: String) {
        let r = runScenarioText("""
        scenario: oops
        machine: {mode: x86_64}
        processes:
          - {name: a, state: running}
          - {name: b}
        steps:
          - access: {op: read, addr: \(addr), cpl: 0}
            expect: {fault: \(fault), signal: \(signal), current: b}
        expect:
          processes: {a: {state: zombie, signal: \(signal)}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(r.map(\.outcome))")
    }
}

@Suite struct GateTypeSpellingTests {
    /// `gate.type` also takes the descriptor types' spellings (`call_gate` was "unknown gate type").
    @Test(arguments: ["call", "call_gate"])
    func callGateType(_ type: String) {
        let r = runScenarioText("""
        scenario: cg
        machine:
          mode: x86_64
          gdt:
            20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xffffffff81000000}
        kernel: none
        steps:
          - exec: "call far kgate:3:0"
            expect: {fault: none, cpl: 0, gate: {type: \(type), dpl: 3, from_cpl: 3, to_cpl: 0, stack_switch: true}}
        """)
        #expect(r.first?.outcome.isPassed == true, "\(r.map(\.outcome))")
    }
}

@Suite struct EveryStepErrorTests {
    /// "All errors of a file are reported together": a second step without an event is reported too (only the
    /// first was, since any earlier error silenced the check).
    @Test func everyStepWithoutAnEventIsReported() {
        let ds = diagnostics("scenario: s\nsteps:\n  - {expect: {current: main}}\n  - as: main\n  - timr: 1\n")
        #expect(ds.map { $0.location?.line ?? 0 } == [3, 4, 5], "\(ds)")
        #expect(ds.last?.message.contains("unknown key 'timr'") == true)
    }
}

extension EveryStepErrorTests {
    /// A misspelt task name is reported even when the machine has an error of its own.
    @Test func taskNamesAreCheckedAfterAMachineError() {
        let ds = diagnostics("scenario: s\nmachine: {mode: ia32, pagin: off}\nsteps:\n  - timer: 1\n    expect: {current: mian}\n")
        #expect(ds.map(\.message) == ["unknown key 'pagin' in machine", "no task is named 'mian'"], "\(ds)")
    }
}

@Suite struct DefaultSyscallEntryTests {
    /// `syscall: {nr, args}` without `via` uses the tasks' natural entry (it was "needs via").
    @Test(arguments: [("{mode: x86_64}", "", "syscall"), ("{mode: ia32}", "", "int80"),
                      ("{mode: x86_64}", "processes: [{name: c, bits: 32}]\n", "int80")])
    func viaDefaultsToTheTasksEntry(_ machine: String, _ processes: String, _ entry: String) {
        let r = runScenarioText("scenario: v\nmachine: \(machine)\n\(processes)steps:\n  - syscall: {nr: write, args: [1, \"a\", 1]}\n    expect: {returns: 1, entry: \(entry), output: a}\n")
        #expect(r.first?.outcome.isPassed == true, "\(r.map(\.outcome))")
    }

    @Test func mixedWidthsNeedVia() {
        let e = diagnostics("scenario: v\nmachine: {mode: x86_64}\nprocesses: [{name: c, bits: 32}, {name: d}]\nsteps:\n  - syscall: {nr: getpid}\n").first
        #expect(e?.message.contains("needs via") == true, "\(String(describing: e))")
        #expect(e?.location?.line == 5)
    }
}

extension EveryStepErrorTests {
    /// `as` on an event without an actor is an error at the `as` key (it pointed at the event).
    @Test func asWithoutAnActorIsAtItsKey() {
        let e = diagnostics("scenario: s\nsteps:\n  - timer: 1\n    as: main\n").first
        #expect(e?.message.contains("has no actor") == true)
        #expect(e?.location?.line == 4 && e?.location?.column == 5, "\(String(describing: e))")
    }
}

extension EveryStepErrorTests {
    /// A fork's `name:` that a declared task (or an earlier fork) already has is an error at that line
    /// (it was a failed step at run time).
    @Test(arguments: ["b", "x"])
    func forkNameClashIsAnError(_ second: String) {
        let ds = diagnostics("""
        scenario: f
        processes:
          - {name: a, state: running}
          - {name: b}
        steps:
          - syscall: {via: syscall, nr: fork, name: x}
          - syscall: {via: syscall, nr: fork, name: \(second)}
        """)
        let e = ds.first { $0.message.contains("is already the name of a task") }
        #expect(e?.location?.line == 7, "\(ds)")
    }
}

extension EveryStepErrorTests {
    /// pid 0 and the name `idle` belong to the idle task: a process given either is an error at its line.
    @Test(arguments: [("{name: a, pid: 0}", "pid 0 is the idle task's"), ("{name: idle}", "'idle' is the name of the idle task")])
    func idleTaskIdentityIsReserved(_ process: String, _ message: String) {
        let e = diagnostics("scenario: s\nmachine: {mode: x86_64}\nprocesses:\n  - \(process)\nsteps: [{timer: 1}]\n").first
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
        #expect(e?.location?.line == 4)
    }
}

@Suite struct StepRFLAGSNumberTests {
    /// A step's `expect.rflags` may be a number, the whole register (it was "must be a mapping").
    @Test func rflagsAsANumber() {
        let yaml = { (v: String) in "scenario: r\nmachine: {mode: ia32}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {rflags: \(v)}\n" }
        #expect(runScenarioText(yaml("0x202")).first?.outcome.isPassed == true)
        guard case let .failed(fs)? = runScenarioText(yaml("0x203")).first?.outcome else { Issue.record("a wrong value passed"); return }
        #expect(fs.map(\.path) == ["steps[0].expect.rflags"])
    }
}

@Suite struct IdleTaskBlindTests {
    static func yaml(_ idle: String) -> String {
        "scenario: i\nmachine: {mode: ia32}\nprocesses:\n  - {name: a, state: sleeping}\nsteps:\n  - timer: 5\n    expect: {current: idle}\nexpect:\n  processes: {idle: \(idle)}\n"
    }

    /// The top-level `processes` may name `idle`, as `current` and `schedule` do: it runs when nothing else can
    /// and its ticks are not counted (it was "expected a task named 'idle', got none").
    @Test func idleInTopLevelProcesses() {
        #expect(runScenarioText(Self.yaml("{state: running, ticks: 0}")).first?.outcome.isPassed == true)
        guard case let .failed(fs)? = runScenarioText(Self.yaml("{state: ready, ticks: 5}")).first?.outcome else { Issue.record("passed"); return }
        #expect(fs.map(\.path) == ["expect.processes.idle.state", "expect.processes.idle.ticks"], "\(fs)")
    }
}

extension IdleTaskBlindTests {
    /// A step's `states` may name `idle` too.
    @Test func idleInStates() {
        let yaml = { (s: String) in "scenario: i\nmachine: {mode: ia32}\nprocesses:\n  - {name: a, state: sleeping}\nsteps:\n  - timer: 1\n    expect: {states: {idle: \(s)}}\n" }
        #expect(runScenarioText(yaml("running")).first?.outcome.isPassed == true)
        #expect(runScenarioText(yaml("ready")).first?.outcome.isPassed == false)
    }
}

@Suite struct ExtendsHintTests {
    /// A misspelt `extends` path gets a "did you mean" naming the YAML file beside it.
    @Test func misspeltExtendsPathGetsAHint() throws {
        let dir = try makeSuite([
            "base/_common.yaml": "machine: {mode: ia32}\n",
            "s.yaml": "scenario: s\nextends: base/_comon.yaml\nsteps: [{timer: 1, expect: {current: main}}]\n",
        ])
        let loaded = ScenarioDecoder.load(file: dir + "/s.yaml", display: "s.yaml", options: SuiteOptions(root: dir).load)
        guard case let .invalid(r)? = loaded.first, case let .invalid(ds) = r.outcome else { Issue.record("\(loaded)"); return }
        #expect(ds.first?.message == "extends: no file 'base/_comon.yaml'")
        #expect(ds.first?.notes == ["did you mean 'base/_common.yaml'?"], "\(ds)")
    }
}

@Suite struct ExecRegisterHintTests {
    /// A misspelt register in an `exec` operand gets a "did you mean" (it had none).
    @Test func misspeltRegister() {
        let e = diagnostics("scenario: r\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: \"mov eaz, 5\"\n").first
        #expect(e?.message == "steps[0].exec: unknown register 'eaz'", "\(String(describing: e))")
        #expect(e?.notes == ["did you mean 'eax'?"])
    }
}
