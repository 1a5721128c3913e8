// Decoder tests: every problem is reported at FILE:LINE:COLUMN with a hint, all of them at once.

import Machine
@testable import Scenario
import Testing

func decodeText(_ yaml: String, file: String = "t.yaml", root: String = "/nonexistent") -> [LoadedScenario] {
    ScenarioDecoder.load(bytes: Array(yaml.utf8), path: file, display: file, options: LoadOptions(root: root))
}

func diagnostics(_ yaml: String) -> [Diagnostic] {
    var out: [Diagnostic] = []
    for l in decodeText(yaml) {
        if case let .invalid(r) = l, case let .invalid(ds) = r.outcome { out += ds }
    }
    return out
}

func spec(_ yaml: String) -> ScenarioSpec? {
    for l in decodeText(yaml) { if case let .spec(s, _) = l { return s } }
    return nil
}

@Suite struct DecoderTests {
    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var line: Int
        var column: Int
        var message: String
        var note: String?
        var testDescription: String { name }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(name: "misspelt top-level key", yaml: "scenario: a\nmachin: {mode: ia32}\n", line: 2, column: 1,
                  message: "unknown key 'machin' in a scenario", note: "did you mean 'machine'?"),
        ErrorCase(name: "misspelt mode", yaml: "scenario: a\nmachine: {mode: ia23}\n", line: 2, column: 17,
                  message: "unknown mode 'ia23'", note: "did you mean 'ia32'?"),
        ErrorCase(name: "timer count not a number", yaml: "scenario: a\nsteps:\n  - timer: many\n", line: 3, column: 12,
                  message: "steps[0].timer must be a number", note: nil),
        ErrorCase(name: "two events in a step", yaml: "scenario: a\nsteps:\n  - {timer: 1, schedule: {}}\n", line: 3, column: 16,
                  message: "steps[0] has two events", note: nil),
        ErrorCase(name: "unknown selector name", yaml: "scenario: a\nkernel: none\nsteps:\n  - exec: \"mov ds, user_dss:3\"\n", line: 4, column: 11,
                  message: "unknown selector name 'user_dss'", note: "did you mean 'user_ds'?"),
        ErrorCase(name: "step key in the final expect", yaml: "scenario: a\nexpect: {returns: 3}\n", line: 2, column: 10,
                  message: "unknown key 'returns' in the top-level expect", note: "'returns' is a check on one step: put it under that step's expect"),
        ErrorCase(name: "final key in a step expect", yaml: "scenario: a\nsteps:\n  - timer: 1\n    expect: {schedule: [a]}\n", line: 4, column: 14,
                  message: "unknown key 'schedule' in steps[0].expect", note: "'schedule' is a check on the whole run: put it in the top-level expect"),
        ErrorCase(name: "syscall name from the other table", yaml: "scenario: a\nsteps:\n  - syscall: {via: syscall, nr: waitpid}\n", line: 3, column: 33,
                  message: "'waitpid' is not in the x86_64 system-call table used by syscall", note: "'waitpid' exists only in the i386 table (number 7)"),
        ErrorCase(name: "integer overflow", yaml: "scenario: a\nmachine: {pkru: 0x1_0000_0000_0000_0000}\n", line: 2, column: 17,
                  message: "pkru 0x1_0000_0000_0000_0000 does not fit in 64 bits", note: nil),
        ErrorCase(name: "out of range", yaml: "scenario: a\nmachine:\n  gdt:\n    3: {type: data, dpl: 4}\n", line: 4, column: 26,
                  message: "gdt[3].dpl 4 is out of range", note: nil),
        ErrorCase(name: "lgdt with a memory operand is refused, not run as bare lgdt",
                  yaml: "scenario: a\nkernel: none\nsteps:\n  - exec: \"lgdt [0xc0000000]\"\n", line: 4, column: 11,
                  message: "steps[0].exec: `lgdt` from a memory operand is not modelled (the descriptor tables are the scenario's `machine.gdt`): write `lgdt` alone, which reloads that table at CPL 0 and is #GP(0) at CPL 1-3"),
        ErrorCase(name: "lidt with a memory operand is refused",
                  yaml: "scenario: a\nkernel: none\nsteps:\n  - exec: \"lidt [eax]\"\n", line: 4, column: 11,
                  message: "steps[0].exec: `lidt` from a memory operand is not modelled (the descriptor tables are the scenario's `machine.idt`): write `lidt` alone, which reloads that table at CPL 0 and is #GP(0) at CPL 1-3"),
        ErrorCase(name: "cr4.pvi is refused as not modelled, not offered 'pse'",
                  yaml: "scenario: a\nmachine: {mode: ia32, cr4: {pvi: true}}\nkernel: none\n", line: 2, column: 34,
                  message: "cr4.pvi: CR4.PVI (protected-mode virtual interrupts) is not modelled: CLI and STI at CPL 3 would change VIF instead of raising #GP(0)",
                  note: "the flags of cr4 are pse, pae, pge, smep, smap, pke, pcide"),
        ErrorCase(name: "set.cr4.vme is refused: virtual-8086 mode is not modelled",
                  yaml: "scenario: a\nkernel: none\nsteps:\n  - set: {cr4: {vme: true}}\n", line: 4, column: 22,
                  message: "set.cr4.vme: CR4.VME (virtual-8086 mode extensions) is not a flag the format sets"),
        ErrorCase(name: "unknown instruction", yaml: "scenario: a\nkernel: none\nsteps:\n  - exec: \"sysentr\"\n", line: 4, column: 11,
                  message: "steps[0].exec: unknown instruction 'sysentr'", note: "did you mean 'sysenter'?"),
        ErrorCase(name: "missing id", yaml: "machine: {mode: ia32}\n", line: 1, column: 1,
                  message: "a scenario needs an id", note: nil),
        ErrorCase(name: "unknown exception name", yaml: "scenario: a\nkernel: none\nsteps:\n  - exec: \"int3\"\n    expect: {fault: BG}\n", line: 5, column: 21,
                  message: "unknown exception 'BG'", note: "did you mean 'BP'?"),
        ErrorCase(name: "IDT error code written with the vector as the selector",
                  yaml: "scenario: a\nkernel: none\nsteps:\n  - exec: \"int 0x81\"\n    expect: {fault: {vector: GP, error_code: {selector: 0x81, idt: true}}}\n",
                  line: 5, column: 57, message: "steps[0].expect.fault.error_code.selector 0x81 has RPL bits",
                  note: "with idt: true the index is the vector: for vector 0x81 write {selector: {index: 0x81}, idt: true} (selector 0x408; error code 0x40a)"),
        ErrorCase(name: "relative kernel.files path not canonical", yaml: "scenario: a\nkernel:\n  files: {data/../x: hi}\n", line: 3, column: 11,
                  message: "kernel.files: 'data/../x' must be written canonically", note: nil),
        ErrorCase(name: "kernel.files path not canonical", yaml: "scenario: a\nkernel:\n  files: {/etc//motd: hi}\n", line: 3, column: 11,
                  message: "kernel.files: '/etc//motd' must be written canonically", note: nil),
        ErrorCase(name: "kernel.files file under a file", yaml: "scenario: a\nkernel:\n  files: {/a: x, /a/b: y}\n", line: 3, column: 11,
                  message: "kernel.files: '/a' and '/a/b' cannot both be files", note: nil),
        ErrorCase(name: "kernel.files file under a device", yaml: "scenario: a\nkernel:\n  files: {/dev/null/x: y}\n", line: 3, column: 11,
                  message: "kernel.files: '/dev/null/x' and '/dev/null' cannot both be files", note: nil),
        ErrorCase(name: "descriptor path not canonical", yaml: "scenario: a\nprocesses:\n  - {name: p, files: {3: /tmp/./log}}\n", line: 3, column: 26,
                  message: "file '/tmp/./log' must be written canonically", note: nil),
        ErrorCase(name: "errno name", yaml: "scenario: a\nsteps:\n  - syscall: {via: syscall, nr: 39}\n    expect: {returns: -EFAUL}\n", line: 4, column: 23,
                  message: "unknown errno 'EFAULT'", note: nil),
    ]

    @Test(arguments: errorCases)
    func locatedError(_ c: ErrorCase) {
        let ds = diagnostics(c.yaml)
        let hit = ds.first { $0.message.hasPrefix(c.message) || ($0.message.contains(c.message)) }
        if c.name == "errno name" {
            // The misspelt errno gets a hint instead.
            #expect(ds.contains { $0.message.contains("unknown errno 'EFAUL'") && $0.notes.contains("did you mean 'EFAULT'?") })
            return
        }
        guard let d = hit else {
            Issue.record("no diagnostic '\(c.message)' in:\n\(ds.map(\.description).joined(separator: "\n"))")
            return
        }
        #expect(d.location?.file == "t.yaml")
        #expect(d.location?.line == c.line, "\(d)")
        #expect(d.location?.column == c.column, "\(d)")
        if let note = c.note { #expect(d.notes.contains(note), "\(d)") }
        #expect(d.description.hasPrefix("t.yaml:\(c.line):\(c.column): error: "))
    }

    @Test func severalErrorsAreAllReported() {
        let ds = diagnostics("scenario: a\nmachine: {mode: ia33, vendr: amd}\nsteps:\n  - timer: x\n  - bogus: 1\n")
        #expect(ds.count == 4, "\(ds)")
    }

    struct NumberCase: Sendable { var text: String; var value: UInt64 }
    @Test(arguments: [NumberCase(text: "42", value: 42), NumberCase(text: "0x2a", value: 42), NumberCase(text: "0b101010", value: 42),
                      NumberCase(text: "0o52", value: 42), NumberCase(text: "0xffff_8000_0000_0000", value: 0xffff_8000_0000_0000),
                      NumberCase(text: "1_000", value: 1000), NumberCase(text: "0XFF", value: 255)])
    func integerLiterals(_ c: NumberCase) {
        #expect(parseInteger(c.text) == .value(c.value, negative: false))
    }

    @Test(arguments: ["", "0x", "_1", "1_", "12a", "0b2", "0o8", "1.5", "abc"])
    func invalidIntegerLiterals(_ text: String) {
        #expect(parseInteger(text) == .invalid)
    }

    @Test func formatExampleDecodes() {
        let s = spec("""
        scenario: call-gate-raises-privilege
        tags: [gates, ia32]
        machine:
          mode: ia32
          gdt:
            20: {name: kgate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0xc0100000, params: 2}
        kernel: none
        steps:
          - exec: "call far kgate:3:0"
            expect: {fault: none, cpl: 0, regs: {cs: 0x60}}
          - exec: "retf 8"
          - exec: "call far kernel_cs:0xc0100000"
            expect:
              fault: {vector: GP, error_code: {selector: kernel_cs}}
        """)
        #expect(s != nil)
        guard let s else { return }
        #expect(s.machine.mode == .ia32)
        #expect(s.kernel.enabled == false)
        #expect(s.steps.count == 3)
        #expect(s.steps[0].event == .exec(.callFar(selector: 0xA3, offset: 0)))
        #expect(s.steps[1].event == .exec(.retf(popBytes: 8)))
        #expect(s.steps[2].event == .exec(.callFar(selector: 0x60, offset: 0xc010_0000)))
        #expect(s.checkCount == 4)
        if case let .patch(p) = s.machine.gdt, let e = p[20], let entry = e {
            let d = Descriptor(raw: entry.low)
            #expect(d.systemType == .callGate)
            #expect(d.dpl == 3)
            #expect(d.gateSelector == 0x60)
            #expect(d.paramCount == 2)
            #expect(d.gateOffset == 0xc010_0000)
        } else {
            Issue.record("gdt patch not decoded")
        }
    }

    @Test func mergeKeysAndAnchorsWork() {
        let s = spec("""
        scenario: merged
        machine: {mode: ia32}
        steps:
          - &tick {timer: 1}
          - *tick
          - <<: *tick
            expect: {current: main}
        """)
        #expect(s?.steps.count == 3)
        #expect(s?.steps[2].checks.count == 1)
    }

    @Test func bareStepsWork() {
        let s = spec("scenario: b\nsteps:\n  - wait\n  - schedule\n")
        #expect(s?.steps.map(\.event) == [.wait(pid: -1), .schedule])
    }

    @Test func duplicateScenarioIdsInOneFile() {
        let ds = diagnostics("scenario: a\n---\nscenario: a\n")
        #expect(ds.contains { $0.message.contains("used twice") })
    }
}

