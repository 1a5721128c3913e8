// UntrustedInputTests: the promises of docs/security.md not already shown by HostileInputTests,
// each through the built binary (exit status 2, no signal, bounded time, a located error):
// special files in a submission, files that hold no scenario or are not UTF-8, nesting ten times
// deeper than HostileInputTests tries, and confinement that does not depend on whether a file
// outside the root exists (a submission must not be able to probe the grading machine's files).

import Foundation
@testable import Scenario
import Testing

@Suite(.serialized) struct UntrustedInputTests {
    // MARK: Special files

    /// A FIFO is never opened for reading (that would block until a writer came): in a folder, named
    /// on the command line, or as an `extends` target.
    @Test func aFIFOIsRefusedWithoutHanging() throws {
        let d = try TempDir()
        try d.write("ok.yaml", minimalScenario("ok") + "expect: {faults: 0}\n")
        #expect(mkfifo(d.path + "/pipe.yaml", 0o600) == 0)
        #expect(mkfifo(d.path + "/_base.yaml", 0o600) == 0)
        try d.write("ext.yaml", "scenario: ext\nextends: _base.yaml\n" + "processes:\n  - {name: a, state: running}\n")
        let r = try runRingspec(["run", d.path], deadline: 30)
        expectRefused(r, "is not a regular file", file: "pipe.yaml:1:1")
        expectRefused(r, "extends: '_base.yaml' is not a regular file", file: "ext.yaml:2:10")
        expectRefused(try runRingspec(["run", d.path + "/pipe.yaml"], deadline: 30), "is not a regular file")
        expectRefused(try runRingspec(["check", d.path + "/pipe.yaml"], deadline: 30), "is not a regular file")
    }

    /// A device node (root can make one, and an archive unpacked as root can hold one) is refused
    /// before it is opened.
    @Test(.enabled(if: getuid() == 0)) func aDeviceFileIsRefused() throws {
        let d = try TempDir()
        #expect(mknod(d.path + "/zero.yaml", S_IFCHR | 0o600, dev_t((1 << 8) | 5)) == 0)
        expectRefused(try runRingspec(["run", d.path], deadline: 30), "is not a regular file", file: "zero.yaml:1:1")
    }

    // MARK: Files that hold no scenario

    @Test(arguments: [("empty", ""), ("only a document marker", "---\n"), ("three document markers", "---\n---\n---\n"),
                      ("only a comment", "# nothing here\n"), ("only an end marker", "...\n"), ("null", "~\n")])
    func aFileWithoutAScenarioIsAnError(_ name: String, _ text: String) throws {
        let d = try TempDir()
        try d.write("f.yaml", text)
        let r = try runRingspec(["run", d.path])
        #expect(r.status == 2, "\(name): \(r.output)")
        expectRefused(r, "error:", file: "f.yaml:1:1")
    }

