// YAMLLoaderTests: behaviour of the YAML loader: marks, aliases, merge keys, errors and limits.

import Scenario
import Testing

/// Loads `text`, turning a thrown YAMLError into a test failure.
private func load(_ text: String, limits: YAMLLimits = YAMLLimits()) throws -> [YAMLDocument] {
    try YAMLLoader.load(text, limits: limits)
}

/// The root of the single document in `text`.
private func root(_ text: String, limits: YAMLLimits = YAMLLimits()) throws -> YAMLNode {
    let documents = try load(text, limits: limits)
    try #require(documents.count == 1)
    return try #require(documents[0].root)
}

/// The error thrown by loading `text`, or nil when it loads.
private func loadError(_ text: String, limits: YAMLLimits = YAMLLimits()) -> YAMLError? {
    do {
        _ = try YAMLLoader.load(text, limits: limits)
        return nil
    } catch {
        return error
    }
}

private func mark(_ line: Int, _ column: Int, _ offset: Int) -> SourceMark {
    SourceMark(line: line, column: column, offset: offset)
}

/// Keys of a mapping node, in order.
private func keys(_ node: YAMLNode?) -> [String] {
    (node?.mapping ?? []).map { $0.key.scalar ?? "?" }
}

@Suite("YAML loader")
struct YAMLLoaderTests {
    // MARK: Marks

    @Test func marksAndByteSpans() throws {
        let text = "name: ringspec\nlist:\n  - a\n  - \"b c\"\n# trailing comment\n"
        let bytes = Array(text.utf8)
        let map = try root(text)
        #expect(map.start == mark(1, 1, 0))
        let pairs = try #require(map.mapping)
        #expect(pairs.count == 2)
        #expect(pairs[0].key.start == mark(1, 1, 0))
        #expect(pairs[0].key.end == mark(1, 5, 4))
        #expect(pairs[0].value.start == mark(1, 7, 6))
        #expect(pairs[0].value.end == mark(1, 15, 14))
        #expect(pairs[0].value.scalarStyle == .plain)
        let list = pairs[1].value
        #expect(list.start == mark(3, 3, 23))
        let items = try #require(list.sequence)
        #expect(items[1].scalar == "b c")
        #expect(items[1].scalarStyle == .doubleQuoted)
        #expect(items[1].start == mark(4, 5, 31))
        #expect(items[1].end == mark(4, 10, 36))
        #expect(String(decoding: bytes[items[1].start.offset..<items[1].end.offset], as: UTF8.self) == "\"b c\"")
        // A block collection ends with its last item, not at the trailing comment.
        #expect(list.end == items[1].end)
        #expect(map.end == items[1].end)
    }

    @Test func byteOffsetsAfterMultibyteCharacters() throws {
        let text = "é: ü\nkey: \"ß\"\n"
        let bytes = Array(text.utf8)
        let pairs = try #require(try root(text).mapping)
        // Columns count characters; offsets count bytes.
        #expect(pairs[0].value.start == mark(1, 4, 4))
        #expect(pairs[1].value.start == mark(2, 6, 12))
        let value = pairs[1].value
        #expect(String(decoding: bytes[value.start.offset..<value.end.offset], as: UTF8.self) == "\"ß\"")
    }

