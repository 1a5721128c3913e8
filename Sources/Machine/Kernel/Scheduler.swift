// Scheduler: the run queue and schedule(), exactly as the scenario format's scheduling rules say.
//
//   schedule(reason):
//     put the previous task back if it is still runnable (tail; head when preempted on wake or when the
//     scenario calls schedule() explicitly), pick the next task by policy, and switch to it:
//       fifo, rr   the head of the queue
//       priority   the highest `priority`, first in queue order among equals
//       cfs        the smallest vruntime, ties to the lower pid
//     nothing ready -> the idle task.
//   A context switch: save prev's registers in its task_struct, switch CR3 (TLB flush of non-global entries)
//   when the address spaces differ, point TSS.esp0/rsp0 at next's kernel stack, restore next's registers.
//
// Choices: the explicit `schedule` step keeps the current task at the head of its queue and records the
// reason `yield` if another task is picked; a task killed by a signal leaves with reason `signal`;
// the idle task keeps the previous address space (lazy TLB) and is preempted by any wakeup (reason
// `wakeup`); cfs's "one tick's worth" is the running task's own vruntime increase per tick, and
// "the smallest vruntime in the queue" includes the running task (Linux's min_vruntime); a cfs yield
// keeps the CPU when the yielder has strictly the smallest vruntime (CFSYield.swift).

extension System {
    /// Linux's sched_prio_to_weight, nice -20 ... 19.
    static let niceWeights: [Int] = [
        88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916,
        9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
        1024, 820, 655, 526, 423, 335, 272, 215, 172, 137,
        110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
    ]

    static func weight(nice: Int) -> Int { niceWeights[min(max(nice, -20), 19) + 20] }

    /// The smallest vruntime among the ready tasks and the current one (nil: none). The current task counts
    /// until schedule() takes it off the CPU, even when it is blocking or leaving: Linux's update_min_vruntime
    /// takes cfs_rq->curr while it is on the run queue, and exit_notify wakes the parent before
    /// do_task_dead's __schedule dequeues the exiting task.
    func minVruntime() -> VirtualRuntime? {
        var candidates = core.runQueue.map { core.tasks[$0].vruntime }
        if core.current != 0 { candidates.append(core.currentTask.vruntime) }
        return candidates.min()
    }

    /// Linux's cfs_rq->min_vruntime: the smallest vruntime of the queue and the current task, never going
    /// back (update_min_vruntime: "ensure we never gain time by being placed backwards"); while nothing is
    /// runnable it keeps its last value.
    func cfsMinVruntime() -> VirtualRuntime? {
        guard let floor = core.minVruntimeFloor else { return minVruntime() }
        return minVruntime().map { max($0, floor) } ?? floor
    }

    /// A woken or new task's vruntime: max(its own, min_vruntime).
    func placedVruntime(_ own: VirtualRuntime) -> VirtualRuntime {
        cfsMinVruntime().map { max(own, $0) } ?? own
    }

    mutating func requestResched(_ reason: String) {
        if !core.needResched || reason == "wakeup" { core.reschedReason = reason }
        core.needResched = true
    }

    /// One timer tick in the kernel: charge the running task, count down sleepers, decide need_resched.
    mutating func timerTick(_ out: inout StepOutcome) {
        let c = core.current
        let policy = core.setup.policy
        if c != 0 {
            core.tasks[c].ticks += 1
            core.tasks[c].sliceUsed += 1
            if policy == .cfs { core.tasks[c].vruntime.charge(nice: core.tasks[c].nice) }
        }
        // Timeouts count down; those that end on this tick wake in the order their timers were armed (the
        // earlier of two equal sleeps has the earlier deadline, and Linux's hrtimers expire in deadline order).
        var expired: [Int] = []
        for i in core.tasks.indices where core.tasks[i].state == .sleeping {
            guard let left = core.tasks[i].sleepTicks else { continue }
            core.tasks[i].sleepTicks = left - 1
            if left - 1 <= 0 { expired.append(i) }
        }
        for i in expired.sorted(by: { core.tasks[$0].sleepArmedAt < core.tasks[$1].sleepArmedAt }) {
            core.tasks[i].sleepTicks = nil
            setSavedReturnValue(i, 0)
            wake(i, &out)
        }
        guard c != 0, core.setup.preempt else { return }
        switch policy {
        case .fifo:
            break
        case .rr, .priority:
            if core.tasks[c].sliceUsed >= core.setup.timeslice { requestResched("timer") }
        case .cfs:
            let me = core.tasks[c]
            if let first = core.runQueue.min(by: { core.tasks[$0].vruntime < core.tasks[$1].vruntime }),
               me.vruntime.excess(over: core.tasks[first].vruntime) > me.vruntime.perTick(nice: me.nice) {
                // The numbers behind the decision, for `explain` (a cfs lab cannot be followed without them).
                // (`record` builds the text only when the trace is kept: a long cfs run preempts every few ticks.)
                let v = me.vruntime
                machine.trace.record(.note("cfs: \(me.name)'s vruntime is \(v.text(v.units)) (a tick adds \(v.text(v.perTick(nice: me.nice))) at nice \(me.nice)), more than one tick ahead of the smallest ready one, \(core.tasks[first].name)'s \(v.text(core.tasks[first].vruntime.units)): need_resched"))
                requestResched("timer")
            }
        }
    }

