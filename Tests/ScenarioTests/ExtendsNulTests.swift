// ExtendsNulTests: an `extends` path holding a NUL is refused. The C calls that resolve and open
// it stop at the NUL, so `"_base.yaml\0anything"` was read as `_base.yaml`: the scenario ran on a
// file other than the one its text names (a reviewer reading the path sees another name).

import Foundation
@testable import Scenario
import Testing

@Suite struct ExtendsNulTests {
    @Test func anExtendsPathWithANulIsRefused() throws {
        let d = try TempDir()
        try d.write("_base.yaml", "machine: {mode: ia32}\n")
        try d.write("s.yaml", "scenario: s\nextends: \"_base.yaml\\0../../elsewhere.yaml\"\nsteps:\n  - exec: nop\n    expect: {fault: none}\n")
        expectRefused(try runRingspec(["run", d.path]), "extends: a path cannot hold a NUL character (\\0)", file: "s.yaml:2:10")
        // The same path without the NUL runs.
        try d.write("s.yaml", "scenario: s\nextends: \"_base.yaml\"\nsteps:\n  - exec: nop\n    expect: {fault: none}\n")
        #expect(try runRingspec(["run", d.path]).status == 0)
    }
}
