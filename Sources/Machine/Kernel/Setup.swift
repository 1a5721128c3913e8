// Setup: everything a scenario says about the machine and its tasks, already decoded into numbers.
// `MachineBuilder` (in LinuxPreset.swift / MachineBuilder.swift) turns it into a running machine and kernel.

/// A flag register edit: bits to set and bits to clear (flags the scenario did not name stay as the preset left them).
public struct FlagEdit: Sendable, Equatable {
    public var `set`: UInt64 = 0
    public var clear: UInt64 = 0
    public init(set: UInt64 = 0, clear: UInt64 = 0) {
        self.set = set
        self.clear = clear
    }
    public func apply(to v: UInt64) -> UInt64 { (v & ~clear) | self.set }
    public var isEmpty: Bool { self.set == 0 && clear == 0 }
}

/// One GDT/LDT slot as written in a scenario: a raw 8-byte word, or a 16-byte system descriptor (IA-32e)
/// that takes two slots.
public struct TableEntry: Sendable, Equatable {
    public var low: UInt64
    /// The second word of a 16-byte descriptor (IA-32e system descriptors and call gates), else nil.
    public var high: UInt64?
    /// For TSS descriptors: the TSS contents by field name (`esp0`, `ss0`, `rsp0`, `ist1`, `link`, `eip`, ...).
    public var tssFields: [String: UInt64]?
    /// For TSS descriptors: whether it is a 64-bit TSS.
    public var tss64: Bool = false
    /// For an LDT descriptor: true.
    public var isLDT: Bool = false
    /// For TSS descriptors: the ports the I/O permission bit map grants (`io_ports`); nil: no map is built.
    public var ioPorts: [ClosedRange<UInt16>]?
    /// For TSS descriptors: the scenario gave `limit`, so a built map does not move it.
    public var limitGiven = false
    public init(low: UInt64, high: UInt64? = nil, tssFields: [String: UInt64]? = nil, tss64: Bool = false, isLDT: Bool = false,
                ioPorts: [ClosedRange<UInt16>]? = nil, limitGiven: Bool = false) {
        self.low = low
        self.high = high
        self.tssFields = tssFields
        self.tss64 = tss64
        self.isLDT = isLDT
        self.ioPorts = ioPorts
        self.limitGiven = limitGiven
    }
}

/// `machine.gdt`: a list replaces the preset's table, a map patches it.
public enum TableSpec: Sendable, Equatable {
    case replace([TableEntry?])
    case patch([Int: TableEntry?])
}

/// Everything under `machine:` of a scenario.
public struct MachineSetup: Sendable, Equatable {
    public var mode: MachineMode = .x86_64
    public var vendor: CPUVendor = .intel
    /// `preset: linux` (true) or `none` (false).
    public var linuxPreset = true
    /// nil: the mode's default (32bit in ia32, or pae when `cr4` sets PAE; 4level in x86_64); see `resolvedPaging`.
    public var paging: PagingMode?
    public var cr0 = FlagEdit()
    public var cr4 = FlagEdit()
    public var efer = FlagEdit()
    /// Flags of the task running at the start.
    public var rflags = FlagEdit()
    /// IOPL for the task running at the start, when given.
    public var iopl: UInt8?
    public var msrs: [UInt32: UInt64] = [:]
    public var pkru: UInt32?
    public var gdt: TableSpec?
    /// `machine.ldt`: the entries of the LDT (LDTR then names the single LDT descriptor of the GDT).
    public var ldt: [TableEntry?]?
    /// `machine.idt`: vector -> gate (low word, and high word for 16-byte gates).
    public var idt: [Int: TableEntry] = [:]
    /// `machine.tss`: the GDT index of the loaded TSS (nil: the preset's) and field values.
    public var tssIndex: Int?
    public var tssFields: [String: UInt64] = [:]
    /// `machine.tss.io_ports`: the ports the loaded TSS's I/O permission bit map grants (over its entry's own).
    public var tssIOPorts: [ClosedRange<UInt16>]?
    /// `machine.pages`: mappings present in every address space.
    public var pages: [PageMapping] = []
    public init() {}

