// Task: the kernel's task_struct — one per process — with its memory regions, address space, saved
// contexts, kernel stack, scheduling state and open files (seed concepts 15, 16).

/// A memory region (vm_area_struct) of a task.
public struct VMA: Sendable, Equatable {
    public var segment: VMASpec.Segment
    public var start: UInt64
    public var end: UInt64
    public var read: Bool
    public var write: Bool
    public var execute: Bool
    /// VM_SHARED (an anonymous MAP_SHARED mapping): fork gives the child the same frames, not copies.
    public var shared: Bool = false
    /// The model's scratch area for the string arguments of `syscall` steps (not the task's own mapping).
    public var scratch: Bool = false
    /// VM_GROWSDOWN as the scenario asked for it (`grows_down: true`): a fault below this stack grows it
    /// (expand_downwards). Off by default: the format's "SIGSEGV for a user fault outside" a VMA.
    public var growsDown: Bool = false
    public func contains(_ a: UInt64) -> Bool { a >= start && a < end }
    /// Linux's vma_is_accessible: some permission at all. x86 page tables cannot refuse a read, so a read or
    /// fetch fault on a not-present page of such a VMA is demand-paged (arch/x86/mm/fault.c access_error),
    /// `-w-` and `--x` included; only a write needs `w`.
    public var accessible: Bool { read || write || execute }
    public var perm: String { (read ? "r" : "-") + (write ? "w" : "-") + (execute ? "x" : "-") }
}

/// The registers of a task as the CPU holds them: saved at a switch, restored when it runs again.
public struct TaskContext: Sendable, Equatable {
    public var gpr: [UInt64]
    public var rip: UInt64
    public var rflags: UInt64
    public var cs, ss, ds, es, fs, gs: SegmentRegister
    public var cpl: UInt8

    public init(_ cpu: CPUState) {
        gpr = cpu.gpr
        rip = cpu.rip
        rflags = cpu.rflags
        cs = cpu.cs; ss = cpu.ss; ds = cpu.ds; es = cpu.es; fs = cpu.fs; gs = cpu.gs
        cpl = cpu.cpl
    }

    public func restore(into cpu: inout CPUState) {
        cpu.gpr = gpr
        cpu.rip = rip
        cpu.rflags = rflags
        cpu.cs = cs; cpu.ss = ss; cpu.ds = ds; cpu.es = es; cpu.fs = fs; cpu.gs = gs
        cpu.cpl = cpl
    }

    public subscript(_ r: GPR) -> UInt64 {
        get { gpr[r.rawValue] }
        set { gpr[r.rawValue] = newValue }
    }
}

/// How a task that is inside the kernel goes back to user mode: the instruction matching its entry.
public enum ReturnPath: Sendable, Equatable {
    /// Nothing pending (the idle task in its loop, or a task running in user mode).
    case none
    /// IRET: after `int 0x80`, an exception or an interrupt; `skip` bytes (an error code) are popped first.
    case iret(skip: UInt64)
    /// SYSEXIT with Linux's convention: EDX = return EIP, ECX = user ESP. SYSENTER cleared IF and SYSEXIT
    /// does not touch RFLAGS, so the kernel restores the user's flags first (`popfl; sti; sysexit`).
    /// `vdso`: the call came through __kernel_vsyscall (a `syscall` step), whose landing pad then pops
    /// EBP, EDX and ECX back (arch/x86/entry/vdso/vdso32/system_call.S).
    case sysexit(eip: UInt64, esp: UInt64, flags: UInt64, vdso: Bool = false)
    /// SYSRET (REX.W when returning to 64-bit code) after restoring the user RSP the entry left alone.
    /// A 64-bit return whose RIP (RCX) is at or above TASK_SIZE_MAX goes through IRET instead (do_syscall_64).
    case sysret(to64: Bool, userRSP: UInt64)
    /// SYSRETL after a 32-bit SYSENTER on a 64-bit kernel: entry_SYSENTER_compat ends in
    /// sysret32_from_system_call ("SYSRETL is available on all 64-bit CPUs, so we don't need to bother
    /// with SYSEXIT", arch/x86/entry/common.c do_fast_syscall_32). ECX = pt_regs->ip (the landing pad),
    /// R11 = pt_regs->flags (IF set by do_SYSENTER_32), ESP = pt_regs->sp (the entry's EBP), R8-R10 zeroed;
    /// EDX and the other registers are pt_regs' own. `vdso` as for `sysexit`.
    case sysretl(eip: UInt64, esp: UInt64, flags: UInt64, vdso: Bool)
    /// IRET through the frame (pt_regs' ip, cs, flags, sp, ss) the kernel wrote at the top of the task's
    /// kernel stack: the path Linux takes where SYSRET/SYSEXIT cannot be used (a fast 32-bit call whose
    /// argument-6 fetch failed; a 64-bit return to RIP >= TASK_SIZE_MAX). `vdso`: then the landing pad.
    case iretFrame(vdso: Bool)
}

/// What a blocked task waits for.
public enum BlockReason: Sendable, Equatable {
    /// wait4/waitpid for a child (-1: any); `status` is the user pointer for the wait status (0: none),
    /// `rusage` wait4's struct rusage pointer (0: none; `rusageSize` bytes: 144, or 72 for compat).
    case child(pid: Int64, status: UInt64, rusage: UInt64 = 0, rusageSize: Int = 0)
    /// An event named by the scenario (woken by `irq: {wakes: NAME}`).
    case event
    /// read() on an empty stdin.
    case input
}

