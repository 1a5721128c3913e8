// PageWalk: translating a linear address to a physical one, as the CPU does on every access
// (SDM Vol. 3A §4.3-4.7, rules PG-1..PG-15): the TLB first, else a walk of the page tables from
// CR3 down, then the access-rights checks, then the A/D updates.
//
// Entry bits used by the walk (PageTableEntry.swift has the full layout):
//   0 P   1 R/W   2 U/S   5 A   6 D   7 PS (PDE/PDPTE)   8 G   62:59 PKEY   63 XD
//
// #PF error code (PG-11), CR2 = the faulting linear address:
//   bit 0 P     0 = not-present entry, 1 = protection violation or reserved bit
//   bit 1 W/R   the access was a write
//   bit 2 U/S   the access was a user-mode access (CPL 3, not implicit; PG-13), whatever the page
//   bit 3 RSVD  a present entry had a reserved bit set
//   bit 4 I/D   instruction fetch; only when (PAE or 4-level paging with EFER.NXE=1) or CR4.SMEP=1
//   bit 5 PK    protection-key violation (PG-10)
//
// Order (PG-12): walk top-down; the first entry with P=0 faults P=0 (never RSVD); a present
// entry with a reserved bit faults P=1|RSVD; only after the whole walk are the rights checked.

/// #PF error-code bits (PG-11).
public enum PageFaultCode {
    public static let present: UInt32 = 1 << 0
    public static let write: UInt32 = 1 << 1
    public static let user: UInt32 = 1 << 2
    public static let reserved: UInt32 = 1 << 3
    public static let instructionFetch: UInt32 = 1 << 4
    public static let protectionKey: UInt32 = 1 << 5
}

extension PagingUnit {
    /// One level of a walk: which entry, where its index starts in the linear address, how wide.
    typealias WalkStep = (level: PagingLevel, shift: UInt64, bits: UInt64)

    static let walk32: [WalkStep] = [(.pde, 22, 10), (.pte, 12, 10)]
    /// PAE below the PDPTE registers.
    static let walkPAE: [WalkStep] = [(.pde, 21, 9), (.pte, 12, 9)]
    static let walk4Level: [WalkStep] = [(.pml4e, 39, 9), (.pdpte, 30, 9), (.pde, 21, 9), (.pte, 12, 9)]

    /// MOV to CR3 (or a paging-mode change) in PAE paging: loads the four PDPTEs from the 32-byte
    /// aligned table at CR3[31:5]. A present PDPTE with a reserved bit (2:1, 8:5, 63:MAXPHYADDR)
    /// is #GP(0) at this load (PG-2); a not-present one is fine here and faults P=0 when used.
    public mutating func loadPDPTEs(cr3: UInt64) throws(Fault) {
        let base = cr3 & 0xFFFF_FFE0
        var loaded: [UInt64] = [0, 0, 0, 0]
        for i in 0..<4 {
            let address = base + 8 * UInt64(i)
            let v = memory.read64(address)
            let bad = v & PageTableEntry.reservedPAEPDPTE
            if v & PageTableEntry.present != 0 && bad != 0 {
                throw Fault.gp(0, rule: "PG-2",
                               "PDPTE \(i) at 0x\(pagingHex(address)) (0x\(pagingHex(v))) is present and sets reserved bits 0x\(pagingHex(bad)); loading the PDPTEs at the CR3 write raises #GP(0)")
            }
            loaded[i] = v
        }
        pdpteRegisters = loaded
    }

