// Execute: one instruction at the current privilege. A fault it raises is delivered through the IDT
// (with DF escalation); the result lists every exception raised, in order.

/// What happened when an instruction ran.
public struct ExecutionResult: Sendable, Equatable {
    /// Every exception raised, in order, including those raised while delivering another.
    public var faults: [Fault] = []
    /// How the last delivery ended, when something was delivered through the IDT.
    public var delivery: DeliveryOutcome?
    public init() {}
}

extension Machine {
    /// The offset of the current TSS's I/O permission bitmap when its first byte lies within the
    /// TSS limit (a 32- or 64-bit TSS: the base is the word at offset 0x66); nil otherwise.
    func ioBitmapBase() -> UInt64? {
        guard cpu.tr.cache.usable, !cpu.tr.cache.isSixteenBitTSS,
              let base = tssRead(offset: 0x66, size: 2), base < UInt64(cpu.tr.cache.limit) else { return nil }
        return base
    }

    /// The REX.W forms (IRETQ, RETFQ) exist only in 64-bit mode: elsewhere the 0x48 byte is another
    /// instruction (DEC EAX), which the model does not run: refused.
    mutating func requireREXW(_ width: Int?, _ name: String) throws(Fault) {
        guard width == 8, !in64BitMode else { return }
        unsupported = "\(name) outside 64-bit mode: its REX.W prefix exists only in 64-bit mode"
        throw Fault(.UD, rule: "FAR-16", "\(name) outside 64-bit mode")
    }

    /// ISA-1: operands that exist only in 64-bit mode. R8-R15 need a REX prefix, and a 64-bit operand (RAX..RDI,
    /// an 8-byte memory operand) needs REX.W; outside 64-bit mode the bytes 40h-4Fh are INC/DEC, so no encoding
    /// names them and an assembler refuses the instruction. Likewise a memory offset above 4 GiB (the address
    /// size is 32 bits there). nil when the instruction can be encoded here.
    /// MOV CRn keeps its documented reading of RAX..RDI as their low 32 bits (docs/format.md); R8-R15 are refused
    /// there too.
    func registerOperandProblem(_ instruction: Instruction) -> String? {
        guard !in64BitMode else { return nil }
        func check(_ r: GPR, width: Int?) -> String? {
            if r.rawValue >= 8 { return "register \(r.name64) exists only in 64-bit mode" }
            if width == 8 { return "the 64-bit operand \(r.name64) exists only in 64-bit mode (\(r.name32) is the register here)" }
            return nil
        }
        switch instruction {
        case let .movImmediate(r, _, width): return check(r, width: width)
        case let .load(_, address, _) where address > 0xFFFF_FFFF, let .store(address, _, _) where address > 0xFFFF_FFFF,
             let .invlpg(address) where address > 0xFFFF_FFFF:
            return Machine.wideOffsetProblem(address)
        case let .load(r, _, size), let .store(_, r, size): return check(r, width: size)
        case let .movSegmentToRegister(r, _, width): return check(r, width: width)
        case let .movRegisterToSegment(_, r), let .movToCR(_, r), let .movFromCR(r, _): return check(r, width: nil)
        default: return nil
        }
    }

    /// ISA-1: outside 64-bit mode the address size is 32 bits, so an offset above 4 GiB names no memory
    /// operand (`exec` and `access` steps refuse it); nil when `address` fits.
    static func wideOffsetProblem(_ address: UInt64) -> String? {
        guard address > 0xFFFF_FFFF else { return nil }
        return "the memory offset 0x\(String(address, radix: 16)) does not fit the 32-bit address size (offsets above 4 GiB exist only in 64-bit mode)"
    }

    /// The address of the instruction after `instruction` at the current RIP. Outside 64-bit mode the
    /// instruction pointer is EIP, so the sum wraps at 4 GiB (a 32-bit EIP never holds bit 32).
    public func addressAfter(_ instruction: Instruction) -> UInt64 {
        let next = cpu.rip &+ instruction.length(in64BitMode: in64BitMode, codeSize16: !in64BitMode && !cpu.cs.cache.big)
        return in64BitMode ? next : next & 0xFFFF_FFFF
    }

    /// MOV Sreg: SS has its own checks (SEG-6), DS/ES/FS/GS theirs (SEG-5).
    mutating func movToSegment(_ reg: SegmentRegisterName, _ sel: Selector) throws(Fault) {
        if reg == .ss { try loadStackSegment(sel) } else { try loadDataSegment(reg, sel) }
    }

    /// Runs one instruction. Faults are delivered; `kernel: none` leaves the CPU at the handler's entry.
    public mutating func execute(_ instruction: Instruction) -> ExecutionResult {
        pendingTaskSwitchTrap = false
        // The boundary after this instruction is no longer the one a previous STI or MOV SS inhibited.
        interruptShadow = false
        var result = executeInstruction(instruction)
        if let d = raiseTaskSwitchTrap(&result.faults) { result.delivery = d }
        return result
    }

