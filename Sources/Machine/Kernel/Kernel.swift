// Kernel: the Linux-like kernel model — its tasks, run queue and console — and System, the machine with its
// kernel, which runs one scenario step at a time. The kernel gets control only where the CPU model lands on
// an entry address it knows (LinuxLayout); anything else stays with the CPU (a scenario that moved a gate).

public struct Kernel: Sendable {
    public var layout: LinuxLayout
    public var setup: KernelSetup
    /// The linux preset built the tables: the kernel knows its entry points, stacks and mappings.
    public var presetActive: Bool
    /// task_structs; index 0 is the idle task (pid 0).
    public var tasks: [Task] = []
    /// `current`: the index of the running task.
    public var current = 0
    /// Ready tasks in order (indices into `tasks`).
    public var runQueue: [Int] = []
    /// TIF_NEED_RESCHED, with the reason schedule() will record.
    public var needResched = false
    /// cfs: Linux's cfs_rq->min_vruntime as of the last schedule(), the floor a woken or new task is placed
    /// against while no task is runnable (the idle task runs); nil until cfs has scheduled once.
    public var minVruntimeFloor: VirtualRuntime?
    public var reschedReason = "timer"
    /// nanosleep timers armed so far (Task.sleepArmedAt).
    public var sleepsArmed = 0
    public var dispatchOrder: [String] = []
    public var switchCount = 0
    public var totalOutput = ""
    public var faultCount = 0
    /// The template address space whose kernel half every address space shares.
    public var templateCR3: UInt64?
    /// `machine.pages` mapped in every new address space (those below the kernel half).
    public var sharedPages: [PageMapping] = []
    /// The frames a copy-on-write fork shared (`kernel: {fork: cow}`), with the address spaces mapping each.
    public var cowFrames = CopyOnWriteFrames()
    public var stdinOffset = 0
    /// Contents written to declared files.
    public var fileContents: [String: [UInt8]] = [:]
    /// The file position of each open file description (OpenFile.description), shared across fork.
    public var fileOffsets: [Int: Int] = [:]
    /// The next open file description's number.
    var nextFileDescription = 0
    /// Keep IA32_SYSENTER_ESP at the running task's kernel stack top (unless the scenario set it).
    public var manageSysenterESP = false
    /// Keep TSS.esp0/rsp0 at the running task's kernel stack top (unless the scenario set it).
    public var manageTSSStack = true
    var nextStackSlot = 0
    public var directMapSize: UInt64 = 0
    /// Bytes of the scratch page used by this step's string arguments.
    var scratchUsed: UInt64 = 0

    public init(layout: LinuxLayout, setup: KernelSetup, presetActive: Bool) {
        self.layout = layout
        self.setup = setup
        self.presetActive = presetActive
        self.fileContents = setup.files
    }

    public var currentTask: Task { tasks[current] }
    public func index(named name: String) -> Int? { tasks.firstIndex { $0.name == name } }
    public func index(pid: Int64) -> Int? { tasks.firstIndex { $0.pid == pid && !$0.isIdle } }
}

/// The machine and its kernel.
public struct System: Sendable {
    public var machine: Machine
    /// nil for `kernel: none`.
    public var kernel: Kernel? {
        get { kernelEnabled ? core : nil }
        set {
            if let k = newValue { core = k; kernelEnabled = true } else { kernelEnabled = false }
        }
    }
    /// The kernel's state (kept even for `kernel: none`, where it only names the task the CPU runs).
    var core: Kernel
    var kernelEnabled = true
    /// Page faults the kernel's own accesses to user memory raised during the current system call
    /// (copy_from_user/copy_to_user on a not-present page of a VMA, demand paged): the step's faults.
    var kernelAccessFaults: [Fault] = []
    /// A system call's function is running: its user copies may oops on a reserved bit (UserCopyBadPagetable.swift).
    var copyOopsArmed = false
    /// The reserved-bit #PF a user copy took during the current system call (pgtable_bad: the task dies).
    var copyOops: Fault?
    /// The SYSENTER being executed comes from a `syscall` step, i.e. through the vDSO's __kernel_vsyscall.
    var vdsoCall = false
    /// External interrupts requested while the CPU could not take them (`PendingInterrupts.swift`).
    var pendingInterrupts: [PendingInterrupt] = []

    init(machine: Machine, kernel: Kernel) {
        self.machine = machine
        self.core = kernel
    }

    /// The kernel's handlers run (kernel enabled, preset linux).
    var kernelActive: Bool { kernelEnabled && core.presetActive }

    // MARK: Final-state queries

