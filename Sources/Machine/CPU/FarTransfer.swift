// Far control transfers: far JMP/CALL to code segments and through call gates, far RET and IRET
// (SDM Vol. 3A §5.8; rules FAR-1..FAR-17). In 64-bit mode the direct far forms do not exist: a
// `call far SEL:OFF` in a scenario stands for the memory-indirect REX.W form with that pointer, and
// `retf` for RETFQ (8-byte slots).

/// JMP or CALL.
public enum FarKind: String, Sendable {
    case jmp, call
}

extension Machine {
    /// The operand width of far transfers and IRET at the current mode: 8 in 64-bit mode, else the code
    /// segment's default operand size (D bit: 4, or 2 in a 16-bit code segment).
    var farWidth: Int { in64BitMode ? 8 : (cpu.cs.cache.big ? 4 : 2) }

    /// Far JMP/CALL SEL:OFF (FAR-1..FAR-11, TASK-2).
    public mutating func farTransfer(_ kind: FarKind, selector sel: Selector, offset: UInt64, returnIP: UInt64) throws(Fault) {
        guard !sel.isNull else { throw Fault.gp(0, rule: "FAR-1", "far \(kind.rawValue) to a null selector") }
        guard let d = descriptor(sel) else {
            throw Fault(.GP, code: sel.errorCode, rule: "FAR-1", "selector \(sel) lies beyond the \(sel.isLDT ? "LDT" : "GDT") limit")
        }
        if d.isCodeOrData {
            // FAR-2, FAR-3: direct transfer; CPL never changes.
            try checkCodeSegment(d, sel, rpl: sel.rpl, cpl: cpu.cpl, rule: "FAR-2")
            var cache = d.cache
            if !longMode { cache.long = false }
            // SDM Vol. 2A CALL (CONFORMING-/NONCONFORMING-CODE-SEGMENT): "IF stack not large enough for a
            // 6-byte return address THEN #SS(0)" comes before the offset check (#GP(0)); Bochs likewise
            // writes the return address before branch_far. The pushes themselves (#PF) come after.
            var st = currentStack(rule: "FAR-4")
            if kind == .call { try st.checkRoom(slots: 2, width: farWidth, on: &self) }
            // With a 16-bit operand size (16-bit code) the new IP has 16 bits: SDM Vol. 2A JMP/CALL "IF OperandSize
            // = 16 THEN tempEIP <- tempEIP AND 0000FFFFH" (the ptr16:16 form cannot encode more).
            let target = try checkBranchTarget(farWidth == 2 ? offset & 0xFFFF : offset, cache: cache, rule: "FAR-2")
            if kind == .call {
                try st.push(UInt64(cpu.cs.selector), width: farWidth, on: &self)
                try st.push(returnIP, width: farWidth, on: &self)
                cpu[.rsp] = st.sp
            }
            cpu.cs = SegmentRegister(selector: (sel.value & 0xFFFC) | UInt16(cpu.cpl), cache: cache)
            cpu.rip = target
            trace.record(.segmentCheck(register: "cs", selector: cpu.cs.selector,
                                       detail: "far \(kind.rawValue) to \(d.isConforming ? "conforming" : "non-conforming") code, DPL \(d.dpl), CPL stays \(cpu.cpl) (FAR-3)"))
            return
        }
        switch d.systemType {
        case .some(.callGate), .some(.callGate16):
            try callGateTransfer(kind, gateSelector: sel, gate: d, returnIP: returnIP)
        case .some(.tssAvailable), .some(.tssBusy), .some(.tss16Available), .some(.tss16Busy), .some(.taskGate):
            if longMode {
                throw Fault(.GP, code: sel.errorCode, rule: "TASK-9", "IA-32e mode has no hardware task switching: far \(kind.rawValue) to \(describeKind(d))")
            }
            try farTaskSwitch(kind, sel, d, returnIP: returnIP)
        default:
            throw Fault(.GP, code: sel.errorCode, rule: "FAR-1", "far \(kind.rawValue) to \(describeKind(d)), which is not a valid target")
        }
    }

