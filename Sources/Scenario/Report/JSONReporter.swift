// JSONReporter: the report as one JSON document for tools. Its shape is a contract: keys are
// written in the order below, always present (null or [] when empty), pretty-printed with two
// spaces, and the same report always gives the same bytes. New keys may be added in a later
// version; none will be removed or change meaning without `version` changing.
//
//   {
//     "version": 1,
//     "summary": {
//       "passed": N,                 scenarios that passed
//       "failed": N,                 scenarios that failed or were invalid
//       "skipped": N,
//       "total": N                   all scenarios: passed + failed + skipped
//     },
//     "scenarios": [                 in run order: file order, then document order
//       {
//         "id": "...",               the scenario's id, or the file name for a file that is invalid as a whole
//         "file": "...",             as given on the command line
//         "line": N,                 where the scenario's document starts (1-based)
//         "description": "..." | null,
//         "tags": ["...", ...],
//         "points": N,               an integer when integral (2), else the shortest decimal (0.5);
//                                    null if not finite
//         "status": "passed" | "failed" | "invalid" | "skipped",
//         "checks": N,               checks the scenario made; 0 means it checks nothing
//         "failures": [              non-empty only when status is "failed"; a check written as a
//                                    map (gate, fault, entry, switch, a task of processes) gives one
//                                    failure per wrong field, in the order written, which together
//                                    are one failed check (the paths share the check's path)
//           {
//             "path": "...",         steps[3].expect.fault.error_code
//             "check": "...",        the path of the check this failure belongs to (steps[3].expect.fault):
//                                    the failed checks are the distinct values of "check"
//             "expected": "...",
//             "actual": "...",
//             "file": "...",
//             "line": N,
//             "column": N,
//             "note": "..." | null
//           }
//         ],
//         "diagnostics": [           non-empty only when status is "invalid"
//           {
//             "severity": "error" | "warning",
//             "message": "...",
//             "file": "..." | null,
//             "line": N | null,
//             "column": N | null,
//             "notes": ["...", ...]
//           }
//         ],
//         "warnings": [ ... ],       same objects as "diagnostics"; never fail the scenario
//         "skip_reason": "..." | null  non-null only when status is "skipped"
//       }
//     ]
//   }
//
// Strings are escaped per RFC 8259 and additionally escape DEL, C1 controls and U+2028/U+2029
// as \uXXXX, so the document is safe to print to a terminal and to embed in JavaScript.
// The document ends with a newline.
//
// `ringspec grade --format json` (JSONReporter(grading: true)) adds "score" and "max_score" at the
// end of "summary" and of each scenario (the scores described in GradescopeReporter.swift).

public struct JSONReporter: Reporter, Sendable {
    /// The value of `"version"`; bumped only for changes that are not additions.
    public static let schemaVersion = 1

    /// Add scores (for `ringspec grade`).
    public var grading: Bool

    public init(grading: Bool = false) { self.grading = grading }

    public func stream(into sink: any ReportSink) -> any ReportStream {
        Value.StreamedDocument(sink: sink, arrayKey: "scenarios", element: scenario) { summary in
            var members: [(key: String, value: Value)] = [
                ("passed", .int(summary.passed)),
                ("failed", .int(summary.failed)),
                ("skipped", .int(summary.skipped)),
                ("total", .int(summary.total)),
            ]
            if grading {
                members += [("score", .number(GradescopeReporter.rounded(summary.score))), ("max_score", .number(summary.maxScore))]
            }
            return [("version", .int(Self.schemaVersion)), ("summary", .object(members))]
        }
    }

    private func scenario(_ result: ScenarioResult) -> Value {
        guard grading, case let .object(members) = plainScenario(result) else { return plainScenario(result) }
        var scores: [(key: String, value: Value)] = [("score", .number(GradescopeReporter.rounded(result.score))), ("max_score", .number(result.points))]
        // A predict scenario is scored by its blanks: how many there are and how many were right.
        if let b = result.blanks { scores += [("blanks", .int(b.total)), ("blanks_right", .int(b.right))] }
        return .object(members + scores)
    }

    private func plainScenario(_ result: ScenarioResult) -> Value {
        var status = "passed"
        var failures: [CheckFailure] = []
        var diagnostics: [Diagnostic] = []
        var skipReason: String?
        switch result.outcome {
        case .passed: break
        case .failed(let f): status = "failed"; failures = f
        case .invalid(let d): status = "invalid"; diagnostics = d
        case .skipped(let reason): status = "skipped"; skipReason = reason
        }
        return .object([
            ("id", .string(result.id)),
            ("file", .string(result.file)),
            ("line", .int(result.line)),
            ("description", .string(orNull: result.description)),
            ("tags", .array(result.tags.map(Value.string))),
            ("points", .number(result.points)),
            ("status", .string(status)),
            ("checks", .int(result.checkCount)),
            ("failures", .array(failures.map(failure))),
            ("diagnostics", .array(diagnostics.map(diagnostic))),
            ("warnings", .array(result.warnings.map(diagnostic))),
            ("skip_reason", .string(orNull: skipReason)),
        ])
    }