/// The `exec` text tolerates spaces and tabs around and between its words, and upper case; a blank
/// that splits a word is still an error. (The blanks are matched as UTF-8 bytes: a multi-byte
/// character next to one stays whole.)
struct InstructionTextTests {
    struct Case: CustomStringConvertible, Sendable {
        let text: String
        let expected: String?
        var description: String { text.debugDescription }
    }

    static let cases: [Case] = [
        Case(text: "int 0x80", expected: "int 0x80"),
        Case(text: "  int\t0x80\t ", expected: "int 0x80"),
        Case(text: "\tINT   0X80", expected: "int 0x80"),
        Case(text: "iretq ", expected: "iretq"),
        Case(text: "retf\t8", expected: "retf 8"),
        Case(text: "call  far\t0x23:0x1000", expected: "call far 0x23:0x1000"),
        Case(text: "invlpg   [0x1000] ", expected: "invlpg [0x1000]"),
        Case(text: "i nt 0x80", expected: nil),
        Case(text: "jmp 0x23:0x1000", expected: "jmp far 0x23:0x1000"),
        Case(text: "ljmp $0x23, $0x1000", expected: "jmp far 0x23:0x1000"),
        Case(text: "lcall 0x23, 0x1000", expected: "call far 0x23:0x1000"),
        Case(text: "jmp 0x1000", expected: nil),
        Case(text: "call eax", expected: nil),
        Case(text: "ud2", expected: "ud2"),
        Case(text: "ud2 eax", expected: nil),
        Case(text: "int 0x80 é", expected: nil),
        Case(text: "", expected: nil),
        // The assembler's `NNh` hex form, and sizes on memory operands (checked against the register).
        Case(text: "int 80h", expected: "int 0x80"),
        Case(text: "int 0FFH", expected: "int 0xff"),
        Case(text: "int ffh", expected: nil),
        Case(text: "int 100h", expected: nil),
        Case(text: "mov eax, 1000h", expected: "mov eax, 0x1000"),
        Case(text: "mov eax, [8049000h]", expected: "mov eax, [0x8049000]"),
        Case(text: "mov eax, dword [0x1000]", expected: "mov eax, [0x1000]"),
        Case(text: "mov eax, DWORD PTR [0x1000]", expected: "mov eax, [0x1000]"),
        Case(text: "mov dword ptr [0x1000], ebx", expected: "mov [0x1000], ebx"),
        Case(text: "mov qword [0x1000], ebx", expected: nil),
        Case(text: "mov eax, word [0x1000]", expected: nil),
        Case(text: "mov eax, dword 0x1000", expected: nil),
        Case(text: "retf 8h", expected: "retf 8"),
        Case(text: "call far 8h:1000h", expected: "call far 0x8:0x1000"),
        Case(text: "mov al, [0x1000]", expected: nil),
        Case(text: "mov [0x1000], al", expected: nil),
    ]

