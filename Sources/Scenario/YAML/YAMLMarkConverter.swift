// YAMLMarkConverter: turns libyaml's 0-based marks (character index) into SourceMarks (byte offset).

import CYaml

/// libyaml counts `index` in characters (Unicode scalars, CRLF as two) after any byte order
/// mark, and `line`/`column` from 0. A `SourceMark` is 1-based and carries a byte offset.
/// For pure-ASCII input the index is the offset; otherwise a cursor walks the UTF-8 bytes
/// (marks arrive almost in order, so each conversion costs about the distance moved).
/// UTF-16 input (which libyaml transcodes) is not mapped: its offsets stay character indices.
struct YAMLMarkConverter {
    private let bytes: UnsafeRawBufferPointer
    private let identity: Bool
    private let bomLength: Int
    private var charIndex = 0
    private var byteOffset = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        var bom = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { bom = 3 }
        let utf16 = bytes.count >= 2
            && ((bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE))
        let ascii = bom == 0 && !utf16 && Self.isASCII(bytes)
        self.identity = (bom == 0 && ascii) || utf16
        self.bomLength = bom
        self.byteOffset = bom
    }

    /// True when no byte has its high bit set (checked eight bytes at a time).
    private static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var i = 0
        var seen: UInt64 = 0
        while i + 8 <= count {
            seen |= base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            seen |= UInt64(bytes[i])
            i += 1
        }
        return seen & 0x8080_8080_8080_8080 == 0
    }

    /// The byte offset of the character at libyaml index `index`.
    mutating func offset(ofCharacter index: Int) -> Int {
        if identity { return index }
        let count = bytes.count
        while charIndex < index && byteOffset < count {
            byteOffset += 1
            while byteOffset < count && bytes[byteOffset] & 0xC0 == 0x80 { byteOffset += 1 }
            charIndex += 1
        }
        while charIndex > index && byteOffset > bomLength {
            byteOffset -= 1
            while byteOffset > bomLength && bytes[byteOffset] & 0xC0 == 0x80 { byteOffset -= 1 }
            charIndex -= 1
        }
        return byteOffset
    }

    /// The SourceMark for a libyaml mark.
    mutating func mark(_ mark: yaml_mark_t) -> SourceMark {
        SourceMark(
            line: Int(mark.line) + 1, column: Int(mark.column) + 1,
            offset: offset(ofCharacter: Int(mark.index)))
    }

    /// The SourceMark of a raw byte offset (used for libyaml reader errors, which only give one).
    func mark(ofByte offset: Int) -> SourceMark {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var column = 1
        var i = bomLength < end ? bomLength : 0
        while i < end {
            let byte = bytes[i]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte == 0x0D {
                if i + 1 < end, bytes[i + 1] == 0x0A { i += 1 }
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return SourceMark(line: line, column: column, offset: end)
    }
}
