// YAMLTreeBuilder: the one-pass loader: pulls libyaml events and builds YAMLDocuments.

import CYaml

/// Drives `yaml_parser_parse` over the whole input once, building nodes bottom-up on an
/// explicit stack (no recursion), resolving aliases, merge keys and duplicates as it goes,
/// and enforcing `YAMLLimits`. The children of all open collections share one scratch
/// array; a closing collection copies its slice out into an exactly sized array.
struct YAMLTreeBuilder: ~Copyable {
    /// A collection being built.
    private struct Frame {
        /// The document level (the bottom frame): a finished node there is the root.
        var isDocument = false
        var isMapping: Bool
        var isBlock: Bool
        var start: SourceMark
        var tag: String?
        var anchor: String?
        /// Where this collection's children start in `scratch`.
        var base: Int
        /// Whether a key of this mapping may be a merge key (`<<`).
        var mayMerge = false
        /// Nodes in this subtree so far (aliased subtrees counted in full), itself included.
        var nodeCount = 1
        /// Bytes of scalar text in this subtree so far (aliased subtrees counted in full).
        var scalarBytes = 0
    }

    /// A node defined with an anchor, and the size of its subtree.
    private struct Anchored {
        var node: YAMLNode
        var nodeCount: Int
        var scalarBytes: Int
    }

    private let limits: YAMLLimits
    private let input: UnsafeRawBufferPointer
    private var marks: YAMLMarkConverter

    private var documents: [YAMLDocument] = []
    /// The innermost open collection (or the document level), kept out of `outer` so the
    /// hot path touches no array.
    private var top = Frame(isDocument: true, isMapping: false, isBlock: false, start: .start, base: 0)
    /// The enclosing open collections, outermost first.
    private var outer: [Frame] = []
    private var scratch = YAMLNodeStack()
    private var root: YAMLNode?
    private var documentStart = SourceMark.start
    private var anchors: [String: Anchored] = [:]
    private var aliasExpansion = 0
    /// Bytes of scalar text that aliases re-used, summed over the whole stream (all documents).
    private var aliasBytes = 0

    init(input: UnsafeRawBufferPointer, limits: YAMLLimits) {
        self.input = input
        self.limits = limits
        self.marks = YAMLMarkConverter(bytes: input)
    }

