// "did you mean" hints for misspelt keys and names: the nearest candidate by edit distance, where
// swapping two adjacent letters counts as one edit.
import Testing
@testable import Scenario

struct HintTests {
    @Test(arguments: [
        ("exce", ["exit", "exec", "expect"], "exec"),      // transposition beats two substitutions
        ("falt", ["fault", "faults", "gate"], "fault"),
        ("wirte", ["write", "wait4", "read"], "write"),
        ("kernl_ds", ["kernel_ds", "kernel_cs"], "kernel_ds"),
        ("tiemr", ["timer", "time", "irq"], "timer"),
    ])
    func nearestCandidate(word: String, candidates: [String], expected: String) {
        #expect(hint(word, candidates) == "did you mean '\(expected)'?")
    }

    @Test(arguments: [("ab", "ba", 1), ("exce", "exec", 1), ("exce", "exit", 2), ("abc", "abc", 0), ("", "abc", 3)])
    func distance(a: String, b: String, expected: Int) {
        #expect(editDistance(Array(a), Array(b)) == expected)
    }
}
