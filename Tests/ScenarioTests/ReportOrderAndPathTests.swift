// ReportOrderAndPathTests: refused entries are reported in their place in sorted file order (every
// format, any --jobs); a file name that is not UTF-8 is refused with its bytes escaped; a --root
// that does not exist or is a file is a usage error.

import Foundation
@testable import Scenario
import Testing

@Suite(.serialized) struct ReportOrderAndPathTests {
    static let passing = "machine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n"

    /// a.yaml, b-link.yaml (a link out of the folder), c.yaml, d-link.yaml, e.yaml.
    func folderWithRefusedEntries() throws -> String {
        let dir = try CLI.temporaryDirectory()
        for name in ["a", "c", "e"] { try CLI.write("scenario: \(name)-passes\n" + Self.passing, to: "\(dir)/\(name).yaml") }
        try FileManager.default.createSymbolicLink(atPath: dir + "/b-link.yaml", withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: dir + "/d-link.yaml", withDestinationPath: "/etc/hostname")
        return dir
    }

    static let sortedOrder = ["a-passes", "b-link.yaml", "c-passes", "d-link.yaml", "e-passes"]

    @Test(arguments: ["1", "3"])
    func refusedEntriesComeInSortedFileOrderInJSON(_ jobs: String) throws {
        let dir = try folderWithRefusedEntries()
        let r = try CLI.run(["run", dir, "--format", "json", "--jobs", jobs])
        #expect(r.status == 2)
        let ids = (try CLI.json(r.stdout)["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids == Self.sortedOrder)
    }

    @Test(arguments: ["human", "junit", "tap", "gradescope"], ["1", "3"])
    func refusedEntriesComeInSortedFileOrderInEveryFormat(_ format: String, _ jobs: String) throws {
        let dir = try folderWithRefusedEntries()
        let r = try CLI.run(["run", dir, "--format", format, "--jobs", jobs])
        #expect(r.status == 2)
        let names = ["a-passes", "b-link.yaml", "c-passes", "d-link.yaml", "e-passes"]
        let places = names.map { r.stdout.range(of: $0)?.lowerBound }
        #expect(!places.contains(nil), "\(r.stdout)")
        let found = places.compactMap { $0 }
        #expect(found == found.sorted(), "\(format) --jobs \(jobs):\n\(r.stdout)")
        let same = try CLI.run(["run", dir, "--format", format, "--jobs", jobs == "1" ? "3" : "1"])
        #expect(same.stdout == r.stdout)
    }

    @Test(arguments: ["1", "3"])
    func failFastEndsAtTheFirstFailureInFileOrderRefusedOrNot(_ jobs: String) throws {
        let dir = try folderWithRefusedEntries()
        try CLI.write("scenario: a-fails\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 0}\n", to: dir + "/a.yaml")
        let failsFirst = try CLI.run(["run", dir, "--format", "json", "--fail-fast", "--jobs", jobs])
        let ids = (try CLI.json(failsFirst.stdout)["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids == ["a-fails"])
        #expect(failsFirst.status == 1)
        try CLI.write("scenario: a-passes\n" + Self.passing, to: dir + "/a.yaml")
        let refusedFirst = try CLI.run(["run", dir, "--format", "json", "--fail-fast", "--jobs", jobs])
        let ids2 = (try CLI.json(refusedFirst.stdout)["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids2 == ["a-passes", "b-link.yaml"])
        #expect(refusedFirst.status == 2)
    }

    @Test func aFragmentNamedOnTheCommandLineIsReportedInItsPlace() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("scenario: a-passes\n" + Self.passing, to: dir + "/a.yaml")
        try CLI.write("machine: {mode: x86_64}\n", to: dir + "/_frag.yaml")
        try CLI.write("scenario: c-passes\n" + Self.passing, to: dir + "/c.yaml")
        let r = try CLI.run(["run", dir + "/a.yaml", dir + "/_frag.yaml", dir + "/c.yaml", "--format", "json", "--jobs", "1"])
        let ids = (try CLI.json(r.stdout)["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids == ["a-passes", "_frag.yaml", "c-passes"])
    }

    @Test func refusedEntriesKeepTheirPlaceInTheDiscovery() throws {
        let dir = try folderWithRefusedEntries()
        let found = try Suite.discoverAll([dir])
        #expect(found.reportOrder.map { ($0 as NSString).lastPathComponent } == ["a.yaml", "b-link.yaml", "c.yaml", "d-link.yaml", "e.yaml"])
        var delivered: [String] = []
        Suite.run(files: found.files, options: SuiteOptions(root: dir), refused: found.refused, refusedPositions: found.refusedPositions) {
            delivered.append($0.id)
        }
        #expect(delivered == Self.sortedOrder)
    }

    @Test func gradeNamesUnreadableFilesInSortedFileOrder() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("a: [unclosed\n", to: dir + "/a.yaml")
        try FileManager.default.createSymbolicLink(atPath: dir + "/b-link.yaml", withDestinationPath: "/etc/passwd")
        try CLI.write("c: [unclosed\n", to: dir + "/c.yaml")
        let docs = Grader.loadDocuments(under: dir)
        #expect(docs.problems.map { ($0.split(separator: ":").first.map(String.init) ?? "") } == ["\(dir)/a.yaml", "\(dir)/b-link.yaml", "\(dir)/c.yaml"],
                "\(docs.problems)")
    }

    // MARK: File names that are not UTF-8

    @Test(arguments: ["1", "3"])
    func aFileNameThatIsNotUTF8IsRefusedWithItsBytesEscaped(_ jobs: String) throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("scenario: a-passes\n" + Self.passing, to: dir + "/a.yaml")
        try CLI.write("scenario: z-passes\n" + Self.passing, to: dir + "/z.yaml")
        // b\xff.yaml: sorts by its repaired name (b\u{FFFD}.yaml), between a.yaml and z.yaml.
        var path = Array((dir + "/b").utf8) + [0xFF] + Array(".yaml".utf8)
        path.append(0)
        let fd = path.withUnsafeBufferPointer { $0.baseAddress.map { open(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) } ?? -1 }
        #expect(fd >= 0)
        let text = Array(("scenario: secret-scenario\n" + Self.passing).utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)

        let r = try CLI.run(["run", dir, "--jobs", jobs])
        #expect(r.status == 2)
        #expect(r.stdout.contains("INVALID  b\\xff.yaml (\(dir)/b\\xff.yaml:1)"), "\(r.stdout)")
        #expect(r.stdout.contains("a file whose name is not valid UTF-8 (shown with its bytes escaped as \\xNN)"))
        #expect(!r.stdout.contains("No such file or directory"))
        #expect(!r.stdout.contains("\u{FFFD}"))
        let places = ["a-passes", "b\\xff.yaml", "z-passes"].map { r.stdout.range(of: $0)?.lowerBound }
        #expect(!places.contains(nil) && places.compactMap { $0 } == places.compactMap { $0 }.sorted(), "\(r.stdout)")
        let json = try CLI.run(["run", dir, "--format", "json", "--jobs", jobs])
        let ids = (try CLI.json(json.stdout)["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids == ["a-passes", "b\\xff.yaml", "z-passes"])
    }

    @Test(arguments: [
        ([0x61, 0xFF, 0x2E, 0x79], "a\\xff.y"),
        ([0xC3, 0xA9, 0xC3], "\u{E9}\\xc3"),
        ([0x5C, 0x80], "\\\\\\x80"),
        ([0x01, 0xFE], "\u{01}\\xfe"),
    ] as [([UInt8], String)])
    func escapedNamesShowEachBadByte(_ bytes: [UInt8], _ shown: String) {
        #expect(FileAccess.escapedName(bytes) == shown)
    }

    @Test func aPathThatIsNotUTF8OnTheCommandLineSaysSo() throws {
        let r = try CLI.run(["run", "scenarios/\u{FFFD}.yaml"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("not valid UTF-8"), "\(r.stderr)")
    }

    // MARK: --root

    @Test(arguments: ["run", "check", "explain"])
    func aRootThatDoesNotExistIsAUsageError(_ command: String) throws {
        let r = try CLI.run([command, "scenarios/hello/hello-int80-ia32.yaml", "--root", "/nonexistent-ringspec-root"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--root '/nonexistent-ringspec-root' cannot be used: No such file or directory (it must name an existing folder)"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test(arguments: ["run", "check", "explain"])
    func aRootThatIsAFileIsAUsageError(_ command: String) throws {
        let r = try CLI.run([command, "scenarios/hello/hello-int80-ia32.yaml", "--root", "README.md"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--root 'README.md' is not a folder"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func aRootThatIsAFolderStillWorks() throws {
        let r = try CLI.run(["run", "scenarios/hello", "--root", "scenarios"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }
}
