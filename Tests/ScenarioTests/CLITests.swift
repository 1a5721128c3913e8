// CLITests: end-to-end tests that run the built `ringspec` binary as a user or a CI job would:
// grade (predict, construct, tampering, invalid input, the Gradescope run_autograder script),
// --update round trips, --jobs/--shard/--fail-fast, strictness, colour, schema, new, explain.

import Foundation
@testable import Scenario
import Testing

/// Running the binary and reading what it wrote.
enum CLI {
    /// The `ringspec` executable: next to the test bundle in the build products folder, or
    /// wherever `swift build --show-bin-path` puts products for this package.
    static let binary: String = {
        var dirs: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            dirs.append(URL(fileURLWithPath: exe).deletingLastPathComponent().path)
        }
        dirs.append(Bundle.main.bundleURL.deletingLastPathComponent().path)
        dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path)
        dirs.append(packageRoot() + "/.build/debug")
        for d in dirs where FileManager.default.isExecutableFile(atPath: d + "/ringspec") { return d + "/ringspec" }
        return packageRoot() + "/.build/debug/ringspec"
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program with arguments in `cwd` (default: the package root). Output goes through
    /// files, not pipes, so that a large report cannot block the child.
    @discardableResult
    static func run(_ args: [String], env: [String: String] = [:], cwd: String? = nil, program: String = CLI.binary) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        // A whole-suite run over the shipped scenarios gets a generous per-scenario time limit: the default 10 s
        // guards against runaway input, and a loaded CI machine can take that long over a trusted scenario.
        let wholeSuite = program == CLI.binary && args.first == "run"
            && args.contains { $0 == "scenarios" || $0.hasSuffix("/scenarios") } && !args.contains("--time-limit")
        p.arguments = wholeSuite ? args + ["--time-limit", "600"] : args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd ?? packageRoot())
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "NO_COLOR")
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let dir = try temporaryDirectory()
        let out = dir + "/stdout", err = dir + "/stderr"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let result = Output(status: p.terminationStatus, stdout: try String(contentsOfFile: out, encoding: .utf8),
                            stderr: try String(contentsOfFile: err, encoding: .utf8))
        try? FileManager.default.removeItem(atPath: dir)
        return result
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "ringspec-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func copy(_ from: String, to: String) throws {
        try FileManager.default.copyItem(atPath: from, toPath: to)
    }

    static func json(_ text: String) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
        guard let object = value as? [String: Any] else { throw CLIError(description: "not a JSON object: \(text.prefix(200))") }
        return object
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
}

struct CLIError: Error, CustomStringConvertible { var description: String }

