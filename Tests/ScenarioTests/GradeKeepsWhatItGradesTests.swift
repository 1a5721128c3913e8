// GradeKeepsWhatItGradesTests: `grade` keeps only the submitted documents whose ids the exercise
// grades. It held the tree of every document of the submission folder at once: 60 files of 1 MB
// (one list of 500,000 numbers each, under an id the exercise does not have) took 1.7 GB and
// 258 s in a debug build, and the default --max-files (10,000) would have let a submission ask for
// hundreds of gigabytes.

import Foundation
@testable import Scenario
import Testing

@Suite struct GradeKeepsWhatItGradesTests {
    @Test func onlyTheFirstDocumentOfEachGradedIdIsKept() throws {
        let d = try TempDir()
        try d.write("a.yaml", "scenario: x\nmachine: {mode: ia32}\n---\nscenario: junk\nx-a: [1, 2, 3]\n")
        try d.write("b.yaml", "scenario: x\nmachine: {mode: x86_64}\n---\nscenario: y\n")
        let all = Grader.loadDocuments(under: d.path)
        #expect(all.documents.map(\.id) == ["x", "junk", "x", "y"])
        let kept = Grader.loadDocuments(under: d.path, keeping: ["x", "y"])
        #expect(kept.documents.map(\.id) == ["x", "y"])
        // The first `x` (a.yaml), as `find` chose it before.
        #expect(kept.documents.first?.file.hasSuffix("a.yaml") == true)
        #expect(kept.documents.first?.root.value(forKey: "machine")?.value(forKey: "mode")?.scalar == "ia32")
    }

    /// Problems are still reported for every file, kept or not.
    @Test func problemsOfFilesWithoutGradedIdsAreStillReported() throws {
        let d = try TempDir()
        try d.write("bad.yaml", "scenario: [\n")
        try d.write("ok.yaml", "scenario: z\n")
        let kept = Grader.loadDocuments(under: d.path, keeping: ["x"])
        #expect(kept.documents.isEmpty)
        #expect(kept.problems.count == 1 && kept.problems[0].contains("bad.yaml:"))
    }
}
