// DuplicateIDs: scenario ids are unique within a suite. A streamed run keeps no result, so the ids
// seen so far, and where each was first used, are kept compactly: the ids' UTF-8 one after
// another in one byte array, a 32-byte entry per id (with the file as a number in the run's file
// list), and an open-addressing table of entry numbers: about 70 bytes an id, against ~220 for a
// `[String: (String, Int)]` holding the decoder's strings. Two ids match exactly when two `String`s are `==` (same hash, then
// compared as strings), so the rule is the dictionary's.

extension Suite {
    /// The ids seen so far in a suite, with where each was first used: enough to reject a later
    /// reuse without keeping the results.
    public struct DuplicateIDs: Sendable {
        private struct Entry {
            var hash: Int
            /// Where the id's bytes start in `bytes` (they end where the next entry's start).
            var start: Int
            /// The file's number: in `files`, or the caller's (`check(_:fileNumber:fileName:)`).
            var file: Int
            var line: Int
        }

        private var entries: [Entry] = []
        private var bytes: [UInt8] = []
        /// The files of the entries checked with `check(_:)`, each stored once per run of results from it.
        private var files = PathList()
        private var lastFile: String?
        /// Entry number + 1, or 0 for an empty slot; a power of two, at most half full.
        private var slots: [Int32] = []

        public init() {}

        /// Makes `result` invalid when its id was used before (an invalid result is left as it
        /// is and does not claim its id).
        public mutating func check(_ result: inout ScenarioResult) {
            if case .invalid = result.outcome { return }
            if lastFile.map({ !$0.utf8.elementsEqual(result.file.utf8) }) ?? true {
                files.append(result.file)
                lastFile = result.file
            }
            let files = files
            check(&result, fileNumber: files.count - 1) { files[$0] }
        }

        /// `check(_:)` for a caller that already keeps the files (a run's file list): `fileNumber`
        /// stands for `result.file`, and `fileName` gives it back for the message.
        mutating func check(_ result: inout ScenarioResult, fileNumber: Int, fileName: (Int) -> String) {
            if case .invalid = result.outcome { return }
            let hash = result.id.hashValue
            if let first = find(result.id, hash: hash) {
                let location = "\(fileName(entries[first].file)):\(entries[first].line)"
                result.outcome = .invalid([Diagnostic(.error, "scenario id '\(result.id)' is already used by \(location); ids are unique within a suite",
                                                      at: SourceLocation(file: result.file, line: result.line, column: 1))])
            } else {
                insert(result.id, hash: hash, file: fileNumber, line: result.line)
            }
        }

        private func find(_ id: String, hash: Int) -> Int? {
            guard !slots.isEmpty else { return nil }
            let mask = slots.count - 1
            var slot = hash & mask
            while slots[slot] != 0 {
                let i = Int(slots[slot]) - 1
                if entries[i].hash == hash && text(of: i) == id { return i }
                slot = (slot + 1) & mask
            }
            return nil
        }

        private func text(of i: Int) -> String {
            let end = i + 1 < entries.count ? entries[i + 1].start : bytes.count
            return String(decoding: bytes[entries[i].start..<end], as: UTF8.self)
        }

        private mutating func insert(_ id: String, hash: Int, file: Int, line: Int) {
            entries.append(Entry(hash: hash, start: bytes.count, file: file, line: line))
            bytes.append(contentsOf: id.utf8)
            if entries.count * 2 > slots.count {
                rehash(capacity: max(64, slots.count * 2))
            } else {
                place(entries.count - 1)
            }
        }

        private mutating func rehash(capacity: Int) {
            slots = Array(repeating: 0, count: capacity)
            for i in entries.indices { place(i) }
        }

        private mutating func place(_ i: Int) {
            let mask = slots.count - 1
            var slot = entries[i].hash & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(i + 1)
        }
    }
}