    /// Far JMP/CALL through a call gate (FAR-5..FAR-11).
    mutating func callGateTransfer(_ kind: FarKind, gateSelector gsel: Selector, gate: Descriptor, returnIP: UInt64) throws(Fault) {
        let cpl = cpu.cpl
        // FAR-5: gate privilege, long-mode type, presence.
        guard gate.dpl >= cpl && gate.dpl >= gsel.rpl else {
            throw Fault(.GP, code: gsel.errorCode, rule: "FAR-5",
                        "call gate DPL \(gate.dpl) is below CPL \(cpl) or RPL \(gsel.rpl): the gate must satisfy DPL >= max(CPL, RPL)")
        }
        if longMode && gate.systemType != .callGate {
            throw Fault(.GP, code: gsel.errorCode, rule: "FAR-5", "in IA-32e mode only 64-bit call gates (type 0xC) are valid")
        }
        guard gate.present else {
            throw Fault(.NP, code: gsel.errorCode, rule: "FAR-5", "call gate \(gsel) is not present")
        }
        // FAR-11: a 64-bit call gate is 16 bytes. Its upper half is read only once the gate passed its DPL,
        // type and P checks: it must lie inside the table (index*8 + 15 <= limit) and the type field of its
        // upper dword must be 0 (SDM Vol. 3A §5.8.3.1), each else #GP(gate selector). Bochs (call_protected /
        // jump_protected check P, then call_gate64 / jmp_call_gate64 -> fetch_raw_descriptor_64 checks the
        // limit, then the type) and QEMU (helper_lcall/ljmp_protected: P, then load_segment of sel+8, then its
        // type) agree, as does the SDM's CALL/JMP pseudo-code (P right after the DPL checks): a not-present gate
        // is #NP(gate) whatever its upper half holds.
        var high: UInt64 = 0
        if longMode {
            guard let h = descriptorHigh(gsel) else {
                throw Fault(.GP, code: gsel.errorCode, rule: "FAR-11",
                            "the upper half of the 16-byte call gate \(gsel) lies beyond the \(gsel.isLDT ? "LDT" : "GDT") limit")
            }
            guard WideDescriptor.upperType(h) == 0 else {
                throw Fault(.GP, code: gsel.errorCode, rule: "FAR-11",
                            "the type field of the 64-bit call gate \(gsel)'s upper dword is 0x\(String(WideDescriptor.upperType(h), radix: 16)), not 0")
            }
            high = h
        }
        // FAR-6, FAR-7: the target code segment.
        let tsel = Selector(gate.gateSelector)
        guard !tsel.isNull else { throw Fault.gp(0, rule: "FAR-6", "the call gate's target selector is null") }
        guard let t = descriptor(tsel) else {
            throw Fault(.GP, code: tsel.errorCode, rule: "FAR-6", "the call gate's target \(tsel) lies beyond the descriptor table limit")
        }
        guard t.isCode && t.dpl <= cpl else {
            throw Fault(.GP, code: tsel.errorCode, rule: "FAR-7",
                        t.isCode ? "the target code segment's DPL \(t.dpl) is greater than CPL \(cpl)" : "the call gate's target is \(describeKind(t)), not code")
        }
        // FAR-11 before FAR-7's present check: as in check_cs, P is checked last.
        if longMode && !(t.long && !t.big) {
            throw Fault(.GP, code: tsel.errorCode, rule: "FAR-11", "a 64-bit call gate must target a 64-bit code segment (L=1, D=0)")
        }
        // A JMP checks the target with check_cs (FAR-8 below): privilege before presence, so a more privileged
        // non-conforming target that is also not present is #GP, not #NP. FAR-7's present check is CALL's.
        if kind == .call {
            guard t.present else { throw Fault(.NP, code: tsel.errorCode, rule: "FAR-7", "the call gate's target \(tsel) is not present") }
        }
        let is32 = gate.systemType == .callGate
        let offset = longMode ? gate.gateOffset | (high & 0xFFFF_FFFF) << 32 : (is32 ? gate.gateOffset : gate.gateOffset & 0xFFFF)
        var recordType = "call"
        if kind == .jmp {
            // FAR-8: a JMP never changes privilege.
            try checkCodeSegment(t, tsel, rpl: 0, cpl: cpl, rule: "FAR-8")
            try checkBranchTarget(offset, cache: t.cache, rule: "FAR-8")
            cpu.cs = SegmentRegister(selector: (tsel.value & 0xFFFC) | UInt16(cpl), cache: t.cache)
            cpu.rip = offset
            recordType = "call"
            lastDelivery = DeliveryRecord(vector: nil, type: recordType, dpl: gate.dpl, fromCPL: cpl, toCPL: cpl,
                                          stackSwitch: false, interruptsEnabled: cpu.interruptsEnabled,
                                          selector: cpu.cs.selector, handler: offset, pushed: [])
            trace.record(.gate(vector: nil, kind: "call gate (jmp)", dpl: gate.dpl, fromCPL: cpl, toCPL: cpl, stackSwitch: false, pushed: []))
            return
        }
        let width = longMode ? 8 : (is32 ? 4 : 2)
        var pushed: [String] = []
        if !t.isConforming && t.dpl < cpl {
            // FAR-9 / FAR-11: privilege-raising CALL, stack from the TSS. Order of the SDM's CALL pseudo-code
            // (Vol. 2A, MORE-PRIVILEGE): the new stack's checks (#TS/#SS), its room for the parameters plus
            // SS, ESP, CS, EIP (#SS(NewSS selector); 64-bit: the 32 bytes must be canonical), then the gate's
            // offset against the new CS (#GP(0)), and only then the pushes (paging: #PF) and the copy of the
            // parameters. Bochs (call_gate) writes the new stack before its EIP check, so a bad offset with a
            // new stack that page-faults is #PF there and #GP(0) here, as the SDM orders it.
            let n = t.dpl
            var cursor: StackCursor
            let count = longMode ? 0 : Int(gate.paramCount)
            if longMode {
                guard let sp = tssRead(offset: 4 + 8 * Int(n), size: 8) else {
                    throw Fault(.TS, code: UInt32(cpu.tr.selector & 0xFFFC), rule: "FAR-11", "TSS.RSP\(n) lies beyond the TSS limit")
                }
                // Bochs and QEMU both refuse a non-canonical RSPn itself (get_RSP_from_TSS / get_rsp_from_tss).
                guard isCanonical(sp) else {
                    throw Fault(.SS, code: 0, rule: "FAR-11", "TSS.RSP\(n) 0x\(String(sp, radix: 16)) is not canonical")
                }
                let ss = SegmentRegister(selector: UInt16(n), cache: .nullStack(dpl: n))
                cursor = StackCursor(ss: ss, sp: sp, cpl: n, is64: true, faultCode: 0, rule: "FAR-11")
            } else {
                let (ssSel, sp) = try stackFromTSS(cpl: n, ext: false, rule: "FAR-9")
                let ssd = try checkNewStack(ssSel, cpl: n, ext: false, rule: "FAR-9")
                cursor = StackCursor(ss: SegmentRegister(selector: ssSel.value, cache: ssd.cache), sp: sp, cpl: n,
                                     is64: false, faultCode: ssSel.errorCode, rule: "FAR-9")
            }
            let newSS = cursor.ss.selector, newSP = cursor.sp
            let traceMark = trace.count
            try cursor.checkRoom(slots: 4 + count, width: width, on: &self)
            try checkBranchTarget(offset, cache: t.cache, rule: longMode ? "FAR-11" : "FAR-9")
            let oldSS = UInt64(cpu.ss.selector), oldSP = cpu[.rsp]
            try cursor.push(oldSS, width: width, on: &self)
            try cursor.push(longMode ? oldSP : oldSP & 0xFFFF_FFFF, width: width, on: &self)
            pushed += ["SS=0x\(String(oldSS, radix: 16))", (longMode ? "RSP=0x" : "ESP=0x") + String(oldSP, radix: 16)]
            if count > 0 {
                // Copy `params` parameters from the old stack (read at the old CPL), last first.
                var old = currentStack(rule: "FAR-9")
                var params: [UInt64] = []
                for _ in 0..<count { params.append(try old.pop(width: width, on: &self)) }
                for p in params.reversed() {
                    try cursor.push(p, width: width, on: &self)
                    pushed.append("param=0x\(String(p, radix: 16))")
                }
            }
            try cursor.push(UInt64(cpu.cs.selector), width: width, on: &self)
            try cursor.push(returnIP, width: width, on: &self)
            pushed += ["CS=0x\(String(cpu.cs.selector, radix: 16))", (longMode ? "RIP=0x" : "EIP=0x") + String(returnIP, radix: 16)]
            // The frame is on the new stack: the switch happened (traced after the gate, which the CPU read first).
            let long = longMode
            cpu.ss = cursor.ss
            cpu.ss.selector = (cpu.ss.selector & 0xFFFC) | UInt16(n)
            cpu[.rsp] = cursor.sp
            cpu.cs = SegmentRegister(selector: (tsel.value & 0xFFFC) | UInt16(n), cache: t.cache)
            cpu.cpl = n
            cpu.rip = offset
            lastDelivery = DeliveryRecord(vector: nil, type: recordType, dpl: gate.dpl, fromCPL: cpl, toCPL: n,
                                          stackSwitch: true, interruptsEnabled: cpu.interruptsEnabled,
                                          selector: cpu.cs.selector, handler: offset, pushed: pushed)
            trace.record(.stackSwitch(ss: newSS, sp: newSP, source: long ? "TSS.RSP\(n)" : "TSS.SS\(n):ESP\(n)"), at: traceMark)
            trace.record(.gate(vector: nil, kind: "call gate", dpl: gate.dpl, fromCPL: cpl, toCPL: n, stackSwitch: true, pushed: pushed), at: traceMark)
            noteCPLChange(from: cpl)
            return
        }
        // FAR-10: same privilege (conforming target, or DPL == CPL). SDM CALL, SAME-PRIVILEGE: room for
        // CS, EIP (#SS(0)) before the offset check (#GP(0)), then the pushes.
        try checkCodeSegment(t, tsel, rpl: 0, cpl: cpl, rule: "FAR-10")
        var st = currentStack(rule: "FAR-10")
        let traceMark = trace.count
        try st.checkRoom(slots: 2, width: width, on: &self)
        try checkBranchTarget(offset, cache: t.cache, rule: "FAR-10")
        let oldCS = cpu.cs.selector
        try st.push(UInt64(oldCS), width: width, on: &self)
        try st.push(returnIP, width: width, on: &self)
        cpu[.rsp] = st.sp
        cpu.cs = SegmentRegister(selector: (tsel.value & 0xFFFC) | UInt16(cpl), cache: t.cache)
        cpu.rip = offset
        let samePushes = ["CS=0x\(String(oldCS, radix: 16))", (longMode ? "RIP=0x" : "EIP=0x") + String(returnIP, radix: 16)]
        lastDelivery = DeliveryRecord(vector: nil, type: recordType, dpl: gate.dpl, fromCPL: cpl, toCPL: cpl,
                                      stackSwitch: false, interruptsEnabled: cpu.interruptsEnabled,
                                      selector: cpu.cs.selector, handler: offset, pushed: samePushes)
        trace.record(.gate(vector: nil, kind: "call gate", dpl: gate.dpl, fromCPL: cpl, toCPL: cpl, stackSwitch: false, pushed: samePushes),
                     at: traceMark)
    }