    @Test(arguments: cases)
    func parses(_ c: Case) {
        let parser = InstructionParser(names: SelectorNames(), mode: .ia32)
        switch parser.parse(c.text) {
        case .success(let i): #expect(i.intelSyntax == c.expected)
        case .failure: #expect(c.expected == nil)
        }
    }

    @Test(arguments: ["mov al, [0x1000]", "mov [0x1000], bl", "mov r9b, 5"])
    func byteRegistersAreNamedAsNotModelled(_ text: String) {
        guard case let .failure(e) = InstructionParser(names: SelectorNames(), mode: .x86_64).parse(text) else {
            Issue.record("\(text) parsed")
            return
        }
        #expect(e.message.contains("8-bit register operands"), "\(e.message)")
    }

    @Test(arguments: [("  a b  ", "a b"), ("\t\t", ""), ("é ", "é"), (" \u{301}x", "\u{301}x"), ("abc", "abc")])
    func trims(_ pair: (String, String)) {
        #expect(pair.0.trimmingWhitespace() == pair.1)
    }

    @Test(arguments: [("mov  ds,\tax", "mov", "ds,\tax"), ("nop", "nop", ""), (" é  x ", "é", "x")])
    func splitsTheFirstWord(_ t: (String, String, String)) {
        let (w, rest) = t.0.splitFirstWord()
        #expect(w == t.1)
        #expect(rest == t.2)
    }
}

