// `ringspec schema`: the JSON Schema (draft-07) of the scenario format, for editors and CI.

import ArgumentParser
import Scenario

extension RingSpec {
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the JSON Schema (draft-07) of the scenario format.",
            discussion: "Editors with the YAML language server use it through a first line `# yaml-language-server: $schema=PATH-OR-URL`.")

        mutating func run() throws {
            print(ScenarioSchema.json, terminator: "")
        }
    }
}
