// Files: the file-descriptor system calls (read, write, open) and the model's file table against Linux
// fs/read_write.c (vfs_read, vfs_write), fs/open.c (do_sys_open) and drivers/tty (tty_write). The file
// system holds the terminal (fds 0-2, /dev/console, /dev/tty, whose input is `kernel.stdin`), /dev/null
// and the files a scenario declares (`kernel.files`) or creates with O_CREAT. Each open creates an open
// file description whose position the descriptors fork copies share.

extension System {
    /// The file position of a descriptor: its open file description's (shared with fork copies).
    func fileOffset(_ f: OpenFile) -> Int { f.description.flatMap { core.fileOffsets[$0] } ?? f.offset }

    /// Moves the current task's descriptor `fd` (and every descriptor sharing its description) to `offset`.
    mutating func setFileOffset(_ fd: Int, _ offset: Int) {
        let c = core.current
        if let d = core.tasks[c].files[fd]?.description { core.fileOffsets[d] = offset } else { core.tasks[c].files[fd]?.offset = offset }
    }

    /// The terminal: fds 0-2 (a tty opened O_RDWR, as a shell leaves them), /dev/console, /dev/tty.
    static let terminalPaths: Set<String> = ["stdin", "stdout", "stderr", "/dev/console", "/dev/tty"]
    /// MAX_RW_COUNT (INT_MAX & PAGE_MASK): a longer read or write is cut to it.
    static let maxRWCount: UInt64 = 0x7FFF_F000
    /// The most bytes the model moves in one read or write (a longer one is refused).
    static let modelRWLimit = 1 << 20

    /// rw_verify_area's first test (fs/read_write.c): `(ssize_t) count < 0` is -EINVAL. size_t is the
    /// kernel's word: 32 bits on an i386 kernel, where a count with bit 31 set can still pass access_ok
    /// (a buffer low enough that it ends below 0xC0000000); 64 bits on x86_64, where the i386 table's count
    /// is zero-extended and a 64-bit one that large never passes access_ok.
    func rwCountNegative(_ count: UInt64) -> Bool {
        core.layout.mode == .ia32 ? count & 0x8000_0000 != 0 : Int64(bitPattern: count) < 0
    }

    /// access_ok: [addr, addr + count) lies below the top of user space.
    func userAccessOK(_ addr: UInt64, _ count: UInt64) -> Bool {
        let top = core.layout.mode == .ia32 ? 0xC000_0000 : 0x0000_8000_0000_0000 as UInt64
        let (end, overflow) = addr.addingReportingOverflow(count)
        return !overflow && end <= top
    }

    /// copy_from_user of up to `count` bytes, page by page: the bytes before the first page that cannot be
    /// read (a short copy, as the kernel's copy routines return), or nil when not even the first byte can.
    mutating func copyFromUserPrefix(_ addr: UInt64, count: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var a = addr
        while out.count < count {
            let n = min(count - out.count, Int(0x1000 - (a & 0xFFF)))
            guard let b = copyFromUser(a, count: n) else { break }
            out += b
            a += UInt64(n)
        }
        return out.isEmpty && count > 0 ? nil : out
    }

    /// copy_to_user, page by page: how many bytes were written before the first page that cannot be.
    mutating func copyToUserPrefix(_ addr: UInt64, _ bytes: [UInt8]) -> Int {
        var done = 0
        var a = addr
        while done < bytes.count {
            let n = min(bytes.count - done, Int(0x1000 - (a & 0xFFF)))
            guard userRangeOK(a, UInt64(n), write: true), pokeBytes(a, Array(bytes[done..<done + n]), cr3: machine.cpu.cr3) else { break }
            done += n
            a += UInt64(n)
        }
        return done
    }

