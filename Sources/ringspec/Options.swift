// Options shared by the subcommands: report format and destination, colour, limits, root.

import ArgumentParser
import Scenario

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case human, json, junit, tap
}

struct ReportOptions: ParsableArguments {
    @Option(name: .long, help: "Report format: human, json, junit or tap.")
    var format: ReportFormat = .human

    @Option(name: .long, help: "Write the report to this file instead of standard output.")
    var output: String?

    @Flag(name: .long, inversion: .prefixedNo, help: "Colour the human report (default: only on a terminal, never with NO_COLOR).")
    var color: Bool?

    @Flag(name: .long, help: "Show descriptions, points and tags in the human report.")
    var verbose = false

    func reporter() -> any Reporter {
        switch format {
        case .human:
            let tty = output == nil && isatty(STDOUT_FILENO) != 0
            let noColor = getenv("NO_COLOR") != nil
            return HumanReporter(color: color ?? (tty && !noColor), verbose: verbose)
        case .json: return JSONReporter()
        case .junit: return JUnitReporter()
        case .tap: return TAPReporter()
        }
    }

    func emit(_ text: String) throws {
        if let output {
            guard let f = fopen(output, "wb") else { throw ValidationError("cannot write \(output)") }
            defer { fclose(f) }
            _ = text.utf8CString.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count - 1, f) }
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }
}

struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: "Suite root: paths in scenarios (extends) must stay inside it. Default: the folder given, or the file's folder.")
    var root: String?

    @Option(name: .long, help: "Largest scenario file, in bytes.")
    var maxFileBytes: Int = YAMLLimits.defaultMaxFileBytes

    @Option(name: .long, help: "Deepest YAML nesting.")
    var maxDepth: Int = YAMLLimits.defaultMaxDepth

    @Option(name: .long, help: "Most nodes that aliases may re-use in one document.")
    var maxAliasNodes: Int = YAMLLimits.defaultMaxAliasExpansion

    @Option(name: .long, help: "Longest YAML scalar (string), in bytes.")
    var maxScalarBytes: Int = YAMLLimits.defaultMaxScalarBytes

    @Option(name: .long, help: "Most documents in one file.")
    var maxDocuments: Int = YAMLLimits.defaultMaxDocuments

    @Option(name: .long, help: "Most scenario files in one run.")
    var maxFiles: Int = Suite.defaultMaxFiles

    @Option(name: .long, help: "Most page-table entries one scenario may map, summed over its mappings.")
    var maxPages: UInt64 = LoadOptions.defaultMaxMappedPages

    @Option(name: .long, help: "Most timer ticks one scenario may run.")
    var tickBudget: Int = RunLimits.defaultTickBudget

    @Option(name: .long, help: "Wall-clock seconds one scenario may run.")
    var timeLimit: Double = RunLimits.defaultTimeLimitSeconds

    func validate() throws {
        guard maxFileBytes > 0, maxDepth > 0, maxAliasNodes >= 0, maxDocuments > 0, maxScalarBytes > 0, maxFiles > 0, tickBudget >= 0, timeLimit > 0 else {
            throw ValidationError("limits must be positive")
        }
    }

    func suiteOptions(paths: [String]) -> SuiteOptions {
        var defaultRoot = "."
        if let first = paths.first {
            var isDir = false
            var st = stat()
            if stat(first, &st) == 0 { isDir = (st.st_mode & S_IFMT) == S_IFDIR }
            if isDir { defaultRoot = first } else {
                let parts = first.split(separator: "/", omittingEmptySubsequences: false).dropLast()
                defaultRoot = parts.isEmpty ? "." : (parts.joined(separator: "/").isEmpty ? "/" : parts.joined(separator: "/"))
            }
        }
        var o = SuiteOptions(root: root ?? defaultRoot)
        o.load.yaml.maxFileBytes = maxFileBytes
        o.load.yaml.maxDepth = maxDepth
        o.load.yaml.maxAliasExpansion = maxAliasNodes
        o.load.yaml.maxDocuments = maxDocuments
        o.load.yaml.maxScalarBytes = maxScalarBytes
        o.load.maxMappedPages = maxPages
        o.run.tickBudget = tickBudget
        o.run.timeLimitSeconds = timeLimit
        return o
    }
}