    /// try_to_wake_up: a sleeping or blocked task becomes ready (tail of the queue) and may preempt.
    mutating func wake(_ i: Int, _ out: inout StepOutcome) {
        guard i != 0, core.tasks[i].state == .sleeping || core.tasks[i].state == .blocked else { return }
        core.tasks[i].state = .ready
        core.tasks[i].blockedOn = nil
        core.tasks[i].sleepTicks = nil
        if core.setup.policy == .cfs { core.tasks[i].vruntime = placedVruntime(core.tasks[i].vruntime) }
        core.runQueue.append(i)
        machine.trace.record(.kernelAction("wake up \(core.tasks[i].name)"))
        let c = core.current
        if c == 0 { requestResched("wakeup"); return }
        guard core.setup.preempt, core.currentTask.isRunnable else { return }
        switch core.setup.policy {
        case .priority:
            if core.tasks[i].priority > core.tasks[c].priority { requestResched("wakeup") }
        case .cfs:
            let me = core.tasks[c].vruntime
            if me.excess(over: core.tasks[i].vruntime) > me.perTick(nice: core.tasks[c].nice) { requestResched("wakeup") }
        case .rr, .fifo:
            break
        }
    }

    /// The next task by policy, removed from the queue; nil when the queue is empty.
    mutating func pickNext() -> Int? {
        guard !core.runQueue.isEmpty else { return nil }
        var pos = 0
        switch core.setup.policy {
        case .fifo, .rr:
            pos = 0
        case .priority:
            // The first task of the highest priority (the queue is not empty).
            for i in core.runQueue.indices where core.tasks[core.runQueue[i]].priority > core.tasks[core.runQueue[pos]].priority {
                pos = i
            }
        case .cfs:
            pos = core.runQueue.indices.min { a, b in
                let ta = core.tasks[core.runQueue[a]], tb = core.tasks[core.runQueue[b]]
                return ta.vruntime != tb.vruntime ? ta.vruntime < tb.vruntime : ta.pid < tb.pid
            } ?? 0
        }
        return core.runQueue.remove(at: pos)
    }

    /// schedule().
    /// `atSyscallReturn`: it runs on the way back from a system call (SwitchRecord.atSyscallReturn).
    mutating func schedule(reason: String, keepHead: Bool = false, atSyscallReturn: Bool = false, _ out: inout StepOutcome) {
        core.needResched = false
        core.reschedReason = "timer"
        machine.trace.record(.schedule(reason: reason, atSyscallReturn: atSyscallReturn))
        let prev = core.current
        if core.setup.policy == .cfs, let m = cfsMinVruntime() { core.minVruntimeFloor = m }
        if prev != 0 && core.tasks[prev].isRunnable {
            core.tasks[prev].state = .ready
            // priority: a task preempted on wake keeps its place and the rest of its slice; one whose slice
            // is used up (the same tick) has no rest: it goes to the tail of its level (rr with timeslice).
            let sliceLeft = core.tasks[prev].sliceUsed < core.setup.timeslice
            let head = keepHead || (reason == "wakeup" && core.setup.policy == .priority && sliceLeft)
            if head {
                core.runQueue.insert(prev, at: 0)
                if reason == "wakeup" { core.tasks[prev].keepsSlice = true }
            } else {
                core.runQueue.append(prev)
            }
        }
        var next = pickNext() ?? 0
        if reason == "yield" && !keepHead && next == prev && core.setup.policy == .cfs, let other = pickNext() {
            // CFS yield: the yielder loses a tie; ahead of the others it runs again (see cfsYieldKeepsCPU).
            if cfsYieldKeepsCPU(prev, over: other) {
                core.runQueue.insert(other, at: 0)
            } else {
                core.runQueue.insert(prev, at: 0)
                next = other
            }
        }
        if next == prev {
            core.tasks[prev].state = .running
            core.tasks[prev].keepsSlice = false
            if reason == "timer" { core.tasks[prev].sliceUsed = 0 }
            return
        }
        contextSwitch(from: prev, to: next, reason: reason, atSyscallReturn: atSyscallReturn, &out)
    }