    public var currentTaskName: String { kernelEnabled ? core.currentTask.name : machine.taskName }
    public func taskState(_ name: String) -> TaskState? {
        guard let i = core.index(named: name) else { return nil }
        guard i > 0 else { return idleSummary?.state }
        return core.tasks[i].state
    }
    /// The idle task (pid 0) as `states` and the top-level `processes` see it: `running` while it is
    /// current, `ready` otherwise (Linux's swapper is always TASK_RUNNING, never blocked), no exit, and
    /// 0 ticks (the format: "the idle task's ticks are not counted"). Nil without the kernel model.
    var idleSummary: ProcessSummary? {
        guard kernelEnabled, let idle = core.tasks.first, idle.isIdle else { return nil }
        return ProcessSummary(state: core.current == 0 ? .running : .ready, exitCode: nil, signal: nil, ticks: 0)
    }
    /// The tasks in the order they were dispatched, the first running one included (`idle` when it ran).
    public var dispatchOrder: [String] { kernelEnabled ? core.dispatchOrder : [machine.taskName] }
    public var switchCount: Int { core.switchCount }
    public var totalOutput: String { core.totalOutput }
    /// Bytes the run holds as written data: the console output and the contents of the files
    /// (what RunLimits.maxOutputBytes bounds: each write moves at most modelRWLimit bytes, but
    /// nothing else stopped a scenario from writing on every step until memory ran out).
    public var writtenBytes: Int { core.totalOutput.utf8.count + core.fileContents.values.reduce(0) { $0 + $1.count } }
    public var faultCount: Int { core.faultCount }
    /// task -> {state, exit_code, signal, ticks} (not the idle task).
    public var processes: [String: ProcessSummary] {
        var out: [String: ProcessSummary] = [:]
        for t in core.tasks where !t.isIdle {
            out[t.name] = ProcessSummary(state: t.state, exitCode: t.exitCode, signal: t.signal, ticks: t.ticks)
        }
        return out
    }
    public var taskNames: [String] { core.tasks.compactMap { $0.isIdle ? nil : $0.name } }
    public func task(named name: String) -> Task? { core.index(named: name).map { core.tasks[$0] } }
    /// One task's summary, or nil when there is no such task (the same as `processes[name]`, without
    /// building the whole dictionary: the last task of that name, as the dictionary keeps it).
    public func processSummary(_ name: String) -> ProcessSummary? {
        guard let t = checkedTask(name) else {
            return name == "idle" ? idleSummary : nil
        }
        return ProcessSummary(state: t.state, exitCode: t.exitCode, signal: t.signal, ticks: t.ticks)
    }

    /// The signals kill(2) sent to the task named `name` that it ignored as init (pid 1), in order.
    public func signalsIgnoredAsInit(_ name: String) -> [String] {
        checkedTask(name)?.ignoredAsInit ?? []
    }

    /// The task an end-of-run check names: the last of that name, never the idle task.
    private func checkedTask(_ name: String) -> Task? {
        core.tasks.last(where: { !$0.isIdle && $0.name == name })
    }

    // MARK: Running a step

