// Gate delivery: how an interrupt or exception reaches its handler through the IDT
// (SDM Vol. 3A §6.10-6.14; rules INT-1..INT-12), with the double/triple-fault escalation of DF-2.
//
// Order of checks (Bochs):  IDT limit -> gate type -> gate DPL (software only) -> gate present
//   -> target CS (null, limit, code, DPL <= CPL, 64-bit in IA-32e, present)
//   -> stack: inner privilege takes SSn:ESPn (legacy) or RSPn / ISTn (IA-32e) from the TSS
//   -> every check before any push (SDM Vol. 2A INT n): legacy: the new SS, the room for the frame (#SS),
//      the handler offset vs the CS limit (#GP); IA-32e: NewRSP canonical (#SS), the handler RIP canonical (#GP)
//   -> push [SS, ESP,] EFLAGS, CS, EIP, [error code]  (IA-32e: always SS, RSP; 8 bytes each, RSP aligned to 16);
//      the EFLAGS image of a fault-class exception has RF set (INT-15)
//   -> load CS:EIP, clear TF NT RF VM, and IF for an interrupt gate.

/// What kind of event is being delivered (INT-1); it decides the gate DPL check and EXT.
public enum InterruptSource: String, Sendable {
    /// INT n.
    case softwareInterrupt
    /// INT3, INTO.
    case softwareException
    /// INT1 / ICEBP: privileged software interrupt.
    case int1
    /// An external (hardware) interrupt.
    case external
    /// A CPU-detected exception.
    case exception

    /// SEG-9: EXT is set while delivering an event not caused by software.
    public var ext: Bool { self == .external || self == .exception || self == .int1 }
    /// INT-2: only INT n, INT3, INTO check the gate's DPL.
    public var checksGateDPL: Bool { self == .softwareInterrupt || self == .softwareException }
}

/// An event to deliver through the IDT.
public struct InterruptEvent: Sendable, Equatable {
    public var vector: UInt8
    public var source: InterruptSource
    /// The error code to push, or nil (INT-11: only hardware-detected exceptions push one).
    public var errorCode: UInt32?
    /// The EIP/RIP to save: the faulting instruction for faults, the next one for traps and INT n (INT-12).
    public var returnIP: UInt64

    /// INT-15: a fault-class exception sets RF in the EFLAGS image it saves (SDM Vol. 3B §17.3.1.1).
    public var setsResumeFlag: Bool {
        source == .exception && ExceptionVector(rawValue: vector)?.setsResumeFlag == true
    }

    public init(vector: UInt8, source: InterruptSource, errorCode: UInt32? = nil, returnIP: UInt64) {
        self.vector = vector
        self.source = source
        self.errorCode = errorCode
        self.returnIP = returnIP
    }
}

/// The record of a completed delivery, for `expect.gate` and `explain`.
public struct DeliveryRecord: Sendable, Equatable {
    /// IDT vector, or nil for a call gate.
    public var vector: UInt8?
    /// `interrupt`, `trap`, `task` or `call`.
    public var type: String
    public var dpl: UInt8
    public var fromCPL: UInt8
    public var toCPL: UInt8
    public var stackSwitch: Bool
    /// RFLAGS.IF after the delivery.
    public var interruptsEnabled: Bool
    public var selector: UInt16
    public var handler: UInt64
    /// What was pushed, in order, with values: kept as numbers and spelt out only when asked.
    public var pushedValues: [PushedValue]
    /// What was pushed, in order, with values (`SS=0x2b`, `error code=0x0`).
    public var pushed: [String] { pushedValues.map(\.text) }

    public init(vector: UInt8?, type: String, dpl: UInt8, fromCPL: UInt8, toCPL: UInt8, stackSwitch: Bool,
                interruptsEnabled: Bool, selector: UInt16, handler: UInt64, pushed: [String]) {
        self.init(vector: vector, type: type, dpl: dpl, fromCPL: fromCPL, toCPL: toCPL, stackSwitch: stackSwitch,
                  interruptsEnabled: interruptsEnabled, selector: selector, handler: handler,
                  pushedValues: pushed.map { PushedValue(text: $0) })
    }

