// copy_from_user / copy_to_user through a paging entry with a reserved bit. The kernel's access takes #PF
// with P=1|RSVD (U=0, W for copy_to_user; PG-12), and do_user_addr_fault (arch/x86/mm/fault.c) checks RSVD
// before anything else, the exception table included: "Reserved bits are never expected to be set on entries
// in the user portion of the page tables" -> pgtable_bad -> __die("Bad pagetable") -> oops_end(SIGKILL).
// So the system call never returns: the task dies with SIGKILL, as for a user or kernel access to that page
// (Traps.swift). The copy is stopped here (userRangeOK answers false from then on) and the dispatch kills
// the task once the call's function has returned.

extension System {
    /// The kernel's copy of the page holding `addr`, whose walk stops at a reserved bit (the caller's
    /// `PagingUnit.probe`), oopses: records the #PF it takes and answers true. Armed only while a system
    /// call's function runs (`copyOopsArmed`); false otherwise.
    mutating func userCopyHitsBadPagetable(_ addr: UInt64, write: Bool) -> Bool {
        guard copyOopsArmed else { return false }
        if copyOops != nil { return true }
        let code = PageFaultCode.present | PageFaultCode.reserved | (write ? PageFaultCode.write : 0)
        let f = Fault(.PF, code: code, cr2: addr, rule: "PG-12",
                      "the kernel's \(write ? "copy_to_user" : "copy_from_user") touches 0x\(String(addr, radix: 16)), whose paging entry sets a reserved bit")
        machine.cpu.cr2 = addr
        machine.trace.record(.fault(f))
        kernelAccessFaults.append(f)
        copyOops = f
        return true
    }

    /// After the call's function: the oops a copy's reserved-bit fault causes (pgtable_bad), if any. Kills the
    /// current task with SIGKILL and says so; the caller then schedules with the reason `signal`.
    mutating func takeUserCopyOops(_ out: inout StepOutcome) -> Bool {
        copyOopsArmed = false
        guard copyOops != nil else { return false }
        copyOops = nil
        let c = core.current
        guard core.tasks[c].state != .zombie else { return false }
        kill(c, "SIGKILL", saying: "oops: Bad pagetable (a reserved bit in a user-space paging entry, pgtable_bad) during a system call's user copy; the exception table is not consulted; \(core.tasks[c].name) is killed (SIGKILL)", &out)
        return true
    }
}
