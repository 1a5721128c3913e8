// The system calls' results and errno order against Linux: one row per call, each on a fresh system
// with tasks A (pid 1, running) and B (pid 2). Sources: kernel/signal.c (kill_something_info,
// check_kill_permission), kernel/exit.c (kernel_wait4), mm/mmap.c (do_mmap, brk), fs/open.c,
// fs/read_write.c (vfs_read, vfs_write), kernel/time/hrtimer.c (nanosleep: timespec64_valid).
import Testing
@testable import Machine

struct ErrnoCase: Sendable, CustomTestStringConvertible {
    let mode: MachineMode
    let via: SyscallEntryKind
    let name: String
    let args: [SyscallArgument]
    let returns: Int64
    var testDescription: String { "\(mode) \(via) \(name) -> \(returns)" }
}

private func n(_ v: Int64) -> SyscallArgument { .number(UInt64(bitPattern: v)) }
private func s(_ v: String) -> SyscallArgument { .string(v) }

private let errnoCases: [ErrnoCase] = [
    // kill: the pid is looked up before the signal is checked; 0 ... 64 are valid; -1 is everyone but
    // init and the caller; int parameters keep 32 bits.
    ErrnoCase(mode: .ia32, via: .int80, name: "kill", args: [n(99), n(65)], returns: -3),
    ErrnoCase(mode: .ia32, via: .int80, name: "kill", args: [n(2), n(65)], returns: -22),
    ErrnoCase(mode: .ia32, via: .int80, name: "kill", args: [n(2), n(-1)], returns: -22),
    ErrnoCase(mode: .ia32, via: .int80, name: "kill", args: [n(2), n(0)], returns: 0),
    ErrnoCase(mode: .ia32, via: .sysenter, name: "kill", args: [n(2), n(28)], returns: 0),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "kill", args: [n(2), n(64)], returns: 0),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "kill", args: [n(-1), n(0)], returns: 0),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "kill", args: [n(Int64(Int32.min)), n(0)], returns: -3),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "kill", args: [n(0x1_0000_0002), n(0)], returns: 0),
    // wait4: unknown option bits first, then the children.
    ErrnoCase(mode: .ia32, via: .int80, name: "wait4", args: [n(-1), n(0), n(0x1000), n(0)], returns: -22),
    ErrnoCase(mode: .ia32, via: .int80, name: "waitpid", args: [n(-1), n(0), n(0x4)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "wait4", args: [n(-1), n(0), n(0x4000_0001), n(0)], returns: -10),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "wait4", args: [n(Int64(Int32.min)), n(0), n(0), n(0)], returns: -3),
    // mmap: the descriptor first; MAP_TYPE; MAP_FIXED below mmap_min_addr; NOREPLACE implies FIXED.
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0), n(0), n(3), n(0x2), n(9), n(0)], returns: -9),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0), n(4096), n(3), n(0x23), n(-1), n(0)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0), n(4096), n(3), n(0x20), n(-1), n(0)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0x1000), n(4096), n(3), n(0x32), n(-1), n(0)], returns: -1),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0x1000), n(4096), n(3), n(0x22), n(-1), n(0)], returns: 0x10000),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0x400000), n(4096), n(3), n(0x100032), n(-1), n(0)], returns: -17),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0x10001), n(4096), n(3), n(0x32), n(-1), n(0)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0), n(4096), n(3), n(0x22), n(-1), n(0x800)], returns: -22),
    // mmap of a file: fd 1 (the terminal, read-write) has no mmap (-ENODEV).
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mmap", args: [n(0), n(4096), n(3), n(0x1), n(1), n(0)], returns: -19),
    // open: missing, empty, O_DIRECTORY on a file, O_CREAT|O_EXCL on an existing one, a bad pointer.
    ErrnoCase(mode: .ia32, via: .int80, name: "open", args: [s("/missing"), n(0), n(0)], returns: -2),
    ErrnoCase(mode: .ia32, via: .int80, name: "open", args: [s(""), n(0), n(0)], returns: -2),
    ErrnoCase(mode: .ia32, via: .int80, name: "open", args: [s("/dev/null"), n(0x10000), n(0)], returns: -20),
    ErrnoCase(mode: .ia32, via: .int80, name: "open", args: [s("/dev/null"), n(0xc2), n(0)], returns: -17),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [n(0x10), n(0), n(0)], returns: -14),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [s("/new"), n(0x42), n(0o644)], returns: 3),
    // read/write/close: fd 1 is the terminal, read-write; a closed fd -EBADF; a range past user space -EFAULT.
    ErrnoCase(mode: .ia32, via: .int80, name: "close", args: [n(7)], returns: -9),
    ErrnoCase(mode: .ia32, via: .int80, name: "close", args: [n(-1)], returns: -9),
    ErrnoCase(mode: .ia32, via: .int80, name: "read", args: [n(1), n(0xbfffe000), n(4)], returns: 0),
    ErrnoCase(mode: .ia32, via: .int80, name: "write", args: [n(1), n(0xbffffff0), n(0x20)], returns: -14),
    ErrnoCase(mode: .ia32, via: .int80, name: "write", args: [n(1), n(0x50000000), n(0)], returns: 0),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "write", args: [n(1), n(0x50000000), n(1)], returns: -14),
    // clone keeps lower_32_bits(clone_flags): bit 32 and up are dropped, so this is clone(SIGCHLD, 0), fork
    // (A's child, pid 3), and CLONE_THREAD without CLONE_SIGHAND is still seen under a high bit.
    ErrnoCase(mode: .x86_64, via: .syscall, name: "clone", args: [n(0x1_0000_0011), n(0), n(0), n(0), n(0)], returns: 3),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "clone", args: [n(0x2_0001_0011), n(0), n(0), n(0), n(0)], returns: -22),
    // build_open_flags runs before getname: O_DIRECTORY|O_CREAT -EINVAL even for a bad pointer (Linux 6.4);
    // __O_TMPFILE without O_DIRECTORY or without write access -EINVAL.
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [n(0x10), n(0x1_0040), n(0)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [s("/new"), n(0x1_0042), n(0o644)], returns: -22),
    ErrnoCase(mode: .ia32, via: .int80, name: "open", args: [s("/dev/null"), n(0x1_0040), n(0)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [s("/"), n(0x40_0002), n(0o600)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [s("/"), n(0x41_0000), n(0o600)], returns: -22),
    // rw_verify_area: a count that is a negative ssize_t is -EINVAL after access_ok (-EFAULT first) and
    // after the descriptor (-EBADF first). On an i386 kernel ssize_t is 32 bits, so bit 31 is enough; a
    // count just below it is cut to MAX_RW_COUNT (/dev/null returns it whole, read of it 0).
    ErrnoCase(mode: .ia32, via: .int80, name: "write", args: [n(1), n(0x0804_8000), n(0x8000_0000)], returns: -22),
    ErrnoCase(mode: .ia32, via: .sysenter, name: "read", args: [n(0), n(0x0804_8000), n(0xb000_0000)], returns: -22),
    ErrnoCase(mode: .ia32, via: .int80, name: "write", args: [n(1), n(0x0804_8000), n(0xb800_0000)], returns: -14),
    ErrnoCase(mode: .ia32, via: .int80, name: "write", args: [n(9), n(0x0804_8000), n(0x8000_0000)], returns: -9),
    ErrnoCase(mode: .ia32, via: .int80, name: "write", args: [n(1), n(0), n(0x8000_0000)], returns: -22),
    // the i386 table on x86_64 zero-extends the count into a 64-bit size_t: not negative, cut, and a
    // terminal write stops at the end of the readable text page.
    ErrnoCase(mode: .x86_64, via: .int80, name: "write", args: [n(1), n(0x40_0000), n(0x8000_0000)], returns: 4096),
    // open, stat, execve: a path component longer than NAME_MAX (255) is -ENAMETOOLONG at its lookup,
    // O_CREAT or not; 255 bytes is an ordinary name.
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [s("/" + String(repeating: "a", count: 256)), n(0), n(0)], returns: -36),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [s("/" + String(repeating: "a", count: 256)), n(0x41), n(0o644)], returns: -36),
    ErrnoCase(mode: .ia32, via: .int80, name: "open", args: [s("/" + String(repeating: "d", count: 300) + "/f"), n(0x41), n(0o644)], returns: -36),
    ErrnoCase(mode: .ia32, via: .int80, name: "stat", args: [s("/" + String(repeating: "a", count: 256)), n(0)], returns: -36),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "execve", args: [s("/x/" + String(repeating: "a", count: 256)), n(0), n(0)], returns: -36),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [s("/" + String(repeating: "a", count: 255)), n(0), n(0)], returns: -2),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "open", args: [s("/" + String(repeating: "a", count: 255)), n(0x41), n(0o644)], returns: 3),
    // mprotect (do_mprotect_pkey): both GROWS flags, alignment, len 0, a wrapping length, then the prot bits,
    // then the VMAs. Task A's default layout maps no page at 0x10000000.
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [n(0x1000_0000), n(0), n(0x10)], returns: 0),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [n(0x1000_0000), n(0), n(0x0300_0001)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [n(0x1000_0001), n(0), n(0x10)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [n(0x1000_0000), n(-0x1000), n(0x10)], returns: -12),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [n(0x1000_0000), n(0x1000), n(0x10)], returns: -22),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [n(0x1000_0000), n(0x1000), n(1)], returns: -12),
    ErrnoCase(mode: .ia32, via: .int80, name: "mprotect", args: [n(0x1000_0000), n(0xf000_0000), n(0x10)], returns: -12),
    ErrnoCase(mode: .ia32, via: .int80, name: "mprotect", args: [n(0x1000_0000), n(0xffff_f001), n(0x10)], returns: -12),
    ErrnoCase(mode: .ia32, via: .int80, name: "mprotect", args: [n(0x1000_0000), n(0x1000), n(0x10)], returns: -22),
    // nanosleep: timespec64_valid (s32 fields for a compat timespec).
    ErrnoCase(mode: .ia32, via: .int80, name: "nanosleep", args: [s("\u{1}\u{1}\u{1}\u{7f}\u{1}\u{1}\u{1}\u{7f}"), n(0)], returns: -22),
    // execve and stat: the path is looked up.
    ErrnoCase(mode: .ia32, via: .int80, name: "execve", args: [s("/bin/sh"), n(0), n(0)], returns: -2),
    ErrnoCase(mode: .x86_64, via: .syscall, name: "stat", args: [s("/etc/passwd"), n(0)], returns: -2),
    // brk: below the heap's start returns the current break.
    ErrnoCase(mode: .x86_64, via: .syscall, name: "brk", args: [n(0x1000)], returns: 0x401000),
]