    /// TASK-7: a task switch into a TSS with the T bit set raises a #DB trap in the new task, before its first
    /// instruction (saved EIP = the new task's EIP). Called at the end of every event that may switch tasks
    /// (an instruction, an external interrupt through a task gate); nil when no such switch happened.
    public mutating func raiseTaskSwitchTrap(_ faults: inout [Fault]) -> DeliveryOutcome? {
        guard pendingTaskSwitchTrap else { return nil }
        pendingTaskSwitchTrap = false
        guard !shutdown else { return nil }
        let db = Fault(.DB, rule: "TASK-7", "the new task's TSS has the T bit set: debug trap after the task switch")
        return raise(db, returnIP: cpu.rip, raised: &faults)
    }

    /// `execute` without the end-of-instruction traps.
    mutating func executeInstruction(_ instruction: Instruction) -> ExecutionResult {
        var result = ExecutionResult()
        guard !shutdown else { return result }
        if let problem = registerOperandProblem(instruction) {
            let mode = longMode ? "compatibility mode" : "legacy protected mode"
            unsupported = "\(problem), and this is \(mode): the instruction cannot be encoded here (ISA-1)"
            return result
        }
        // INT-15: RF is cleared at the start of every instruction (the model has no instruction
        // breakpoints to check first); IRET and a task switch may load it again from their image.
        cpu.rflags &= ~RFLAGS.rf
        let ip = cpu.rip
        let next = addressAfter(instruction)
        do throws(Fault) {
            switch instruction {
            case let .int(n):
                result.delivery = deliverWithEscalation(InterruptEvent(vector: n, source: .softwareInterrupt, returnIP: next),
                                                        faultIP: ip, raised: &result.faults)
                return result
            case .int3:
                trap(Fault(.BP, rule: "INT-12", "INT3: breakpoint trap (saved EIP is the next instruction)"),
                     source: .softwareException, ip: ip, next: next, into: &result)
                return result
            case .into:
                if in64BitMode { throw Fault(.UD, rule: "ISA-1", "INTO is invalid in 64-bit mode (SDM Vol. 2A, INTO: #UD in 64-bit mode)") }
                if cpu.rflags & RFLAGS.of != 0 {
                    trap(Fault(.OF, rule: "INT-12", "INTO with OF=1: overflow trap"), source: .softwareException, ip: ip, next: next, into: &result)
                    return result
                }
            case .int1:
                trap(Fault(.DB, rule: "INT-1", "INT1 (ICEBP): debug trap, delivered as a privileged software interrupt"),
                     source: .int1, ip: ip, next: next, into: &result)
                return result
            case .syscall:
                try syscallInstruction(nextIP: next)
                return result
            case let .sysret(form):
                let to64 = form ?? in64BitMode
                try requireREXW(to64 ? 8 : nil, "SYSRETQ")
                if let late = try sysret(to64: to64) {
                    result.delivery = raise(late, returnIP: cpu.rip, raised: &result.faults)
                }
                return result
            case .sysenter:
                try sysenter()
                return result
            case let .sysexit(to64):
                try requireREXW(to64 ? 8 : nil, "SYSEXITQ")
                try sysexit(to64: to64)
                return result
            case let .iret(width):
                try requireREXW(width, "IRETQ")
                try interruptReturn(width: width, nextIP: next)
                return result
            case let .callFar(sel, off):
                try farTransfer(.call, selector: Selector(sel), offset: off, returnIP: next)
                return result
            case let .jmpFar(sel, off):
                try farTransfer(.jmp, selector: Selector(sel), offset: off, returnIP: next)
                return result
            case let .retf(n, width):
                try requireREXW(width, "RETFQ")
                try farReturn(popBytes: n, width: width)
                return result
            case let .movToSegment(reg, sel):
                try movToSegment(reg, Selector(sel))
                // A MOV to SS inhibits interrupts until the next instruction completes (§6.8.3).
                if reg == .ss { interruptShadow = true }
            case let .movRegisterToSegment(reg, r):
                try movToSegment(reg, Selector(UInt16(truncatingIfNeeded: cpu[r])))
                if reg == .ss { interruptShadow = true }
            case let .movSegmentToRegister(r, reg, width):
                let sel = UInt64(cpu[segment: reg].selector)
                cpu[r] = width == 2 ? (cpu[r] & ~0xFFFF) | sel : sel
            case .movToCS:
                throw Fault(.UD, rule: "SEG-7", "MOV CS is an invalid opcode: CS changes only through far transfers, interrupts and their returns")
            case let .movImmediate(r, v, width):
                if width == 2 { cpu[r] = (cpu[r] & ~0xFFFF) | (v & 0xFFFF) } else { cpu[r] = in64BitMode ? v : v & 0xFFFF_FFFF }
            case let .load(r, addr, size):
                let linear = try dataLinear(addr, size: size, write: false)
                let v = loadFromTSSImages(linear, value: try readLinear(linear, size: size, MemoryAccess(.read, cpl: cpu.cpl)), size: size)
                refuseTSSAlias(linear, size: size)
                // A 16-bit load leaves the register's upper bits; 32- and 64-bit loads replace it.
                cpu[r] = size == 2 ? (cpu[r] & ~0xFFFF) | (v & 0xFFFF) : v
            case let .store(addr, r, size):
                let linear = try dataLinear(addr, size: size, write: true)
                try writeLinear(linear, value: cpu[r], size: size, MemoryAccess(.write, cpl: cpu.cpl))
                storeIntoTSSImages(linear, value: cpu[r], size: size)
                refuseTSSAlias(linear, size: size)
            case .cli, .sti:
                let iopl = RFLAGS.iopl(of: cpu.rflags)
                guard cpu.cpl <= iopl else {
                    throw Fault.gp(0, rule: "PRIV-1", "\(instruction == .cli ? "CLI" : "STI") at CPL \(cpu.cpl) with IOPL \(iopl): needs CPL <= IOPL")
                }
                if instruction == .cli {
                    cpu.rflags &= ~RFLAGS.if
                } else {
                    // STI with IF = 0: interrupts stay inhibited at the next boundary (SDM Vol. 2B STI).
                    if cpu.rflags & RFLAGS.if == 0 {
                        interruptShadow = true
                        trace.record(.note("STI sets IF, but a maskable interrupt is recognised only after the next instruction (the STI interrupt shadow, SDM Vol. 2B STI)"))
                    }
                    cpu.rflags |= RFLAGS.if
                }
            case .inPort, .outPort:
                let iopl = RFLAGS.iopl(of: cpu.rflags)
                guard cpu.cpl <= iopl else {
                    let name = instruction == .inPort ? "IN" : "OUT"
                    // With CPL > IOPL the CPU consults the TSS's I/O permission bitmap (SDM Vol. 1
                    // §19.5.2). A TSS whose bitmap lies beyond its limit (the linux preset's) grants no
                    // port: #GP(0). A bitmap inside the limit could grant the port, which bare `in`/`out`
                    // do not name: refused rather than guessed (the forms with a port check it, PRIV-4).
                    if let base = ioBitmapBase() {
                        unsupported = "\(name) at CPL \(cpu.cpl) > IOPL \(iopl) with an I/O permission bitmap inside the TSS (at offset 0x\(String(base, radix: 16))): a bare `\(name.lowercased())` names no port to look up in it; write the port (`in al, 0x60`, `out dx, al`)"
                    }
                    throw Fault.gp(0, rule: "PRIV-1", "\(name) at CPL \(cpu.cpl) with IOPL \(iopl): needs CPL <= IOPL (the TSS has no I/O permission bitmap within its limit, so no port is granted)")
                }
            case let .portIn(operand, size), let .portOut(operand, size):
                let port = ioPort(operand)
                let isIn: Bool
                if case .portIn = instruction { isIn = true } else { isIn = false }
                let register = size == 1 ? "AL" : (size == 2 ? "AX" : "EAX")
                let portText = operand == .dx ? "DX" : "0x" + String(port, radix: 16)
                try checkIOPermission(port: port, size: size, what: isIn ? "IN \(register), \(portText)" : "OUT \(portText), \(register)")
                // No device answers: IN reads all ones, the floating-bus value that Bochs and QEMU return for an
                // unassigned port (docs/format.md). A 32-bit destination zero-extends into RAX, as MOV does here.
                if isIn {
                    switch size {
                    case 1: cpu[.rax] = cpu[.rax] | 0xFF
                    case 2: cpu[.rax] = cpu[.rax] | 0xFFFF
                    default: cpu[.rax] = 0xFFFF_FFFF
                    }
                }
            case .nop:
                break
            case .ud2:
                throw Fault(.UD, rule: "ISA-2", "UD2 is the defined invalid opcode: #UD in every mode (SDM Vol. 2B, UD2)")
            case .hlt, .lgdt, .lidt, .movToCR, .movFromCR, .invlpg, .rdmsr, .wrmsr:
                // A control register that does not exist is an invalid opcode, decoded before the CPL check
                // (SDM Vol. 2B MOV CRn: #UD for CR1, CR5-CR7, CR9-CR15; CR8 only in 64-bit mode; Bochs decoder).
                if case let .movToCR(n, _) = instruction { try requireControlRegister(n) }
                if case let .movFromCR(_, n) = instruction { try requireControlRegister(n) }
                guard cpu.cpl == 0 else {
                    throw Fault.gp(0, rule: "PRIV-2", "\(mnemonic(instruction)) is a privileged instruction: #GP(0) at CPL \(cpu.cpl)")
                }
                try executePrivileged(instruction)
            }
            cpu.rip = next
        } catch {
            // A fault after a task switch's commit point belongs to the new task (TASK-6).
            let faultIP = taskSwitchFaultIP ?? ip
            taskSwitchFaultIP = nil
            result.delivery = raise(error, returnIP: faultIP, raised: &result.faults)
        }
        return result
    }

