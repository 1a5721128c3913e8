// Frictions a new author meets (the new-user audit of scenarios/examples/lab-*.yaml): each test
// pins the message, note or behaviour that now tells the author what went wrong in their words.

import Machine
@testable import Scenario
import Testing

@Suite struct AuthoringFrictionTests {
    /// `ringspec check` on a predict handout (or a half-filled copy) refuses its blanks; the note
    /// says that the null is a blank to fill in, not a mistake in the format.
    @Test(arguments: [
        ("      fault: {vector: GP, error_code: ~}\n", 7, 39),
        ("      fault: {vector: GP, error_code: TODO}\n", 7, 39),
        ("      signal: ~\n", 7, 15),
    ])
    func aPredictBlankGetsANote(line: String, row: Int, column: Int) throws {
        let yaml = "scenario: a\nmachine: {mode: ia32}\nkernel: none\nsteps:\n  - exec: \"int 0x80\"\n    expect:\n" + line
        let d = try #require(diagnostics(yaml).first)
        #expect(d.location?.line == row && d.location?.column == column, "\(d)")
        #expect(d.notes.contains { $0.hasPrefix("`~` (or TODO) here is a blank of a predict handout") }, "\(d)")
    }

    /// A null outside `expect` is an ordinary mistake: no blank note.
    @Test func aNullOutsideExpectGetsNoBlankNote() throws {
        let d = try #require(diagnostics("scenario: a\nkernel: {scheduler: {policy: rr, timeslice: ~}}\n").first)
        #expect(!d.notes.contains { $0.contains("blank") }, "\(d)")
    }
}
