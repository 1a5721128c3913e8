// Syscalls: the system-call path and the kernel functions behind the tables. A `syscall` step loads the
// ABI registers (ABI-1, ABI-2), executes the entry instruction through the CPU model, and — when the CPU
// lands on a kernel entry — dispatches through the table of that entry, runs the function, and returns
// with the instruction matching the entry (IRET, SYSEXIT, SYSRET), after schedule() when need_resched.
//
// Choices:
// - read(): fds 0-2 are the terminal, whose input is `kernel.stdin`, read a line at a time (canonical
//   mode, TerminalRead.swift); at its end read returns 0 (EOF), it never blocks. Writing to them prints; /dev/null discards; a declared file is written at the file
//   position (O_APPEND: at the end). Only the bytes really copied must be accessible.
// - execve and x86_64 stat resolve their path (-EFAULT, -ENOENT); an existing file is refused (no program
//   loader, no inode metadata).
// - nanosleep(req): a first argument below 4096 (never a valid user pointer) is a tick count; otherwise it
//   points to a struct timespec converted at HZ = 100, rounded up.
// - fork copies every mapped page of the parent's VMAs eagerly (no copy-on-write); explicit `pages` and
//   MAP_SHARED mappings are shared (same frames).
// - wait4 reaps: a reaped child keeps the state `zombie` in the model (there is no "dead" state).
// - kill and wait4 refuse process groups (pid 0 for kill, pid < -1 for both): the model has none.
// - A bad user pointer gives -EFAULT when it is outside user space (access_ok) or its page is neither
//   mapped for user access nor inside a VMA with the permission (copy_from_user / copy_to_user). A page
//   inside a VMA that is not present is faulted in, as the kernel's own page-fault handler would.

/// What a kernel function did.
enum SyscallResult {
    case value(Int64)
    /// The task blocked; its return value is set when it is woken.
    case blocked
    /// The task is gone (exit, killed).
    case noReturn
}

extension System {
    /// The registers of an ABI, in argument order.
    static func argumentRegisters(_ abi: SyscallABI, compatSyscall: Bool = false) -> [GPR] {
        switch abi {
        case .i386: compatSyscall ? [.rbx, .rbp, .rdx, .rsi, .rdi, .rsp] : [.rbx, .rcx, .rdx, .rsi, .rdi, .rbp]
        case .x86_64: [.rdi, .rsi, .rdx, .r10, .r8, .r9]
        }
    }

    /// A `syscall` step.
    mutating func syscallStep(via: SyscallEntryKind, nr: Int64, args: [SyscallArgument], childName: String?, name: String? = nil,
                              _ out: inout StepOutcome) {
        guard kernelEnabled else {
            out.error = "kernel: none has no system calls (use `exec: \"int 0x80\"` to run the instruction on the bare CPU)"
            return
        }
        guard core.current != 0 else {
            out.error = "no task is running (the CPU is idle): a system call needs a user task"
            return
        }
        if args.count > 6 { out.error = "a system call takes at most 6 arguments"; return }
        defer { vdsoCall = false }
        noteUserMode()
        // The ABI is the mode the task runs in now (CS.L), not its `bits`: a far return may have taken a 32-bit
        // task into 64-bit code, or a 64-bit one into compatibility mode, and SYSCALL then reaches the entry of
        // that mode (entry_SYSCALL_64 and the x86_64 table, or entry_SYSCALL_compat and the i386 table).
        let narrow = !machine.in64BitMode
        if via == .sysenter && (!narrow || core.currentTask.bits == 64) {
            // The sysenter path of a system call is the 32-bit vDSO's __kernel_vsyscall; a 64-bit task has no
            // 32-bit vDSO, and 64-bit code cannot call one (on AMD SYSENTER is #UD in 64-bit mode). Refused
            // rather than run half-way.
            out.error = "`via: sysenter` is the 32-bit vDSO's entry: a 64-bit task, or a task running 64-bit code, enters the kernel with `via: syscall` (or `via: int80`); `exec: \"sysenter\"` runs the bare instruction"
            return
        }
        // A 32-bit task's SYSCALL (AMD, compatibility mode) enters entry_SYSCALL_compat, whose ABI keeps
        // argument 2 in EBP (SYSCALL overwrites ECX) and argument 6 at 0(%esp) on the user stack (ABI-1).
        let compatSyscall = via == .syscall && machine.longMode && narrow
        // A name given with `via: syscall` was looked up in the x86_64 table; a 32-bit task's SYSCALL
        // enters entry_SYSCALL_compat, which dispatches through the i386 table (ABI-1).
        var nr = nr
        if compatSyscall, let name {
            guard let n = SyscallTable.number(of: name, table: .i386) else {
                out.error = "'\(name)' is not in the i386 table, through which a 32-bit task's SYSCALL is dispatched"
                return
            }
            nr = n
        }
        var regs = System.argumentRegisters(SyscallTable.abi(for: via) == .x86_64 && !narrow ? .x86_64 : .i386,
                                            compatSyscall: compatSyscall)
        if compatSyscall { regs.removeLast() }
        machine.cpu[.rax] = narrow ? UInt64(bitPattern: nr) & 0xFFFF_FFFF : UInt64(bitPattern: nr)
        for (i, a) in args.enumerated() {
            var v: UInt64
            switch a {
            case let .number(n): v = n
            case let .string(s):
                guard let addr = placeString(s) else {
                    out.error = "could not map a scratch page for the string argument"
                    return
                }
                v = addr
            }
            if narrow { v &= 0xFFFF_FFFF }
            if i < regs.count {
                machine.cpu[regs[i]] = v
            } else if !breakCopyOnWriteForUserWrites([(machine.cpu[.rsp] & 0xFFFF_FFFF, 4)], &out)
                        || !userStackWritable(machine.cpu[.rsp] & 0xFFFF_FFFF, count: 4)
                        || !poke(machine.cpu[.rsp] & 0xFFFF_FFFF, value: v, size: 4, cr3: machine.cpu.cr3) {
                out.error = "could not write argument 6 on the user stack (compat SYSCALL passes it at 0(%esp)): not modelled unless 0(%esp) is mapped present, user and writable"
                return
            }
        }
        if via == .sysenter && kernelActive && narrow {
            // __kernel_vsyscall's prologue (the 32-bit vDSO of the linux preset; `preset: none` and 64-bit
            // tasks have none) (vdso32/system_call.S): push %ecx; push %edx; push %ebp;
            // movl %esp, %ebp; sysenter. Argument 6 travels on the user stack at 0(%ebp).
            let sp = machine.cpu[.rsp] & 0xFFFF_FFFF
            let words = [machine.cpu[.rbp], machine.cpu[.rdx], machine.cpu[.rcx]].map { $0 & 0xFFFF_FFFF }
            let bytes = words.flatMap { w in (0..<4).map { UInt8((w >> (8 * UInt64($0))) & 0xFF) } }
            // The pushes are user-mode writes: the model makes them only where the leaf already allows one
            // (present, user, writable); it does not fault them in or turn them into SIGSEGV, so any other
            // stack is refused (a read-only stack used to be written through).
            guard sp >= 12, breakCopyOnWriteForUserWrites([(sp - 4, 4), (sp - 8, 4), (sp - 12, 4)], &out),
                  userStackWritable(sp - 12, count: 12), pokeBytes(sp - 12, bytes, cr3: machine.cpu.cr3) else {
                out.error = "could not push ECX, EDX, EBP on the user stack at 0x\(String(sp, radix: 16)) (the vDSO's __kernel_vsyscall): not modelled unless those 12 bytes are mapped present, user and writable"
                // The usual cause in a new scenario: `memory` replaces the default layout, stack included.
                let task = core.currentTask
                if !task.vmas.contains(where: { $0.segment == .stack }) {
                    out.error = (out.error ?? "") + "; \(task.name) has no stack VMA: a task that lists `memory` gets no default stack, so its ESP starts at 0 unless `context` sets it (add a `segment: stack` entry)"
                }
                return
            }
            machine.cpu[.rsp] = sp - 12
            machine.cpu[.rbp] = sp - 12
            vdsoCall = true
        }
        let before = TaskContext(machine.cpu)
        let instruction: Instruction = via == .int80 ? .int(0x80) : (via == .sysenter ? .sysenter : .syscall)
        let nextIP = machine.addressAfter(instruction)
        let r = machine.execute(instruction)
        out.faults += r.faults
        if let d = machine.lastDelivery { out.gate = d }
        machine.noteInt80Entry(instruction, r)
        if r.faults.isEmpty { out.entry = machine.lastEntry }
        if machine.shutdown || !kernelActive { return }
        let l = core.layout
        let landed = machine.cpu.rip
        switch (via, r.delivery) {
        case (.int80, .delivered(0x80)?) where r.faults.isEmpty && landed == l.int80Entry && machine.cpu.cpl == 0:
            syscallEntered(.int80, user: before, nextIP: nextIP, childName: childName, &out)
        case (.int80, .delivered(0x80)?) where r.faults.isEmpty:
            // The scenario's IDT sends int 0x80 somewhere else: no dispatch, as for SYSCALL/SYSENTER below.
            machine.trace.record(.note("vector 0x80 was delivered to 0x\(String(landed, radix: 16)), which is not the kernel's handler: the CPU stays there"))
            out.error = "not modelled: int 0x80 reached 0x\(String(landed, radix: 16)) (CPL \(machine.cpu.cpl)), which is no entry of the kernel model; `exec: \"int 0x80\"` runs the bare instruction"
        case (.int80, .delivered(let v)?):
            _ = kernelEntered(vector: v, faults: r.faults, user: before, &out)
        case (.sysenter, nil) where r.faults.isEmpty && landed == l.sysenterEntry:
            syscallEntered(.sysenter, user: before, nextIP: nextIP, childName: childName, &out)
        case (.syscall, nil) where r.faults.isEmpty && machine.longMode && (landed == l.entrySYSCALL_64 || landed == l.entrySYSCALL_compat):
            syscallEntered(.syscall, user: before, nextIP: nextIP, childName: childName, &out)
        case (_, .delivered(let v)?):
            _ = kernelEntered(vector: v, faults: r.faults, user: before, &out)
        default:
            machine.trace.record(.note("the entry instruction landed at 0x\(String(landed, radix: 16)), which is no kernel entry: the CPU stays there"))
            // A `syscall` step covers entry, dispatch and return; none of the kernel's entries was reached
            // (a legacy-mode SYSCALL, AMD: Linux's 32-bit kernel has no SYSCALL entry and leaves STAR 0; or
            // MSRs the scenario pointed elsewhere), so the step cannot be what it says.
            let what = via == .syscall && !machine.longMode
                ? "a legacy-mode SYSCALL (32-bit kernel): Linux i386 has no SYSCALL entry (STAR[31:0] = 0x\(String(machine.cpu.msr(MSR.star) & 0xFFFF_FFFF, radix: 16)))"
                : "\(via == .syscall ? "SYSCALL" : "SYSENTER") reached 0x\(String(landed, radix: 16)), which is no entry of the kernel model"
            out.error = "not modelled: \(what); `exec: \"\(via == .syscall ? "syscall" : "sysenter")\"` runs the bare instruction"
        }
    }