    /// INT3, INTO and INT1: the instruction raises its exception (listed among the step's faults) and
    /// delivers it as a trap, saving the next instruction's address (INT-12).
    /// When the delivery itself faults, the exception is marked undelivered (`Fault.undeliveredSoftwareException`).
    mutating func trap(_ fault: Fault, source: InterruptSource, ip: UInt64, next: UInt64, into result: inout ExecutionResult) {
        noteFault(fault)
        let at = result.faults.count
        result.faults.append(fault)
        result.delivery = deliverWithEscalation(InterruptEvent(vector: fault.vector.rawValue, source: source, returnIP: next),
                                                faultIP: ip, raised: &result.faults)
        if result.faults.count > at + 1 { result.faults[at].undeliveredSoftwareException = true }
    }

    /// The linear address of a data operand through DS (segment usable, limit) — SEG-5a, §5.3.
    mutating func dataLinear(_ offset: UInt64, size: Int, write: Bool) throws(Fault) -> UInt64 {
        let ds = cpu.ds
        if in64BitMode {
            // PG-3: the whole operand must be canonical before paging sees it (Bochs access64.cc checks
            // laddr and laddr+len-1 and raises #GP(0) before access_read_linear/access_write_linear).
            guard isCanonical(offset), isCanonical(offset &+ UInt64(max(size, 1) - 1)) else {
                throw Fault.gp(0, rule: "PG-3", "the \(size)-byte access at 0x\(String(offset, radix: 16)) reaches a non-canonical address")
            }
            return offset
        }
        // (An offset wider than 32 bits never gets here: `exec` and `access` steps refuse it first, ISA-1.)
        guard ds.cache.usable else { throw Fault.gp(0, rule: "SEG-5a", "memory access through DS, \(unusableSegmentWhy(ds))") }
        if write && !ds.cache.isWritableData {
            throw Fault.gp(0, rule: "SEG-5c", "write through DS to a segment that is not writable")
        }
        guard ds.cache.contains(offset: offset, size: size) else {
            refuseFlatLimitWrap(ds.cache, offset: offset, size: size, register: "DS")
            throw Fault.gp(0, rule: "SEG-11", "offset 0x\(String(offset, radix: 16)) lies outside the DS limits (limit 0x\(String(ds.cache.limit, radix: 16))\(ds.cache.isExpandDown ? ", expand-down" : ""))")
        }
        return (ds.cache.base &+ offset) & 0xFFFF_FFFF
    }

