// Hardware task switching through TSS descriptors and task gates, ia32 only (SDM Vol. 3A chapter 7;
// rules TASK-1..TASK-9). The 32-bit TSS layout (TASK-8):
//   00 link | 04 ESP0 | 08 SS0 | 0C ESP1 | 10 SS1 | 14 ESP2 | 18 SS2 | 1C CR3 | 20 EIP | 24 EFLAGS
//   28 EAX | 2C ECX | 30 EDX | 34 EBX | 38 ESP | 3C EBP | 40 ESI | 44 EDI
//   48 ES | 4C CS | 50 SS | 54 DS | 58 FS | 5C GS | 60 LDT | 64 T bit, I/O map base (high word)
// 16-bit TSSs are refused as not modelled.

/// Why a task switch happens; it decides the busy bits, NT and the back link (TASK-4).
public enum TaskSwitchReason: String, Sendable {
    case jmp, call, interrupt, iret
}

/// The task gate a task switch went through (TASK-1): traced as a `gate` event once the switch passes its
/// commit point, and recorded for `expect.gate` (type `task`) when the switch completes.
public struct TaskGateUse: Sendable, Equatable {
    /// The IDT vector; nil for a task gate in the GDT or LDT (far JMP/CALL).
    public var vector: UInt8?
    /// The gate's DPL.
    public var dpl: UInt8
    public init(vector: UInt8?, dpl: UInt8) {
        self.vector = vector
        self.dpl = dpl
    }
}

/// Offsets of the 32-bit TSS fields (TASK-8).
public enum TSS32 {
    public static let link = 0x00, esp0 = 0x04, ss0 = 0x08, esp1 = 0x0C, ss1 = 0x10, esp2 = 0x14, ss2 = 0x18
    public static let cr3 = 0x1C, eip = 0x20, eflags = 0x24, eax = 0x28, ecx = 0x2C, edx = 0x30, ebx = 0x34
    public static let esp = 0x38, ebp = 0x3C, esi = 0x40, edi = 0x44
    public static let es = 0x48, cs = 0x4C, ss = 0x50, ds = 0x54, fs = 0x58, gs = 0x5C, ldt = 0x60, iomap = 0x64
    /// Minimum limit of a 32-bit TSS switched to (TASK-3).
    public static let minimumLimit: UInt32 = 0x67
    /// Minimum limit of the 32-bit TSS switched away from (TASK-3): it must hold the dynamic fields the switch
    /// writes, EIP at 0x20 up to the GS word at 0x5C..0x5F (TASK-5). Bochs task_switch: "old TSS limit < 0x5F"
    /// -> #TS(TR); the SDM's Table 6-6 lists "stores to the old TSS encounter a fault condition" (only the new
    /// TSS needs 0x67); QEMU's switch_tss_ra makes no check on the old TSS's limit.
    public static let minimumOldLimit: UInt32 = 0x5F
    /// The general registers in TSS order.
    public static let gprOrder: [(GPR, Int)] = [(.rax, eax), (.rcx, ecx), (.rdx, edx), (.rbx, ebx), (.rsp, esp), (.rbp, ebp), (.rsi, esi), (.rdi, edi)]
    public static let segmentOrder: [(SegmentRegisterName, Int)] = [(.es, es), (.cs, cs), (.ss, ss), (.ds, ds), (.fs, fs), (.gs, gs)]
}

/// Offsets of the 64-bit TSS fields (TASK-9, INT-10).
public enum TSS64 {
    public static func rsp(_ n: Int) -> Int { 4 + 8 * n }
    public static func ist(_ n: Int) -> Int { 0x24 + 8 * (n - 1) }
    public static let iomap = 0x66
    public static let minimumLimit: UInt32 = 0x67
}

