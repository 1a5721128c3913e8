// Stack pushes and pops through SS, segmentation limits and paging, as the CPU makes them during
// far calls and event delivery (SDM Vol. 3A §6.12.1, §5.8.5).

/// A stack being written: its segment, pointer and the width of each slot.
struct StackCursor {
    var ss: SegmentRegister
    var sp: UInt64
    /// The CPL at which the pushes are made (the new CPL after a stack switch).
    var cpl: UInt8
    /// 64-bit stack (IA-32e 64-bit mode target): linear = RSP, canonical check.
    var is64: Bool
    /// The error code of a #SS raised by these pushes: the new SS selector on a new stack, 0 on the current one.
    var faultCode: UInt32
    var rule: String

    mutating func push(_ value: UInt64, width: Int, on machine: inout Machine) throws(Fault) {
        if is64 {
            sp = sp &- UInt64(width)
            guard isCanonical(sp) else {
                throw Fault(.SS, code: faultCode, rule: rule, "stack pointer 0x\(String(sp, radix: 16)) is not canonical")
            }
            try machine.writeLinear(sp, value: value, size: width, MemoryAccess(.write, cpl: cpl, stack: true))
            return
        }
        try refuseNullSS(on: &machine)
        advance(by: 0 &- UInt64(width))
        let off = offset
        // Expand-up: off ... off+width-1 within the limit; expand-down: above it (SDM Vol. 3A §5.3).
        guard ss.cache.contains(offset: off, size: width) else {
            machine.refuseFlatLimitWrap(ss.cache, offset: off, size: width, register: "SS")
            throw Fault(.SS, code: faultCode, rule: rule, "push at \(ss.cache.big ? "ESP" : "SP") 0x\(String(off, radix: 16)) lies outside the stack segment limits")
        }
        let linear = (ss.cache.base &+ off) & 0xFFFF_FFFF
        try machine.writeLinear(linear, value: value & (width == 8 ? ~0 : (UInt64(1) << (8 * UInt64(width))) - 1),
                                size: width, MemoryAccess(.write, cpl: cpl, stack: true))
    }

    /// The limit check of a whole frame before anything is written: `slots` pushes of `width` bytes
    /// must all lie within SS's limits, else #SS with this cursor's error code (SDM Vol. 2A INT n:
    /// "IF new stack does not have room for N bytes THEN #SS"; only segmentation, paging is left to
    /// the pushes). Outside 64-bit stacks only.
    func checkRoom(slots: Int, width: Int, on machine: inout Machine) throws(Fault) {
        guard !is64 else { return }
        try refuseNullSS(on: &machine)
        let mask: UInt64 = ss.cache.big ? 0xFFFF_FFFF : 0xFFFF
        var probe = sp
        for _ in 0..<slots {
            probe = (probe &- UInt64(width)) & mask
            guard ss.cache.contains(offset: probe, size: width) else {
                machine.refuseFlatLimitWrap(ss.cache, offset: probe, size: width, register: "SS")
                throw Fault(.SS, code: faultCode, rule: rule,
                            "the stack has no room for the \(slots * width)-byte frame: ESP 0x\(String(sp, radix: 16)) - \(slots * width) lies outside the stack segment limits")
            }
        }
    }

    mutating func pop(width: Int, on machine: inout Machine) throws(Fault) -> UInt64 {
        let linear: UInt64
        if is64 {
            guard isCanonical(sp) else {
                throw Fault(.SS, code: faultCode, rule: rule, "stack pointer 0x\(String(sp, radix: 16)) is not canonical")
            }
            linear = sp
        } else {
            // Outside 64-bit mode the stack address is ESP or SP (SS.B): in compatibility mode the upper half of
            // RSP, left there by 64-bit code, takes no part (SDM Vol. 1 §3.4.1.1; Bochs return_protected reads
            // at ESP when SS.D/B = 1).
            try refuseNullSS(on: &machine)
            let off = offset
            if !ss.cache.contains(offset: off, size: width) {
                machine.refuseFlatLimitWrap(ss.cache, offset: off, size: width, register: "SS")
                throw Fault(.SS, code: faultCode, rule: rule, "pop at \(ss.cache.big ? "ESP" : "SP") 0x\(String(off, radix: 16)) lies outside the stack segment limits")
            }
            linear = (ss.cache.base &+ off) & 0xFFFF_FFFF
        }
        let v = try machine.readLinear(linear, size: width, MemoryAccess(.read, cpl: cpl, stack: true))
        advance(by: UInt64(width))
        return v
    }

    /// A null SS loaded in 64-bit mode is refused as not modelled outside 64-bit mode. Only 64-bit mode at CPL 0-2
    /// loads a null SS (SEG-6a); MOV SS, RET and IRET refuse it for compatibility mode (SEG-6a, FAR-13), but a
    /// same-level far JMP, CALL or RET from 64-bit code to a compatibility-mode segment keeps it, and the SDM does
    /// not say what a stack access through it then does. A null SS *selector* that SYSENTER, SYSCALL, SYSEXIT or
    /// SYSRET computed (e.g. SYSENTER_CS = 0xFFF8 gives SS = 0) comes with the fixed, usable cache those
    /// instructions load whatever the selector (SDM Vol. 2B SYSENTER: "the processor loads fixed values into the
    /// hidden descriptor caches"), and a stack access uses that cache.
    func refuseNullSS(on machine: inout Machine) throws(Fault) {
        guard ss.selector & 0xFFFC == 0, !ss.cache.usable else { return }
        machine.unsupported = "a stack access through a null SS (0x\(String(ss.selector, radix: 16))) outside 64-bit mode, loaded in 64-bit mode and kept by a same-level transfer (or given so at the start): the SDM does not say what it does"
        throw Fault(.SS, code: 0, rule: rule, "stack access through a null SS outside 64-bit mode is not modelled")
    }

    /// The offset in SS of the top of the stack: RSP on a 64-bit stack, else ESP (SS.B = 1) or SP (SS.B = 0).
    var offset: UInt64 { is64 ? sp : sp & (ss.cache.big ? 0xFFFF_FFFF : 0xFFFF) }

    /// Moves the stack pointer by `delta` (two's complement) with the stack's address size: all of RSP on a
    /// 64-bit stack; ESP, zero-extended, on a 32-bit one; on a 16-bit stack (SS.B = 0) only SP, so that
    /// ESP[31:16] are kept (SDM Vol. 1 §6.2.3 "address-size attribute of the stack"; Bochs writes SP only).
    mutating func advance(by delta: UInt64) {
        if is64 {
            sp = sp &+ delta
        } else if ss.cache.big {
            sp = (sp &+ delta) & 0xFFFF_FFFF
        } else {
            sp = (sp & ~0xFFFF) | ((sp &+ delta) & 0xFFFF)
        }
    }
}

extension Machine {
    /// A cursor over the current stack.
    func currentStack(rule: String) -> StackCursor {
        StackCursor(ss: cpu.ss, sp: cpu[.rsp], cpl: cpu.cpl, is64: in64BitMode, faultCode: 0, rule: rule)
    }

    /// Writes a stack pointer back into RSP/ESP with the stack's width.
    mutating func setStackPointer(_ sp: UInt64) {
        cpu[.rsp] = sp
    }
}