    /// switch_to: A's registers into A's task_struct, B's out of B's; CR3, TSS.esp0/rsp0, `current`.
    mutating func contextSwitch(from prev: Int, to next: Int, reason: String, atSyscallReturn: Bool = false, _ out: inout StepOutcome) {
        core.tasks[prev].kernelContext = TaskContext(machine.cpu)
        let from = core.tasks[prev].name, to = core.tasks[next].name
        let loadsCR3 = next != 0 && core.tasks[next].cr3 != machine.cpu.cr3 && machine.pagingMode != .off
        let managesTSS = core.manageTSSStack && machine.cpu.tr.cache.usable
        let details = SwitchDetails(savedSP: machine.cpu[.rsp], restoredSP: core.tasks[next].kernelContext?[.rsp],
                                    cr3: loadsCR3 ? core.tasks[next].cr3 : nil,
                                    tssField: managesTSS ? (machine.longMode ? "TSS.rsp0" : "TSS.esp0") : nil,
                                    kernelStackTop: core.tasks[next].kernelStackTop, sysenterESP: core.manageSysenterESP)
        machine.trace.record(.contextSwitch(from: from, to: to, reason: reason, details: details))
        out.switches.append(SwitchRecord(from: from, to: to, reason: reason, atSyscallReturn: atSyscallReturn))
        core.switchCount += 1
        core.dispatchOrder.append(to)
        // Address space (the idle task borrows the previous one).
        if loadsCR3 {
            do throws(Fault) { try machine.writeControlRegister(3, core.tasks[next].cr3) } catch {
                out.faults.append(error)
            }
        }
        if next == 0 { core.tasks[0].cr3 = machine.cpu.cr3 }
        // The next task's kernel stack for the next trap from user mode (LNX-6).
        let top = core.tasks[next].kernelStackTop
        if managesTSS {
            let offset = machine.longMode ? TSS64.rsp(0) : TSS32.esp0
            machine.tssWrite(offset: offset, size: machine.longMode ? 8 : 4, value: top, tssBase: machine.cpu.tr.cache.base)
        }
        if core.manageSysenterESP { machine.storeMSR(MSR.sysenterESP, top) }
        machine.taskName = to
        core.current = next
        core.tasks[next].state = .running
        if !core.tasks[next].keepsSlice { core.tasks[next].sliceUsed = 0 }
        core.tasks[next].keepsSlice = false
        // A wait4 woken by a child's exit completes as its task runs again (do_wait reaps in the waiter,
        // and its put_user of the status runs in the waiter's address space: a #PF it takes is this step's).
        completePendingWait(next)
        out.faults += kernelAccessFaults
        kernelAccessFaults.removeAll()
        if let k = core.tasks[next].kernelContext {
            k.restore(into: &machine.cpu)
            core.tasks[next].kernelContext = nil
        }
        // The blocked call the task resumes returns now: the step's `returns` when its own call does not
        // return (exit, a blocking call) or the step is no system call (an exit's wake-up, a tick, an irq).
        if let v = core.tasks[next].resumeReturn {
            core.tasks[next].resumeReturn = nil
            if out.returns == nil {
                out.returns = v
                out.returnsBy = to
            }
        }
        machine.trace.record(.modeSwitch(task: to, fromCPL: 0, toCPL: 0))
    }

    /// The `schedule` step: schedule() called for the current task, which keeps its place.
    mutating func explicitSchedule(_ out: inout StepOutcome) {
        guard kernelEnabled else { out.error = "kernel: none has no scheduler"; return }
        guard kernelActive else { out.error = "not modelled: schedule() with preset: none (the kernel has no stacks or entries)"; return }
        let c = core.current
        if c == 0 {
            schedule(reason: "wakeup", &out)
            performReturn(&out)
            return
        }
        // The task enters its kernel (as for a system call), runs schedule(), and returns.
        noteUserMode()
        let user = TaskContext(machine.cpu)
        let wasUser = machine.cpu.cpl == 3
        if wasUser {
            // Build the interrupt frame a kernel entry would have left, so the task can be resumed later.
            core.tasks[c].userContext = user
            var task = core.tasks[c]
            do throws(MachineError) { try prepareFirstReturn(&task) } catch {
                out.error = "schedule: \(error.message)"
                return
            }
            task.kernelContext?.restore(into: &machine.cpu)
            task.kernelContext = nil
            core.tasks[c] = task
            machine.noteCPLChange(from: 3)
        }
        schedule(reason: "yield", keepHead: true, &out)
        performReturn(&out)
    }
}