    /// Writes a NUL-terminated string into the current task's scratch page (mapped for it, no fault). The
    /// scratch area is its own VMA, at 0x70000000 when the task has nothing there, else in the highest free
    /// range below it: it never takes over (or writes into) a mapping the scenario or the task made.
    mutating func placeString(_ s: String) -> UInt64? {
        let c = core.current
        let l = core.layout
        let bytes = Array(s.utf8) + [0]
        let c3 = pagingControlForKernel
        let needed = core.scratchUsed + UInt64(bytes.count)
        let pages = max(1, (needed + 0xFFF) / 0x1000)
        let base: UInt64
        if let i = core.tasks[c].vmas.firstIndex(where: { $0.scratch }) {
            let vma = core.tasks[c].vmas[i]
            base = vma.start
            if vma.end - vma.start < pages * 0x1000 {
                let more = VMA(segment: .mmap, start: vma.end, end: base + pages * 0x1000, read: true, write: true, execute: false, scratch: true)
                guard rangeIsFree(more.start, more.end - more.start) else { return nil }
                if c3.mode != .off {
                    do throws(MachineError) { try populate(more, cr3: core.tasks[c].cr3) } catch { return nil }
                }
                core.tasks[c].vmas[i].end = more.end
            }
        } else {
            let size = pages * 0x1000
            if rangeIsFree(l.scratchBase, size) {
                base = l.scratchBase
            } else if let free = highestFreeRange(size, below: l.scratchBase) {
                base = free
            } else {
                return nil
            }
            let vma = VMA(segment: .mmap, start: base, end: base + size, read: true, write: true, execute: false, scratch: true)
            if c3.mode != .off {
                do throws(MachineError) { try populate(vma, cr3: core.tasks[c].cr3) } catch { return nil }
            }
            core.tasks[c].vmas.append(vma)
        }
        let addr = base + core.scratchUsed
        guard pokeBytes(addr, bytes, cr3: core.tasks[c].cr3) else { return nil }
        core.scratchUsed = needed
        return addr
    }

