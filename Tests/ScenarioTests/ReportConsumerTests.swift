// ReportConsumerTests: the machine-readable reports read the way their consumers read them, on a
// suite whose ids, descriptions and printed output are hostile (quotes, markup, `]]>`, `#`, `\`,
// newlines, NUL, ESC, C1, U+2028, U+FFFE, long strings) and which has a passed, a failed, an
// invalid and a checks-nothing scenario:
//   - TAP version 14: a strict line-by-line reader written from the specification (version line,
//     one plan, numbered test points, `\#`/`\\` escapes, YAML blocks indented two spaces between
//     `---` and `...`, nothing else but comments);
//   - JUnit XML as Jenkins, GitLab and the GitHub test-report actions read it: XMLParser accepts
//     it, every count attribute equals what its children say, a failed scenario is a <failure> and
//     an invalid one an <error>, both with `message` and `type`, and every testcase has a name;
//   - Gradescope's results.json: the fields of the autograder specification, plain-text formats,
//     no raw control characters (a NUL breaks the upload), a score that is the sum of the tests';
//   - the JSON report: parses, and every id round-trips.

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Scenario
import Testing

@Suite(.serialized) struct ReportConsumerTests {
    static let hostile = #"q\"<&>' ]]> </testcase> #SKIP \\ \n# TODO\nnot ok 9 - x\n  ---\n1..1 \0 \e[31m \x7f \u0085 \u2028 \ufffe end"#

    /// A failed, a passed, a checks-nothing and an invalid scenario, all with hostile ids.
    static func suite() throws -> TempDir {
        let d = try TempDir()
        let head = "machine: {mode: ia32}\nprocesses:\n  - {name: a, state: running}\n"
        let long = String(repeating: "L", count: 5000)
        try d.write("h.yaml", """
            scenario: "F \(hostile)"
            description: "\(hostile)"
            tags: ["\(hostile)"]
            \(head)steps:
              - syscall: {via: int80, nr: 4, args: [1, "\(hostile)", 40]}
                expect: {output: "nope"}
            ---
            scenario: "P \(hostile) \(long)"
            \(head)expect: {faults: 0}
            ---
            scenario: "N \(hostile)"
            \(head)---
            scenario: "I \(hostile)"
            \(head)"bad \(hostile)": 1

            """)
        return d
    }