    func mnemonic(_ i: Instruction) -> String {
        switch i {
        case .hlt: "HLT"
        case .lgdt: "LGDT"
        case .lidt: "LIDT"
        case .movToCR, .movFromCR: "MOV CRn"
        case .invlpg: "INVLPG"
        case .rdmsr: "RDMSR"
        case .wrmsr: "WRMSR"
        default: "\(i)"
        }
    }

    /// The CPL-0 instructions.
    mutating func executePrivileged(_ i: Instruction) throws(Fault) {
        switch i {
        case .hlt:
            halted = true
        case .lgdt, .lidt:
            let name = mnemonic(i)
            trace.record(.note("\(name) reloads the table register with the scenario's table"))
        case let .movFromCR(r, n):
            let value: UInt64
            switch n {
            case 0: value = cpu.cr0
            case 2: value = cpu.cr2
            case 3: value = cpu.cr3
            case 4: value = cpu.cr4
            // CR8 (the task-priority register) reads 0: a write of any other value is refused.
            case 8: value = 0
            default: throw Fault(.UD, rule: "ISA-1", "CR\(n) does not exist")
            }
            // SDM Vol. 2B MOV (control registers): outside 64-bit mode the operand is 32 bits.
            cpu[r] = in64BitMode ? value : value & 0xFFFF_FFFF
        case let .movToCR(n, r):
            // Outside 64-bit mode (legacy and compatibility mode) MOV to CRn takes the register's
            // low 32 bits; only 64-bit mode has a 64-bit operand (SDM Vol. 2B MOV to/from CRn).
            try writeControlRegister(n, in64BitMode ? cpu[r] : cpu[r] & 0xFFFF_FFFF)
        case let .invlpg(addr):
            // The operand is a memory operand through DS: outside 64-bit mode its linear address is DS.base +
            // offset (SDM Vol. 2A INVLPG, "the page that contains that address"; Bochs get_laddr). INVLPG makes
            // no access and lists no segment fault; one through a null DS is refused rather than guessed.
            var linear = addr
            if !in64BitMode {
                guard cpu.ds.cache.usable else {
                    unsupported = "INVLPG through a null DS outside 64-bit mode"
                    throw Fault.gp(0, rule: "PRIV-2", "INVLPG through a null DS is not modelled")
                }
                linear = (cpu.ds.cache.base &+ addr) & 0xFFFF_FFFF
            }
            paging.tlb.invlpg(linear)
            trace.record(.tlbFlush(kind: "invlpg", linear: linear))
        case .rdmsr:
            let n = UInt32(truncatingIfNeeded: cpu[.rcx])
            try refuseUnmodelledMSR(n, "RDMSR")
            guard Machine.knownMSRs.contains(n) else { throw Fault.gp(0, rule: "PRIV-2", "RDMSR of unknown MSR 0x\(String(n, radix: 16))") }
            let v = cpu.msr(n)
            cpu[.rax] = v & 0xFFFF_FFFF
            cpu[.rdx] = v >> 32
        case .wrmsr:
            let n = UInt32(truncatingIfNeeded: cpu[.rcx])
            try refuseUnmodelledMSR(n, "WRMSR")
            let v = (cpu[.rdx] << 32) | (cpu[.rax] & 0xFFFF_FFFF)
            if let problem = Machine.msrWriteProblem(n, v, vendor: vendor) { throw Fault.gp(0, rule: "PRIV-2", "WRMSR \(problem)") }
            if n == MSR.efer, let what = Machine.unmodelledEFERBits(v, vendor: vendor) {
                unsupported = "WRMSR to IA32_EFER setting \(what)"
                throw Fault.gp(0, rule: "PRIV-2", "\(what) is not modelled")
            }
            if n == MSR.efer {
                // A write that changes LME while CR0.PG = 1 is #GP(0) too (SDM Vol. 3A §10.8.5, Bochs
                // WRMSR). LMA is read-only: the write keeps it.
                if (v ^ cpu.efer) & EFER.lme != 0 {
                    guard cpu.cr0 & CR0.pg == 0 else {
                        throw Fault.gp(0, rule: "PRIV-2", "WRMSR to IA32_EFER changing LME while paging is enabled (CR0.PG = 1)")
                    }
                    unsupported = "WRMSR to IA32_EFER changing LME with paging off: mode changes are not modelled"
                    throw Fault.gp(0, rule: "PRIV-2", "mode changes through EFER.LME are not modelled")
                }
                cpu.efer = (v & ~EFER.lma) | (cpu.efer & EFER.lma)
            } else {
                storeMSR(n, v)
            }
        default:
            break
        }
    }

