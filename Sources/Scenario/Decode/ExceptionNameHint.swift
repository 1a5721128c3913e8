// ExceptionNameHint: the note under "unknown exception 'X'". Authors write exceptions as they read
// them in the SDM or in C (`general_protection`, `Page-Fault`, `#PG`): a title written with `_` or
// `-` for its spaces names the exception outright, and a misspelt short name or title gets the
// nearest one.

import Machine

enum ExceptionNameHint {
    /// The notes for the unknown exception name `written`.
    static func notes(_ written: String) -> [String] {
        let words = written.replacingHash().map { $0 == "_" || $0 == "-" ? " " : $0 }
        if let e = ExceptionVector(name: String(words)) {
            return ["did you mean '\(e.title.lowercased())'? (or \(e.name); titles are written with spaces)"]
        }
        let shortNames = ExceptionVector.allCases.map(\.name)
        if let h = hint(written.uppercased().replacingHash(), shortNames) { return [h] }
        if let h = hint(String(words).lowercased(), ExceptionVector.allCases.map { $0.title.lowercased() }) { return [h] }
        return ["a vector number or an exception name (\(shortNames.joined(separator: ", ")))"]
    }
}
