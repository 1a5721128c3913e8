// YAMLSuiteSupport: finds the public YAML test suite, lists its cases and checks one case.

import Foundation
import Scenario

enum YAMLSuite {
    /// The yaml-test-suite folder: the first `shared/yaml-test-suite` found walking up from
    /// this file (e.g. /work/shared/yaml-test-suite; on CI `shared/` is the repository's sibling).
    static let root: URL? = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("shared/yaml-test-suite")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("README.md").path) {
                return candidate
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    static let missingSuite = "(yaml-test-suite not found)"

    /// Every case id: "XXXX" for a case folder, "XXXX/NN" for each numbered sub-case.
    static let caseIDs: [String] = {
        guard let root else { return [missingSuite] }
        let fm = FileManager.default
        var ids: [String] = []
        let folders = (try? fm.contentsOfDirectory(atPath: root.path)) ?? []
        for folder in folders.sorted() {
            let dir = root.appendingPathComponent(folder)
            if fm.fileExists(atPath: dir.appendingPathComponent("in.yaml").path) {
                ids.append(folder)
                continue
            }
            let subs = (try? fm.contentsOfDirectory(atPath: dir.path)) ?? []
            for sub in subs.sorted() where sub.allSatisfy(\.isNumber) {
                if fm.fileExists(atPath: dir.appendingPathComponent(sub).appendingPathComponent("in.yaml").path) {
                    ids.append(folder + "/" + sub)
                }
            }
        }
        return ids.isEmpty ? [missingSuite] : ids
    }()

    enum Outcome: Equatable {
        case matched
        case mismatch(String)
    }

    /// Loads the case's in.yaml (unknown tags allowed) and compares with `error` / `in.json`.
    static func check(_ id: String) -> Outcome {
        guard let root else { return .mismatch("yaml-test-suite not found") }
        let dir = root.appendingPathComponent(id)
        let fm = FileManager.default
        guard let input = fm.contents(atPath: dir.appendingPathComponent("in.yaml").path) else {
            return .mismatch("cannot read in.yaml")
        }
        let expectsError = fm.fileExists(atPath: dir.appendingPathComponent("error").path)
        var limits = YAMLLimits()
        limits.rejectUnknownTags = false
        let documents: [YAMLDocument]
        do {
            documents = try YAMLLoader.load([UInt8](input), limits: limits)
        } catch {
            if error.mark.line < 1 || error.mark.column < 1 {
                return .mismatch("error without a location: \(error)")
            }
            return expectsError ? .matched : .mismatch("unexpected error \(error)")
        }
        if expectsError { return .mismatch("loaded, but the suite expects an error") }
        guard let jsonData = fm.contents(atPath: dir.appendingPathComponent("in.json").path) else {
            return .matched  // valid input without a JSON form: loading is all we check
        }
        let expected: [YAMLTestJSON]
        do {
            expected = try YAMLTestJSON.parseStream(String(decoding: jsonData, as: UTF8.self))
        } catch {
            return .mismatch("bad in.json: \(error)")
        }
        var actual: [YAMLTestJSON] = []
        for document in documents {
            guard let root = document.root else { actual.append(.null); continue }
            switch Self.json(root) {
            case .success(let value): actual.append(value)
            case .failure(let problem): return .mismatch(problem.description)
            }
        }
        if actual != expected {
            return .mismatch("got \(actual), in.json has \(expected)")
        }
        return .matched
    }

    struct Problem: Error, CustomStringConvertible { var description: String }

    /// The JSON form of a node, with YAML 1.2 core-schema resolution of plain scalars.
    static func json(_ node: YAMLNode) -> Result<YAMLTestJSON, Problem> {
        switch node.content {
        case .scalar(let text, let style):
            return .success(scalar(text, style: style, tag: node.tag))
        case .sequence(let items):
            var values: [YAMLTestJSON] = []
            for item in items {
                switch json(item) {
                case .success(let value): values.append(value)
                case .failure(let problem): return .failure(problem)
                }
            }
            return .success(.array(values))
        case .mapping(let pairs):
            var members: [String: YAMLTestJSON] = [:]
            for pair in pairs {
                guard let key = pair.key.scalar else {
                    return .failure(Problem(description: "non-scalar key has no JSON form"))
                }
                switch json(pair.value) {
                case .success(let value): members[key] = value
                case .failure(let problem): return .failure(problem)
                }
            }
            return .success(.object(members))
        }
    }

    static func scalar(_ text: String, style: ScalarStyle, tag: String?) -> YAMLTestJSON {
        switch tag {
        case YAMLTag.str?, YAMLTag.nonSpecific?: return .string(text)
        case YAMLTag.null?: return .null
        case YAMLTag.bool?: return .bool(text.lowercased() == "true")
        case YAMLTag.int?, YAMLTag.float?: return coreResolved(text) ?? .string(text)
        case nil: return style == .plain ? coreResolved(text) ?? .string(text) : .string(text)
        default: return .string(text)  // local or unknown tags: keep the text
        }
    }

    /// YAML 1.2 core schema: null, bool, int (decimal, 0o, 0x) and float; nil for a string.
    static func coreResolved(_ text: String) -> YAMLTestJSON? {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .number(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .number(-.infinity)
        case ".nan", ".NaN", ".NAN": return .number(.nan)
        default: break
        }
        let bytes = Array(text.utf8)
        if bytes.count > 2, bytes[0] == UInt8(ascii: "0") {
            if bytes[1] == UInt8(ascii: "o"), let v = Int(text.dropFirst(2), radix: 8) { return .number(Double(v)) }
            if bytes[1] == UInt8(ascii: "x"), let v = Int(text.dropFirst(2), radix: 16) { return .number(Double(v)) }
        }
        // [-+]? ( \.[0-9]+ | [0-9]+ ( \.[0-9]* )? ) ( [eE][-+]?[0-9]+ )?
        var i = 0
        func digits() -> Int {
            let start = i
            while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            return i - start
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
        let intDigits = digits()
        var fraction = false
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            fraction = true
            if digits() == 0 && intDigits == 0 { return nil }
        } else if intDigits == 0 {
            return nil
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") { i += 1 }
            if digits() == 0 { return nil }
            fraction = true
        }
        guard i == bytes.count else { return nil }
        _ = fraction
        return Double(text).map(YAMLTestJSON.number)
    }
}