@Suite struct LinuxErrnoTests {
    @Test(arguments: errnoCases)
    func resultMatchesLinux(_ c: ErrnoCase) throws {
        var sys = try makeSystem(c.mode, tasks: [taskSpec("A", state: .running), taskSpec("B")])
        let o = sys.call(c.via, c.name, c.args)
        #expect(o.error == nil)
        #expect(o.returns == c.returns)
    }

    /// kernel/exit.c eligible_child: without __WALL, __WCLONE (0x80000000) waits for clone children only,
    /// and a fork child (exit signal SIGCHLD) is not one: -ECHILD for a live child with WNOHANG (not 0) and
    /// for a zombie; __WALL, or no __WCLONE, sees it.
    @Test(arguments: [
        (options: Int64(0x8000_0001), live: Int64(-10), zombie: Int64(-10)),
        (options: Int64(0x8000_0000), live: Int64(-10), zombie: Int64(-10)),
        (options: Int64(0xc000_0001), live: Int64(0), zombie: Int64(2)),
        (options: Int64(0x4000_0001), live: Int64(0), zombie: Int64(2)),
        (options: Int64(0x2000_0001), live: Int64(0), zombie: Int64(2)),
        (options: Int64(1), live: Int64(0), zombie: Int64(2)),
    ])
    func wcloneSkipsForkChildren(_ c: (options: Int64, live: Int64, zombie: Int64)) throws {
        var sys = try makeSystem(.x86_64, tasks: [taskSpec("P", state: .running)])
        #expect(sys.call(.syscall, "fork").returns == 2)
        #expect(sys.call(.syscall, "wait4", [n(-1), n(0), n(c.options), n(0)]).returns == c.live)
        _ = sys.call(.syscall, "sched_yield")
        _ = sys.run(.exit(code: 0), as: nil)
        #expect(sys.call(.syscall, "wait4", [n(2), n(0), n(c.options), n(0)]).returns == c.zombie)
    }