    /// Runs one step. `actor` is the scenario's `as:`; it must name the running task.
    public mutating func run(_ event: KernelEvent, as actor: String?) -> StepOutcome {
        var out = StepOutcome()
        let start = machine.trace.count
        if machine.shutdown {
            out.error = "the machine has shut down (triple fault): no further step can run"
            out.shutdown = true
            return out
        }
        if let actor, actor != currentTaskName {
            out.error = "`as: \(actor)` but \(currentTaskName) is running: switch to \(actor) first"
            return out
        }
        machine.unsupported = nil
        // Single-stepping is not modelled: with EFLAGS.TF = 1 the CPU raises a #DB trap after each
        // instruction (SDM Vol. 3A §18.3.1.4), so an instruction or system call started with TF set is refused.
        if machine.cpu.rflags & RFLAGS.tf != 0 {
            switch event {
            case .exec, .syscall, .wait, .exit:
                out.error = "not modelled: EFLAGS.TF = 1 (single-step): the #DB trap after each instruction is not modelled"
                return out
            default: break
            }
        }
        // After HLT the processor executes nothing until an interrupt (an NMI, SMI or reset, which the model
        // does not have) resumes it (SDM Vol. 2A, HLT): a step that runs an instruction is refused.
        if machine.halted {
            switch event {
            case .exec, .access, .syscall, .wait, .exit:
                let masked = machine.cpu.rflags & RFLAGS.if == 0
                out.error = "the CPU is halted (HLT): it runs no instruction until an interrupt (`timer`, `irq`) resumes it"
                    + (masked ? "; with IF = 0 none is taken, so it stays halted" : "")
                return out
            default: break
            }
        }
        // A system call would take a held interrupt inside itself (Linux enables interrupts on entry): refused.
        switch event {
        case .syscall, .wait, .exit:
            if let refusal = systemCallRefusalForPendingInterrupts(callerIF: machine.cpu.interruptsEnabled) { out.error = "not modelled: " + refusal; return out }
        default: break
        }
        // Deliveries and entries recorded by the CPU during this step are this step's.
        machine.lastDelivery = nil
        machine.lastEntry = nil
        core.scratchUsed = 0
        switch event {
        case let .timer(n): timer(n, &out)
        case let .irq(vector, wakes): irq(vector, wakes: wakes, &out)
        case let .syscall(via, nr, args, child, name): syscallStep(via: via, nr: nr, args: args, childName: child, name: name, &out)
        case let .wait(pid):
            let abi = defaultABI
            guard let nr = SyscallTable.number(of: "wait4", table: abi.table) else { out.error = "no wait4 in the \(abi.table.rawValue) table"; break }
            syscallStep(via: abi.via, nr: nr, args: [.number(UInt64(bitPattern: pid)), .number(0), .number(0), .number(0)], childName: nil, &out)
        case let .exit(code):
            let abi = defaultABI
            guard let nr = SyscallTable.number(of: "exit", table: abi.table) else { out.error = "no exit in the \(abi.table.rawValue) table"; break }
            syscallStep(via: abi.via, nr: nr, args: [.number(UInt64(bitPattern: code))], childName: nil, &out)
        case let .exec(i):
            exec(i, &out)
            // SYSRET that restores TF = 1 from R11 raises #DB at its end (KUT syscall.c; FAST-14): not modelled.
            if case .sysret = i, out.faults.isEmpty, machine.cpu.rflags & RFLAGS.tf != 0, out.error == nil {
                out.error = "not modelled: SYSRET restored EFLAGS.TF = 1: the single-step #DB at its end is not modelled"
            }
        case let .access(kind, address, size, cpl, implicit): access(kind, address, size: size, cpl: cpl, implicit: implicit, &out)
        case .schedule: explicitSchedule(&out)
        case .setRegisters, .setControl, .setMSRs, .setPages, .setAll: applySet(event, &out)
        }
        // The boundary after this step: interrupts held while IF was 0 are taken once the CPU can take them.
        if !pendingInterrupts.isEmpty && machine.unsupported == nil { deliverPendingInterrupts(&out) }
        if let u = machine.unsupported, out.error == nil { out.error = "not modelled: \(u)" }
        out.shutdown = machine.shutdown
        out.traceRange = start..<machine.trace.count
        core.faultCount += out.faults.count
        core.totalOutput += out.output
        return out
    }

    /// The ABI a `wait`/`exit` step uses: 64-bit tasks `syscall`, 32-bit ones `int 0x80`.
    var defaultABI: (via: SyscallEntryKind, table: SyscallABI) {
        machine.longMode && core.currentTask.bits == 64 ? (.syscall, .x86_64) : (.int80, .i386)
    }

    mutating func setControl(cr0: FlagEdit, cr4: FlagEdit, efer: FlagEdit, rflags: FlagEdit, _ out: inout StepOutcome) {
        do throws(Fault) {
            if !cr0.isEmpty { try machine.writeControlRegister(0, cr0.apply(to: machine.cpu.cr0)) }
            if !cr4.isEmpty { try machine.writeControlRegister(4, cr4.apply(to: machine.cpu.cr4)) }
        } catch {
            out.error = "set: control register write refused: \(error)"
        }
        if !efer.isEmpty {
            machine.editEFER(efer.apply(to: machine.cpu.efer))
        }
        if !rflags.isEmpty { machine.cpu.rflags = rflags.apply(to: machine.cpu.rflags) | RFLAGS.reserved1 }
    }

    /// Records that the CPU is running the current task in user mode (`user A` in a step's trace).
    mutating func noteUserMode() {
        if machine.cpu.cpl == 3 { machine.trace.record(.modeSwitch(task: machine.taskName, fromCPL: 3, toCPL: 3)) }
    }

    // MARK: exec

    mutating func exec(_ instruction: Instruction, _ out: inout StepOutcome) {
        noteUserMode()
        var attempts = 0
        while attempts < 4 {
            attempts += 1
            let before = TaskContext(machine.cpu)
            let nextIP = machine.addressAfter(instruction)
            let r = machine.execute(instruction)
            out.faults += r.faults
            if let d = machine.lastDelivery { out.gate = d }
            // `expect.entry` of an exec step that runs SYSENTER/SYSCALL itself: the state right after the
            // entry instruction (FAST-2, FAST-7), also on a bare CPU where no kernel handles the call.
            machine.noteInt80Entry(instruction, r)
            if let e = machine.lastEntry { out.entry = e }
            if machine.shutdown || !kernelActive { return }
            if case let .delivered(v)? = r.delivery {
                if v == 0x80 && r.faults.isEmpty && machine.cpu.rip == core.layout.int80Entry && machine.cpu.cpl == 0 {
                    syscallEntered(.int80, user: before, nextIP: nextIP, childName: nil, &out)
                    return
                }
                let retry = kernelEntered(vector: v, faults: r.faults, user: before, &out)
                if retry && machine.cpu.cpl == before.cpl && machine.cpu.rip == before.rip { continue }
                return
            }
            if r.faults.isEmpty {
                switch instruction {
                case .syscall where machine.cpu.cpl == 0 && [core.layout.entrySYSCALL_64, core.layout.entrySYSCALL_compat].contains(machine.cpu.rip) && machine.longMode:
                    syscallEntered(.syscall, user: before, nextIP: nextIP, childName: nil, &out)
                case .sysenter where machine.cpu.cpl == 0 && machine.cpu.rip == core.layout.sysenterEntry:
                    syscallEntered(.sysenter, user: before, nextIP: nextIP, childName: nil, &out)
                default: break
                }
            }
            return
        }
    }