/// The ids of a JSON report, in order.
private func ids(_ report: [String: Any]) -> [String] {
    (report["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
}

private func number(_ v: Any?) -> Double { (v as? NSNumber)?.doubleValue ?? .nan }

@Suite(.serialized) struct CLITests {
    let root = packageRoot()

    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: CLI.binary), "no ringspec binary at \(CLI.binary): run `swift build` first")
    }

    // MARK: Reports, parallel runs, shards

    @Test(arguments: ["human", "json", "junit", "tap", "gradescope"])
    func reportIsTheSameForAnyJobCountAndRun(_ format: String) throws {
        let one = try CLI.run(["run", "scenarios", "--format", format, "--jobs", "1"])
        let four = try CLI.run(["run", "scenarios", "--format", format, "--jobs", "4"])
        let again = try CLI.run(["run", "scenarios", "--format", format, "--jobs", "4"])
        #expect(one.status == 0, "\(one.stdout)\(one.stderr)")
        #expect(one.stdout == four.stdout)
        #expect(four.stdout == again.stdout)
        #expect(!one.stdout.isEmpty)
        // Not a terminal: no progress line, no colour.
        #expect(one.stderr.isEmpty && four.stderr.isEmpty)
        #expect(!one.stdout.contains("\u{1b}"))
    }

    @Test func shardsPartitionTheFiles() throws {
        let all = ids(try CLI.json(try CLI.run(["run", "scenarios", "--format", "json"]).stdout))
        var union: [String] = []
        for k in 1...3 {
            let r = try CLI.run(["run", "scenarios", "--format", "json", "--shard", "\(k)/3"])
            union += ids(try CLI.json(r.stdout))
        }
        #expect(union.sorted() == all.sorted())
        #expect(Set(union).count == union.count)
        #expect(try CLI.run(["run", "scenarios", "--shard", "4/3"]).status == 2)
    }

    /// A refused entry (a symbolic link out of the folder) is reported by one shard only, so the
    /// shards' union is the whole run: it was reported by every shard (N times in a merged report).
    @Test(arguments: [2, 3, 5])
    func shardsReportARefusedEntryOnce(_ n: Int) throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("scenario: a\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n", to: dir + "/a.yaml")
        try CLI.write("scenario: b\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n", to: dir + "/b.yaml")
        try FileManager.default.createSymbolicLink(atPath: dir + "/evil.yaml", withDestinationPath: "/etc/passwd")
        let all = try CLI.run(["run", dir, "--format", "json"])
        let allFiles = (try CLI.json(all.stdout)["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
        #expect(allFiles.count == 3)
        var union: [String] = []
        for k in 1...n {
            let r = try CLI.run(["run", dir, "--format", "json", "--shard", "\(k)/\(n)"])
            if r.status == 2, r.stdout.isEmpty {
                #expect(r.stderr.contains("shard \(k)/\(n) holds no scenario file"), "\(r.stderr)")
                continue
            }
            union += (try CLI.json(r.stdout)["scenarios"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
        }
        #expect(union.sorted() == allFiles.sorted())
    }

    /// An id reused in a file of another shard is invalid in that shard, as in the whole run: each
    /// shard saw only its own files, so the whole run exited 2 while every shard passed.
    @Test(arguments: ["1", "2"])
    func shardsFindAnIDReusedInAnotherShard(_ jobs: String) throws {
        let dir = try CLI.temporaryDirectory()
        let body = "machine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n"
        try CLI.write("scenario: same\n" + body, to: dir + "/a.yaml")
        try CLI.write("scenario: same\n" + body, to: dir + "/b.yaml")   // shard 2 of 2; a.yaml is in shard 1
        try CLI.write("scenario: other\n" + body, to: dir + "/c.yaml")
        let all = try CLI.run(["run", dir, "--format", "json", "--jobs", jobs])
        #expect(all.status == 2)
        var union: [[String: Any]] = []
        var statuses: [Int32] = []
        for k in 1...2 {
            let r = try CLI.run(["run", dir, "--format", "json", "--shard", "\(k)/2", "--jobs", jobs])
            statuses.append(r.status)
            union += try CLI.json(r.stdout)["scenarios"] as? [[String: Any]] ?? []
        }
        #expect(statuses.contains(2))
        let byFile = { (s: [[String: Any]]) in s.map { "\($0["file"] ?? "") \($0["status"] ?? "")" }.sorted() }
        #expect(byFile(union) == byFile(try CLI.json(all.stdout)["scenarios"] as? [[String: Any]] ?? []))
        #expect(byFile(union).contains { $0.hasSuffix("b.yaml invalid") })
    }

    /// `--filter` is a regular expression: alternation and `\\d` matched nothing before (a small
    /// matcher knew only `. * + ? ^ $ [...]`), and a pattern that is not one ran nothing and said
    /// "no scenario matched the filter" instead of naming the mistake.
    @Test(arguments: [("hello|two", 3), ("\\d", 2), ("^two.*s$", 1), ("(?i)HELLO", 2), ("x86_64$", 1), ("hello-int80-ia32", 1)])
    func filterIsARegularExpression(_ pattern: String, _ count: Int) throws {
        let r = try CLI.run(["run", "scenarios/hello", "--format", "json", "--filter", pattern])
        #expect(r.status == 0, "\(r.stderr)")
        let found = ids(try CLI.json(r.stdout))
        #expect(found.count == count, "\(found)")
    }

    @Test func aFilterThatIsNotARegularExpressionIsAUsageError() throws {
        let r = try CLI.run(["run", "scenarios/hello", "--filter", "["])
        #expect(r.status == 2)
        #expect(r.stderr.contains("--filter '[' is not a regular expression"), "\(r.stderr)")
    }

    @Test func failFastStopsAtTheFirstFailureWhateverTheJobs() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("scenario: a-fails\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 0}\n", to: dir + "/a.yaml")
        try CLI.write("scenario: b-passes\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n", to: dir + "/b.yaml")
        let full = try CLI.run(["run", dir, "--format", "json"])
        #expect(full.status == 1)
        #expect(ids(try CLI.json(full.stdout)) == ["a-fails", "b-passes"])
        for jobs in ["1", "2"] {
            let r = try CLI.run(["run", dir, "--format", "json", "--fail-fast", "--jobs", jobs])
            #expect(r.status == 1)
            #expect(ids(try CLI.json(r.stdout)) == ["a-fails"])
        }
    }

    /// A refused entry (reported first) is an invalid scenario: with --fail-fast the report ends
    /// with it. The run went on to the files after it, up to the first failure.
    @Test(arguments: ["1", "2"])
    func failFastStopsAtARefusedEntry(_ jobs: String) throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("scenario: b-passes\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 3}\n", to: dir + "/b.yaml")
        try CLI.write("scenario: c-fails\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect: {cpl: 0}\n", to: dir + "/c.yaml")
        try FileManager.default.createSymbolicLink(atPath: dir + "/a.yaml", withDestinationPath: "/etc/passwd")
        let r = try CLI.run(["run", dir, "--format", "json", "--fail-fast", "--jobs", jobs])
        #expect(r.status == 2)
        #expect(ids(try CLI.json(r.stdout)) == ["a.yaml"])
    }

    @Test func colourOnlyWhenAskedAndNeverWithNoColor() throws {
        let asked = try CLI.run(["run", "scenarios/hello", "--color"])
        #expect(asked.stdout.contains("\u{1b}[32mPASS"))
        let refused = try CLI.run(["run", "scenarios/hello", "--color"], env: ["NO_COLOR": "1"])
        #expect(!refused.stdout.contains("\u{1b}"))
        let piped = try CLI.run(["run", "scenarios/hello"])
        #expect(!piped.stdout.contains("\u{1b}"))
    }

    // MARK: Strictness

    @Test func aScenarioThatChecksNothingIsAWarningOrWithStrictAFailure() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("scenario: idle\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n", to: dir + "/idle.yaml")
        let plain = try CLI.run(["run", dir, "--format", "json"])
        #expect(plain.status == 0)
        let scenario = (try CLI.json(plain.stdout)["scenarios"] as? [[String: Any]])?.first
        let warnings = scenario?["warnings"] as? [[String: Any]] ?? []
        #expect(warnings.contains { ($0["message"] as? String)?.contains("checks nothing") == true })
        let strict = try CLI.run(["run", dir, "--strict"])
        #expect(strict.status == 1)
        #expect(strict.stdout.contains("at least one check (--strict)"))
    }

    /// `run --format gradescope` said "1 passed" above a test whose status was "failed" (score 0)
    /// for a scenario that checks nothing. The status is the outcome, as in the summary; the score
    /// stays 0 (nothing checked earns nothing); with --strict both say failed.
    @Test func gradescopeReportOfAScenarioThatChecksNothingAgreesWithItself() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("scenario: idle\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n", to: dir + "/idle.yaml")
        let plain = try CLI.run(["run", dir, "--format", "gradescope"])
        #expect(plain.status == 0)
        let doc = try CLI.json(plain.stdout)
        #expect(number(doc["score"]) == 0)
        #expect(doc["output"] as? String == "1 passed, 0 failed")
        let test = (doc["tests"] as? [[String: Any]])?.first ?? [:]
        #expect(test["status"] as? String == "passed")
        #expect(number(test["score"]) == 0)
        #expect((test["output"] as? String)?.contains("passed, but checks nothing, so it earns no points") == true)
        #expect((test["output"] as? String)?.contains("checks nothing: it has no `expect`") == true)
        let strict = try CLI.json(try CLI.run(["run", dir, "--format", "gradescope", "--strict"]).stdout)
        #expect(strict["output"] as? String == "0 passed, 1 failed")
        #expect((strict["tests"] as? [[String: Any]])?.first?["status"] as? String == "failed")
    }

    @Test func aFaultExpectationOnASetStepIsAWarning() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.write("""
            scenario: set-cannot-fault
            machine: {mode: x86_64}
            kernel: none
            steps:
              - set: {regs: {rax: 1}}
                expect: {fault: none, regs: {rax: 1}}

            """, to: dir + "/s.yaml")
        let r = try CLI.run(["run", dir])
        #expect(r.status == 0)
        #expect(r.stdout.contains("warning: steps[0] is a `set` step, which only changes state and cannot fault"))
    }

    // MARK: --update

    static let updateFixture = """
        # A file an author is still writing: comments, flow and block styles, two documents.
        scenario: update-me   # the id
        machine: {mode: ia32}
        processes:
          - {name: hello, state: running}   # one task
        steps:
          # a write through int 0x80
          - syscall: {via: int80, nr: write, args: [1, "hi\\n", 3]}
            expect:
              returns: 99        # wrong on purpose
              cpl: 3
          - syscall: {via: int80, nr: getpid}
            expect: {returns: 0}
        expect:
          output: "wrong"
        ---
        # the second document
        scenario: update-me-too
        machine: {mode: x86_64}
        kernel: none
        steps:
          - exec: "mov rax, 5"
            expect: {regs: {rax: 5}}
          - access: {op: read, addr: 0xffff888000001000}
            expect:
              fault: none
        expect: {}

        """

    /// The file's bytes with the span of every expect value cut out.
    static func outsideExpect(_ text: String) throws -> String {
        let bytes = Array(text.utf8)
        var spans: [Range<Int>] = []
        for doc in try YAMLLoader.load(bytes) {
            guard let root = doc.root else { continue }
            for block in YAMLTree.expectBlocks(root) {
                spans.append(block.node.start.offset..<ExpectUpdater.contentEnd(block.node, bytes))
            }
        }
        var out = bytes
        for s in spans.sorted(by: { $0.lowerBound > $1.lowerBound }) { out.replaceSubrange(s, with: Array("<expect>".utf8)) }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func updateRoundTripKeepsEverythingOutsideExpect() throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir + "/u.yaml"
        try CLI.write(Self.updateFixture, to: file)
        #expect(try CLI.run(["run", file]).status == 1)
        let updated = try CLI.run(["run", "--update", file])
        #expect(updated.status == 0, "\(updated.stdout)\(updated.stderr)")
        let after = try CLI.read(file)
        #expect(try Self.outsideExpect(after) == Self.outsideExpect(Self.updateFixture))
        #expect(after.contains("returns: 3"))
        #expect(after.contains("cpl: 3"))
        #expect(after.contains("fault: {vector: PF, error_code: 0x5, cr2: 0xffff888000001000}"))
        #expect(try CLI.run(["run", file]).status == 0)
        // A second update changes nothing.
        try CLI.run(["run", "--update", file])
        #expect(try CLI.read(file) == after)
    }

    @Test func updateAddsMissingExpectBlocks() throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir + "/n.yaml"
        let text = """
            scenario: no-expect-yet
            machine: {mode: x86_64}
            kernel:
              scheduler: {policy: rr, timeslice: 2}
            processes:
              - {name: a, state: running}   # first
              - {name: b, state: ready}
            steps:
              - timer: 2   # a's slice ends
              - {timer: 2}
              - schedule

            """
        try CLI.write(text, to: file)
        #expect(try CLI.run(["run", "--update", file]).status == 0)
        let after = try CLI.read(file)
        #expect(after.hasPrefix(String(text.prefix(text.count - 1 - "  - schedule\n".count))) || after.contains("- timer: 2   # a's slice ends\n"))
        #expect(after.contains("  - {name: a, state: running}   # first\n"))
        #expect(after.contains("switch: {from: a, to: b, reason: timer}"))
        #expect(after.contains("schedule: [a, b, a]"))
        #expect(try CLI.run(["run", file, "--strict"]).status == 0)
    }

    /// Aliases and `--update`. A new block was placed after the end of the node an alias stands
    /// for (its copy carries the anchored text's marks), which corrupted the file when the
    /// scenario ended with an alias (`- syscall: *s`): the new `expect` went into the first step's
    /// line. An aliased `expect` stopped the whole scenario's update, and a step whose keys all come
    /// from `<<` got its expect written into the anchored mapping (changing every alias of it).
    @Test func updateWritesAfterAliasesAndLeavesAnchoredTextAlone() throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir + "/a.yaml"
        let text = """
            x-x: &x {cpl: 3}
            x-e: &e
              syscall: {via: int80, nr: 20}
            scenario: aliases
            machine: {mode: ia32}
            processes: [{name: a, state: running}]
            steps:
              - syscall: &s {via: int80, nr: 20}
                expect: {returns: 2}
              - <<: *e
              - syscall: {via: int80, nr: 20}
                expect: *x
              - syscall: *s

            """
        try CLI.write(text, to: file)
        let r = try CLI.run(["run", "--update", file])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("steps[1]: its keys all come from a merge (<<); not updated"), "\(r.stderr)")
        #expect(r.stderr.contains("steps[2]: its expect is an anchor or an alias; not updated"), "\(r.stderr)")
        let after = try CLI.read(file)
        // The anchored text is as it was; the other blocks were updated; the file still runs.
        #expect(after.hasPrefix("x-x: &x {cpl: 3}\nx-e: &e\n  syscall: {via: int80, nr: 20}\nscenario: aliases\n"), "\(after)")
        #expect(after.contains("expect: {returns: 1,"), "\(after)")
        #expect(after.contains("  - syscall: *s\n    expect:\n      gate:"), "\(after)")
        #expect(after.hasSuffix("expect:\n  schedule: [a]\n  switches: 0\n  processes: {a: {state: running}}\n"), "\(after)")
        let again = try CLI.run(["run", file, "--format", "json"])
        #expect(again.status == 0, "\(again.stdout)")
        #expect(try CLI.run(["run", "--update", file]).status == 0)
        #expect(try CLI.read(file) == after)
    }

    @Test func updateFillsEmptyExpectBlocks() throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir + "/e.yaml"
        try CLI.write("scenario: empty\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect:   # to fill in\n", to: file)
        #expect(try CLI.run(["run", file]).stdout.contains("checks nothing"))
        #expect(try CLI.run(["run", "--update", file]).status == 0)
        // Under the key, one check per line, as a missing expect is added (AuthoringFrictionTests).
        #expect(try CLI.read(file) == "scenario: empty\nmachine: {mode: x86_64}\nkernel: none\nsteps:\n  - exec: nop\n    expect:   # to fill in\n      cpl: 3\n")
    }

    /// A file written with CR LF line ends keeps them in the lines `--update` adds.
    @Test func updateKeepsCRLFLineEnds() throws {
        let dir = try CLI.temporaryDirectory()
        let file = dir + "/crlf.yaml"
        try CLI.write("scenario: crlf\r\nmachine: {mode: x86_64}\r\nkernel: none\r\nsteps:\r\n  - exec: nop\r\n    expect:\r\n  - exec: nop\r\n", to: file)
        #expect(try CLI.run(["run", "--update", file]).status == 0)
        let text = try CLI.read(file)
        #expect(text == "scenario: crlf\r\nmachine: {mode: x86_64}\r\nkernel: none\r\nsteps:\r\n  - exec: nop\r\n    expect:\r\n      cpl: 3\r\n  - exec: nop\r\n    expect:\r\n      cpl: 3\r\n", "\(text.debugDescription)")
        #expect(try CLI.run(["run", file]).status == 0)
    }

    @Test func updatedShippedScenariosStillPass() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.copy(root + "/scenarios", to: dir + "/scenarios")
        let r = try CLI.run(["run", "--update", dir + "/scenarios"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(try CLI.run(["run", dir + "/scenarios", "--strict"]).status == 0)
        for f in try Suite.discover([dir + "/scenarios"]) {
            let original = try CLI.read(root + "/scenarios" + f.dropFirst((dir + "/scenarios").count))
            let updated = try CLI.read(f)
            // Where every expect block already existed, the bytes outside them are unchanged.
            guard original.components(separatedBy: "expect:").count == updated.components(separatedBy: "expect:").count else { continue }
            #expect(try Self.outsideExpect(updated) == Self.outsideExpect(original), "\(f)")
        }
    }

    // MARK: Grading

    var predict: String { root + "/examples/predict/exercise" }
    var construct: String { root + "/examples/construct/exercise" }

    @Test func gradesThePredictExample() throws {
        let r = try CLI.run(["grade", "--exercise", predict, "--submission", root + "/examples/predict/submission"])
        #expect(r.status == 1)
        let doc = try CLI.json(r.stdout)
        #expect(number(doc["score"]) == 4.5)
        let tests = doc["tests"] as? [[String: Any]] ?? []
        #expect(tests.count == 2)
        for t in tests {
            for key in ["name", "score", "max_score", "output", "visibility"] { #expect(t[key] != nil, "\(key) missing") }
        }
        #expect(number(tests[0]["score"]) == 3)
        // 3 of its 4 blanks right (the gate's `type` is wrong, its `to_cpl` right).
        #expect(number(tests[1]["score"]) == 1.5)
        #expect(number(tests[1]["max_score"]) == 2)
        #expect((tests[1]["output"] as? String)?.contains("failed: 3 of 4 blanks right (partial credit)") == true)
        #expect((tests[1]["output"] as? String)?.contains("expected interrupt, got trap") == true)
        let again = try CLI.run(["grade", "--exercise", predict, "--submission", root + "/examples/predict/submission"])
        #expect(again.stdout == r.stdout)
    }

    @Test func aPredictSubmissionThatChangesTheMachineScoresZero() throws {
        let dir = try CLI.temporaryDirectory()
        let original = try CLI.read(root + "/examples/predict/submission/gates.yaml")
        let tampered = original.replacingOccurrences(of: "type: call_gate, dpl: 3", with: "type: call_gate, dpl: 0")
        #expect(tampered != original)
        try CLI.write(tampered, to: dir + "/gates.yaml")
        let r = try CLI.run(["grade", "--exercise", predict, "--submission", dir, "--format", "json"])
        let scenarios = try CLI.json(r.stdout)["scenarios"] as? [[String: Any]] ?? []
        #expect(scenarios.count == 2)
        #expect(number(scenarios[0]["score"]) == 0)
        // The untouched second scenario: 3 of its 4 blanks right.
        #expect(number(scenarios[1]["score"]) == 1.5)
        #expect(number(scenarios[1]["blanks"]) == 4)
        #expect(number(scenarios[1]["blanks_right"]) == 3)
        let failures = scenarios[0]["failures"] as? [[String: Any]] ?? []
        #expect(failures.first?["path"] as? String == "machine.gdt.20.dpl")
        #expect((failures.first?["note"] as? String)?.contains("only `expect` blocks may be changed") == true)
    }

    /// `grade` took the limit flags and ignored them (the defaults always applied, while the
    /// messages named the flags), took `--root` and ignored it, and dropped a symbolic link out
    /// of the submission without a word (the student saw only "missing scenario").
    @Test func gradeAppliesTheLimitFlagsAndNamesWhatItRefused() throws {
        let dir = try CLI.temporaryDirectory()
        let answer = try CLI.read(root + "/examples/predict/submission/gates.yaml")
        try CLI.write(answer + "# " + String(repeating: "x", count: 1_100_000) + "\n", to: dir + "/gates.yaml")
        let refused = try CLI.run(["grade", "--exercise", predict, "--submission", dir])
        #expect(refused.status == 1)
        let output = try CLI.json(refused.stdout)["output"] as? String ?? ""
        #expect(output.contains("gates.yaml:1:1: file is"), "\(output)")
        #expect(output.contains("(--max-file-bytes)"))
        let raised = try CLI.run(["grade", "--exercise", predict, "--submission", dir, "--max-file-bytes", "2000000"])
        #expect(number(try CLI.json(raised.stdout)["score"]) == 4.5, "\(raised.stdout.prefix(600))")
        let lowered = try CLI.run(["grade", "--exercise", predict, "--submission", root + "/examples/predict/submission",
                                   "--max-file-bytes", "100"])
        #expect(number(try CLI.json(lowered.stdout)["score"]) == 0)
        let withRoot = try CLI.run(["grade", "--exercise", predict, "--submission", dir, "--root", "/"])
        #expect(withRoot.status == 2)
        #expect(withRoot.stderr.contains("grade takes no --root"))

        let linked = try CLI.temporaryDirectory()
        try FileManager.default.createSymbolicLink(atPath: linked + "/gates.yaml", withDestinationPath: root + "/examples/predict/submission/gates.yaml")
        let r = try CLI.run(["grade", "--exercise", predict, "--submission", linked])
        #expect(number(try CLI.json(r.stdout)["score"]) == 0)
        #expect((try CLI.json(r.stdout)["output"] as? String ?? "").contains("gates.yaml:1:1: a symbolic link that leads outside"), "\(r.stdout.prefix(600))")
        // A missing scenario is located at the submission folder (it was a made-up "submission:1:1").
        let json = try CLI.run(["grade", "--exercise", predict, "--submission", linked, "--format", "json"])
        let failure = ((try CLI.json(json.stdout)["scenarios"] as? [[String: Any]])?.first?["failures"] as? [[String: Any]])?.first
        #expect(failure?["file"] as? String == linked, "\(json.stdout.prefix(800))")
    }

    @Test func blanksLeftInAPredictSubmissionLoseTheirShare() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.copy(predict + "/handout/gates.yaml", to: dir + "/gates.yaml")
        let r = try CLI.run(["grade", "--exercise", predict, "--submission", dir, "--format", "json"])
        let summary = try CLI.json(r.stdout)["summary"] as? [String: Any] ?? [:]
        #expect(number(summary["score"]) == 0)
        #expect(number(summary["max_score"]) == 5)
    }

    @Test func gradesTheConstructExample() throws {
        let r = try CLI.run(["grade", "--exercise", construct, "--submission", root + "/examples/construct/submission"])
        let doc = try CLI.json(r.stdout)
        let tests = doc["tests"] as? [[String: Any]] ?? []
        #expect(tests.count == 2)
        #expect(number(tests[0]["score"]) == 2)
        #expect(number(tests[1]["score"]) < 3)
        #expect(number(tests[1]["score"]) > 0)
        // The submission's own `expect` (current: compiler, which passes) is not what is graded.
        #expect((tests[1]["output"] as? String)?.contains("expected compiler -> editor (timer)") == true)
    }

    @Test func resultsAreWrittenEvenWhenNothingCanBeGraded() throws {
        let dir = try CLI.temporaryDirectory()
        let out = dir + "/results.json"
        let missing = try CLI.run(["grade", "--exercise", dir + "/nope", "--submission", dir, "--output", out])
        #expect(missing.status == 2)
        let doc = try CLI.json(try CLI.read(out))
        #expect(number(doc["score"]) == 0)
        #expect((doc["output"] as? String)?.contains("does not exist") == true)
        // A submission that is not YAML at all: every scenario scores 0, with a readable reason.
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try CLI.write("scenario: [unclosed\n", to: dir + "/sub/gates.yaml")
        let broken = try CLI.run(["grade", "--exercise", predict, "--submission", dir + "/sub", "--output", out])
        #expect(broken.status == 1)
        let doc2 = try CLI.json(try CLI.read(out))
        #expect(number(doc2["score"]) == 0)
        #expect((doc2["output"] as? String)?.contains("could not be read") == true)
    }

    @Test func runAutograderWritesResultsJSON() throws {
        let dir = try CLI.temporaryDirectory()
        let results = dir + "/results/results.json"
        let env = ["RINGSPEC": CLI.binary, "EXERCISE": predict, "SUBMISSION": root + "/examples/predict/submission", "RESULTS": results]
        let r = try CLI.run([root + "/examples/gradescope/run_autograder"], env: env, program: "/bin/bash")
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try CLI.json(try CLI.read(results))
        #expect(number(doc["score"]) == 4.5)
        // No binary: still a results.json, with score 0.
        let broken = try CLI.run([root + "/examples/gradescope/run_autograder"], env: env.merging(["RINGSPEC": dir + "/none"]) { $1 }, program: "/bin/bash")
        #expect(broken.status == 0)
        #expect(number(try CLI.json(try CLI.read(results))["score"]) == 0)
    }

    // MARK: Schema, new, explain

    @Test func schemaCommandPrintsTheDocumentedSchema() throws {
        let r = try CLI.run(["schema"])
        #expect(r.status == 0)
        #expect(r.stdout == (try CLI.read(root + "/docs/ringspec.schema.json")))
        let schema = try CLI.json(r.stdout)
        #expect(schema["$schema"] as? String == "http://json-schema.org/draft-07/schema#")
    }

    static let pythonValidatorAvailable: Bool = {
        let p = try? CLI.run(["python3", "-c", "import jsonschema, yaml"], program: "/usr/bin/env")
        return p?.status == 0
    }()

    @Test(.enabled(if: CLITests.pythonValidatorAvailable, "python3 with jsonschema and PyYAML"))
    func shippedScenariosValidateAgainstTheSchema() throws {
        let r = try CLI.run(["python3", root + "/.ci/validate-schema.py"], program: "/usr/bin/env")
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
    }

    @Test func newWritesAPassingCommentedScenario() throws {
        let dir = try CLI.temporaryDirectory()
        let made = try CLI.run(["new", "first-lab"], cwd: dir)
        #expect(made.status == 0)
        // The modeline's schema is not there yet: the output says how to write it.
        #expect(made.stdout.contains("its editor modeline names ringspec.schema.json, which does not exist yet: `ringspec schema > ringspec.schema.json` writes it"), "\(made.stdout)")
        try CLI.write("{}", to: dir + "/ringspec.schema.json")
        let second = try CLI.run(["new", "second-lab"], cwd: dir)
        #expect(second.status == 0 && !second.stdout.contains("does not exist"), "\(second.stdout)")
        let text = try CLI.read(dir + "/first-lab.yaml")
        #expect(text.hasPrefix("# yaml-language-server: $schema=ringspec.schema.json\n"))
        #expect(text.contains("scenario: first-lab\n"))
        #expect(try CLI.run(["run", "first-lab.yaml", "--strict"], cwd: dir).status == 0)
        #expect(try CLI.run(["new", "first-lab"], cwd: dir).status == 2)
        if Self.pythonValidatorAvailable {
            let v = try CLI.run(["python3", root + "/.ci/validate-schema.py", dir + "/first-lab.yaml"], program: "/usr/bin/env")
            #expect(v.status == 0, "\(v.stdout)\(v.stderr)")
        }
    }

    @Test func explainTellsTheWholeStory() throws {
        let r = try CLI.run(["explain", "scenarios/examples/call-gate-raises-privilege.yaml"])
        #expect(r.status == 0)
        for phrase in ["call gate of DPL 3", "pushed on the new stack, in order", "stack switch: the new stack is",
                       "error code bit by bit: bit 0 EXT=0", "index=12 (selector 0x60)", "why: rule", "Intel SDM",
                       "afterwards the CPU runs at CPL 0"] {
            #expect(r.stdout.contains(phrase), "missing: \(phrase)")
        }
        let p = try CLI.run(["explain", "examples/construct/submission/lab3.yaml", "--scenario", "kernel-memory-is-supervisor"])
        for phrase in ["TLB miss for 0xffff888000001000", "PML4E #273 (address bits 47..39)", "[P RW S PS XD]",
                       "bit 0 P=1 (the page was present: a protection violation)", "bit 2 U/S=1 (made at CPL 3)", "rule PG-6",
                       "error code=0x5 (IRET pops them back, after the handler removes the error code)"] {
            #expect(p.stdout.contains(phrase), "missing: \(phrase)")
        }
        // The #GP raised while delivering an INT n is an exception: its gate is not checked against CPL (INT-2),
        // and no stack switch is told for the INT n whose delivery faulted.
        let d = try CLI.run(["explain", "scenarios/protection/delivery-order.yaml", "--scenario",
                             "x86_64-handler-rip-checked-before-the-pushes"])
        #expect(d.status == 0)
        #expect(d.stdout.contains("IDT entry 0xd (#GP): a present interrupt gate of DPL 0; an exception or external interrupt is not checked against the gate's DPL"),
                "\(d.stdout)")
        #expect(!d.stdout.contains("a software interrupt needs CPL <= gate DPL, and CPL 3 <= 0"))
        #expect(!d.stdout.contains("stack switch: the new stack is"))
        let k = try CLI.run(["explain", "scenarios/examples/parent-waits-for-child.yaml"])
        for phrase in ["system call dispatch", "schedule() runs (blocking): the task blocked", "context switch shell -> shell-child"] {
            #expect(k.stdout.contains(phrase), "missing: \(phrase)")
        }
    }
}