    /// RDMSR/WRMSR of an architectural MSR that a real processor has but the model does not keep
    /// (IA32_TIME_STAMP_COUNTER, IA32_PAT, IA32_FS_BASE, ...): the CPU would read or write it without a
    /// fault, so the model refuses the step instead of raising #GP(0) as for an unimplemented number.
    mutating func refuseUnmodelledMSR(_ n: UInt32, _ name: String) throws(Fault) {
        guard let msrName = MSR.unmodelled[n] else { return }
        unsupported = "\(name) of \(msrName) (MSR 0x\(String(n, radix: 16))): the model does not keep this MSR"
        throw Fault.gp(0, rule: "PRIV-2", "\(msrName) is not modelled")
    }

    /// #UD for a control register that does not exist here: CR1, CR5-CR7, CR9-CR15, and CR8 outside
    /// 64-bit mode (SDM Vol. 2B MOV to/from control registers). The opcode is invalid (ISA-1), whatever the CPL:
    /// it is not the privilege rule PRIV-2, whose check comes after decoding.
    func requireControlRegister(_ n: Int) throws(Fault) {
        switch n {
        case 0, 2, 3, 4: return
        case 8 where in64BitMode: return
        default: throw Fault(.UD, rule: "ISA-1", "CR\(n) does not exist\(n == 8 ? " outside 64-bit mode" : "")")
        }
    }

    /// MSRs that RDMSR/WRMSR accept.
    public static let knownMSRs: Set<UInt32> = [MSR.sysenterCS, MSR.sysenterESP, MSR.sysenterEIP, MSR.efer, MSR.star,
                                                MSR.lstar, MSR.cstar, MSR.fmask, MSR.kernelGSBase]