    // MARK: access

    /// A `set` step's edit: registers, control registers and RFLAGS, MSRs or page-table entries, written
    /// directly (no instruction runs, the TLB is not touched except as `setControl` documents).
    mutating func applySet(_ event: KernelEvent, _ out: inout StepOutcome) {
        switch event {
        case let .setRegisters(regs, rip):
            for (r, v) in regs { machine.cpu[r] = machine.in64BitMode || machine.longMode ? v : v & 0xFFFF_FFFF }
            if let rip {
                if machine.in64BitMode && !isCanonical(rip) {
                    out.error = "set.regs: RIP 0x\(String(rip, radix: 16)) is not canonical (no instruction can run there)"
                } else if !machine.in64BitMode && rip > 0xFFFF_FFFF {
                    out.error = "set.regs: EIP 0x\(String(rip, radix: 16)) does not fit in 32 bits outside 64-bit mode"
                } else {
                    machine.cpu.rip = rip
                }
            }
        case let .setControl(cr0, cr4, efer, rflags): setControl(cr0: cr0, cr4: cr4, efer: efer, rflags: rflags, &out)
        case let .setMSRs(msrs):
            for (n, v) in msrs.sorted(by: { $0.key < $1.key }) {
                machine.editMSR(n, v)
                if n == MSR.sysenterESP { core.manageSysenterESP = false }
            }
        case let .setPages(pages):
            let c = pagingControlForKernel
            for p in pages {
                do throws(MachineError) {
                    try machine.paging.map(p, cr3: machine.cpu.cr3, mode: c.mode, pse: c.pse, nxe: scenarioNXE, overwrite: true)
                } catch {
                    out.error = "set.pages: \(error.message)"
                }
            }
        case let .setAll(edits):
            for e in edits { applySet(e, &out) }
        case .timer, .irq, .syscall, .wait, .exit, .exec, .access, .schedule:
            break
        }
    }

    mutating func access(_ kind: AccessKind, _ address: UInt64, size: Int, cpl: UInt8?, implicit: Bool, _ out: inout StepOutcome) {
        noteUserMode()
        let size = max(1, min(size, 8))
        let asKernel = cpl == 0 && machine.cpu.cpl != 0
        if let cpl, cpl != 0, cpl != machine.cpu.cpl {
            out.error = "access at cpl \(cpl) while the CPU runs at CPL \(machine.cpu.cpl): only `cpl: 0` (the task's kernel code) is modelled"
            return
        }
        // ISA-1: outside 64-bit mode addresses are 32 bits wide; a larger one names no memory operand (the
        // `cpl: 0` access of a task on a 64-bit kernel runs in 64-bit mode).
        let wide = asKernel ? machine.longMode : machine.in64BitMode
        if !wide, let problem = Machine.wideOffsetProblem(address) {
            out.error = "access: \(problem) (ISA-1)"
            return
        }
        var saved: TaskContext?
        let actor = core.current
        if asKernel {
            // On a bare CPU (`kernel: none`) the linux preset still gives the task a kernel stack (the
            // TSS's ring-0 stack) and kernel selectors; a fault then stops at its handler, as any other.
            guard core.presetActive else {
                out.error = "access with cpl: 0 needs the linux preset, which gives the task its kernel code and stack segments; with preset: none there are none to borrow: run the task at CPL 0 (a context with a DPL-0 code segment and stack, or an int/call gate into one) and leave cpl out"
                return
            }
            saved = TaskContext(machine.cpu)
            enterKernelSegments(&machine.cpu)
            machine.cpu[.rsp] = core.currentTask.kernelStackTop
            machine.noteCPLChange(from: 3)
        }
        for _ in 0..<4 {
            // INT-15: the access is an instruction: RF is cleared at its start (a retry after demand
            // paging is the faulting instruction again, restarted by the IRET that may have set RF).
            machine.cpu.rflags &= ~RFLAGS.rf
            let before = TaskContext(machine.cpu)
            do throws(Fault) {
                let (pa, linear) = try accessOnce(kind, address, size: size, implicit: implicit)
                let c = pagingControlForKernel
                var a = false, d = false
                // PG-14: the A/D bits are those of the leaf the walk used, which maps the linear
                // address (segment base + offset), not the offset the step names.
                if c.mode != .off, let leaf = machine.paging.leaf(for: linear, cr3: machine.cpu.cr3, mode: c.mode, pse: c.pse) {
                    a = leaf.value & 0x20 != 0
                    d = leaf.value & 0x40 != 0
                }
                out.access = AccessRecord(physical: pa, accessed: a, dirty: d)
                break
            } catch {
                var raised: [Fault] = []
                machine.pendingTaskSwitchTrap = false
                var r = machine.raise(error, returnIP: machine.cpu.rip, raised: &raised)
                // TASK-7: a fault delivered through a task gate into a TSS with the T bit set: #DB in the new
                // task, as after an instruction (`Machine.execute`) or an external interrupt.
                if let t = machine.raiseTaskSwitchTrap(&raised) { r = t }
                out.faults += raised
                if let d = machine.lastDelivery { out.gate = d }
                guard !machine.shutdown, kernelActive, case let .delivered(v) = r else { return }
                let retry = kernelEntered(vector: v, faults: raised, user: before, &out)
                if retry && machine.cpu.rip == before.rip && machine.cpu.cpl == before.cpl { continue }
                return
            }
        }
        if let saved, core.current == actor, core.currentTask.isRunnable, machine.cpu.cpl == 0 {
            saved.restore(into: &machine.cpu)
            machine.noteCPLChange(from: 0)
        }
    }