    /// The ids as the scenarios spell them (the YAML escapes decoded).
    static var ids: [String] {
        let h = hostile.replacingOccurrences(of: #"\""#, with: "\"").replacingOccurrences(of: #"\\"#, with: "\\")
            .replacingOccurrences(of: #"\n"#, with: "\n").replacingOccurrences(of: #"\0"#, with: "\u{0}")
            .replacingOccurrences(of: #"\e"#, with: "\u{1b}").replacingOccurrences(of: #"\x7f"#, with: "\u{7f}")
            .replacingOccurrences(of: #"\u0085"#, with: "\u{85}").replacingOccurrences(of: #"\u2028"#, with: "\u{2028}")
            .replacingOccurrences(of: #"\ufffe"#, with: "\u{fffe}")
        return ["F " + h, "P " + h + " " + String(repeating: "L", count: 5000), "N " + h, "I " + h]
    }

    // MARK: TAP 14

    @Test func tapIsStrictTAP14() throws {
        let d = try Self.suite()
        let r = try runRingspec(["run", "--format", "tap", d.path])
        #expect(r.status == 2)
        let problems = TAP14.problems(r.stdout)
        #expect(problems.isEmpty, "\(problems)\n\(r.stdout.prefix(3000))")
        let points = TAP14.testPoints(r.stdout)
        #expect(points.map(\.ok) == [false, true, true, false])
        // Each description reads back (after TAP's `\` escapes) as the id, controls written visibly.
        #expect(points.map(\.description) == Self.ids.map { visible($0) })
    }

    // MARK: JUnit

    @Test func junitCountsAndElementsAreWhatConsumersRead() throws {
        let d = try Self.suite()
        let r = try runRingspec(["run", "--format", "junit", d.path])
        #expect(r.status == 2)
        let doc = try #require(XMLTree.parse(r.stdout), "JUnit XML does not parse:\n\(r.stdout.prefix(2000))")
        #expect(doc.name == "testsuites")
        var total = [String: Int]()
        for suite in doc.children {
            #expect(suite.name == "testsuite")
            var counts = ["tests": 0, "failures": 0, "errors": 0, "skipped": 0]
            for c in suite.children where c.name == "testcase" {
                counts["tests", default: 0] += 1
                #expect(!(c.attributes["name"] ?? "").isEmpty)
                #expect(c.attributes["classname"] != nil && c.attributes["time"] != nil)
                let kinds = c.children.map(\.name).filter { ["failure", "error", "skipped"].contains($0) }
                #expect(kinds.count <= 1)
                for k in c.children where k.name == "failure" || k.name == "error" {
                    #expect(k.attributes["message"] != nil && k.attributes["type"] != nil)
                }
                if kinds.contains("failure") { counts["failures", default: 0] += 1 }
                if kinds.contains("error") { counts["errors", default: 0] += 1 }
                if kinds.contains("skipped") { counts["skipped", default: 0] += 1 }
            }
            for (k, v) in counts {
                #expect(suite.attributes[k] == String(v), "testsuite \(k)")
                total[k, default: 0] += v
            }
        }
        for (k, v) in total { #expect(doc.attributes[k] == String(v), "testsuites \(k)") }
        let cases = doc.children.flatMap(\.children).filter { $0.name == "testcase" }
        // Failed is a <failure>, invalid an <error>: CI shows a broken scenario as broken, not as a wrong answer.
        #expect(cases.map { $0.children.first { ["failure", "error"].contains($0.name) }?.name ?? "ok" } == ["failure", "ok", "ok", "error"])
        #expect(cases.map { $0.attributes["name"] ?? "" } == Self.ids.map { xmlVisible($0) })
    }

    // MARK: Gradescope

    @Test func gradescopeFollowsTheAutograderSpecification() throws {
        let d = try Self.suite()
        let r = try runRingspec(["run", "--format", "gradescope", d.path])
        #expect(r.status == 2)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        // Plain text everywhere: Gradescope's default `simple_format` renders some HTML.
        #expect(doc["output_format"] as? String == "text")
        #expect(doc["test_output_format"] as? String == "text")
        #expect(doc["test_name_format"] as? String == "text")
        let tests = try #require(doc["tests"] as? [[String: Any]])
        #expect(tests.count == 4)
        var sum = 0.0
        for t in tests {
            let name = try #require(t["name"] as? String)
            let output = try #require(t["output"] as? String)
            #expect(["passed", "failed"].contains(t["status"] as? String ?? ""))
            let score = try #require(t["score"] as? Double), max = try #require(t["max_score"] as? Double)
            #expect(score >= 0 && score <= max)
            sum += score
            // No control character reaches Gradescope raw (a NUL makes the results upload fail).
            #expect(!name.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) }, "\(name.debugDescription)")
            #expect(!output.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7f...0x9f).contains($0.value) }, "\(output.debugDescription)")
        }
        #expect(abs(sum - (doc["score"] as? Double ?? -1)) < 1e-9)
        #expect(tests.map { $0["status"] as? String ?? "" } == ["failed", "passed", "passed", "failed"])
        #expect((tests[0]["name"] as? String ?? "").hasPrefix("F q\"<&>' ]]> </testcase> #SKIP \\ \\u{a}# TODO"))
    }

    // MARK: JSON

    @Test func jsonIdsRoundTrip() throws {
        let d = try Self.suite()
        let r = try runRingspec(["run", "--format", "json", d.path])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let scenarios = try #require(doc["scenarios"] as? [[String: Any]])
        #expect(scenarios.map { $0["id"] as? String ?? "" } == Self.ids)
        #expect(!r.stdout.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7f...0x9f).contains($0.value) || $0 == "\u{2028}" })
    }

    // MARK: Bidirectional controls

    /// U+202E (RIGHT-TO-LEFT OVERRIDE) and its kin are invisible and reorder the text after them
    /// on screen (CVE-2021-42574): an id holding one could make a report line read otherwise than
    /// it is. No report writes them raw; the TAP YAML block writes them as `\u202e`, which reads back.
    @Test func noReportWritesBidirectionalControlsRaw() throws {
        let bidi = "\u{202A}\u{202B}\u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}"
        let at = SourceLocation(file: "f\(bidi).yaml", line: 3, column: 5)
        let report = RunReport(results: [
            ScenarioResult(id: "PASS \(bidi) x", file: "f\(bidi).yaml", line: 1, description: "d\(bidi)", tags: ["t\(bidi)"],
                           outcome: .failed([CheckFailure(path: "expect.output", expected: "\"\(bidi)\"", actual: "\"\"", location: at, note: bidi)]),
                           checkCount: 1, warnings: [Diagnostic(.warning, "w\(bidi)", at: at, notes: [bidi])]),
            ScenarioResult(id: "i\(bidi)", file: "f\(bidi).yaml", line: 9, outcome: .invalid([Diagnostic(.error, "e\(bidi)", at: at)])),
        ])
        let reporters: [any Reporter] = [HumanReporter(), HumanReporter(color: true, verbose: true), JSONReporter(), JUnitReporter(),
                                         TAPReporter(), GradescopeReporter(message: "m\(bidi)"), JSONReporter(grading: true),
                                         JUnitReporter(grading: true), TAPReporter(grading: true)]
        for r in reporters {
            let text = r.render(report)
            #expect(!text.unicodeScalars.contains { Escaping.isBidiControl($0.value) }, "\(type(of: r)): \(text.debugDescription.prefix(400))")
        }
        #expect(Escaping.yamlDoubleQuoted("a\u{202E}b") == "\"a\\u202eb\"")
        #expect(Escaping.json("a\u{202E}b") == "\"a\\u202eb\"")
        #expect(Escaping.terminal("a\u{202E}b") == "a\\u{202e}b")
        // The strict TAP reader still accepts the report.
        #expect(TAP14.problems(TAPReporter().render(report)).isEmpty)
    }

    // MARK: A report that cannot be written

    /// `ringspec run --format junit suite > report.xml` on a full disk exited 0 with no report:
    /// CI saw a green run. A failure to write standard output (other than the reader going away)
    /// is now an error, exit status 2.
    @Test(arguments: ["human", "junit", "tap", "json", "gradescope"])
    func aReportThatCannotBeWrittenToStandardOutputFailsTheRun(_ format: String) throws {
        let d = try TempDir()
        try d.write("ok.yaml", minimalScenario("ok") + "expect: {faults: 0}\n")
        let bin = try #require(ringspecBinary())
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["run", "--format", format, d.path]
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let errPath = d.path + "/stderr"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = full
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        #expect(p.terminationReason == .exit)
        #expect(p.terminationStatus == 2, "\(stderr)")
        #expect(stderr.contains("cannot write the report: No space left on device"), "\(stderr)")
    }

    // MARK: Names are never empty

    /// `scenario: ""` was refused but reported under the empty id, so JUnit had `name=""`, TAP
    /// `not ok 1 - ` and Gradescope ` (f.yaml)`; a blank id (`" "`) passed as a test named by spaces.
    @Test(arguments: ["\"\"", "\" \"", "\"\\t\"", "\"\\u2028\""])
    func aBlankIdIsRefusedAndReportedAsFileAndLine(_ id: String) throws {
        let d = try TempDir()
        try d.write("b.yaml", "scenario: \(id)\nmachine: {mode: ia32}\nprocesses:\n  - {name: a, state: running}\nexpect: {faults: 0}\n")
        expectRefused(try runRingspec(["run", d.path]), "scenario id must not be empty or blank", file: "b.yaml:1:11")
        let tap = try runRingspec(["run", "--format", "tap", d.path]).stdout
        #expect(tap.contains("not ok 1 - b.yaml:1\n"), "\(tap)")
        let junit = try runRingspec(["run", "--format", "junit", d.path]).stdout
        #expect(junit.contains("name=\"b.yaml:1\""), "\(junit)")
    }
}

/// `s` as the one-line reports write it: controls as `\u{1b}` (`Escaping.terminal`).
private func visible(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        if u.value < 0x20 || (0x7f...0x9f).contains(u.value) { out += "\\u{" + String(u.value, radix: 16) + "}" } else { out.unicodeScalars.append(u) }
    }
    return out
}

/// `s` as JUnit attributes carry it once parsed: newlines and tabs kept (as references), other
/// controls and U+FFFE/U+FFFF visible.
private func xmlVisible(_ s: String) -> String {
    var out = ""
    for u in s.unicodeScalars {
        if (u.value < 0x20 && u != "\n" && u != "\t") || (0x7f...0x9f).contains(u.value) || u.value == 0xfffe || u.value == 0xffff {
            out += "\\u{" + String(u.value, radix: 16) + "}"
        } else { out.unicodeScalars.append(u) }
    }
    return out
}

/// A strict reader of TAP version 14 (testanything.org/tap-version-14-specification.html), as far
/// as ringspec writes it: no subtests, no pragmas, no bail out.
enum TAP14 {
    struct Point { var ok: Bool; var number: Int; var description: String; var directive: String? }

    /// `ok N - DESC [# DIRECTIVE]`: DESC unescaped (`\#` -> `#`, `\\` -> `\`); an unescaped `#` ends it.
    static func parsePoint(_ line: String) -> Point? {
        var rest = Substring(line)
        let ok: Bool
        if rest.hasPrefix("ok ") { ok = true; rest = rest.dropFirst(3) } else if rest.hasPrefix("not ok ") { ok = false; rest = rest.dropFirst(7) } else { return nil }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard let number = Int(digits) else { return nil }
        rest = rest.dropFirst(digits.count)
        guard rest.hasPrefix(" - ") || rest.isEmpty else { return nil }
        rest = rest.dropFirst(min(3, rest.count))
        var description = ""
        var directive: String?
        var i = rest.startIndex
        while i < rest.endIndex {
            let c = rest[i]
            if c == "\\", rest.index(after: i) < rest.endIndex {
                description.append(rest[rest.index(after: i)])
                i = rest.index(i, offsetBy: 2)
                continue
            }
            if c == "#" {
                directive = String(rest[rest.index(after: i)...]).trimmingCharacters(in: .whitespaces)
                description = description.trimmingCharacters(in: .whitespaces)
                break
            }
            description.append(c)
            i = rest.index(after: i)
        }
        return Point(ok: ok, number: number, description: description, directive: directive)
    }

    static func testPoints(_ text: String) -> [Point] {
        text.split(separator: "\n").compactMap { parsePoint(String($0)) }
    }

    /// Everything that is not TAP 14 as a consumer reads it.
    static func problems(_ text: String) -> [String] {
        var problems: [String] = []
        guard text.hasSuffix("\n") else { return ["no final newline"] }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.first == "TAP version 14" else { return ["first line is not `TAP version 14`"] }
        var plan: Int?
        var count = 0
        var i = 1
        var afterPoint = false
        while i < lines.count {
            let line = lines[i]
            if line.hasPrefix("1..") {
                if plan != nil { problems.append("a second plan at line \(i + 1)") }
                plan = Int(line.dropFirst(3))
                if plan == nil { problems.append("bad plan: \(line)") }
                if count != 0 && i != lines.count - 1 { problems.append("the plan is neither first nor last") }
                afterPoint = false
            } else if let p = parsePoint(line) {
                count += 1
                if p.number != count { problems.append("test point \(p.number) where \(count) was due") }
                if let d = p.directive, !d.uppercased().hasPrefix("SKIP"), !d.uppercased().hasPrefix("TODO") {
                    problems.append("unescaped # in a description: \(line.prefix(120))")
                }
                if p.directive != nil { problems.append("a directive the report did not mean: \(line.prefix(120))") }
                afterPoint = true
            } else if line == "  ---" && afterPoint {
                guard let end = lines[(i + 1)...].firstIndex(of: "  ...") else { problems.append("YAML block not closed"); break }
                for y in lines[(i + 1)..<end] where !y.hasPrefix("  ") || y.hasPrefix("  ---") || y.hasPrefix("  ...") {
                    problems.append("YAML block line out of place: \(y.prefix(120))")
                }
                i = end
                afterPoint = false
            } else if line.hasPrefix("#") {
                afterPoint = false
            } else {
                problems.append("not a TAP line: \(line.prefix(120))")
            }
            i += 1
        }
        if plan != count { problems.append("plan \(String(describing: plan)) for \(count) test points") }
        return problems
    }
}

/// A parsed XML element (XMLParser, the parser Foundation ships).
final class XMLTree: NSObject, XMLParserDelegate {
    final class Element {
        let name: String
        let attributes: [String: String]
        var children: [Element] = []
        init(name: String, attributes: [String: String]) {
            self.name = name
            self.attributes = attributes
        }
    }

    private var stack: [Element] = []
    private var root: Element?

    static func parse(_ text: String) -> Element? {
        let tree = XMLTree()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = tree
        guard parser.parse() else { return nil }
        return tree.root
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        let e = Element(name: name, attributes: attributes)
        if let top = stack.last { top.children.append(e) } else { root = e }
        stack.append(e)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        _ = stack.popLast()
    }
}
