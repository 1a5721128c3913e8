// Traps: the kernel's exception and interrupt handlers, reached when the CPU model delivered an event to an
// entry the kernel knows. A short decision tree:
//
//   #PF  user or kernel access to a not-present page inside a VMA that allows it -> demand paging: map a
//        fresh frame, IRET, retry the access (the #PF stays listed among the step's faults)
//        write to a present read-only page inside a VMA with `w` -> write-protect fault (do_wp_page): the
//        leaf gets R/W=1 (a copy-on-write frame still shared is copied first), IRET, retry (when that alone
//        lets the write through)
//        user fault otherwise -> SIGSEGV; kernel fault otherwise -> oops (the task dies with SIGKILL)
//   #GP and other exceptions from ring 3 -> the Linux signal (#DE SIGFPE, #UD SIGILL, #BP/#DB SIGTRAP, ...);
//        on x86_64 from rings 1 and 2 as well (user_mode() tests CS.RPL != 0 there)
//   vector 15, and #MF/#XM from user mode with the initial FPU state -> no signal, the kernel returns
//   #NM -> CR0.TS set: cleared, the kernel returns; clear: die(), the task is killed (SIGSEGV)
//   an exception in kernel mode (no fix-up) -> oops, the task dies
//   #DF, NMI, #MC -> the CPU stays at the handler (Linux panics / handles them outside this model)
//   INT n on a vector whose exception pushes an error code (10-14, 17, 21) -> refused: no error code was
//        pushed, and Linux's entry would misread the frame
//   IRQ 0x20 timer, 0x21-0x2f other PIC lines -> tick / acknowledge, then the return path
//
// A task killed by a signal leaves the CPU through schedule() with reason `signal`.

extension System {
    /// The default signal of an exception raised in user mode (arch/x86/kernel/traps.c). #MF and #XM are
    /// not here: their handler sends a signal only for a pending unmasked FPU exception (`spuriousReturn`).
    static func signal(for vector: UInt8) -> String? {
        switch vector {
        case 0, 9: "SIGFPE"
        case 1, 3: "SIGTRAP"
        case 4, 5, 10, 13, 14: "SIGSEGV"
        case 6: "SIGILL"
        case 11, 12, 17: "SIGBUS"
        default: nil
        }
    }