    /// One access through segmentation (DS for data, CS for fetches; none for implicit accesses) and paging.
    /// Returns the physical address of the first byte and the linear address it came from.
    mutating func accessOnce(_ kind: AccessKind, _ offset: UInt64, size: Int, implicit: Bool) throws(Fault) -> (physical: UInt64, linear: UInt64) {
        var linear = offset
        if !implicit {
            if kind == .fetch {
                let cs = machine.cpu.cs.cache
                if !machine.in64BitMode {
                    guard offset &+ UInt64(size) &- 1 <= UInt64(cs.limit) else {
                        machine.refuseFlatLimitWrap(cs, offset: offset, size: size, register: "CS")
                        throw Fault.gp(0, rule: "SEG-3", "fetch at 0x\(String(offset, radix: 16)) beyond the CS limit")
                    }
                    linear = (cs.base &+ offset) & 0xFFFF_FFFF
                }
            } else {
                linear = try machine.dataLinear(offset, size: size, write: kind == .write)
            }
        }
        let access = MemoryAccess(kind, cpl: machine.cpu.cpl, implicit: implicit)
        try machine.checkAlignment(linear, size: size, access)
        let pa = try machine.translate(linear, access)
        // An access that crosses into the next page also needs that page; a fault there reports the
        // first byte on it in CR2 (PG-11), as the CPU's own split accesses do (`Machine.readLinear`).
        // Outside 64-bit mode the second page's address wraps at 4 GiB (`Machine.splitByteAddress`).
        let lastPage = machine.splitByteAddress(linear, size - 1) & ~0xFFF
        if lastPage != linear & ~0xFFF { _ = try machine.translate(lastPage, access) }
        return (pa, linear)
    }

    // MARK: Interrupts

    mutating func timer(_ n: Int, _ out: inout StepOutcome) {
        var left = max(n, 0)
        while left > 0 && !machine.shutdown {
            // Each tick's mark for `explain`: only while the trace is kept, and only for a tick whose events
            // it kept to the last (none is marked once the trace reaches its limit).
            let marking = machine.trace.enabled && !machine.trace.truncated
            let start = machine.trace.count
            // Ticks the CPU cannot take merge into one pending request: nothing runs between them.
            guard acceptsExternalInterrupts else {
                holdExternal(0x20, wakes: [], requests: left)
                if marking && !machine.trace.truncated {
                    out.ticks.append(TimerTick(traceRange: start..<machine.trace.count, count: left, running: machine.taskName, charged: false, held: true))
                }
                return
            }
            // What the mark needs from before the tick, taken only while marking (a long timer step runs this
            // loop once a tick).
            let mark = marking ? (running: core.current, name: machine.taskName,
                                  ticks: core.tasks.indices.contains(core.current) ? core.tasks[core.current].ticks : 0) : nil
            deliverExternal(0x20, wakes: [], &out)
            if let mark, !machine.trace.truncated {
                let charged = mark.running != 0 && core.tasks.indices.contains(mark.running) && core.tasks[mark.running].ticks > mark.ticks
                out.ticks.append(TimerTick(traceRange: start..<machine.trace.count, running: mark.name, charged: charged))
            }
            left -= 1
        }
    }

    mutating func irq(_ vector: UInt8, wakes: String?, _ out: inout StepOutcome) {
        if let w = wakes, kernelEnabled, core.index(named: w) == nil {
            out.error = "irq wakes \(w), which is not a task"
            return
        }
        deliverExternal(vector, wakes: wakes.map { [$0] } ?? [], &out)
    }

