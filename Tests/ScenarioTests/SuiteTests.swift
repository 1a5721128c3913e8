// Suite tests: discovery (recursive, *.yaml/*.yml, `_` fragments skipped), ids unique across a suite,
// extends confined to the root.

import Foundation
@testable import Scenario
import Testing

func makeSuite(_ files: [String: String]) throws -> String {
    let dir = NSTemporaryDirectory() + "ringspec-suite-\(UUID().uuidString)"
    for (path, text) in files {
        let full = dir + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
    return dir
}

@Suite struct SuiteTests {
    @Test func discoveryIsRecursiveSortedAndSkipsFragments() throws {
        let dir = try makeSuite([
            "b.yaml": "scenario: b\n", "a/c.yml": "scenario: c\n", "a/_base.yaml": "machine: {mode: ia32}\n",
            "notes.txt": "x", "a/.hidden.yaml": "scenario: h\n",
        ])
        let files = try Suite.discover([dir])
        #expect(files.map { String($0.dropFirst(dir.count + 1)) } == ["a/c.yml", "b.yaml"])
    }

    @Test func aFragmentNamedOnTheCommandLineIsRefusedAsAFragment() throws {
        let dir = try makeSuite(["_base.yaml": "machine: {mode: ia32}\n", "a.yaml": "scenario: a\n"])
        let found = try Suite.discoverAll([dir + "/_base.yaml", dir + "/a.yaml"])
        #expect(Array(found.files) == [dir + "/a.yaml"])
        guard case let .invalid(ds)? = found.refused.first?.outcome else { Issue.record("not refused"); return }
        #expect(ds.first?.message.contains("_base.yaml is a fragment") == true)
    }

    @Test func missingPathIsAnError() {
        #expect(throws: SuiteError.self) { try Suite.discover(["/nonexistent/ringspec"]) }
    }

    @Test func idsAreUniqueAcrossTheSuite() throws {
        let dir = try makeSuite([
            "one.yaml": "scenario: same\nkernel: none\nsteps: [{exec: nop, expect: {cpl: 3}}]\n",
            "two.yaml": "scenario: same\nkernel: none\nsteps: [{exec: nop, expect: {cpl: 3}}]\n",
        ])
        let report = Suite.run(files: try Suite.discover([dir]), options: SuiteOptions(root: dir))
        #expect(report.results.count == 2)
        #expect(report.results[0].outcome == .passed)
        guard case let .invalid(ds) = report.results[1].outcome else { Issue.record("second not invalid"); return }
        #expect(ds[0].message.contains("already used by"))
        #expect(report.hasInvalid)
    }

    @Test func extendsMergesMapsAndStaysInsideTheRoot() throws {
        let dir = try makeSuite([
            "_base.yaml": "machine: {mode: ia32, cr4: {smep: true}}\nkernel: none\n",
            "s/child.yaml": "scenario: child\nextends: ../_base.yaml\nmachine: {cr4: {smap: true}}\nsteps: [{exec: nop, expect: {cpl: 3}}]\n",
            "s/escape.yaml": "scenario: escape\nextends: ../../../../etc/passwd\nsteps: [{exec: nop}]\n",
            "s/absolute.yaml": "scenario: abs\nextends: /etc/passwd\nsteps: [{exec: nop}]\n",
            "s/cycle.yaml": "scenario: cyc\nextends: _loop.yaml\n",
            "s/_loop.yaml": "extends: _loop2.yaml\n",
            "s/_loop2.yaml": "extends: _loop.yaml\n",
        ])
        let options = SuiteOptions(root: dir)
        let child = ScenarioDecoder.load(file: dir + "/s/child.yaml", display: "child.yaml", options: options.load)
        guard case let .spec(spec, _) = child.first else { Issue.record("child invalid: \(child)"); return }
        #expect(spec.machine.mode == .ia32)
        #expect(spec.kernel.enabled == false)
        #expect(spec.machine.cr4.set & (1 << 20) != 0)  // SMEP from the base
        #expect(spec.machine.cr4.set & (1 << 21) != 0)  // SMAP from the child
        for (file, message) in [("escape", "outside the suite root"), ("absolute", "not an absolute path"), ("cycle", "forms a cycle")] {
            let r = ScenarioDecoder.load(file: dir + "/s/\(file).yaml", display: "\(file).yaml", options: options.load)
            guard case let .invalid(res) = r.first, case let .invalid(ds) = res.outcome else { Issue.record("\(file) accepted"); continue }
            #expect(ds.contains { $0.message.contains(message) }, "\(ds)")
            #expect(ds.allSatisfy { $0.location?.line == 2 }, "\(ds)")
        }
    }

    @Test func checkBuildsTheMachineAndLocatesMappingErrors() throws {
        let dir = try makeSuite(["m.yaml": "scenario: m\nmachine:\n  mode: ia32\n  pages:\n    - {virt: 0x1000, size: 4m}\nexpect: {faults: 0}\n"])
        var options = SuiteOptions(root: dir)
        options.checkOnly = true
        let results = Suite.runFile(dir + "/m.yaml", options: options)
        guard case let .invalid(ds) = results.first?.outcome else { Issue.record("not invalid: \(results)"); return }
        #expect(ds.first?.message.contains("not aligned") == true)
        #expect(ds.first?.location?.line == 5)
        #expect(ds.first?.location?.column == 7)
    }
}