    mutating func run() throws(YAMLError) -> [YAMLDocument] {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else {
            throw YAMLError(message: "cannot initialise the YAML parser (out of memory)", mark: .start)
        }
        defer { yaml_parser_delete(parser) }

        // libyaml asserts a non-null input pointer, even for an empty input.
        let empty: StaticString = ""
        let base = input.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? empty.utf8Start
        yaml_parser_set_input_string(parser, base, input.count)

        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) == 1 else {
                throw parserError(parser.pointee)
            }
            defer { yaml_event_delete(&event) }
            if event.type == YAML_STREAM_END_EVENT { break }
            try handle(&event)
        }
        return documents
    }

    // MARK: Events

    private mutating func handle(_ event: inout yaml_event_t) throws(YAMLError) {
        switch event.type {
        case YAML_SCALAR_EVENT:
            try scalar(&event)
        case YAML_SEQUENCE_START_EVENT:
            let data = event.data.sequence_start
            try open(
                &event, isMapping: false, isBlock: data.style != YAML_FLOW_SEQUENCE_STYLE,
                tag: data.tag, anchor: data.anchor)
        case YAML_MAPPING_START_EVENT:
            let data = event.data.mapping_start
            try open(
                &event, isMapping: true, isBlock: data.style != YAML_FLOW_MAPPING_STYLE,
                tag: data.tag, anchor: data.anchor)
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            try close(&event)
        case YAML_ALIAS_EVENT:
            try alias(&event)
        case YAML_DOCUMENT_START_EVENT:
            if documents.count >= limits.maxDocuments {
                throw YAMLError(
                    message: "more than \(limits.maxDocuments) documents in one stream (--max-documents)",
                    mark: marks.mark(event.start_mark))
            }
            documentStart = marks.mark(event.start_mark)
            root = nil
            outer.removeAll(keepingCapacity: true)
            top = Frame(isDocument: true, isMapping: false, isBlock: false, start: .start, base: 0)
            scratch.removeAll()
            anchors.removeAll(keepingCapacity: true)
            aliasExpansion = 0
        case YAML_DOCUMENT_END_EVENT:
            // libyaml reports a document without content (a lone `---`) as an empty plain
            // scalar of zero width; such a document has no root.
            if let node = root, node.tag == nil, node.anchor == nil, node.start == node.end,
                case .scalar("", .plain) = node.content
            {
                root = nil
            }
            documents.append(YAMLDocument(root: root, start: documentStart))
            root = nil
        default:
            break  // STREAM_START, NO_EVENT
        }
    }

    private mutating func scalar(_ event: inout yaml_event_t) throws(YAMLError) {
        let data = event.data.scalar
        let start = marks.mark(event.start_mark)
        let length = Int(data.length)
        if length > limits.maxScalarBytes {
            throw YAMLError(
                message: "scalar of \(length) bytes exceeds the limit of \(limits.maxScalarBytes) bytes (--max-scalar-bytes)",
                mark: start)
        }
        let text: String
        if let value = data.value, length > 0 {
            text = String(decoding: UnsafeBufferPointer(start: value, count: length), as: UTF8.self)
        } else {
            text = ""
        }
        let style: ScalarStyle
        switch data.style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: style = .literal
        case YAML_FOLDED_SCALAR_STYLE: style = .folded
        default: style = .plain
        }
        if data.tag == nil && data.anchor == nil {
            // The common case: no tag, no anchor (nothing to record), and a key may be `<<` only
            // when it is two bytes long.
            let end = marks.mark(event.end_mark)
            if top.isDocument {
                root = YAMLNode(plainScalar: text, style: style, start: start, end: end)
                return
            }
            countChild(nodeCount: 1, scalarBytes: length, mayBeMergeKey: length == 2)
            scratch.pushScalar(text, style: style, start: start, end: end)
            return
        }
        let tag = try checkedTag(data.tag, kind: .scalar, text: text, at: start)
        let anchor = Self.string(data.anchor)
        let node = YAMLNode(
            content: .scalar(text, style), tag: tag, start: start,
            end: marks.mark(event.end_mark), anchor: anchor)
        add(node, nodeCount: 1, scalarBytes: length)
    }

    private mutating func open(
        _ event: inout yaml_event_t, isMapping: Bool, isBlock: Bool,
        tag rawTag: UnsafeMutablePointer<yaml_char_t>?, anchor rawAnchor: UnsafeMutablePointer<yaml_char_t>?
    ) throws(YAMLError) {
        let start = marks.mark(event.start_mark)
        // Depth is the number of open collections; refusing here stops libyaml (which has no
        // depth limit of its own) from going any deeper.
        if outer.count >= limits.maxDepth {
            throw YAMLError(
                message: "nesting deeper than \(limits.maxDepth) levels of sequences and mappings (--max-depth)",
                mark: start)
        }
        let tag = try checkedTag(rawTag, kind: isMapping ? .mapping : .sequence, at: start)
        outer.append(top)
        top = Frame(
            isMapping: isMapping, isBlock: isBlock, start: start, tag: tag,
            anchor: Self.string(rawAnchor), base: scratch.count)
    }

    private mutating func close(_ event: inout yaml_event_t) throws(YAMLError) {
        guard !top.isDocument, let enclosing = outer.popLast() else { return }
        let frame = top
        top = enclosing
        // A block collection's end event sits where the next token starts (after trailing
        // blank lines and comments); its last child's end is the better end.
        let base = frame.base
        var end = marks.mark(event.end_mark)
        if frame.isBlock, base < scratch.count {
            end = scratch.lastEnd
        }
        let content: YAMLNode.Content
        if frame.isMapping {
            let pairs = scratch.popPairs(from: base)
            content = .mapping(try YAMLMappingResolver.resolve(pairs, mayMerge: frame.mayMerge))
        } else {
            content = .sequence(scratch.popNodes(from: base))
        }
        let node = YAMLNode(
            content: content, tag: frame.tag, start: frame.start, end: end, anchor: frame.anchor)
        add(node, nodeCount: frame.nodeCount, scalarBytes: frame.scalarBytes)
    }

    private mutating func alias(_ event: inout yaml_event_t) throws(YAMLError) {
        let mark = marks.mark(event.start_mark)
        let name = Self.string(event.data.alias.anchor) ?? ""
        guard let anchored = anchors[name] else {
            throw YAMLError(message: "unknown alias *\(name)", mark: mark)
        }
        aliasExpansion += anchored.nodeCount
        if aliasExpansion > limits.maxAliasExpansion {
            throw YAMLError(
                message: "alias expansion exceeds \(limits.maxAliasExpansion) nodes (alias bomb?) (--max-alias-nodes)",
                mark: mark, notes: ["anchor &\(name) defined at \(anchored.node.start)"])
        }
        // Nodes are cheap to re-use (shared storage), but every use of a scalar is read, compared,
        // copied into memory or quoted in a message on its own: 12,000 aliases of a 300 KB text
        // put 3.6 GB in front of the decoder and the reports (docs/security.md).
        aliasBytes += anchored.scalarBytes
        if aliasBytes > limits.maxAliasBytes {
            throw YAMLError(
                message: "aliases re-use more than \(limits.maxAliasBytes) bytes of text in this file (alias bomb?) (--max-alias-bytes)",
                mark: mark, notes: ["anchor &\(name) defined at \(anchored.node.start) holds \(anchored.scalarBytes) bytes of text"])
        }
        var node = anchored.node
        node.aliasMark = mark
        add(node, nodeCount: anchored.nodeCount, scalarBytes: anchored.scalarBytes)
    }

    // MARK: Helpers

    /// Places a finished node in its parent (or as the document root) and records its anchor.
    private mutating func add(_ node: consuming YAMLNode, nodeCount: Int, scalarBytes: Int) {
        if node.hasExtras, node.aliasMark == nil, let anchor = node.anchor {
            anchors[anchor] = Anchored(node: copy node, nodeCount: nodeCount, scalarBytes: scalarBytes)
        }
        let mayBeMergeKey = YAMLMappingResolver.mayBeMergeKey(node)
        place(node, nodeCount: nodeCount, scalarBytes: scalarBytes, mayBeMergeKey: mayBeMergeKey)
    }

    /// Puts a finished node in its parent (or makes it the document root); `mayBeMergeKey` says
    /// whether the node, as a key, could be `<<`.
    private mutating func place(_ node: consuming YAMLNode, nodeCount: Int, scalarBytes: Int, mayBeMergeKey: Bool) {
        if top.isDocument {
            root = node
            return
        }
        countChild(nodeCount: nodeCount, scalarBytes: scalarBytes, mayBeMergeKey: mayBeMergeKey)
        scratch.push(node)
    }

    /// Counts a child about to be pushed into the open collection, and notes when it sits in key
    /// position and could be `<<`.
    @inline(__always)
    private mutating func countChild(nodeCount: Int, scalarBytes: Int, mayBeMergeKey: Bool) {
        if mayBeMergeKey, top.isMapping, (scratch.count - top.base) & 1 == 0 {
            top.mayMerge = true
        }
        top.nodeCount += nodeCount
        top.scalarBytes += scalarBytes
    }

    private func checkedTag(
        _ raw: UnsafeMutablePointer<yaml_char_t>?, kind: YAMLTag.Kind, text: String? = nil, at mark: SourceMark
    ) throws(YAMLError) -> String? {
        guard let tag = Self.string(raw) else { return nil }
        if limits.rejectUnknownTags, let problem = YAMLTag.problem(with: tag, on: kind, text: text) {
            throw YAMLError(message: problem, mark: mark)
        }
        return tag
    }

    private static func string(_ raw: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let raw else { return nil }
        return String(cString: raw)
    }

    /// Converts libyaml's error state into a located YAMLError.
    private mutating func parserError(_ parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown YAML error"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return YAMLError(message: "out of memory while parsing YAML", mark: .start)
        case YAML_READER_ERROR:
            var message = problem
            if parser.problem_value != -1 {
                let value = String(UInt32(truncatingIfNeeded: parser.problem_value), radix: 16)
                message += " (#x\(value))"
            }
            return YAMLError(message: message, mark: marks.mark(ofByte: Int(parser.problem_offset)))
        default:
            let mark = marks.mark(parser.problem_mark)
            // What the message most often means in a hand-written file (a tab, a ': ' in a text).
            let context = parser.context.map { String(cString: $0) }
            let contextMark = context == nil ? nil : marks.mark(parser.context_mark)
            let hintNotes = YAMLSyntaxHint.notes(
                problem: problem, at: mark, context: context, contextMark: contextMark, in: input)
            guard let context, let contextMark else {
                return YAMLError(message: problem, mark: mark, notes: hintNotes)
            }
            return YAMLError(
                message: "\(problem) \(context)", mark: mark,
                notes: hintNotes + ["\(context) started at \(contextMark)"])
        }
    }
}
