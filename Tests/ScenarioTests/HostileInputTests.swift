// Hostile inputs through the built binary (issue 8): every one must end with exit status 2, a
// located `FILE:LINE:COLUMN: error:` message naming the limit, within a bounded time, and never
// by a signal. Inputs are generated into a fresh temp folder.

import Foundation
import Testing

@Suite(.serialized) struct HostileInputTests {
    // MARK: YAML limits

    @Test func aliasBombIsRefused() throws {
        let d = try TempDir()
        var text = "scenario: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...9 { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        try d.write("bomb.yaml", text)
        expectRefused(try runRingspec(["run", d.path]), "alias expansion exceeds 100000 nodes", file: "bomb.yaml:")
    }

    @Test func nestingDepthTenThousandIsRefused() throws {
        let d = try TempDir()
        try d.write("deep.yaml", "scenario: deep\nsteps: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "\n")
        try d.write("deepmap.yaml", "scenario: deepmap\nsteps: " + String(repeating: "{a: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000) + "\n")
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "nesting deeper than 64 levels", file: "deep.yaml:2:")
        expectRefused(r, "nesting deeper than 64 levels", file: "deepmap.yaml:2:")
    }

    @Test func twoMebibyteFileIsRefused() throws {
        let d = try TempDir()
        try d.write("big.yaml", "scenario: big\n# " + String(repeating: "x", count: 2 << 20) + "\n")
        expectRefused(try runRingspec(["run", d.path]), "more than the limit of 1048576 bytes (--max-file-bytes)", file: "big.yaml:1:1")
    }

    @Test func fiveThousandDocumentsAreRefused() throws {
        let d = try TempDir()
        try d.write("docs.yaml", (0..<5000).map { "---\nscenario: d\($0)\n" }.joined())
        expectRefused(try runRingspec(["run", d.path]), "more than 1000 documents in one stream (--max-documents)", file: "docs.yaml:2001:")
    }

    @Test func threeMebibyteStringIsRefused() throws {
        let d = try TempDir()
        try d.write("str.yaml", "scenario: s\ndescription: \"" + String(repeating: "y", count: 3 << 20) + "\"\n")
        // Under the default file limit the file is refused whole; with the file limit raised, the scalar limit refuses it.
        expectRefused(try runRingspec(["run", d.path]), "(--max-file-bytes)", file: "str.yaml:1:1")
        expectRefused(try runRingspec(["run", "--max-file-bytes", "8000000", d.path]), "scalar of 3145728 bytes exceeds the limit of 1048576 bytes",
                      file: "str.yaml:2:14")
    }

    @Test func integersOverflowingSixtyFourBitsAreRefused() throws {
        let d = try TempDir()
        try d.write("int.yaml", minimalScenario("int") + "steps:\n  - syscall: {via: int80, nr: 4, args: [1, 99999999999999999999999999, 13]}\n"
            + "  - exec: nop\n    expect: {regs: {eax: 0x1ffffffffffffffff}}\n")
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "99999999999999999999999999 does not fit in 64 bits", file: "int.yaml:6:")
        expectRefused(r, "0x1ffffffffffffffff does not fit in 64 bits", file: "int.yaml:8:")
    }

    /// Found by mutation fuzzing: an expected `returns` of -2^63 trapped when the failure message
    /// negated it to look up an errno name. It is a failed check, reported, not a crash.
    @Test func returnsOfMinusTwoToTheSixtyThirdIsAFailedCheck() throws {
        let d = try TempDir()
        try d.write("min.yaml", minimalScenario("min") + "steps:\n  - syscall: {via: int80, nr: getpid}\n"
            + "    expect: {returns: -9223372036854775808}\n")
        let r = try runRingspec(["run", d.path])
        #expect(!r.signalled && !r.timedOut)
        #expect(r.status == 1)
        #expect(r.output.contains("expected -9223372036854775808, got 1"))
        let x = try runRingspec(["explain", d.path + "/min.yaml"])
        #expect(!x.signalled && !x.timedOut)
    }

    // MARK: Work limits

    @Test func hugePageCountIsRefused() throws {
        let d = try TempDir()
        try d.write("count.yaml", "scenario: count\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x10000000000, count: 99999999999}\n"
            + "processes:\n  - {name: a, state: running}\n")
        expectRefused(try runRingspec(["run", d.path]), "machine.pages[0].count 99999999999 is out of range (at most 262144)", file: "count.yaml:5:")
    }

    @Test func mappedPagesBudgetIsEnforced() throws {
        let d = try TempDir()
        // 64 mappings of 262144 pages each: every one within the per-mapping bound, 16 Mi entries in all.
        let pages = (0..<64).map { "    - {virt: 0x\(String(0x100_0000_0000 + $0 * 0x1_0000_0000, radix: 16)), phys: 0x100000000, count: 262144}\n" }.joined()
        try d.write("pages.yaml", "scenario: pages\nmachine:\n  mode: x86_64\n  pages:\n" + pages + "processes:\n  - {name: a, state: running}\n")
        expectRefused(try runRingspec(["run", d.path]), "machine.pages[1].count: the scenario maps 524288 pages in all, more than the budget of 262144 (--max-pages)",
                      file: "pages.yaml:6:")
        // Populated memory areas of processes count too.
        let vmas = (0..<4).map { "      - {segment: mmap, start: 0x\(String(0x100_0000_0000 + $0 * 0x1_0000_0000, radix: 16)), pages: 262144, populate: true}\n" }.joined()
        try FileManager.default.removeItem(atPath: d.path + "/pages.yaml")
        try d.write("vma.yaml", "scenario: vma\nmachine: {mode: x86_64}\nprocesses:\n  - name: a\n    state: running\n    memory:\n" + vmas)
        expectRefused(try runRingspec(["run", d.path]), "the scenario maps", file: "vma.yaml:8:")
        // And the flag lowers the budget.
        try FileManager.default.removeItem(atPath: d.path + "/vma.yaml")
        try d.write("small.yaml", "scenario: small\nmachine:\n  mode: x86_64\n  pages:\n    - {virt: 0x10000000000, count: 100}\nprocesses:\n  - {name: a, state: running}\n")
        expectRefused(try runRingspec(["run", "--max-pages", "10", d.path]), "more than the budget of 10 (--max-pages)", file: "small.yaml:5:")
    }

    /// Found in the seventh fuzzing campaign (docs/reliability.md): the I/O permission bit map was
    /// built port by port for every range `io_ports` listed, so 4,000 copies of `{from: 0, to: 0xffff}`
    /// (a 92 KB file) took minutes to build, and the time limit is only checked once the machine is
    /// built. The ranges are merged first now, and the scenario runs at once, on the machine's TSS
    /// and on a TSS descriptor of the GDT alike.
    @Test func manyIOPortRangesBuildWithinTheTimeLimit() throws {
        let d = try TempDir()
        let ranges = "[" + Array(repeating: "{from: 0, to: 0xffff}", count: 4000).joined(separator: ", ") + "]"
        try d.write("io.yaml", "scenario: io\nmachine:\n  mode: ia32\n  tss: {name: tss, io_ports: \(ranges)}\nkernel: none\n"
            + "steps:\n  - exec: \"in eax, 0xfc\"\n    expect: {fault: none}\n  - exec: cli\n    expect: {fault: {vector: GP, error_code: 0}}\n"
            + "---\nscenario: io-gdt\nmachine:\n  mode: ia32\n  gdt:\n    20: {name: t2, type: tss32, io_ports: \(ranges)}\n"
            + "  tss: {name: t2}\nkernel: none\nsteps:\n  - exec: \"out 0x80, al\"\n    expect: {fault: none}\n")
        let r = try runRingspec(["run", d.path], deadline: 60)
        #expect(!r.signalled && !r.timedOut, "the build did not finish: \(r.output)")
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("2 passed, 0 failed"), "\(r.stdout)")
    }

