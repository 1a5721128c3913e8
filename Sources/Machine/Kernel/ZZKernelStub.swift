// TEMPORARY stub until the kernel model lands.
public enum SyscallEntryKind: String, Sendable { case int80, sysenter, syscall }
public enum SyscallArgument: Sendable, Equatable { case number(UInt64), string(String) }
public enum KernelEvent: Sendable, Equatable {
  case timer(Int), irq(vector: UInt8, wakes: String?), syscall(via: SyscallEntryKind, nr: Int64, args: [SyscallArgument], childName: String?)
  case wait(pid: Int64), exit(code: Int64), exec(Instruction), access(kind: AccessKind, address: UInt64, size: Int, cpl: UInt8?, implicit: Bool)
  case schedule
  case setRegisters([GPR: UInt64]), setControl(cr0: FlagEdit, cr4: FlagEdit, efer: FlagEdit, rflags: FlagEdit), setMSRs([UInt32: UInt64]), setPages([PageMapping])
}
public struct SwitchRecord: Sendable, Equatable { public var from: String; public var to: String; public var reason: String }
public struct AccessRecord: Sendable, Equatable { public var physical: UInt64; public var accessed: Bool; public var dirty: Bool }
public struct StepOutcome: Sendable {
  public var faults: [Fault] = []; public var gate: DeliveryRecord?; public var entry: EntryRecord?; public var returns: Int64?
  public var output: String = ""; public var switches: [SwitchRecord] = []; public var signal: String?; public var shutdown: Bool = false
  public var access: AccessRecord?; public var traceRange: Range<Int> = 0..<0; public var error: String?
}
public enum LinuxLayout { public static func gdtNames(mode: MachineMode) -> [String: Int] { mode == .ia32 ? ["kernel_cs": 12, "kernel_ds": 13, "user_cs": 14, "user_ds": 15, "tss": 16] : ["kernel32_cs": 1, "kernel_cs": 2, "kernel_ds": 3, "user32_cs": 4, "user_ds": 5, "user_cs": 6, "tss": 8] } }
public enum SyscallTable { case i386, x86_64
  public func number(of name: String) -> Int64? { nil }
  public func name(of n: Int64) -> String? { nil } }
public struct ProcessSummary: Sendable { public var state: TaskState; public var exitCode: Int64?; public var signal: String?; public var ticks: Int }
public struct System: Sendable {
  public var machine: Machine
  public static func build(machine: MachineSetup, kernel: KernelSetup, tasks: [TaskSpec]?) throws(MachineError) -> System { throw MachineError(message: "stub") }
  public mutating func run(_ event: KernelEvent, as actor: String?) -> StepOutcome { StepOutcome() }
  public var currentTaskName: String { "" }
  public func taskState(_ name: String) -> TaskState? { nil }
  public var dispatchOrder: [String] { [] }
  public var switchCount: Int { 0 }
  public var totalOutput: String { "" }
  public var faultCount: Int { 0 }
  public func processSummary(_ name: String) -> ProcessSummary? { nil }
}