    /// The CPU has entered the kernel at a system-call entry: dispatch, run, return.
    mutating func syscallEntered(_ via: SyscallEntryKind, user: TaskContext, nextIP: UInt64, childName: String?, _ out: inout StepOutcome) {
        let l = core.layout
        let c = core.current
        guard c != 0 else {
            machine.unsupported = "a system call made by the idle task (kernel code at CPL 0); the CPU stays at the entry"
            return
        }
        // An `exec` of the entry instruction with a request held: Linux would take it inside the call.
        if let refusal = systemCallRefusalForPendingInterrupts(callerIF: user.rflags & RFLAGS.if != 0) {
            machine.unsupported = refusal + "; the CPU stays at the entry"
            return
        }
        let entryName = l.entryName(at: machine.cpu.rip) ?? "entry"
        let viaVDSO = via == .sysenter && vdsoCall
        let compatSyscall = machine.cpu.rip == l.entrySYSCALL_compat
        let abi: SyscallABI = (machine.cpu.rip == l.entrySYSCALL_64) ? .x86_64 : .i386
        switch via {
        case .int80:
            machine.lastEntry = EntryRecord(via: "int80", cs: machine.cpu.cs.selector, ss: machine.cpu.ss.selector,
                                            ip: machine.cpu.rip, sp: machine.cpu[.rsp], cpl: machine.cpu.cpl)
            enterFromUser(user, path: .iret(skip: 0))
        case .sysenter:
            // entry_SYSENTER_32/compat: EBP holds the user stack pointer (pt_regs->sp), to which the return
            // goes; the instruction after SYSENTER stands in for the vDSO's landing pad. A 32-bit kernel
            // returns with SYSEXIT (ECX = ESP, EDX = EIP); a 64-bit one with SYSRETL (ECX = EIP, R11 = flags).
            let esp = user[.rbp] & 0xFFFF_FFFF
            if machine.longMode {
                enterFromUser(user, path: .sysretl(eip: nextIP, esp: esp, flags: user.rflags | RFLAGS.if, vdso: vdsoCall))
            } else {
                enterFromUser(user, path: .sysexit(eip: nextIP, esp: esp, flags: user.rflags, vdso: vdsoCall))
            }
            vdsoCall = false
        case .syscall:
            // Back to the mode SYSCALL came from: 64-bit, compatibility (SYSRETL), or legacy (AMD, no REX.W).
            enterFromUser(user, path: .sysret(to64: machine.longMode && !compatSyscall, userRSP: user[.rsp]))
            machine.cpu[.rsp] = core.tasks[c].kernelStackTop
        }
        out.entry = machine.lastEntry
        // Dispatch (trace: entry, table, number, name, arguments).
        let narrow = abi == .i386
        let rawNR = machine.cpu[.rax]
        // i386: (unsigned int)orig_ax; x86_64: do_syscall_64(regs, int nr) takes EAX only (movslq %eax), so the
        // upper half of RAX is ignored (Linux 5.12 and later).
        let nr = narrow ? Int64(UInt32(truncatingIfNeeded: rawNR)) : Int64(Int32(truncatingIfNeeded: rawNR))
        var args = System.argumentRegisters(abi, compatSyscall: compatSyscall).map { machine.cpu[$0] }
        if narrow { args = args.map { $0 & 0xFFFF_FFFF } }
        // The fast 32-bit entries (__do_fast_syscall_32): argument 6 is fetched from 0(pt_regs->sp), where
        // the vDSO stashed EBP: for SYSENTER pt_regs->sp is the entry's EBP, for a compat SYSCALL the user's
        // ESP. The word becomes pt_regs->bp, the EBP the task gets back; when it cannot be read the call ends
        // with -EFAULT before dispatch, and the kernel returns with IRET ("If it failed, keep it simple").
        var stashFault = false
        let stashAddress: UInt64? = via == .sysenter ? user[.rbp] & 0xFFFF_FFFF : (compatSyscall ? user[.rsp] & 0xFFFF_FFFF : nil)
        if let stash = stashAddress {
            if let bytes = copyFromUser(stash, count: 4) {
                args[5] = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                machine.cpu[.rbp] = args[5]
            } else {
                stashFault = true
            }
        }
        let function = abi.entries[nr]
        let allowed = function.map { f in core.setup.syscalls.map { $0.contains(f.rawValue) } ?? true } ?? false
        machine.trace.record(.syscall(entry: entryName, table: abi.rawValue, number: nr,
                                      name: function?.rawValue ?? "ni_syscall", args: args))
        out.dispatched = DispatchedCall(name: function?.rawValue ?? "ni_syscall", table: abi.rawValue, number: nr)
        let result: SyscallResult
        if stashFault, let stash = stashAddress {
            let what = via == .sysenter ? "sysenter: 0(%ebp)" : "compat syscall: 0(%esp)"
            machine.trace.record(.kernelAction("\(what) = 0x\(String(stash, radix: 16)) cannot be read: -EFAULT; the return goes through IRET"))
            result = .value(-KernelErrno.EFAULT)
            // pt_regs as the entry built it: SYSENTER's flags with IF set (do_SYSENTER_32) and sp = EBP;
            // SYSCALL's flags from R11 and sp = ESP; ip = the landing pad (the instruction after the entry).
            let flags = via == .sysenter ? (user.rflags & ~(RFLAGS.rf | RFLAGS.vm)) | RFLAGS.if : user.rflags & ~RFLAGS.rf
            returnWithIRET(compat: machine.longMode, sp: via == .sysenter ? stash : user[.rsp] & 0xFFFF_FFFF,
                           ip: nextIP, flags: flags, vdso: viaVDSO)
        } else if let f = function, allowed {
            copyOopsArmed = true
            copyOops = nil
            let r = perform(f, args: args, narrow: narrow, childName: childName, &out)
            result = takeUserCopyOops(&out) ? .noReturn : r
        } else if function == nil, let linux = UnmodelledSyscalls.name(of: nr, table: abi) {
            // A Linux call the model does not implement: refused rather than answered with a made-up -ENOSYS.
            let why = UnmodelledSyscalls.refusal(linux, number: nr, table: abi)
            machine.trace.record(.kernelAction(why))
            out.error = why
            result = .value(-KernelErrno.ENOSYS)
        } else {
            let why = function.map { "\($0.rawValue) is not in this kernel's syscall list: -ENOSYS" }
                ?? "no system call \(nr) in the \(abi.rawValue) table: -ENOSYS"
            machine.trace.record(.kernelAction(why))
            result = .value(-KernelErrno.ENOSYS)
        }
        out.faults += kernelAccessFaults
        kernelAccessFaults.removeAll()
        switch result {
        case let .value(v):
            setReturnValue(v, narrow: machine.mode == .ia32 || core.tasks[c].bits == 32)
            // ABI-1: a 32-bit result is an error only in -4095..-1 (IS_ERR_VALUE); any other EAX is an
            // unsigned value, such as an address above 2 GiB.
            let eax = UInt32(truncatingIfNeeded: v)
            out.returns = narrow ? (eax >= 0xFFFF_F001 ? Int64(Int32(bitPattern: eax)) : Int64(eax)) : v
            machine.trace.record(.syscallReturn(name: function?.rawValue ?? "ni_syscall", value: v))
            returnFromKernel(&out, fromSyscall: true)
        case .blocked:
            schedule(reason: "blocking", &out)
            performReturn(&out)
        case .noReturn:
            schedule(reason: core.tasks[c].signal != nil ? "signal" : "exit", &out)
            performReturn(&out)
        }
    }

    /// Puts a return value in EAX/RAX of the CPU (the running task).
    mutating func setReturnValue(_ v: Int64, narrow: Bool) {
        machine.cpu[.rax] = narrow && machine.mode == .ia32 ? UInt64(UInt32(truncatingIfNeeded: v)) : UInt64(bitPattern: v)
    }

    /// Sets the return value a blocked task will see when it runs again.
    mutating func setSavedReturnValue(_ i: Int, _ v: Int64) {
        let narrow = machine.mode == .ia32
        core.tasks[i].kernelContext?[.rax] = narrow ? UInt64(UInt32(truncatingIfNeeded: v)) : UInt64(bitPattern: v)
        core.tasks[i].resumeReturn = v
    }

    // MARK: The kernel functions

