// Fast system-call instructions: SYSENTER/SYSEXIT (IA32_SYSENTER_CS/ESP/EIP) and SYSCALL/SYSRET
// (EFER.SCE, STAR, LSTAR, CSTAR, FMASK). SDM Vol. 2B instruction pages; rules FAST-1..FAST-12.
//
// STAR (FAST-11):  63      48 47      32 31                0
//                 | user base | kernel CS | legacy SYSCALL EIP |
//   SYSCALL: CS = STAR[47:32] & ~3, SS = STAR[47:32] + 8
//   SYSRET:  CS = STAR[63:48] + 16 (64-bit) or STAR[63:48] (compat), SS = STAR[63:48] + 8, all | 3

/// The record of a fast entry, for `expect.entry`.
public struct EntryRecord: Sendable, Equatable {
    /// `int80`, `sysenter` or `syscall`.
    public var via: String
    public var cs: UInt16
    public var ss: UInt16
    public var ip: UInt64
    public var sp: UInt64
    public var cpl: UInt8
}

extension Machine {
    /// `expect.entry` of an `int 0x80` (seed concept 1: the system-call gate): when the INT 0x80 instruction
    /// was delivered through IDT vector 0x80 with no fault, the state right after the delivery (the gate's
    /// CS, the stack the CPU switched to, the handler's first instruction, the new CPL), recorded as the
    /// SYSENTER and SYSCALL instructions record theirs, on a bare CPU too. An entry an instruction already
    /// recorded is kept.
    public mutating func noteInt80Entry(_ instruction: Instruction, _ result: ExecutionResult) {
        guard lastEntry == nil, instruction == .int(0x80), result.faults.isEmpty,
              result.delivery == .delivered(vector: 0x80) else { return }
        lastEntry = EntryRecord(via: "int80", cs: cpu.cs.selector, ss: cpu.ss.selector, ip: cpu.rip, sp: cpu[.rsp], cpl: cpu.cpl)
    }

    /// SYSENTER (FAST-1, FAST-2, FAST-5).
    public mutating func sysenter() throws(Fault) {
        if vendor == .amd && longMode {
            throw Fault(.UD, rule: "FAST-5", "AMD processors raise #UD for SYSENTER in long mode")
        }
        let csMSR = cpu.msr(MSR.sysenterCS)
        guard csMSR & 0xFFFC != 0 else { throw Fault.gp(0, rule: "FAST-1", "IA32_SYSENTER_CS is null") }
        let eip = cpu.msr(MSR.sysenterEIP), esp = cpu.msr(MSR.sysenterESP)
        if longMode {
            guard isCanonical(eip) && isCanonical(esp) else {
                throw Fault.gp(0, rule: "FAST-1", "IA32_SYSENTER_EIP or _ESP is not canonical")
            }
        }
        let old = cpu.cpl
        let csSel = UInt16(csMSR & 0xFFFC)
        cpu.cs = SegmentRegister(selector: csSel, cache: .flat(code: true, dpl: 0, long: longMode))
        cpu.ss = SegmentRegister(selector: (csSel &+ 8) & 0xFFFC, cache: .flat(code: false, dpl: 0))
        cpu.cpl = 0
        cpu[.rsp] = longMode ? esp : esp & 0xFFFF_FFFF
        cpu.rip = longMode ? eip : eip & 0xFFFF_FFFF
        cpu.rflags &= ~(RFLAGS.vm | RFLAGS.if | RFLAGS.rf)
        lastEntry = EntryRecord(via: "sysenter", cs: cpu.cs.selector, ss: cpu.ss.selector, ip: cpu.rip, sp: cpu[.rsp], cpl: 0)
        trace.record(.fastEntry(instruction: "sysenter", cs: cpu.cs.selector, ss: cpu.ss.selector, ip: cpu.rip, sp: cpu[.rsp]))
        noteCPLChange(from: old)
    }