    /// An external interrupt through the IDT (held pending while IF = 0 or in an interrupt shadow:
    /// `PendingInterrupts.swift`), then the kernel's handler when it landed on one; the handler wakes `wakes`.
    mutating func deliverExternal(_ vector: UInt8, wakes: [String], _ out: inout StepOutcome) {
        noteUserMode()
        guard acceptsExternalInterrupts else {
            holdExternal(vector, wakes: wakes)
            return
        }
        let before = TaskContext(machine.cpu)
        var raised: [Fault] = []
        machine.halted = false
        machine.pendingTaskSwitchTrap = false
        var r = machine.deliverWithEscalation(InterruptEvent(vector: vector, source: .external, returnIP: machine.cpu.rip), raised: &raised)
        // TASK-7: an interrupt task gate into a TSS with the T bit set: #DB in the new task.
        if let t = machine.raiseTaskSwitchTrap(&raised) { r = t }
        out.faults += raised
        if let d = machine.lastDelivery { out.gate = d }
        guard !machine.shutdown, kernelActive, case let .delivered(v) = r else { return }
        if v == vector && raised.isEmpty && machine.cpu.rip == core.layout.vectorEntry(vector) && vector >= 0x20 {
            // A nanosleep cut short writes the time left to `rem` (kernel/time/hrtimer.c nanosleep_copyout):
            // a time between ticks, which the model's clock (whole ticks) does not have.
            for w in wakes {
                guard let i = core.index(named: w), core.tasks[i].state == .sleeping, core.tasks[i].sleepTicks != nil,
                      core.tasks[i].sleepRemainingPointer != 0 else { continue }
                let rem = String(core.tasks[i].sleepRemainingPointer, radix: 16)
                machine.unsupported = "irq wakes \(w) in nanosleep(..., rem = 0x\(rem)): Linux writes the time left to rem, which the model (time in whole ticks) cannot tell; pass rem = 0"
                return
            }
            enterFromUser(before, path: .iret(skip: 0))
            if vector == 0x20 { timerTick(&out) }
            for w in wakes {
                guard let i = core.index(named: w) else { continue }
                // A task inside nanosleep or wait4 is cut short: the call returns -EINTR, as Linux's do for
                // a sleep or wait that ends before its event (its saved RAX still held the call number).
                let inCall: Bool
                switch core.tasks[i].blockedOn {
                case .child?: inCall = core.tasks[i].state == .blocked
                default: inCall = core.tasks[i].state == .sleeping && core.tasks[i].sleepTicks != nil
                }
                if inCall { setSavedReturnValue(i, -KernelErrno.EINTR) }
                wake(i, &out)
            }
            returnFromKernel(&out)
        } else if v == vector && raised.isEmpty && vector < 0x20 {
            // Linux never routes a device interrupt to an exception vector; its handler would misread the frame.
            machine.unsupported = "an external interrupt on exception vector \(vector) (the CPU stays at the handler)"
        } else {
            if !wakes.isEmpty {
                // The wake is the handler's work: with no kernel handler run, the model cannot say whether it happens.
                let how = raised.isEmpty
                    ? "was delivered to 0x\(String(machine.cpu.rip, radix: 16)), not the kernel's handler (the CPU stays there)"
                    : "raised \(raised.map { "\($0.vector)" }.joined(separator: ", ")) on its way to the handler"
                machine.unsupported = "irq wakes \(wakes.joined(separator: ", ")), but vector 0x\(String(vector, radix: 16)) \(how), so no kernel handler runs to wake it"
            }
            _ = kernelEntered(vector: v, faults: raised, user: before, &out)
        }
    }

    /// Records the user context (pt_regs) and return path of the task entering the kernel.
    mutating func enterFromUser(_ user: TaskContext, path: ReturnPath) {
        let c = core.current
        if user.cpl == 3 { core.tasks[c].userContext = user }
        core.tasks[c].returnPath = path
    }

    /// The kernel's return to user mode: schedule() when need_resched, then the current task's return
    /// instruction through the CPU model.
    mutating func returnFromKernel(_ out: inout StepOutcome, fromSyscall: Bool = false) {
        if core.needResched {
            // Only a wake-up's need_resched is acted on there: sched_yield's own schedule() (reason `yield`)
            // runs inside the call in Linux (do_sched_yield), even though the model takes it at the return.
            schedule(reason: core.reschedReason, atSyscallReturn: fromSyscall && core.reschedReason == "wakeup", &out)
        }
        performReturn(&out)
    }

