// SourceMark: a position in a YAML source (1-based line and column, 0-based byte offset).

/// A position in a YAML source.
///
/// `line` and `column` are 1-based. `column` counts characters (Unicode scalars) from the
/// start of the line, as libyaml does; `offset` is the 0-based byte offset into the input.
public struct SourceMark: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var offset: Int

    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// The start of a source: line 1, column 1, offset 0.
    public static let start = SourceMark(line: 1, column: 1, offset: 0)

    /// "LINE:COLUMN".
    public var description: String { "\(line):\(column)" }
}
