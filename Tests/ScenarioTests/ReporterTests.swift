// ReporterTests: every reporter renders one report full of hostile strings, compared whole
// against the golden text below; then the properties the goldens cannot show on their own:
// determinism, the human report's last line, JSON that parses back to the same strings, XML
// with balanced tags and no raw control characters, TAP whose lines all have TAP's shape.

import Foundation  // JSONSerialization, in the tests only: the reporters do not use Foundation.
@testable import Scenario
import Testing

/// Two passed (one checking nothing), one failed with two failures and a warning, one invalid
/// with notes, one skipped; ids and messages hold quotes, `<`, `&`, `\`, `#`, ESC sequences,
/// NUL, CR, CSI, DEL and U+2028.
private let hostileReport = RunReport(results: [
    ScenarioResult(id: "call-gate-raises-privilege", file: "gates.yaml", line: 1,
                   description: "A far call through a DPL-3 call gate reaches ring 0.",
                   tags: ["gates", "ia32"], points: 2, outcome: .passed, checkCount: 5),
    ScenarioResult(id: "far-call \"refused\" <b> & c\\o", file: "gates.yaml", line: 24,
                   description: "Two lines:\nthe second", tags: ["gates"], points: 1.5,
                   outcome: .failed([
                       CheckFailure(path: "steps[2].expect.fault.error_code", expected: "0x60", actual: "0x0",
                                    location: SourceLocation(file: "gates.yaml", line: 41, column: 21),
                                    note: "SEG-5: \u{1b}[31mnot red\u{1b}[0m"),
                       CheckFailure(path: "steps[3].expect.regs.eax", expected: "'ok'", actual: "\"ok\u{0}\"",
                                    location: SourceLocation(file: "gates.yaml", line: 47, column: 15)),
                   ]),
                   checkCount: 4,
                   warnings: [Diagnostic(.warning, "key 'tag' is never read",
                                         at: SourceLocation(file: "gates.yaml", line: 26, column: 1))]),
    ScenarioResult(id: "broken.yaml", file: "broken.yaml", line: 1,
                   outcome: .invalid([
                       Diagnostic(.error, "unknown key 'stepz'",
                                  at: SourceLocation(file: "broken.yaml", line: 3, column: 1),
                                  notes: ["did you mean 'steps'?", "anchor defined\u{2028}here"]),
                       Diagnostic(.error, "file is not UTF-8\r", at: nil),
                   ])),
    ScenarioResult(id: "long-mode #2", file: "paging.yaml", line: 1, points: 0.25,
                   outcome: .skipped("needs x86_64 \u{9b}2J \u{7f}"), checkCount: 0),
    ScenarioResult(id: "does-nothing", file: "paging.yaml", line: 12, outcome: .passed, checkCount: 0),
])

private let emptyReport = RunReport(results: [])

