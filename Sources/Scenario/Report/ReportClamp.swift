// ReportClamp: the longest text one message of a report may hold. A message quotes what the
// scenario wrote or the run printed (a misspelt name, an expected output, the console), and a
// scenario may hold a 1 MiB string or print megabytes: without a bound, each failure or error
// carried all of it into every report, and its escaping cost more than the run.

enum ReportClamp {
    /// Characters (Unicode scalars) kept of one message, expected or actual value, or note.
    static let maxScalars = 8192

    /// `text` when it holds at most `maxScalars` scalars; else its start and end with the number of
    /// scalars cut between them.
    static func clamp(_ text: String) -> String {
        guard text.utf8.count > maxScalars else { return text }
        let scalars = text.unicodeScalars
        let total = scalars.count
        guard total > maxScalars else { return text }
        let head = maxScalars * 3 / 4, tail = maxScalars / 8
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars.prefix(head))
        var s = String(out)
        s += " [... \(total - head - tail) characters cut ...] "
        s += String(String.UnicodeScalarView(scalars.suffix(tail)))
        return s
    }

    /// An expected and an actual text, each quoted by `quote`, cut to a window around the first
    /// character where they differ when either is long, so that the difference stays visible.
    static func quotedPair(_ expected: String, _ actual: String, quote: (String) -> String) -> (String, String) {
        guard expected.utf8.count > maxScalars / 4 || actual.utf8.count > maxScalars / 4 else { return (quote(expected), quote(actual)) }
        let a = Array(expected.unicodeScalars), b = Array(actual.unicodeScalars)
        var d = 0
        while d < a.count, d < b.count, a[d] == b[d] { d += 1 }
        let from = max(0, d - maxScalars / 8), width = maxScalars / 4
        func window(_ x: [Unicode.Scalar]) -> String {
            let to = min(x.count, from + width)
            var v = String.UnicodeScalarView()
            if from < to { v.append(contentsOf: x[from..<to]) }
            var s = from > 0 ? "... " : ""
            s += quote(String(v))
            if to < x.count { s += " ..." }
            return s + " (\(x.count) characters; the first difference is at character \(d + 1))"
        }
        return (window(a), window(b))
    }
}
