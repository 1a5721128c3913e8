// SyscallTable: the two system-call tables as data, number -> kernel function (ABI table,
// arch/x86/entry/syscalls/syscall_32.tbl and syscall_64.tbl). An unknown number returns -ENOSYS and leaves
// a trace entry; `kernel.syscalls` restricts what is served.

/// The kernel functions the model implements (Syscalls.swift).
public enum KernelFunction: String, Sendable, CaseIterable {
    case exit, fork, read, write, open, close, waitpid, wait4, execve, getpid, kill, brk, getppid
    case sched_yield, nanosleep, exit_group, stat
    /// i386 90 is the old mmap (one pointer to a block of six arguments); x86_64 9 takes them in registers.
    case mmap
    /// i386 192: mmap with the file offset in 4 KiB pages.
    case mmap2
    /// mm/mmap.c __vm_munmap and mm/mprotect.c do_mprotect_pkey (Mmap.swift).
    case munmap, mprotect
    /// kernel/fork.c: clone as fork (exit signal SIGCHLD, no flags, no new stack); the rest is refused.
    case clone
    /// fs/file.c dup and dup2 (the new descriptor shares the open file description); kernel/signal.c pause.
    case dup, dup2, pause
    case restart_syscall
    /// kernel/sys.c prctl: PR_SET_CHILD_SUBREAPER and PR_GET_CHILD_SUBREAPER (Subreaper.swift); other options are refused.
    case prctl
}

/// One numbering system: i386 (`int 0x80`, SYSENTER, compat SYSCALL; ABI-1) or x86_64 (SYSCALL; ABI-2).
public enum SyscallTable: String, Sendable, CaseIterable {
    case i386
    case x86_64

    /// number -> function.
    public var entries: [Int64: KernelFunction] {
        switch self {
        case .i386: SyscallTable.i386Entries
        case .x86_64: SyscallTable.x86_64Entries
        }
    }

    static let i386Entries: [Int64: KernelFunction] = [
        0: .restart_syscall, 1: .exit, 2: .fork, 3: .read, 4: .write, 5: .open, 6: .close, 7: .waitpid, 11: .execve, 20: .getpid,
        29: .pause, 37: .kill, 41: .dup, 45: .brk, 63: .dup2, 64: .getppid, 90: .mmap, 91: .munmap, 106: .stat, 114: .wait4, 120: .clone, 125: .mprotect, 158: .sched_yield, 162: .nanosleep, 172: .prctl, 192: .mmap2,
        252: .exit_group,
    ]
    /// stat is x86_64 4 and i386 106 (sys_newstat; 18 is oldstat, 195 stat64): its path is resolved as open's is,
    /// and an existing file is refused (no inode metadata).
    static let x86_64Entries: [Int64: KernelFunction] = [
        0: .read, 1: .write, 2: .open, 3: .close, 4: .stat, 9: .mmap, 10: .mprotect, 11: .munmap, 12: .brk, 24: .sched_yield, 32: .dup, 33: .dup2, 34: .pause, 35: .nanosleep, 39: .getpid,
        56: .clone, 57: .fork, 59: .execve, 60: .exit, 61: .wait4, 62: .kill, 110: .getppid, 157: .prctl, 219: .restart_syscall, 231: .exit_group,
    ]

    /// The number of a call by name in this table, or nil when the table has no such call.
    public func number(of name: String) -> Int64? {
        switch self {
        case .i386: return SyscallTable.i386Numbers[name]
        case .x86_64: return SyscallTable.x86_64Numbers[name]
        }
    }

    /// name -> number, the inverse of each table (one hash lookup, not a scan of the function names).
    private static let i386Numbers = Dictionary(uniqueKeysWithValues: i386Entries.map { ($0.value.rawValue, $0.key) })
    private static let x86_64Numbers = Dictionary(uniqueKeysWithValues: x86_64Entries.map { ($0.value.rawValue, $0.key) })

    /// The name of a number in this table, or nil.
    public func name(of number: Int64) -> String? { entries[number]?.rawValue }

    /// The same lookups with the table as an argument.
    public static func number(of name: String, table: SyscallTable) -> Int64? { table.number(of: name) }
    public static func name(of number: Int64, table: SyscallTable) -> String? { table.name(of: number) }

    /// The table an entry kind uses in a scenario (`int80`, `sysenter`: i386; `syscall`: x86_64).
    public static func abi(for via: SyscallEntryKind) -> SyscallTable { via == .syscall ? .x86_64 : .i386 }

    /// Every name either table knows (for "did you mean" hints).
    public static var allNames: [String] { KernelFunction.allCases.map(\.rawValue) }
}

