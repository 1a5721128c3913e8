// Property-based tests (issue 8), with swift-property-based:
// - random valid scenarios run deterministically: the same JSON report twice;
// - every fault a run raises names a rule RuleBook knows;
// - a passing scenario whose expected values are changed is never reported `passed`.
// The generators draw a seed and build the scenario text from it with a seeded RNG, so a failing
// case is reproduced by its seed (printed in the failure).

@testable import Machine
import PropertyBased
@testable import Scenario
import Testing

/// SplitMix64: a small deterministic RNG for building scenario text from a seed.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum ScenarioGen {
    /// A random valid scenario: mode, tasks, a mix of steps, and some expectations.
    static func text(seed: UInt64) -> String {
        var rng = SeededRNG(state: seed)
        let long = Bool.random(using: &rng)
        var s = "scenario: random-\(seed)\nmachine: {mode: \(long ? "x86_64" : "ia32")}\nprocesses:\n"
        let tasks = Int.random(in: 1...4, using: &rng)
        for i in 0..<tasks {
            s += "  - {name: t\(i)\(i == 0 ? ", state: running" : ""), priority: \(Int.random(in: 100...139, using: &rng))}\n"
        }
        s += "steps:\n"
        let steps = Int.random(in: 1...12, using: &rng)
        for _ in 0..<steps {
            switch Int.random(in: 0...8, using: &rng) {
            case 0:
                s += long ? "  - syscall: {via: syscall, nr: 39}\n" : "  - syscall: {via: int80, nr: 20}\n"
            case 1:
                let n = Int.random(in: 0...5, using: &rng)
                let msg = String(repeating: "x", count: n)
                s += long ? "  - syscall: {via: syscall, nr: 1, args: [1, \"\(msg)\", \(n)]}\n"
                          : "  - syscall: {via: int80, nr: 4, args: [1, \"\(msg)\", \(n)]}\n"
                if Bool.random(using: &rng) { s += "    expect: {returns: \(n), output: \"\(msg)\"}\n" }
            case 2: s += "  - timer: \(Int.random(in: 1...300, using: &rng))\n"
            case 3: s += "  - schedule\n"
            case 4: s += "  - exec: nop\n"
            case 5: s += "  - exec: \"mov eax, cr3\"\n"      // #GP at CPL 3: the step fails unless expected
            case 6:
                s += "  - exec: \"mov eax, cr3\"\n    expect: {fault: {vector: GP, error_code: 0}}\n"
            case 7: s += "  - exec: \"int 3\"\n"
            default:
                s += "  - exec: \"hlt\"\n"
            }
        }
        if Bool.random(using: &rng) { s += "expect: {shutdown: false}\n" }
        return s
    }

    static func run(_ text: String) -> [RunRecord] {
        let options = SuiteOptions(root: "/nonexistent")
        var out: [RunRecord] = []
        for loaded in ScenarioDecoder.load(bytes: Array(text.utf8), path: "gen.yaml", display: "gen.yaml", options: options.load) {
            switch loaded {
            case let .spec(spec, warnings): out.append(Runner.run(spec, file: "gen.yaml", warnings: warnings, limits: options.run))
            case let .invalid(r): out.append(RunRecord(result: r, trace: [], stepTraceRanges: [], outcomes: []))
            }
        }
        return out
    }
}

@Suite struct PropertyTests {
    static let seeds = Gen.int(in: 0...Int(Int32.max))

    @Test func randomScenariosAreValidAndDeterministic() async {
        await propertyCheck(count: 60, input: Self.seeds) { seed in
            let text = ScenarioGen.text(seed: UInt64(seed))
            let first = ScenarioGen.run(text)
            let second = ScenarioGen.run(text)
            #expect(first.count == 1, "seed \(seed)")
            for r in first {
                if case let .invalid(d) = r.result.outcome { Issue.record("seed \(seed): generated scenario is invalid: \(d)\n\(text)") }
            }
            let a = JSONReporter().render(RunReport(results: first.map(\.result)))
            let b = JSONReporter().render(RunReport(results: second.map(\.result)))
            #expect(a == b, "seed \(seed): two runs gave different reports")
            #expect(first.map { $0.outcomes.map { $0.faults.map(\.rule) } } == second.map { $0.outcomes.map { $0.faults.map(\.rule) } })
        }
    }

