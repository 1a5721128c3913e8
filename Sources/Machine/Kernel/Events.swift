// Events: what a scenario step asks the system to do (`KernelEvent`) and what came of it (`StepOutcome`).

/// How a system call enters the kernel.
public enum SyscallEntryKind: String, Sendable, CaseIterable {
    case int80, sysenter, syscall
}

/// A system-call argument: a number, or a string the kernel model places in the task's memory first.
public enum SyscallArgument: Sendable, Equatable {
    case number(UInt64)
    case string(String)
}

/// One step's event.
public enum KernelEvent: Sendable, Equatable {
    /// N timer interrupts through vector 0x20.
    case timer(Int)
    /// An external interrupt; may wake a blocked task.
    case irq(vector: UInt8, wakes: String?)
    /// A complete system call by the current task (`childName` names a forked child). `name` is the
    /// call's name when the scenario wrote one: `nr` is its number in the table of `via`, and a 32-bit
    /// task's SYSCALL (AMD), which the kernel dispatches through the i386 table, uses that table's.
    case syscall(via: SyscallEntryKind, nr: Int64, args: [SyscallArgument], childName: String?, name: String? = nil)
    /// wait4(pid) by the current task (-1: any child).
    case wait(pid: Int64)
    /// exit(code) by the current task.
    case exit(code: Int64)
    /// One instruction at the current privilege.
    case exec(Instruction)
    /// One memory access through segmentation and paging.
    case access(kind: AccessKind, address: UInt64, size: Int, cpl: UInt8?, implicit: Bool)
    /// An explicit call of schedule().
    case schedule
    /// `set.regs`: general registers, and the instruction pointer when `rip` is given.
    case setRegisters([GPR: UInt64], rip: UInt64? = nil)
    case setControl(cr0: FlagEdit, cr4: FlagEdit, efer: FlagEdit, rflags: FlagEdit)
    case setMSRs([UInt32: UInt64])
    case setPages([PageMapping])
    /// Several `set` edits in one step, applied in this order: MSRs, control registers and RFLAGS,
    /// general registers and RIP, page-table entries (each sees the state the ones before it left).
    case setAll([KernelEvent])
}

/// A context switch as `expect.switch` sees it.
public struct SwitchRecord: Sendable, Equatable {
    public var from: String
    public var to: String
    public var reason: String
    /// schedule() ran on the way back from a system call (need_resched set during the call), seed concept 18's
    /// "on the way back from a system call": `expect.switch` accepts the reason `syscall_return` for it too.
    public var atSyscallReturn: Bool
    public init(from: String, to: String, reason: String, atSyscallReturn: Bool = false) {
        self.from = from
        self.to = to
        self.reason = reason
        self.atSyscallReturn = atSyscallReturn
    }
}

/// The result of an `access` step that succeeded.
public struct AccessRecord: Sendable, Equatable {
    public var physical: UInt64
    /// The leaf entry's Accessed and Dirty bits after the access.
    public var accessed: Bool
    public var dirty: Bool
}

/// A system call as the kernel looked it up: its name in the table of the entry that was used.
public struct DispatchedCall: Sendable, Equatable {
    public var name: String
    /// `i386` or `x86_64`.
    public var table: String
    public var number: Int64
}

/// What one step did.
public struct StepOutcome: Sendable {
    /// Every exception raised, in order (including those handled by the kernel, e.g. demand paging).
    public var faults: [Fault] = []
    /// The last gate delivery of the step.
    public var gate: DeliveryRecord?
    /// The system call's kernel entry (int80, sysenter, syscall).
    public var entry: EntryRecord?
    /// The system call's return value, as the caller sees it: the step's own call, or, when that does not
    /// return (exit, a blocking call) or the step is not a system call, the blocked call of the task that
    /// the step dispatched (a parent's wait4 that the child's exit completed).
    public var returns: Int64?
    /// The task whose resumed call gave `returns`, when it is not the step's own call.
    public var returnsBy: String?
    /// The last system call the step dispatched (kept whether or not the trace is), so that a check
    /// of `returns` on a call that never returns can say which call ran (ABI tables).
    public var dispatched: DispatchedCall?
    /// What the step wrote to the console.
    public var output = ""
    public var switches: [SwitchRecord] = []
    /// A signal the step delivered (`SIGSEGV`).
    public var signal: String?
    /// The step ended in a triple fault.
    public var shutdown = false
    public var access: AccessRecord?
    /// The step's events in `machine.trace.events`.
    public var traceRange: Range<Int> = 0..<0
    /// A `timer` step's ticks and their events, each recorded only when the trace kept all of its events.
    public var ticks: [TimerTick] = []
    /// The step could not run (not modelled, wrong actor): the runner fails the step with this message.
    public var error: String?
    public init() {}
}

/// One tick of a `timer` step, as the trace tells it: where its events are, which task was running
/// and whether the tick was charged to it. (`explain --brief` tells a long timer step tick by tick.)
public struct TimerTick: Sendable, Equatable {
    /// The tick's events in `machine.trace.events`.
    public var traceRange: Range<Int>
    /// The ticks this mark stands for: 1, or every tick left when the CPU could not take them and
    /// they merged into one pending request (IF = 0, an interrupt shadow).
    public var count: Int
    /// The task running when the tick arrived (`idle` when the CPU was idle).
    public var running: String
    /// The tick was charged to `running` (its `ticks` grew); false when the CPU was idle, there is no
    /// kernel, or the interrupt did not reach the kernel's handler.
    public var charged: Bool
    /// The tick was held pending instead of delivered.
    public var held: Bool
    public init(traceRange: Range<Int>, count: Int = 1, running: String, charged: Bool, held: Bool = false) {
        self.traceRange = traceRange
        self.count = count
        self.running = running
        self.charged = charged
        self.held = held
    }
}

/// A task's end-of-run summary (`expect.processes`).
public struct ProcessSummary: Sendable, Equatable {
    public var state: TaskState
    public var exitCode: Int64?
    public var signal: String?
    public var ticks: Int
}