    /// write (vfs_write): not open for writing -EBADF; beyond user space -EFAULT (access_ok); a negative
    /// ssize_t count -EINVAL (rw_verify_area), then the count is cut to MAX_RW_COUNT; /dev/null takes
    /// the count without reading the buffer; the terminal copies 2048-byte chunks (tty_write) and a declared
    /// file page by page, and a copy that faults ends the write: the bytes written so far, or -EFAULT.
    mutating func sysWrite(fd: Int, buf: UInt64, count: UInt64, _ out: inout StepOutcome) -> Int64 {
        let c = core.current
        guard let file = core.tasks[c].files[fd], file.writable else { return -KernelErrno.EBADF }
        guard userAccessOK(buf, count) else { return -KernelErrno.EFAULT }
        guard !rwCountNegative(count) else { return -KernelErrno.EINVAL }
        let count = min(count, System.maxRWCount)
        guard count > 0 else { return 0 }
        if file.path == "/dev/null" { return Int64(count) }
        // The model moves at most modelRWLimit bytes: a longer write is answered only when its copy stops
        // (a page that cannot be read) before that many bytes, which fixes the result as for a short one.
        let want = Int(min(count, UInt64(System.modelRWLimit)))
        guard var bytes = copyFromUserPrefix(buf, count: want) else { return -KernelErrno.EFAULT }
        if count > UInt64(System.modelRWLimit) && bytes.count == want {
            out.error = "not modelled: a write of more than \(System.modelRWLimit) bytes whose buffer can be read that far"
            return -KernelErrno.EFAULT
        }
        if System.terminalPaths.contains(file.path) {
            // iterate_tty_write: a chunk that cannot be copied whole is not written.
            if bytes.count < Int(count) { bytes = Array(bytes.prefix(bytes.count / 2048 * 2048)) }
            guard !bytes.isEmpty else { return -KernelErrno.EFAULT }
            let text = String(decoding: bytes, as: UTF8.self)
            out.output += text
            machine.trace.record(.output(task: core.tasks[c].name, text: text))
        } else {
            var contents = core.fileContents[file.path] ?? []
            let at = file.append ? contents.count : fileOffset(file)
            if contents.count < at { contents += [UInt8](repeating: 0, count: at - contents.count) }
            let overlap = min(bytes.count, contents.count - at)
            contents.replaceSubrange(at..<at + overlap, with: bytes)
            core.fileContents[file.path] = contents
            setFileOffset(fd, at + bytes.count)
        }
        return Int64(bytes.count)
    }

    /// read (vfs_read): not open for reading -EBADF; beyond user space -EFAULT (access_ok); a negative
    /// ssize_t count -EINVAL (rw_verify_area); /dev/null is at
    /// end of file; the terminal (fds 0-2, /dev/console, /dev/tty) gives the next bytes of `kernel.stdin`,
    /// at most one line (TerminalRead.swift), and a declared file those at the file position. Only the bytes copied must be writable: a short
    /// copy returns what was copied, none at all -EFAULT.
    mutating func sysRead(fd: Int, buf: UInt64, count: UInt64, _ out: inout StepOutcome) -> Int64 {
        let c = core.current
        guard let file = core.tasks[c].files[fd], file.readable else { return -KernelErrno.EBADF }
        guard userAccessOK(buf, count) else { return -KernelErrno.EFAULT }
        guard !rwCountNegative(count) else { return -KernelErrno.EINVAL }
        let count = Int(min(count, UInt64(System.modelRWLimit)))
        guard count > 0 else { return 0 }
        let data: [UInt8]
        if file.path == "/dev/null" {
            data = []
        } else if System.terminalPaths.contains(file.path) {
            data = System.terminalReadBytes(core.setup.stdin, from: core.stdinOffset, count: count)
        } else {
            data = Array((core.fileContents[file.path] ?? []).dropFirst(fileOffset(file)).prefix(count))
        }
        guard !data.isEmpty else { return 0 }
        let copied = copyToUserPrefix(buf, data)
        if System.terminalPaths.contains(file.path) {
            // A short copy loses the rest of its 64-byte chunk (TerminalRead.swift), -EFAULT or not.
            let consumed = System.terminalReadConsumed(taken: data.count, copied: copied)
            if consumed > copied {
                machine.trace.record(.kernelAction("tty read: the copy to user memory stopped after \(copied) of \(data.count) bytes; the \(consumed - copied) bytes already taken from the terminal in that 64-byte chunk are lost (iterate_tty_read)"))
            }
            core.stdinOffset += consumed
        }
        guard copied > 0 else { return -KernelErrno.EFAULT }
        if !System.terminalPaths.contains(file.path) {
            setFileOffset(fd, fileOffset(file) + copied)
        }
        return Int64(copied)
    }

    /// The device files every model system has.
    static let devicePaths: Set<String> = ["/dev/null", "/dev/console", "/dev/tty"]

    /// A path in the model's file table: a device or a declared (or created) file.
    func fileExists(_ path: String) -> Bool { System.devicePaths.contains(path) || core.fileContents[path] != nil }

    /// An errno value as an Error, for typed throws and Results.
    struct Errno: Error { let errno: Int64 }

