// The shipped scenario library as an end-to-end test: one test case per scenario in scenarios/.

import Machine
@testable import Scenario
import Testing

/// The package root, found from this file's path.
func packageRoot() -> String {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/ScenarioTests/File.swift
    return parts.joined(separator: "/")
}

struct ShippedScenario: CustomTestStringConvertible, Sendable {
    var file: String
    var id: String
    var testDescription: String { "\(id) (\(file.split(separator: "/").suffix(2).joined(separator: "/")))" }
}

func discoverScenarios() -> [ShippedScenario] {
    let root = packageRoot() + "/scenarios"
    guard let files = try? Suite.discover([root]) else { return [] }
    var out: [ShippedScenario] = []
    let options = LoadOptions(root: root)
    for f in files {
        for loaded in ScenarioDecoder.load(file: f, display: f, options: options) {
            switch loaded {
            case let .spec(s, _): out.append(ShippedScenario(file: f, id: s.id))
            case let .invalid(r): out.append(ShippedScenario(file: f, id: r.id))
            }
        }
    }
    return out
}

@Suite struct ShippedScenarioTests {
    @Test("the library is not empty")
    func libraryExists() {
        #expect(discoverScenarios().count >= 5)
    }

    @Test(arguments: discoverScenarios())
    func scenarioPasses(_ s: ShippedScenario) {
        var options = SuiteOptions(root: packageRoot() + "/scenarios")
        options.filter = "^" + s.id.map { $0.isLetter || $0.isNumber ? String($0) : "\\" + String($0) }.joined() + "$"
        let results = Suite.runFile(s.file, options: options)
        #expect(results.count == 1)
        for r in results {
            switch r.outcome {
            case .passed: break
            case let .failed(fs): Issue.record(Comment(rawValue: "\(s.id) failed:\n" + fs.map(\.description).joined(separator: "\n")))
            case let .invalid(ds): Issue.record(Comment(rawValue: "\(s.id) is invalid:\n" + ds.map(\.description).joined(separator: "\n")))
            case let .skipped(why): Issue.record("\(s.id) skipped: \(why)")
            }
            #expect(r.checkCount > 0, "\(s.id) checks nothing")
        }
    }
}
