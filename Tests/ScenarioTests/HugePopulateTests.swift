// HugePopulateTests: mmap(MAP_POPULATE) of a huge range ends at once with -ENOMEM. Populating
// counted the run of pages to map one page at a time: 0x700000000000 bytes (2^35 pages) kept one
// step busy for more than 200 s (killed), where no time limit can stop it (the limit is checked
// between steps). The run is now found from the kept mappings, and mapping it stops when the
// frames run out.

import Foundation
@testable import Scenario
import Testing

@Suite struct HugePopulateTests {
    /// MAP_PRIVATE|MAP_ANONYMOUS|MAP_POPULATE (0x8022), and MAP_SHARED|MAP_ANONYMOUS (0x21), which
    /// the model populates at once as well.
    @Test(arguments: ["0x8022", "0x21"])
    func aHugePopulatedMappingFailsAtOnce(_ flags: String) throws {
        let d = try TempDir()
        try d.write("m.yaml", """
            scenario: m
            machine: {mode: x86_64}
            processes:
              - {name: p, state: running}
            steps:
              - syscall: {via: syscall, nr: mmap, args: [0, 0x700000000000, 3, \(flags), -1, 0]}
                expect: {returns: -ENOMEM}

            """)
        let r = try runRingspec(["run", d.path], deadline: 90)
        #expect(!r.timedOut, "one step ran past the deadline: the populate loop")
        #expect(r.status == 0, "\(r.output.prefix(2000))")
    }
}