    public init(vector: UInt8?, type: String, dpl: UInt8, fromCPL: UInt8, toCPL: UInt8, stackSwitch: Bool,
                interruptsEnabled: Bool, selector: UInt16, handler: UInt64, pushedValues: [PushedValue]) {
        self.vector = vector
        self.type = type
        self.dpl = dpl
        self.fromCPL = fromCPL
        self.toCPL = toCPL
        self.stackSwitch = stackSwitch
        self.interruptsEnabled = interruptsEnabled
        self.selector = selector
        self.handler = handler
        self.pushedValues = pushedValues
    }
}

/// One value a delivery pushed: its name and value, formatted (`SS=0x2b`) only when a record or
/// the trace is read, so that a run with the trace off builds no strings.
public struct PushedValue: Sendable, Equatable {
    public var name: String
    public var value: UInt64?
    public init(_ name: String, _ value: UInt64) { self.name = name; self.value = value }
    /// A value already spelt out.
    public init(text: String) { name = text; value = nil }
    public var text: String { value.map { "\(name)=0x\(String($0, radix: 16))" } ?? name }
    public static func == (a: PushedValue, b: PushedValue) -> Bool { a.text == b.text }
}

/// How an event's delivery ended.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The handler for this vector was entered.
    case delivered(vector: UInt8)
    /// A fault during #DF delivery: the processor shut down (DF-4).
    case shutdown
}

extension Machine {
    /// Delivers an event, escalating faults raised during delivery per DF-2, and returns how it ended.
    /// Every fault raised on the way is appended to `raised` (and to the trace).
    public mutating func deliverWithEscalation(_ initial: InterruptEvent, faultIP: UInt64? = nil, raised: inout [Fault]) -> DeliveryOutcome {
        var event = initial
        for _ in 0..<limits.maxDeliveryDepth {
            do {
                try deliver(event)
                return .delivered(vector: event.vector)
            } catch let second {
                noteFault(second)
                raised.append(second)
                // A fault after a task-gate switch's commit point is raised in the new task, at its EIP (TASK-6).
                let committedIP = taskSwitchFaultIP
                taskSwitchFaultIP = nil
                let deliveringDF = event.source == .exception && event.vector == ExceptionVector.DF.rawValue
                if deliveringDF {
                    trace.record(.escalation(first: .DF, second: second.vector, result: "triple fault"))
                    shutdown = true
                    return .shutdown
                }
                let firstClass: ExceptionClass =
                    event.source == .exception ? (ExceptionVector(rawValue: event.vector)?.exceptionClass ?? .benign) : .benign
                let secondClass = second.vector.exceptionClass
                let double = (firstClass == .contributory && secondClass == .contributory)
                    || (firstClass == .pageFault && secondClass != .benign)
                if double, let firstVector = ExceptionVector(rawValue: event.vector) {
                    let df = Fault(.DF, code: 0, rule: "DF-2",
                                   "\(second.vector) while delivering \(firstVector): \(secondClass) during \(firstClass) gives a double fault (SDM Vol. 3A Table 6-5)")
                    trace.record(.escalation(first: firstVector, second: second.vector, result: "double fault"))
                    noteFault(df)
                    raised.append(df)
                    event = InterruptEvent(vector: 8, source: .exception, errorCode: 0, returnIP: committedIP ?? event.returnIP)
                } else {
                    // DF-2 "serial": the second exception is delivered in place of the first.
                    event = InterruptEvent(vector: second.vector.rawValue, source: .exception,
                                           errorCode: second.vector.pushesErrorCode ? (second.errorCode ?? 0) : nil,
                                           returnIP: committedIP ?? faultIP ?? event.returnIP)
                }
            }
        }
        shutdown = true
        trace.record(.note("delivery nested more than \(limits.maxDeliveryDepth) times: stopped"))
        return .shutdown
    }

    /// Raises a CPU-detected exception: records it, sets CR2 for #PF, then delivers it with escalation.
    public mutating func raise(_ fault: Fault, returnIP: UInt64, raised: inout [Fault]) -> DeliveryOutcome {
        noteFault(fault)
        raised.append(fault)
        let event = InterruptEvent(vector: fault.vector.rawValue, source: .exception,
                                   errorCode: fault.vector.pushesErrorCode ? (fault.errorCode ?? 0) : nil,
                                   returnIP: returnIP)
        return deliverWithEscalation(event, raised: &raised)
    }

