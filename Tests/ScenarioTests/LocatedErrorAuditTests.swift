// Located errors found by Fuzz/diff/diag_audit.py: each input is refused at the line and column of the
// offending key or value (marked `‸` in the input), with the hint that names the right spelling.

import Foundation
@testable import Scenario
import Testing

/// A scenario text with one `‸` marking where the error must point; the text without it and that position.
struct MarkedYAML: Sendable {
    let text: String
    let line: Int
    let column: Int

    init(_ marked: String) {
        var line = 1, column = 1, found: (Int, Int)?
        var out = ""
        for ch in marked {
            if ch == "‸" { found = (line, column); continue }
            out.append(ch)
            if ch == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        text = out
        (self.line, self.column) = found ?? (0, 0)
    }
}

@Suite struct LocatedErrorAuditTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var message: String
        var note: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "kernel: none misspelt", yaml: "scenario: a\nkernel: ‸noen\n",
             message: "kernel must be `none` or a mapping, not 'noen'", note: "did you mean 'none'?"),
        Case(name: "switch: none misspelt", yaml: "scenario: a\nsteps:\n  - timer: 1\n    expect: {switch: ‸noen}\n",
             message: "steps[0].expect.switch must be `none` or a mapping {from, to, reason}, not 'noen'", note: "did you mean 'none'?"),
        Case(name: "faults: none misspelt", yaml: "scenario: a\nsteps:\n  - timer: 1\n    expect: {faults: ‸nnoe}\n",
             message: "steps[0].expect.faults must be `none` or a list of exceptions", note: "did you mean 'none'?"),
        Case(name: "gate: none misspelt", yaml: "scenario: a\nsteps:\n  - timer: 1\n    expect: {gate: ‸nome}\n",
             message: "steps[0].expect.gate must be `none` or a mapping", note: "did you mean 'none'?"),
        Case(name: "descriptor type key misspelt", yaml: "scenario: a\nmachine:\n  gdt:\n    20: {name: x, ‸tye: code, dpl: 3}\n",
             message: "unknown key 'tye' in gdt[20]", note: "did you mean 'type'?"),
        Case(name: "set.regs register misspelt", yaml: "scenario: a\nsteps:\n  - set: {regs: {‸rsii: 1}}\n",
             message: "set.regs: unknown general register 'rsii'", note: "did you mean 'rsi'?"),
        Case(name: "set.regs r8 misspelt", yaml: "scenario: a\nsteps:\n  - set: {regs: {‸rr8: 1}}\n",
             message: "set.regs: unknown general register 'rr8'", note: "did you mean 'r8'?"),
        Case(name: "expect.regs 32-bit name misspelt", yaml: "scenario: a\nsteps:\n  - exec: nop\n    expect: {regs: {‸eaxx: 1}}\n",
             message: "unknown register 'eaxx'", note: "did you mean 'eax'?"),
        Case(name: "expect.regs segment misspelt", yaml: "scenario: a\nsteps:\n  - exec: nop\n    expect: {regs: {‸ffs: 0}}\n",
             message: "unknown register 'ffs'", note: "did you mean 'fs'?"),
        Case(name: "expect.regs ss misspelt", yaml: "scenario: a\nsteps:\n  - exec: nop\n    expect: {regs: {‸sss: 0}}\n",
             message: "unknown register 'sss'", note: "did you mean 'ss'?"),
        Case(name: "iretd misspelt", yaml: "scenario: a\nsteps:\n  - exec: ‸\"irtd\"\n",
             message: "unknown instruction 'irtd'", note: "did you mean 'iretd'?"),
        Case(name: "sysretq misspelt", yaml: "scenario: a\nsteps:\n  - exec: ‸\"sysetq\"\n",
             message: "unknown instruction 'sysetq'", note: "did you mean 'sysretq'?"),
        Case(name: "lcall misspelt", yaml: "scenario: a\nsteps:\n  - exec: ‸\"lcll user_cs:3, 0\"\n",
             message: "unknown instruction 'lcll'", note: "did you mean 'lcall'?"),
        Case(name: "retfq misspelt", yaml: "scenario: a\nsteps:\n  - exec: ‸\"refq\"\n",
             message: "unknown instruction 'refq'", note: "did you mean 'retfq'?"),
        Case(name: "mov to cr33", yaml: "scenario: a\nsteps:\n  - exec: ‸\"mov cr33, eax\"\n",
             message: "unknown register 'cr33' (MOV CR encodes CR0-CR15)", note: "did you mean 'cr3'?"),
        Case(name: "mov from cr00", yaml: "scenario: a\nsteps:\n  - exec: ‸\"mov eax, cr00\"\n",
             message: "unknown register 'cr00' (MOV CR encodes CR0-CR15)", note: "did you mean 'cr0'?"),
        Case(name: "mov cs with a misspelt selector name", yaml: "scenario: a\nsteps:\n  - exec: ‸\"mov cs, use_rcs:3\"\n",
             message: "unknown selector name 'use_rcs'", note: "did you mean 'user_cs'?"),
        Case(name: "exit_code 256", yaml: "scenario: a\nexpect: {processes: {main: {exit_code: ‸256}}}\n",
             message: "expect.processes.main.exit_code 256 is out of range (0 to 255)", note: "exit(256) leaves 0"),
        Case(name: "exit_code -1", yaml: "scenario: a\nexpect: {processes: {main: {exit_code: ‸-1}}}\n",
             message: "expect.processes.main.exit_code -1 is out of range (0 to 255)", note: "exit(-1) leaves 255"),
    ]

    @Test(arguments: cases) func refusedWhereTheMistakeIs(_ c: Case) {
        let m = MarkedYAML(c.yaml)
        let ds = diagnostics(m.text)
        let hit = ds.first { $0.message.contains(c.message) }
        #expect(hit != nil, "\(ds)")
        guard let hit else { return }
        #expect(hit.location?.line == m.line && hit.location?.column == m.column, "\(hit)")
        if let note = c.note { #expect(hit.notes.contains { $0.contains(note) }, "\(hit)") }
    }

    /// A trace item whose first word is one edit from a form with a task name or parameter draws a warning
    /// with the whole item respelt; a kernel note that starts with a task's name draws none.
    @Test(arguments: [("usr main", "did you mean 'user main'?"), ("kernl main", "did you mean 'kernel main'?"),
                      ("swich main -> idle", "did you mean 'switch main -> idle'?"), ("main is killed by SIGSEGV", nil)])
    func traceItemHeadMisspelt(_ item: String, _ note: String?) {
        let loaded = decodeText("scenario: a\nsteps:\n  - exec: nop\n    expect: {trace: [\"\(item)\"]}\n")
        guard case let .spec(_, warnings)? = loaded.first else { Issue.record("\(loaded)"); return }
        if let note {
            #expect(warnings.contains { $0.message.contains(note) && $0.location?.line == 4 }, "\(warnings)")
        } else {
            #expect(warnings.isEmpty, "\(warnings)")
        }
    }

    /// What the fixes must keep working: encodable control registers that do not exist are #UD when run
    /// (not input errors), and `mov cs, REG` / `mov cs, SEL` are MOV CS (#UD).
    @Test(arguments: ["mov cr8, rax", "mov cr9, eax", "mov eax, cr15", "mov cs, ax", "mov cs, user_cs:3", "iretd", "sysretq"])
    func stillAnInstruction(_ exec: String) {
        #expect(diagnostics("scenario: a\nmachine: {mode: x86_64}\nsteps:\n  - exec: \"\(exec)\"\n").isEmpty)
    }

    /// `timer: 0` is no error: the format sets no lower bound, and zero interrupts is a step in which nothing happens.
    @Test func timerZeroIsAccepted() {
        #expect(diagnostics("scenario: a\nsteps:\n  - timer: 0\n    expect: {switch: none, current: main}\n").isEmpty)
    }

    struct BaseCase: Sendable, CustomTestStringConvertible {
        var name: String
        var base: String
        var message: String
        var note: String?
        var testDescription: String { name }
    }

    /// Mistakes in an `extends` base are located in the base, at the key or value, as in a scenario.
    static let baseCases: [BaseCase] = [
        BaseCase(name: "misspelt machine", base: "‸macihne: {mode: ia32}\nkernel: none\n",
                 message: "unknown key 'macihne' in an `extends` base", note: "did you mean 'machine'?"),
        BaseCase(name: "misspelt kernel", base: "machine: {mode: ia32}\n‸kerenl: none\n",
                 message: "unknown key 'kerenl' in an `extends` base", note: "did you mean 'kernel'?"),
        BaseCase(name: "misspelt processes", base: "‸procseses:\n  - {name: a, state: running}\n",
                 message: "unknown key 'procseses' in an `extends` base", note: "did you mean 'processes'?"),
        BaseCase(name: "duplicate key", base: "machine:\n  mode: ia32\n  ‸mode: ia32\n",
                 message: "duplicate key \"mode\"", note: nil),
        BaseCase(name: "syntax error", base: "machine: {mode: ia32\n‸", message: "did not find expected ',' or '}'", note: nil),
        BaseCase(name: "descriptor type key misspelt", base: "machine:\n  gdt:\n    20: {‸tpye: code}\n",
                 message: "unknown key 'tpye' in gdt[20]", note: "did you mean 'type'?"),
    ]

    @Test(arguments: baseCases) func baseMistakesAreLocatedInTheBase(_ c: BaseCase) throws {
        let d = try TempDir()
        let m = MarkedYAML(c.base)
        try d.write("_base.yaml", m.text)
        let path = try d.write("s.yaml", "scenario: s\nextends: _base.yaml\nsteps:\n  - exec: nop\n    expect: {current: a}\n")
        let loaded = ScenarioDecoder.load(bytes: Array(try String(contentsOfFile: path, encoding: .utf8).utf8), path: path,
                                          display: path, options: LoadOptions(root: d.path))
        var ds: [Diagnostic] = []
        for l in loaded { if case let .invalid(r) = l, case let .invalid(x) = r.outcome { ds += x } }
        let errors = ds.filter { $0.severity == .error }
        let hit = errors.first { $0.message.contains(c.message) && $0.location?.file.hasSuffix("_base.yaml") == true }
        #expect(hit != nil, "\(ds)")
        guard let hit else { return }
        #expect(hit.location?.line == m.line && hit.location?.column == m.column, "\(hit)")
        if let note = c.note { #expect(hit.notes.contains { $0.contains(note) }, "\(hit)") }
        // A base that cannot be read blames nothing on the scenario, whose task name `a` is unknown only
        // because the base is broken.
        if c.note == nil { #expect(!errors.contains { $0.location?.file == path }, "\(errors)") }
    }

    /// A scenario key that extends does not take (`steps`) stays a warning; a known base key is no error.
    @Test func baseWithAScenarioKeyWarns() throws {
        let d = try TempDir()
        try d.write("_base.yaml", "machine: {mode: ia32}\nsteps: []\nprocesses:\n  - {name: a, state: running}\n")
        let path = try d.write("s.yaml", "scenario: s\nextends: _base.yaml\nsteps:\n  - exec: nop\n    expect: {current: a}\n")
        let loaded = ScenarioDecoder.load(bytes: Array(try String(contentsOfFile: path, encoding: .utf8).utf8), path: path,
                                          display: path, options: LoadOptions(root: d.path))
        guard case let .spec(_, warnings)? = loaded.first else { Issue.record("\(loaded)"); return }
        #expect(warnings.contains { $0.message.contains("has 'steps', which extends does not take") }, "\(warnings)")
    }
}