    /// Bytes that are not UTF-8 are an error at the first bad byte, in words a student can act on
    /// (libyaml named the byte after it: "invalid trailing UTF-8 octet (#x20)" for the space after
    /// Latin-1's 0xE9), located as libyaml locates characters.
    struct BadUTF8: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var byte: String
        var at: String
        var testDescription: String { name }
        init(_ name: String, _ before: String, _ bad: [UInt8], _ after: String = "\n", byte: String, at: String, bom: Bool = false) {
            self.name = name
            let head: [UInt8] = bom ? [0xEF, 0xBB, 0xBF] : []
            bytes = head + Array(before.utf8) + bad + Array(after.utf8)
            self.byte = byte
            self.at = at
        }
    }

    static let badUTF8: [BadUTF8] = [
        BadUTF8("latin-1", "scenario: ok\ndescription: caf", [0xE9], " au lait\n", byte: "0xE9", at: "2:17"),
        BadUTF8("after multi-byte characters and LS", "scenario: ok\ndescription: \u{e9}\u{2028}x \u{1F600}", [0xFF], byte: "0xFF", at: "3:4"),
        BadUTF8("after CR LF, CR and a BOM", "scenario: ok\r\n\rab", [0xC0, 0x80], byte: "0xC0", at: "3:3", bom: true),
        BadUTF8("a surrogate", "scenario: ", [0xED, 0xA0, 0x80], byte: "0xED", at: "1:11"),
        BadUTF8("cut short at the end", "scenario: ok", [0xE2, 0x82], "", byte: "0xE2", at: "1:13"),
        BadUTF8("above U+10FFFF", "scenario: ", [0xF4, 0x90, 0x80, 0x80], byte: "0xF4", at: "1:11"),
    ]

    @Test(arguments: badUTF8)
    func aFileThatIsNotUTF8IsLocatedAtItsFirstBadByte(_ c: BadUTF8) throws {
        let d = try TempDir()
        try Data(c.bytes).write(to: URL(fileURLWithPath: d.path + "/f.yaml"))
        expectRefused(try runRingspec(["run", d.path]), "the file is not UTF-8: byte \(c.byte) here", file: "f.yaml:\(c.at):")
    }

    /// A UTF-16 file with its byte order mark is read (YAML 1.2 allows it; libyaml decodes it).
    @Test func aUTF16FileWithABOMIsRead() throws {
        let d = try TempDir()
        let text = minimalScenario("u16") + "expect: {faults: 1}\n"
        try #require(text.data(using: .utf16)).write(to: URL(fileURLWithPath: d.path + "/u.yaml"))
        let r = try runRingspec(["run", d.path])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains("FAIL  u16"), "\(r.output)")
    }

    // MARK: Nesting

    /// 100,000 nested flow sequences and mappings (the parser keeps its own stack; the tree
    /// builder stops at --max-depth): a located error, no stack overflow.
    @Test func nestingOfAHundredThousandIsRefused() throws {
        let d = try TempDir()
        try d.write("seq.yaml", "scenario: s\nsteps: " + String(repeating: "[", count: 100_000) + "\n")
        try d.write("map.yaml", "scenario: m\nsteps: " + String(repeating: "{a: ", count: 100_000) + "\n")
        try d.write("mixed.yaml", "scenario: x\nsteps: " + String(repeating: "[{a: ", count: 50_000) + "\n")
        let r = try runRingspec(["run", d.path])
        for f in ["seq.yaml:2:", "map.yaml:2:", "mixed.yaml:2:"] {
            expectRefused(r, "nesting deeper than 64 levels", file: f)
        }
    }

    // MARK: Folder depth

    /// A folder more than 64 levels down was silently not walked: a failing scenario there left a
    /// run that passed (exit 0). It is now refused in its place, and the run exits 2.
    @Test func aFolderPastTheDepthLimitIsRefusedNotSkipped() throws {
        let d = try TempDir()
        let deep = Array(repeating: "d", count: 70).joined(separator: "/")
        try d.write(deep + "/x.yaml", minimalScenario("deep") + "expect: {faults: 1}\n")
        try d.write("top.yaml", minimalScenario("top") + "expect: {faults: 0}\n")
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "a folder nested more than 64 levels deep; not walked", file: "/d:1:1")
        #expect(!r.output.contains("1 passed, 0 failed"), "\(r.output)")
        // 64 levels are walked.
        let d2 = try TempDir()
        try d2.write(Array(repeating: "d", count: 63).joined(separator: "/") + "/x.yaml", minimalScenario("ok") + "expect: {faults: 0}\n")
        let ok = try runRingspec(["run", d2.path])
        #expect(ok.status == 0 && ok.output.contains("1 passed, 0 failed"), "\(ok.output)")
    }

    // MARK: Work that grows faster than the input

    /// "did you mean" compared a 100,000-character `as:` with 500 task names of 1,500 characters
    /// by the full (quadratic) edit distance before any time limit ran: more than two minutes for
    /// an 850 KB file. The distance is now banded (HintTests), and the file is refused at once.
    @Test func aLongMisspeltNameIsRefusedQuickly() throws {
        let d = try TempDir()
        var text = "scenario: lt\nmachine: {mode: ia32}\nprocesses:\n"
        for i in 0..<500 {
            text += "  - {name: t\(String(repeating: "y", count: 1500))\(i), state: \(i == 0 ? "running" : "ready")}\n"
        }
        text += "steps:\n  - {exec: nop, as: \(String(repeating: "z", count: 100_000))}\n"
        try d.write("lt.yaml", text)
        expectRefused(try runRingspec(["run", d.path], deadline: 60), "no task is named", file: "lt.yaml:505:")
    }

    /// The time limit was checked only after a step: a scenario with no step passed however long
    /// its machine took to build (262,144 2 MiB pages took 20 s, LargePageZeroingTests). The build
    /// is now checked on its own.
    @Test func aScenarioWithoutStepsIsBoundByTheTimeLimit() throws {
        let d = try TempDir()
        try d.write("big.yaml", "scenario: big\nmachine:\n  mode: x86_64\n  pages: [{virt: 0x100000000, count: 262144, size: 2m}]\n"
            + "processes:\n  - {name: a, state: running}\nexpect: {faults: 0}\n")
        expectRefused(try runRingspec(["run", "--time-limit", "0.01", d.path]),
                      "building the machine took longer than the time limit of 0.01 s (--time-limit)", file: "big.yaml:1:1")
    }

    // MARK: Confinement that cannot be used as a probe

    /// `extends` to a path outside the root said "lies outside the suite root" when a file was
    /// there and "no file" when none was: a submission could learn which files the grading machine
    /// has. Both are now the same refusal, and so is a dangling link inside the root that points out.
    @Test func extendsOutsideTheRootSaysTheSameWhetherOrNotTheFileExists() throws {
        let d = try TempDir()
        try d.write("outside/there.yaml", "machine: {mode: ia32}\n")
        let root = try d.mkdir("root")
        try d.symlink("root/dangling.yaml", to: d.path + "/outside/nothing.yaml")
        for (i, target) in ["../outside/there.yaml", "../outside/nothing.yaml", "../nowhere/nothing.yaml", "dangling.yaml",
                            "no/such/../../../outside/there.yaml", "../../../../../../../../etc/passwd",
                            "../../../../../../../../etc/no-such-file"].enumerated() {
            try d.write("root/s\(i).yaml", "scenario: s\(i)\nextends: \(target)\n" + "processes:\n  - {name: a, state: running}\n")
        }
        let r = try runRingspec(["run", root])
        for i in 0..<7 { expectRefused(r, "lies outside the suite root", file: "s\(i).yaml:2:10") }
        #expect(!r.output.contains("no file"), "\(r.output)")
    }

    /// A file named on the command line has its own folder as suite root, so its `extends` of a
    /// fragment one folder up is refused: the refusal now says how to run it (was: only "lies
    /// outside the suite root", leaving an instructor to guess that `--root` exists).
    @Test func extendsAboveANamedFileSaysHowToWidenTheRoot() throws {
        let d = try TempDir()
        try d.write("suite/_base.yaml", "machine: {mode: ia32}\nkernel: none\n")
        try d.write("suite/lab/s.yaml", "scenario: s\nextends: ../_base.yaml\nsteps:\n  - exec: nop\n    expect: {fault: none}\n")
        let r = try runRingspec(["run", d.path + "/suite/lab/s.yaml"])
        expectRefused(r, "lies outside the suite root", file: "s.yaml:2:10")
        #expect(r.output.contains("pass `--root`"), "\(r.output)")
        let ok = try runRingspec(["run", "--root", d.path + "/suite", d.path + "/suite/lab/s.yaml"])
        #expect(ok.status == 0, "\(ok.output)")
    }

    /// In a folder walk, a link out of the folder is refused in the same words whether its target
    /// exists or not, and whatever its name (before, a dangling one was "No such file" and one to
    /// an existing folder or file "leads outside"; a dangling folder link was skipped).
    @Test func folderLinksOutSayTheSameWhetherOrNotTheTargetExists() throws {
        let d = try TempDir()
        let sub = try d.mkdir("sub")
        try d.write("sub/ok.yaml", minimalScenario("ok") + "expect: {faults: 0}\n")
        try d.symlink("sub/passwd.yaml", to: "/etc/passwd")
        try d.symlink("sub/nothing.yaml", to: "/no/such/file.yaml")
        try d.symlink("sub/etc", to: "/etc")
        try d.symlink("sub/nodir", to: "/no/such/folder")
        try d.symlink("sub/notes.txt", to: "/etc/hostname")
        try d.symlink("sub/gone.txt", to: "/no/such/notes.txt")
        let r = try runRingspec(["run", sub])
        for name in ["passwd.yaml", "nothing.yaml", "etc", "nodir", "notes.txt", "gone.txt"] {
            expectRefused(r, "a symbolic link that leads outside", file: "/\(name):1:1")
        }
        #expect(!r.output.contains("No such file"), "\(r.output)")
    }

    /// An `extends` target that is not a regular file was named by its canonical path, which put
    /// the grader's folders in the report; it is named as the scenario wrote it.
    @Test func extendsErrorsNameThePathAsWritten() throws {
        let d = try TempDir()
        _ = try d.mkdir("root/dir.yaml")
        try d.write("root/s.yaml", "scenario: s\nextends: dir.yaml\nprocesses:\n  - {name: a, state: running}\n")
        let r = try runRingspec(["run", d.path + "/root"])
        expectRefused(r, "extends: 'dir.yaml' is not a regular file", file: "s.yaml:2:10")
        let canonical = FileAccess.canonical(d.path) ?? d.path
        #expect(!r.output.contains(canonical + "/root/dir.yaml"), "\(r.output)")
    }

    /// A path longer than the system's limit is refused in words, not by a failed system call.
    @Test func aVeryLongExtendsPathIsRefused() throws {
        let d = try TempDir()
        let long = String(repeating: "a/", count: 3000) + "x.yaml"
        try d.write("s.yaml", "scenario: s\nextends: \(long)\nprocesses:\n  - {name: a, state: running}\n")
        expectRefused(try runRingspec(["run", d.path]), "extends: the path is longer than 4096 bytes", file: "s.yaml:2:10")
    }

    // MARK: FileAccess.resolved

    struct ResolveCase: Sendable, CustomTestStringConvertible {
        var path: String
        /// The expected result, relative to the temp folder's canonical path ("" for the folder itself).
        var expected: String?
        var testDescription: String { path }
    }

    /// Where a path leads, whether or not it exists.
    @Test(arguments: [
        ResolveCase(path: "a/file", expected: "a/file"),
        ResolveCase(path: "a/missing", expected: "a/missing"),
        ResolveCase(path: "a/missing/../file", expected: "a/file"),
        ResolveCase(path: "a/./missing/./x", expected: "a/missing/x"),
        ResolveCase(path: "a/../../out", expected: "../out"),
        ResolveCase(path: "link-to-b/x", expected: "b/x"),
        ResolveCase(path: "dangling-in/y", expected: "b/nothing/y"),
        ResolveCase(path: "dangling-rel", expected: "b/nothing"),
        ResolveCase(path: "loop", expected: nil),
    ])
    func resolvedFollowsWhatExists(_ c: ResolveCase) throws {
        let d = try TempDir()
        try d.write("a/file", "")
        _ = try d.mkdir("b")
        try d.symlink("link-to-b", to: d.path + "/b")
        try d.symlink("dangling-in", to: d.path + "/b/nothing")
        try d.symlink("dangling-rel", to: "b/nothing")
        try d.symlink("loop", to: "loop")
        let base = try #require(FileAccess.canonical(d.path))
        let got = FileAccess.resolved(d.path + "/" + c.path)
        guard let expected = c.expected else { #expect(got == nil); return }
        let parts = (base + "/" + expected).split(separator: "/")
        var want: [Substring] = []
        for p in parts { if p == ".." { _ = want.popLast() } else { want.append(p) } }
        #expect(got == "/" + want.joined(separator: "/"))
    }
}