    /// Why WRMSR of `value` to MSR `n` raises #GP(0) whatever the privilege and mode (PRIV-2, SDM Vol. 2B
    /// WRMSR), or nil when the value is one the MSR can hold: an unknown number; a non-canonical address in
    /// an MSR that holds one (the check belongs to the processor, one that supports IA-32e mode as the
    /// model's does in either mode, not to the current mode: a 32-bit kernel writing 0x00008000_00000000
    /// gets #GP(0) too; Bochs wrmsr); reserved bits of IA32_EFER (SDM Vol. 4; AMD also defines SVME,
    /// LMSLE, FFXSR and TCE, bits 12-15: SVME, FFXSR and TCE have no effect on what the model runs, LMSLE is
    /// refused, `unmodelledEFERBits`). Scenario decoding refuses the
    /// same values in `msrs` except non-canonical addresses (`checkCanonical: false`): FAST-1 makes
    /// SYSENTER raise #GP(0) for a non-canonical SYSENTER_EIP/ESP in IA-32e mode, a state scenarios must
    /// be able to set up without WRMSR.
    public static func msrWriteProblem(_ n: UInt32, _ value: UInt64, vendor: CPUVendor, checkCanonical: Bool = true) -> String? {
        let hex = String(n, radix: 16)
        guard knownMSRs.contains(n) else { return "to unknown MSR 0x\(hex)" }
        if checkCanonical && [MSR.lstar, MSR.cstar, MSR.sysenterEIP, MSR.sysenterESP, MSR.kernelGSBase].contains(n)
            && msrHeldValue(n, value, vendor: vendor) == value && !isCanonical(value) {
            return "of a non-canonical address to MSR 0x\(hex)"
        }
        if n == MSR.efer {
            let amdBits: UInt64 = vendor == .amd ? 0xF000 : 0
            let reserved = value & ~(EFER.sce | EFER.lme | EFER.lma | EFER.nxe | amdBits)
            if reserved != 0 { return "to IA32_EFER sets reserved bits 0x\(String(reserved, radix: 16))" }
        }
        return nil
    }

    /// IA32_EFER bits a processor of `vendor` accepts but whose effect the model does not have (nil: none):
    /// AMD's LMSLE (bit 13) turns on data-segment limit checks in 64-bit mode (AMD APM Vol. 2, "Long Mode
    /// Segment Limit Enable"). AMD's other extra bits (SVME, FFXSR, TCE) change nothing the model runs.
    public static func unmodelledEFERBits(_ value: UInt64, vendor: CPUVendor) -> String? {
        vendor == .amd && value & EFER.lmsle != 0
            ? "LMSLE (bit 13): the long-mode segment limit checks of the AMD processors that have it are not modelled"
            : nil
    }

    /// The value MSR `n` holds after WRMSR writes `value` (PRIV-2). IA32_SYSENTER_CS is a 32-bit MSR on every
    /// processor: bits 63:32 (EDX) are ignored and read as 0 (Bochs wrmsr keeps val32_lo; KVM/VMX keeps it in
    /// the 32-bit GUEST_SYSENTER_CS field). On AMD, IA32_SYSENTER_ESP and IA32_SYSENTER_EIP are 32-bit MSRs too:
    /// the processor drops bits 63:32, so a value that is not canonical as 64 bits raises no #GP(0) (Linux
    /// arch/x86/kernel/cpu/common.c, syscall_init: "On AMD CPUs these MSRs are 32-bit, CPU truncates
    /// MSR_IA32_SYSENTER_EIP"; KVM svm_set_msr keeps `(u32)data` and the high half only for a guest that
    /// claims to be Intel). AMD never reads them in IA-32e mode, where SYSENTER is #UD (FAST-5). Intel keeps
    /// all 64 bits (SYSENTER in IA-32e mode loads RIP/RSP from them, FAST-2).
    public static func msrHeldValue(_ n: UInt32, _ value: UInt64, vendor: CPUVendor) -> UInt64 {
        if n == MSR.sysenterCS || (vendor == .amd && (n == MSR.sysenterESP || n == MSR.sysenterEIP)) {
            return value & 0xFFFF_FFFF
        }
        return value
    }

    /// Stores `value` in MSR `n` as this machine's processor holds it (`msrHeldValue`): WRMSR, `machine.msrs`,
    /// `set.msrs`, the preset and the kernel's SYSENTER_ESP updates all write through here.
    public mutating func storeMSR(_ n: UInt32, _ value: UInt64) {
        cpu.setMSR(n, Self.msrHeldValue(n, value, vendor: vendor))
    }

    /// A scenario's edit of IA32_EFER (`machine.msrs`, `machine.efer`'s flags through `set`, `set.msrs`):
    /// every bit but LME and LMA, which follow the scenario's mode (mode changes are not modelled).
    /// The TLB is flushed, so that the translations cached under the old NXE are not used under the new
    /// one: `set: {efer}` and `set: {msrs: {IA32_EFER}}` are one edit. (WRMSR keeps the TLB, as the SDM
    /// lists no invalidation for it.)
    public mutating func editEFER(_ value: UInt64) {
        let mode = EFER.lme | EFER.lma
        cpu.efer = (value & ~mode) | (cpu.efer & mode)
        flushWholeTLB()
    }