/// The table type under the name the kernel code uses.
public typealias SyscallABI = SyscallTable

/// Negative errno values the model returns.
public enum KernelErrno {
    public static let EPERM: Int64 = 1, ENOENT: Int64 = 2, ESRCH: Int64 = 3, EINTR: Int64 = 4, EBADF: Int64 = 9
    public static let ECHILD: Int64 = 10, EAGAIN: Int64 = 11, ENOMEM: Int64 = 12, EACCES: Int64 = 13, EFAULT: Int64 = 14
    public static let EEXIST: Int64 = 17, ENODEV: Int64 = 19, ENOTDIR: Int64 = 20, EISDIR: Int64 = 21, ENAMETOOLONG: Int64 = 36
    public static let EINVAL: Int64 = 22, EMFILE: Int64 = 24, ENOSYS: Int64 = 38

    /// Every errno name with its value (asm-generic/errno-base.h, errno.h), in numeric order:
    /// the names scenarios may write (`-EFAULT`) and reports print.
    public static let all: [(name: String, value: Int64)] = [
        ("EPERM", 1), ("ENOENT", 2), ("ESRCH", 3), ("EINTR", 4), ("EIO", 5), ("ENXIO", 6), ("E2BIG", 7), ("ENOEXEC", 8),
        ("EBADF", 9), ("ECHILD", 10), ("EAGAIN", 11), ("ENOMEM", 12), ("EACCES", 13), ("EFAULT", 14), ("EBUSY", 16),
        ("EEXIST", 17), ("ENODEV", 19), ("ENOTDIR", 20), ("EISDIR", 21), ("EINVAL", 22), ("ENFILE", 23), ("EMFILE", 24),
        ("ENOSPC", 28), ("ESPIPE", 29), ("EROFS", 30), ("EPIPE", 32), ("ERANGE", 34), ("ENAMETOOLONG", 36), ("ENOSYS", 38),
        // The rest of asm-generic/errno-base.h and the common ones of errno.h, so that a scenario may name any
        // errno it expects (the model returns only those above).
        ("ENOTBLK", 15), ("EXDEV", 18), ("ENOTTY", 25), ("ETXTBSY", 26), ("EFBIG", 27), ("EMLINK", 31), ("EDOM", 33),
        ("EDEADLK", 35), ("ENOLCK", 37), ("ENOTEMPTY", 39), ("ELOOP", 40), ("EOVERFLOW", 75), ("EILSEQ", 84),
        ("ENOTSOCK", 88), ("EOPNOTSUPP", 95), ("EAFNOSUPPORT", 97), ("EADDRINUSE", 98), ("ECONNRESET", 104),
        ("ETIMEDOUT", 110), ("ECONNREFUSED", 111), ("EALREADY", 114), ("EINPROGRESS", 115),
    ]

    /// The value of an errno name, or nil.
    public static func value(of name: String) -> Int64? { all.first { $0.name == name }?.value }

    /// The name of an errno value, or nil.
    public static func name(of value: Int64) -> String? { all.first { $0.value == value }?.name }
}

/// Signal numbers and names (asm/signal.h: 1-31, and the real-time signals SIGRTMIN = 32 .. SIGRTMAX = _NSIG = 64,
/// named `SIGRTMIN+n` after the kernel's numbering), with each one's default action (signal(7)).
public enum KernelSignal {
    public static let names: [Int64: String] = {
        var n: [Int64: String] = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
            9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
            16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
            23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
            30: "SIGPWR", 31: "SIGSYS", 32: "SIGRTMIN", 64: "SIGRTMAX",
        ]
        for k in Int64(33)...63 { n[k] = "SIGRTMIN+\(k - 32)" }
        return n
    }()
    public static func number(_ name: String) -> Int64? { names.first(where: { $0.value == name })?.key }

    /// _NSIG: valid_signal() accepts 0 ... 64.
    public static let count: Int64 = 64

    /// A signal's default action (signal(7)): the model terminates (Term and Core alike: no core dumps,
    /// RLIMIT_CORE 0), ignores (Ign, and Cont for a task that is not stopped), or cannot model it (Stop).
    public enum DefaultAction: Sendable { case terminate, ignore, stop }

    /// The default action of signal `n` (1 ... 64).
    public static func defaultAction(_ n: Int64) -> DefaultAction {
        switch n {
        case 17, 18, 23, 28: .ignore  // SIGCHLD, SIGCONT, SIGURG, SIGWINCH
        case 19, 20, 21, 22: .stop  // SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU
        default: .terminate
        }
    }
}
