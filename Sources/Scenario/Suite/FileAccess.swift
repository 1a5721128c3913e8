// FileAccess: reading scenario files with a size limit, and canonical paths for root confinement.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FileAccess {
    /// Reads a whole regular file, refusing one larger than `maxBytes`.
    static func read(_ path: String, maxBytes: Int) -> Result<[UInt8], FileError> {
        var st = stat()
        guard stat(path, &st) == 0 else { return .failure(FileError("cannot read '\(path)': \(String(cString: strerror(errno)))")) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .failure(FileError("'\(path)' is not a regular file")) }
        guard Int(st.st_size) <= maxBytes else {
            return .failure(FileError("file is \(st.st_size) bytes, more than the limit of \(maxBytes) bytes (--max-file-bytes)"))
        }
        guard let f = fopen(path, "rb") else { return .failure(FileError("cannot open '\(path)': \(String(cString: strerror(errno)))")) }
        defer { fclose(f) }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        let n = out.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        if n < out.count { out.removeLast(out.count - n) }
        // A file that grew after stat() is still bounded.
        if n == out.count && n == maxBytes, fgetc(f) != EOF {
            return .failure(FileError("file is larger than the limit of \(maxBytes) bytes"))
        }
        return .success(out)
    }

    /// The canonical absolute path (symlinks resolved), or nil when it does not exist.
    static func canonical(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
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
