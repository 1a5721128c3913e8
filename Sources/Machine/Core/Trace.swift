// Trace: the micro-events of a run, in order. `ringspec explain` turns them into prose and
// `expect.trace` matches against their short forms.

/// One page-table entry read during a walk.
public struct WalkedEntry: Equatable, Sendable {
    /// `PML4E`, `PDPTE`, `PDE`, `PTE`.
    public var level: String
    /// Physical address of the entry.
    public var address: UInt64
    /// The raw entry value.
    public var value: UInt64
    public init(level: String, address: UInt64, value: UInt64) {
        self.level = level
        self.address = address
        self.value = value
    }
}

/// What a context switch changes besides the general registers (switch_to, switch_mm; LNX-6), so that the
/// trace can say which stack and which address space the next task runs on.
public struct SwitchDetails: Equatable, Sendable {
    /// The kernel stack pointer saved in the previous task's task_struct (thread.sp).
    public var savedSP: UInt64
    /// The kernel stack pointer restored from the next task's task_struct; nil when it has no saved one.
    public var restoredSP: UInt64?
    /// CR3 loaded with the next task's top-level page table; nil when CR3 stays (same address space, the
    /// idle task borrowing the previous one, or paging off).
    public var cr3: UInt64?
    /// The TSS field set to the next task's kernel stack top (`TSS.esp0`, `TSS.rsp0`), where the next trap
    /// from user mode finds its stack; nil when the kernel does not manage it.
    public var tssField: String?
    /// The top of the next task's kernel stack.
    public var kernelStackTop: UInt64
    /// IA32_SYSENTER_ESP follows the kernel stack too.
    public var sysenterESP: Bool
    public init(savedSP: UInt64, restoredSP: UInt64?, cr3: UInt64?, tssField: String?, kernelStackTop: UInt64, sysenterESP: Bool) {
        self.savedSP = savedSP
        self.restoredSP = restoredSP
        self.cr3 = cr3
        self.tssField = tssField
        self.kernelStackTop = kernelStackTop
        self.sysenterESP = sysenterESP
    }
}

/// One micro-event of a run.
public enum TraceEvent: Equatable, Sendable {
    /// A change of privilege: task, old CPL, new CPL (`user A` / `kernel A` in short form).
    case modeSwitch(task: String, fromCPL: UInt8, toCPL: UInt8)
    /// A delivery through an IDT gate or a call gate.
    case gate(vector: Int?, kind: String, dpl: UInt8, fromCPL: UInt8, toCPL: UInt8, stackSwitch: Bool, pushed: [String])
    /// An entry through SYSENTER or SYSCALL (the MSRs that gave CS/SS/IP).
    case fastEntry(instruction: String, cs: UInt16, ss: UInt16, ip: UInt64, sp: UInt64)
    /// A return through SYSEXIT, SYSRET, IRET or far RET.
    case fastReturn(instruction: String, cs: UInt16, ss: UInt16, ip: UInt64, sp: UInt64)
    /// A stack switch: the new SS:ESP/RSP and where it came from.
    case stackSwitch(ss: UInt16, sp: UInt64, source: String)
    /// A segment-register load or a descriptor check that passed.
    case segmentCheck(register: String, selector: UInt16, detail: String)
    /// A page walk with the entries it read; `physical` is nil when it faulted.
    case pageWalk(linear: UInt64, entries: [WalkedEntry], physical: UInt64?)
    /// A TLB lookup.
    case tlb(linear: UInt64, hit: Bool)
    /// A TLB flush: `invlpg`, `cr3`, `all`.
    case tlbFlush(kind: String, linear: UInt64?)
    /// A fault raised, with the rule that raised it.
    case fault(Fault)
    /// A double fault's escalation, or a triple fault (shutdown).
    case escalation(first: ExceptionVector, second: ExceptionVector, result: String)
    /// A system call dispatched: entry, table, number, name, arguments.
    case syscall(entry: String, table: String, number: Int64, name: String, args: [UInt64])
    /// A system call's return value.
    case syscallReturn(name: String, value: Int64)
    /// schedule() called, with its reason; `atSyscallReturn` when it runs on the way back from a system call.
    case schedule(reason: String, atSyscallReturn: Bool = false)
    /// A context switch between tasks, with the stack and address space it changes.
    case contextSwitch(from: String, to: String, reason: String, details: SwitchDetails? = nil)
    /// A page fault handled by the kernel (demand paging), or a signal.
    case kernelAction(String)
    /// Something written to the console.
    case output(task: String, text: String)
    /// A free-form note, for events with no structure of their own.
    case note(String)

