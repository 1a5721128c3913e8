// AliasTextBudgetTests: aliases may re-use at most 4 MiB of scalar text per file (--max-alias-bytes).
// The node budget (--max-alias-nodes) let 12,000 aliases of one 300 KB string through (a 600 KB
// file): every use is decoded, compared, copied or quoted on its own, so a misspelt task name
// (`current: *big`) spent minutes building 3.6 GB of error messages before any time limit ran,
// and `output: *big` on every step would have put as much into the report.

import Foundation
@testable import Scenario
import Testing

@Suite struct AliasTextBudgetTests {
    static func loadError(_ text: String, limits: YAMLLimits) -> YAMLError? {
        do {
            _ = try YAMLLoader.load(text, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    /// The bytes of every scalar of an aliased subtree count, keys included, at each use.
    @Test func theBudgetCountsTheTextOfWholeSubtrees() throws {
        var limits = YAMLLimits()
        limits.maxAliasBytes = 10
        // {ab: cde} holds 5 bytes of text: two uses are 10 (allowed), a third exceeds the budget.
        #expect(Self.loadError("- &a {ab: cde}\n- *a\n- *a\n", limits: limits) == nil)
        let error = try #require(Self.loadError("- &a {ab: cde}\n- *a\n- *a\n- *a\n", limits: limits))
        #expect(error.message == "aliases re-use more than 10 bytes of text in this file (alias bomb?) (--max-alias-bytes)")
        #expect(error.mark.line == 4 && error.mark.column == 3)
        #expect(error.notes == ["anchor &a defined at 1:3 holds 5 bytes of text"])
    }

    /// The budget is the file's, not each document's: a file of many documents cannot multiply it.
    @Test func theBudgetSpansTheDocumentsOfAFile() throws {
        var limits = YAMLLimits()
        limits.maxAliasBytes = 10
        #expect(Self.loadError("- &a abcdef\n- *a\n", limits: limits) == nil)
        let error = try #require(Self.loadError("- &a abcdef\n- *a\n---\n- &b abcdef\n- *b\n", limits: limits))
        #expect(error.mark.line == 5)
    }

    /// The default leaves the shipped library's anchors (templates of tasks, gates, steps) far below it.
    @Test func theDefaultIsFourMebibytes() {
        #expect(YAMLLimits().maxAliasBytes == 4 << 20)
    }

    /// The attacks, through the binary: each is refused at the alias that crosses the budget, fast.
    /// Before: `current`/`signal`/`fault` ran more than two minutes (killed), `returns` 67 s with a
    /// 2.4 MB report, in a debug build.
    @Test(arguments: ["current", "signal", "output"])
    func manyAliasesOfALongTextAreRefused(_ key: String) throws {
        let d = try TempDir()
        var text = "scenario: bomb\nmachine: {mode: x86_64}\nprocesses:\n  - {name: p, state: running}\n"
        text += "x-big: &b \"" + String(repeating: "A", count: 300_000) + "\"\n"
        text += "x-e: &e {\(key): *b}\nx-g: &g {via: syscall, nr: getpid}\nsteps:\n"
        text += String(repeating: "  - {syscall: *g, expect: *e}\n", count: 12_000)
        try d.write("bomb.yaml", text)
        let r = try runRingspec(["run", d.path], deadline: 60)
        // 300,000 bytes per use: the 14th use crosses 4 MiB (4,194,304 bytes); steps start at line 9.
        expectRefused(r, "aliases re-use more than 4194304 bytes of text in this file (alias bomb?) (--max-alias-bytes)",
                      file: "bomb.yaml:21:")
        #expect(r.output.utf8.count < 10_000, "\(r.output.prefix(500))")
    }
}