    mutating func perform(_ f: KernelFunction, args a: [UInt64], narrow: Bool, childName: String?, _ out: inout StepOutcome) -> SyscallResult {
        let c = core.current
        // An `int`/`pid_t` parameter: the syscall wrapper keeps the low 32 bits of the register in both ABIs.
        func int32(_ v: UInt64) -> Int64 { Int64(Int32(truncatingIfNeeded: v)) }
        // An `unsigned int fd`: the low 32 bits, unsigned.
        func fd(_ v: UInt64) -> Int { Int(UInt32(truncatingIfNeeded: v)) }
        switch f {
        case .restart_syscall:
            // kernel/signal.c: with no interrupted call to restart, restart_block.fn is do_no_restart_syscall,
            // which returns -EINTR (the model's calls are never restarted). i386 0, x86_64 219.
            return .value(-KernelErrno.EINTR)
        case .getpid: return .value(core.tasks[c].pid)
        case .getppid: return .value(core.tasks[c].parent)
        case .write: return .value(sysWrite(fd: fd(a[0]), buf: a[1], count: a[2], &out))
        case .read: return .value(sysRead(fd: fd(a[0]), buf: a[1], count: a[2], &out))
        case .open: return .value(sysOpen(path: a[0], flags: int32(a[1]), &out))
        case .close:
            guard core.tasks[c].files.removeValue(forKey: fd(a[0])) != nil else { return .value(-KernelErrno.EBADF) }
            return .value(0)
        case .dup:
            // fs/file.c dup: the lowest free descriptor names the same open file description (-EBADF, -EMFILE).
            guard let f = core.tasks[c].files[fd(a[0])] else { return .value(-KernelErrno.EBADF) }
            var n = 0
            while core.tasks[c].files[n] != nil { n += 1 }
            guard n < System.maxOpenFiles else { return .value(-KernelErrno.EMFILE) }
            core.tasks[c].files[n] = f
            return .value(Int64(n))
        case .dup2:
            // fs/file.c dup2: newfd == oldfd returns it when open; newfd past RLIMIT_NOFILE, or oldfd not
            // open, -EBADF; an open newfd is closed first.
            let old = fd(a[0]), new = fd(a[1])
            guard let f = core.tasks[c].files[old] else { return .value(-KernelErrno.EBADF) }
            if new == old { return .value(Int64(old)) }
            guard new < System.maxOpenFiles else { return .value(-KernelErrno.EBADF) }
            core.tasks[c].files[new] = f
            return .value(Int64(new))
        case .pause:
            // Sleeps (TASK_INTERRUPTIBLE) until a signal: an `irq` that wakes the task ends it with -EINTR, as
            // for nanosleep; the model's signals have no handlers, so a kill ends the task instead.
            core.tasks[c].state = .sleeping
            core.tasks[c].sleepTicks = Int.max
            core.tasks[c].blockedOn = nil
            machine.trace.record(.kernelAction("\(core.tasks[c].name) pauses until a signal"))
            return .blocked
        case .fork: return sysFork(childName: childName, &out)
        case .prctl: return sysPrctl(option: int32(a[0]), a[1], &out)
        case .clone:
            // clone(flags, newsp, ...) in both tables (kernel/fork.c copy_process checks first): the flag
            // combinations Linux refuses are -EINVAL; flags = SIGCHLD with no new stack is fork; threads,
            // namespaces, other exit signals and a new stack are not modelled. SYSCALL_DEFINE5(clone) keeps
            // lower_32_bits(clone_flags): the upper half of a 64-bit flags register is dropped.
            let flags = a[0] & 0xFFFF_FFFF
            let cloneVM: UInt64 = 0x100, cloneFS: UInt64 = 0x200, cloneSighand: UInt64 = 0x800, cloneThread: UInt64 = 0x1_0000
            let cloneNewNS: UInt64 = 0x2_0000, cloneNewUser: UInt64 = 0x1000_0000
            if flags & (cloneNewNS | cloneFS) == cloneNewNS | cloneFS || flags & (cloneNewUser | cloneFS) == cloneNewUser | cloneFS
                || (flags & cloneThread != 0 && flags & cloneSighand == 0) || (flags & cloneSighand != 0 && flags & cloneVM == 0) {
                return .value(-KernelErrno.EINVAL)
            }
            guard flags & ~0xFF == 0, flags & 0xFF == 17, a[1] == 0 else {
                out.error = "not modelled: clone(0x\(String(flags, radix: 16)), 0x\(String(a[1], radix: 16)), ...): only clone(SIGCHLD, 0), which is fork"
                return .value(-KernelErrno.EINVAL)
            }
            return sysFork(childName: childName, &out)
        case .exit, .exit_group:
            doExit(c, code: int32(a[0]) & 0xFF, signal: nil, &out)
            return .noReturn
        case .wait4, .waitpid: return sysWait(pid: int32(a[0]), status: a[1], options: int32(a[2]), rusage: f == .wait4 ? a[3] : 0, narrow: narrow, &out)
        case .kill: return sysKill(pid: int32(a[0]), sig: int32(a[1]), &out)
        case .brk: return .value(sysBrk(a[0]))
        case .sched_yield:
            core.needResched = true
            core.reschedReason = "yield"
            return .value(0)
        case .nanosleep:
            var ticks: Int64
            if a[0] < 0x1000 {
                ticks = Int64(a[0])
            } else {
                let w = narrow ? 4 : 8
                guard let b = copyFromUser(a[0], count: 2 * w) else { return .value(-KernelErrno.EFAULT) }
                var sec: UInt64 = 0, nsec: UInt64 = 0
                for i in 0..<w { sec |= UInt64(b[i]) << (8 * UInt64(i)); nsec |= UInt64(b[w + i]) << (8 * UInt64(i)) }
                // timespec64_valid: tv_sec >= 0 and 0 <= tv_nsec < NSEC_PER_SEC, both signed (a compat
                // timespec's fields are s32, sign-extended), else -EINVAL.
                let s = narrow ? Int64(Int32(truncatingIfNeeded: sec)) : Int64(bitPattern: sec)
                let ns = narrow ? Int64(Int32(truncatingIfNeeded: nsec)) : Int64(bitPattern: nsec)
                guard s >= 0, ns >= 0, ns < 1_000_000_000 else { return .value(-KernelErrno.EINVAL) }
                // Saturating: a sleep longer than Int64.max ticks never ends within any run.
                let (whole, overflow) = s.multipliedReportingOverflow(by: 100)
                ticks = overflow ? Int64.max : whole.addingReportingOverflow((ns + 9_999_999) / 10_000_000).partialValue
                if ticks < 0 { ticks = Int64.max }
            }
            if ticks <= 0 { return .value(0) }
            core.tasks[c].state = .sleeping
            core.tasks[c].sleepTicks = Int(ticks)
            core.sleepsArmed += 1
            core.tasks[c].sleepArmedAt = core.sleepsArmed
            core.tasks[c].sleepRemainingPointer = a[1]
            core.tasks[c].blockedOn = nil
            machine.trace.record(.kernelAction("\(core.tasks[c].name) sleeps for \(ticks) ticks"))
            return .blocked
        case .mmap where narrow:
            // i386 90, old_mmap: the six arguments are in a block of dwords the first argument points to.
            guard let b = copyFromUser(a[0], count: 24) else { return .value(-KernelErrno.EFAULT) }
            var w = [UInt64](repeating: 0, count: 6)
            for (i, byte) in b.enumerated() { w[i / 4] |= UInt64(byte) << (8 * UInt64(i % 4)) }
            guard w[5] & 0xFFF == 0 else { return .value(-KernelErrno.EINVAL) }
            return .value(sysMmap(addr: w[0], length: w[1], prot: w[2], flags: w[3], fd: Int(UInt32(truncatingIfNeeded: w[4])), compat: true, &out))
        case .mmap:
            guard a[5] & 0xFFF == 0 else { return .value(-KernelErrno.EINVAL) }
            return .value(sysMmap(addr: a[0], length: a[1], prot: a[2], flags: a[3], fd: Int(UInt32(truncatingIfNeeded: a[4])), compat: narrow, &out))
        case .mmap2:
            return .value(sysMmap(addr: a[0], length: a[1], prot: a[2], flags: a[3], fd: Int(UInt32(truncatingIfNeeded: a[4])), compat: narrow, &out))
        case .munmap:
            return .value(sysMunmap(addr: a[0], length: a[1]))
        case .mprotect:
            return .value(sysMprotect(start: a[0], length: a[1], prot: a[2], compat: narrow))
        case .execve, .stat:
            // getname, then the lookup: a bad pointer is -EFAULT and a path the model's file table does
            // not hold -ENOENT, as in Linux; an existing file would need a program loader (execve) or
            // inode metadata (stat), which the model does not have: refused.
            let raw: String
            switch userPath(a[0]) {
            case let .success(p): raw = p
            case let .failure(e): return .value(-e.errno)
            }
            let path: String
            var what = "file"
            switch walkPath(raw, create: false) {
            case .missing: return .value(-KernelErrno.ENOENT)
            case let .failure(e): return .value(-e)
            case let .notModelled(why):
                out.error = "not modelled: \(f.rawValue) of \(why)"
                return .value(-KernelErrno.ENOSYS)
            case let .directory(p):
                // do_open_execat: only a regular file can be executed (S_ISREG, else -EACCES).
                if f == .execve { return .value(-KernelErrno.EACCES) }
                path = p
                what = "directory"
            case let .file(p): path = p
            }
            out.error = "not modelled: \(f.rawValue)(\"\(path)\") of an existing \(what) (the model has no \(f == .execve ? "program loader" : "inode metadata"))"
            machine.trace.record(.kernelAction("\(f.rawValue) is not modelled: -ENOSYS"))
            return .value(-KernelErrno.ENOSYS)
        }
    }

    /// Whether the user program itself could write [addr, addr + count) without a fault: every page's leaf is
    /// present, user and writable. The steps that stand for user-mode stores (the vDSO's pushes, a compat
    /// SYSCALL's argument 6) are made only then: the model neither faults them in nor signals.
    func userStackWritable(_ addr: UInt64, count: UInt64) -> Bool {
        let pc = pagingControlForKernel
        guard pc.mode != .off else { return true }
        for a in [addr, addr &+ count &- 1] {
            guard let leaf = machine.paging.leaf(for: a, cr3: machine.cpu.cr3, mode: pc.mode, pse: pc.pse), leaf.value & 0x7 == 0x7 else { return false }
        }
        return true
    }

