// A `syscall` step covers entry, dispatch and return (scenario-format.md `steps`). When its SYSCALL,
// SYSENTER or INT 0x80 lands on none of the kernel model's entries the step is refused as not modelled, naming
// where it landed; it used to end silently at CPL 0 wherever the MSRs pointed (an AMD ia32 SYSCALL
// went to CS 0, EIP 0, since Linux's 32-bit kernel has no SYSCALL entry and leaves STAR 0). The bare
// instructions (`exec: "syscall"`) still run (scenarios/protection/vendor-differences.yaml).

@testable import Scenario
import Testing

@Suite struct SyscallStepOffEntryTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var machine: String
        var step: String
        var phrase: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "AMD legacy-mode SYSCALL, ia32 kernel", machine: "{mode: ia32, vendor: amd}",
             step: "{via: syscall, nr: getpid}", phrase: "Linux i386 has no SYSCALL entry"),
        Case(name: "LSTAR pointed elsewhere", machine: "{mode: x86_64, msrs: {IA32_LSTAR: 0xffffffff81005000}}",
             step: "{via: syscall, nr: getpid}", phrase: "SYSCALL reached 0xffffffff81005000"),
        Case(name: "SYSENTER_EIP pointed elsewhere", machine: "{mode: ia32, msrs: {IA32_SYSENTER_EIP: 0xc0100500}}",
             step: "{via: sysenter, nr: getpid}", phrase: "SYSENTER reached 0xc0100500"),
        Case(name: "IDT 0x80 pointed elsewhere", machine: "{mode: ia32, idt: {0x80: {offset: 0xc0100500}}}",
             step: "{via: int80, nr: getpid}", phrase: "int 0x80 reached 0xc0100500"),
    ]

    @Test(arguments: cases)
    func refused(_ c: Case) {
        let r = runScenarioText("""
        scenario: off-entry
        machine: \(c.machine)
        steps:
          - syscall: \(c.step)
            expect: {returns: 1}
        """)
        #expect(r.count == 1)
        guard case let .failed(fs)? = r.first?.outcome else {
            Issue.record("expected a refusal, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(fs.contains { $0.actual.contains("not modelled") && $0.actual.contains(c.phrase) }, "\(fs)")
    }

    /// The bare instruction still runs where the step is refused (FAST-8, AMD legacy-mode SYSCALL).
    @Test func bareLegacySyscallStillRuns() {
        let r = runScenarioText("""
        scenario: bare
        machine: {mode: ia32, vendor: amd, msrs: {IA32_STAR: 0x0073_0060_c010_0300}}
        steps:
          - exec: syscall
            expect: {fault: none, cpl: 0, regs: {eip: 0xc0100300, ecx: 0x08048002}}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(String(describing: r.first?.outcome))")
            return
        }
    }
}
