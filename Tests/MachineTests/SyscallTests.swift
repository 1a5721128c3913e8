// Each system call through both ABIs, the table lookups, -ENOSYS and -EFAULT.
import Testing
@testable import Machine

@Suite struct SyscallTests {
    static let both: [(MachineMode, SyscallEntryKind)] = [(.ia32, .int80), (.x86_64, .syscall), (.ia32, .sysenter), (.x86_64, .int80)]

    @Test(arguments: [("exit", 1, 60), ("fork", 2, 57), ("read", 3, 0), ("write", 4, 1), ("open", 5, 2), ("close", 6, 3),
                      ("wait4", 114, 61), ("execve", 11, 59), ("getpid", 20, 39), ("kill", 37, 62), ("brk", 45, 12),
                      ("getppid", 64, 110), ("sched_yield", 158, 24), ("nanosleep", 162, 35), ("exit_group", 252, 231),
                      ("mmap", 90, 9), ("munmap", 91, 11), ("mprotect", 125, 10), ("clone", 120, 56),
                      ("dup", 41, 32), ("dup2", 63, 33), ("pause", 29, 34), ("stat", 106, 4)])
    func tableNumbers(name: String, i386: Int, x86_64: Int) {
        #expect(SyscallTable.number(of: name, table: .i386) == Int64(i386))
        #expect(SyscallTable.number(of: name, table: .x86_64) == Int64(x86_64))
        #expect(SyscallTable.name(of: Int64(i386), table: .i386) == name)
        #expect(SyscallTable.name(of: Int64(x86_64), table: .x86_64) == name)
    }

    /// waitpid exists only in the i386 table. stat is in both: syscall_32.tbl's 106 is `stat sys_newstat`
    /// (18 is oldstat); the i386 table lacked it, so `int 0x80` with EAX = 106 was -ENOSYS.
    @Test func waitpidOnlyInI386AndStatInBoth() {
        #expect(SyscallTable.number(of: "waitpid", table: .i386) == 7)
        #expect(SyscallTable.number(of: "waitpid", table: .x86_64) == nil)
        #expect(SyscallTable.name(of: 4, table: .x86_64) == "stat")
        #expect(SyscallTable.name(of: 106, table: .i386) == "stat")
        #expect(SyscallTable.name(of: 18, table: .i386) == nil)
    }

    @Test(arguments: both)
    func writeReturnsCountAndPrints(mode: MachineMode, via: SyscallEntryKind) throws {
        var sys = try makeSystem(mode)
        let o = sys.call(via, "write", [.number(1), .string("hi\n"), .number(3)])
        #expect(o.error == nil)
        #expect(o.returns == 3)
        #expect(o.output == "hi\n")
        #expect(sys.totalOutput == "hi\n")
        #expect(sys.machine.cpu.cpl == 3)
    }

    @Test(arguments: both)
    func getpidAndGetppid(mode: MachineMode, via: SyscallEntryKind) throws {
        var t = taskSpec("p")
        t.pid = 42
        var sys = try makeSystem(mode, tasks: [t])
        #expect(sys.call(via, "getpid").returns == 42)
        #expect(sys.call(via, "getppid").returns == 0)
    }

    @Test func getpidIs20Versus39() throws {
        var a = try makeSystem(.x86_64)
        let viaInt80 = a.run(.syscall(via: .int80, nr: 20, args: [], childName: nil), as: nil)
        let viaSyscall = a.run(.syscall(via: .syscall, nr: 39, args: [], childName: nil), as: nil)
        #expect(viaInt80.returns == 1)
        #expect(viaSyscall.returns == 1)
        let wrong = a.run(.syscall(via: .syscall, nr: 20, args: [], childName: nil), as: nil)
        #expect(wrong.returns != 1)  // 20 is writev in x86_64: Linux has it, the model does not: refused
        #expect(wrong.error?.contains("not modelled: writev (x86_64 20)") == true)
    }

