// YAMLError: a located error raised while loading YAML.

/// A loading error, located at `mark`. `notes` carry related positions,
/// e.g. "first defined at 3:5". `description` is "LINE:COLUMN: message".
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var mark: SourceMark
    public var notes: [String]

    public init(message: String, mark: SourceMark, notes: [String] = []) {
        self.message = message
        self.mark = mark
        self.notes = notes
    }

    public var description: String { "\(mark.line):\(mark.column): \(message)" }
}