    /// mm/mmap.c do_mmap: MAP_GROWSDOWN (0x100) makes the anonymous mapping VM_GROWSDOWN, which MAP_SHARED
    /// may not be (-EINVAL); the private one grows down to a fault below it (expand_downwards) and takes
    /// mprotect's PROT_GROWSDOWN.
    @Test func mapGrowsDownIsAGrowingMapping() throws {
        var sys = try makeSystem(.x86_64, tasks: [taskSpec("A", state: .running)])
        #expect(sys.call(.syscall, "mmap", [n(0x1000_0000), n(0x2000), n(3), n(0x121), n(-1), n(0)]).returns == -22)
        #expect(sys.call(.syscall, "mmap", [n(0x1000_0000), n(0x2000), n(3), n(0x122), n(-1), n(0)]).returns == 0x1000_0000)
        #expect(sys.core.currentTask.vmas.contains { $0.start == 0x1000_0000 && $0.growsDown })
        #expect(sys.expandStack(to: 0x0fff_fff8)?.start == 0x0fff_f000)
        #expect(sys.call(.syscall, "mprotect", [n(0x1000_1000), n(0x1000), n(0x0100_0001)]).returns == 0)
        #expect(sys.core.currentTask.vmas.contains { $0.start == 0x0fff_f000 && !$0.write })
    }