    /// The physical address of `linear` for `access`, or the fault the access raises.
    /// Mode `.off`: linear = physical. 32-bit and PAE paging use the low 32 bits of `linear`.
    public mutating func translate(_ linear: UInt64, _ access: MemoryAccess, _ control: PagingControl,
                                   trace: inout Trace) throws(Fault) -> UInt64 {
        let mode = control.mode
        var linear = linear
        switch mode {
        case .off:
            return linear
        case .bits32, .pae:
            linear &= 0xFFFF_FFFF
        case .level4:
            // PG-3: a non-canonical address never reaches the page tables.
            guard isCanonical(linear) else {
                let what = "linear address 0x\(pagingHex(linear)) is not canonical (bits 63:47 differ)"
                if access.stack { throw Fault(.SS, code: 0, rule: "PG-3", what + "; a stack reference raises #SS(0)") }
                throw Fault.gp(0, rule: "PG-3", what + "; raises #GP(0), never #PF")
            }
        }

        if let hit = tlb.lookup(linear, cr3: control.cr3, mode: mode) {
            trace.record(.tlb(linear: linear, hit: true))
            if let fault = Self.rightsFault(hit.rights, linear: linear, access: access, control: control, cached: true) {
                // PG-15: a #PF drops the translation, so the next access walks memory again.
                tlb.drop(linear, cr3: control.cr3)
                throw fault
            }
            if access.kind != .write || hit.dirty {
                return hit.physicalBase | (linear & (hit.pageSize - 1))
            }
            // A write through a translation cached with D=0: the CPU walks to set D.
            tlb.drop(linear, cr3: control.cr3)
            trace.record(.note("TLB entry for 0x\(pagingHex(linear)) has D=0: the write walks again to set D"))
        } else {
            trace.record(.tlb(linear: linear, hit: false))
        }
        return try walk(linear, access, control, trace: &trace)
    }

    /// The error-code bits every #PF of this access carries: W/R, U/S, I/D (PG-11, PG-13).
    static func accessBits(_ access: MemoryAccess, _ control: PagingControl) -> UInt32 {
        var code: UInt32 = 0
        if access.kind == .write { code |= PageFaultCode.write }
        if access.isUser { code |= PageFaultCode.user }
        if access.kind == .fetch && ((control.mode != .bits32 && control.nxe) || control.smep) {
            code |= PageFaultCode.instructionFetch
        }
        return code
    }

