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

    /// Lists a directory's entries, sorted by name (stable order).
    static func list(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { ptr in
                ptr.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
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