extension Machine {
    /// Far JMP/CALL to a TSS descriptor or a task gate (TASK-2).
    /// `returnIP` is the instruction after the JMP/CALL: the EIP saved in the old TSS (TASK-5).
    mutating func farTaskSwitch(_ kind: FarKind, _ sel: Selector, _ d: Descriptor, returnIP: UInt64) throws(Fault) {
        let cpl = cpu.cpl
        guard d.dpl >= cpl && d.dpl >= sel.rpl else {
            throw Fault(.GP, code: sel.errorCode, rule: "TASK-2", "\(describeKind(d)) DPL \(d.dpl) is below CPL \(cpl) or RPL \(sel.rpl)")
        }
        var tssSel = sel
        var tssDesc = d
        if d.systemType == .taskGate {
            guard d.present else { throw Fault(.NP, code: sel.errorCode, rule: "TASK-2", "task gate \(sel) is not present") }
            tssSel = Selector(d.gateSelector)
            guard !tssSel.isLDT, let t = descriptor(tssSel) else {
                throw Fault(.GP, code: tssSel.errorCode, rule: "TASK-2", "the task gate's TSS selector \(tssSel) must name a GDT entry")
            }
            tssDesc = t
        } else if sel.isLDT {
            throw Fault(.GP, code: sel.errorCode, rule: "TASK-2", "a TSS selector must name a GDT entry")
        }
        guard tssDesc.systemType == .tssAvailable || tssDesc.systemType == .tss16Available else {
            throw Fault(.GP, code: tssSel.errorCode, rule: "TASK-2", "\(tssSel) is \(describeKind(tssDesc)), not an available TSS")
        }
        guard tssDesc.present else { throw Fault(.NP, code: tssSel.errorCode, rule: "TASK-2", "TSS \(tssSel) is not present") }
        let gate = d.systemType == .taskGate ? TaskGateUse(vector: nil, dpl: d.dpl) : nil
        try taskSwitch(to: tssSel, reason: kind == .jmp ? .jmp : .call, through: gate, errorCode: nil, ext: false, returnIP: returnIP)
        if let gate {
            // TASK-1: a far JMP/CALL through a task gate is a gate delivery (`expect.gate: {type: task}`).
            lastDelivery = DeliveryRecord(vector: nil, type: "task", dpl: gate.dpl, fromCPL: lastTaskSwitchFromCPL, toCPL: cpu.cpl,
                                          stackSwitch: true, interruptsEnabled: cpu.interruptsEnabled,
                                          selector: tssSel.value, handler: cpu.rip, pushed: [])
        }
    }

    /// IRET with NT=1: return to the task in the back link (FAR-15).
    /// `returnIP` is the instruction after the IRET: the EIP saved in the TSS being left (TASK-5).
    mutating func taskReturn(returnIP: UInt64? = nil) throws(Fault) {
        let link = Selector(UInt16(tssRead(offset: TSS32.link, size: 2) ?? 0))
        guard !link.isLDT else { throw Fault(.TS, code: link.errorCode, rule: "FAR-15", "the back link \(link) names the LDT") }
        guard let d = descriptor(link) else { throw Fault(.TS, code: link.errorCode, rule: "FAR-15", "the back link \(link) lies beyond the GDT limit") }
        guard d.systemType == .tssBusy || d.systemType == .tss16Busy else {
            throw Fault(.TS, code: link.errorCode, rule: "FAR-15", "the back link \(link) is \(describeKind(d)), not a busy TSS")
        }
        guard d.present else { throw Fault(.NP, code: link.errorCode, rule: "FAR-15", "the back-linked TSS \(link) is not present") }
        try taskSwitch(to: link, reason: .iret, through: nil, errorCode: nil, ext: false, returnIP: returnIP)
    }