    /// Records a fault in the trace and sets CR2 for a page fault.
    mutating func noteFault(_ f: Fault) {
        if f.vector == .PF, let cr2 = f.cr2 { cpu.cr2 = cr2 }
        trace.record(.fault(f))
    }

    /// One delivery attempt through the IDT (INT-2..INT-10). Throws the fault that stopped it.
    public mutating func deliver(_ event: InterruptEvent) throws(Fault) {
        // INT-15: RF is set in EFLAGS itself before the delivery, as Bochs's exception() does, so that the
        // image pushed on the stack (or saved in the old TSS by a task gate) has it, and so that a delivery
        // that fails leaves it set for the exception delivered next; the handler is entered with RF clear (INT-9).
        if event.setsResumeFlag { cpu.rflags |= RFLAGS.rf }
        let vector = event.vector
        let ext = event.source.ext
        let idtCode = idtErrorCode(vector, ext: ext)
        let gateSize = longMode ? 16 : 8
        // INT-3: IDT limit.
        guard UInt64(vector) * UInt64(gateSize) + UInt64(gateSize - 1) <= UInt64(cpu.idtr.limit) else {
            throw Fault(.GP, code: idtCode, rule: "INT-3", "vector 0x\(String(vector, radix: 16)) lies beyond the IDT limit")
        }
        let slot = longMode ? Int(vector) * 2 : Int(vector)
        let gate = Descriptor(raw: slot < idt.count ? idt[slot] : 0)
        let high: UInt64 = longMode && slot + 1 < idt.count ? idt[slot + 1] : 0
        // INT-4: gate type.
        let type = gate.isCodeOrData ? nil : gate.systemType
        // IA-32e: 64-bit interrupt and trap gates only; legacy mode also task gates and 16-bit gates.
        func isValid(_ t: SystemType) -> Bool {
            switch t {
            case .interruptGate, .trapGate: true
            case .taskGate, .interruptGate16, .trapGate16: !longMode
            default: false
            }
        }
        guard let gateType = type, isValid(gateType) else {
            let what = type == .taskGate ? "a task gate, which IA-32e mode does not support (TASK-9)" : describeKind(gate)
            throw Fault(.GP, code: idtCode, rule: type == .taskGate ? "TASK-9" : "INT-4", "IDT vector 0x\(String(vector, radix: 16)) holds \(what)")
        }
        if longMode && (high >> 40) & 0x1F != 0 {
            throw Fault(.GP, code: idtCode, rule: "INT-4", "IDT vector 0x\(String(vector, radix: 16)): the type field of the gate's upper dword is not 0")
        }
        // INT-2: gate DPL, software events only.
        if event.source.checksGateDPL && gate.dpl < cpu.cpl {
            throw Fault(.GP, code: idtErrorCode(vector, ext: false), rule: "INT-2",
                        "software interrupt through a gate of DPL \(gate.dpl) from CPL \(cpu.cpl): the gate DPL must be >= CPL")
        }
        // INT-5: present.
        guard gate.present else {
            throw Fault(.NP, code: idtCode, rule: "INT-5", "IDT gate for vector 0x\(String(vector, radix: 16)) is not present")
        }
        if gateType == .taskGate {
            try taskSwitch(to: Selector(gate.gateSelector), reason: .interrupt, through: TaskGateUse(vector: vector, dpl: gate.dpl),
                           errorCode: event.errorCode, ext: ext, returnIP: event.returnIP)
            lastDelivery = DeliveryRecord(vector: vector, type: "task", dpl: gate.dpl, fromCPL: lastTaskSwitchFromCPL,
                                          toCPL: cpu.cpl, stackSwitch: true, interruptsEnabled: cpu.interruptsEnabled,
                                          selector: gate.gateSelector, handler: cpu.rip,
                                          pushedValues: event.errorCode.map { [PushedValue("error code", UInt64($0))] } ?? [])
            return
        }
        // INT-6: target code segment.
        let csSel = Selector(gate.gateSelector)
        let extBit: UInt32 = ext ? 1 : 0
        guard !csSel.isNull else {
            throw Fault(.GP, code: extBit, rule: "INT-6", "the gate's target code selector is null")
        }
        guard let cs = descriptor(csSel) else {
            throw Fault(.GP, code: csSel.errorCode | extBit, rule: "INT-6", "target code selector \(csSel) lies beyond the descriptor table limit")
        }
        guard cs.isCode && cs.dpl <= cpu.cpl else {
            let why = cs.isCode ? "its DPL \(cs.dpl) is greater than CPL \(cpu.cpl)" : "it is \(describeKind(cs)), not a code segment"
            throw Fault(.GP, code: csSel.errorCode | extBit, rule: "INT-6", "the gate's target \(csSel) is refused: \(why)")
        }
        if longMode && !(cs.long && !cs.big) {
            throw Fault(.GP, code: csSel.errorCode | extBit, rule: "INT-6", "in IA-32e mode the handler's code segment must be 64-bit (L=1, D=0)")
        }
        guard cs.present else {
            throw Fault(.NP, code: csSel.errorCode | extBit, rule: "INT-6", "the handler's code segment \(csSel) is not present")
        }
        let oldCPL = cpu.cpl
        let inner = !cs.isConforming && cs.dpl < oldCPL
        let newCPL = inner ? cs.dpl : oldCPL
        let is32Gate = gateType == .interruptGate || gateType == .trapGate
        let width = longMode ? 8 : (is32Gate ? 4 : 2)
        let oldFlags = cpu.rflags
        var pushed: [PushedValue] = []
        pushed.reserveCapacity(6)
        var cursor: StackCursor
        var switched = false
        /// Pushes one value of the frame and records it.
        func push(_ name: String, _ v: UInt64, width: Int) throws(Fault) {
            do {
                try cursor.push(v, width: width, on: &self)
            } catch {
                // AC-1 on the frame of a delivery that stays at CPL 3 (a conforming handler): the #AC would
                // be delivered on the same misaligned stack, and what the processor does then is not
                // documented, so the step is refused.
                if error.vector == .AC {
                    unsupported = "an alignment-check fault (#AC) on the pushes of an event delivered at CPL 3 (misaligned stack with CR0.AM = 1 and EFLAGS.AC = 1)"
                }
                throw error
            }
            pushed.append(PushedValue(name, v))
        }

        /// The new stack, recorded in the trace only once the frame is on it (the switch happened).
        var switchedTo: (ss: UInt16, sp: UInt64)?
        /// The TSS field the new stack comes from (spelt out only for the trace and fault messages).
        let long = longMode, istIndex = gate.ist
        func stackField() -> String {
            long ? (istIndex != 0 ? "IST\(istIndex)" : "RSP\(newCPL)") : "SS\(newCPL):ESP\(newCPL)"
        }
        // Where the gate and the stack switch go in the trace once the delivery has succeeded: before the TLB
        // lookups and page walks of the pushes (the CPU read the gate and the TSS first).
        let traceMark = trace.count
        if longMode {
            // INT-10, in the order of the SDM's INT n pseudo-code (Vol. 2A, IA-32e branches of
            // INTER-/INTRA-PRIVILEGE-LEVEL-INTERRUPT): NewRSP from ISTn or RSPn (#TS(TR+EXT) beyond the TSS
            // limit), else the current RSP; "IF NewRSP contains a non-canonical address THEN #SS(EXT)"
            // (error code: null selector); "IF instruction pointer from IDT gate contains a non-canonical
            // address THEN #GP(EXT)"; only then RSP := NewRSP & ~0xF and the pushes (paging: #PF; a push
            // address that leaves the canonical range: #SS(EXT)). Bochs makes the RIP check after the
            // pushes (branch_far) and reports a non-canonical TSS stack as #SS(old SS selector); QEMU as
            // #SS(0): the SDM is followed.
            var newSP = cpu[.rsp]
            var newSS = cpu.ss
            let ist = gate.ist
            if ist != 0 || inner {
                let offset = ist != 0 ? 0x24 + 8 * (Int(ist) - 1) : 4 + 8 * Int(newCPL)
                guard let sp = tssRead(offset: offset, size: 8) else {
                    throw Fault(.TS, code: UInt32(cpu.tr.selector & 0xFFFC) | extBit, rule: "INT-10",
                                "TSS field \(stackField()) (bytes 0x\(String(offset, radix: 16))..0x\(String(offset + 7, radix: 16))) lies beyond the TSS limit")
                }
                guard isCanonical(sp) else {
                    throw Fault(.SS, code: extBit, rule: "INT-10", "stack pointer 0x\(String(sp, radix: 16)) from TSS.\(stackField()) is not canonical")
                }
                newSP = sp
                switchedTo = (UInt16(newCPL), sp)
            } else {
                guard isCanonical(newSP) else {
                    throw Fault(.SS, code: extBit, rule: "INT-10", "the current RSP 0x\(String(newSP, radix: 16)) is not canonical")
                }
            }
            try checkBranchTarget(gate.gateOffset | (high & 0xFFFF_FFFF) << 32, cache: cs.cache, rule: "INT-6", code: extBit)
            if inner {
                newSS = SegmentRegister(selector: UInt16(newCPL), cache: .nullStack(dpl: newCPL))
            }
            newSP &= ~0xF
            cursor = StackCursor(ss: newSS, sp: newSP, cpl: newCPL, is64: true, faultCode: extBit, rule: "INT-10")
            let oldSS = UInt64(cpu.ss.selector), oldSP = cpu[.rsp], oldCS = UInt64(cpu.cs.selector)
            try push("SS", oldSS, width: 8)
            try push("RSP", oldSP, width: 8)
            try push("RFLAGS", oldFlags, width: 8)
            try push("CS", oldCS, width: 8)
            try push("RIP", event.returnIP, width: 8)
            if let code = event.errorCode { try push("error code", UInt64(code), width: 8) }
            cpu.ss = newSS
        } else {
            // Legacy: the new stack's checks, then its room for the whole frame (#SS, segment limits only),
            // then the handler offset against the CS limit (#GP), then the pushes (paging: #PF) (SDM Vol. 2A
            // INT n pseudo-code; Bochs protected_mode_int: can_push before the EIP check).
            let offset = is32Gate ? gate.gateOffset : gate.gateOffset & 0xFFFF
            let errorSlots = event.errorCode == nil ? 0 : 1
            if inner {
                let (ssSel, sp) = try stackFromTSS(cpl: newCPL, ext: ext, rule: "INT-7")
                let ssDesc = try checkNewStack(ssSel, cpl: newCPL, ext: ext, rule: "INT-7")
                let newSS = SegmentRegister(selector: ssSel.value, cache: ssDesc.cache)
                cursor = StackCursor(ss: newSS, sp: sp, cpl: newCPL, is64: false, faultCode: ssSel.errorCode | extBit, rule: "INT-7")
                try cursor.checkRoom(slots: 5 + errorSlots, width: width, on: &self)
                try checkBranchTarget(offset, cache: cs.cache, rule: "INT-6", code: extBit)
                switchedTo = (ssSel.value, sp)
                let oldSS = UInt64(cpu.ss.selector), oldSP = cpu[.rsp] & 0xFFFF_FFFF
                try push("SS", oldSS, width: width)
                try push("ESP", oldSP, width: width)
            } else {
                cursor = currentStack(rule: "INT-8")
                cursor.faultCode = extBit  // #SS(0+EXT) on a same-privilege push (SEG-8)
                try cursor.checkRoom(slots: 3 + errorSlots, width: width, on: &self)
                try checkBranchTarget(offset, cache: cs.cache, rule: "INT-6", code: extBit)
            }
            let oldCS = UInt64(cpu.cs.selector)
            try push("EFLAGS", oldFlags & 0xFFFF_FFFF, width: width)
            try push("CS", oldCS, width: width)
            try push("EIP", event.returnIP & 0xFFFF_FFFF, width: width)
            if let code = event.errorCode { try push("error code", UInt64(code), width: width) }
            cpu.ss = cursor.ss
        }
        // The frame is on the new stack: the switch happened (a fault above leaves the old stack in place). It is
        // traced after the gate, which the CPU read first, and both before the pushes' memory accesses.
        if switchedTo != nil { switched = true }
        // Commit: CS:EIP, CPL, flags (INT-9).
        cpu[.rsp] = cursor.sp
        cpu.cs = SegmentRegister(selector: (csSel.value & 0xFFFC) | UInt16(newCPL), cache: cs.cache)
        cpu.cpl = newCPL
        cpu.rip = longMode ? gate.gateOffset | (high & 0xFFFF_FFFF) << 32 : (is32Gate ? gate.gateOffset : gate.gateOffset & 0xFFFF)
        var flags = cpu.rflags & ~(RFLAGS.tf | RFLAGS.nt | RFLAGS.rf | RFLAGS.vm)
        let interruptGate = gateType == .interruptGate || gateType == .interruptGate16
        if interruptGate { flags &= ~RFLAGS.if }
        cpu.rflags = flags
        let record = DeliveryRecord(vector: vector, type: interruptGate ? "interrupt" : "trap", dpl: gate.dpl,
                                    fromCPL: oldCPL, toCPL: newCPL, stackSwitch: switched,
                                    interruptsEnabled: flags & RFLAGS.if != 0, selector: cpu.cs.selector,
                                    handler: cpu.rip, pushedValues: pushed)
        lastDelivery = record
        if let to = switchedTo { trace.record(.stackSwitch(ss: to.ss, sp: to.sp, source: "TSS." + stackField()), at: traceMark) }
        trace.record(.gate(vector: Int(vector), kind: record.type, dpl: gate.dpl, fromCPL: oldCPL, toCPL: newCPL,
                           stackSwitch: switched, pushed: pushed.map(\.text)), at: traceMark)
        noteCPLChange(from: oldCPL)
    }

