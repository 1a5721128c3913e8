// UnmodelledSyscalls: the process, scheduling, signal and file-descriptor calls of Linux's tables (arch/x86/entry/syscalls/
// syscall_32.tbl and syscall_64.tbl) that the kernel model does not implement. Answering them with -ENOSYS, as
// for a number Linux does not have, would be a guess that a real kernel contradicts (sched_setscheduler does not
// fail there), so a system call that reaches one of them is refused as not modelled, naming the call and why;
// a scenario that names one (`nr: setpriority`) is an error at that line. Numbers outside both lists still
// return -ENOSYS (sys_ni_syscall).

public enum UnmodelledSyscalls {
    /// Why a family of calls is not modelled.
    static func reason(_ name: String) -> String {
        switch name {
        case "nice", "getpriority", "setpriority", "sched_setparam", "sched_getparam", "sched_setscheduler",
             "sched_getscheduler", "sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval",
             "sched_setattr", "sched_getattr", "sched_setaffinity", "sched_getaffinity":
            return "the scheduling policy is kernel.scheduler, and each task's priority and nice are fixed by its declaration"
        case "signal", "sigaction", "rt_sigaction", "sigprocmask", "rt_sigprocmask", "sigreturn", "rt_sigreturn",
             "sigsuspend", "rt_sigsuspend", "alarm", "sgetmask", "ssetmask", "sigpending", "rt_sigpending",
             "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4":
            return "the model's signals have no handlers, masks or timers (a signal takes its default action)"
        case "setpgid", "getpgrp", "setsid", "getpgid", "getsid":
            return "the model has no process groups or sessions"
        case "vfork", "clone3", "gettid", "tkill", "tgkill":
            return "the model's processes have one thread each, created by fork (or clone(SIGCHLD, 0))"
        case "waitid", "times", "clock_nanosleep", "pidfd_open", "pidfd_send_signal", "pidfd_getfd":
            return "the model serves wait4/waitpid, nanosleep and kill instead"
        case "ptrace":
            return "the model has no tracers (a traced task's stops and signals are not modelled)"
        case "creat", "lseek", "_llseek", "pipe", "pipe2", "ioctl", "fcntl", "fcntl64", "readv", "writev", "pread64",
             "pwrite64", "preadv", "pwritev", "openat", "openat2", "dup3", "close_range":
            return "the model's descriptors serve open, read, write, close, dup and dup2 (no seeking, positional or vectored I/O, pipes, descriptor flags or ioctls)"
        case "oldstat", "oldfstat", "oldlstat", "fstat", "lstat", "stat64", "lstat64", "fstat64", "fstatat64",
             "newfstatat", "statx":
            return "the model's files have no inode metadata (stat answers only for paths that do not exist)"
        default:
            return "the model does not implement it"
        }
    }

    static let i386: [Int64: String] = [
        27: "alarm", 34: "nice", 43: "times", 48: "signal", 57: "setpgid", 65: "getpgrp", 66: "setsid", 67: "sigaction",
        72: "sigsuspend", 96: "getpriority", 97: "setpriority", 119: "sigreturn", 126: "sigprocmask", 132: "getpgid",
        147: "getsid", 154: "sched_setparam", 155: "sched_getparam", 156: "sched_setscheduler", 157: "sched_getscheduler",
        159: "sched_get_priority_max", 160: "sched_get_priority_min", 161: "sched_rr_get_interval", 173: "rt_sigreturn",
        174: "rt_sigaction", 175: "rt_sigprocmask", 179: "rt_sigsuspend", 190: "vfork", 224: "gettid", 238: "tkill",
        241: "sched_setaffinity", 242: "sched_getaffinity", 267: "clock_nanosleep", 270: "tgkill", 284: "waitid",
        351: "sched_setattr", 352: "sched_getattr", 424: "pidfd_send_signal", 434: "pidfd_open", 435: "clone3",
        26: "ptrace", 68: "sgetmask", 69: "ssetmask", 73: "sigpending", 176: "rt_sigpending", 177: "rt_sigtimedwait",
        178: "rt_sigqueueinfo", 186: "sigaltstack", 321: "signalfd", 327: "signalfd4", 335: "rt_tgsigqueueinfo",
        438: "pidfd_getfd",
        // Files and descriptors (syscall_32.tbl).
        8: "creat", 18: "oldstat", 19: "lseek", 28: "oldfstat", 42: "pipe", 54: "ioctl", 55: "fcntl", 84: "oldlstat",
        107: "lstat", 108: "fstat", 140: "_llseek", 145: "readv", 146: "writev", 180: "pread64", 181: "pwrite64",
        195: "stat64", 196: "lstat64", 197: "fstat64", 221: "fcntl64", 295: "openat", 300: "fstatat64", 330: "dup3",
        331: "pipe2", 333: "preadv", 334: "pwritev", 383: "statx", 436: "close_range", 437: "openat2",
    ]

    static let x86_64: [Int64: String] = [
        13: "rt_sigaction", 14: "rt_sigprocmask", 15: "rt_sigreturn", 37: "alarm", 58: "vfork", 100: "times",
        109: "setpgid", 111: "getpgrp", 112: "setsid", 121: "getpgid", 124: "getsid", 130: "rt_sigsuspend",
        140: "getpriority", 141: "setpriority", 142: "sched_setparam", 143: "sched_getparam", 144: "sched_setscheduler",
        145: "sched_getscheduler", 146: "sched_get_priority_max", 147: "sched_get_priority_min",
        148: "sched_rr_get_interval", 186: "gettid", 200: "tkill", 203: "sched_setaffinity", 204: "sched_getaffinity",
        230: "clock_nanosleep", 234: "tgkill", 247: "waitid", 314: "sched_setattr", 315: "sched_getattr",
        424: "pidfd_send_signal", 434: "pidfd_open", 435: "clone3",
        101: "ptrace", 127: "rt_sigpending", 128: "rt_sigtimedwait", 129: "rt_sigqueueinfo", 131: "sigaltstack",
        282: "signalfd", 289: "signalfd4", 297: "rt_tgsigqueueinfo", 438: "pidfd_getfd",
        // Files and descriptors (syscall_64.tbl).
        5: "fstat", 6: "lstat", 8: "lseek", 16: "ioctl", 17: "pread64", 18: "pwrite64", 19: "readv", 20: "writev",
        22: "pipe", 72: "fcntl", 85: "creat", 257: "openat", 262: "newfstatat", 292: "dup3", 293: "pipe2",
        295: "preadv", 296: "pwritev", 332: "statx", 436: "close_range", 437: "openat2",
    ]

    static func entries(_ table: SyscallTable) -> [Int64: String] { table == .i386 ? i386 : x86_64 }

    /// The Linux name of an unmodelled call by its number in a table, or nil.
    public static func name(of number: Int64, table: SyscallTable) -> String? { entries(table)[number] }

    /// The number of an unmodelled call by its Linux name in a table, or nil.
    public static func number(of name: String, table: SyscallTable) -> Int64? {
        entries(table).first { $0.value == name }?.key
    }

    /// The refusal: "not modelled: sched_setscheduler (x86_64 144): the scheduling policy is ...".
    public static func refusal(_ name: String, number: Int64, table: SyscallTable) -> String {
        "not modelled: \(name) (\(table.rawValue) \(number)): \(reason(name))"
    }
}
