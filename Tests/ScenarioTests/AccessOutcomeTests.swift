// `physical`, `accessed`, `dirty` on access steps, end to end (issue 4 item 8).

import Machine
@testable import Scenario
import Testing

@Suite struct AccessOutcomeTests {
    /// PG-14: the A/D bits reported are those of the leaf that maps the *linear* address. With a
    /// data segment based at 0x1000, offset 0x40000000 is linear 0x40001000: the page whose frame
    /// is 0x900000 (preset A=D=1), not the fresh page at linear 0x40000000 (A=D=0).
    @Test func accessedAndDirtyComeFromTheLeafOfTheLinearAddress() {
        let yaml = """
        scenario: ds-base
        machine:
          mode: ia32
          gdt:
            15: {name: user_ds, type: data, dpl: 3, base: 0x1000}
        processes:
          - name: app
            pages:
              - {virt: 0x40000000, phys: 0x800000, user: true, writable: true}
              - {virt: 0x40001000, phys: 0x900000, user: true, writable: true}
        steps:
          - access: {op: read, addr: 0x40000000}
            expect: {fault: none, physical: 0x900000, accessed: true, dirty: false}
          - access: {op: write, addr: 0x3ffff000}
            expect: {fault: none, physical: 0x800000, accessed: true, dirty: true}
        """
        #expect(runText(yaml) == .passed, "\(runText(yaml))")
    }

    @Test func checksFailWithoutASuccessfulAccess() {
        let yaml = """
        scenario: no-access
        machine: {mode: x86_64}
        steps:
          - access: {op: read, addr: 0xffff888000000000}
            expect:
              fault: {vector: PF, error_code: 0x5, cr2: 0xffff888000000000}
              accessed: true
        """
        guard case let .failed(fs) = runText(yaml) else {
            Issue.record("expected a failed check")
            return
        }
        #expect(fs.count == 1)
        #expect(fs.first?.actual == "no successful access")
    }
}