    /// access_ok + copy_from_user: the bytes of a user buffer, or nil (-EFAULT).
    mutating func copyFromUser(_ addr: UInt64, count: Int) -> [UInt8]? {
        guard userRangeOK(addr, UInt64(count), write: false) else { return nil }
        return peekBytes(addr, count: count, cr3: machine.cpu.cr3)
    }

    /// access_ok (below the top of user space) and, page by page, a user mapping with the permission or a VMA
    /// allowing it (a missing page of a VMA is faulted in).
    mutating func userRangeOK(_ addr: UInt64, _ count: UInt64, write: Bool) -> Bool {
        let top = core.layout.mode == .ia32 ? 0xC000_0000 : 0x0000_8000_0000_0000 as UInt64
        guard count > 0 else { return true }
        guard copyOops == nil else { return false }
        let (end, overflow) = addr.addingReportingOverflow(count)
        guard !overflow, end <= top else { return false }
        let c = pagingControlForKernel
        guard c.mode != .off else { return true }
        var page = addr & ~0xFFF
        while page < end {
            // The whole walk (PG-5), not only the leaf: a not-present upper-level entry is a not-present page (the
            // kernel's access raises #PF P=0), and U/S and R/W are the AND over every level.
            let walk = machine.paging.probe(page, cr3: machine.cpu.cr3, mode: c.mode, pse: c.pse, nxe: c.nxe)
            // A reserved bit on the walk: pgtable_bad, the task dies (no -EFAULT).
            if case .reservedBit = walk, userCopyHitsBadPagetable(max(addr, page), write: write) { return false }
            if case let .mapped(rights, _) = walk {
                // a user page (every level U/S=1); a user-range page mapped supervisor-only is -EFAULT
                guard rights.user else { return false }
                // A protection key that refuses the copy: -EFAULT before any write-protect handling (PG-10).
                guard !protectionKeyRefusesUserCopy(max(addr, page), write: write) else { return false }
                if write && !rights.writable {
                    // copy_to_user into a read-only page of a VMA with `w`: the kernel's write raises #PF P|W
                    // (supervisor: U=0) with CR2 = the first byte it touches on that page, and do_wp_page makes
                    // the page writable (as for a user write); any other read-only page is -EFAULT, untouched.
                    let cr2 = max(addr, page)
                    guard let vma = core.currentTask.vmas.first(where: { $0.contains(page) }),
                          let wp = writeProtectedLeaf(cr2, errorCode: 0x3, vma: vma, ac: true) else { return false }
                    let why = copyOnWriteFrame(wp, cr3: machine.cpu.cr3) != nil
                        ? "is write-protected for copy-on-write after fork (R/W=0) with CR0.WP=1" : "is read-only (R/W=0) with CR0.WP=1"
                    let f = Fault(.PF, code: 0x3, cr2: cr2, rule: "PG-7",
                                  "the kernel's copy_to_user writes 0x\(String(cr2, radix: 16)), whose page \(why), inside a writable VMA")
                    machine.cpu.cr2 = cr2
                    machine.trace.record(.fault(f))
                    kernelAccessFaults.append(f)
                    guard resolveWriteProtectedLeaf(wp, cr2, vma: vma) else { return false }
                }
            } else {
                guard let vma = core.currentTask.vmas.first(where: { $0.contains(page) }) ?? expandStack(to: max(addr, page)),
                      write ? vma.write : vma.accessible else { return false }
                // The kernel's access raises #PF (supervisor, not present: U=0, P=0, W as the copy) with
                // CR2 = the first byte it touches on that page; the handler demand-pages it (PG-12).
                let cr2 = max(addr, page)
                let f = Fault(.PF, code: write ? 0x2 : 0x0, cr2: cr2, rule: "PG-12",
                              "the kernel's \(write ? "copy_to_user" : "copy_from_user") touches 0x\(String(cr2, radix: 16)), whose PTE is not present (P=0)")
                machine.cpu.cr2 = cr2
                machine.trace.record(.fault(f))
                kernelAccessFaults.append(f)
                do throws(MachineError) {
                    try populate(VMA(segment: vma.segment, start: page, end: page + 0x1000, read: vma.read, write: vma.write, execute: vma.execute),
                                 cr3: machine.cpu.cr3)
                } catch { return false }
                machine.trace.record(.kernelAction("copy_from_user faulted in page 0x\(String(page, radix: 16)) of a \(vma.segment.rawValue) VMA"))
                // The retried copy meets the new page's key (0): PKRU may still refuse it.
                guard !protectionKeyRefusesUserCopy(max(addr, page), write: write) else { return false }
            }
            page += 0x1000
        }
        return true
    }

    mutating func sysBrk(_ requested: UInt64) -> Int64 {
        let c = core.current
        let start = core.tasks[c].startBrk
        let cur = core.tasks[c].brk
        guard requested >= start, requested <= core.layout.userSpaceTop(bits: core.tasks[c].bits) else { return Int64(bitPattern: cur) }
        let end = (requested + 0xFFF) & ~0xFFF
        let oldEnd = (cur + 0xFFF) & ~0xFFF
        // Growing (mm/mmap.c brk): the new end plus one page must stay below the next mapping, and below
        // a stack's guard gap (vm_start_gap: stack_guard_gap, 256 pages); otherwise brk fails and
        // returns the current break.
        if end > oldEnd {
            let task = core.tasks[c]
            let others: [(start: UInt64, end: UInt64, stack: Bool)] = task.vmas.filter { $0.segment != .heap }.map { ($0.start, $0.end, $0.segment == .stack || $0.growsDown) }
                + task.pages.map { ($0.virt, $0.virt &+ $0.count &* $0.size.bytes, false) }
            for m in others where m.end > oldEnd {
                let gapStart = m.stack ? (m.start >= System.stackGuardGap ? m.start - System.stackGuardGap : 0) : m.start
                if end + 0x1000 > gapStart {
                    machine.trace.record(.kernelAction("brk: 0x\(String(requested, radix: 16)) would reach the mapping at 0x\(String(m.start, radix: 16)): the break stays"))
                    return Int64(bitPattern: cur)
                }
            }
        }
        // The heap may be several VMAs (mprotect or munmap split or removed pieces of it): brk works at the VMA
        // that ends at the old break (mm/mmap.c brk: do_brk_flags extends it when its flags are the default
        // rw-, else adds a VMA [old break, new break); shrinking is do_vmi_munmap of [new break, old break)).
        // The bounds come from mm->start_brk, not from the VMAs that are left.
        let heaps = core.tasks[c].vmas.indices.filter { core.tasks[c].vmas[$0].segment == .heap && core.tasks[c].vmas[$0].start < core.tasks[c].vmas[$0].end }
        if end < oldEnd {
            // Shrinking (Linux 6.1+ brk: vma_find(newbrk, oldbrk), then do_vmi_align_munmap): with no VMA in
            // [new break, old break) (the heap was unmapped) brk fails and returns the current break; otherwise
            // that range is unmapped from whatever VMAs lie there, so touching it again is a fault outside any
            // VMA (SIGSEGV), not a stale mapping.
            guard core.tasks[c].vmas.contains(where: { $0.start < oldEnd && end < $0.end }) else {
                machine.trace.record(.kernelAction("brk: nothing is mapped in 0x\(String(end, radix: 16))-0x\(String(oldEnd, radix: 16)) to shrink: the break stays"))
                return Int64(bitPattern: cur)
            }
            removeMappings(from: end, to: oldEnd)
        } else if end > oldEnd {
            if let i = heaps.first(where: { core.tasks[c].vmas[$0].end == oldEnd }),
               core.tasks[c].vmas[i].read, core.tasks[c].vmas[i].write, !core.tasks[c].vmas[i].execute {
                core.tasks[c].vmas[i].end = end
            } else {
                core.tasks[c].vmas.append(VMA(segment: .heap, start: oldEnd, end: end, read: true, write: true, execute: false))
            }
        }
        core.tasks[c].brk = requested
        return Int64(bitPattern: requested)
    }

