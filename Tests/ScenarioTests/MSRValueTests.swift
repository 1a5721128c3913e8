// `machine.msrs` and `set: {msrs}` refuse values WRMSR refuses with #GP(0) (PRIV-2: an unknown number,
// reserved bits of IA32_EFER) at their line, as well as an architectural MSR the model does not keep.
// Non-canonical addresses are accepted: FAST-1 (SYSENTER's #GP(0) in IA-32e mode for a non-canonical
// SYSENTER_EIP/ESP) needs them set up directly.

@testable import Scenario
import Testing

@Suite struct MSRValueTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var machine: String
        var phrase: String?  // nil: valid
        var testDescription: String { machine }
    }

    static let cases: [Case] = [
        Case(machine: "{mode: x86_64, msrs: {IA32_LSTAR: 0x0000800000000000}}", phrase: nil),
        Case(machine: "{mode: x86_64, msrs: {IA32_CSTAR: 0x00f0000000000000}}", phrase: nil),
        Case(machine: "{mode: ia32, msrs: {IA32_SYSENTER_EIP: 0x8000000000000000}}", phrase: nil),
        Case(machine: "{mode: ia32, msrs: {IA32_SYSENTER_ESP: 0x0000900000000000}}", phrase: nil),
        Case(machine: "{mode: x86_64, msrs: {IA32_KERNEL_GS_BASE: 0x1000000000000000}}", phrase: nil),
        Case(machine: "{mode: x86_64, msrs: {IA32_EFER: 0x10d01}}", phrase: "IA32_EFER sets reserved bits 0x10000"),
        Case(machine: "{mode: x86_64, msrs: {IA32_EFER: 0x1d01}}", phrase: "IA32_EFER sets reserved bits 0x1000"),
        Case(machine: "{mode: x86_64, vendor: amd, msrs: {IA32_EFER: 0x1d01}}", phrase: nil),  // AMD's SVME..TCE exist
        // ... but LMSLE (bit 13) would turn on 64-bit segment limit checks the model lacks (was: accepted).
        Case(machine: "{mode: x86_64, vendor: amd, msrs: {IA32_EFER: 0x2d01}}", phrase: "LMSLE"),
        Case(machine: "{mode: x86_64, msrs: {0x1234: 5}}", phrase: "unknown MSR 0x1234"),
        Case(machine: "{mode: x86_64, msrs: {0x277: 6}}", phrase: "IA32_PAT (0x277) is not modelled"),
        Case(machine: "{mode: x86_64, msrs: {IA32_LSTAR: 0xffff800000000000}}", phrase: nil),  // canonical upper half
        Case(machine: "{mode: ia32, msrs: {IA32_SYSENTER_EIP: 0x00007fffffffffff}}", phrase: nil),
    ]

    @Test(arguments: cases)
    func machineMSRs(_ c: Case) {
        let r = runScenarioText("""
        scenario: msr
        machine: \(c.machine)
        steps:
          - timer: 1
            expect: {fault: none}
        """)
        check(r, c.phrase, line: 2)
    }

    /// A `set` step is held to the same rule.
    @Test(arguments: cases.filter { $0.machine.contains("mode: x86_64, msrs") })
    func setStepMSRs(_ c: Case) {
        guard let open = c.machine.range(of: "msrs: "), let close = c.machine.range(of: "}}", options: .backwards) else {
            Issue.record("bad case \(c.machine)")
            return
        }
        let msrs = c.machine[open.upperBound..<close.lowerBound] + "}"
        let r = runScenarioText("""
        scenario: msr
        machine: {mode: x86_64}
        steps:
          - set: {msrs: \(msrs)}
          - timer: 1
            expect: {fault: none}
        """)
        check(r, c.phrase, line: 4)
    }

    func check(_ r: [ScenarioResult], _ phrase: String?, line: Int) {
        #expect(r.count == 1)
        switch (r.first?.outcome, phrase) {
        case (.passed?, nil): break
        case let (.invalid(ds)?, phrase?):
            #expect(ds.contains { $0.message.contains(phrase) && $0.message.contains("#GP(0)") || $0.message.contains("not modelled") && $0.message.contains(phrase) }, "\(ds)")
            #expect(ds.contains { $0.location?.line == line }, "\(ds)")
        default:
            Issue.record("expected \(phrase.map { "invalid: \($0)" } ?? "a pass"), got \(String(describing: r.first?.outcome))")
        }
    }
}