    /// The short form used by `expect.trace`: `user A`, `kernel A`, `schedule`, `#PF`, `gate 0x80`, ...
    public var shortForms: [String] {
        switch self {
        case let .modeSwitch(task, _, to):
            return [to == 3 ? "user \(task)" : "kernel \(task)", to == 3 ? "user" : "kernel"]
        case let .gate(vector, kind, _, _, _, _, _):
            // `task gate` too: a task switch through an IDT, GDT or LDT task gate (TASK-1).
            // `call gate` too for a JMP through one (recorded as `call gate (jmp)`), FAR-8.
            let named = kind == "task" ? [kind, "task gate"] : kind.hasPrefix("call gate (") ? [kind, "call gate"] : [kind]
            if let vector { return ["gate 0x\(String(vector, radix: 16))", "gate \(vector)", "gate"] + named }
            return ["gate"] + named
        case let .fastEntry(instruction, _, _, _, _): return [instruction]
        case let .fastReturn(instruction, _, _, _, _): return [instruction]
        case .stackSwitch: return ["stack switch"]
        case let .segmentCheck(register, _, _): return ["load \(register)"]
        case .pageWalk: return ["page walk"]
        case let .tlb(_, hit): return [hit ? "tlb hit" : "tlb miss"]
        case let .tlbFlush(kind, _): return ["tlb flush", "tlb flush \(kind)"]
        case let .fault(f):
            // The SDM's title too (`page fault`), and the usual name of #GP.
            let forms = [f.vector.description, f.vector.name, f.vector.title.lowercased()]
            return f.vector == .GP ? forms + ["general protection fault"] : forms
        case let .escalation(_, _, result): return [result]
        case let .syscall(_, _, _, name, _):
            // The kernel function too (`sys_write`, seed concept 4: both tables reach it), and the bare name.
            return ["syscall \(name)", "syscall", "sys_\(name)", name]
        case .syscallReturn: return ["return"]
        case let .schedule(reason, atReturn):
            return atReturn ? ["schedule", "schedule \(reason)", "schedule syscall_return"] : ["schedule", "schedule \(reason)"]
        case let .contextSwitch(from, to, _, _): return ["switch \(from) -> \(to)", "switch", "context switch"]
        case let .kernelAction(s):
            // do_wp_page's outcome on a copy-on-write frame, and a copy-on-write fork (Kernel/CopyOnWrite.swift).
            if s.hasPrefix("copy-on-write: copied") { return [s, "wp_page_copy", "copy-on-write"] }
            if s.hasPrefix("copy-on-write: reused") { return [s, "wp_page_reuse", "copy-on-write"] }
            if s.hasPrefix("fork: copy-on-write") { return [s, "copy-on-write fork"] }
            return [s]
        case .output: return ["output"]
        case let .note(s):
            // A hardware task switch (TASK-1) is told as a note that begins `task switch (REASON)`.
            return s.hasPrefix("task switch (") ? [s, "task switch"] : [s]
        }
    }
}

/// The ordered list of events of one run, with a mark per step.
public struct Trace: Sendable {
    public private(set) var events: [TraceEvent] = []
    /// When false, nothing is recorded (a run that only needs the outcome).
    public var enabled: Bool = true
    /// The most events one run records; later events are dropped and `truncated` is set.
    public static let defaultMaxEvents = 1_000_000
    public var maxEvents = Trace.defaultMaxEvents
    /// Events were dropped because the trace reached `maxEvents`.
    public private(set) var truncated = false
    public init() {}

    @inlinable
    public mutating func record(_ event: @autoclosure () -> TraceEvent) {
        if enabled { append(event()) }
    }

    @usableFromInline
    mutating func append(_ e: TraceEvent) {
        guard events.count < maxEvents else {
            truncated = true
            return
        }
        events.append(e)
    }

    /// Records an event at `position`, a mark taken earlier with `count`: a gate delivery is known to have
    /// happened only once its frame is on the stack, but the CPU read the gate (and switched stacks) before the
    /// pushes, whose TLB lookups and page walks are already recorded; the events go back in front of them.
    public mutating func record(_ event: @autoclosure () -> TraceEvent, at position: Int) {
        guard enabled else { return }
        guard events.count < maxEvents else {
            truncated = true
            return
        }
        events.insert(event(), at: min(max(position, 0), events.count))
    }

    public var count: Int { events.count }
}