    /// Far RET [imm16] (FAR-12..FAR-14).
    public mutating func farReturn(popBytes imm: UInt16, width requested: Int? = nil) throws(Fault) {
        let width = requested ?? farWidth
        var st = currentStack(rule: "FAR-12")
        let eip = try st.pop(width: width, on: &self)
        let csValue = try st.pop(width: width, on: &self)
        try returnToSegment(ip: eip, csValue: UInt16(truncatingIfNeeded: csValue), flags: nil, stack: st,
                            extra: UInt64(imm), width: width, kind: "RETF", rulePrefix: "FAR-12")
    }

    /// IRET / IRETD / IRETQ (FAR-15..FAR-17, TASK-9). `nextIP` (the instruction after the IRET) is the EIP
    /// saved in the TSS being left by an NT=1 task return (TASK-5).
    public mutating func interruptReturn(width requested: Int?, nextIP: UInt64? = nil) throws(Fault) {
        if cpu.rflags & RFLAGS.nt != 0 {
            if longMode { throw Fault.gp(0, rule: "FAR-15", "IRET with NT=1 in IA-32e mode (no hardware task switching, TASK-9)") }
            try taskReturn(returnIP: nextIP)
            return
        }
        let width = requested ?? farWidth
        var st = currentStack(rule: "FAR-16")
        let ip = try st.pop(width: width, on: &self)
        let csValue = try st.pop(width: width, on: &self)
        let flags = try st.pop(width: width, on: &self)
        if flags & RFLAGS.vm != 0 && cpu.cpl == 0 && !longMode {
            unsupported = "IRET to virtual-8086 mode (FAR-16) is not modelled"
            throw Fault.gp(0, rule: "FAR-16", "return to virtual-8086 mode is not modelled")
        }
        try returnToSegment(ip: ip, csValue: UInt16(truncatingIfNeeded: csValue), flags: flags, stack: st,
                            extra: 0, width: width, kind: "IRET", rulePrefix: "FAR-16")
    }