    /// The walk proper (PG-1..PG-3, PG-5, PG-12, PG-14), filling the TLB on success.
    mutating func walk(_ linear: UInt64, _ access: MemoryAccess, _ control: PagingControl,
                       trace: inout Trace) throws(Fault) -> UInt64 {
        let mode = control.mode
        let width = mode == .bits32 ? 4 : 8
        let frameMask = mode == .bits32 ? PageTableEntry.frameMask32 : PageTableEntry.frameMask
        var seen: [WalkedEntry] = []
        var used: [(address: UInt64, value: UInt64)] = []
        used.reserveCapacity(4)
        var rights = EffectiveRights()

        func pageFault(_ code: UInt32, _ reason: String) -> Fault {
            trace.record(.pageWalk(linear: linear, entries: seen, physical: nil))
            return Fault(.PF, code: Self.accessBits(access, control) | code, cr2: linear, rule: "PG-12", reason)
        }

        let steps: [WalkStep]
        var table: UInt64
        switch mode {
        case .off:
            return linear
        case .bits32:
            (steps, table) = (Self.walk32, control.cr3 & PageTableEntry.frameMask32)
        case .level4:
            (steps, table) = (Self.walk4Level, control.cr3 & PageTableEntry.frameMask)
        case .pae:
            // PG-2: the PDPTE comes from the registers loaded at the CR3 write, not from memory.
            let index = Int((linear >> 30) & 3)
            let pdpte = pdpteRegisters[index]
            if trace.enabled {
                seen.append(WalkedEntry(level: "PDPTE", address: (control.cr3 & 0xFFFF_FFE0) + 8 * UInt64(index), value: pdpte))
            }
            if pdpte & PageTableEntry.present == 0 {
                throw pageFault(0, "the PDPTE for linear 0x\(pagingHex(linear)) is not present (P=0)")
            }
            (steps, table) = (Self.walkPAE, pdpte & PageTableEntry.frameMask)
        }

        var leafValue: UInt64 = 0
        var pageSize: UInt64 = 0x1000
        for step in steps {
            let index = (linear >> step.shift) & ((1 << step.bits) - 1)
            let address = table + index * UInt64(width)
            let v = memory.read(address, width: width)
            if trace.enabled { seen.append(WalkedEntry(level: step.level.description, address: address, value: v)) }
            if v & PageTableEntry.present == 0 {
                throw pageFault(0, "the \(step.level) for linear 0x\(pagingHex(linear)) is not present (P=0)")
            }
            let large = Self.mapsLargePages(mode, step.level, pse: control.pse) && v & PageTableEntry.pageSize != 0
            let bad = v & PageTableEntry.reservedMask(mode: mode, level: step.level, large: large, nxe: control.nxe)
            if bad != 0 {
                throw pageFault(PageFaultCode.present | PageFaultCode.reserved,
                                "the \(step.level) for linear 0x\(pagingHex(linear)) (0x\(pagingHex(v)) at 0x\(pagingHex(address))) sets reserved bits: \(PageTableEntry.describeReserved(bad, mode: mode, level: step.level))")
            }
            // PG-5: R/W and U/S are ANDed, XD ORed (only when NXE=1) over every level.
            if v & PageTableEntry.writable == 0 && rights.writable {
                rights.writable = false
                rights.readOnlyAt = step.level
            }
            if v & PageTableEntry.user == 0 && rights.user {
                rights.user = false
                rights.supervisorAt = step.level
            }
            if control.nxe && v & PageTableEntry.executeDisable != 0 && !rights.executeDisable {
                rights.executeDisable = true
                rights.executeDisableAt = step.level
            }
            used.append((address, v))
            if large || step.level == .pte {
                leafValue = v
                pageSize = UInt64(1) << step.shift
                break
            }
            table = v & frameMask
        }

        // PG-10: only the leaf's key counts, and only in 4-level paging.
        if mode == .level4 {
            rights.protectionKey = UInt8((leafValue & PageTableEntry.pkeyMask) >> PageTableEntry.pkeyShift)
        }
        if let fault = Self.rightsFault(rights, linear: linear, access: access, control: control, cached: false) {
            trace.record(.pageWalk(linear: linear, entries: seen, physical: nil))
            throw fault
        }

        // PG-14: A in every entry used, top-down; D in the leaf on a write.
        for (i, e) in used.enumerated() {
            var bits = PageTableEntry.accessed
            if i == used.count - 1 && access.kind == .write { bits |= PageTableEntry.dirty }
            if e.value & bits != bits { memory.setBits(bits, at: e.address, width: width) }
        }

        let base = frameOfLeaf(leafValue, mode: mode, large: pageSize != 0x1000, size: pageSize)
        let physical = base | (linear & (pageSize - 1))
        trace.record(.pageWalk(linear: linear, entries: seen, physical: physical))
        tlb.fill(linear, cr3: control.cr3, entry: TLBEntry(
            physicalBase: base, pageSize: pageSize, rights: rights,
            global: control.pge && leafValue & PageTableEntry.global != 0,
            dirty: access.kind == .write || leafValue & PageTableEntry.dirty != 0))
        return physical
    }

    /// True when none of the checks of `rightsFault` can refuse the access: the same conditions, with no
    /// text built (every access runs this; only a refusal needs the reason). Protection keys are left to
    /// `rightsFault` whenever they apply.
    @inline(__always)
    static func rightsAllow(_ r: EffectiveRights, access: MemoryAccess, control: PagingControl) -> Bool {
        let user = access.isUser
        let write = access.kind == .write
        switch access.kind {
        case .fetch:
            if control.mode != .bits32 && control.nxe && r.executeDisable { return false }
            if user ? !r.user : (r.user && control.smep) { return false }
            return true  // PG-8: fetches ignore R/W, SMAP and keys
        case .read, .write:
            if user {
                if !r.user || (write && !r.writable) { return false }
            } else {
                if r.user && control.smap && (access.implicit || !control.ac) { return false }
                if write && control.wp && !r.writable { return false }
            }
        }
        return !(control.pke && control.mode == .level4 && r.user)
    }