    /// Clears the 4 KiB leaves of [from, to) in the current address space and drops them from the TLB.
    mutating func unmapUserPages(from: UInt64, to: UInt64) {
        let c = pagingControlForKernel
        guard c.mode != .off else { return }
        var page = from
        while page < to {
            // Only the tables that exist: a shrinking heap may span terabytes of which a few pages were touched.
            let walkable = machine.paging.nextWalkable(from: page, cr3: machine.cpu.cr3, mode: c.mode, pse: c.pse)
            if walkable != page { page = walkable; continue }
            if let leaf = machine.paging.leaf(for: page, cr3: machine.cpu.cr3, mode: c.mode, pse: c.pse), leaf.pageSize == 0x1000 {
                releaseCopyOnWrite(leafValue: leaf.value, cr3: machine.cpu.cr3)
                try? machine.paging.writeEntry(at: leaf.entryAddress, value: 0, width: EntryWidth(c.mode))
                machine.paging.tlb.invlpg(page)
            }
            page += 0x1000
        }
    }

    mutating func sysFork(childName: String?, _ out: inout StepOutcome) -> SyscallResult {
        let p = core.current
        var parent = core.tasks[p]
        parent.forks += 1
        let name = childName ?? (parent.forks == 1 ? "\(parent.name)-child" : "\(parent.name)-child\(parent.forks)")
        if core.index(named: name) != nil {
            out.error = "fork: a task named \(name) already exists"
            return .value(-KernelErrno.EAGAIN)
        }
        let pid = (core.tasks.map(\.pid).max() ?? 0) + 1
        var child = parent
        child.pid = pid
        child.name = name
        child.parent = parent.pid
        child.children = []
        child.isChildSubreaper = false  // copy_signal: a new signal_struct, zeroed
        child.state = .ready
        child.ticks = 0
        child.sliceUsed = 0
        child.keepsSlice = false
        child.forks = 0
        child.exitCode = nil
        child.signal = nil
        // The address space: kernel half, machine pages, explicit pages shared, VMA pages copied.
        do throws(MachineError) {
            child.cr3 = try newAddressSpace()
            let c = pagingControlForKernel
            // Copy-on-write fork (`kernel: {fork: cow}`, CopyOnWrite.swift): private VMA pages are shared, not
            // copied; the model's scratch page for string arguments (written without faults) and pages of
            // `machine.pages` (present in every address space as written) are left as in the eager copy.
            let cow = forksCopyOnWrite
            var shared = 0, writeProtected = 0
            let machinePages = cow ? core.sharedPages : []
            let inMachinePages = { (page: UInt64) in machinePages.contains { page >= $0.virt && page - $0.virt < $0.count &* $0.size.bytes } }
            if c.mode != .off {
                for pg in parent.pages {
                    // Shared: the child's entries name the parent's frames, also those the builder allocated
                    // when the scenario omitted `phys` (mapping the same request again would allocate new ones).
                    let size = pg.size.bytes
                    for k in 0..<pg.count {
                        var one = pg
                        one.count = 1
                        one.virt = pg.virt &+ k &* size
                        one.phys = pg.phys.map { $0 &+ k &* size } ?? physical(of: one.virt, cr3: parent.cr3).map { $0 & ~(size - 1) }
                        try machine.paging.map(one, cr3: child.cr3, mode: c.mode, pse: c.pse, nxe: scenarioNXE)
                    }
                }
                for vma in parent.vmas {
                    var page = vma.start & ~0xFFF
                    while page < vma.end {
                        // Only where the parent has tables: a grown heap VMA may span terabytes, mostly unmapped.
                        let walkable = machine.paging.nextWalkable(from: page, cr3: parent.cr3, mode: c.mode, pse: c.pse)
                        if walkable != page { page = walkable; continue }
                        let explicit = parent.pages.contains { p in page >= p.virt && page - p.virt < p.count &* p.size.bytes }
                        if !explicit, vma.shared, let src = physical(of: page, cr3: parent.cr3),
                           let leaf = machine.paging.leaf(for: page, cr3: parent.cr3, mode: c.mode, pse: c.pse) {
                            // MAP_SHARED: the child's entry names the parent's frame (copy_page_range shares it).
                            try machine.paging.map(PageMapping(virt: page, phys: src & ~0xFFF, count: 1, size: .size4K,
                                                               leaf: EntryFlags(present: true, writable: leaf.value & 2 != 0, user: true,
                                                                                nx: !vma.execute && c.nxe)),
                                                   cr3: child.cr3, mode: c.mode, pse: c.pse, nxe: c.nxe)
                        } else if !explicit, cow, !vma.scratch, !inMachinePages(page),
                                  let src = physical(of: page, cr3: parent.cr3),
                                  let leaf = machine.paging.leaf(for: page, cr3: parent.cr3, mode: c.mode, pse: c.pse), leaf.pageSize == 0x1000 {
                            // Copy-on-write (copy_present_pte): the same frame, read-only in both address spaces.
                            shared += 1
                            if try shareForFork(page: page, frame: src & ~0xFFF, parentLeaf: leaf, parentCR3: parent.cr3, childCR3: child.cr3,
                                                nx: !vma.execute && c.nxe) {
                                writeProtected += 1
                            }
                        } else if !explicit, let src = physical(of: page, cr3: parent.cr3),
                           let leaf = machine.paging.leaf(for: page, cr3: parent.cr3, mode: c.mode, pse: c.pse) {
                            try machine.paging.map(PageMapping(virt: page, phys: nil, count: 1, size: .size4K,
                                                               leaf: EntryFlags(present: true, writable: leaf.value & 2 != 0, user: true,
                                                                                nx: !vma.execute && c.nxe)),
                                                   cr3: child.cr3, mode: c.mode, pse: c.pse, nxe: c.nxe)
                            if let dst = physical(of: page, cr3: child.cr3) {
                                let base = src & ~0xFFF
                                for off in stride(from: UInt64(0), to: 0x1000, by: 8) {
                                    machine.paging.memory.write(dst + off, value: machine.paging.memory.read(base + off, size: 8), size: 8)
                                }
                            }
                        }
                        page += 0x1000
                    }
                }
            }
            if cow && c.mode != .off {
                // dup_mmap ends with flush_tlb_mm(oldmm): the parent's translations (writable ones included) go.
                machine.paging.tlb.flushNonGlobal()
                machine.trace.record(.kernelAction("fork: copy-on-write: \(shared) private page(s) of \(parent.name) shared with \(name), "
                    + "\(writeProtected) of them write-protected in the parent; both map them read-only (copy_present_pte), "
                    + "and \(parent.name)'s TLB is flushed (flush_tlb_mm at the end of dup_mmap)"))
                machine.trace.record(.tlbFlush(kind: "mm", linear: nil))
            }
            child.kernelStackBase = try allocateKernelStack()
            writeThreadInfo(child)
        } catch {
            out.error = "fork: \(error.message)"
            return .value(-KernelErrno.ENOMEM)
        }
        // The child's kernel side: a copy of the parent's kernel stack frame and registers, returning 0.
        let sp = machine.cpu[.rsp]
        let used = parent.kernelStackTop >= sp && parent.kernelStackTop - sp <= parent.kernelStackSize ? parent.kernelStackTop - sp : 0
        if used > 0, let frame = peekBytes(sp, count: Int(used), cr3: machine.cpu.cr3) {
            _ = pokeBytes(child.kernelStackTop - used, frame, cr3: machine.cpu.cr3)
        }
        var k = TaskContext(machine.cpu)
        k[.rsp] = child.kernelStackTop - used
        k[.rax] = 0
        child.returnPath = parent.returnPath
        // ret_from_fork leaves with IRET on both kernels (entry_64.S: swapgs_restore_regs_and_return_to_usermode;
        // entry_32.S: .Lsyscall_32_done), never SYSRET/SYSEXIT: a parent that entered through SYSCALL or
        // SYSENTER gets its child a pt_regs frame at the top of the child's kernel stack.
        if let f = iretFrameFields(parent.returnPath, regs: k),
           let bottom = writeIRETFrame(top: child.kernelStackTop, compat: f.compat, sp: f.sp, ip: f.ip, flags: f.flags) {
            k[.rsp] = bottom
            child.returnPath = .iretFrame(vdso: f.vdso)
        }
        child.kernelContext = k
        core.tasks[p].forks = parent.forks
        core.tasks[p].children.append(pid)
        if core.setup.policy == .cfs { child.vruntime = placedVruntime(child.vruntime) }
        core.tasks.append(child)
        let ci = core.tasks.count - 1
        core.runQueue.append(ci)
        machine.trace.record(.kernelAction("fork: \(name) (pid \(pid)) joins the run queue"))
        return .value(pid)
    }

