// Bad page mappings (issue 4): every one is reported as an invalid scenario with a message that
// names the problem, never a crash and never a silently different mapping.

import Machine
@testable import Scenario
import Testing

/// Decodes and runs the first scenario of `yaml`; the run's outcome, or the decoder's diagnostics
/// as an invalid outcome.
func runText(_ yaml: String) -> ScenarioOutcome {
    for l in decodeText(yaml) {
        switch l {
        case let .spec(s, _): return Runner.run(s, file: "t.yaml").result.outcome
        case let .invalid(r): return r.outcome
        }
    }
    return .invalid([])
}

@Suite struct PageMappingErrorTests {
    struct BadMapping: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var message: String
        var testDescription: String { name }
    }

    static let cases: [BadMapping] = [
        BadMapping(name: "virt not aligned to a 2m page",
                   yaml: "scenario: a\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x601000, phys: 0x800000, size: 2m}\n",
                   message: "virt 0x601000 is not aligned to its 2m page size"),
        BadMapping(name: "virt not aligned to a 4m page",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  pages:\n    - {virt: 0x40200000, phys: 0x800000, size: 4m}\n",
                   message: "virt 0x40200000 is not aligned to its 4m page size"),
        BadMapping(name: "virt not aligned to a 1g page",
                   yaml: "scenario: a\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x8000200000, phys: 0x40000000, size: 1g}\n",
                   message: "virt 0x8000200000 is not aligned to its 1g page size"),
        BadMapping(name: "phys not aligned to a 2m page",
                   yaml: "scenario: a\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x40000000, phys: 0x801000, size: 2m}\n",
                   message: "phys 0x801000 is not aligned to its 2m page size"),
        BadMapping(name: "4m page without CR4.PSE",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  cr4: {pse: false}\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, size: 4m}\n",
                   message: "4m pages need CR4.PSE=1 in 32-bit paging"),
        BadMapping(name: "4m page in 4-level paging",
                   yaml: "scenario: a\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, size: 4m}\n",
                   message: "4m pages do not exist in 4level paging"),
        BadMapping(name: "4m page in PAE paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: pae\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, size: 4m}\n",
                   message: "4m pages do not exist in pae paging"),
        BadMapping(name: "1g page in PAE paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: pae\n  pages:\n    - {virt: 0x40000000, phys: 0x40000000, size: 1g}\n",
                   message: "1g pages do not exist in pae paging"),
        BadMapping(name: "2m page in 32-bit paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, size: 2m}\n",
                   message: "2m pages do not exist in 32bit paging"),
        BadMapping(name: "nx on a leaf in 32-bit paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: 32bit\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, nx: true}\n",
                   message: "32-bit paging has no XD bit"),
        BadMapping(name: "nx on a PDE in 32-bit paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, pde: {nx: true}}\n",
                   message: "32-bit paging has no XD bit"),
        BadMapping(name: "conflicting PDE overrides",
                   yaml: "scenario: a\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x600000, phys: 0x800000, pde: {user: false}}\n    - {virt: 0x601000, phys: 0x801000, pde: {user: true}}\n",
                   message: "two mappings set the PDE for 0x600000 differently"),
        BadMapping(name: "conflicting PML4E overrides in a process",
                   yaml: "scenario: a\nmachine: {mode: x86_64}\nprocesses:\n  - name: p\n    pages:\n      - {virt: 0x8000000000, phys: 0x800000, pml4e: {writable: false}}\n      - {virt: 0x8040000000, phys: 0x900000, pml4e: {writable: true}}\n",
                   message: "two mappings set the PML4E for 0x8000000000 differently"),
        BadMapping(name: "conflicting PDPTE overrides in PAE",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: pae\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, pdpte: {present: false}}\n    - {virt: 0x40200000, phys: 0x900000, pdpte: {present: true}}\n",
                   message: "two mappings set the PDPTE for 0x40000000 differently"),
        BadMapping(name: "reserved bit in a 4k PTE of 32-bit paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: 32bit\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, reserved: true}\n",
                   message: "a 4k PTE of 32-bit paging has no reserved bit to set"),
        BadMapping(name: "reserved bit in a non-leaf PDE of 32-bit paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: 32bit\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, pde: {reserved: true}}\n",
                   message: "a non-leaf PDE of 32-bit paging has no reserved bit to set"),
        BadMapping(name: "pkey outside 4-level paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: pae\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, pkey: 3}\n",
                   message: "protection keys exist only in 4-level paging"),
        // Upper levels accept the leaf's flags (scenario-format.md); where the entry has no such bit the
        // builder still refuses them.
        BadMapping(name: "G in a PAE PDPTE",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: pae\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, pdpte: {global: true}}\n",
                   message: "a PAE PDPTE has no R/W, U/S, XD, G, A, D or key"),
        BadMapping(name: "pkey on a PDE outside 4-level paging",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: pae\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, pde: {pkey: 2}}\n",
                   message: "protection keys exist only in 4-level paging"),
        BadMapping(name: "R/W in a PAE PDPTE",
                   yaml: "scenario: a\nmachine:\n  mode: ia32\n  paging: pae\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, pdpte: {writable: false}}\n",
                   message: "a PAE PDPTE has no R/W"),
        BadMapping(name: "pde flags on a 2m page",
                   yaml: "scenario: a\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x40000000, phys: 0x800000, size: 2m, pde: {user: true}}\n",
                   message: "the PDE is the leaf of a 2m page"),
        BadMapping(name: "non-canonical virt",
                   yaml: "scenario: a\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x0000800000000000, phys: 0x800000}\n",
                   message: "is not canonical"),
    ]

    @Test(arguments: cases)
    func badMappingIsInvalid(_ c: BadMapping) {
        let outcome = runText(c.yaml)
        guard case let .invalid(ds) = outcome else {
            Issue.record("expected an invalid scenario, got \(outcome)")
            return
        }
        #expect(ds.contains { $0.message.contains(c.message) && $0.location?.file == "t.yaml" },
                "\(ds.map(\.description))")
    }

    /// The same conflict is accepted when only one mapping states the override, and the
    /// override then applies to the other mapping below the shared PDE too (PG-5).
    @Test func oneOverrideIsNotAConflict() {
        let yaml = """
        scenario: a
        machine:
          mode: x86_64
          pages:
            - {virt: 0x600000, phys: 0x800000, user: true, pde: {user: false}}
            - {virt: 0x601000, phys: 0x801000, user: true}
        steps:
          - access: {op: read, addr: 0x601000}
            expect:
              fault: {vector: PF, error_code: 0x5, cr2: 0x601000}
        """
        #expect(runText(yaml) == .passed)
    }
}