    /// The checks and state changes shared by far RET and IRET (FAR-12, FAR-13, FAR-14, FAR-17).
    mutating func returnToSegment(ip: UInt64, csValue: UInt16, flags: UInt64?, stack: StackCursor, extra: UInt64,
                                  width: Int, kind: String, rulePrefix: String) throws(Fault) {
        var st = stack
        let sel = Selector(csValue)
        let cpl = cpu.cpl
        guard !sel.isNull else { throw Fault.gp(0, rule: "FAR-12", "\(kind) to a null code selector") }
        guard let d = descriptor(sel) else {
            throw Fault(.GP, code: sel.errorCode, rule: "FAR-12", "return selector \(sel) lies beyond the descriptor table limit")
        }
        guard sel.rpl >= cpl else {
            throw Fault(.GP, code: sel.errorCode, rule: "FAR-12", "return RPL \(sel.rpl) is more privileged than CPL \(cpl): a return may not raise privilege")
        }
        try checkCodeSegment(d, sel, rpl: sel.rpl, cpl: sel.rpl, rule: "FAR-12", level: "the return RPL")
        let newCPL = sel.rpl
        let outer = newCPL > cpl
        // An IRET that began in 64-bit mode always pops SS:RSP, whatever its operand size (IRETQ, and IRETD/
        // IRETW with 4- and 2-byte slots); elsewhere, and for a far return, only on a privilege change (SDM
        // Vol. 2A IRET pseudo-code "IF instruction began in 64-Bit Mode", §6.14.3; Bochs long_iret).
        let popsStack = outer || (flags != nil && in64BitMode)
        st.advance(by: extra)
        var newSS = cpu.ss
        var newSP = st.sp
        if popsStack {
            let sp = try st.pop(width: width, on: &self)
            let ssValue = UInt16(truncatingIfNeeded: try st.pop(width: width, on: &self))
            let ssSel = Selector(ssValue)
            if ssSel.isNull {
                // A null SS is loadable only into 64-bit mode at CPL 0-2, and only with RPL = the new CPL
                // (SDM Vol. 2A IRET IA-32e-MODE-RETURN: "RPL <> CPL going back to non-CPL3 64-bit mode for a NULL
                // SS selector" -> #GP(0); Vol. 3A §6.15 #GP, "a null selector in the SS register in non-CPL3 and
                // 64-bit mode where RPL is not equal to CPL"). Bochs and QEMU skip the RPL test; the SDM is followed.
                guard longMode && d.long && newCPL != 3 else {
                    throw Fault.gp(0, rule: "FAR-13", "\(kind) pops a null SS for a return to CPL \(newCPL)\(longMode && d.long ? "" : " outside 64-bit mode")")
                }
                guard ssSel.rpl == newCPL else {
                    throw Fault.gp(0, rule: "FAR-13", "\(kind) pops a null SS whose RPL \(ssSel.rpl) differs from the return CPL \(newCPL): a null SS needs RPL = CPL")
                }
                newSS = SegmentRegister(selector: ssValue, cache: .nullStack(dpl: newCPL))
            } else {
                guard let s = descriptor(ssSel) else {
                    throw Fault(.GP, code: ssSel.errorCode, rule: "FAR-13", "returned SS \(ssSel) lies beyond the descriptor table limit")
                }
                guard ssSel.rpl == newCPL else {
                    throw Fault(.GP, code: ssSel.errorCode, rule: "FAR-13", "returned SS RPL \(ssSel.rpl) differs from the return CPL \(newCPL)")
                }
                guard s.isWritableData else {
                    throw Fault(.GP, code: ssSel.errorCode, rule: "FAR-13", "returned SS \(ssSel) is \(describeKind(s)), not a writable data segment")
                }
                guard s.dpl == newCPL else {
                    throw Fault(.GP, code: ssSel.errorCode, rule: "FAR-13", "returned SS DPL \(s.dpl) differs from the return CPL \(newCPL)")
                }
                guard s.present else {
                    throw Fault(.SS, code: ssSel.errorCode, rule: "FAR-13", "returned stack segment \(ssSel) is not present")
                }
                newSS = SegmentRegister(selector: ssValue, cache: s.cache)
            }
            newSP = sp &+ (outer ? extra : 0)
            // A 16-bit stack segment (B = 0) that the return lands on outside 64-bit mode is addressed with SP.
            let sixteenBitStack = !newSS.cache.big && !(longMode && d.long)
            if outer && extra != 0 && sixteenBitStack {
                // RETF imm16 to a 16-bit outer stack (B = 0): the release moves SP only (SDM Vol. 1 §6.2.3; RET's
                // near-return pseudo-code "SP <- SP + SRC" for StackAddressSize = 16; Bochs return_protected).
                newSP = (sp & ~0xFFFF) | ((sp &+ extra) & 0xFFFF)
            }
            if flags != nil && sixteenBitStack {
                // An IRET to a 16-bit stack segment (B = 0) outside 64-bit mode restores SP only: ESP[31:16]
                // (RSP[63:16]) keep the inner stack's bits, the leak Linux's espfix works around
                // (arch/x86/kernel/espfix_64.c: "The IRET instruction, when returning to a 16-bit segment, only
                // restores the bottom 16 bits of the user space stack pointer"); Bochs iret_protected/long_iret
                // and QEMU helper_ret_protected do the same. The SDM pseudo-code's "ESP <- Pop()" says otherwise.
                newSP = (cpu[.rsp] & ~0xFFFF) | (sp & 0xFFFF)
            }
        }
        var cache = d.cache
        if !longMode { cache.long = false }
        let target = try checkBranchTarget(ip, cache: cache, rule: "FAR-12")
        // Commit.
        cpu.cs = SegmentRegister(selector: sel.value, cache: cache)
        cpu.rip = target
        cpu.ss = newSS
        cpu[.rsp] = newSP
        if let f = flags {
            // FAR-17: IF only if CPL <= IOPL; IOPL, VIF, VIP only at CPL 0; VM unaffected.
            var mask: UInt64 = 0x3F_7FD5 & ~(RFLAGS.vm | RFLAGS.vif | RFLAGS.vip | RFLAGS.iopl | RFLAGS.if)
            if cpl <= RFLAGS.iopl(of: cpu.rflags) { mask |= RFLAGS.if }
            if cpl == 0 { mask |= RFLAGS.iopl | RFLAGS.vif | RFLAGS.vip }
            // A 16-bit IRET pops FLAGS: only EFLAGS[15:0] are loaded (SDM Vol. 2A, IRET).
            if width == 2 { mask &= 0xFFFF }
            cpu.rflags = (cpu.rflags & ~mask) | (f & mask) | RFLAGS.reserved1
        }
        cpu.cpl = newCPL
        if outer {
            // FAR-14: data segment registers the new CPL may not use are nulled.
            for r in [SegmentRegisterName.es, .ds, .fs, .gs] {
                let old = cpu[segment: r]
                let c = old.cache
                if !c.usable || ((!c.isCode || !c.isConforming) && c.dpl < newCPL) {
                    cpu[segment: r] = SegmentRegister(selector: 0, cache: .unusable)
                    // A register that already held a null selector is not reported: nothing visible changes
                    // (in 64-bit mode a null selector's cache is usable with base 0, and the return makes it unusable).
                    if old.selector != 0 {
                        // Spelt out only when the trace is kept (the record's argument is an autoclosure).
                        trace.record(.segmentCheck(register: r.rawValue, selector: 0,
                                                   detail: "nulled on the return to CPL \(newCPL): \(c.usable ? "its DPL \(c.dpl) < CPL \(newCPL)" : "it was unusable") (FAR-14)"))
                    }
                }
            }
        }
        trace.record(.fastReturn(instruction: kind.lowercased(), cs: cpu.cs.selector, ss: cpu.ss.selector, ip: target, sp: newSP))
        noteCPLChange(from: cpl)
    }
}