/// task_struct.
public struct Task: Sendable {
    /// Process id (also its thread id).
    public var pid: Int64
    public var name: String
    /// The parent's pid (0 for none, as for init's parent).
    public var parent: Int64
    /// Pids of the children not yet reaped.
    public var children: [Int64] = []
    /// TASK_RUNNING (running or ready), TASK_INTERRUPTIBLE (sleeping, blocked), EXIT_ZOMBIE.
    public var state: TaskState
    /// Static priority of the `priority` policy: a larger number is more important.
    public var priority: Int
    /// Nice value, -20..19, for `cfs`.
    public var nice: Int
    /// CFS virtual runtime, exact (VirtualRuntime); its scale is set for all tasks when the kernel is built.
    public var vruntime = VirtualRuntime(scale: 1024)
    /// 32 or 64 (a 32-bit task in x86_64 runs in compatibility mode).
    public var bits: Int
    /// The task's memory regions.
    public var vmas: [VMA]
    /// Explicit mappings of this address space (scenario `pages`), kept for fork.
    public var pages: [PageMapping]
    /// The address space: physical address of its root paging structure.
    public var cr3: UInt64
    /// pt_regs: the user-mode registers saved at the last kernel entry.
    public var userContext: TaskContext
    /// thread: the kernel-mode registers saved by the last context switch away from this task.
    public var kernelContext: TaskContext?
    /// How the task returns to user mode from the kernel entry it is in.
    public var returnPath: ReturnPath = .none
    /// Kernel stack [base, top); thread_info at the base (LNX-6).
    public var kernelStackBase: UInt64
    public var kernelStackTop: UInt64 { kernelStackBase + kernelStackSize }
    public var kernelStackSize: UInt64
    /// Open files: descriptor -> name (`stdin`, `stdout`, `stderr`, `/dev/null`, a declared file's path).
    public var files: [Int: OpenFile]
    public var exitCode: Int64?
    /// The signal that killed the task, if one did.
    public var signal: String?
    /// Signals kill(2) sent to this task that it ignored as init (pid 1, SIGNAL_UNKILLABLE), for failure notes.
    public var ignoredAsInit: [String] = []
    /// Timer ticks charged to the task.
    public var ticks = 0
    /// Ticks of the current time slice used.
    public var sliceUsed = 0
    /// Keep `sliceUsed` at the next dispatch (a `priority` task preempted on wake keeps the rest of its slice).
    public var keepsSlice = false
    /// Program break (brk).
    public var brk: UInt64
    /// mm->start_brk: where the heap begins, fixed when the program is loaded (the declared heap VMA's start,
    /// else the first break). brk refuses a break below it however the heap's VMAs were unmapped since.
    public var startBrk: UInt64 = 0
    /// Remaining ticks of a nanosleep; nil: no timeout.
    public var sleepTicks: Int?
    /// When the nanosleep's timer was armed (Kernel.sleepsArmed at that moment): sleepers whose timeouts end
    /// on the same tick wake in this order, as Linux's hrtimers expire in order of their deadlines
    /// (kernel/time/hrtimer.c __hrtimer_run_queues; lib/timerqueue.c puts an equal deadline after the others).
    public var sleepArmedAt = 0
    /// nanosleep's `rem` pointer (0: none), written by Linux only when the sleep is cut short.
    public var sleepRemainingPointer: UInt64 = 0
    /// A wait4 that a child's exit woke: completed when the task next runs, since Linux's do_wait reaps
    /// in the waiter's own context (kernel/exit.c: after schedule() it scans its children again and
    /// takes the first zombie in fork order). Until then the zombie is still there (kill finds it).
    public var pendingWait: BlockReason? = nil
    /// What a blocked task waits for.
    public var blockedOn: BlockReason?
    /// The value the system call this task is blocked or sleeping in returns with, once its wake-up decided
    /// it (wait4's pid, nanosleep's 0, -EINTR): reported as the `returns` of the step that dispatches the task.
    public var resumeReturn: Int64?
    /// Forks made so far (to name children `-child`, `-child2`, ...).
    public var forks = 0
    /// signal->is_child_subreaper, set by prctl(PR_SET_CHILD_SUBREAPER): the orphans of its descendants
    /// come to it instead of init (kernel/exit.c find_new_reaper). A forked child starts without it.
    public var isChildSubreaper = false
    /// The idle task (pid 0): never queued, never charged.
    public var isIdle: Bool { pid == 0 }

    public var isRunnable: Bool { state == .running || state == .ready }
}

/// An open file description.
public struct OpenFile: Sendable, Equatable {
    public var path: String
    /// The file position in a declared file: where the next read or write starts.
    public var offset: Int = 0
    /// FMODE_WRITE / FMODE_READ from the open's access mode (O_RDONLY, O_WRONLY, O_RDWR; 3: neither).
    public var writable: Bool = true
    public var readable: Bool = true
    /// O_APPEND: every write goes to the end of the file.
    public var append: Bool = false
    /// The open file description (struct file) this descriptor refers to: descriptors copied by fork share
    /// it and so share the file position (`Kernel.fileOffsets`); nil keeps the position in `offset`.
    public var description: Int?
    public init(path: String) { self.path = path }
}
