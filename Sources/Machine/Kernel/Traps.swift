// Traps: the kernel's exception and interrupt handlers, reached when the CPU model delivered an event to an
// entry the kernel knows. A short decision tree:
//
//   #PF  user or kernel access to a not-present page inside a VMA that allows it -> demand paging: map a
//        fresh frame, IRET, retry the access (the #PF stays listed among the step's faults)
//        user fault otherwise -> SIGSEGV; kernel fault otherwise -> oops (the task dies with SIGSEGV)
//   #GP and other exceptions from ring 3 -> the Linux signal (#DE SIGFPE, #UD SIGILL, #BP/#DB SIGTRAP, ...)
//   an exception in kernel mode (no fix-up) -> oops, the task dies
//   #DF, NMI, #MC -> the CPU stays at the handler (Linux panics / handles them outside this model)
//   IRQ 0x20 timer, 0x21-0x2f other PIC lines -> tick / acknowledge, then the return path
//
// A task killed by a signal leaves the CPU through schedule() with reason `signal`.

extension System {
    /// The default signal of an exception raised in user mode (arch/x86/kernel/traps.c).
    static func signal(for vector: UInt8) -> String? {
        switch vector {
        case 0, 16, 19: "SIGFPE"
        case 1, 3: "SIGTRAP"
        case 4, 5, 10, 13, 14: "SIGSEGV"
        case 6: "SIGILL"
        case 11, 12, 17: "SIGBUS"
        default: nil
        }
    }

    /// The CPU delivered `vector` (after `faults`); if it landed on the kernel's handler, run it.
    /// Returns true when the faulting access should be retried (demand paging fixed it).
    mutating func kernelEntered(vector: UInt8, faults: [Fault], user: TaskContext, _ out: inout StepOutcome) -> Bool {
        let l = core.layout
        guard machine.cpu.rip == l.vectorEntry(vector) || (vector == 0x80 && machine.cpu.rip == l.int80Entry) else {
            machine.trace.record(.note("vector 0x\(String(vector, radix: 16)) was delivered to 0x\(String(machine.cpu.rip, radix: 16)), which is not the kernel's handler: the CPU stays there"))
            return false
        }
        let fromCPL = machine.lastDelivery?.fromCPL ?? user.cpl
        let fault = faults.last(where: { $0.vector.rawValue == vector })
        let errorWidth: UInt64 = ExceptionVector(rawValue: vector)?.pushesErrorCode == true && fault != nil ? (machine.longMode ? 8 : 4) : 0
        if vector >= 0x20 && vector < 0x30 {
            // An IRQ line reached through a software INT from ring 0, or after a fault during delivery.
            enterFromUser(user, path: .iret(skip: 0))
            if vector == 0x20 { timerTick(&out) }
            returnFromKernel(&out)
            return false
        }
        if vector == 0x80 {
            // int 0x80 entered after an earlier fault: treat as a system call with the registers as they are.
            syscallEntered(.int80, user: user, nextIP: user.rip, childName: nil, &out)
            return false
        }
        switch vector {
        case 2, 8, 18:
            machine.trace.record(.kernelAction("\(LinuxLayout.handlerName(vector)): the kernel would panic or handle this outside the model; the CPU stays at the handler"))
            return false
        default:
            break
        }
        let c = core.current
        enterFromUser(user, path: .iret(skip: errorWidth))
        if vector == 14, let f = fault {
            let address = f.cr2 ?? machine.cpu.cr2
            if demandPage(address, errorCode: f.errorCode ?? 0, fromUser: fromCPL == 3) {
                performReturn(&out)
                return true
            }
        }
        guard c != 0 else {
            machine.trace.record(.kernelAction("oops in the idle task: the kernel would panic; the CPU stays at the handler"))
            return false
        }
        if fromCPL == 3 {
            let sig = System.signal(for: vector) ?? "SIGSEGV"
            if System.signal(for: vector) == nil {
                machine.unsupported = "the kernel's handling of \(ExceptionVector(rawValue: vector)?.description ?? "vector \(vector)") from user mode"
            }
            machine.trace.record(.kernelAction("\(ExceptionVector(rawValue: vector)?.description ?? "vector \(vector)") from user mode: \(sig) to \(core.tasks[c].name)"))
            out.signal = sig
            doExit(c, code: 0, signal: sig, &out)
        } else {
            machine.trace.record(.kernelAction("oops: \(ExceptionVector(rawValue: vector)?.description ?? "vector \(vector)") in kernel mode with no fix-up; \(core.tasks[c].name) is killed"))
            out.signal = "SIGSEGV"
            doExit(c, code: 0, signal: "SIGSEGV", &out)
        }
        schedule(reason: "signal", &out)
        performReturn(&out)
        return false
    }

    /// do_page_fault's good-area path: a not-present page inside a VMA that allows the access (access_error).
    mutating func demandPage(_ address: UInt64, errorCode: UInt32, fromUser: Bool) -> Bool {
        let present = errorCode & 1 != 0, write = errorCode & 2 != 0
        guard !present, core.current != 0 else { return false }
        let top: UInt64 = machine.mode == .ia32 ? 0xC000_0000 : 0x0000_8000_0000_0000
        guard address < top, let vma = core.currentTask.vmas.first(where: { $0.contains(address) }) else { return false }
        // access_error: a write needs VM_WRITE; a read or a fetch only an accessible VMA. A fetch from a page
        // without `x` is mapped (with XD when NXE is on) and then faults again, present, as a protection fault.
        guard write ? vma.write : vma.accessible else { return false }
        let page = address & ~0xFFF
        do throws(MachineError) {
            try populate(VMA(segment: vma.segment, start: page, end: page + 0x1000, read: vma.read, write: vma.write, execute: vma.execute),
                         cr3: machine.cpu.cr3)
        } catch {
            return false
        }
        machine.trace.record(.kernelAction("demand paging: mapped page 0x\(String(page, radix: 16)) of \(core.currentTask.name)'s \(vma.segment.rawValue) VMA (\(vma.perm))"))
        return true
    }
}