    /// __kernel_vsyscall's landing pad after SYSEXIT (vdso32/system_call.S): `pop %ebp; pop %edx;
    /// pop %ecx` restore what its prologue pushed, so a call through the vDSO changes only EAX. (Its
    /// `ret` is not modelled: the step's SYSEXIT already returned to the instruction after it.)
    mutating func vdsoLandingPad() {
        let sp = machine.cpu[.rsp] & 0xFFFF_FFFF
        guard let b = peekBytes(sp, count: 12, cr3: machine.cpu.cr3) else {
            machine.trace.record(.note("the vDSO's pops at 0x\(String(sp, radix: 16)) cannot read the user stack"))
            return
        }
        func dword(_ i: Int) -> UInt64 { (0..<4).reduce(UInt64(0)) { $0 | UInt64(b[i + $1]) << (8 * UInt64($1)) } }
        machine.cpu[.rbp] = dword(0)
        machine.cpu[.rdx] = dword(4)
        machine.cpu[.rcx] = dword(8)
        machine.cpu[.rsp] = sp + 12
        machine.trace.record(.note("vDSO landing pad: pop ebp, edx, ecx (esp 0x\(String(sp + 12, radix: 16)))"))
    }

    /// Writes pt_regs' hardware frame (ip, cs, flags, sp, ss) at the top of the current task's kernel stack
    /// and makes IRET through it the task's return path (`ReturnPath.iretFrame`). The selectors are Linux's
    /// constants, as its entry code pushes them: __USER32_CS/__USER_DS for a 32-bit frame on a 64-bit
    /// kernel, __USER_CS/__USER_DS otherwise.
    mutating func returnWithIRET(compat: Bool, sp: UInt64, ip: UInt64, flags: UInt64, vdso: Bool = false) {
        let c = core.current
        guard let bottom = writeIRETFrame(top: core.tasks[c].kernelStackTop, compat: compat, sp: sp, ip: ip, flags: flags) else { return }
        machine.cpu[.rsp] = bottom
        core.tasks[c].returnPath = .iretFrame(vdso: vdso)
    }

    /// Writes the frame of `returnWithIRET` below `top` (a kernel stack top) and returns its lowest address.
    mutating func writeIRETFrame(top: UInt64, compat: Bool, sp: UInt64, ip: UInt64, flags: UInt64) -> UInt64? {
        let l = core.layout
        let cs = compat ? (l.user32CS ?? l.userCS) : l.userCS
        let w = machine.longMode ? 8 : 4
        let frame: [UInt64] = [UInt64(l.userDS), sp, flags | RFLAGS.reserved1, UInt64(cs), ip]
        var at = top
        for v in frame {
            at -= UInt64(w)
            guard poke(at, value: v, size: w, cr3: machine.cpu.cr3) else {
                machine.unsupported = "the kernel's IRET frame at 0x\(String(at, radix: 16)) (a task's kernel stack) cannot be written"
                return nil
            }
        }
        return at
    }

    /// pt_regs' frame for a fast return path (SYSRET, SYSRETL, SYSEXIT), when the return must go through
    /// IRET instead (a forked child: ret_from_fork always leaves with IRET). `regs` are the registers the
    /// fast return would use (RCX and R11 for SYSRET). nil for IRET paths and legacy-mode SYSRET.
    func iretFrameFields(_ path: ReturnPath, regs: TaskContext) -> (compat: Bool, sp: UInt64, ip: UInt64, flags: UInt64, vdso: Bool)? {
        switch path {
        case let .sysret(to64, userRSP) where machine.longMode:
            return (!to64, to64 ? userRSP : userRSP & 0xFFFF_FFFF, to64 ? regs[.rcx] : regs[.rcx] & 0xFFFF_FFFF, regs[.r11] & ~RFLAGS.rf, false)
        case let .sysretl(eip, esp, flags, vdso):
            return (true, esp, eip, flags, vdso)
        case let .sysexit(eip, esp, flags, vdso):
            return (false, esp, eip, flags | RFLAGS.if, vdso)
        default:
            return nil
        }
    }