    /// SYSEXIT, or SYSEXIT with REX.W when `to64` (FAST-3, FAST-4, FAST-5).
    public mutating func sysexit(to64: Bool) throws(Fault) {
        if vendor == .amd && longMode {
            throw Fault(.UD, rule: "FAST-5", "AMD processors raise #UD for SYSEXIT in long mode")
        }
        guard cpu.cpl == 0 else { throw Fault.gp(0, rule: "FAST-3", "SYSEXIT at CPL \(cpu.cpl): only CPL 0 may execute it") }
        let csMSR = cpu.msr(MSR.sysenterCS)
        guard csMSR & 0xFFFC != 0 else { throw Fault.gp(0, rule: "FAST-3", "IA32_SYSENTER_CS is null") }
        if to64 && !in64BitMode {
            throw Fault(.UD, rule: "FAST-4", "SYSEXIT with REX.W exists only in 64-bit mode")
        }
        let base = UInt16(csMSR & 0xFFFF)
        let ip = to64 ? cpu[.rdx] : cpu[.rdx] & 0xFFFF_FFFF
        let sp = to64 ? cpu[.rcx] : cpu[.rcx] & 0xFFFF_FFFF
        if to64 {
            guard isCanonical(ip) && isCanonical(sp) else {
                throw Fault.gp(0, rule: "FAST-4", "SYSEXIT to a non-canonical RIP or RSP (RDX 0x\(String(ip, radix: 16)), RCX 0x\(String(sp, radix: 16)))")
            }
        }
        let cs = ((base &+ (to64 ? 32 : 16)) & 0xFFFC) | 3
        let ss = ((base &+ (to64 ? 40 : 24)) & 0xFFFC) | 3
        let old = cpu.cpl
        cpu.cs = SegmentRegister(selector: cs, cache: .flat(code: true, dpl: 3, long: to64))
        cpu.ss = SegmentRegister(selector: ss, cache: .flat(code: false, dpl: 3))
        cpu.cpl = 3
        cpu.rip = ip
        cpu[.rsp] = sp
        trace.record(.fastReturn(instruction: "sysexit", cs: cs, ss: ss, ip: ip, sp: sp))
        noteCPLChange(from: old)
    }

    /// SYSCALL (FAST-6, FAST-7, FAST-8). `nextIP` is the address of the following instruction.
    public mutating func syscallInstruction(nextIP: UInt64) throws(Fault) {
        guard cpu.efer & EFER.sce != 0 else { throw Fault(.UD, rule: "FAST-6", "SYSCALL with EFER.SCE = 0") }
        if vendor == .intel && !in64BitMode {
            throw Fault(.UD, rule: "FAST-6", "Intel processors support SYSCALL only in 64-bit mode (this is \(longMode ? "compatibility" : "legacy protected") mode)")
        }
        let star = cpu.msr(MSR.star)
        let csSel = UInt16((star >> 32) & 0xFFFC)
        // FAST-7: SS = STAR[47:32] + 8, not masked (only CS has its RPL forced to 0).
        let ssSel = UInt16(truncatingIfNeeded: ((star >> 32) & 0xFFFF) &+ 8)
        let old = cpu.cpl
        if longMode {
            let from64 = in64BitMode
            cpu[.rcx] = nextIP
            cpu[.r11] = cpu.rflags & ~RFLAGS.rf
            cpu.cs = SegmentRegister(selector: csSel, cache: .flat(code: true, dpl: 0, long: true))
            cpu.ss = SegmentRegister(selector: ssSel, cache: .flat(code: false, dpl: 0))
            cpu.rflags = (cpu.rflags & ~cpu.msr(MSR.fmask) & ~RFLAGS.rf) | RFLAGS.reserved1
            cpu.rip = from64 ? cpu.msr(MSR.lstar) : cpu.msr(MSR.cstar)
        } else {
            // FAST-8: legacy-mode SYSCALL (AMD).
            cpu[.rcx] = nextIP & 0xFFFF_FFFF
            cpu.cs = SegmentRegister(selector: csSel, cache: .flat(code: true, dpl: 0))
            cpu.ss = SegmentRegister(selector: ssSel, cache: .flat(code: false, dpl: 0))
            cpu.rflags &= ~(RFLAGS.vm | RFLAGS.if | RFLAGS.rf)
            cpu.rip = star & 0xFFFF_FFFF
        }
        cpu.cpl = 0
        lastEntry = EntryRecord(via: "syscall", cs: cpu.cs.selector, ss: cpu.ss.selector, ip: cpu.rip, sp: cpu[.rsp], cpl: 0)
        trace.record(.fastEntry(instruction: "syscall", cs: cpu.cs.selector, ss: cpu.ss.selector, ip: cpu.rip, sp: cpu[.rsp]))
        noteCPLChange(from: old)
    }