    @Test func byteOrderMarkIsCountedInOffsets() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("a: b\n".utf8)
        let documents = try YAMLLoader.load(bytes)
        let value = try #require(documents.first?.root?.value(forKey: "a"))
        #expect(value.start == mark(1, 4, 6))
    }

    @Test func scalarStyles() throws {
        let node = try root("- plain\n- 'single'\n- \"double\"\n- |\n  literal\n- >\n  folded\n  text\n")
        let styles = try #require(node.sequence).map(\.scalarStyle)
        #expect(styles == [.plain, .singleQuoted, .doubleQuoted, .literal, .folded])
        #expect(try #require(node.sequence).map(\.scalar) == ["plain", "single", "double", "literal\n", "folded text\n"])
    }

    @Test(arguments: [
        ("a:", true), ("a: ~", true), ("a: null", true), ("a: Null", true), ("a: NULL", true),
        ("a: !!null ''", true), ("a: ''", false), ("a: 'null'", false), ("a: nil", false),
        ("a: !!str null", false), ("a: [1]", false),
    ])
    func nullScalars(text: String, isNull: Bool) throws {
        let value = try #require(try root(text).value(forKey: "a"))
        #expect(value.isNullScalar == isNull)
    }

    // MARK: Anchors, aliases, merge keys

    @Test func aliasesCopyTheAnchoredNode() throws {
        let node = try root("a: &x [1, 2]\nb: *x\n")
        let a = try #require(node.value(forKey: "a"))
        let b = try #require(node.value(forKey: "b"))
        #expect(a.anchor == "x")
        #expect(a.aliasMark == nil)
        #expect(b.sequence?.map(\.scalar) == ["1", "2"])
        #expect(b.aliasMark == mark(2, 4, 16))
        #expect(b.start == a.start)  // the copy keeps the anchored node's span
    }

    @Test func anchorsCanBeRedefined() throws {
        let node = try root("- &x 1\n- *x\n- &x 2\n- *x\n")
        #expect(node.sequence?.map(\.scalar) == ["1", "1", "2", "2"])
    }

    @Test func mergeKeyFromAliasExplicitKeysWin() throws {
        let node = try root("base: &a {x: 1, y: 2}\nm:\n  <<: *a\n  y: 3\n")
        let m = try #require(node.value(forKey: "m"))
        #expect(keys(m) == ["x", "y"])
        #expect(m.value(forKey: "x")?.scalar == "1")
        #expect(m.value(forKey: "y")?.scalar == "3")
        // Merged pairs keep their own marks (where `base` wrote them).
        #expect(m.mapping?[0].key.start == mark(1, 11, 10))
    }

    @Test func mergeKeySequenceEarlierMapsWin() throws {
        let node = try root("a: &a {x: 1}\nb: &b {x: 2, z: 3}\nm:\n  <<: [*a, *b]\n  w: 4\n")
        let m = try #require(node.value(forKey: "m"))
        #expect(keys(m) == ["x", "z", "w"])
        #expect(m.value(forKey: "x")?.scalar == "1")
        #expect(m.value(forKey: "z")?.scalar == "3")
        #expect(m.value(forKey: "w")?.scalar == "4")
    }

    @Test func mergeKeyWithInlineMappingAndNoDuplicateError() throws {
        let node = try root("m:\n  x: 0\n  <<: {x: 1, y: 2}\n")
        let m = try #require(node.value(forKey: "m"))
        #expect(keys(m) == ["x", "y"])
        #expect(m.value(forKey: "x")?.scalar == "0")
    }

    @Test func quotedMergeKeyIsAnOrdinaryKey() throws {
        let node = try root("m:\n  '<<': {x: 1}\n")
        #expect(keys(node.value(forKey: "m")) == ["<<"])
    }

    @Test(arguments: [
        ("m:\n  <<: 1\n", 2, 7),
        ("a: &a 1\nm:\n  <<: *a\n", 3, 7),
        ("a: &a {x: 1}\nm:\n  <<: [*a, 2]\n", 3, 12),
    ])
    func mergeKeyNeedsMappings(text: String, line: Int, column: Int) throws {
        let error = try #require(loadError(text))
        #expect(error.message.hasPrefix("merge key \"<<\" needs a mapping"))
        #expect(error.mark.line == line)
        #expect(error.mark.column == column)
    }

    // MARK: Errors

    @Test(arguments: [
        ("a: 1\nb: 2\na: 3\n", "a", 3, 1, "1:1"),
        ("{x: 1, 'x': 2}", "x", 1, 8, "1:2"),
        ("m:\n  <<: {a: 1}\n  <<: {b: 2}\n", "<<", 3, 3, "2:3"),
        ("k00: 0\nk01: 1\nk02: 2\nk03: 3\nk04: 4\nk05: 5\nk06: 6\nk07: 7\nk08: 8\nk09: 9\nk10: 10\nk11: 11\nk12: 12\nk13: 13\nk05: 14\n", "k05", 15, 1, "6:1"),
    ])
    func duplicateKeys(text: String, key: String, line: Int, column: Int, first: String) throws {
        let error = try #require(loadError(text))
        #expect(error.message == "duplicate key \"\(key)\"")
        #expect(error.mark.line == line)
        #expect(error.mark.column == column)
        #expect(error.notes == ["first defined at \(first)"])
    }

    @Test func unknownTagIsRejectedByDefault() throws {
        let error = try #require(loadError("a: !foo x\n"))
        #expect(error.message == "unsupported tag !foo")
        #expect(error.mark == mark(1, 4, 3))
        #expect(error.description == "1:4: unsupported tag !foo")
        var limits = YAMLLimits()
        limits.rejectUnknownTags = false
        #expect(try root("a: !foo x\n", limits: limits).value(forKey: "a")?.tag == "!foo")
    }

    @Test(arguments: [
        ("!!str 1", "tag:yaml.org,2002:str"), ("!!int 1", "tag:yaml.org,2002:int"),
        ("!!bool true", "tag:yaml.org,2002:bool"), ("!!null ~", "tag:yaml.org,2002:null"),
        ("!!float 1.5", "tag:yaml.org,2002:float"), ("!!map {}", "tag:yaml.org,2002:map"),
        ("!!seq []", "tag:yaml.org,2002:seq"), ("! 12", "!"),
        ("!<tag:yaml.org,2002:str> x", "tag:yaml.org,2002:str"),
    ])
    func coreTagsAreAccepted(text: String, tag: String) throws {
        #expect(try root(text).tag == tag)
    }

    @Test func untaggedNodesHaveNoTag() throws {
        #expect(try root("a").tag == nil)
    }

    @Test(arguments: ["!!map [1]", "!!seq {a: 1}", "!!str [1]", "!!int {}"])
    func coreTagOnTheWrongKindIsRejected(text: String) throws {
        let error = try #require(loadError(text))
        #expect(error.message.contains("cannot be applied to"))
    }

    @Test func unknownAlias() throws {
        let error = try #require(loadError("a: 1\nb: *nope\n"))
        #expect(error.message == "unknown alias *nope")
        #expect(error.mark == mark(2, 4, 8))
    }

    @Test func aliasBeforeItsAnchorIsUnknown() throws {
        let error = try #require(loadError("&a [*a]"))
        #expect(error.message == "unknown alias *a")
    }

    @Test func anchorsDoNotCrossDocuments() throws {
        let error = try #require(loadError("a: &x 1\n---\nb: *x\n"))
        #expect(error.message == "unknown alias *x")
        #expect(error.mark.line == 3)
    }

    @Test(arguments: ["a: [1, 2", "a: b: c", "- a\nb: c", "key: \"unterminated", "\t- a"])
    func parseErrorsAreLocated(text: String) throws {
        let error = try #require(loadError(text))
        #expect(error.mark.line >= 1)
        #expect(error.mark.column >= 1)
        #expect(!error.message.isEmpty)
    }

    @Test func aTabWhereIndentationIsExpectedGetsANote() throws {
        let error = try #require(loadError("a:\n  b: 1\n\tc: 2\n"))
        #expect(error.mark.line == 3 && error.mark.column == 1)
        #expect(error.notes.first == "this is a tab character: YAML indents with spaces only")
        // Other errors get no such note.
        let other = try #require(loadError("a: [1, 2"))
        #expect(!other.notes.contains { $0.contains("tab") })
    }

    @Test func parseErrorCarriesContext() throws {
        let error = try #require(loadError("a:\n  b: 1\n c: 2\n"))
        #expect(error.description == "3:2: did not find expected key while parsing a block mapping")
        #expect(error.notes == ["line 3 starts in column 2, but the keys of the mapping that starts at 1:1 are in column 1: indent the line like them",
                                "while parsing a block mapping started at 1:1"])
    }

    @Test func invalidUTF8IsALocatedError() throws {
        let bytes = Array("a: 1\nb: ".utf8) + [0xFF, 0x0A]
        do {
            _ = try YAMLLoader.load(bytes)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.mark.line == 2)
            #expect(error.mark.offset == 8)
        }
    }

    // MARK: Documents

    @Test func multipleDocuments() throws {
        let documents = try load("a: 1\n---\n- b\n--- c\n---\n...\n")
        #expect(documents.count == 4)
        #expect(documents[0].root?.value(forKey: "a")?.scalar == "1")
        #expect(documents[0].start == mark(1, 1, 0))
        #expect(documents[1].root?.sequence?.first?.scalar == "b")
        #expect(documents[1].start == mark(2, 1, 5))
        #expect(documents[2].root?.scalar == "c")
        #expect(documents[3].root == nil)  // a lone `---` (libyaml: an empty plain scalar)
        #expect(documents[3].start == mark(5, 1, 19))
    }

    @Test func emptyDocumentWithTagOrAnchorKeepsItsNode() throws {
        let documents = try load("--- !!null\n--- &a\n")
        #expect(documents.count == 2)
        #expect(documents[0].root?.tag == "tag:yaml.org,2002:null")
        #expect(documents[0].root?.isNullScalar == true)
        #expect(documents[1].root?.anchor == "a")
    }

    @Test(arguments: ["", "# only a comment\n", "\n\n"])
    func emptyStreams(text: String) throws {
        #expect(try load(text).isEmpty)
    }

    @Test func bytesAndStringAgree() throws {
        let text = "a: [1, {b: c}]\n"
        let fromBytes = try YAMLLoader.load(Array(text.utf8))
        let fromString = try YAMLLoader.load(text)
        #expect(fromBytes.first?.root?.end == fromString.first?.root?.end)
        #expect(fromBytes.first?.root?.value(forKey: "a")?.sequence?.count == 2)
    }

    // MARK: Limits

    @Test func defaultLimits() {
        let limits = YAMLLimits()
        #expect(limits.maxFileBytes == 1 << 20)
        #expect(limits.maxDepth == 64)
        #expect(limits.maxAliasExpansion == 100_000)
        #expect(limits.maxDocuments == 1_000)
        #expect(limits.maxScalarBytes == 1 << 20)
        #expect(limits.rejectUnknownTags)
    }

    @Test(arguments: [(64, true), (65, false)])
    func depthLimitFlow(depth: Int, loads: Bool) throws {
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let error = loadError(text)
        if loads {
            #expect(error == nil)
        } else {
            let error = try #require(error)
            #expect(error.message == "nesting deeper than 64 levels of sequences and mappings (--max-depth)")
            #expect(error.mark == mark(1, 65, 64))
        }
    }

    @Test(arguments: [(64, true), (65, false)])
    func depthLimitBlock(depth: Int, loads: Bool) throws {
        var text = ""
        for level in 0..<depth {
            text += String(repeating: " ", count: level) + "k:\n"
        }
        text += String(repeating: " ", count: depth) + "leaf\n"
        let error = loadError(text)
        #expect((error == nil) == loads)
        if let error { #expect(error.mark.line == 65) }
    }

    @Test func deepInputFailsFastWithoutCrashing() throws {
        let text = String(repeating: "[", count: 200_000)
        let error = try #require(loadError(text))
        #expect(error.mark.column == 65)
    }

    @Test func fileSizeLimit() throws {
        var limits = YAMLLimits()
        limits.maxFileBytes = 10
        #expect(loadError("a: 1234567", limits: limits) == nil)  // exactly 10 bytes
        let error = try #require(loadError("a: 12345678", limits: limits))
        #expect(error.mark == mark(1, 1, 0))
        #expect(error.message == "input of 11 bytes exceeds the limit of 10 bytes (--max-file-bytes)")
        let big = "a: " + String(repeating: "x", count: YAMLLimits.defaultMaxFileBytes)
        #expect(loadError(big)?.mark == mark(1, 1, 0))
    }

    @Test func scalarLimit() throws {
        var limits = YAMLLimits()
        limits.maxScalarBytes = 4
        #expect(loadError("a: abcd", limits: limits) == nil)
        let error = try #require(loadError("a: abcde", limits: limits))
        #expect(error.message == "scalar of 5 bytes exceeds the limit of 4 bytes (--max-scalar-bytes)")
        #expect(error.mark == mark(1, 4, 3))
    }

    @Test func documentLimit() throws {
        var limits = YAMLLimits()
        limits.maxDocuments = 2
        #expect(try load("1\n---\n2\n", limits: limits).count == 2)
        let error = try #require(loadError("1\n---\n2\n---\n3\n", limits: limits))
        #expect(error.message == "more than 2 documents in one stream (--max-documents)")
        #expect(error.mark.line == 4)
    }

    /// The expansion is counted as it goes and refused at the limit: the error's count is the guard
    /// (how long the refusal takes is the benchmarks' business, not a test's).
    @Test(.timeLimit(.minutes(1))) func billionLaughsIsRefusedAtTheExpansionLimit() throws {
        var text = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            let refs = Array(repeating: "*\(previous)", count: 9).joined(separator: ",")
            text += "\(name): &\(name) [\(refs)]\n"
        }
        var caught: YAMLError?
        do {
            _ = try YAMLLoader.load(text)
        } catch {
            caught = error  // typed throws: this is a YAMLError, not a crash
        }
        let error = try #require(caught)
        #expect(error.message == "alias expansion exceeds 100000 nodes (alias bomb?) (--max-alias-nodes)")
        #expect(error.mark.line >= 5)
        #expect(error.notes.first?.hasPrefix("anchor &") == true)
    }

    @Test func aliasExpansionLimitCountsWholeSubtrees() throws {
        var limits = YAMLLimits()
        limits.maxAliasExpansion = 8
        // [1, 2, 3] is 4 nodes: two uses are 8 (allowed), a third exceeds the limit.
        #expect(loadError("- &a [1, 2, 3]\n- *a\n- *a\n", limits: limits) == nil)
        let error = try #require(loadError("- &a [1, 2, 3]\n- *a\n- *a\n- *a\n", limits: limits))
        #expect(error.message == "alias expansion exceeds 8 nodes (alias bomb?) (--max-alias-nodes)")
        #expect(error.mark == mark(4, 3, 27))
        #expect(error.notes == ["anchor &a defined at 1:3"])
    }

    // MARK: Robustness

    /// Deterministically mutated inputs (byte flips, truncations, insertions of YAML
    /// indicators) must load or fail with a located error, never crash or hang.
    @Test func mutatedInputsNeverCrash() {
        let corpus = [
            "a: &x {b: [1, 2, *y], c: !!str d}\n<<: *x\n---\n- |\n  text\n- 'q'\n",
            "%YAML 1.1\n--- !!map\n? [a, {b: c}]\n: >-\n  folded\n...\n",
            "- &a [*a, &b {*b: 1}]\n- \"\\u263A\\x\"\n- { ? : , : }\n",
        ]
        let alphabet = Array("&*!|>[]{}:,-?#'\"\n\t %<@`\u{00e9}".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(truncatingIfNeeded: state >> 1)
        }
        var failures = 0
        for round in 0..<3000 {
            var bytes = Array(corpus[round % corpus.count].utf8)
            for _ in 0..<(1 + next() % 4) {
                let at = next() % (bytes.count + 1)
                switch next() % 4 {
                case 0: if at < bytes.count { bytes[at] = alphabet[next() % alphabet.count] }
                case 1: bytes.insert(alphabet[next() % alphabet.count], at: at)
                case 2: if at < bytes.count { bytes.remove(at: at) }
                default: bytes = Array(bytes.prefix(at))
                }
            }
            do {
                _ = try YAMLLoader.load(bytes)
            } catch {
                failures += 1
                #expect(error.mark.line >= 1 && error.mark.column >= 1, "\(error)")
            }
        }
        #expect(failures > 0)
    }
}

