// StartingContext: the CPU state a task's `context` gives must be one a processor can be in. Every way
// into CS (far JMP/CALL/RET, IRET, an interrupt gate, SYSRET/SYSEXIT) checks the descriptor, and the
// state the task starts in was reached through one of them; a context that no such load can produce
// (a data segment in CS, L=1 with D=1 in IA-32e mode, a 64-bit RIP that is not canonical, an EIP wider
// than 32 bits) leaves the model to guess what would run, so it is refused with the reason, at the
// context's line.

/// The checks on a task's starting CS, SS and instruction pointer.
public enum StartingContext {
    /// Throws when `cs`, `ss` and `rip` (as the builder loaded them, without checks) are not a state a
    /// processor reaches. `bits` is the task's width when the scenario gave it (nil: the mode's default).
    public static func validate(task: String, cs: SegmentRegister, ss: SegmentRegister, rip: UInt64,
                                bits: Int?, longMode: Bool) throws(MachineError) {
        let csName = "CS 0x\(String(cs.selector, radix: 16))"
        // FAR-2 / SEG-7: CS is loaded only from a code segment descriptor.
        guard cs.cache.isCode else {
            throw MachineError("task \(task): \(csName) names a data segment; CS holds only code segments (every CS load checks the descriptor, FAR-2)")
        }
        // IA-32e mode: L=1 with D=1 is reserved, and every CS load refuses it with #GP(selector) (SDM Vol. 3A §5.2.1,
        // CALL/JMP/RET/IRET pseudo-code).
        if longMode && cs.cache.long && cs.cache.big {
            throw MachineError("task \(task): \(csName) has L=1 and D=1, which IA-32e mode reserves (a CS load of it is #GP(selector)): no code runs in it")
        }
        let sixtyFour = longMode && cs.cache.long
        if let bits {
            if sixtyFour && bits == 32 {
                throw MachineError("task \(task): bits: 32 but \(csName) is a 64-bit code segment (L=1); a 32-bit task runs in compatibility mode (L=0)")
            }
            if longMode && !sixtyFour && bits == 64 {
                throw MachineError("task \(task): bits: 64 but \(csName) is not a 64-bit code segment (L=0, compatibility mode)")
            }
        }
        if sixtyFour {
            // 64-bit mode: RIP is canonical, or no instruction could have been fetched there (SDM Vol. 3A §3.3.7.1).
            guard isCanonical(rip) else {
                throw MachineError("task \(task): RIP 0x\(String(rip, radix: 16)) is not canonical: no instruction runs there in 64-bit mode")
            }
        } else if rip > 0xFFFF_FFFF {
            // Legacy and compatibility mode: the instruction pointer is EIP, 32 bits.
            throw MachineError("task \(task): EIP 0x\(String(rip, radix: 16)) does not fit in 32 bits (\(longMode ? "compatibility" : "protected") mode)")
        }
        // The CPL is CS.RPL: non-conforming code runs at its DPL, conforming code at a CPL no more privileged than
        // its DPL (FAR-2, FAR-3: every CS load makes it so).
        let cpl = UInt8(cs.selector & 3)
        if cs.cache.isConforming ? cs.cache.dpl > cpl : cs.cache.dpl != cpl {
            throw MachineError("task \(task): \(csName) gives CPL \(cpl), but the \(cs.cache.isConforming ? "conforming" : "non-conforming") code segment has DPL \(cs.cache.dpl) (FAR-2: \(cs.cache.isConforming ? "DPL <= CPL" : "DPL == CPL"))")
        }
        // SEG-6: SS holds a writable data segment whose DPL and RPL are the CPL, or a null selector (64-bit mode at
        // CPL 0-2 only, SEG-6a; outside 64-bit mode the builder leaves a null SS unusable and a stack access through
        // it is refused when it happens).
        let ssName = "SS 0x\(String(ss.selector, radix: 16))"
        if Selector(ss.selector).isNull {
            if sixtyFour && cpl == 3 {
                throw MachineError("task \(task): \(ssName) is null at CPL 3 in 64-bit mode, which no SS load allows (SEG-6a)")
            }
            // Every load of a null SS in 64-bit mode (MOV SS, IRETQ, RETFQ, a delivery or a 64-bit call gate to an
            // inner level) gives it RPL = CPL (SEG-6a, FAR-13, INT-10).
            if sixtyFour && UInt8(ss.selector & 3) != cpl {
                throw MachineError("task \(task): \(ssName) is a null SS with RPL \(ss.selector & 3) at CPL \(cpl) in 64-bit mode; a null SS is only ever loaded with RPL = CPL (SEG-6a; write \(cpl))")
            }
        } else {
            guard ss.cache.isWritableData else {
                throw MachineError("task \(task): \(ssName) is not a writable data segment; SS holds only those (SEG-6)")
            }
            guard ss.cache.dpl == cpl && UInt8(ss.selector & 3) == cpl else {
                throw MachineError("task \(task): \(ssName) (RPL \(ss.selector & 3), DPL \(ss.cache.dpl)) does not match CPL \(cpl); SS's RPL and DPL are the CPL (SEG-6)")
            }
        }
    }
}
