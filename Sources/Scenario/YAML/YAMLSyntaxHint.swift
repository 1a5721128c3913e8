// YAMLSyntaxHint: what a libyaml syntax error most often means in a hand-written scenario, given
// as notes under libyaml's own message: a tab where indentation is expected, and a ': ' that
// libyaml cannot take as a key (a colon inside an unquoted text, or a key indented further than
// the keys above it), a %YAML version libyaml does not read, and a document without its `---`.

enum YAMLSyntaxHint {
    /// Notes for the error `problem` that libyaml reports at byte `offset` of `input`, on `line`.
    /// `context` is libyaml's "while parsing ..." and `contextMark` where that construct started.
    static func notes(problem: String, at mark: SourceMark, context: String?, contextMark: SourceMark?,
                      in input: UnsafeRawBufferPointer) -> [String] {
        let offset = mark.offset
        guard offset >= 0, offset < input.count else { return [] }
        if input[offset] == 0x09 { return ["this is a tab character: YAML indents with spaces only"] }
        if problem == "mapping values are not allowed in this context", input[offset] == UInt8(ascii: ":") {
            return [colonNote(offset: offset, line: mark.line, in: input)]
        }
        // libyaml knows YAML 1.1 and 1.2 only; YAML 1.2.2 §6.8.1 lets a 1.2 processor warn and go on for
        // 1.3, libyaml refuses it, in words that do not say what to change.
        if problem == "found incompatible YAML document" {
            return ["scenario files are YAML 1.1 (libyaml), which also reads `%YAML 1.2`: write one of those, or leave the %YAML line out"]
        }
        // YAML 1.2 allows a bare document after `...`; libyaml (YAML 1.1) needs `---` to start one.
        if problem == "did not find expected <document start>" {
            return ["a new document (the next scenario) starts with a `---` line: after `...`, or after a %YAML or %TAG directive, write `---` before it"]
        }
        // A key after a blank or comment line, indented differently from its mapping's keys.
        if problem == "did not find expected key", context == "while parsing a block mapping",
           let started = contextMark, started.line < mark.line, started.column != mark.column {
            return ["line \(mark.line) starts in column \(mark.column), but the keys of the mapping that starts at \(started.line):\(started.column) are in column \(started.column): indent the line like them"]
        }
        return []
    }

    /// libyaml met `KEY:` where no key may start: the colon is inside a plain value (`text: more`),
    /// or the line is a key indented further than the line above it, which takes no block.
    private static func colonNote(offset: Int, line: Int, in input: UnsafeRawBufferPointer) -> String {
        let start = lineStart(before: offset, in: input)
        let indent = spaces(from: start, in: input)
        let before = Array(input[(start + indent)..<offset])
        if containsColonSpace(before) {
            return "a ': ' inside an unquoted value starts a new key: put the value in quotes (\"...\"), or write it as a folded block (`key: >` with the text on the lines below)"
        }
        // The nearest line above that holds something (not blank, not only a comment).
        var end = start
        var above = line
        while end > 0 {
            let s = lineStart(before: end - 1, in: input)
            above -= 1
            let n = spaces(from: s, in: input)
            let first = s + n < end - 1 ? input[s + n] : UInt8(ascii: "\n")
            if first != UInt8(ascii: "\n") && first != UInt8(ascii: "#") && first != UInt8(ascii: "\r") {
                if indent > n {
                    return "line \(line) is indented more than line \(above) above it (column \(indent + 1) against \(n + 1)): the keys of one mapping start in one column, and only a key that ends its line with ':' takes an indented block; if the line continues the text of line \(above), put that text in quotes (\"...\") or write it as a folded block (`key: >`)"
                }
                break
            }
            end = s
        }
        return "libyaml is still reading the value above this line: if this line continues a text, put that text in quotes (\"...\") or write it as a folded block (`key: >`)"
    }

    private static func lineStart(before offset: Int, in input: UnsafeRawBufferPointer) -> Int {
        var i = offset
        while i > 0, input[i - 1] != UInt8(ascii: "\n") { i -= 1 }
        return i
    }

    private static func spaces(from start: Int, in input: UnsafeRawBufferPointer) -> Int {
        var n = 0
        while start + n < input.count, input[start + n] == UInt8(ascii: " ") { n += 1 }
        return n
    }

    private static func containsColonSpace(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 2 else { return false }
        for i in 0..<(bytes.count - 1) where bytes[i] == UInt8(ascii: ":") && (bytes[i + 1] == UInt8(ascii: " ") || bytes[i + 1] == 0x09) {
            return true
        }
        return false
    }
}
