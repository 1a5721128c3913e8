// UTF8Check: a scenario file that is not UTF-8 is refused at its first bad byte, in words a
// student can act on. libyaml finds the same files wrong but names the byte after the bad one
// ("invalid trailing UTF-8 octet (#x20)" for the space after Latin-1's 'é'), which reads as if
// the space were the problem.
// A byte order mark anywhere but at the start is refused here too, in its own words: libyaml skips
// one at the start of a line and then reads the line as starting in column 2 ("line 7 starts in
// column 2, but the keys ... are in column 1"), a column the author cannot see.

enum UTF8Check {
    /// The error for the first byte of `bytes` that does not start a well-formed UTF-8 character
    /// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), located as libyaml
    /// locates characters (a line ends at LF, CR, CR LF, NEL, LS or PS; columns count characters;
    /// a leading BOM is not counted). Nil when the bytes are UTF-8, or when they start with a
    /// UTF-16 byte order mark (libyaml reads UTF-16, as YAML 1.2 allows).
    static func firstError(_ bytes: UnsafeRawBufferPointer) -> YAMLError? {
        let n = bytes.count
        if n >= 2, (bytes[0] == 0xFE && bytes[1] == 0xFF) || (bytes[0] == 0xFF && bytes[1] == 0xFE) { return nil }
        let first = n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        // Every file is checked, so the common case is kept fast: ASCII is skipped eight bytes at a time and
        // the line and column are worked out only for a file that is wrong.
        var i = first
        while i < n {
            if i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
            if bytes[i] < 0x80 {
                i += 1
                continue
            }
            let length = sequenceLength(bytes, at: i)
            guard length > 0 else { return error(bytes, at: i, from: first) }
            // U+FEFF after the start: YAML 1.2.2 §5.2, "A BOM must not appear inside a document"; libyaml
            // takes one only at the start of the stream (between documents too, YAML 1.2 would allow it).
            if length == 3, bytes[i] == 0xEF, bytes[i + 1] == 0xBB, bytes[i + 2] == 0xBF {
                return error(bytes, at: i, from: first, message: "a byte order mark (U+FEFF) inside the file: one may only start the file (was a file saved with a BOM pasted or concatenated here? delete it; in a string, write \"\\uFEFF\")")
            }
            i += length
        }
        return nil
    }

    /// The error for the bad byte at `offset`, at its line and column.
    private static func error(_ bytes: UnsafeRawBufferPointer, at offset: Int, from first: Int, message: String? = nil) -> YAMLError {
        var i = first
        var line = 1, column = 1
        while i < offset {
            let b = bytes[i]
            if b < 0x80 {
                if b == 0x0A || (b == 0x0D && !(i + 1 < offset && bytes[i + 1] == 0x0A)) {
                    line += 1
                    column = 1
                } else if b != 0x0D {
                    column += 1
                }
                i += 1
                continue
            }
            let length = max(1, sequenceLength(bytes, at: i))
            // NEL (C2 85), LS (E2 80 A8) and PS (E2 80 A9) end a line for libyaml.
            let isBreak = (length == 2 && b == 0xC2 && bytes[i + 1] == 0x85)
                || (length == 3 && b == 0xE2 && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9))
            if isBreak {
                line += 1
                column = 1
            } else {
                column += 1
            }
            i += length
        }
        let b = bytes[offset]
        if let message { return YAMLError(message: message, mark: SourceMark(line: line, column: column, offset: offset)) }
        return YAMLError(message: "the file is not UTF-8: byte 0x\(String(b, radix: 16, uppercase: true)) here does not start a valid UTF-8 character (was it saved as Latin-1 or Windows-1252? save it as UTF-8)",
                         mark: SourceMark(line: line, column: column, offset: offset))
    }

    /// The length of the well-formed UTF-8 sequence of 2 to 4 bytes starting at `i`, or 0.
    private static func sequenceLength(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int {
        let b = bytes[i]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the range of the second byte
        switch b {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard i + length <= bytes.count, (low...high).contains(bytes[i + 1]) else { return 0 }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return 0 }
        return length
    }
}