    /// Reads SSn:ESPn for a privilege raise from the current TSS (FAR-9, INT-7). The limit check covers the
    /// bytes read: ESPn and SSn, 4+8n..9+8n of a 32-bit TSS, and SPn, SSn, 2+4n..5+4n of a 16-bit one
    /// (SDM Vol. 2A INT n and CALL: "IF (TSSstackAddress + 5) > current TSS limit THEN #TS", "+ 3" for a
    /// 16-bit TSS). Older editions wrote "+ 7" (the whole 8-byte slot), which Bochs (get_SS_ESP_from_TSS)
    /// and QEMU (get_ss_esp_from_tss) still check: with a TSS limit of 9 + 8n or 10 + 8n they raise #TS
    /// where the current SDM, and the model, read the stack.
    func stackFromTSS(cpl n: UInt8, ext: Bool, rule: String) throws(Fault) -> (Selector, UInt64) {
        let extBit: UInt32 = ext ? 1 : 0
        let is16 = cpu.tr.cache.isSixteenBitTSS
        let spOffset = is16 ? 2 + 4 * Int(n) : 4 + 8 * Int(n)
        let ssOffset = is16 ? 4 + 4 * Int(n) : 8 + 8 * Int(n)
        guard cpu.tr.cache.usable, let sp = tssRead(offset: spOffset, size: is16 ? 2 : 4),
              let ss = tssRead(offset: ssOffset, size: 2) else {
            throw Fault(.TS, code: UInt32(cpu.tr.selector & 0xFFFC) | extBit, rule: rule,
                        "TSS field SS\(n):ESP\(n) (bytes 0x\(String(spOffset, radix: 16))..0x\(String(ssOffset + 1, radix: 16))) lies beyond the TSS limit 0x\(String(cpu.tr.cache.limit, radix: 16))")
        }
        return (Selector(UInt16(ss)), sp)
    }