    /// A scenario's edit of MSR `n` (`machine.msrs`, `set.msrs`): IA32_EFER through `editEFER`, any other
    /// as the processor holds it (`storeMSR`).
    public mutating func editMSR(_ n: UInt32, _ value: UInt64) {
        if n == MSR.efer { editEFER(value) } else { storeMSR(n, value) }
    }

    /// MOV CRn, value: CR3 switches the address space and flushes the TLB (PG-15); CR4.PGE toggles flush all.
    public mutating func writeControlRegister(_ n: Int, _ value: UInt64) throws(Fault) {
        switch n {
        case 0:
            let old = cpu.cr0
            // SDM Vol. 2B MOV to CR0 (Bochs check_CR0): bits 63:32 are reserved; PG without PE and NW
            // without CD are invalid combinations. All #GP(0), before any mode-change check.
            if longMode && value >> 32 != 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV to CR0 sets reserved bits 63:32 (0x\(String(value >> 32, radix: 16)))")
            }
            if value & CR0.pg != 0 && value & CR0.pe == 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV to CR0 setting PG with PE clear, an invalid combination")
            }
            if value & CR0.nw != 0 && value & CR0.cd == 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV to CR0 setting NW with CD clear, an invalid combination")
            }
            if value & CR0.pg == 0 && in64BitMode {
                throw Fault.gp(0, rule: "PRIV-3", "MOV CR0 clearing PG while in 64-bit mode (SDM Vol. 2B, MOV to CR0)")
            }
            // Leaving IA-32e mode from compatibility mode needs CR4.PCIDE = 0 (SDM Vol. 2B MOV to CR0: #GP(0)
            // when clearing PG with CR4.PCIDE = 1; Bochs SetCR0).
            if value & CR0.pg == 0 && cpu.cr0 & CR0.pg != 0 && cpu.cr4 & CR4.pcide != 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV CR0 clearing PG while CR4.PCIDE = 1 (SDM Vol. 2B, MOV to CR0)")
            }
            let expectedPG: UInt64 = pagingMode == .off ? 0 : CR0.pg
            if value & CR0.pe == 0 || value & CR0.pg != expectedPG {
                unsupported = "MOV CR0 that turns protection or paging \(value & CR0.pe == 0 ? "off" : (expectedPG == 0 ? "on" : "off")): mode changes are not modelled"
                throw Fault.gp(0, rule: "PRIV-3", "mode changes through CR0 are not modelled")
            }
            // PG-2 (SDM §4.4.1): in PAE paging, a MOV to CR0 that changes CD or NW reloads the PDPTEs.
            if pagingMode == .pae && (old ^ value) & (CR0.cd | CR0.nw) != 0 { try paging.loadPDPTEs(cr3: cpu.cr3) }
            // Reserved bits 28:19, 17, 15:6 ignore the write; ET is hardwired to 1 (SDM Vol. 3A §2.5).
            cpu.cr0 = (value & CR0.defined) | CR0.et
            // The SDM requires a flush only when PG goes 1 -> 0 (mode changes are refused above) and lets MOV to CR0
            // invalidate more (§4.10.4.1); the model flushes on a change of WP, as Bochs does, and says so in the trace
            // as it does for CR3 and CR4.
            if (old ^ cpu.cr0) & CR0.wp != 0 { flushWholeTLB() }
        case 2:
            cpu.cr2 = value
        case 3:
            var value = value
            if longMode {
                // SDM Vol. 2B MOV to CR3: bits 63:MAXPHYADDR are reserved (#GP(0)); with CR4.PCIDE=1 bit 63
                // is the no-flush hint, not stored (the model flushes anyway: PCIDs are not modelled).
                if cpu.cr4 & CR4.pcide != 0 { value &= ~(UInt64(1) << 63) }
                let reserved = value & ~((UInt64(1) << UInt64(PhysicalMemory.maxPhysicalAddressBits)) - 1)
                guard reserved == 0 else {
                    throw Fault.gp(0, rule: "PRIV-3", "MOV to CR3 sets reserved bits 0x\(String(reserved, radix: 16)) (bits 63:\(PhysicalMemory.maxPhysicalAddressBits), above MAXPHYADDR)")
                }
            }
            if pagingMode == .pae { try paging.loadPDPTEs(cr3: value) }
            cpu.cr3 = value
            paging.tlb.flushNonGlobal()
            trace.record(.tlbFlush(kind: "cr3", linear: nil))
        case 4:
            let old = cpu.cr4
            // SDM Vol. 2B MOV to CR4: bits 63:32 are reserved (#GP(0)).
            if longMode && value >> 32 != 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV to CR4 sets reserved bits 63:32 (0x\(String(value >> 32, radix: 16)))")
            }
            // SDM Vol. 3A §2.5 (Figure 2-7), Vol. 2B MOV to CR4: bit 15 and bits 31:29 are reserved on every
            // processor, bits 28:26 on the model's (no LASS, no LAM); setting one is #GP(0) (Bochs: outside
            // get_cr4_allow_mask()).
            if value & CR4.reserved != 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV to CR4 sets reserved bits 0x\(String(value & CR4.reserved, radix: 16))")
            }
            // CR4.CET needs CR0.WP = 1 (SDM Vol. 2B MOV to CR4: #GP(0)).
            if value & CR4.cet != 0 && cpu.cr0 & CR0.wp == 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV to CR4 setting CET while CR0.WP = 0")
            }
            if longMode && value & CR4.pae == 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV CR4 clearing PAE while IA-32e mode is active (SDM Vol. 2B, MOV to CR4)")
            }
            if longMode && (old ^ value) & CR4.la57 != 0 {
                throw Fault.gp(0, rule: "PRIV-3", "MOV CR4 changing LA57 while IA-32e mode is active (SDM Vol. 2B, MOV to CR4)")
            }
            if old & CR4.pcide == 0 && value & CR4.pcide != 0 {
                guard longMode else {
                    throw Fault.gp(0, rule: "PRIV-3", "MOV CR4 setting PCIDE outside IA-32e mode (SDM Vol. 2B, MOV to CR4)")
                }
                guard cpu.cr3 & 0xFFF == 0 else {
                    throw Fault.gp(0, rule: "PRIV-3", "MOV CR4 setting PCIDE while CR3[11:0] = 0x\(String(cpu.cr3 & 0xFFF, radix: 16)) is not 0 (SDM Vol. 2B, MOV to CR4)")
                }
                // PCIDs are not tracked: every CR3 write then flushes all non-global translations, which
                // PG-15 allows (a CPU may always invalidate more than required).
            }
            // After every #GP(0) check, features that change what the model's instructions and accesses do
            // but that it does not model are refused: PVI (CLI/STI at CPL 3 with IOPL < 3 change VIF instead
            // of faulting), CET (shadow stacks on every call, return and delivery), PKS (protection keys for
            // supervisor pages, IA32_PKRS).
            let unmodelled = value & ~old & (CR4.pvi | CR4.cet | CR4.pks)
            if unmodelled != 0 {
                let names = [(CR4.pvi, "PVI"), (CR4.cet, "CET"), (CR4.pks, "PKS")].filter { unmodelled & $0.0 != 0 }.map(\.1)
                unsupported = "MOV to CR4 setting \(names.joined(separator: ", ")): not modelled"
                throw Fault.gp(0, rule: "PRIV-3", "CR4.\(names.joined(separator: "/")) is not modelled")
            }
            if !longMode && pagingMode != .off && (old ^ value) & CR4.pae != 0 {
                unsupported = "MOV CR4 that changes PAE, switching between 32-bit and PAE paging, is not modelled"
                throw Fault.gp(0, rule: "PRIV-3", "switching the paging mode through CR4.PAE is not modelled")
            }
            // PG-2 (SDM §4.4.1): in PAE paging, a MOV to CR4 that changes PGE, PSE or SMEP reloads the
            // PDPTEs from CR3 (a reserved bit in one is #GP(0) at this MOV, and CR4 keeps its value).
            if pagingMode == .pae && (old ^ value) & (CR4.pge | CR4.pse | CR4.smep) != 0 {
                try paging.loadPDPTEs(cr3: cpu.cr3)
            }
            cpu.cr4 = value
            if (old ^ cpu.cr4) & (CR4.pge | CR4.pae | CR4.pse | CR4.smep | CR4.smap | CR4.pke | CR4.pcide) != 0 {
                flushWholeTLB()
            }
        case 8 where in64BitMode:
            // CR8 = TPR[7:4] (SDM Vol. 3A §10.8.6.1): bits 63:4 are reserved (#GP(0)). A non-zero task priority
            // would mask interrupts of lower priority classes, which the model does not do: refused. 0 is CR8's value.
            guard value >> 4 == 0 else {
                throw Fault.gp(0, rule: "PRIV-3", "MOV to CR8 sets reserved bits 63:4 (0x\(String(value, radix: 16)))")
            }
            if value != 0 {
                unsupported = "MOV to CR8 of a non-zero task priority (\(value)): interrupt masking by the TPR is not modelled"
                throw Fault.gp(0, rule: "PRIV-3", "CR8 task priorities are not modelled")
            }
        default:
            throw Fault(.UD, rule: "ISA-1", "CR\(n) does not exist")
        }
    }
}

extension Machine {
    /// Drops every TLB entry, global ones included, and says so in the trace (a `tlb flush` of kind `all`): the
    /// effect of a CR0.WP, CR4 or EFER change (SDM Vol. 3A §4.10.4.1).
    mutating func flushWholeTLB() {
        paging.tlb.flushAll()
        trace.record(.tlbFlush(kind: "all", linear: nil))
    }
}