/// `HumanReporter()` on `hostileReport`.
private let humanGolden = #"""
PASS  call-gate-raises-privilege (gates.yaml:1)
FAIL  far-call "refused" <b> & c\o (gates.yaml:24)
    steps[2].expect.fault.error_code: expected 0x60, got 0x0 (gates.yaml:41:21)
          SEG-5: \u{1b}[31mnot red\u{1b}[0m
    steps[3].expect.regs.eax: expected 'ok', got "ok\u{0}" (gates.yaml:47:15)
    gates.yaml:26:1: warning: key 'tag' is never read
INVALID  broken.yaml (broken.yaml:1)
    broken.yaml:3:1: error: unknown key 'stepz'
        note: did you mean 'steps'?
        note: anchor defined\#u{2028}here
    error: file is not UTF-8\u{d}
SKIP  long-mode #2: needs x86_64 \u{9b}2J \u{7f}
PASS  does-nothing (paging.yaml:12) (checks nothing)

failed: far-call "refused" <b> & c\o (gates.yaml:24)
invalid: broken.yaml (broken.yaml:1)

2 passed, 2 failed

"""#

/// `HumanReporter(color: true, verbose: true)` on `hostileReport`.
private let humanColorVerboseGolden = #"""
\#u{1b}[32mPASS\#u{1b}[0m  call-gate-raises-privilege (gates.yaml:1)
    A far call through a DPL-3 call gate reaches ring 0.
    checks: 5, points: 2, tags: gates, ia32
\#u{1b}[31mFAIL\#u{1b}[0m  far-call "refused" <b> & c\o (gates.yaml:24)
    Two lines:
    the second
    checks: 4, points: 1.5, tags: gates
    steps[2].expect.fault.error_code: expected 0x60, got 0x0 (gates.yaml:41:21)
          SEG-5: \u{1b}[31mnot red\u{1b}[0m
    steps[3].expect.regs.eax: expected 'ok', got "ok\u{0}" (gates.yaml:47:15)
    \#u{1b}[33mgates.yaml:26:1: warning: key 'tag' is never read\#u{1b}[0m
\#u{1b}[31mINVALID\#u{1b}[0m  broken.yaml (broken.yaml:1)
    checks: 0, points: 1
    broken.yaml:3:1: error: unknown key 'stepz'
        note: did you mean 'steps'?
        note: anchor defined\#u{2028}here
    error: file is not UTF-8\u{d}
\#u{1b}[33mSKIP\#u{1b}[0m  long-mode #2: needs x86_64 \u{9b}2J \u{7f}
    checks: 0, points: 0.25
\#u{1b}[32mPASS\#u{1b}[0m  does-nothing (paging.yaml:12) (checks nothing)
    checks: 0, points: 1

\#u{1b}[31mfailed:\#u{1b}[0m far-call "refused" <b> & c\o (gates.yaml:24)
\#u{1b}[31minvalid:\#u{1b}[0m broken.yaml (broken.yaml:1)

2 passed, 2 failed

"""#

/// `JSONReporter()` on `hostileReport`.
private let jsonGolden = #"""
{
  "version": 1,
  "summary": {
    "passed": 2,
    "failed": 2,
    "skipped": 1,
    "total": 5
  },
  "scenarios": [
    {
      "id": "call-gate-raises-privilege",
      "file": "gates.yaml",
      "line": 1,
      "description": "A far call through a DPL-3 call gate reaches ring 0.",
      "tags": [
        "gates",
        "ia32"
      ],
      "points": 2,
      "status": "passed",
      "checks": 5,
      "failures": [],
      "diagnostics": [],
      "warnings": [],
      "skip_reason": null
    },
    {
      "id": "far-call \"refused\" <b> & c\\o",
      "file": "gates.yaml",
      "line": 24,
      "description": "Two lines:\nthe second",
      "tags": [
        "gates"
      ],
      "points": 1.5,
      "status": "failed",
      "checks": 4,
      "failures": [
        {
          "path": "steps[2].expect.fault.error_code",
          "check": "steps[2].expect.fault.error_code",
          "expected": "0x60",
          "actual": "0x0",
          "file": "gates.yaml",
          "line": 41,
          "column": 21,
          "note": "SEG-5: \u001b[31mnot red\u001b[0m"
        },
        {
          "path": "steps[3].expect.regs.eax",
          "check": "steps[3].expect.regs.eax",
          "expected": "'ok'",
          "actual": "\"ok\u0000\"",
          "file": "gates.yaml",
          "line": 47,
          "column": 15,
          "note": null
        }
      ],
      "diagnostics": [],
      "warnings": [
        {
          "severity": "warning",
          "message": "key 'tag' is never read",
          "file": "gates.yaml",
          "line": 26,
          "column": 1,
          "notes": []
        }
      ],
      "skip_reason": null
    },
    {
      "id": "broken.yaml",
      "file": "broken.yaml",
      "line": 1,
      "description": null,
      "tags": [],
      "points": 1,
      "status": "invalid",
      "checks": 0,
      "failures": [],
      "diagnostics": [
        {
          "severity": "error",
          "message": "unknown key 'stepz'",
          "file": "broken.yaml",
          "line": 3,
          "column": 1,
          "notes": [
            "did you mean 'steps'?",
            "anchor defined\u2028here"
          ]
        },
        {
          "severity": "error",
          "message": "file is not UTF-8\r",
          "file": null,
          "line": null,
          "column": null,
          "notes": []
        }
      ],
      "warnings": [],
      "skip_reason": null
    },
    {
      "id": "long-mode #2",
      "file": "paging.yaml",
      "line": 1,
      "description": null,
      "tags": [],
      "points": 0.25,
      "status": "skipped",
      "checks": 0,
      "failures": [],
      "diagnostics": [],
      "warnings": [],
      "skip_reason": "needs x86_64 \u009b2J \u007f"
    },
    {
      "id": "does-nothing",
      "file": "paging.yaml",
      "line": 12,
      "description": null,
      "tags": [],
      "points": 1,
      "status": "passed",
      "checks": 0,
      "failures": [],
      "diagnostics": [],
      "warnings": [],
      "skip_reason": null
    }
  ]
}

"""#

/// `JUnitReporter()` on `hostileReport`.
private let junitGolden = #"""
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="ringspec" tests="5" failures="1" errors="1" skipped="1" time="0">
  <testsuite name="gates.yaml" tests="2" failures="1" errors="0" skipped="0" time="0">
    <testcase classname="gates.yaml" name="call-gate-raises-privilege" file="gates.yaml" line="1" time="0"/>
    <testcase classname="gates.yaml" name="far-call &quot;refused&quot; &lt;b&gt; &amp; c\o" file="gates.yaml" line="24" time="0">
      <failure message="2 check(s) failed" type="failure">steps[2].expect.fault.error_code: expected 0x60, got 0x0 (gates.yaml:41:21)
      SEG-5: \u{1b}[31mnot red\u{1b}[0m
steps[3].expect.regs.eax: expected &apos;ok&apos;, got &quot;ok\u{0}&quot; (gates.yaml:47:15)</failure>
      <system-out>gates.yaml:26:1: warning: key &apos;tag&apos; is never read</system-out>
    </testcase>
  </testsuite>
  <testsuite name="broken.yaml" tests="1" failures="0" errors="1" skipped="0" time="0">
    <testcase classname="broken.yaml" name="broken.yaml" file="broken.yaml" line="1" time="0">
      <error message="invalid scenario" type="invalid">broken.yaml:3:1: error: unknown key &apos;stepz&apos;
    note: did you mean &apos;steps&apos;?
    note: anchor defined\#u{2028}here
error: file is not UTF-8&#13;</error>
    </testcase>
  </testsuite>
  <testsuite name="paging.yaml" tests="2" failures="0" errors="0" skipped="1" time="0">
    <testcase classname="paging.yaml" name="long-mode #2" file="paging.yaml" line="1" time="0">
      <skipped message="needs x86_64 \u{9b}2J \u{7f}"/>
    </testcase>
    <testcase classname="paging.yaml" name="does-nothing" file="paging.yaml" line="12" time="0">
      <system-out>checks nothing</system-out>
    </testcase>
  </testsuite>
</testsuites>

"""#

/// `TAPReporter()` on `hostileReport`.
private let tapGolden = ##"""
TAP version 14
1..5
ok 1 - call-gate-raises-privilege
not ok 2 - far-call "refused" <b> & c\\o
  ---
  message: "2 check(s) failed"
  severity: "fail"
  at:
    file: "gates.yaml"
    line: 24
  failures:
    - path: "steps[2].expect.fault.error_code"
      expected: "0x60"
      actual: "0x0"
      at:
        file: "gates.yaml"
        line: 41
        column: 21
      note: "SEG-5: \e[31mnot red\e[0m"
    - path: "steps[3].expect.regs.eax"
      expected: "'ok'"
      actual: "\"ok\0\""
      at:
        file: "gates.yaml"
        line: 47
        column: 15
  warnings:
    - severity: "warning"
      message: "key 'tag' is never read"
      at:
        file: "gates.yaml"
        line: 26
        column: 1
  ...
not ok 3 - broken.yaml
  ---
  message: "invalid scenario"
  severity: "error"
  at:
    file: "broken.yaml"
    line: 1
  diagnostics:
    - severity: "error"
      message: "unknown key 'stepz'"
      at:
        file: "broken.yaml"
        line: 3
        column: 1
      notes:
        - "did you mean 'steps'?"
        - "anchor defined\u2028here"
    - severity: "error"
      message: "file is not UTF-8\r"
  ...
ok 4 - long-mode \#2 # SKIP needs x86_64 \u{9b}2J \u{7f}
ok 5 - does-nothing
  ---
  message: "checks nothing"
  at:
    file: "paging.yaml"
    line: 12
  ...

"""##

@Suite struct ReporterTests {
    /// One reporter, named for the test log.
    struct NamedReporter: Sendable, CustomTestStringConvertible {
        let name: String
        let reporter: any Reporter & Sendable
        var testDescription: String { name }
    }

    static let allReporters = [
        NamedReporter(name: "human", reporter: HumanReporter()),
        NamedReporter(name: "human, colour, verbose", reporter: HumanReporter(color: true, verbose: true)),
        NamedReporter(name: "json", reporter: JSONReporter()),
        NamedReporter(name: "junit", reporter: JUnitReporter()),
        NamedReporter(name: "tap", reporter: TAPReporter()),
        NamedReporter(name: "gradescope", reporter: GradescopeReporter(message: "Lab \u{1b}[31m1")),
    ]

    /// The reporters whose output must hold no raw control character besides `\n`.
    static let plainReporters = allReporters.filter { $0.name != "human, colour, verbose" }

    // MARK: Golden outputs

    struct Golden: Sendable, CustomTestStringConvertible {
        let name: String
        let reporter: any Reporter & Sendable
        let report: RunReport
        let expected: String
        var testDescription: String { name }
    }

    static let goldens = [
        Golden(name: "human", reporter: HumanReporter(), report: hostileReport, expected: humanGolden),
        Golden(name: "human, colour, verbose", reporter: HumanReporter(color: true, verbose: true),
               report: hostileReport, expected: humanColorVerboseGolden),
        Golden(name: "json", reporter: JSONReporter(), report: hostileReport, expected: jsonGolden),
        Golden(name: "junit", reporter: JUnitReporter(), report: hostileReport, expected: junitGolden),
        Golden(name: "tap", reporter: TAPReporter(), report: hostileReport, expected: tapGolden),
        Golden(name: "human, empty", reporter: HumanReporter(color: true), report: emptyReport,
               expected: "0 passed, 0 failed\n"),
        Golden(name: "json, empty", reporter: JSONReporter(), report: emptyReport, expected: #"""
            {
              "version": 1,
              "summary": {
                "passed": 0,
                "failed": 0,
                "skipped": 0,
                "total": 0
              },
              "scenarios": []
            }

            """#),
        Golden(name: "junit, empty", reporter: JUnitReporter(), report: emptyReport, expected: #"""
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="ringspec" tests="0" failures="0" errors="0" skipped="0" time="0">
            </testsuites>

            """#),
        Golden(name: "tap, empty", reporter: TAPReporter(), report: emptyReport, expected: "TAP version 14\n1..0\n"),
    ]

    @Test(arguments: goldens)
    func rendersGolden(_ golden: Golden) {
        let rendered = golden.reporter.render(golden.report)
        #expect(rendered == golden.expected, "\(firstDifference(rendered, golden.expected))")
    }

    // MARK: Properties of every reporter

    @Test(arguments: allReporters)
    func isDeterministic(_ named: NamedReporter) {
        let first = named.reporter.render(hostileReport)
        let copy = RunReport(results: hostileReport.results)
        #expect(named.reporter.render(hostileReport) == first)
        #expect(named.reporter.render(copy) == first)
        #expect(first.hasSuffix("\n"))
    }

    /// No raw C0 (but `\n`), DEL or C1 anywhere: a scenario cannot reach the reader's terminal.
    @Test(arguments: plainReporters)
    func writesNoRawControlCharacters(_ named: NamedReporter) {
        let rendered = named.reporter.render(hostileReport)
        let raw = rendered.unicodeScalars.filter {
            ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value)
        }
        #expect(raw.isEmpty, "raw control characters: \(raw.map { String($0.value, radix: 16) })")
    }

    // MARK: Human

    @Test(arguments: [HumanReporter(), HumanReporter(color: true), HumanReporter(color: true, verbose: true)])
    func humanLastLineIsTheSummary(_ reporter: HumanReporter) {
        let rendered = reporter.render(hostileReport)
        #expect(rendered.hasSuffix("\n2 passed, 2 failed\n"))
        #expect(hostileReport.summaryLine == "2 passed, 2 failed")
    }

    @Test func humanColourOnlyWhenAsked() {
        #expect(!HumanReporter(color: false, verbose: true).render(hostileReport).contains("\u{1b}"))
        #expect(HumanReporter(color: true).render(hostileReport).contains("\u{1b}[32mPASS\u{1b}[0m"))
    }

    // MARK: JSON

    @Test func jsonParsesBackToTheSameStrings() throws {
        let data = Data(JSONReporter().render(hostileReport).utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(document["version"] as? Int == 1)
        let summary = try #require(document["summary"] as? [String: Any])
        #expect(summary["passed"] as? Int == 2)
        #expect(summary["failed"] as? Int == 2)
        #expect(summary["skipped"] as? Int == 1)
        #expect(summary["total"] as? Int == 5)

        let scenarios = try #require(document["scenarios"] as? [[String: Any]])
        #expect(scenarios.count == hostileReport.results.count)
        for (json, result) in zip(scenarios, hostileReport.results) {
            #expect(json["id"] as? String == result.id)
            #expect(json["file"] as? String == result.file)
            #expect((json["points"] as? NSNumber)?.doubleValue == result.points)
        }
        let failures = try #require(scenarios[1]["failures"] as? [[String: Any]])
        #expect(failures.map { $0["note"] as? String } == ["SEG-5: \u{1b}[31mnot red\u{1b}[0m", nil])
        #expect(failures[1]["actual"] as? String == "\"ok\u{0}\"")
        let diagnostics = try #require(scenarios[2]["diagnostics"] as? [[String: Any]])
        #expect(diagnostics[0]["notes"] as? [String] == ["did you mean 'steps'?", "anchor defined\u{2028}here"])
        #expect(diagnostics[1]["message"] as? String == "file is not UTF-8\r")
        #expect(diagnostics[1]["line"] is NSNull)
        #expect(scenarios[3]["skip_reason"] as? String == "needs x86_64 \u{9b}2J \u{7f}")
    }

    @Test func jsonEscapesLineSeparators() {
        let rendered = JSONReporter().render(hostileReport)
        #expect(!rendered.unicodeScalars.contains { $0.value == 0x2028 || $0.value == 0x2029 })
    }

    // MARK: JUnit

    @Test func junitTagsAreBalanced() throws {
        let rendered = JUnitReporter().render(hostileReport)
        let elements = try xmlElementNames(rendered)
        #expect(elements.filter { $0 == "testcase" }.count == 5)
        #expect(elements.filter { $0 == "testsuite" }.count == 3)
        #expect(elements.filter { $0 == "failure" }.count == 1)
        #expect(elements.filter { $0 == "error" }.count == 1)
        #expect(elements.filter { $0 == "skipped" }.count == 1)
    }

    // MARK: TAP

    /// Every line is the version, the plan, a test point, or part of a YAML block indented two spaces.
    @Test func tapLinesHaveTAPShape() {
        let lines = TAPReporter().render(hostileReport).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "TAP version 14")
        #expect(lines[1] == "1..5")
        #expect(lines.last == "")
        var testPoints = 0
        var inYAML = false
        for line in lines.dropFirst(2).dropLast() {
            if inYAML {
                #expect(line.hasPrefix("  "), "\(line)")
                if line == "  ..." { inYAML = false }
            } else if line == "  ---" {
                inYAML = true
            } else {
                testPoints += 1
                #expect(line.hasPrefix("ok \(testPoints) - ") || line.hasPrefix("not ok \(testPoints) - "), "\(line)")
            }
        }
        #expect(!inYAML)
        #expect(testPoints == 5)
        // The `#` in the id is escaped, so the only directive is the real SKIP.
        #expect(lines.contains("ok 4 - long-mode \\#2 # SKIP needs x86_64 \\u{9b}2J \\u{7f}"))
    }

    // MARK: Escaping

    @Test(arguments: [
        ("plain", "plain"),
        ("\u{1b}[31mred", "\\u{1b}[31mred"),
        ("a\u{0}b\u{7f}c\u{9b}d\u{85}", "a\\u{0}b\\u{7f}c\\u{9b}d\\u{85}"),
        ("two\nlines\r", "two\\u{a}lines\\u{d}"),
        ("é ü 漢 \u{a0}", "é ü 漢 \u{a0}"),
    ])
    func terminalEscaping(_ input: String, _ expected: String) {
        #expect(Escaping.terminal(input) == expected)
    }

    @Test func terminalEscapingCanKeepNewlines() {
        #expect(Escaping.terminal("a\nb\r\n", keepingNewlines: true) == "a\nb\\u{d}\n")
    }

    @Test(arguments: [
        ("plain", #""plain""#),
        ("q\"b\\s/", #""q\"b\\s/""#),
        ("\n\r\t\u{8}\u{c}", #""\n\r\t\b\f""#),
        ("\u{0}\u{1b}\u{7f}\u{9f}", #""\u0000\u001b\u007f\u009f""#),
        ("\u{2028}\u{2029}é", #""\u2028\u2029é""#),
    ])
    func jsonEscaping(_ input: String, _ expected: String) {
        #expect(Escaping.json(input) == expected)
    }

    @Test(arguments: [
        ("a&b<c>d\"e'f", "a&amp;b&lt;c&gt;d&quot;e&apos;f", "a&amp;b&lt;c&gt;d&quot;e&apos;f"),
        ("tab\tnl\ncr\r", "tab\tnl\ncr&#13;", "tab&#9;nl&#10;cr&#13;"),
        ("\u{0}\u{1b}\u{7f}\u{fffe}\u{ffff}\u{fffd}", "\\u{0}\\u{1b}\\u{7f}\\u{fffe}\\u{ffff}\u{fffd}",
         "\\u{0}\\u{1b}\\u{7f}\\u{fffe}\\u{ffff}\u{fffd}"),
    ])
    func xmlEscaping(_ input: String, _ text: String, _ attribute: String) {
        #expect(Escaping.xmlText(input) == text)
        #expect(Escaping.xmlAttribute(input) == attribute)
    }

    @Test(arguments: [
        ("plain: #not a comment", #""plain: #not a comment""#),
        ("q\"b\\", #""q\"b\\""#),
        ("\u{0}\u{1b}\u{7}\n\r\t", #""\0\e\x07\n\r\t""#),
        ("\u{7f}\u{85}\u{2028}\u{feff}", #""\x7f\x85\u2028\ufeff""#),
    ])
    func yamlEscaping(_ input: String, _ expected: String) {
        #expect(Escaping.yamlDoubleQuoted(input) == expected)
    }

    @Test(arguments: [
        ("id", "id"),
        ("a # SKIP b", "a \\# SKIP b"),
        ("back\\slash", "back\\\\slash"),
        ("esc\u{1b}", "esc\\\\u{1b}"),
    ])
    func tapDescriptionEscaping(_ input: String, _ expected: String) {
        #expect(Escaping.tapDescription(input) == expected)
    }

    @Test(arguments: [
        (1.0, "1"), (0.0, "0"), (-0.0, "0"), (2.5, "2.5"), (0.1, "0.1"), (-3.0, "-3"), (1e20, "1e+20"),
    ])
    func numbers(_ value: Double, _ expected: String) {
        #expect(Escaping.number(value) == expected)
    }

    @Test func notFiniteNumbersHaveNoJSONForm() {
        #expect(Escaping.number(.nan) == nil)
        #expect(Escaping.number(.infinity) == nil)
        var report = hostileReport
        report.results[0].points = .nan
        #expect(JSONReporter().render(report).contains(#""points": null,"#))
    }
}

// MARK: Helpers

/// Where two outputs first differ, to make a failed golden comparison readable.
private func firstDifference(_ a: String, _ b: String) -> String {
    let linesA = a.split(separator: "\n", omittingEmptySubsequences: false)
    let linesB = b.split(separator: "\n", omittingEmptySubsequences: false)
    for i in 0..<max(linesA.count, linesB.count) {
        let lineA = i < linesA.count ? String(linesA[i]) : "<end>"
        let lineB = i < linesB.count ? String(linesB[i]) : "<end>"
        if lineA != lineB { return "line \(i + 1):\n  got:      \(lineA.debugDescription)\n  expected: \(lineB.debugDescription)" }
    }
    return "identical"
}

private struct XMLShapeError: Error, CustomStringConvertible {
    var description: String
}

/// The names of the elements of `xml`, in document order, after checking that start and end
/// tags balance, that there is one root, and that `<` only ever starts markup (so no raw `<`
/// leaked from user data into text or attributes).
private func xmlElementNames(_ xml: String) throws -> [String] {
    var scalars = Substring(xml).unicodeScalars[...]
    var open: [String] = []
    var names: [String] = []
    var roots = 0
    func fail(_ message: String) -> XMLShapeError { XMLShapeError(description: message) }
    while let lt = scalars.firstIndex(of: "<") {
        scalars = scalars[scalars.index(after: lt)...]
        guard let gt = scalars.firstIndex(of: ">") else { throw fail("unterminated tag") }
        let tag = String(String.UnicodeScalarView(scalars[..<gt]))
        scalars = scalars[scalars.index(after: gt)...]
        if tag.hasPrefix("?") { continue }
        if tag.contains("<") { throw fail("raw < inside \(tag)") }
        // Attribute values are double-quoted; an even count of quotes means none leaked.
        if tag.filter({ $0 == "\"" }).count % 2 != 0 { throw fail("unbalanced quotes in \(tag)") }
        if tag.hasPrefix("/") {
            let name = String(tag.dropFirst())
            guard open.popLast() == name else { throw fail("</\(name)> closes nothing open") }
            continue
        }
        let name = String(tag.prefix { $0 != " " && $0 != "/" })
        if open.isEmpty { roots += 1 }
        names.append(name)
        if !tag.hasSuffix("/") { open.append(name) }
    }
    guard open.isEmpty else { throw fail("unclosed: \(open)") }
    guard roots == 1 else { throw fail("\(roots) root elements") }
    return names
}
