// PathList: the scenario files of a run, kept as one byte array. A run of 100,000 files holds its
// file list for the whole run; as `[String]` that is ~110 bytes a path (a heap string each, plus
// the array), as a `PathList` the path's bytes plus 8. A path is made into a `String` when it is
// read (once per file run).

public struct PathList: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral, CustomStringConvertible {
    private var bytes: [UInt8] = []
    /// Where each path ends in `bytes` (it starts where the previous one ends).
    private var ends: [Int] = []

    public init() {}
    public init<S: Sequence>(_ paths: S) where S.Element == String {
        for p in paths { append(p) }
    }
    public init(arrayLiteral paths: String...) { self.init(paths) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.count }

    public subscript(i: Int) -> String {
        String(decoding: bytes[(i == 0 ? 0 : ends[i - 1])..<ends[i]], as: UTF8.self)
    }

    public mutating func append(_ path: String) {
        bytes.append(contentsOf: path.utf8)
        ends.append(bytes.count)
    }

    public var description: String { Array(self).description }
}