    /// SYSRET; `to64` is the REX.W form (FAST-9, FAST-10, FAST-12).
    /// Returns a fault to raise *after* the transition (AMD's non-canonical RCX faults at CPL 3).
    public mutating func sysret(to64: Bool) throws(Fault) -> Fault? {
        guard cpu.efer & EFER.sce != 0 else { throw Fault(.UD, rule: "FAST-9", "SYSRET with EFER.SCE = 0") }
        if vendor == .intel && !in64BitMode {
            throw Fault(.UD, rule: "FAST-9", "Intel processors support SYSRET only in 64-bit mode")
        }
        guard cpu.cpl == 0 else { throw Fault.gp(0, rule: "FAST-9", "SYSRET at CPL \(cpu.cpl): only CPL 0 may execute it") }
        let star = cpu.msr(MSR.star)
        let base = UInt16((star >> 48) & 0xFFFF)
        let ssSel = ((base &+ 8) & 0xFFFC) | 3
        var late: Fault?
        let old = cpu.cpl
        if longMode {
            let ip = to64 ? cpu[.rcx] : cpu[.rcx] & 0xFFFF_FFFF
            if to64 && !isCanonical(ip) {
                if vendor == .intel {
                    // FAST-12: the #GP is raised at CPL 0, on whatever RSP user space left (CVE-2012-0217).
                    throw Fault.gp(0, rule: "FAST-12",
                                   "SYSRET to non-canonical RCX 0x\(String(ip, radix: 16)): Intel raises #GP(0) at CPL 0 with the user's RSP still loaded (CVE-2012-0217)")
                }
                late = Fault.gp(0, rule: "FAST-12", "SYSRET to non-canonical RCX 0x\(String(ip, radix: 16)): AMD completes the return and faults at CPL 3")
            }
            let csSel = to64 ? ((base &+ 16) & 0xFFFC) | 3 : (base & 0xFFFC) | 3
            cpu.cs = SegmentRegister(selector: csSel, cache: .flat(code: true, dpl: 3, long: to64))
            cpu.ss = SegmentRegister(selector: ssSel, cache: .flat(code: false, dpl: 3))
            cpu.rip = ip
            cpu.rflags = (cpu[.r11] & 0x3C_7FD7) | RFLAGS.reserved1
        } else {
            // Legacy-mode SYSRET (AMD): sets IF.
            cpu.cs = SegmentRegister(selector: (base & 0xFFFC) | 3, cache: .flat(code: true, dpl: 3))
            cpu.ss = SegmentRegister(selector: ssSel, cache: .flat(code: false, dpl: 3))
            cpu.rip = cpu[.rcx] & 0xFFFF_FFFF
            cpu.rflags |= RFLAGS.if
        }
        cpu.cpl = 3
        trace.record(.fastReturn(instruction: "sysret", cs: cpu.cs.selector, ss: cpu.ss.selector, ip: cpu.rip, sp: cpu[.rsp]))
        noteCPLChange(from: old)
        return late
    }
}
