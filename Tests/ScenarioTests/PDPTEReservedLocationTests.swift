// A PAE mapping with `pdpte: {reserved: true}` makes a present PDPTE with a reserved bit, which the CR3
// load at the start refuses (PG-2: #GP(0) at the load). The scenario is invalid, and the error points at
// the mapping that asked for the bit (was: at line 1, column 1, the top of the document).

@testable import Machine
@testable import Scenario
import Testing

@Suite struct PDPTEReservedLocationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        /// The line of the mapping with `pdpte: {reserved: true}`.
        var line: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "the running task's pages", text: """
            scenario: r
            machine: {mode: ia32, paging: pae}
            kernel: none
            processes:
              - name: main
                pages:
                  - {virt: 0x80000000, phys: 0x700000, user: true}
                  - {virt: 0x40000000, phys: 0x700000, user: true, pdpte: {reserved: true}}
            steps:
              - access: {op: read, addr: 0x40000000}
            """, line: 8),
        Case(name: "machine.pages", text: """
            scenario: r
            machine:
              mode: ia32
              paging: pae
              pages:
                - {virt: 0x40000000, phys: 0x700000, user: true, pdpte: {reserved: true}}
            kernel: none
            steps:
              - access: {op: read, addr: 0x40000000}
            """, line: 6),
    ]

    @Test(arguments: cases)
    func refusedAtTheMapping(_ c: Case) {
        let r = runScenarioText(c.text)
        guard case let .invalid(ds)? = r.first?.outcome else {
            Issue.record("expected an invalid scenario, got \(String(describing: r.first?.outcome))")
            return
        }
        #expect(ds.contains { $0.message.contains("reserved bits") && $0.location?.line == c.line }, "\(ds)")
    }

    /// A not-present PDPTE's other bits are ignored (PG-2): the same mapping with `present: false` builds.
    @Test func notPresentPDPTEWithReservedBitBuilds() {
        let r = runScenarioText("""
            scenario: r
            machine: {mode: ia32, paging: pae}
            kernel: none
            processes:
              - name: main
                pages:
                  - {virt: 0x40000000, phys: 0x700000, user: true, pdpte: {reserved: true, present: false}}
            steps:
              - access: {op: read, addr: 0x40000000}
                expect: {fault: {vector: PF, error_code: 0x4}}
            """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("got \(String(describing: r.first?.outcome))")
            return
        }
    }
}