    @Test(arguments: both)
    func unknownNumberIsENOSYS(mode: MachineMode, via: SyscallEntryKind) throws {
        var sys = try makeSystem(mode)
        let o = sys.run(.syscall(via: via, nr: 999, args: [], childName: nil), as: nil)
        #expect(o.returns == -38)
        #expect(o.error == nil)
        #expect(sys.machine.trace.events[o.traceRange].contains { if case .syscall(_, _, 999, "ni_syscall", _) = $0 { true } else { false } })
    }

    @Test(arguments: both)
    func kernelPointerToWriteIsEFAULT(mode: MachineMode, via: SyscallEntryKind) throws {
        var sys = try makeSystem(mode)
        let kernelAddress = LinuxLayout(mode: mode).kernelTextBase
        let o = sys.call(via, "write", [.number(1), .number(kernelAddress), .number(4)])
        #expect(o.returns == -14)
        #expect(o.output == "")
        // An unmapped user address outside every VMA too.
        #expect(sys.call(via, "write", [.number(1), .number(0x1000_0000), .number(4)]).returns == -14)
    }

    @Test func restrictedTableAnswersENOSYS() throws {
        var sys = try makeSystem(.x86_64) { _, k in k.syscalls = ["write"] }
        #expect(sys.call(.syscall, "getpid").returns == -38)
        #expect(sys.call(.syscall, "write", [.number(1), .string("x"), .number(1)]).returns == 1)
    }

    @Test func readFromStdinThenEOF() throws {
        var sys = try makeSystem(.x86_64) { _, k in k.stdin = Array("abc".utf8) }
        let stack = LinuxLayout(mode: .x86_64).userSpaceTop - 0x100
        #expect(sys.call(.syscall, "read", [.number(0), .number(stack), .number(2)]).returns == 2)
        #expect(sys.call(.syscall, "read", [.number(0), .number(stack), .number(8)]).returns == 1)
        #expect(sys.call(.syscall, "read", [.number(0), .number(stack), .number(8)]).returns == 0)
        #expect(sys.call(.syscall, "write", [.number(1), .number(stack), .number(1)]).output == "c")
    }

    @Test func openCloseDevNull() throws {
        var sys = try makeSystem(.ia32)
        let fd = sys.call(.int80, "open", [.string("/dev/null"), .number(1)]).returns
        #expect(fd == 3)
        #expect(sys.call(.int80, "write", [.number(3), .string("gone"), .number(4)]).output == "")
        #expect(sys.call(.int80, "close", [.number(3)]).returns == 0)
        #expect(sys.call(.int80, "close", [.number(3)]).returns == -9)
        #expect(sys.call(.int80, "open", [.string("/nope"), .number(0)]).returns == -2)
    }

    /// execve and stat look the path up as Linux does (-EFAULT, -ENOENT); an existing file is refused.
    @Test func execveAndStatLookThePathUp() throws {
        var sys = try makeSystem(.x86_64)
        #expect(sys.call(.syscall, "execve", [.string("/bin/sh"), .number(0), .number(0)]).returns == -2)
        #expect(sys.run(.syscall(via: .syscall, nr: 4, args: [.number(0x10), .number(0)], childName: nil), as: nil).returns == -14)
        #expect(sys.call(.syscall, "stat", [.string("/nope"), .number(0)]).returns == -2)
        let o = sys.call(.syscall, "execve", [.string("/dev/null"), .number(0), .number(0)])
        #expect(o.returns == -38)
        #expect(o.error?.contains("not modelled") == true)
    }

    @Test func brkGrowsTheHeap() throws {
        var sys = try makeSystem(.x86_64)
        let start = sys.call(.syscall, "brk", [.number(0)]).returns!
        #expect(start == 0x401000)
        #expect(sys.call(.syscall, "brk", [.number(UInt64(start) + 0x2000)]).returns == start + 0x2000)
        // The heap is demand paged.
        let o = sys.run(.access(kind: .write, address: UInt64(start) + 0x10, size: 4, cpl: nil, implicit: false), as: nil)
        #expect(o.faults.map(\.vector) == [.PF])
        #expect(o.access != nil)
        #expect(o.signal == nil)
    }