/// libyaml's "mapping values are not allowed in this context" is what a new author meets most: a
/// colon inside an unquoted description, or a key indented one space too far. The note says which.
@Suite struct ColonSyntaxHintTests {
    @Test(arguments: [
        ("description: a supervisor page: P=1 U=1\n", 1, 31),
        ("steps:\n  - access: {op: read}\n    expect: {fault: none} # why: none\nx: plain text: more\n", 4, 14),
    ])
    func aColonInsideAnUnquotedValueSaysToQuoteIt(text: String, line: Int, column: Int) throws {
        let error = try #require(loadError(text))
        #expect(error.message == "mapping values are not allowed in this context")
        #expect(error.mark.line == line && error.mark.column == column)
        #expect(error.notes.first?.hasPrefix("a ': ' inside an unquoted value starts a new key: put the value in quotes") == true)
    }

    @Test func aKeyIndentedTooFarNamesBothLines() throws {
        let error = try #require(loadError("scenario: x\nmachine:\n  mode: ia32\n   paging: pae\n"))
        #expect(error.mark.line == 4 && error.mark.column == 10)
        #expect(error.notes.first?.hasPrefix("line 4 is indented more than line 3 above it (column 4 against 3)") == true)
    }

    @Test func aKeyIndentedTooFarAfterACommentNamesItsMapping() throws {
        let error = try #require(loadError("scenario: x\nmachine:\n  mode: ia32\n\n  # a comment\n   paging: pae\n"))
        #expect(error.message == "did not find expected key while parsing a block mapping")
        #expect(error.mark.line == 6 && error.mark.column == 4)
        #expect(error.notes.first == "line 6 starts in column 4, but the keys of the mapping that starts at 3:3 are in column 3: indent the line like them")
    }

    @Test func otherErrorsGetNoColonNote() throws {
        let error = try #require(loadError("a: [1, 2"))
        #expect(!error.notes.contains { $0.contains("': '") || $0.contains("indented") })
    }
}