    /// Found in the seventh fuzzing campaign: every TSS descriptor of the GDT is kept as a byte image up
    /// to its limit (at most 72 KiB), and every data access looks through all of them, so 8,000 TSS
    /// descriptors with large limits (a 460 KB file) took 600 MB and most of a second per access. The
    /// images are now bounded together (16 MiB); a scenario past that is refused at build.
    @Test func thousandsOfLargeTSSDescriptorsAreRefused() throws {
        let d = try TempDir()
        let gdt = (40..<8040).map { "    \($0): {type: tss32, base: 0x\(String(0x4000_0000 + $0 * 0x20000, radix: 16)), limit: 0xfffff}\n" }.joined()
        try d.write("tss.yaml", "scenario: tss\nmachine:\n  mode: ia32\n  gdt:\n" + gdt + "processes:\n  - {name: a, state: running}\n"
            + "steps:\n  - exec: \"mov eax, [0xbfffeff0]\"\n    expect: {fault: none}\n")
        expectRefused(try runRingspec(["run", d.path], deadline: 60),
                      "gdt[267]: the TSS descriptors of the GDT cover more than 16 MiB of TSS bytes in all", file: "tss.yaml:1:1")
        // A few hundred full-size TSSs still build.
        let few = (40..<240).map { "    \($0): {type: tss32, base: 0x\(String(0x4000_0000 + $0 * 0x20000, radix: 16)), limit: 0x12067}\n" }.joined()
        try d.write("tss.yaml", "scenario: tss\nmachine:\n  mode: ia32\n  gdt:\n" + few + "processes:\n  - {name: a, state: running}\n"
            + "steps:\n  - exec: \"mov eax, [0xbfffeff0]\"\n    expect: {fault: none}\n")
        let ok = try runRingspec(["run", d.path], deadline: 60)
        #expect(ok.status == 0, "\(ok.output)")
    }