    /// wait4/waitpid (kernel/exit.c kernel_wait4): options other than WNOHANG, WUNTRACED, WCONTINUED,
    /// __WNOTHREAD, __WCLONE, __WALL -> -EINVAL; pid INT_MIN -> -ESRCH; pid < -1 (a process group) is
    /// refused; __WCLONE without __WALL -> -ECHILD (no child of the model is a clone child); 0 is the
    /// caller's group, which holds all its children (the model has no setpgid). The child
    /// is reaped before the status word and the rusage are written, so a bad pointer gives -EFAULT with
    /// the child gone (put_user after do_wait).
    mutating func sysWait(pid: Int64, status: UInt64, options: Int64, rusage: UInt64, narrow: Bool, _ out: inout StepOutcome) -> SyscallResult {
        let c = core.current
        let known: Int64 = 0x1 | 0x2 | 0x8 | 0x2000_0000 | 0x4000_0000 | Int64(Int32(bitPattern: 0x8000_0000))
        guard options & ~known == 0 else { return .value(-KernelErrno.EINVAL) }
        if pid == Int64(Int32.min) { return .value(-KernelErrno.ESRCH) }
        if pid < -1 {
            out.error = "not modelled: wait4(\(pid), ...) waits for a process group, and the model has no process groups"
            return .value(-KernelErrno.ECHILD)
        }
        // eligible_child: without __WALL, __WCLONE selects the children that report with a signal other than
        // SIGCHLD only. Every child of the model reports with SIGCHLD (fork; clone(SIGCHLD, 0)).
        if System.waitsForCloneChildrenOnly(options) { return .value(-KernelErrno.ECHILD) }
        let rusageSize = rusage == 0 ? 0 : (narrow ? 72 : 144)
        let matching = waitableChildren(of: c, pid: pid)
        guard !matching.isEmpty else { return .value(-KernelErrno.ECHILD) }
        if let z = matching.first(where: { core.tasks[$0].state == .zombie }) {
            reap(z, by: c)
            return .value(writeWaitResults(child: z, status: status, rusage: rusage, rusageSize: rusageSize, cr3: machine.cpu.cr3))
        }
        if options & 1 != 0 { return .value(0) }  // WNOHANG
        core.tasks[c].state = .blocked
        core.tasks[c].blockedOn = .child(pid: pid, status: status, rusage: rusage, rusageSize: rusageSize)
        return .blocked
    }

    /// The children a wait4(pid) of task `c` considers, in the order of its children list (kernel/exit.c
    /// do_wait_thread walks tsk->children, to which copy_process adds each child at the tail and
    /// reparenting splices orphans at the tail).
    func waitableChildren(of c: Int, pid: Int64) -> [Int] {
        core.tasks[c].children.compactMap { core.index(pid: $0) }.filter {
            core.tasks[$0].parent == core.tasks[c].pid && System.waitSelects(pid, child: core.tasks[$0].pid)
        }
    }

    /// Whether wait4's options ask for clone children only (kernel/exit.c eligible_child: __WCLONE
    /// 0x80000000 without __WALL 0x40000000), which no fork child is: its exit signal is SIGCHLD.
    static func waitsForCloneChildrenOnly(_ options: Int64) -> Bool {
        options & 0x8000_0000 != 0 && options & 0x4000_0000 == 0
    }

    /// Whether wait4's `pid` selects a child whose pid is `child`: -1 and 0 any child (0 is the caller's
    /// process group, which holds all its children: the model has no setpgid), else that pid.
    static func waitSelects(_ pid: Int64, child: Int64) -> Bool {
        pid == -1 || pid == 0 || pid == child
    }

    /// After the reap: the status word (put_user) and a zeroed struct rusage (the model keeps no resource
    /// accounting) go to the waiter's memory; the child's pid, or -EFAULT when either cannot be written.
    mutating func writeWaitResults(child z: Int, status: UInt64, rusage: UInt64, rusageSize: Int, cr3: UInt64) -> Int64 {
        let top = core.layout.mode == .ia32 ? 0xC000_0000 : 0x0000_8000_0000_0000 as UInt64
        let current = cr3 == machine.cpu.cr3
        let waiter = core.tasks.firstIndex { $0.cr3 == cr3 && !$0.isIdle }
        // access_ok, then the page checks of a user write: in the waiter's own address space as for any
        // copy_to_user; for a waiter woken by another task's exit, through its page tables and VMAs.
        func ok(_ addr: UInt64, _ n: Int) -> Bool {
            let (end, o) = addr.addingReportingOverflow(UInt64(n))
            guard !o, end <= top else { return false }
            if current { return userRangeOK(addr, UInt64(n), write: true) }
            return waiter.map { userWritable(addr, end, task: $0) } ?? false
        }
        if status != 0 {
            guard ok(status, 4), poke(status, value: UInt64(waitStatus(z)), size: 4, cr3: cr3) else { return -KernelErrno.EFAULT }
        }
        if rusageSize > 0 {
            guard ok(rusage, rusageSize), pokeBytes(rusage, [UInt8](repeating: 0, count: rusageSize), cr3: cr3) else {
                return -KernelErrno.EFAULT
            }
        }
        return core.tasks[z].pid
    }

    /// Every page of [addr, end) is writable by task `t` in user mode, or lies in one of its writable VMAs
    /// (then it is demand paged in its address space, as its own page fault would).
    mutating func userWritable(_ addr: UInt64, _ end: UInt64, task t: Int) -> Bool {
        let c = pagingControlForKernel
        guard c.mode != .off else { return true }
        let cr3 = core.tasks[t].cr3
        var page = addr & ~0xFFF
        while page < end {
            if let leaf = machine.paging.leaf(for: page, cr3: cr3, mode: c.mode, pse: c.pse), leaf.value & 1 != 0 {
                guard leaf.value & 4 != 0 else { return false }
                if leaf.value & 2 == 0 {
                    // A copy-on-write frame of a writable VMA: the waiter's put_user faults P|W (U=0) and
                    // do_wp_page copies or reuses it in the waiter's address space; any other read-only page is -EFAULT.
                    guard let vma = core.tasks[t].vmas.first(where: { $0.contains(page) }), vma.write,
                          let frame = copyOnWriteFrame(leaf, cr3: cr3) else { return false }
                    let cr2 = max(addr, page)
                    let f = Fault(.PF, code: 0x3, cr2: cr2, rule: "PG-7",
                                  "the kernel's put_user writes 0x\(String(cr2, radix: 16)), whose page is write-protected for copy-on-write after fork (R/W=0) with CR0.WP=1, inside a writable VMA")
                    machine.trace.record(.fault(f))
                    kernelAccessFaults.append(f)
                    guard breakCopyOnWrite(leaf, frame: frame, cr2, cr3: cr3, task: t, vma: vma) != nil else { return false }
                }
            } else {
                guard let vma = core.tasks[t].vmas.first(where: { $0.contains(page) }), vma.write else { return false }
                do throws(MachineError) {
                    try populate(VMA(segment: vma.segment, start: page, end: page + 0x1000, read: vma.read, write: vma.write, execute: vma.execute),
                                 cr3: cr3)
                } catch { return false }
            }
            page += 0x1000
        }
        return true
    }

    /// The wait status word: exit code << 8, or the signal number.
    func waitStatus(_ i: Int) -> UInt32 {
        if let s = core.tasks[i].signal, let n = KernelSignal.number(s) { return UInt32(n) }
        return UInt32((core.tasks[i].exitCode ?? 0) & 0xFF) << 8
    }

