// Helpers for kernel-model tests: small scenario builders.
import Testing
@testable import Machine

func makeSystem(_ mode: MachineMode = .x86_64, policy: SchedulingPolicy = .rr, timeslice: Int = 3,
                tasks: [TaskSpec]? = nil, configure: (inout MachineSetup, inout KernelSetup) -> Void = { _, _ in }) throws -> System {
    var m = MachineSetup()
    m.mode = mode
    var k = KernelSetup()
    k.policy = policy
    k.timeslice = timeslice
    configure(&m, &k)
    return try System.build(machine: m, kernel: k, tasks: tasks)
}

func taskSpec(_ name: String, state: TaskState? = nil, priority: Int = 0, nice: Int = 0, bits: Int? = nil,
          parent: String? = nil) -> TaskSpec {
    var t = TaskSpec(name: name)
    t.state = state
    t.priority = priority
    t.nice = nice
    t.bits = bits
    t.parent = parent
    return t
}

extension System {
    /// A complete system call by name through an entry.
    mutating func call(_ via: SyscallEntryKind, _ name: String, _ args: [SyscallArgument] = [], childName: String? = nil) -> StepOutcome {
        let nr = SyscallTable.number(of: name, table: SyscallTable.abi(for: via))!
        return run(.syscall(via: via, nr: nr, args: args, childName: childName), as: nil)
    }

    func shortTrace(_ o: StepOutcome) -> [String] {
        machine.trace.events[o.traceRange].compactMap { $0.shortForms.first }
    }
}

/// True when `wanted` appears in order (gaps allowed) among the events' short forms.
func traceContains(_ sys: System, _ o: StepOutcome, _ wanted: [String]) -> Bool {
    var i = 0
    for e in sys.machine.trace.events[o.traceRange] where i < wanted.count {
        if e.shortForms.contains(wanted[i]) { i += 1 }
    }
    return i == wanted.count
}
