// ReportClampTests: one message, expected or actual value of a report holds at most 8,192
// characters. An `output` check of a 500 KB text against a step that printed nothing put the whole
// text (quoted, then escaped) into the report, and 12,000 steps of it 6 GB; a misspelt 300 KB task
// name was quoted whole in its error. A long output mismatch now shows a window around the first
// character that differs.

import Foundation
@testable import Scenario
import Testing

@Suite struct ReportClampTests {
    @Test func shortTextsAreKeptWhole() {
        let s = String(repeating: "é", count: ReportClamp.maxScalars)
        #expect(ReportClamp.clamp(s) == s)
        #expect(ReportClamp.clamp("abc") == "abc")
    }

    @Test func aLongTextKeepsItsStartAndEnd() {
        let s = String(repeating: "a", count: 100_000) + "END"
        let c = ReportClamp.clamp(s)
        #expect(c.unicodeScalars.count < ReportClamp.maxScalars + 100)
        #expect(c.hasPrefix("aaaa"))
        #expect(c.hasSuffix("aEND"))
        #expect(c.contains("characters cut"))
    }

    /// Diagnostics and failures are clamped where they are made, whatever builds them.
    @Test func diagnosticsAndFailuresAreClamped() {
        let long = String(repeating: "x", count: 1_000_000)
        let here = SourceLocation(file: "f.yaml", line: 1, column: 1)
        let d = Diagnostic(.error, "no task is named '\(long)'", at: here, notes: [long])
        #expect(d.message.unicodeScalars.count < ReportClamp.maxScalars + 100)
        #expect(d.notes[0].unicodeScalars.count < ReportClamp.maxScalars + 100)
        let f = CheckFailure(path: "expect.output", expected: long, actual: long, location: here, note: long)
        #expect(f.expected.unicodeScalars.count < ReportClamp.maxScalars + 100)
        #expect(f.actual.unicodeScalars.count < ReportClamp.maxScalars + 100)
        #expect((f.note ?? "").unicodeScalars.count < ReportClamp.maxScalars + 100)
    }

    /// Two long outputs that differ deep inside: both sides show the place where they differ.
    @Test func aLongOutputMismatchShowsTheFirstDifference() {
        let a = String(repeating: "a", count: 50_000) + "X" + String(repeating: "b", count: 50_000)
        let b = String(repeating: "a", count: 50_000) + "Y" + String(repeating: "b", count: 50_000)
        let (e, g) = ReportClamp.quotedPair(a, b, quote: ExpectationChecker.quote)
        #expect(e.contains("X") && g.contains("Y"))
        #expect(e.contains("the first difference is at character 50001"))
        #expect(e.unicodeScalars.count < ReportClamp.maxScalars && g.unicodeScalars.count < ReportClamp.maxScalars)
        let (se, sg) = ReportClamp.quotedPair("ab", "ac", quote: ExpectationChecker.quote)
        #expect(se == "\"ab\"" && sg == "\"ac\"")
    }

    /// Through the binary: a step that expects a 500 KB output and prints nothing fails with a
    /// report of a few kilobytes (it was more than 500 KB, in every format).
    @Test(arguments: ["human", "json", "junit", "tap", "gradescope"])
    func aLongExpectedOutputDoesNotFillTheReport(_ format: String) throws {
        let d = try TempDir()
        try d.write("o.yaml", "scenario: o\nmachine: {mode: x86_64}\nprocesses:\n  - {name: p, state: running}\nsteps:\n"
            + "  - syscall: {via: syscall, nr: getpid}\n    expect: {output: \"" + String(repeating: "A", count: 500_000) + "\"}\n")
        let r = try runRingspec(["run", "--format", format, d.path])
        #expect(r.status == 1, "\(r.output.prefix(2000))")
        #expect(r.output.utf8.count < 40_000, "\(format): \(r.output.utf8.count) bytes")
    }
}