    /// The paging mode the machine runs: `paging` when given, else 4level in x86_64 and, in ia32, PAE paging
    /// when `cr4` sets CR4.PAE (PG-2) and 32-bit paging otherwise (PG-1).
    public var resolvedPaging: PagingMode {
        if let paging { return paging }
        if mode == .x86_64 { return .level4 }
        return cr4.set & CR4.pae != 0 ? .pae : .bits32
    }
}

/// A task's memory region (VMA).
public struct VMASpec: Sendable, Equatable {
    public enum Segment: String, Sendable, CaseIterable { case text, data, bss, heap, stack, mmap }
    public var segment: Segment
    public var start: UInt64
    public var size: UInt64
    public var read: Bool
    public var write: Bool
    public var execute: Bool
    /// Map every page up front instead of on demand.
    public var populate: Bool
    /// A stack that grows down to a fault below it (VM_GROWSDOWN, Linux's expand_downwards); off by default.
    public var growsDown: Bool
    public init(segment: Segment, start: UInt64, size: UInt64, read: Bool, write: Bool, execute: Bool, populate: Bool,
                growsDown: Bool = false) {
        self.segment = segment
        self.start = start
        self.size = size
        self.read = read
        self.write = write
        self.execute = execute
        self.populate = populate
        self.growsDown = growsDown
    }
}

/// A task's state.
public enum TaskState: String, Sendable, CaseIterable {
    case running, ready, sleeping, blocked, zombie
}

/// One entry of `processes`.
public struct TaskSpec: Sendable, Equatable {
    public var name: String
    public var pid: Int?
    public var parent: String?
    public var state: TaskState?
    public var priority: Int = 0
    public var nice: Int = 0
    /// 32 or 64; nil = the mode's width.
    public var bits: Int?
    /// nil: the preset's default layout.
    public var memory: [VMASpec]?
    public var pages: [PageMapping] = []
    /// Registers at start, by name: GPRs, `rip`/`eip`, `rsp`/`esp`, `rflags`/`eflags`.
    public var registers: [GPR: UInt64] = [:]
    public var rip: UInt64?
    public var rflags: UInt64?
    /// Segment selectors at start (nil: the preset's user selectors with RPL 3).
    public var segments: [SegmentRegisterName: UInt16] = [:]
    /// The `origin` of the task's `context` (or of the task when it has none), so that an error about the
    /// starting state points at it.
    public var contextOrigin: Int?
    /// Open files: descriptor -> name (`stdin`, `stdout`, `stderr`, `/dev/null`, a declared file).
    public var files: [Int: String] = [0: "stdin", 1: "stdout", 2: "stderr"]
    public init(name: String) { self.name = name }
}

/// Scheduling policies.
public enum SchedulingPolicy: String, Sendable, CaseIterable {
    case fifo, rr, priority, cfs
}

/// How fork gives the child the parent's private VMA pages (`kernel.fork`).
public enum ForkMode: String, Sendable, CaseIterable {
    /// Eager copy at fork (the default: no fault a scenario does not mention).
    case copy
    /// Copy-on-write, as Linux does (kernel/fork.c dup_mmap, mm/memory.c copy_present_pte and do_wp_page).
    case cow
}

/// Everything under `kernel:`.
public struct KernelSetup: Sendable, Equatable {
    /// false for `kernel: none` (a bare CPU).
    public var enabled = true
    public var policy: SchedulingPolicy = .rr
    public var timeslice = 3
    public var preempt = true
    /// fork's handling of private VMA pages: eager copy (default) or copy-on-write.
    public var fork: ForkMode = .copy
    /// When non-nil, only these syscall names are served (others return -ENOSYS).
    public var syscalls: [String]?
    /// Bytes readable from stdin.
    public var stdin: [UInt8] = []
    /// Files the scenario declares: path -> contents.
    public var files: [String: [UInt8]] = [:]
    public init() {}
}