    /// The task switch proper (TASK-3..TASK-7). `returnIP` is the EIP saved in the old TSS (TASK-5): the next
    /// instruction for JMP/CALL/IRET/INT n and traps, the faulting one for faults (INT-12); nil = the current EIP.
    /// `gate`: the task gate it went through (IDT or GDT/LDT), traced at the commit point.
    public mutating func taskSwitch(to sel: Selector, reason: TaskSwitchReason, through gate: TaskGateUse?,
                                    errorCode: UInt32?, ext: Bool, returnIP: UInt64? = nil) throws(Fault) {
        let extBit: UInt32 = ext ? 1 : 0
        lastTaskSwitchFromCPL = cpu.cpl
        taskSwitchFaultIP = nil
        guard var newDesc = descriptor(sel), !sel.isLDT else {
            throw Fault(.GP, code: sel.errorCode | extBit, rule: "TASK-2", "TSS selector \(sel) does not name a GDT entry")
        }
        if reason == .interrupt {
            guard newDesc.systemType == .tssAvailable || newDesc.systemType == .tss16Available else {
                throw Fault(.GP, code: sel.errorCode | extBit, rule: "TASK-2", "the task gate names \(describeKind(newDesc)), not an available TSS")
            }
            guard newDesc.present else { throw Fault(.NP, code: sel.errorCode | extBit, rule: "TASK-2", "TSS \(sel) is not present") }
        }
        if newDesc.systemType == .tss16Available || newDesc.systemType == .tss16Busy {
            unsupported = "16-bit TSSs are not modelled (TASK-3)"
            throw Fault(.TS, code: sel.errorCode | extBit, rule: "TASK-3", "16-bit TSSs are not modelled")
        }
        // TASK-3: limits.
        guard newDesc.limit >= TSS32.minimumLimit else {
            throw Fault(.TS, code: sel.errorCode | extBit, rule: "TASK-3", "the new TSS limit 0x\(String(newDesc.limit, radix: 16)) is below 0x67")
        }
        guard cpu.tr.cache.usable, cpu.tr.cache.limit >= TSS32.minimumOldLimit else {
            throw Fault(.TS, code: UInt32(cpu.tr.selector & 0xFFFC) | extBit, rule: "TASK-3",
                        "the current TSS limit 0x\(String(cpu.tr.cache.limit, radix: 16)) is below 0x5f: the switch cannot save GS at 0x5c")
        }
        let oldSel = Selector(cpu.tr.selector)
        let oldBase = cpu.tr.cache.base
        let newBase = newDesc.base
        // A new task whose saved EFLAGS has VM set would run in virtual-8086 mode (SDM Vol. 3A §20.2.5),
        // which the model does not have: refused before anything is saved.
        if let f = tssRead(offset: TSS32.eflags, size: 4, tssBase: newBase, limit: newDesc.limit), f & RFLAGS.vm != 0 {
            unsupported = "a task switch to a TSS whose EFLAGS has VM set: virtual-8086 mode is not modelled"
            throw Fault(.TS, code: sel.errorCode | extBit, rule: "TASK-6", "virtual-8086 tasks are not modelled")
        }
        if tssImages[newBase] == nil { tssImages[newBase] = Array(repeating: 0, count: Int(TSS32.minimumLimit) + 1) }

        // TASK-5: save the dynamic state into the old TSS.
        var savedFlags = cpu.rflags
        if reason == .iret { savedFlags &= ~RFLAGS.nt }
        tssWrite(offset: TSS32.eip, size: 4, value: (returnIP ?? cpu.rip) & 0xFFFF_FFFF, tssBase: oldBase)
        tssWrite(offset: TSS32.eflags, size: 4, value: savedFlags, tssBase: oldBase)
        for (r, off) in TSS32.gprOrder { tssWrite(offset: off, size: 4, value: cpu[r], tssBase: oldBase) }
        for (s, off) in TSS32.segmentOrder { tssWrite(offset: off, size: 2, value: UInt64(cpu[segment: s].selector), tssBase: oldBase) }

        // TASK-4: busy bits, back link.
        if reason == .jmp || reason == .iret, var oldDesc = descriptor(oldSel) {
            oldDesc.raw &= ~(UInt64(0x2) << 40)  // busy -> available
            setDescriptor(oldSel, oldDesc)
        }
        if reason != .iret {
            newDesc.raw |= UInt64(0x2) << 40  // available -> busy
            setDescriptor(sel, newDesc)
        }
        if reason == .call || reason == .interrupt {
            tssWrite(offset: TSS32.link, size: 2, value: UInt64(oldSel.value), tssBase: newBase)
        }

        // TASK-6: load the new task's state.
        let oldCPL = cpu.cpl
        cpu.tr = SegmentRegister(selector: sel.value, cache: newDesc.cache)
        let snapshot = self
        let read = { (off: Int, size: Int) -> UInt64 in snapshot.tssRead(offset: off, size: size, tssBase: newBase, limit: newDesc.limit) ?? 0 }
        let newCR3 = read(TSS32.cr3, 4)
        // The EFLAGS image keeps only the flags that exist (Bochs task_switch: writeEFlags(newEFLAGS,
        // EFlagsValidMask); QEMU switch_tss_ra loads it through a mask as well).
        var flags = (read(TSS32.eflags, 4) & RFLAGS.defined) | RFLAGS.reserved1
        if reason == .call || reason == .interrupt { flags |= RFLAGS.nt }
        cpu.rip = read(TSS32.eip, 4)
        // Commit point passed: a fault from here on is raised in the new task, at its EIP.
        taskSwitchFaultIP = cpu.rip
        for (r, off) in TSS32.gprOrder { cpu[r] = read(off, 4) }
        cpu.rflags = flags
        cpu.cr0 |= CR0.ts
        let selectors = TSS32.segmentOrder.map { ($0.0, Selector(UInt16(read($0.1, 2)))) }
        let ldtSel = Selector(UInt16(read(TSS32.ldt, 2)))
        // Registers hold the new selectors before validation (the commit point has passed).
        for (s, v) in selectors { cpu[segment: s] = SegmentRegister(selector: v.value, cache: .unusable) }
        if let gate {
            // The delivery through the task gate has happened once the switch is committed (a later fault is the
            // new task's): traced before the switch it causes, as an IDT gate is before its stack switch.
            trace.record(.gate(vector: gate.vector.map { Int($0) }, kind: "task", dpl: gate.dpl, fromCPL: oldCPL,
                               toCPL: selectors[1].1.rpl, stackSwitch: true,
                               pushed: errorCode.map { [PushedValue("error code", UInt64($0)).text] } ?? []))
        }
        // TASK-4: what the kind of switch does to the busy bits, NT and the back link, spelt out for the trace.
        let linkage: String
        switch reason {
        case .jmp: linkage = "the new TSS is marked busy and the old one available; no back link, NT from the new TSS (TASK-4)"
        case .call, .interrupt:
            linkage = "the new TSS is marked busy and its back link = \(oldSel) with NT = 1, so an IRET in the new task returns to the old one (TASK-4)"
        case .iret: linkage = "the old TSS is marked available and NT cleared in its saved EFLAGS; the new TSS stays busy (TASK-4)"
        }
        trace.record(.note("task switch (\(reason.rawValue)) from TSS \(oldSel) to TSS \(sel): EIP, EFLAGS, the general and segment registers saved in the old TSS (TASK-5); CR3, LDTR, EFLAGS, EIP, the general and segment registers loaded from the new (TASK-6); \(linkage); CR0.TS set"))
        // No segment is loaded yet: until SS is, a fault is delivered as from CPL 3 (see below).
        cpu.cpl = 3
        // The TSS's CR3 field is loaded only with paging on (CR0.PG = 1): Bochs task_switch reads and loads it under
        // cr0.get_PG(), QEMU switch_tss_ra under CR0_PG_MASK, VirtualBox's IEM takes it as 0 otherwise; the SDM
        // (§7.3 step 12) names the PDBR without saying more. With paging off CR3 keeps its value.
        if cpu.cr0 & CR0.pg != 0, newCR3 != cpu.cr3 {
            // PG-2: a CR3 load in PAE paging loads the four PDPTEs. In a task switch a present PDPTE with
            // reserved bits is #TS(0) in the new task, not MOV CR3's #GP(0) (TASK-6; Bochs tasking.cc
            // "PDPTR check failed"); CR3 and the PDPTE registers keep their old values.
            if pagingMode == .pae {
                do throws(Fault) { try paging.loadPDPTEs(cr3: newCR3) } catch {
                    throw Fault(.TS, code: extBit, rule: "TASK-6",
                                "the new task's CR3 0x\(String(newCR3, radix: 16)) names a present PDPTE with reserved bits set (PG-2): in a task switch that is #TS(0), and CR3 keeps its old value")
                }
            }
            cpu.cr3 = newCR3
            paging.tlb.flushNonGlobal()
            trace.record(.tlbFlush(kind: "cr3", linear: nil))
        }

        // After the commit point: validate the LDT, SS, DS/ES/FS/GS, then CS (faults in the new task). SDM Table 7-1
        // says the order is model specific; this is Bochs's (tasking.cc). While the LDT and SS are checked the CPL is
        // taken as 3, as Bochs does "to force a privilege level change and stack switch if SS is not properly loaded":
        // a fault there is delivered on the new TSS's ring-0 stack, never pushed on an unusable SS. From the data
        // segments on, SS is loaded and the CPL is the new CS.RPL, so a fault there (or at CS) is delivered from it.
        let csSel = selectors[1].1
        let newCPL = csSel.rpl
        cpu.ldtr = SegmentRegister(selector: ldtSel.value, cache: .unusable)
        if !ldtSel.isNull {
            guard !ldtSel.isLDT, let l = descriptor(ldtSel), l.systemType == .ldt else {
                throw Fault(.TS, code: ldtSel.errorCode | extBit, rule: "TASK-6", "the new task's LDT selector \(ldtSel) does not name an LDT descriptor")
            }
            guard l.present else { throw Fault(.TS, code: ldtSel.errorCode | extBit, rule: "TASK-6", "the new task's LDT is not present") }
            cpu.ldtr = SegmentRegister(selector: ldtSel.value, cache: l.cache)
        }
        /// Why a selector of the new task names no descriptor; an LDT selector under the null LDT the new TSS named.
        func miss(_ v: Selector) -> String {
            descriptorMiss(v) + (v.isLDT && ldtSel.isNull ? " (the new TSS's LDT field is 0: a task switch loads LDTR from it and never saves LDTR)" : "")
        }
        // SS: null, limit, not writable data -> #TS; not present -> #SS; then RPL/DPL != CPL -> #TS
        // (SDM Table 7-1 and Bochs check the presence before the DPL).
        let ssSel = selectors[2].1
        guard !ssSel.isNull, let ss = descriptor(ssSel), ss.isWritableData else {
            let why = ssSel.isNull ? "is null" : descriptor(ssSel) == nil ? miss(ssSel) : "is not a writable data segment"
            throw Fault(.TS, code: ssSel.errorCode | extBit, rule: "TASK-6", "the new task's SS \(ssSel) \(why)")
        }
        guard ss.present else { throw Fault(.SS, code: ssSel.errorCode | extBit, rule: "TASK-6", "the new task's SS \(ssSel) is not present") }
        guard ssSel.rpl == newCPL, ss.dpl == newCPL else {
            throw Fault(.TS, code: ssSel.errorCode | extBit, rule: "TASK-6",
                        "the new task's SS \(ssSel) (RPL \(ssSel.rpl), DPL \(ss.dpl)) does not match CPL \(newCPL)")
        }
        cpu.ss = SegmentRegister(selector: ssSel.value, cache: ss.cache)
        cpu.cpl = newCPL
        // DS, ES, FS, GS in Bochs's order (task_switch_load_selector), not the TSS's field order.
        for s in [SegmentRegisterName.ds, .es, .fs, .gs] {
            guard let v = selectors.first(where: { $0.0 == s })?.1, !v.isNull else { continue }
            guard let d = descriptor(v) else {
                throw Fault(.TS, code: v.errorCode | extBit, rule: "TASK-6", "the new task's \(s.rawValue.uppercased()) \(v) \(miss(v))")
            }
            guard d.isData || d.isReadableCode,
                  d.isConforming || (v.rpl <= d.dpl && newCPL <= d.dpl) else {
                throw Fault(.TS, code: v.errorCode | extBit, rule: "TASK-6", "the new task's \(s.rawValue.uppercased()) \(v) fails the data-segment checks")
            }
            guard d.present else { throw Fault(.NP, code: v.errorCode | extBit, rule: "TASK-6", "the new task's \(s.rawValue.uppercased()) \(v) is not present") }
            cpu[segment: s] = SegmentRegister(selector: v.value, cache: d.cache)
        }
        guard !csSel.isNull, let cs = descriptor(csSel), cs.isCode else {
            let why = csSel.isNull ? "is null" : descriptor(csSel) == nil ? miss(csSel) : "is not a code segment"
            throw Fault(.TS, code: csSel.errorCode | extBit, rule: "TASK-6", "the new task's CS \(csSel) \(why)")
        }
        if cs.isConforming ? cs.dpl > newCPL : cs.dpl != newCPL {
            throw Fault(.TS, code: csSel.errorCode | extBit, rule: "TASK-6", "the new task's CS DPL \(cs.dpl) does not match its RPL \(newCPL)")
        }
        guard cs.present else { throw Fault(.NP, code: csSel.errorCode | extBit, rule: "TASK-6", "the new task's CS \(csSel) is not present") }
        cpu.cs = SegmentRegister(selector: csSel.value, cache: cs.cache)
        noteCPLChange(from: oldCPL)
        // TASK-7: an exception's error code goes on the new task's stack.
        if let code = errorCode {
            // Its width is not settled when the new task runs 16-bit code in a 32-bit TSS: the SDM's INT n
            // pseudo-code pushes it with the operand size (a word, as Bochs does: push_16 when CS.D = 0),
            // §6.13 "depending on the ... task gate size" and QEMU (the TSS type) say a doubleword.
            if !cpu.cs.cache.big {
                unsupported = "an exception's error code pushed by a task switch into 16-bit code (CS.D = 0) in a 32-bit TSS: a word (SDM INT n pseudo-code, Bochs) or a doubleword (SDM §6.13, QEMU)"
                throw Fault(.TS, code: extBit, rule: "TASK-7", "the width of the error code pushed into 16-bit code is not modelled")
            }
            var st = currentStack(rule: "TASK-7")
            st.faultCode = extBit
            try st.push(UInt64(code), width: 4, on: &self)
            cpu[.rsp] = st.sp
        }
        // The new EIP must lie within the new CS limit: #GP(0), with EXT for an interrupt task switch
        // (SDM Vol. 2A JMP, CALL, INT n, IRET: "IF EIP not within code segment limit THEN #GP(0/EXT)").
        try checkBranchTarget(cpu.rip, cache: cpu.cs.cache, rule: "TASK-6", code: extBit)
        taskSwitchFaultIP = nil
        // TASK-7: the T bit (offset 0x64 bit 0) asks for a #DB once the switch is complete.
        if read(TSS32.iomap, 2) & 1 != 0 { pendingTaskSwitchTrap = true }
    }
}