    /// Linux 6.1+ brk shrinks with vma_find(newbrk, oldbrk) then do_vmi_align_munmap: with the heap
    /// unmapped (nothing in [new break, old break)) the call fails and returns the current break; with any
    /// VMA there (here a MAP_FIXED mapping that replaced the heap) that range is unmapped and brk succeeds.
    @Test(arguments: [(remap: false, returnsNew: false), (remap: true, returnsNew: true)])
    func brkShrinkNeedsAMappingToUnmap(remap: Bool, returnsNew: Bool) throws {
        var sys = try makeSystem(.x86_64)
        let start = UInt64(sys.call(.syscall, "brk", [.number(0)]).returns!)
        #expect(sys.call(.syscall, "brk", [.number(start + 0x2000)]).returns == Int64(start + 0x2000))
        #expect(sys.call(.syscall, "munmap", [.number(start), .number(0x2000)]).returns == 0)
        if remap {
            // MAP_FIXED | MAP_ANONYMOUS | MAP_PRIVATE, rw-
            #expect(sys.call(.syscall, "mmap", [.number(start), .number(0x2000), .number(3), .number(0x32),
                                                 .number(UInt64.max), .number(0)]).returns == Int64(start))
        }
        let r = sys.call(.syscall, "brk", [.number(start)]).returns
        #expect(r == Int64(returnsNew ? start : start + 0x2000))
        if remap {
            // The shrink unmapped [start, start + 0x2000) of the mmap VMA: a user touch there is SIGSEGV.
            let o = sys.run(.access(kind: .write, address: start, size: 4, cpl: nil, implicit: false), as: nil)
            #expect(o.signal == "SIGSEGV")
        }
    }

    @Test func kernelNoneHasNoSystemCalls() throws {
        var sys = try makeSystem(.ia32) { _, k in k.enabled = false }
        #expect(sys.kernel == nil)
        let o = sys.call(.int80, "getpid")
        #expect(o.error?.contains("kernel: none") == true)
        // but the instruction runs on the bare CPU and stops at the handler's entry.
        let e = sys.run(.exec(.int(0x80)), as: nil)
        #expect(e.error == nil)
        #expect(sys.machine.cpu.cpl == 0)
        #expect(sys.machine.cpu.rip == LinuxLayout(mode: .ia32).entryINT80_32)
    }

    @Test func actorMustBeRunning() throws {
        var sys = try makeSystem(.x86_64, tasks: [taskSpec("a", state: .running), taskSpec("b")])
        #expect(sys.run(.exit(code: 0), as: "b").error != nil)
    }
}

/// One mmap call (ABI table: i386 90 old_mmap / 192 mmap2, x86_64 9) and its result.
struct MmapCase: Sendable, CustomStringConvertible {
    var mode: MachineMode
    var via: SyscallEntryKind
    var name: String
    /// addr, length, prot, flags, fd, offset (bytes; pages for mmap2).
    var args: [UInt64]
    var returns: Int64
    var description: String { "\(mode) \(name)(\(args.map { String($0, radix: 16) }.joined(separator: ", "))) = \(returns)" }
}