    mutating func reap(_ child: Int, by parent: Int) {
        let pid = core.tasks[child].pid
        core.tasks[parent].children.removeAll { $0 == pid }
        machine.trace.record(.kernelAction("\(core.tasks[parent].name) reaps \(core.tasks[child].name) (pid \(core.tasks[child].pid))"))
    }

    /// kill(pid, sig) (kernel/signal.c kill_something_info): pid > 0 one task; -1 every task with pid > 1
    /// except the caller (-ESRCH when there is none); 0 and < -1 name process groups, which the model
    /// does not have (refused). A task is looked up before the signal is checked (-ESRCH before
    /// -EINVAL, check_kill_permission), and sig 0 only checks. A zombie not yet reaped accepts any
    /// signal without effect; a reaped task is gone (-ESRCH). init (pid 1) ignores every signal.
    mutating func sysKill(pid: Int64, sig: Int64, _ out: inout StepOutcome) -> SyscallResult {
        let c = core.current
        if pid == Int64(Int32.min) { return .value(-KernelErrno.ESRCH) }  // -INT_MIN is undefined
        guard pid > 0 || pid == -1 else {
            out.error = "not modelled: kill(\(pid), ...) signals a process group, and the model has no process groups"
            return .value(-KernelErrno.ESRCH)
        }
        let targets: [Int]
        if pid == -1 {
            targets = core.tasks.indices.filter { core.tasks[$0].pid > 1 && $0 != c && !core.tasks[$0].isIdle && !isReaped($0) }
        } else if let t = core.index(pid: pid), !isReaped(t) {
            targets = [t]
        } else {
            targets = []
        }
        guard !targets.isEmpty else { return .value(-KernelErrno.ESRCH) }
        guard sig >= 0, sig <= KernelSignal.count else { return .value(-KernelErrno.EINVAL) }
        guard sig != 0 else { return .value(0) }
        let name = KernelSignal.names[sig] ?? "SIG\(sig)"
        // init (pid 1, the child reaper) is SIGNAL_UNKILLABLE (kernel/fork.c copy_process): with no handler
        // (SIG_DFL, as every signal of the model), sig_task_ignored drops any signal sent to it, SIGKILL and the
        // stop signals included (is_global_init && sig_kernel_only; a kill from its own namespace is never
        // `force`), so kill returns 0 and init runs on. kill(-1) never targets it.
        if pid == 1 {
            machine.trace.record(.kernelAction("\(core.tasks[targets[0]].name) is init (pid 1, SIGNAL_UNKILLABLE): \(name) is ignored"))
            if core.tasks[targets[0]].state != .zombie { core.tasks[targets[0]].ignoredAsInit.append(name) }
            return .value(0)
        }
        switch KernelSignal.defaultAction(sig) {
        case .ignore: return .value(0)
        case .stop:
            // A zombie never stops: no thread of an exited process wants the signal (complete_signal ->
            // wants_signal skips PF_EXITING tasks), so kill returns 0 and nothing happens. A live target would.
            if targets.allSatisfy({ core.tasks[$0].state == .zombie }) { return .value(0) }
            out.error = "not modelled: \(name) (stopped tasks)"
            return .value(-KernelErrno.EINVAL)
        case .terminate: break
        }
        var killedSelf = false
        for t in targets where core.tasks[t].state != .zombie {
            out.signal = name
            doExit(t, code: 0, signal: name, &out)
            if t == c { killedSelf = true }
        }
        return killedSelf ? .noReturn : .value(0)
    }

    /// A zombie its parent has already reaped (the model keeps it with the state `zombie`): gone for kill.
    func isReaped(_ t: Int) -> Bool {
        guard core.tasks[t].state == .zombie else { return false }
        guard let p = core.index(pid: core.tasks[t].parent) else { return false }
        return !core.tasks[p].children.contains(core.tasks[t].pid)
    }

    /// do_exit: the task becomes a zombie, its children go to a subreaper or init (pid 1), a waiting parent is woken.
    mutating func doExit(_ i: Int, code: Int64, signal: String?, _ out: inout StepOutcome) {
        // A waiter woken by a child's exit and killed before it ran: do_wait reaps when the task next
        // runs, before it acts on the fatal signal, so that child is released, not given to init.
        completePendingWait(i)
        let t = core.tasks[i]
        core.tasks[i].state = .zombie
        core.tasks[i].exitCode = signal == nil ? code : nil
        core.tasks[i].signal = signal
        core.tasks[i].blockedOn = nil
        core.tasks[i].sleepTicks = nil
        core.tasks[i].resumeReturn = nil
        core.runQueue.removeAll { $0 == i }
        machine.trace.record(.kernelAction(signal.map { "\(t.name) is killed by \($0)" } ?? "\(t.name) exits with code \(code)"))
        releaseCopyOnWrite(task: i)
        // Reparent the children not yet reaped to the nearest subreaper ancestor, else init (find_new_reaper,
        // Subreaper.swift). A reaped child is gone: it keeps its dead parent, so that kill still finds it
        // reaped (-ESRCH) even when no init is left to adopt orphans.
        let reaperPid = newReaper(forChildrenOf: i)
        for child in core.tasks.indices where core.tasks[child].parent == t.pid && !core.tasks[child].isIdle
            && t.children.contains(core.tasks[child].pid) {
            core.tasks[child].parent = reaperPid
            if let ip = core.index(pid: reaperPid), reaperPid != 0 {
                core.tasks[ip].children.append(core.tasks[child].pid)
            }
        }
        core.tasks[i].children = []
        // Wake a parent blocked in wait4 for this child.
        if let p = core.index(pid: t.parent) { reapIfWaiting(child: i, parent: p, &out) }
        // A child that was already a zombie now belongs to its new reaper, which reaps it if it is waiting
        // (Linux's forget_original_parent notifies the new parent).
        if reaperPid != 0, let ip = core.index(pid: reaperPid) {
            for child in core.tasks.indices where core.tasks[child].parent == reaperPid && core.tasks[child].state == .zombie
                && t.children.contains(core.tasks[child].pid) {
                if reapIfWaiting(child: child, parent: ip, &out) { break }
            }
        }
    }

    /// A parent blocked in wait4 for `child` (any child, or this one) gets its status and pid and
    /// wakes; the child is reaped. False when the parent was not waiting for it.
    @discardableResult
    mutating func reapIfWaiting(child i: Int, parent p: Int, _ out: inout StepOutcome) -> Bool {
        guard case let .child(wpid, status, rusage, rusageSize)? = core.tasks[p].blockedOn, core.tasks[p].state == .blocked,
              System.waitSelects(wpid, child: core.tasks[i].pid) else { return false }
        wake(p, &out)
        core.tasks[p].pendingWait = .child(pid: wpid, status: status, rusage: rusage, rusageSize: rusageSize)
        return true
    }

    /// The waiter woken by a child's exit runs again (or dies first): its do_wait scans its children once
    /// more and reaps the first zombie that matches, which need not be the child whose exit woke it (an
    /// older child may have exited since). Until this point that zombie is still found by kill.
    mutating func completePendingWait(_ p: Int) {
        guard case let .child(wpid, status, rusage, rusageSize)? = core.tasks[p].pendingWait else { return }
        core.tasks[p].pendingWait = nil
        machine.trace.record(.kernelAction("\(core.tasks[p].name)'s wait4, woken by an exit, scans its children again (do_wait after schedule())"))
        guard let z = waitableChildren(of: p, pid: wpid).first(where: { core.tasks[$0].state == .zombie }) else {
            // Unreachable: only the waiter reaps its children, and a zombie stays its child until then.
            setSavedReturnValue(p, -KernelErrno.ECHILD)
            return
        }
        reap(z, by: p)
        setSavedReturnValue(p, writeWaitResults(child: z, status: status, rusage: rusage, rusageSize: rusageSize, cr3: core.tasks[p].cr3))
    }
}
