// FileAccess: reading scenario files with a size limit, and canonical paths for root confinement.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FileAccess {
    /// Reads a whole regular file, refusing one larger than `maxBytes`. Anything but a regular file
    /// is refused before it is opened (opening a device may act on it); the file is then opened
    /// without blocking (a FIFO put in its place meanwhile cannot hang the run) and checked again on
    /// the open descriptor, so what is checked is what is read.
    /// Messages name the file `display` (by default `path`).
    static func read(_ path: String, maxBytes: Int, display: String? = nil) -> Result<[UInt8], FileError> {
        let shown = display ?? path
        var before = stat()
        guard stat(path, &before) == 0 else { return .failure(FileError("cannot read '\(shown)': \(String(cString: strerror(errno)))")) }
        guard (before.st_mode & S_IFMT) == S_IFREG else { return .failure(FileError("'\(shown)' is not a regular file")) }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return .failure(FileError("cannot read '\(shown)': \(String(cString: strerror(errno)))")) }
        defer { _ = close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .failure(FileError("cannot read '\(shown)': \(String(cString: strerror(errno)))")) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .failure(FileError("'\(shown)' is not a regular file")) }
        guard Int(st.st_size) <= maxBytes else {
            return .failure(FileError("file is \(st.st_size) bytes, more than the limit of \(maxBytes) bytes (--max-file-bytes)"))
        }
        // Up to one byte more than the limit is read, so a file that grew after fstat() is still bounded.
        var out = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
        var n = 0
        while true {
            if n == out.count {
                guard n <= maxBytes else { break }
                out += [UInt8](repeating: 0, count: min(out.count, maxBytes + 1 - n))
            }
            let got = out.withUnsafeMutableBytes { buf in buf.baseAddress.map { readBytes(fd, $0 + n, buf.count - n) } ?? 0 }
            if got < 0 && errno == EINTR { continue }
            if got < 0 { return .failure(FileError("cannot read '\(shown)': \(String(cString: strerror(errno)))")) }
            if got == 0 { break }
            n += got
        }
        if n > maxBytes { return .failure(FileError("file is larger than the limit of \(maxBytes) bytes (--max-file-bytes)")) }
        out.removeLast(out.count - n)
        return .success(out)
    }

    /// The canonical absolute path (symlinks resolved), or nil when it does not exist.
    static func canonical(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The longest path `resolved` works on (Linux's PATH_MAX); a longer one resolves to nothing.
    static let maxPathBytes = 4096

    /// Where `path` leads, whether or not a file is there: its canonical path when it exists, else
    /// the canonical path of its deepest existing folder followed by the rest of the name (a dangling
    /// symbolic link on the way followed through its target, at most 40 links; `.` and `..` in the
    /// rest taken lexically). Confinement checks use it so that a path leading outside the root is
    /// refused in the same words whether or not its target exists (no probing of the grader's
    /// files). Nil for a path longer than `maxPathBytes` or a chain of too many links.
    static func resolved(_ path: String) -> String? {
        var path = path
        for _ in 0..<40 {
            guard !path.isEmpty, path.utf8.count <= maxPathBytes else { return nil }
            if let c = canonical(path) { return c }
            let absolute = path.hasPrefix("/")
            var parts = path.split(separator: "/").map(String.init)
            var rest: [String] = []
            var base = absolute ? "/" : (canonical(".") ?? "/")
            while !parts.isEmpty {
                let prefix = (absolute ? "/" : "") + parts.joined(separator: "/")
                if let c = canonical(prefix) { base = c; break }
                rest.insert(parts.removeLast(), at: 0)
            }
            // The first missing component may be a dangling link: follow it and start again.
            if let first = rest.first, first != ".", first != ".." {
                let link = base == "/" ? "/" + first : base + "/" + first
                if isSymlink(link), let target = readLink(link) {
                    let tail = rest.dropFirst().joined(separator: "/")
                    let joined = target.hasPrefix("/") ? target : (base == "/" ? "/" : base + "/") + target
                    path = tail.isEmpty ? joined : joined + "/" + tail
                    continue
                }
            }
            var out = base.split(separator: "/").map(String.init)
            for part in rest {
                switch part {
                case ".": continue
                case "..": if !out.isEmpty { out.removeLast() }
                default: out.append(part)
                }
            }
            return "/" + out.joined(separator: "/")
        }
        return nil
    }

    /// Whether the canonical path `path` is `root` or lies under it.
    static func isInside(_ path: String, root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    /// The target of a symbolic link, as written in it.
    static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: maxPathBytes + 1)
        let n = readlink(path, &buf, maxPathBytes)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether the path itself is a symbolic link (not followed).
    static func isSymlink(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
    }

    static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// A directory entry's name. A name that is not valid UTF-8 (a Swift `String` cannot hold it,
    /// and a repaired name names no file) keeps its bytes in `bytes`, so the caller can say so.
    struct Entry: Sendable, Equatable {
        /// The name (invalid bytes repaired to U+FFFD when `bytes` is set).
        var name: String
        /// The name's bytes when they are not valid UTF-8, else nil.
        var bytes: [UInt8]?
    }

    /// Lists a directory's entries, sorted by name (stable order; a name that is not UTF-8 sorts by
    /// its repaired text, then by its bytes).
    static func entries(_ dir: String) -> [Entry] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [Entry] = []
        while let e = readdir(d) {
            let bytes: [UInt8] = withUnsafePointer(to: e.pointee.d_name) { ptr in
                ptr.withMemoryRebound(to: UInt8.self, capacity: 256) { p in
                    Array(UnsafeBufferPointer(start: p, count: strnlen(UnsafeRawPointer(p).assumingMemoryBound(to: CChar.self), 256)))
                }
            }
            if let name = String(validating: bytes, as: UTF8.self) {
                if name != "." && name != ".." { names.append(Entry(name: name)) }
            } else {
                names.append(Entry(name: String(decoding: bytes, as: UTF8.self), bytes: bytes))
            }
        }
        return names.sorted { a, b in a.name != b.name ? a.name < b.name : (a.bytes ?? []).lexicographicallyPrecedes(b.bytes ?? []) }
    }

    /// Bytes as text with each byte that is not part of valid UTF-8 written `\xff`: how a name
    /// that is not UTF-8 is shown.
    static func escapedName(_ bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            // The UTF-8 character starting here (1 to 4 bytes), else one escaped byte.
            var taken = false
            for n in 1...4 where i + n <= bytes.count {
                if let s = String(validating: bytes[i..<(i + n)], as: UTF8.self) {
                    out += s == "\\" ? "\\\\" : s
                    i += n
                    taken = true
                    break
                }
            }
            if !taken {
                out += "\\x" + (bytes[i] < 0x10 ? "0" : "") + String(bytes[i], radix: 16)
                i += 1
            }
        }
        return out
    }

    /// Whether `dir/NAME`, NAME given by its bytes, is a folder (a symbolic link is followed).
    static func isDirectory(in dir: String, bytes: [UInt8]) -> Bool {
        var path = Array(dir.utf8)
        if path.last != UInt8(ascii: "/") { path.append(UInt8(ascii: "/")) }
        path += bytes
        path.append(0)
        return path.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return false }
            return base.withMemoryRebound(to: CChar.self, capacity: buf.count) { p in
                var st = stat()
                return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
            }
        }
    }
}

/// read(2), under a name `FileAccess.read` does not shadow.
private func readBytes(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { read(fd, p, n) }

struct FileError: Error, Sendable {
    var message: String
    init(_ m: String) { message = m }
}

extension FileAccess {
    /// Writes a whole file (replacing it); false when it cannot be written.
    static func write(_ path: String, _ bytes: [UInt8]) -> Bool {
        guard let f = fopen(path, "wb") else { return false }
        let n = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        return fclose(f) == 0 && n == bytes.count
    }
}