private let anonPrivate: UInt64 = 0x22
private let minusOne = UInt64(bitPattern: -1)
private let mmapCases: [MmapCase] = [
    // Top-down from mmap_base = TASK_SIZE - 128 MiB (no randomisation).
    MmapCase(mode: .x86_64, via: .syscall, name: "mmap", args: [0, 0x2000, 3, anonPrivate, minusOne, 0], returns: 0x7FFF_F7FF_D000),
    MmapCase(mode: .ia32, via: .int80, name: "mmap2", args: [0, 0x1000, 3, anonPrivate, minusOne, 0], returns: 0xB7FF_F000),
    MmapCase(mode: .ia32, via: .sysenter, name: "mmap2", args: [0, 0x1800, 1, anonPrivate, minusOne, 0], returns: 0xB7FF_E000),
    // Through the i386 table a 64-bit task gets a 32-bit address: below 0xFFFFE000 - 128 MiB (mmap_is_ia32).
    MmapCase(mode: .x86_64, via: .int80, name: "mmap2", args: [0, 0x1000, 3, anonPrivate, minusOne, 0], returns: 0xF7FF_D000),
    // A free hint is taken; MAP_FIXED needs an aligned address.
    MmapCase(mode: .x86_64, via: .syscall, name: "mmap", args: [0x1000_0123, 0x1000, 3, anonPrivate, minusOne, 0], returns: 0x1000_0000),
    MmapCase(mode: .x86_64, via: .syscall, name: "mmap", args: [0x1000_0123, 0x1000, 3, anonPrivate | 0x10, minusOne, 0], returns: -KernelErrno.EINVAL),
    // Errors: no length, no MAP_PRIVATE/MAP_SHARED, a misaligned offset, a file mapping.
    MmapCase(mode: .x86_64, via: .syscall, name: "mmap", args: [0, 0, 3, anonPrivate, minusOne, 0], returns: -KernelErrno.EINVAL),
    MmapCase(mode: .ia32, via: .int80, name: "mmap2", args: [0, 0x1000, 3, 0x20, minusOne, 0], returns: -KernelErrno.EINVAL),
    MmapCase(mode: .x86_64, via: .syscall, name: "mmap", args: [0, 0x1000, 3, anonPrivate, minusOne, 0x10], returns: -KernelErrno.EINVAL),
    MmapCase(mode: .x86_64, via: .syscall, name: "mmap", args: [0, 0x1000, 3, 0x02, 7, 0], returns: -KernelErrno.EBADF),
    MmapCase(mode: .x86_64, via: .syscall, name: "mmap", args: [0, 0x1000, 3, 0x02, 1, 0], returns: -KernelErrno.ENODEV),
]

@Test("ABI: mmap (anonymous mappings, demand paged)", arguments: mmapCases)
func mmapCalls(_ c: MmapCase) throws {
    var sys = try makeSystem(c.mode)
    let o = sys.call(c.via, c.name, c.args.map { .number($0) })
    #expect(o.error == nil)
    #expect(o.returns == c.returns)
    guard c.returns > 0 else { return }
    let start = UInt64(c.returns)
    #expect(sys.task(named: "main")?.vmas.contains { $0.segment == .mmap && $0.start == start } == true)
    // The first touch demand-pages the mapping (PROT_WRITE) or faults for good (read-only).
    let w = sys.run(.access(kind: .write, address: start + 8, size: 4, cpl: nil, implicit: false), as: nil)
    let signal = w.signal
    #expect(w.faults.first?.vector == .PF)
    #expect(signal == (c.args[2] & 2 != 0 ? nil : "SIGSEGV"))
}