    private func failure(_ failure: CheckFailure) -> Value {
        .object([
            ("path", .string(failure.path)),
            ("check", .string(failure.check ?? failure.path)),
            ("expected", .string(failure.expected)),
            ("actual", .string(failure.actual)),
            ("file", .string(failure.location.file)),
            ("line", .int(failure.location.line)),
            ("column", .int(failure.location.column)),
            ("note", .string(orNull: failure.note)),
        ])
    }

    private func diagnostic(_ diagnostic: Diagnostic) -> Value {
        .object([
            ("severity", .string(diagnostic.severity.rawValue)),
            ("message", .string(diagnostic.message)),
            ("file", .string(orNull: diagnostic.location?.file)),
            ("line", diagnostic.location.map { .int($0.line) } ?? .null),
            ("column", diagnostic.location.map { .int($0.column) } ?? .null),
            ("notes", .array(diagnostic.notes.map(Value.string))),
        ])
    }
}

extension JSONReporter {
    /// A JSON value whose objects keep their keys in the order given, which is what makes the
    /// output stable.
    enum Value {
        case null
        case int(Int)
        /// Written by `Escaping.number`; not finite (which JSON cannot express) is written `null`.
        case number(Double)
        case string(String)
        case array([Value])
        case object([(key: String, value: Value)])

        static func string(orNull s: String?) -> Value {
            s.map(Value.string) ?? .null
        }

        /// Pretty-printed, two spaces per level; empty arrays and objects as `[]` and `{}`.
        func write(into out: inout String, depth: Int) {
            switch self {
            case .null: out += "null"
            case .int(let i): out += String(i)
            case .number(let d): out += Escaping.number(d) ?? "null"
            case .string(let s): out += Escaping.json(s)
            case .array(let elements):
                var array = ArrayWriter(depth: depth)
                for element in elements { array.element(element, into: &out) }
                array.close(into: &out)
            case .object(let members):
                var object = ObjectWriter(depth: depth)
                for member in members { object.member(member.key, member.value, into: &out) }
                object.close(into: &out)
            }
        }

        /// Writes an array at `depth` one element at a time: `[` comes with the first element,
        /// so an array that gets none is `[]`.
        struct ArrayWriter {
            let depth: Int
            var count = 0

            mutating func element(_ value: Value, into out: inout String) {
                out += count == 0 ? "[\n" : ",\n"
                count += 1
                Value.indent(depth + 1, into: &out)
                value.write(into: &out, depth: depth + 1)
            }

            func close(into out: inout String) {
                if count == 0 { out += "[]"; return }
                out += "\n"
                Value.indent(depth, into: &out)
                out += "]"
            }
        }

        /// Writes an object at `depth` one member at a time (`{}` when it gets none).
        struct ObjectWriter {
            let depth: Int
            var count = 0

            /// The member's key; its value is written next, at `depth + 1`.
            mutating func key(_ key: String, into out: inout String) {
                out += count == 0 ? "{\n" : ",\n"
                count += 1
                Value.indent(depth + 1, into: &out)
                out += Escaping.json(key)
                out += ": "
            }

            mutating func member(_ key: String, _ value: Value, into out: inout String) {
                self.key(key, into: &out)
                value.write(into: &out, depth: depth + 1)
            }

            func close(into out: inout String) {
                if count == 0 { out += "{}"; return }
                out += "\n"
                Value.indent(depth, into: &out)
                out += "}"
            }
        }

        /// A document (an object at depth 0) whose last member is an array written element by
        /// element as results arrive (JSON's `scenarios`, Gradescope's `tests`). The elements
        /// wait in a spool; `finish` writes the leading members, which need the summary, then
        /// the spool, so the bytes are those of `write` on the whole document.
        final class StreamedDocument: ReportStream {
            let sink: any ReportSink
            let spool: any ReportSpool
            let arrayKey: String
            let element: (ScenarioResult) -> Value
            let leading: (RunSummary) -> [(key: String, value: Value)]
            var array = ArrayWriter(depth: 1)

            init(sink: any ReportSink, arrayKey: String, element: @escaping (ScenarioResult) -> Value,
                 leading: @escaping (RunSummary) -> [(key: String, value: Value)]) {
                self.sink = sink
                spool = sink.makeSpool()
                self.arrayKey = arrayKey
                self.element = element
                self.leading = leading
            }

            func add(_ result: ScenarioResult) {
                var out = ""
                array.element(element(result), into: &out)
                spool.write(out)
            }

            func finish(_ summary: RunSummary) {
                var out = ""
                var object = ObjectWriter(depth: 0)
                for member in leading(summary) { object.member(member.key, member.value, into: &out) }
                object.key(arrayKey, into: &out)
                sink.write(out)
                spool.drain(into: sink)
                out = ""
                array.close(into: &out)
                object.close(into: &out)
                out += "\n"
                sink.write(out)
            }
        }

        fileprivate static func indent(_ depth: Int, into out: inout String) {
            for _ in 0..<depth { out += "  " }
        }
    }
}