    /// Checks the stack segment for a privilege raise (FAR-9, INT-7): faults are #TS, or #SS when not present.
    func checkNewStack(_ ss: Selector, cpl n: UInt8, ext: Bool, rule: String) throws(Fault) -> Descriptor {
        let extBit: UInt32 = ext ? 1 : 0
        guard !ss.isNull else {
            throw Fault(.TS, code: extBit, rule: rule, "TSS.SS\(n) is a null selector")
        }
        guard let d = descriptor(ss) else {
            throw Fault(.TS, code: ss.errorCode | extBit, rule: rule, "TSS.SS\(n) \(ss) lies beyond the descriptor table limit")
        }
        guard ss.rpl == n else {
            throw Fault(.TS, code: ss.errorCode | extBit, rule: rule, "TSS.SS\(n) \(ss) has RPL \(ss.rpl), not \(n)")
        }
        guard d.isWritableData else {
            throw Fault(.TS, code: ss.errorCode | extBit, rule: rule, "TSS.SS\(n) \(ss) is \(describeKind(d)), not a writable data segment")
        }
        guard d.dpl == n else {
            throw Fault(.TS, code: ss.errorCode | extBit, rule: rule, "TSS.SS\(n) \(ss) has DPL \(d.dpl), not \(n)")
        }
        guard d.present else {
            throw Fault(.SS, code: ss.errorCode | extBit, rule: rule, "the new stack segment \(ss) is not present")
        }
        return d
    }
}