@Test("ABI: i386 old mmap (90) reads its six arguments from a user block")
func oldMmapReadsItsArgumentBlock() throws {
    var sys = try makeSystem(.ia32)
    let block: [UInt32] = [0, 0x1000, 3, 0x22, 0xFFFF_FFFF, 0]
    let bytes = block.flatMap { v in (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    // The block on the task's stack page, below its stack pointer.
    let at = (sys.machine.cpu[.rsp] - 0x100) & ~0xF
    let cr3 = sys.machine.cpu.cr3
    let placed = sys.pokeBytes(at, bytes, cr3: cr3)
    #expect(placed)
    let mapped = sys.call(.int80, "mmap", [.number(at)])
    #expect(mapped.returns == 0xB7FF_F000)
    let bad = sys.call(.int80, "mmap", [.number(0xC000_0000)])
    #expect(bad.returns == -KernelErrno.EFAULT)
}

/// munmap / mprotect on a two-page anonymous mapping at `base`, then one access: the result and whether the
/// access faulted for good (SIGSEGV) or was demand paged.
struct UnmapProtectCase: Sendable, CustomStringConvertible {
    var mode: MachineMode
    var via: SyscallEntryKind
    var name: String
    var args: [UInt64]
    var returns: Int64
    /// After the call: a write at this offset from the mapping's start, and the signal it draws (nil: none).
    var writeAt: UInt64
    var signal: String?
    var description: String { "\(mode) \(name)(\(args.map { String($0, radix: 16) }.joined(separator: ", "))) = \(returns)" }
}

private let base64: UInt64 = 0x7FFF_F7FF_D000, base32: UInt64 = 0xB7FF_E000
private let unmapProtectCases: [UnmapProtectCase] = [
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "munmap", args: [base64, 0x1000], returns: 0, writeAt: 0, signal: "SIGSEGV"),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "munmap", args: [base64, 0x1000], returns: 0, writeAt: 0x1000, signal: nil),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "munmap", args: [base64 + 0x10, 0x1000], returns: -KernelErrno.EINVAL, writeAt: 0, signal: nil),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "munmap", args: [base64, 0], returns: -KernelErrno.EINVAL, writeAt: 0, signal: nil),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "munmap", args: [0x10000, 0x1000], returns: 0, writeAt: 0, signal: nil),
    UnmapProtectCase(mode: .ia32, via: .int80, name: "munmap", args: [base32 + 0x1000, 0x1000], returns: 0, writeAt: 0x1000, signal: "SIGSEGV"),
    UnmapProtectCase(mode: .ia32, via: .sysenter, name: "munmap", args: [0xBFFF_F000, 0x2000], returns: -KernelErrno.EINVAL, writeAt: 0, signal: nil),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [base64, 0x2000, 1], returns: 0, writeAt: 0x1000, signal: "SIGSEGV"),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [base64, 0x1000, 1], returns: 0, writeAt: 0x1000, signal: nil),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [base64 + 1, 0x1000, 1], returns: -KernelErrno.EINVAL, writeAt: 0, signal: nil),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [base64, 0x1000, 0x40], returns: -KernelErrno.EINVAL, writeAt: 0, signal: nil),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [base64, 0, 0], returns: 0, writeAt: 0, signal: nil),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [base64, 0x3000, 1], returns: -KernelErrno.ENOMEM, writeAt: 0, signal: "SIGSEGV"),
    UnmapProtectCase(mode: .x86_64, via: .syscall, name: "mprotect", args: [0x10000, 0x1000, 1], returns: -KernelErrno.ENOMEM, writeAt: 0, signal: nil),
    UnmapProtectCase(mode: .ia32, via: .int80, name: "mprotect", args: [base32, 0x1000, 0], returns: 0, writeAt: 0, signal: "SIGSEGV"),
]

@Test("ABI: munmap and mprotect (mm/mmap.c __vm_munmap, mm/mprotect.c do_mprotect_pkey)", arguments: unmapProtectCases)
func munmapAndMprotect(_ c: UnmapProtectCase) throws {
    var sys = try makeSystem(c.mode)
    let via: SyscallEntryKind = c.mode == .ia32 ? .int80 : .syscall
    let mapped = sys.call(via, c.mode == .ia32 ? "mmap2" : "mmap", [0, 0x2000, 3, anonPrivate, minusOne, 0].map { .number($0) })
    let start = c.mode == .ia32 ? base32 : base64
    #expect(mapped.returns == Int64(bitPattern: start))
    let o = sys.call(c.via, c.name, c.args.map { .number($0) })
    #expect(o.error == nil)
    #expect(o.returns == c.returns)
    let w = sys.run(.access(kind: .write, address: start + c.writeAt, size: 4, cpl: nil, implicit: false), as: nil)
    #expect(w.signal == c.signal)
}
