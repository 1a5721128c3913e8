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
        #expect(editDistance(Array(a), Array(b), atMost: 3) == expected)
    }

    /// The banded distance agrees with the full one wherever that is within the bound, on every
    /// pair of strings up to length 5 over {a, b, c} drawn by a fixed generator, for bounds 0-3.
    @Test func bandedDistanceAgreesWithTheFullOne() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return Int(seed % 1_000_003)
        }
        func word() -> [Character] { (0..<(next() % 6)).map { _ in ["a", "b", "c"][next() % 3] } }
        for _ in 0..<4000 {
            let a = word(), b = word()
            let d = editDistance(a, b)
            for k in 0...3 {
                #expect(editDistance(a, b, atMost: k) == (d <= k ? d : nil), "\(String(a)) \(String(b)) k=\(k)")
            }
        }
    }

    /// A 100,000-character misspelt name against 500 names of 1,500 characters took minutes (the
    /// full distance is quadratic); the banded one gives the same hints in linear work: at most
    /// 2k + 1 <= 7 cells a row of the longer word, for each candidate, where the full table would
    /// compute 1,502 x 1,502 cells a candidate. The work is counted, not timed.
    @Test(.timeLimit(.minutes(1))) func longNamesGetHintsInLinearWork() {
        let names = (0..<500).map { "t" + String(repeating: "y", count: 1500) + "\($0)" }
        var far = 0
        #expect(hint(String(repeating: "z", count: 100_000), names, cells: &far) == nil)
        #expect(far == 0)  // lengths more than 3 apart: no cell is computed
        var near = 0
        let word = "t" + String(repeating: "y", count: 1500) + "7x"
        #expect(hint(word, names, cells: &near) == "did you mean 't\(String(repeating: "y", count: 1500))7'?")
        let bound = names.reduce(0) { $0 + 7 * (max(word.count, $1.count) + 1) }
        #expect(near > 0 && near <= bound, "\(near) cells, bound \(bound)")
    }

    /// The cell count of one banded distance stays within its band, and is exactly the band's area
    /// for two equal words (no row is cut short).
    @Test(arguments: [(1, 10), (3, 10), (3, 200), (2, 1)])
    func bandedCellsStayInTheBand(k: Int, n: Int) {
        let a = Array(String(repeating: "a", count: n))
        var cells = 0
        #expect(editDistance(a, a, atMost: k, cells: &cells) == 0)
        let band = (1...n).reduce(0) { $0 + min(n, $1 + k) - max(1, $1 - k) + 1 }
        #expect(cells == band)
    }
}

/// The reference the banded `editDistance(_:_:atMost:)` is checked against: the full table of the edit
/// distance with adjacent transpositions counted as one edit (optimal string alignment), so
/// that a swapped pair of letters (`exce` for `exec`) is nearer than two changed letters (`exit`).
private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var before = Array(repeating: 0, count: b.count + 1)
    var prev = Array(0...b.count)
    var cur = Array(repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                cur[j] = Swift.min(cur[j], before[j - 2] + 1)
            }
        }
        (before, prev, cur) = (prev, cur, before)
    }
    return prev[b.count]
}
