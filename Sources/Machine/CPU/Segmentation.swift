// Segmentation: loading DS/ES/FS/GS and SS in protected mode, with the checks of SEG-5 and SEG-6
// in the order Bochs performs them (SDM Vol. 3A §5.5-5.7, §3.4).

extension Machine {
    /// MOV DS/ES/FS/GS, SEL (SEG-5).
    ///   a. null -> allowed, register unusable (64-bit mode: usable with base 0)
    ///   b. table limit -> #GP(sel)
    ///   c. must be data or readable code -> #GP(sel)
    ///   d. data / non-conforming code: max(CPL, RPL) <= DPL -> else #GP(sel)
    ///   e. P=0 -> #NP(sel)
    public mutating func loadDataSegment(_ reg: SegmentRegisterName, _ sel: Selector) throws(Fault) {
        if sel.isNull {
            // The register holds a null selector in every mode. 64-bit mode does not check it on use (dataLinear
            // gives base 0 there), but it stays null: once the CPU runs in compatibility mode a use faults #GP(0)
            // (SDM Vol. 3A §3.4.4: only 64-bit mode skips the null check of DS, ES, FS, GS on use).
            cpu[segment: reg] = SegmentRegister(selector: sel.value, cache: .unusable)
            trace.record(.segmentCheck(register: reg.rawValue, selector: sel.value,
                                       detail: "null selector: \(reg.rawValue.uppercased()) becomes unusable outside 64-bit mode (SEG-5a)"))
            return
        }
        guard let d = descriptor(sel) else {
            throw Fault(.GP, code: sel.errorCode, rule: "SEG-5b", "selector \(sel) lies beyond the \(sel.isLDT ? "LDT" : "GDT") limit")
        }
        guard d.isData || d.isReadableCode else {
            throw Fault(.GP, code: sel.errorCode, rule: "SEG-5c", "descriptor \(sel) is \(describeKind(d)), not a data or readable code segment")
        }
        if d.isData || !d.isConforming {
            let cpl = cpu.cpl, rpl = sel.rpl
            guard rpl <= d.dpl && cpl <= d.dpl else {
                throw Fault(.GP, code: sel.errorCode, rule: "SEG-5d",
                            "privilege check failed: max(CPL \(cpl), RPL \(rpl)) > DPL \(d.dpl)")
            }
        }
        guard d.present else {
            throw Fault(.NP, code: sel.errorCode, rule: "SEG-5e", "segment \(sel) is not present (P=0)")
        }
        cpu[segment: reg] = SegmentRegister(selector: sel.value, cache: d.cache)
        trace.record(.segmentCheck(register: reg.rawValue, selector: sel.value,
                                   detail: "RPL \(sel.rpl), CPL \(cpu.cpl) <= DPL \(d.dpl): loaded"))
    }

    /// MOV SS, SEL (SEG-6).
    ///   a. null -> #GP(0) (64-bit mode: allowed when CPL != 3 and RPL == CPL)
    ///   b. table limit -> #GP(sel)
    ///   c. RPL != CPL -> #GP(sel)
    ///   d. not a writable data segment -> #GP(sel)
    ///   e. DPL != CPL -> #GP(sel)
    ///   f. P=0 -> #SS(sel)
    public mutating func loadStackSegment(_ sel: Selector) throws(Fault) {
        let cpl = cpu.cpl
        if sel.isNull {
            if in64BitMode && cpl != 3 && sel.rpl == cpl {
                cpu.ss = SegmentRegister(selector: sel.value, cache: .nullStack(dpl: cpl))
                return
            }
            throw Fault(.GP, code: 0, rule: "SEG-6a", "null selector loaded into SS")
        }
        guard let d = descriptor(sel) else {
            throw Fault(.GP, code: sel.errorCode, rule: "SEG-6b", "selector \(sel) lies beyond the \(sel.isLDT ? "LDT" : "GDT") limit")
        }
        guard sel.rpl == cpl else {
            throw Fault(.GP, code: sel.errorCode, rule: "SEG-6c", "SS selector RPL \(sel.rpl) differs from CPL \(cpl)")
        }
        guard d.isWritableData else {
            throw Fault(.GP, code: sel.errorCode, rule: "SEG-6d", "descriptor \(sel) is \(describeKind(d)), not a writable data segment")
        }
        guard d.dpl == cpl else {
            throw Fault(.GP, code: sel.errorCode, rule: "SEG-6e", "SS descriptor DPL \(d.dpl) differs from CPL \(cpl)")
        }
        guard d.present else {
            throw Fault(.SS, code: sel.errorCode, rule: "SEG-6f", "stack segment \(sel) is not present (P=0)")
        }
        cpu.ss = SegmentRegister(selector: sel.value, cache: d.cache)
        trace.record(.segmentCheck(register: "ss", selector: sel.value, detail: "RPL = CPL = DPL = \(cpl), writable data: loaded"))
    }