    @Test func tooManyProcessesAreRefused() throws {
        let d = try TempDir()
        try d.write("procs.yaml", "scenario: procs\nmachine: {mode: x86_64}\nprocesses:\n" + (0..<5000).map { "  - {name: p\($0)}\n" }.joined())
        expectRefused(try runRingspec(["run", d.path]), "more than 512 processes", file: "procs.yaml:516:")
    }

    @Test func timerBeyondTheTickBudgetIsRefusedBeforeRunning() throws {
        let d = try TempDir()
        try d.write("timer.yaml", minimalScenario("timer") + "steps:\n" + String(repeating: "  - timer: 10000000\n", count: 3))
        expectRefused(try runRingspec(["run", d.path]), "steps[2]: the scenario asks for 30000000 timer ticks, more than the budget of 20000000 (--tick-budget)",
                      file: "timer.yaml:8:5")
        try d.write("timer.yaml", minimalScenario("timer") + "steps:\n  - timer: 1000000000000\n")
        expectRefused(try runRingspec(["run", d.path]), "steps[0].timer 1000000000000 is out of range", file: "timer.yaml:6:")
        try d.write("timer.yaml", minimalScenario("timer") + "steps:\n  - timer: 5000\n")
        expectRefused(try runRingspec(["run", "--tick-budget", "1000", d.path]), "more than the budget of 1000 (--tick-budget)", file: "timer.yaml:6:5")
    }

    @Test func scenarioOverTheTimeLimitIsStopped() throws {
        let d = try TempDir()
        try d.write("slow.yaml", minimalScenario("slow") + "steps:\n  - timer: 10000000\n  - timer: 10000000\n")
        let r = try runRingspec(["run", "--time-limit", "0.5", d.path])
        expectRefused(r, "the scenario ran longer than the time limit of 0.5 s (--time-limit)", file: "slow.yaml:6:5")
    }

    @Test func manyStepsAreBoundedByTheTimeLimit() throws {
        let d = try TempDir()
        try d.write("steps.yaml", minimalScenario("steps", mode: "x86_64") + "steps:\n" + String(repeating: "  - schedule\n", count: 60_000))
        let r = try runRingspec(["run", "--time-limit", "1", d.path])
        expectRefused(r, "(--time-limit)", file: "steps.yaml:")
    }

    // MARK: extends

    @Test func deepExtendsChainIsRefused() throws {
        let d = try TempDir()
        try d.write("_base0.yaml", "machine: {mode: ia32}\nprocesses:\n  - {name: a, state: running}\n")
        for i in 1...20 { try d.write("_base\(i).yaml", "extends: _base\(i - 1).yaml\n") }
        try d.write("top.yaml", "scenario: top\nextends: _base20.yaml\n")
        expectRefused(try runRingspec(["run", d.path]), "extends chains more than 8 files deep", file: "top.yaml:2:10")
    }