/// `trace` items are matched in the engine's spelling whatever the author's case and spacing
/// (TraceItem); task names and kernel notes keep theirs.
struct TraceItemTests {
    @Test(arguments: [
        ("user A", "user A"), ("User A", "user A"), ("KERNEL  shell-child", "kernel shell-child"),
        ("Schedule", "schedule"), ("schedule()", "schedule"), ("schedule Timer", "schedule timer"),
        ("#pf", "#PF"), ("gp", "GP"), ("#GP", "#GP"), ("NMI", "NMI"),
        ("Page Fault", "page fault"), ("general protection fault", "general protection fault"),
        ("Invalid TSS", "invalid tss"), ("Double Fault", "double fault"),
        ("switch A->B", "switch A -> B"), ("Switch  A ->  B", "switch A -> B"), ("switch", "switch"),
        ("Context Switch", "context switch"), ("TLB miss", "tlb miss"), ("Gate 0X80", "gate 0x80"),
        ("Load DS", "load ds"), ("syscall write", "syscall write"), ("Stack  Switch", "stack switch"),
        ("B is killed by SIGSEGV", "B is killed by SIGSEGV"), ("idle  loops", "idle  loops"),
    ])
    func canonical(_ pair: (String, String)) {
        #expect(TraceItem.canonical(pair.0) == pair.1)
    }

