// `ringspec new NAME`: write NAME.yaml, a commented starting scenario that passes as written.

import ArgumentParser
import Scenario

#if canImport(Glibc)
import Glibc
#endif

extension RingSpec {
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write NAME.yaml, a commented starting scenario that passes `ringspec run`.")

        @Argument(help: "The scenario's id; the file is NAME.yaml (a path may be given: dir/NAME).")
        var name: String

        @Option(name: .long, help: "The schema the editor modeline points at (a path relative to the new file, or a URL).")
        var schema: String = "ringspec.schema.json"

        @Flag(name: .long, help: "Overwrite the file if it exists.")
        var force = false

        func validate() throws {
            let id = ScenarioTemplate.id(forPath: name)
            guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ValidationError("NAME must be letters, digits, '-', '_' or '.'")
            }
        }

        mutating func run() throws {
            let path = name.hasSuffix(".yaml") || name.hasSuffix(".yml") ? name : name + ".yaml"
            var st = stat()
            if !force && stat(path, &st) == 0 {
                FileHandleOutput.stderr("ringspec: \(path) exists (use --force to overwrite)")
                throw ExitCode(ExitStatus.invalid)
            }
            var report = ReportOptions()
            report.output = path
            try report.emit(ScenarioTemplate.text(id: ScenarioTemplate.id(forPath: name), schema: schema))
            print("wrote \(path); run it with `ringspec run \(path)`")
            // The modeline's schema is read relative to the new file: say how to make it when it is missing,
            // or the editor shows no completion and no error, and nothing says why.
            if !schema.contains("://"), !schema.hasPrefix("/") {
                let folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
                let schemaPath = folder.isEmpty ? schema : folder + "/" + schema
                if stat(schemaPath, &st) != 0 {
                    print("its editor modeline names \(schemaPath), which does not exist yet: `ringspec schema > \(schemaPath)` writes it (or give --schema PATH)")
                }
            }
        }
    }
}
