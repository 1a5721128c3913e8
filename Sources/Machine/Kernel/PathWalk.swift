// PathWalk: fs/namei.c's path walk (link_path_walk, open_last_lookups, do_open) over the model's file
// table, which is flat: it holds files (declared, created, the devices) by absolute path, and every
// proper prefix of one of them is a directory. A component that is not such a prefix and not a file is
// a directory too when something follows it (O_CREAT of "/tmp/x" creates the file, as on a system that
// has /tmp). Linux's walk, component by component:
//   - "//" and "." change nothing; ".." goes up (at the root it stays there);
//   - a component looked up in something that is not a directory: -ENOTDIR ("/f/x", "/f/..");
//   - a component longer than NAME_MAX (255 bytes): -ENAMETOOLONG from the file system's ->lookup
//     (simple_lookup, shmem, ext4_lookup), O_CREAT or not;
//   - the last component with O_CREAT: a trailing slash is -EISDIR before it is looked up
//     (open_last_lookups: "trailing slashes?"), and so is a directory (do_open: d_is_dir);
//   - without O_CREAT a trailing slash asks for a directory (LOOKUP_DIRECTORY): a file is -ENOTDIR,
//     a missing name -ENOENT.
// What the model cannot answer is refused by the callers: a relative path (no working directory) other
// than the exact name of a `kernel.files` file declared relative, a
// ".." out of a directory the table does not know, a directory opened for reading (no directory files).

/// What a path names after the walk.
enum PathLookup: Equatable {
    /// An existing file or device, by its canonical path.
    case file(String)
    /// A directory (the root, or a prefix of a file's path), by its canonical path.
    case directory(String)
    /// No such file; its canonical path (what O_CREAT would create).
    case missing(String)
    /// The walk fails with this errno (positive).
    case failure(Int64)
    /// The model cannot walk it: why.
    case notModelled(String)
}

extension System {
    /// NAME_MAX: the longest component a Linux file system looks up.
    static let nameMax = 255

    /// Whether `path` (canonical) is a directory of the model: the root, or a proper prefix of a file's path.
    func isKnownDirectory(_ path: String) -> Bool {
        if path == "/" { return true }
        let prefix = path + "/"
        return System.devicePaths.contains { $0.hasPrefix(prefix) } || core.fileContents.keys.contains { $0.hasPrefix(prefix) }
    }

    /// The walk of `raw` (getname's string, not empty); `create` is O_CREAT.
    func walkPath(_ raw: String, create: Bool) -> PathLookup {
        guard raw.hasPrefix("/") else {
            // A `kernel.files` file declared under a relative name is found by that name, as written.
            if fileExists(raw) { return .file(raw) }
            return .notModelled("the relative path \"\(raw)\" (the model has no working directory; only a kernel.files name written the same way is found)")
        }
        let parts = raw.split(separator: "/").map(String.init)
        var stack: [String] = []
        func here() -> String { "/" + stack.joined(separator: "/") }
        for (i, part) in parts.enumerated() {
            // The walk so far must be a directory to look the next component up in it.
            if !stack.isEmpty && fileExists(here()) { return .failure(KernelErrno.ENOTDIR) }
            let last = i == parts.count - 1
            switch part {
            case ".":
                continue
            case "..":
                if !stack.isEmpty && !isKnownDirectory(here()) {
                    return .notModelled("\"..\" out of \(here()), a directory the model's file table does not hold")
                }
                if !stack.isEmpty { stack.removeLast() }
            default:
                if last && create && raw.hasSuffix("/") { return .failure(KernelErrno.EISDIR) }
                if part.utf8.count > System.nameMax { return .failure(KernelErrno.ENAMETOOLONG) }
                stack.append(part)
            }
        }
        let path = here()
        let lastIsName = parts.last.map { $0 != "." && $0 != ".." } ?? false
        if lastIsName && fileExists(path) { return raw.hasSuffix("/") ? .failure(KernelErrno.ENOTDIR) : .file(path) }
        if !lastIsName || isKnownDirectory(path) { return create ? .failure(KernelErrno.EISDIR) : .directory(path) }
        return raw.hasSuffix("/") ? .failure(KernelErrno.ENOENT) : .missing(path)
    }
}