    /// Why Linux's handler for `vector` returns without a signal, or nil when it does not:
    /// - 15: exc_spurious_interrupt_bug does nothing (a Pentium Pro erratum: "it's safe to ignore"), in any mode.
    /// - 16 (#MF), 19 (#XM) from user mode: math_error (arch/x86/kernel/traps.c) asks fpu__exception_code for
    ///   the pending unmasked exception (x87: `swd & ~cwd`; SSE: `~(mxcsr >> 7) & mxcsr`) and, finding none,
    ///   returns ("Retry when we get spurious exceptions"). The model's tasks run no FPU instructions, so their
    ///   FPU state is the initial one (FCW 0x37f and MXCSR 0x1f80 mask everything, no flag set): `int 16` or
    ///   `int 19` through a gate opened to ring 3 (or an interrupt on that vector) is always spurious there.
    ///   In kernel mode math_error oopses (no fix-up), as the other exceptions do.
    static func spuriousReturn(for vector: UInt8, userMode: Bool) -> String? {
        switch vector {
        case 15: "exc_spurious_interrupt_bug ignores vector 15 (spurious APIC interrupt erratum)"
        case 16 where userMode: "math_error finds no unmasked x87 exception pending (spurious #MF)"
        case 19 where userMode: "math_error finds no unmasked SIMD exception pending (spurious #XM)"
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
        if ExceptionVector(rawValue: vector)?.pushesErrorCode == true && fault == nil {
            // INT n on an error-code exception vector (a gate the scenario opened to ring 3) pushes no error
            // code (INT-11), but Linux's entry for the vector takes the top of the frame as one (idtentry
            // has_error_code=1, arch/x86/entry/entry_{32,64}.S: "Hardware pushed error code on stack"): the
            // handler would read the saved EIP as the error code and the rest of the frame one slot off.
            machine.unsupported = "INT \(vector) reached Linux's \(LinuxLayout.handlerName(vector)) without an error code: "
                + "the CPU pushes none for INT n (INT-11), and the entry would read the saved EIP as one and the rest of the frame one slot off"
            machine.trace.record(.kernelAction("\(LinuxLayout.handlerName(vector)) entered by INT \(vector), which pushed no error code: Linux would misread the frame (not modelled); the CPU stays at the handler"))
            return false
        }
        let c = core.current
        enterFromUser(user, path: .iret(skip: errorWidth))
        if vector == 14, let f = fault {
            let address = f.cr2 ?? machine.cpu.cr2
            if isSpuriousKernelFault(address, errorCode: f.errorCode ?? 0, ac: user.rflags & RFLAGS.ac != 0) {
                machine.paging.tlb.invlpg(address)
                machine.trace.record(.kernelAction("spurious kernel fault: the kernel page tables already allow the access (a stale TLB entry); the kernel returns and the access is retried (spurious_kernel_fault)"))
                performReturn(&out)
                return true
            }
            if demandPage(address, errorCode: f.errorCode ?? 0, ac: user.rflags & RFLAGS.ac != 0) {
                performReturn(&out)
                return true
            }
        }
        guard c != 0 else {
            machine.trace.record(.kernelAction("oops in the idle task: the kernel would panic; the CPU stays at the handler"))
            return false
        }
        if vector == 14, let f = fault, isBadPagetable(f) {
            // do_user_addr_fault (arch/x86/mm/fault.c): "Reserved bits are never expected to be set on entries in
            // the user portion of the page tables" -> pgtable_bad -> __die("Bad pagetable") -> oops_end(SIGKILL),
            // whatever the mode of the access: the task dies, no catchable SIGSEGV.
            killAndSwitch(c, "SIGKILL", saying: "oops: Bad pagetable (a reserved bit in a user-space paging entry, pgtable_bad); \(core.tasks[c].name) is killed (SIGKILL)", &out)
            return false
        }
        // Linux's user_mode(regs) (arch/x86/include/asm/ptrace.h): RPL 3 in the saved CS on i386 (`>= USER_RPL`),
        // any non-zero RPL on x86_64 (`!!(regs->cs & 3)`), so there an exception from ring 1 or 2 is signalled
        // as a user one. A page fault also needs U/S in its error code: a CPL 1-2 access is a supervisor one,
        // and __bad_area_nosemaphore oopses for it ("Implicit user access to kernel memory -- just oops").
        let userMode = machine.mode == .x86_64 ? fromCPL != 0 : fromCPL == 3
        if vector == 7 {
            // exc_device_not_available (arch/x86/kernel/traps.c), with no XFD and an FPU present: "This should
            // not happen". CR0.TS set (a hardware task switch sets it, TASK-4) -> WARN, clear TS and carry on;
            // otherwise die("unexpected #NM exception"), an oops in either mode: the task dies with SIGSEGV.
            if machine.cpu.cr0 & CR0.ts != 0 {
                machine.cpu.cr0 &= ~CR0.ts
                machine.trace.record(.kernelAction("#NM: exc_device_not_available finds CR0.TS set (WARN \"CR0.TS was set\"), clears it and returns; no signal"))
                returnFromKernel(&out)
                return false
            }
            killAndSwitch(c, "SIGSEGV", saying: "oops: die(\"unexpected #NM exception\") (exc_device_not_available, CR0.TS clear); \(core.tasks[c].name) is killed (SIGSEGV)", &out)
            return false
        }
        if let reason = System.spuriousReturn(for: vector, userMode: userMode) {
            machine.trace.record(.kernelAction("\(ExceptionVector(rawValue: vector)?.description ?? "vector \(vector)"): \(reason); no signal, the kernel returns"))
            returnFromKernel(&out)
            return false
        }
        if vector == 14 ? fromCPL == 3 : userMode {
            let sig = System.signal(for: vector) ?? "SIGSEGV"
            if System.signal(for: vector) == nil {
                machine.unsupported = "the kernel's handling of \(ExceptionVector(rawValue: vector)?.description ?? "vector \(vector)") from user mode"
            }
            kill(c, sig, saying: "\(ExceptionVector(rawValue: vector)?.description ?? "vector \(vector)") from user mode: \(sig) to \(core.tasks[c].name)", &out)
        } else {
            // oops_end(flags, regs, sig) ends the task with do_exit(sig): page_fault_oops (arch/x86/mm/fault.c)
            // passes SIGKILL, die()/die_addr() (arch/x86/kernel/traps.c, every other exception) SIGSEGV.
            let sig = vector == 14 ? "SIGKILL" : "SIGSEGV"
            kill(c, sig, saying: "oops: \(ExceptionVector(rawValue: vector)?.description ?? "vector \(vector)") in kernel mode with no fix-up; \(core.tasks[c].name) is killed (\(sig))", &out)
        }
        schedule(reason: "signal", &out)
        performReturn(&out)
        return false
    }

    /// Ends task `c` with signal `sig` for a fault the kernel does not return from (a user-mode fault's signal, or
    /// an oops's do_exit): records `line` in the trace, reports the signal, and exits the task. The caller schedules.
    mutating func kill(_ c: Int, _ sig: String, saying line: String, _ out: inout StepOutcome) {
        machine.trace.record(.kernelAction(line))
        out.signal = sig
        doExit(c, code: 0, signal: sig, &out)
    }

    /// `kill`, then schedule() with the reason `signal` and the return to whichever task runs next.
    mutating func killAndSwitch(_ c: Int, _ sig: String, saying line: String, _ out: inout StepOutcome) {
        kill(c, sig, saying: line, &out)
        schedule(reason: "signal", &out)
        performReturn(&out)
    }

    /// The end of user space as the page-fault handler splits addresses (arch/x86/mm/fault.c fault_in_kernel_space:
    /// `address >= TASK_SIZE_MAX`): PAGE_OFFSET in ia32; in x86_64 one page below the end of the lower canonical
    /// half, (1 << 47) - PAGE_SIZE, so the last page below 2^47 is handled as a kernel address.
    var userSpaceTop: UInt64 { machine.mode == .ia32 ? 0xC000_0000 : 0x0000_7FFF_FFFF_F000 }

    /// do_kern_addr_fault's spurious_kernel_fault (arch/x86/mm/fault.c): a fault on a kernel address whose error
    /// code is exactly P|W or P|I/D ("Only writes to RO or instruction fetches from NX may cause spurious
    /// faults") while the page tables in memory allow that access came from a stale TLB entry (SDM Vol. 3A
    /// §4.10.4.3): the kernel returns and the access is retried. Linux checks the PTE and the PMD; the model
    /// checks every level's R/W or XD.
    func isSpuriousKernelFault(_ address: UInt64, errorCode: UInt32, ac: Bool) -> Bool {
        let write = PageFaultCode.present | PageFaultCode.write, fetch = PageFaultCode.present | PageFaultCode.instructionFetch
        guard address >= userSpaceTop, errorCode == write || errorCode == fetch else { return false }
        // The retry must succeed: the whole check (WP, SMEP, SMAP), not only the R/W or XD Linux looks at.
        return leafAllowing(address, MemoryAccess(errorCode == write ? .write : .fetch, cpl: 0), ac: ac) != nil
    }

    /// The leaf entry of `address`'s translation in the page tables in memory when `access` would pass every
    /// check on it now (R/W, U/S, XD, WP, SMEP, SMAP with EFLAGS.AC = `ac`, protection keys), so that a fault
    /// on it came from a stale TLB entry and a retry succeeds; nil when the walk fails or the access would
    /// fault again.
    func leafAllowing(_ address: UInt64, _ access: MemoryAccess, ac: Bool) -> UInt64? {
        let c = pagingControlForKernel
        guard c.mode != .off else { return nil }
        var control = machine.pagingControl
        control.ac = ac
        guard let (rights, leaf) = machine.paging.rights(for: address, cr3: control.cr3, mode: c.mode, pse: c.pse, nxe: c.nxe),
              PagingUnit.rightsFault(rights, linear: address, access: access, control: control, cached: false) == nil
        else { return nil }
        return leaf.value
    }

    /// A #PF with RSVD on a user-space address: Linux's do_user_addr_fault calls pgtable_bad before anything
    /// else (arch/x86/mm/fault.c). A kernel-space address goes to do_kern_addr_fault instead, where a fault
    /// from user mode is a plain SIGSEGV.
    func isBadPagetable(_ fault: Fault) -> Bool {
        guard (fault.errorCode ?? 0) & PageFaultCode.reserved != 0 else { return false }
        return (fault.cr2 ?? machine.cpu.cr2) < userSpaceTop
    }

    /// do_user_addr_fault's good-area path (arch/x86/mm/fault.c): an address inside a VMA that allows the
    /// access (access_error) goes to handle_mm_fault. A not-present page is demand paged; a write to a present
    /// page of a VMA with VM_WRITE is a write-protect fault (`resolveWriteProtect`). `ac`: EFLAGS.AC of the
    /// faulting access (SMAP).
    mutating func demandPage(_ address: UInt64, errorCode: UInt32, ac: Bool) -> Bool {
        let present = errorCode & 1 != 0, write = errorCode & 2 != 0
        guard core.current != 0 else { return false }
        guard address < userSpaceTop else { return false }
        // A not-present page below a stack VMA: the stack grows down to it first (expand_stack), then the
        // good-area checks below apply to the grown VMA. Kernel code grows a stack only from an instruction
        // with an exception-table entry (copy_to_user and friends: `userRangeOK`), Linux 6.5's
        // lock_mm_and_find_vma; an `access` at CPL 0 is kernel code with no fix-up, so it does not.
        let user = errorCode & PageFaultCode.user != 0
        // do_user_addr_fault (arch/x86/mm/fault.c) oopses before it looks for a VMA when the fault is a kernel
        // instruction fetch from a user address (error code I/D without U/S) or, under SMAP, a supervisor access
        // with EFLAGS.AC=0: such a page is not demand paged.
        if !user && (errorCode & PageFaultCode.instructionFetch != 0 || (machine.pagingControl.smap && !ac)) { return false }
        guard let vma = core.currentTask.vmas.first(where: { $0.contains(address) }) ?? (present || !user ? nil : expandStack(to: address))
        else { return false }
        // access_error: a present page is a protection fault; only a write to a VMA with VM_WRITE is handled.
        if present { return resolveWriteProtect(address, errorCode: errorCode, vma: vma, ac: ac) }
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

    /// Linux's stack growth (mm/mmap.c expand_downwards, reached from do_user_addr_fault's
    /// lock_mm_and_find_vma for user and kernel faults alike): an address in no VMA, whose next VMA above
    /// is a stack declared `grows_down: true` (VM_GROWSDOWN; without it the format's "SIGSEGV for a user
    /// fault outside" a VMA holds), makes that VMA start at the address's page when
    /// - the page is at or above mmap_min_addr (0x10000),
    /// - the grown stack is at most RLIMIT_STACK (8 MiB, the default) long, and
    /// - the VMA below the new start, unless it is a stack itself or has no permission at all, ends at
    ///   least stack_guard_gap (256 pages, 1 MiB) below it.
    /// Returns the grown VMA, or nil (the fault is then a bad-area fault: SIGSEGV or an oops, or -EFAULT for
    /// a system call's buffer). Linux 4.20 and later: no check against the stack pointer.
    mutating func expandStack(to address: UInt64) -> VMA? {
        let c = core.current
        guard c != 0 else { return nil }
        let vmas = core.tasks[c].vmas
        guard !vmas.contains(where: { $0.contains(address) }),
              let i = vmas.indices.filter({ vmas[$0].start > address }).min(by: { vmas[$0].start < vmas[$1].start }),
              vmas[i].growsDown else { return nil }
        let page = address & ~0xFFF
        let rlimitStack: UInt64 = 8 << 20
        guard page >= System.mmapMinAddress, vmas[i].end - page <= rlimitStack else { return nil }
        if let prev = vmas.filter({ $0.end <= address }).max(by: { $0.end < $1.end }),
           prev.segment != .stack, prev.accessible, page - prev.end < System.stackGuardGap {
            return nil
        }
        let old = vmas[i].start
        core.tasks[c].vmas[i].start = page
        machine.trace.record(.kernelAction("stack growth: \(core.tasks[c].name)'s stack VMA grows down from 0x\(String(old, radix: 16)) to 0x\(String(page, radix: 16)) (expand_stack)"))
        return core.tasks[c].vmas[i]
    }

    /// do_wp_page (mm/memory.c): a write (error code P|W, with U or not) to a present page whose leaf has
    /// R/W=0, inside a VMA with VM_WRITE. Linux does not signal: it makes the page writable (a private page
    /// shared after fork is copied first). With `kernel: {fork: cow}` a frame fork shared is copied or reused
    /// (CopyOnWrite.swift); otherwise the model's private VMA pages are never shared (fork copies them
    /// eagerly) and explicit `pages` are shared mappings (fork shares their frames), so the page is reused in
    /// place (wp_page_reuse / wp_page_shared): the leaf gets R/W=1, its TLB entry is dropped, and the access is
    /// retried. Returns false (nothing changed) unless that alone lets the write through.
    mutating func resolveWriteProtect(_ address: UInt64, errorCode: UInt32, vma: VMA, ac: Bool) -> Bool {
        if isSpuriousWriteFault(address, errorCode: errorCode, vma: vma, ac: ac) {
            // handle_pte_fault (mm/memory.c): the PTE is present and already writable, so there is nothing to
            // do but drop the stale TLB entry (flush_tlb_fix_spurious_fault) and return; the retry succeeds.
            machine.paging.tlb.invlpg(address)
            machine.trace.record(.kernelAction("spurious write fault: the page tables already allow the write (a stale TLB entry); the kernel flushes it and returns (flush_tlb_fix_spurious_fault)"))
            return true
        }
        guard let leaf = writeProtectedLeaf(address, errorCode: errorCode, vma: vma, ac: ac) else { return false }
        return resolveWriteProtectedLeaf(leaf, address, vma: vma)
    }

    /// A write fault (P|W, with U or not) inside a VMA with VM_WRITE whose translation in memory allows the
    /// write: the fault came from a TLB entry cached before the entries were loosened (SDM Vol. 3A §4.10.4.3,
    /// a "spurious" page fault). Linux's handle_pte_fault finds the PTE writable and only flushes the entry.
    func isSpuriousWriteFault(_ address: UInt64, errorCode: UInt32, vma: VMA, ac: Bool) -> Bool {
        let pw = PageFaultCode.present | PageFaultCode.write
        guard vma.write, errorCode & pw == pw, errorCode & ~(pw | PageFaultCode.user) == 0,
              let leaf = leafAllowing(address, MemoryAccess(.write, cpl: errorCode & PageFaultCode.user != 0 ? 3 : 0), ac: ac)
        else { return false }
        return leaf & PageTableEntry.writable != 0
    }

    /// The leaf a write-protect fault at `address` would make writable, or nil when the fault is not one the
    /// kernel resolves that way: RSVD, I/D or PK in the error code, a VMA without `w`, a leaf already writable
    /// (an upper level has R/W=0), a supervisor page or upper level for a user write, or SMAP refusing a
    /// supervisor write (`ac`: EFLAGS.AC of the access). Linux never builds such tables for a user VMA, and
    /// fixing its leaf would not end the fault (Linux would retry it forever): the caller signals or oopses.
    func writeProtectedLeaf(_ address: UInt64, errorCode: UInt32, vma: VMA, ac: Bool) -> (entryAddress: UInt64, value: UInt64, pageSize: UInt64)? {
        let pw = PageFaultCode.present | PageFaultCode.write
        guard vma.write, errorCode & pw == pw, errorCode & ~(pw | PageFaultCode.user) == 0 else { return nil }
        let c = pagingControlForKernel
        guard c.mode != .off else { return nil }
        var control = machine.pagingControl
        control.ac = ac
        guard let (rights, leaf) = machine.paging.rights(for: address, cr3: control.cr3, mode: c.mode, pse: c.pse, nxe: control.nxe,
                                                          leafBits: PageTableEntry.writable),
              leaf.value & PageTableEntry.writable == 0 else { return nil }
        let access = MemoryAccess(.write, cpl: errorCode & PageFaultCode.user != 0 ? 3 : 0)
        guard PagingUnit.rightsFault(rights, linear: address, access: access, control: control, cached: false) == nil else { return nil }
        return leaf
    }

    /// Sets R/W in a leaf `writeProtectedLeaf` found and drops the TLB's translation of `address`; false when
    /// the entry cannot be written (nothing changed).
    mutating func makeWritable(_ leaf: (entryAddress: UInt64, value: UInt64, pageSize: UInt64), _ address: UInt64, vma: VMA) -> Bool {
        do throws(MachineError) {
            try machine.paging.writeEntry(at: leaf.entryAddress, value: leaf.value | PageTableEntry.writable, width: EntryWidth(pagingControlForKernel.mode))
        } catch {
            return false
        }
        machine.paging.tlb.invlpg(address)
        let page = address & ~(leaf.pageSize - 1)
        machine.trace.record(.kernelAction("write-protect fault: made page 0x\(String(page, radix: 16)) of \(core.currentTask.name)'s \(vma.segment.rawValue) VMA (\(vma.perm)) writable (do_wp_page)"))
        return true
    }
}