    /// mm/mmap.c brk: the lower bound is mm->start_brk, fixed at load time, not the heap VMAs that are left; a
    /// growing break extends the VMA that ends at the old break or adds [old break, new break) (do_brk_flags).
    /// Here the heap's first page is unmapped: the break can still go back to start_brk and grow again from it.
    @Test func brkBoundsComeFromStartBrk() throws {
        var t = taskSpec("A", state: .running)
        t.memory = [VMASpec(segment: .text, start: 0x0804_8000, size: 0x1000, read: true, write: false, execute: true, populate: true),
                    VMASpec(segment: .heap, start: 0x0804_a000, size: 0x1000, read: true, write: true, execute: false, populate: false),
                    VMASpec(segment: .stack, start: 0xbffe_0000, size: 0x2000, read: true, write: true, execute: false, populate: true)]
        var sys = try makeSystem(.ia32, tasks: [t, taskSpec("B")])
        #expect(sys.call(.int80, "munmap", [n(0x0804_a000), n(0x1000)]).returns == 0)
        #expect(sys.call(.int80, "brk", [n(0x0804_c000)]).returns == 0x0804_c000)
        #expect(sys.call(.int80, "brk", [n(0x0804_a000)]).returns == 0x0804_a000)
        #expect(sys.call(.int80, "brk", [n(0x0804_9fff)]).returns == 0x0804_a000)
        #expect(sys.call(.int80, "brk", [n(0x0804_b000)]).returns == 0x0804_b000)
        #expect(sys.core.currentTask.vmas.contains { $0.segment == .heap && $0.start == 0x0804_a000 && $0.end == 0x0804_b000 })
    }

    /// signal(7)'s default actions for every valid signal.
    @Test(arguments: Array(Int64(1)...64))
    func defaultAction(_ sig: Int64) {
        let expected: KernelSignal.DefaultAction = [17, 18, 23, 28].contains(sig) ? .ignore : ([19, 20, 21, 22].contains(sig) ? .stop : .terminate)
        #expect(KernelSignal.defaultAction(sig) == expected)
        #expect(KernelSignal.names[sig] != nil)
    }
}