    @Test func everyFaultNamesAKnownRule() async {
        await propertyCheck(count: 60, input: Self.seeds) { seed in
            for record in ScenarioGen.run(ScenarioGen.text(seed: UInt64(seed))) {
                for fault in record.outcomes.flatMap(\.faults) {
                    #expect(RuleBook.reference(fault.rule) != "docs/machine-rules.md", "seed \(seed): fault \(fault.vector) with unknown rule family '\(fault.rule)'")
                    #expect(RuleBook.title(fault.rule) != fault.rule, "seed \(seed): rule '\(fault.rule)' has no entry in RuleBook")
                }
            }
        }
    }

    @Test func everyFaultOfTheShippedLibraryNamesAKnownRule() {
        for s in discoverScenarios() {
            let options = SuiteOptions(root: packageRoot() + "/scenarios")
            for loaded in ScenarioDecoder.load(file: s.file, display: s.file, options: options.load) {
                guard case let .spec(spec, w) = loaded, spec.id == s.id else { continue }
                let record = Runner.run(spec, file: s.file, warnings: w, limits: options.run)
                for fault in record.outcomes.flatMap(\.faults) {
                    #expect(RuleBook.title(fault.rule) != fault.rule, "\(s.id): rule '\(fault.rule)' has no entry in RuleBook")
                }
            }
        }
    }

    /// Plain integer and boolean scalars under `steps[*].expect` and the top-level `expect` of the
    /// shipped scenarios: (file, byte range, text).
    static let expectedValues: [(file: String, range: Range<Int>, text: String, rootLine: Int)] = {
        var out: [(String, Range<Int>, String, Int)] = []
        for f in (try? Suite.discover([packageRoot() + "/scenarios"])) ?? [] {
            guard case let .success(bytes) = FileAccess.read(f, maxBytes: 1 << 20),
                  let docs = try? YAMLLoader.load(bytes) else { continue }
            func collect(_ n: YAMLNode, _ rootLine: Int) {
                switch n.content {
                case let .scalar(s, style):
                    guard style == .plain, n.aliasMark == nil else { return }
                    // Only texts `mutate` changes: a number it can read (not `010`, which the loader refuses as ambiguous) or a boolean.
                    if case .value = parseInteger(s) { out.append((f, n.start.offset..<n.end.offset, s, rootLine)) }
                    else if s == "true" || s == "false" { out.append((f, n.start.offset..<n.end.offset, s, rootLine)) }
                case let .sequence(items): items.forEach { collect($0, rootLine) }
                case let .mapping(pairs): pairs.forEach { collect($0.value, rootLine) }
                }
            }
            for d in docs {
                guard let root = d.root else { continue }
                if let e = root.value(forKey: "expect") { collect(e, root.start.line) }
                for step in root.value(forKey: "steps")?.sequence ?? [] { if let e = step.value(forKey: "expect") { collect(e, root.start.line) } }
            }
        }
        return out
    }()

    /// A different value of the same kind: an integer plus a non-zero delta, or the other boolean.
    static func mutate(_ text: String, delta: Int) -> String {
        if text == "true" { return "false" }
        if text == "false" { return "true" }
        guard case let .value(v, negative) = parseInteger(text) else { return text }
        let d = UInt64(delta)
        if negative { return "-\(v &+ d)" }
        return "0x" + String(v &+ d, radix: 16)
    }

    @Test func changedExpectationsNeverPass() async throws {
        let values = Self.expectedValues
        try #require(values.count > 100)
        let gen = Gen.int(in: 0...(values.count - 1))
        let deltas = Gen.int(in: 1...3)
        await propertyCheck(count: 150, input: gen, deltas) { index, delta in
            let v = values[index]
            guard case var .success(bytes) = FileAccess.read(v.file, maxBytes: 1 << 20) else { Issue.record("cannot read \(v.file)"); return }
            let replacement = Self.mutate(v.text, delta: delta)
            bytes.replaceSubrange(v.range, with: Array(replacement.utf8))
            let options = SuiteOptions(root: packageRoot() + "/scenarios")
            let line = bytes[..<v.range.lowerBound].filter { $0 == 0x0A }.count + 1
            for loaded in ScenarioDecoder.load(bytes: bytes, path: v.file, display: v.file, options: options.load) {
                switch loaded {
                case .invalid: continue  // an out-of-range value is an error, which is not a pass
                case let .spec(spec, w):
                    // Only the scenario that holds the changed value.
                    guard spec.location.line == v.rootLine else { continue }
                    let r = Runner.run(spec, file: v.file, warnings: w, limits: options.run).result
                    if case .passed = r.outcome {
                        Issue.record("\(v.file):\(line): expected \(v.text) changed to \(replacement), and \(spec.id) still passed")
                    }
                }
            }
        }
    }
}
