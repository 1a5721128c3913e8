// `expect.entry` takes `eip`/`esp` or `rip`/`rsp`: a failed check names the key the scenario wrote, and
// giving both names of one register is an error (one of them would be silently dropped).

@testable import Scenario
import Testing

@Suite struct EntryKeyNamesTests {
    @Test("a failed entry check names the key as written", arguments: [
        ("{via: sysenter, esp: 0x1}", "steps[0].expect.entry.esp"),
        ("{via: sysenter, rsp: 0x1}", "steps[0].expect.entry.rsp"),
        ("{via: sysenter, eip: 0x1}", "steps[0].expect.entry.eip"),
        ("{via: sysenter, rip: 0x1}", "steps[0].expect.entry.rip"),
    ])
    func path(entry: String, path: String) {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nsteps:\n  - syscall: {via: sysenter, nr: getpid}\n    expect: {entry: \(entry)}\n"
        guard case let .failed(f) = runText(yaml) else { Issue.record("not failed"); return }
        #expect(f.map(\.path) == [path])
    }

    @Test func bothNamesOfOneRegisterAreAnError() {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nsteps:\n  - syscall: {via: sysenter, nr: getpid}\n    expect: {entry: {eip: 0x1, rip: 0x1}}\n"
        guard case let .invalid(d) = runText(yaml) else { Issue.record("not invalid"); return }
        #expect(d.first?.message.contains("give rip or eip, not both") == true)
    }
}

@Suite struct RegisterAliasTests {
    @Test("two names of one register in a context or set.regs map are an error", arguments: [
        ("processes:\n  - {name: a, context: {eip: 0x8048000, rip: 0x8048004}}\nsteps:\n  - timer: 1\n", "processes[0].context gives both eip and rip"),
        ("processes:\n  - {name: a, context: {eflags: 0x202, rflags: 0x2}}\nsteps:\n  - timer: 1\n", "processes[0].context gives both eflags and rflags"),
        ("processes:\n  - {name: a, context: {ebx: 1, rbx: 2}}\nsteps:\n  - timer: 1\n", "processes[0].context gives both ebx and rbx"),
        ("steps:\n  - set: {regs: {eax: 1, rax: 2}}\n", "steps[0].set.regs gives both eax and rax"),
        ("steps:\n  - set: {regs: {rip: 0x8048000, eip: 0x8048004}}\n", "steps[0].set.regs gives both rip and eip"),
    ])
    func refused(body: String, message: String) {
        let yaml = "scenario: a\nmachine: {mode: ia32}\n" + body
        guard case let .invalid(d) = runText(yaml) else { Issue.record("not invalid"); return }
        #expect(d.contains { $0.message.contains(message) })
    }
}
