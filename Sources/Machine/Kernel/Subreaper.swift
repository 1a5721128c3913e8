// Subreaper: who adopts the children of an exiting task (kernel/exit.c find_new_reaper) and the prctl options
// that decide it (kernel/sys.c: PR_SET_CHILD_SUBREAPER 36, PR_GET_CHILD_SUBREAPER 37).
//
// An exiting task's children go to the nearest ancestor (its parent, grandparent, ...) that has set
// is_child_subreaper and is not itself exiting; with none, to the namespace's child reaper, init (pid 1).
// The model knows no ancestors above a declared task without `parent` (its real parent is outside the
// scenario): none of them is taken to be a subreaper, as before this prctl existed. A forked child does not
// inherit the flag (copy_signal allocates a zeroed signal_struct). Every other prctl option touches state the
// model does not have (names, seccomp, capabilities, dumpable, ...): refused as not modelled, not -EINVAL.

extension System {
    static let prSetChildSubreaper: Int64 = 36
    static let prGetChildSubreaper: Int64 = 37

    /// prctl(option, arg2, ...): `option` is an int (the low 32 bits), arg2 an unsigned long.
    mutating func sysPrctl(option: Int64, _ arg2: UInt64, _ out: inout StepOutcome) -> SyscallResult {
        let c = core.current
        switch option {
        case System.prSetChildSubreaper:
            // me->signal->is_child_subreaper = !!arg2
            core.tasks[c].isChildSubreaper = arg2 != 0
            machine.trace.record(.kernelAction("\(core.tasks[c].name) \(arg2 != 0 ? "becomes" : "is no longer") a child subreaper"))
            return .value(0)
        case System.prGetChildSubreaper:
            // put_user(me->signal->is_child_subreaper, (int __user *)arg2)
            guard userRangeOK(arg2, 4, write: true),
                  poke(arg2, value: core.tasks[c].isChildSubreaper ? 1 : 0, size: 4, cr3: machine.cpu.cr3) else {
                return .value(-KernelErrno.EFAULT)
            }
            return .value(0)
        default:
            out.error = "not modelled: prctl(\(option), ...): the model serves only PR_SET_CHILD_SUBREAPER (36) and PR_GET_CHILD_SUBREAPER (37)"
            return .value(-KernelErrno.EINVAL)
        }
    }

    /// find_new_reaper: the pid of the task that adopts the children of exiting task `i`, or 0 when nobody
    /// can (no live init: Linux would have panicked when init exited). The walk starts at `i`'s parent.
    func newReaper(forChildrenOf i: Int) -> Int64 {
        var seen: Set<Int64> = [core.tasks[i].pid]
        var pid = core.tasks[i].parent
        while pid > 1, !seen.contains(pid), let a = core.index(pid: pid) {
            if core.tasks[a].isChildSubreaper && core.tasks[a].state != .zombie { return pid }
            seen.insert(pid)
            pid = core.tasks[a].parent
        }
        return core.index(pid: 1).map { core.tasks[$0].state != .zombie && $0 != i ? 1 : 0 } ?? 0
    }
}