    @Test func extendsCycleIsRefused() throws {
        let d = try TempDir()
        try d.write("_a.yaml", "extends: _b.yaml\n")
        try d.write("_b.yaml", "extends: _a.yaml\n")
        try d.write("self.yaml", "scenario: self\nextends: self.yaml\n")
        try d.write("top.yaml", "scenario: top\nextends: _a.yaml\n")
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "forms a cycle", file: "top.yaml:2:10")
        expectRefused(r, "forms a cycle", file: "self.yaml:2:10")
    }

    @Test func extendsWithAnAbsolutePathIsRefused() throws {
        let d = try TempDir()
        let outside = try TempDir()
        let target = try outside.write("_base.yaml", "machine: {mode: ia32}\n")
        try d.write("abs.yaml", "scenario: abs\nextends: \(target)\n")
        try d.write("etc.yaml", "scenario: etc\nextends: /etc/passwd\n")
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "extends must be a relative path inside the suite root, not an absolute path", file: "abs.yaml:2:10")
        expectRefused(r, "extends must be a relative path inside the suite root, not an absolute path", file: "etc.yaml:2:10")
        #expect(!r.output.contains("root:"), "content of /etc/passwd leaked into the report")
    }

    /// An error in a fragment that `extends` brings in names the fragment, at the fragment's line
    /// and column: it named the scenario file with the fragment's line and column (a place in the
    /// scenario file that has nothing wrong, or does not exist).
    @Test func errorsInAnExtendedFragmentNameTheFragment() throws {
        let d = try TempDir()
        try d.write("_frag.yaml", "machine:\n  mode: ia32\n  bogus: 1\nprocesses:\n  - {name: a, state: runing}\n")
        try d.write("_outer.yaml", "extends: _frag.yaml\nkernel: {scheduler: {policy: rr, timeslice: 0x}}\n")
        try d.write("e.yaml", "scenario: e\nextends: _outer.yaml\nsteps:\n  - timer: 1\n    expect: {current: a}\n")
        let r = try runRingspec(["run", d.path])
        #expect(r.status == 2)
        #expect(r.stdout.contains("/_frag.yaml:3:3: error: unknown key 'bogus' in machine"), "\(r.stdout)")
        #expect(r.stdout.contains("/_frag.yaml:5:22: error: unknown task state 'runing'"), "\(r.stdout)")
        #expect(r.stdout.contains("/_outer.yaml:2:"), "\(r.stdout)")
        #expect(!r.stdout.contains("e.yaml:3:3"), "\(r.stdout)")
    }

    @Test func extendsWithDotDotEscapeIsRefused() throws {
        let parent = try TempDir()
        try parent.write("_outside.yaml", "machine: {mode: ia32}\nprocesses:\n  - {name: a, state: running}\n")
        let suite = try parent.mkdir("suite")
        try parent.write("suite/up.yaml", "scenario: up\nextends: ../_outside.yaml\n")
        try parent.write("suite/sub/deeper.yaml", "scenario: deeper\nextends: ../../_outside.yaml\n")
        try parent.write("suite/sub/etc.yaml", "scenario: etc\nextends: ../../../../../../../../../../etc/passwd\n")
        let r = try runRingspec(["run", suite])
        expectRefused(r, "lies outside the suite root", file: "up.yaml:2:10")
        expectRefused(r, "lies outside the suite root", file: "deeper.yaml:2:10")
        expectRefused(r, "lies outside the suite root", file: "etc.yaml:2:10")
        // `..` that stays inside the root is fine.
        try parent.write("suite/_in.yaml", "machine: {mode: ia32}\nprocesses:\n  - {name: a, state: running}\n")
        try parent.write("suite/sub2/ok.yaml", "scenario: ok\nextends: ../_in.yaml\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n")
        let ok = try runRingspec(["run", suite + "/sub2", "--root", suite])
        #expect(ok.status == 0, "\(ok.output)")
    }

    /// Several paths and no --root: each file's extends stays inside the path it came from, so a
    /// submission given next to a hidden folder cannot reach into it, and a second folder's own
    /// fragments work.
    @Test func extendsRootIsThePathTheFileCameFrom() throws {
        let parent = try TempDir()
        try parent.write("hidden/_answers.yaml", "machine: {mode: ia32}\nprocesses:\n  - {name: a, state: running}\n")
        try parent.write("hidden/h.yaml", "scenario: h\nextends: _answers.yaml\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n")
        try parent.write("other/_base.yaml", "machine: {mode: ia32}\nprocesses:\n  - {name: b, state: running}\n")
        try parent.write("other/o.yaml", "scenario: o\nextends: _base.yaml\nsteps:\n  - exec: nop\n    expect: {cpl: 3, current: b}\n")
        try parent.write("sub/s.yaml", "scenario: s\nextends: ../hidden/_answers.yaml\n")
        let ok = try runRingspec(["run", parent.path + "/hidden", parent.path + "/other"])
        #expect(ok.status == 0, "\(ok.output)")
        let r = try runRingspec(["run", parent.path + "/hidden", parent.path + "/sub/s.yaml"])
        expectRefused(r, "lies outside the suite root", file: "s.yaml:2:10")
    }

    @Test func extendsThroughASymlinkEscapeIsRefused() throws {
        let outside = try TempDir()
        try outside.write("_secret.yaml", "machine: {mode: ia32}\nprocesses:\n  - {name: secret-process-name, state: running}\n")
        let d = try TempDir()
        try d.symlink("_link.yaml", to: outside.path + "/_secret.yaml")
        try d.symlink("linkdir", to: outside.path)
        try d.write("viafile.yaml", "scenario: viafile\nextends: _link.yaml\n")
        try d.write("viadir.yaml", "scenario: viadir\nextends: linkdir/_secret.yaml\n")
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "lies outside the suite root", file: "viafile.yaml:2:10")
        expectRefused(r, "lies outside the suite root", file: "viadir.yaml:2:10")
        #expect(!r.output.contains("secret-process-name"))
    }

    // MARK: Folders

    @Test func symlinkedScenarioOutsideTheFolderIsRefused() throws {
        let outside = try TempDir()
        try outside.write("leak.yaml", "scenario: leaked-secret\nmachine: {mode: ia32}\nprocesses:\n  - {name: a, state: running}\n")
        let d = try TempDir()
        try d.write("good.yaml", minimalScenario("good") + "steps:\n  - exec: nop\n    expect: {cpl: 3}\n")
        try d.symlink("leak.yaml", to: outside.path + "/leak.yaml")
        try d.symlink("passwd.yaml", to: "/etc/passwd")
        try d.symlink("outdir", to: outside.path)
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "a symbolic link that leads outside", file: "leak.yaml:1:1")
        expectRefused(r, "a symbolic link that leads outside", file: "passwd.yaml:1:1")
        expectRefused(r, "a symbolic link that leads outside", file: "outdir:1:1")
        #expect(!r.output.contains("leaked-secret"))
        #expect(!r.output.contains("root:"))
        #expect(r.output.contains("PASS  good"))
    }

    @Test func symlinkCyclesInFoldersTerminate() throws {
        let d = try TempDir()
        try d.write("a/s.yaml", minimalScenario("s") + "steps:\n  - exec: nop\n    expect: {cpl: 3}\n")
        try d.symlink("a/loop1", to: d.path + "/a")
        try d.symlink("a/loop2", to: d.path)
        try d.symlink("a/loop3", to: "..")
        let r = try runRingspec(["run", d.path], deadline: 60)
        #expect(!r.signalled && !r.timedOut)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains("1 passed, 0 failed"), "\(r.stdout)")
    }

    @Test func folderOfManyFilesIsBounded() throws {
        let d = try TempDir()
        for i in 0..<60 { try d.write(String(format: "f%03d.yaml", i), minimalScenario("f\(i)")) }
        expectRefused(try runRingspec(["run", "--max-files", "50", d.path]), "more than 50 scenario files", file: "f050.yaml:1:1")
        expectRefused(try runRingspec(["check", "--max-files", "50", d.path]), "more than 50 scenario files", file: "f050.yaml:1:1")
    }

    @Test func folderOfManyGoodFilesWithOneMalformedExitsTwo() throws {
        let d = try TempDir()
        for i in 0..<300 { try d.write(String(format: "s%03d.yaml", i), minimalScenario("s\(i)") + "steps:\n  - exec: nop\n    expect: {cpl: 3}\n") }
        try d.write("s150b.yaml", "scenario: broken\nmachine: {mode: ia32\n")
        let r = try runRingspec(["run", d.path], deadline: 120)
        expectRefused(r, "did not find expected", file: "s150b.yaml:3:1")
        #expect(r.stdout.contains("300 passed, 1 failed"), "\(r.stdout.suffix(300))")
    }
}