    /// Describes a descriptor's kind in words, for fault reasons.
    public func describeKind(_ d: Descriptor) -> String {
        if d.isCode { return d.isConforming ? "a conforming code segment" : (d.isReadableCode ? "a readable code segment" : "an execute-only code segment") }
        if d.isData { return d.isWritableData ? "a writable data segment" : "a read-only data segment" }
        switch d.systemType {
        case .some(.ldt): return "an LDT descriptor"
        case .some(.tssAvailable), .some(.tss16Available): return "an available TSS"
        case .some(.tssBusy), .some(.tss16Busy): return "a busy TSS"
        case .some(.callGate), .some(.callGate16): return "a call gate"
        case .some(.taskGate): return "a task gate"
        case .some(.interruptGate), .some(.interruptGate16): return "an interrupt gate"
        case .some(.trapGate), .some(.trapGate16): return "a trap gate"
        case .none: return "a reserved system type 0x\(String(d.type, radix: 16))"
        }
    }

    /// The common code-segment check of far transfers (FAR, `check_cs`): type, long-mode L/D,
    /// privilege against `cplToCheck` and `rplToCheck`, then presence.
    /// `level` names `cplToCheck` in fault reasons: the CPL, or for a far RET/IRET the return RPL (FAR-12).
    func checkCodeSegment(_ d: Descriptor, _ sel: Selector, rpl rplToCheck: UInt8, cpl cplToCheck: UInt8,
                          rule: String, level: String = "CPL") throws(Fault) {
        guard d.isCode else {
            throw Fault(.GP, code: sel.errorCode, rule: rule, "target \(sel) is \(describeKind(d)), not a code segment")
        }
        if longMode && d.long && d.big {
            throw Fault(.GP, code: sel.errorCode, rule: rule, "code segment \(sel) has both L and D set")
        }
        if d.isConforming {
            guard d.dpl <= cplToCheck else {
                throw Fault(.GP, code: sel.errorCode, rule: rule, "conforming code segment DPL \(d.dpl) > \(level) \(cplToCheck)")
            }
        } else {
            guard d.dpl == cplToCheck && rplToCheck <= cplToCheck else {
                throw Fault(.GP, code: sel.errorCode, rule: rule,
                            level == "CPL"
                                ? "non-conforming code segment needs DPL == CPL and RPL <= CPL (DPL \(d.dpl), CPL \(cplToCheck), RPL \(rplToCheck))"
                                : "non-conforming code segment needs DPL == \(level) (DPL \(d.dpl), \(level) \(cplToCheck))")
            }
        }
        guard d.present else {
            throw Fault(.NP, code: sel.errorCode, rule: rule, "code segment \(sel) is not present (P=0)")
        }
    }

    /// Checks a branch target against the new code segment (FAR common rule) and returns the RIP to load:
    /// a 64-bit target needs a canonical RIP, else #GP(0); a legacy or compatibility-mode target takes the
    /// offset's low 32 bits (SDM Vol. 2A CALL/JMP/RET "IF target mode = Compatibility mode THEN tempEIP <-
    /// tempEIP AND 00000000_FFFFFFFFH"; Bochs branch_far `rip &= 0xffffffff`), which must lie within the limit,
    /// else #GP(0). `code` is 1 (EXT) while delivering an external event (SEG-8).
    @discardableResult
    func checkBranchTarget(_ offset: UInt64, cache: SegmentCache, rule: String, code: UInt32 = 0) throws(Fault) -> UInt64 {
        if longMode && cache.long {
            guard isCanonical(offset) else { throw Fault.gp(code, rule: rule, "target RIP 0x\(String(offset, radix: 16)) is not canonical") }
            return offset
        }
        let eip = offset & 0xFFFF_FFFF
        guard eip <= UInt64(cache.limit) else {
            throw Fault.gp(code, rule: rule, "target EIP 0x\(String(eip, radix: 16)) exceeds the code segment limit 0x\(String(cache.limit, radix: 16))")
        }
        return eip
    }

    /// Records a change of CPL in the trace.
    mutating func noteCPLChange(from old: UInt8) {
        if old != cpu.cpl { trace.record(.modeSwitch(task: taskName, fromCPL: old, toCPL: cpu.cpl)) }
    }
}
