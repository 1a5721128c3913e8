// UnusableSegment: why a segment register's hidden part is unusable, in words for a fault message (SEG-5a).
// Two ways get there: a null selector was loaded (SDM Vol. 3A §3.4.2, the null segment selector), or a
// hardware task switch faulted after its commit point (SDM Vol. 3A §7.3 step 13): it had loaded every
// segment register with the selector from the new TSS first, and "the remaining segment registers are loaded
// but not checked for validity and therefore may not be usable for referencing memory" (§6.15, Interrupt
// 10, Invalid TSS Exception, Program State Change). Such a register holds the TSS's selector, not null.

extension Machine {
    /// "which holds a null selector (0x0)" or "which holds selector 0x48 but no usable descriptor ...".
    func unusableSegmentWhy(_ reg: SegmentRegister) -> String {
        let sel = "0x\(String(reg.selector, radix: 16))"
        if reg.selector & 0xFFFC == 0 { return "which holds a null selector (\(sel))" }
        return "which holds selector \(sel) but no usable descriptor: a task switch loaded it from the new TSS and "
            + "faulted after the commit point before validating it (SDM §6.15, #TS and #NP: program state change)"
    }
}