    @Test(arguments: [
        ("page falt", "did you mean 'page fault'?"), ("stak switch", "did you mean 'stack switch'?"),
        ("dubble fault", "did you mean 'double fault'?"),
    ])
    func misspeltPhrase(_ pair: (String, String)) {
        #expect(TraceItem.suggestion(for: TraceItem.canonical(pair.0)) == pair.1)
    }

    @Test(arguments: ["user A", "schedule timer", "#PF", "page fault", "B is killed by SIGSEGV", "switch A -> B", "gate 0x80", "GP",
                      "read", "exit", "sys_read", "write"])
    func knownOrFarTextHasNoSuggestion(_ item: String) {
        #expect(TraceItem.suggestion(for: TraceItem.canonical(item)) == nil)
    }

    @Test func misspeltItemWarns() {
        var ds: [Diagnostic] = []
        for l in decodeText("scenario: a\nkernel: none\nsteps:\n  - exec: \"nop\"\n    expect: {trace: [page falt]}\n") {
            if case let .spec(_, warnings) = l { ds += warnings }
        }
        #expect(ds.contains { $0.severity == .warning && $0.message.contains("'page falt' is no trace event name") && $0.message.contains("did you mean 'page fault'?") })
    }

    /// Every canonical item of the vocabulary is one of the forms some event of a real run produces.
    @Test func matchesTheEngine() {
        let yaml = """
            scenario: trace-spelling
            machine: {mode: ia32}
            kernel: {scheduler: {policy: rr, timeslice: 1}}
            processes:
              - {name: A, state: running}
              - {name: B, state: ready}
            steps:
              - timer: 1
                expect:
                  trace: [User A, Kernel A, Schedule(), Switch A->B, KERNEL B, user B]
              - access: {op: write, addr: 0x10}
                expect:
                  fault: PF
                  trace: [TLB Miss, Page Walk, Page Fault, Gate 0XE, Stack Switch, B is killed by SIGSEGV, schedule, Context Switch]
            """
        let outcome = runText(yaml)
        guard case .passed = outcome else { Issue.record("\(outcome)"); return }
    }
}