    /// getname: the NUL-terminated path at `addr` (-EFAULT when unreadable, -ENAMETOOLONG at PATH_MAX
    /// 4096 bytes with its NUL, -ENOENT when empty). The walk (PathWalk.swift) comes after.
    mutating func userPath(_ addr: UInt64) -> Result<String, Errno> {
        var bytes: [UInt8] = []
        var a = addr
        while true {
            guard let b = copyFromUser(a, count: 1) else { return .failure(Errno(errno: KernelErrno.EFAULT)) }
            if b[0] == 0 { break }
            bytes.append(b[0])
            guard bytes.count < 4096 else { return .failure(Errno(errno: KernelErrno.ENAMETOOLONG)) }
            a += 1
        }
        guard !bytes.isEmpty else { return .failure(Errno(errno: KernelErrno.ENOENT)) }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    static let oAccMode: Int64 = 0x3, oCreat: Int64 = 0x40, oExcl: Int64 = 0x80, oTrunc: Int64 = 0x200
    static let oAppend: Int64 = 0x400, oDirectory: Int64 = 0x1_0000
    /// O_PATH (010000000) and __O_TMPFILE (020000000, O_TMPFILE with O_DIRECTORY), asm-generic/fcntl.h.
    static let oPath: Int64 = 0x20_0000, oTmpfileBit: Int64 = 0x40_0000
    /// RLIMIT_NOFILE's usual soft limit: fds 0 ... 1023.
    static let maxOpenFiles = 1024

    /// open(path, flags) (fs/open.c do_sys_open; asm-generic/fcntl.h flags, the same on i386 and x86_64):
    /// the path (at most PATH_MAX 4096 bytes with its NUL, else -ENAMETOOLONG; empty: -ENOENT), walked as
    /// fs/namei.c does (PathWalk.swift); a file that does not exist is -ENOENT unless O_CREAT creates it
    /// (empty); O_CREAT|O_EXCL on an existing file -EEXIST; O_DIRECTORY on a file -ENOTDIR; a directory
    /// opened for writing -EISDIR (may_open), for reading refused (the model has no directory files);
    /// O_TRUNC empties a declared file; the access mode gives the descriptor read and/or write
    /// permission; O_APPEND makes every write go to the end; the lowest free descriptor, -EMFILE past 1023
    /// (checked once the path is read, before it is walked).
    mutating func sysOpen(path addr: UInt64, flags: Int64, _ out: inout StepOutcome) -> Int64 {
        // build_open_flags (fs/open.c), before the path is read: O_DIRECTORY|O_CREAT is -EINVAL (Linux 6.4:
        // it used to create a regular file); __O_TMPFILE needs O_DIRECTORY and write access (-EINVAL).
        // O_PATH and O_TMPFILE descriptors (no read or write, an unnamed file) are not modelled.
        if flags & System.oPath == 0 {
            if flags & (System.oDirectory | System.oCreat) == System.oDirectory | System.oCreat { return -KernelErrno.EINVAL }
            if flags & System.oTmpfileBit != 0 {
                let mode = flags & System.oAccMode
                guard flags & System.oDirectory != 0, mode == 1 || mode == 2 else { return -KernelErrno.EINVAL }
                out.error = "not modelled: open with O_TMPFILE (an unnamed file)"
                return -KernelErrno.ENOSYS
            }
        } else {
            out.error = "not modelled: open with O_PATH (a descriptor for path operations only)"
            return -KernelErrno.ENOSYS
        }
        let raw: String
        switch userPath(addr) {
        case let .success(p): raw = p
        case let .failure(e): return -e.errno
        }
        // do_sys_openat2: get_unused_fd_flags comes after getname and before the walk (do_filp_open), so a
        // full table is -EMFILE whatever the path names.
        let c = core.current
        var fd = 0
        while core.tasks[c].files[fd] != nil { fd += 1 }
        guard fd < System.maxOpenFiles else { return -KernelErrno.EMFILE }
        let path: String
        let exists: Bool
        switch walkPath(raw, create: flags & System.oCreat != 0) {
        case let .file(p): path = p; exists = true
        case let .missing(p): path = p; exists = false
        case let .failure(e): return -e
        case let .directory(p):
            if flags & System.oAccMode == 1 || flags & System.oAccMode == 2 { return -KernelErrno.EISDIR }
            out.error = "not modelled: open(\"\(raw)\") of the directory \(p) (the model's file table holds no directory files)"
            return -KernelErrno.ENOSYS
        case let .notModelled(why):
            out.error = "not modelled: open of \(why)"
            return -KernelErrno.ENOSYS
        }
        let devices = System.devicePaths
        if exists {
            if flags & System.oCreat != 0 && flags & System.oExcl != 0 { return -KernelErrno.EEXIST }
            if flags & System.oDirectory != 0 { return -KernelErrno.ENOTDIR }
        } else if flags & System.oCreat == 0 {
            return -KernelErrno.ENOENT
        }
        if !exists {
            core.fileContents[path] = []
            machine.trace.record(.kernelAction("open: O_CREAT creates \(path)"))
        }
        if flags & System.oTrunc != 0, !devices.contains(path) { core.fileContents[path] = [] }
        var file = OpenFile(path: path)
        file.description = core.nextFileDescription
        core.fileOffsets[core.nextFileDescription] = 0
        core.nextFileDescription += 1
        let mode = flags & System.oAccMode
        file.readable = mode == 0 || mode == 2
        file.writable = mode == 1 || mode == 2
        file.append = flags & System.oAppend != 0
        core.tasks[c].files[fd] = file
        return Int64(fd)
    }
}
