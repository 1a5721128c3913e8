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
        sp = Self.step(sp, by: 0 &- UInt64(width), big: ss.cache.big)
        let offset = Self.offset(sp, big: ss.cache.big)
        // Expand-up: sp ... sp+width-1 within the limit; expand-down: above it (SDM Vol. 3A §5.3).
        guard ss.cache.contains(offset: offset, size: width) else {
            throw Fault(.SS, code: faultCode, rule: rule, "push at ESP 0x\(String(offset, radix: 16)) lies outside the stack segment limits")
        }
        let linear = (ss.cache.base &+ offset) & 0xFFFF_FFFF
        try machine.writeLinear(linear, value: value & (width == 8 ? ~0 : (UInt64(1) << (8 * UInt64(width))) - 1),
                                size: width, MemoryAccess(.write, cpl: cpl, stack: true))
    }

    /// The limit check of a whole frame before anything is written: `slots` pushes of `width` bytes
    /// must all lie within SS's limits, else #SS with this cursor's error code (SDM Vol. 2A INT n:
    /// "IF new stack does not have room for N bytes THEN #SS"; only segmentation, paging is left to
    /// the pushes). On a 64-bit stack the frame's bytes must all be canonical (SDM Vol. 2A CALL: "IF
    /// pushing 32 bytes on the stack would use a non-canonical address THEN #SS(NewSS selector)").
    func checkRoom(slots: Int, width: Int) throws(Fault) {
        if is64 {
            let bytes = UInt64(slots * width)
            guard isCanonical(sp &- bytes), isCanonical(sp &- 1) else {
                throw Fault(.SS, code: faultCode, rule: rule,
                            "pushing the \(bytes)-byte frame below RSP 0x\(String(sp, radix: 16)) would use a non-canonical address")
            }
            return
        }
        let mask: UInt64 = ss.cache.big ? 0xFFFF_FFFF : 0xFFFF
        var probe = sp
        for _ in 0..<slots {
            probe = (probe &- UInt64(width)) & mask
            guard ss.cache.contains(offset: probe, size: width) else {
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
            let offset = Self.offset(sp, big: ss.cache.big)
            if !ss.cache.contains(offset: offset, size: width) {
                throw Fault(.SS, code: faultCode, rule: rule, "pop at ESP 0x\(String(offset, radix: 16)) lies outside the stack segment limits")
            }
            linear = (ss.cache.base &+ offset) & 0xFFFF_FFFF
        }
        let v = try machine.readLinear(linear, size: width, MemoryAccess(.read, cpl: cpl, stack: true))
        sp = is64 ? sp &+ UInt64(width) : Self.step(sp, by: UInt64(width), big: ss.cache.big)
        return v
    }

    /// The stack pointer moved by `delta` (two's complement) outside 64-bit mode: a 32-bit stack (SS.B=1)
    /// moves ESP; a 16-bit one moves SP only and leaves ESP[31:16] as they were (SDM Vol. 1 §6.2.3,
    /// "Address-Size Attributes for Stack Accesses": the B flag selects SP or ESP; Bochs `SP -= 2` in
    /// push_16, QEMU SET_ESP with the stack-pointer mask).
    static func step(_ sp: UInt64, by delta: UInt64, big: Bool) -> UInt64 {
        big ? (sp &+ delta) & 0xFFFF_FFFF : (sp & 0xFFFF_0000) | ((sp &+ delta) & 0xFFFF)
    }

    /// The offset in SS that a stack pointer addresses: ESP, or SP for a 16-bit stack.
    static func offset(_ sp: UInt64, big: Bool) -> UInt64 { sp & (big ? 0xFFFF_FFFF : 0xFFFF) }
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