    /// The access-rights checks after a complete walk or on a TLB hit (PG-6..PG-10), or nil when
    /// the access is allowed. The rule id is the first rule that refuses; PK is set whenever the
    /// key refuses, even alongside another violation (SDM §4.7; KUT access.c does the same).
    static func rightsFault(_ r: EffectiveRights, linear: UInt64, access: MemoryAccess,
                            control: PagingControl, cached: Bool) -> Fault? {
        if rightsAllow(r, access: access, control: control) { return nil }
        let user = access.isUser
        let write = access.kind == .write
        let who = user ? "user-mode" : (access.implicit ? "implicit supervisor" : "supervisor-mode")
        let what = access.kind == .fetch ? "instruction fetch from" : (write ? "write to" : "read of")
        // Spelt out only when a fault is raised (this runs on every access).
        var ro: String { "\(r.readOnlyAt?.description ?? "leaf") R/W=0" }
        var sup: String { "\(r.supervisorAt?.description ?? "leaf") U/S=0" }
        var rule: String?
        var reason = ""

        switch access.kind {
        case .fetch:
            // PG-8: fetches ignore R/W, SMAP and keys.
            if control.mode != .bits32 && control.nxe && r.executeDisable {
                rule = "PG-8"
                reason = "\(who) instruction fetch from a page with effective XD=1 (\(r.executeDisableAt?.description ?? "leaf") XD=1, EFER.NXE=1)"
            } else if user && !r.user {
                rule = "PG-8"
                reason = "user-mode instruction fetch from a supervisor page (\(sup))"
            } else if !user && r.user && control.smep {
                rule = "PG-8"
                reason = "supervisor-mode instruction fetch from a user page with CR4.SMEP=1"
            }
        case .read, .write:
            if user {
                // PG-6: user accesses need U=1, writes also R/W=1 (CR0.WP irrelevant).
                if !r.user {
                    rule = "PG-6"
                    reason = "user-mode \(what) a supervisor page (\(sup))"
                } else if write && !r.writable {
                    rule = "PG-6"
                    reason = "user-mode write to a page whose effective R/W is 0 (\(ro))"
                }
            } else {
                if r.user && control.smap && (access.implicit || !control.ac) {
                    // PG-9: only explicit accesses with RFLAGS.AC=1 may touch user pages.
                    rule = "PG-9"
                    reason = access.implicit
                        ? "implicit supervisor \(what) a user page with CR4.SMAP=1 (faults whatever RFLAGS.AC)"
                        : "supervisor-mode \(what) a user page with CR4.SMAP=1 and RFLAGS.AC=0"
                } else if write && control.wp && !r.writable {
                    // PG-7: with CR0.WP=1 supervisor writes honour R/W.
                    rule = "PG-7"
                    reason = "\(who) write to a page whose effective R/W is 0 (\(ro)) with CR0.WP=1"
                }
            }
        }

        // PG-10: keys apply to data accesses to user pages, from user and supervisor mode.
        var keyRefuses = false
        var keyReason = ""
        if control.pke && control.mode == .level4 && access.kind != .fetch && r.user {
            let k = Int(r.protectionKey)
            if ProtectionKeyRights.accessDisabled(pkru: control.pkru, key: k) {
                keyRefuses = true
                keyReason = "\(who) \(what) a user page with protection key \(k), and PKRU.AD\(k)=1"
            } else if ProtectionKeyRights.refuses(pkru: control.pkru, key: k, write: write, user: user, wp: control.wp) {
                keyRefuses = true
                keyReason = "\(who) write to a user page with protection key \(k), and PKRU.WD\(k)=1" + (user ? "" : " with CR0.WP=1")
            }
        }

        guard rule != nil || keyRefuses else { return nil }
        var code = accessBits(access, control) | PageFaultCode.present
        if keyRefuses { code |= PageFaultCode.protectionKey }
        if rule == nil {
            rule = "PG-10"
            reason = keyReason
        }
        if cached { reason += " (rights cached in the TLB)" }
        return Fault(.PF, code: code, cr2: linear, rule: rule ?? "PG-10", reason)
    }
}
