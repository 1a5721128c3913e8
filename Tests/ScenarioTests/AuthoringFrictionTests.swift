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

@Suite struct AuthoringFrictionHintTests {
    /// An exception written as a C identifier or hyphenated title names it outright; a misspelt
    /// title gets the nearest title.
    @Test(arguments: [
        ("general_protection", "did you mean 'general protection'? (or GP; titles are written with spaces)"),
        ("Page-Fault", "did you mean 'page fault'? (or PF; titles are written with spaces)"),
        ("double_fault", "did you mean 'double fault'? (or DF; titles are written with spaces)"),
        ("segment not presnt", "did you mean 'segment not present'?"),
        ("BG", "did you mean 'BP'?"),
    ])
    func anExceptionNameGetsAUsefulHint(written: String, note: String) throws {
        let yaml = "scenario: a\nkernel: none\nsteps:\n  - exec: \"int3\"\n    expect: {fault: \"\(written)\"}\n"
        let d = try #require(diagnostics(yaml).first)
        #expect(d.message == "unknown exception '\(written)'")
        #expect(d.notes == [note], "\(d)")
    }

    /// A number that is not one of the options gets the list, not the nearest spelling (`3` was "did you mean '1'?").
    @Test(arguments: [("size: 3", "expected one of: 1, 2, 4, 8"), ("size: 16", "expected one of: 1, 2, 4, 8"), ("op: writ", "did you mean 'write'?")])
    func aNumberOutsideTheOptionsGetsTheList(field: String, note: String) throws {
        let yaml = "scenario: a\nsteps:\n  - access: {op: read, addr: 0x1000, \(field)}\n".replacingOccurrences(of: "op: read, addr: 0x1000, op: writ", with: "addr: 0x1000, op: writ")
        let d = try #require(diagnostics(yaml).first)
        #expect(d.notes == [note], "\(d)")
    }

    /// Two `running` tasks: the error names the one already running and says what to write.
    @Test func twoRunningTasksNameTheFirst() throws {
        let d = try #require(diagnostics("scenario: a\nprocesses:\n  - {name: a, state: running}\n  - {name: b, state: running}\n").first)
        #expect(d.message == "more than one process is running: 'a' is already `running`")
        #expect(d.location?.line == 4)
        #expect(d.notes.first?.hasPrefix("exactly one task runs at the start: give the others `state: ready`") == true)
    }
}
