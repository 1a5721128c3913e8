// ScalarStyle: how a YAML scalar was written in the source.

/// How a scalar was written: plain, 'single', "double", `|` literal or `>` folded.
public enum ScalarStyle: Sendable, Equatable {
    case plain, singleQuoted, doubleQuoted, literal, folded
}
