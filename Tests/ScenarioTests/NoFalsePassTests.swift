// No false passes, and reports that escape what they embed, through the built binary (issue 8).

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite(.serialized) struct NoFalsePassTests {
    static let good = minimalScenario("good") + "steps:\n  - exec: nop\n    expect: {cpl: 3}\n"

    @Test func malformedFileAmongGoodOnesExitsTwo() throws {
        let d = try TempDir()
        try d.write("a.yaml", Self.good)
        try d.write("b.yaml", "scenario: [unclosed\n")
        try d.write("c.yaml", Self.good.replacingOccurrences(of: "good", with: "good2"))
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "b.yaml", file: "b.yaml:")
        #expect(r.stdout.contains("2 passed, 1 failed"), "\(r.stdout)")
        for format in ["json", "junit", "tap"] {
            #expect(try runRingspec(["run", "--format", format, d.path]).status == 2, "\(format)")
        }
    }

    @Test func expectationKeysInTheWrongPlaceAreErrors() throws {
        let d = try TempDir()
        // `returns` beside the event instead of under `expect`.
        try d.write("beside.yaml", minimalScenario("beside") + "steps:\n  - syscall: {via: int80, nr: 20}\n    returns: 999\n")
        // A step-only key in the final expect, and a misspelt key.
        try d.write("final.yaml", minimalScenario("final") + "steps:\n  - exec: nop\nexpect: {cpl: 0}\n")
        try d.write("typo.yaml", minimalScenario("typo") + "steps:\n  - exec: nop\n    expect: {cpl: 3, retuns: 5}\n")
        // `expect` nested inside the event.
        try d.write("inside.yaml", minimalScenario("inside") + "steps:\n  - syscall: {via: int80, nr: 20, expect: {returns: 1}}\n")
        // RPL bits in an error-code selector cannot be checked (an error code has none): an error, not ignored.
        try d.write("rpl.yaml", minimalScenario("rpl") + "steps:\n  - exec: \"mov eax, cr3\"\n    expect: {fault: {vector: GP, error_code: {selector: 0x3}}}\n")
        try d.write("ti.yaml", minimalScenario("ti") + "steps:\n  - exec: \"mov eax, cr3\"\n    expect: {fault: {vector: GP, error_code: {selector: 0x0, ti: true}}}\n")
        let r = try runRingspec(["run", d.path])
        expectRefused(r, "unknown key 'returns'", file: "beside.yaml:7:5")
        expectRefused(r, "cpl", file: "final.yaml:7:")
        expectRefused(r, "unknown key 'retuns'", file: "typo.yaml:7:")
        expectRefused(r, "expect", file: "inside.yaml:6:")
        expectRefused(r, "has RPL bits", file: "rpl.yaml:7:")
        expectRefused(r, "contradicts the selector", file: "ti.yaml:7:")
        #expect(r.stdout.contains("0 passed, 6 failed"), "\(r.stdout)")
    }

    @Test func emptySuiteIsAnError() throws {
        let d = try TempDir()
        var r = try runRingspec(["run", d.path])
        #expect(r.status == 2 && !r.signalled)
        #expect(r.stderr.contains("no scenario files"), "\(r.stderr)")
        try d.write("_fragment.yaml", "machine: {mode: ia32}\n")
        try d.write("notes.txt", "scenario: x\n")
        r = try runRingspec(["run", d.path])
        #expect(r.status == 2, "\(r.output)")
        r = try runRingspec(["check", d.path])
        #expect(r.status == 2, "\(r.output)")
        // A file that holds only comments, or only an empty document.
        try d.write("empty.yaml", "# nothing here\n---\n...\n")
        expectRefused(try runRingspec(["run", d.path]), "the file holds no scenario", file: "empty.yaml:1:1")
        // A filter that matches nothing.
        let g = try TempDir()
        try g.write("a.yaml", Self.good)
        r = try runRingspec(["run", "--filter", "^nomatch$", g.path])
        #expect(r.status == 2, "\(r.output)")
        // An invalid document is reported even where --filter / --tag would not select it.
        try g.write("b.yaml", "scenario: broken\ntags: [x]\nbogus: 1\nsteps: [{exec: nop}]\n")
        for args in [["--filter", "^nomatch$"], ["--tag", "y"]] {
            r = try runRingspec(["run"] + args + [g.path])
            #expect(r.status == 2 && r.stdout.contains("INVALID  broken") && r.stdout.contains("b.yaml:3:1"), "\(args) \(r.output)")
        }
    }

    @Test func scenarioThatChecksNothingIsVisible() throws {
        let d = try TempDir()
        try d.write("nothing.yaml", minimalScenario("checks-nothing") + "steps:\n  - exec: nop\n")
        let human = try runRingspec(["run", d.path])
        #expect(human.status == 0)
        #expect(human.stdout.contains("PASS  checks-nothing") && human.stdout.contains("(checks nothing)"), "\(human.stdout)")
        let json = try runRingspec(["run", "--format", "json", d.path])
        #expect(json.stdout.contains("\"checks\": 0") || json.stdout.contains("\"checks\":0"), "\(json.stdout)")
        #expect(try runRingspec(["run", "--format", "junit", d.path]).stdout.contains("checks nothing"))
        #expect(try runRingspec(["run", "--format", "tap", d.path]).stdout.contains("checks nothing"))
    }

    // MARK: Escaping

    /// An id and messages full of what each format must escape: ESC/CSI sequences, quotes, XML
    /// markup and CDATA ends, TAP directives and plan lines, YAML-block breakers, NUL-like controls.
    static let hostileId = "x\u{1b}[2J\u{1b}]0;pwn\u{07}\\\"</testcase><![CDATA[ ]]>&amp;\u{9b}31m # SKIP\nnot ok 99 injected\n1..0\n---\r\u{2028}end"

    func hostileSuite() throws -> TempDir {
        let d = try TempDir()
        let yamlId = Self.hostileId.unicodeScalars.map { s -> String in
            switch s.value {
            case 0x22: return "\\\""
            case 0x5C: return "\\\\"
            case 0x20..<0x7F: return String(s)
            default: return String(format: "\\u%04x", s.value)
            }
        }.joined()
        // One scenario that fails (its message embeds the hostile output) and one invalid.
        try d.write("h.yaml", "scenario: \"\(yamlId)\"\nmachine: {mode: ia32}\nprocesses:\n  - {name: a, state: running}\n"
            + "steps:\n  - syscall: {via: int80, nr: 4, args: [1, \"\(yamlId)\", 3]}\n    expect: {output: \"\(yamlId)\"}\n")
        try d.write("i.yaml", "scenario: \"\(yamlId)2\"\nmachine: {mode: ia32}\nbogus\u{1b}[31m: 1\n")
        return d
    }

    @Test func humanReportEscapesTerminalControls() throws {
        let d = try hostileSuite()
        let r = try runRingspec(["run", "--no-color", d.path])
        #expect(r.status == 2)
        for c in ["\u{1b}", "\u{9b}", "\u{07}", "\r"] { #expect(!r.stdout.contains(c), "raw \(c.unicodeScalars.first!.value) in the human report") }
        #expect(r.stdout.contains("\\u{1b}"))
        let last = r.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasSuffix("0 passed, 2 failed"), "last line: \(last)")
    }

    /// `explain` writes ids, descriptions and messages from the file visibly too: it wrote them raw
    /// (ESC [2J cleared the grader's screen, OSC set the title).
    @Test func explainEscapesTerminalControls() throws {
        let d = try hostileSuite()
        for file in ["h.yaml", "i.yaml"] {
            let r = try runRingspec(["explain", d.path + "/" + file])
            for c in ["\u{1b}", "\u{9b}", "\u{07}", "\r"] { #expect(!r.stdout.contains(c), "raw \(c.unicodeScalars.first!.value) in explain of \(file)") }
            if file == "h.yaml" { #expect(r.stdout.contains("\\u{1b}"), "\(r.stdout.prefix(400))") }
        }
        let missing = try runRingspec(["explain", d.path + "/h.yaml", "--scenario", "x\u{1b}[2J"])
        #expect(missing.status == 2)
        #expect(!missing.stdout.contains("\u{1b}"))
    }

    @Test func jsonReportEscapesAndParses() throws {
        let d = try hostileSuite()
        let r = try runRingspec(["run", "--format", "json", d.path])
        #expect(r.status == 2)
        for c in ["\u{1b}", "\u{9b}", "\u{07}", "\r", "\u{2028}"] { #expect(!r.stdout.contains(c)) }
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        let text = "\(obj)"
        #expect(!text.isEmpty)
        let scenarios = ((obj as? [String: Any])?["scenarios"] as? [[String: Any]]) ?? ((obj as? [String: Any])?["results"] as? [[String: Any]]) ?? []
        #expect(scenarios.contains { ($0["id"] as? String) == Self.hostileId }, "the id does not round-trip:\n\(r.stdout.prefix(1500))")
    }

    @Test func junitReportEscapesAndParses() throws {
        let d = try hostileSuite()
        let r = try runRingspec(["run", "--format", "junit", d.path])
        #expect(r.status == 2)
        #expect(!r.stdout.contains("\u{1b}"))
        let parser = XMLParser(data: Data(r.stdout.utf8))
        let ok = parser.parse()
        #expect(ok, "JUnit XML does not parse: \(String(describing: parser.parserError))\n\(r.stdout.prefix(2000))")
        #expect(r.stdout.components(separatedBy: "<testcase").count - 1 == 2)
    }

    @Test func tapReportEscapesAndKeepsItsStructure() throws {
        let d = try hostileSuite()
        let r = try runRingspec(["run", "--format", "tap", d.path])
        #expect(r.status == 2)
        #expect(!r.stdout.contains("\u{1b}"))
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let results = lines.filter { $0.hasPrefix("ok") || $0.hasPrefix("not ok") }
        #expect(results.count == 2, "result lines: \(results)")
        #expect(lines.filter { $0.hasPrefix("1..") }.count == 1)
        #expect(!lines.contains { $0.contains("# SKIP") && ($0.hasPrefix("ok") || $0.hasPrefix("not ok")) && !$0.contains("\\#") && $0.hasSuffix("SKIP") })
    }
}