    /// Executes the current task's pending return (IRET, SYSEXIT, SYSRET) through the CPU model.
    mutating func performReturn(_ out: inout StepOutcome) {
        let c = core.current
        let path = core.tasks[c].returnPath
        core.tasks[c].returnPath = .none
        let r: ExecutionResult
        var landingPad = false
        /// The instruction the return used (a 64-bit SYSRET may become IRET).
        var used = path
        var iretToUser = false
        /// Where the IRET frame was (stack pointer and CR3): read back only when the IRET faulted, to tell a return
        /// to user mode by the RPL of its CS slot (a faulting IRET leaves its frame in place; the fault's pushes go below).
        var iretFrame: (sp: UInt64, cr3: UInt64)?
        switch path {
        case .none:
            return
        case let .iret(skip):
            machine.cpu[.rsp] &+= skip
            iretFrame = (machine.cpu[.rsp], machine.cpu.cr3)
            r = machine.execute(.iret(width: nil))
        case let .iretFrame(vdso):
            iretFrame = (machine.cpu[.rsp], machine.cpu.cr3)
            r = machine.execute(.iret(width: nil))
            landingPad = vdso
        case let .sysexit(eip, esp, flags, vdso):
            machine.cpu[.rdx] = eip
            machine.cpu[.rcx] = esp
            // entry_SYSENTER_32's exit: popfl restores the user's flags but IF, then `sti; sysexit`
            // (SYSENTER cleared IF, and SYSEXIT leaves RFLAGS alone: FAST-2).
            machine.cpu.rflags = flags | RFLAGS.if | RFLAGS.reserved1
            r = machine.execute(.sysexit(to64: false))
            landingPad = vdso
        case let .sysretl(eip, esp, flags, vdso):
            // sysret32_from_system_call: RCX = pt_regs->ip, R11 = pt_regs->flags, RSP = pt_regs->sp,
            // R8-R10 zeroed ("to avoid info leaks"), then SYSRETL (FAST-10: CS = STAR[63:48] | 3).
            machine.cpu[.rcx] = eip
            machine.cpu[.r11] = flags
            machine.cpu[.rsp] = esp
            for reg in [GPR.r8, .r9, .r10] { machine.cpu[reg] = 0 }
            r = machine.execute(.sysret(to64: false))
            landingPad = vdso
        case let .sysret(to64, userRSP):
            if to64 && machine.cpu[.rcx] >= core.layout.userSpaceTop {
                // do_syscall_64: "On Intel CPUs, SYSRET with non-canonical RCX/RIP will #GP in kernel space"
                // (FAST-12), so a return to RIP >= TASK_SIZE_MAX goes through IRET, pt_regs' frame: RIP = RCX,
                // RFLAGS = R11 (RCX and R11 keep those values, as pt_regs->cx and ->r11 hold them).
                machine.trace.record(.kernelAction("the return RIP 0x\(String(machine.cpu[.rcx], radix: 16)) is at or above TASK_SIZE_MAX 0x\(String(core.layout.userSpaceTop, radix: 16)): IRET, not SYSRET"))
                returnWithIRET(compat: false, sp: userRSP, ip: machine.cpu[.rcx], flags: machine.cpu[.r11])
                core.tasks[c].returnPath = .none
                used = .iretFrame(vdso: false)
                if machine.unsupported != nil { return }
                iretToUser = true
                r = machine.execute(.iret(width: nil))
            } else {
                machine.cpu[.rsp] = userRSP
                // sysret32_from_system_call (a compat SYSCALL) zeroes R8-R10 before SYSRETL, as for SYSENTER.
                if !to64 && machine.longMode { for reg in [GPR.r8, .r9, .r10] { machine.cpu[reg] = 0 } }
                r = machine.execute(.sysret(to64: to64))
            }
        }
        if landingPad && r.faults.isEmpty { vdsoLandingPad() }
        if !r.faults.isEmpty {
            out.faults += r.faults
            out.gate = machine.lastDelivery
            if let f = iretFrame {
                let w: UInt64 = machine.longMode ? 8 : 4
                iretToUser = peekBytes(f.sp &+ w, count: 1, cr3: f.cr3).map { $0[0] & 3 } == 3
            }
            if iretToUser && badIRET(path: used, result: r, &out) { return }
            machine.trace.record(.kernelAction("the return to user mode faulted"))
        }
    }

    /// A #GP, #NP or #SS raised by the IRET back to user mode. x86_64: fixup_bad_iret (arch/x86/kernel/traps.c;
    /// error_entry recognises native_irq_return_iret) handles it as if user mode had raised it, so the task
    /// gets that exception's signal (#GP SIGSEGV, #NP/#SS SIGBUS). ia32: the exception-table fixup of
    /// entry_32.S's IRET goes to iret_error, which sends SIGILL (ILL_BADSTK) whatever the exception.
    /// Returns true when it applied.
    mutating func badIRET(path: ReturnPath, result r: ExecutionResult, _ out: inout StepOutcome) -> Bool {
        switch path {
        case .iret, .iretFrame: break
        default: return false
        }
        let c = core.current
        guard c != 0, case let .delivered(v)? = r.delivery, [UInt8(11), 12, 13].contains(v),
              machine.cpu.cpl == 0, machine.cpu.rip == core.layout.vectorEntry(v),
              r.faults.count == 1, machine.lastDelivery?.fromCPL == 0 else { return false }
        let ia32 = machine.mode == .ia32
        let sig = ia32 ? "SIGILL" : System.signal(for: v) ?? "SIGSEGV"
        let name = ExceptionVector(rawValue: v)?.description ?? "vector \(v)"
        let how = ia32 ? "the fixup sends iret_error's SIGILL" : "fixup_bad_iret handles it as a user-mode fault"
        killAndSwitch(c, sig, saying: "\(name) on the IRET to user mode: \(how): \(sig) to \(core.tasks[c].name)", &out)
        return true
    }
}
