// LinuxPreset: the tables, MSRs, control bits and kernel mappings Linux sets up for each mode (LNX-1..LNX-6).
// The preset fits its mappings to the scenario's settings (large pages only when the paging mode and
// CR4.PSE allow them, XD bits only when EFER.NXE is on), so that its own deliveries keep working.

extension LinuxLayout {
    // Descriptor encodings, as Linux's GDT_ENTRY_INIT flags (0xc09b, 0xa09b, 0xc093, 0xc0fb, 0xc0f3, 0xa0fb).
    func flatCode(dpl: UInt8, long: Bool) -> UInt64 {
        Descriptor.segment(base: 0, limit: 0xF_FFFF, type: 0xB, dpl: dpl, present: true, long: long, big: !long,
                           granularity4K: true).raw
    }
    func flatData(dpl: UInt8) -> UInt64 {
        Descriptor.segment(base: 0, limit: 0xF_FFFF, type: 0x3, dpl: dpl, present: true, long: false, big: true,
                           granularity4K: true).raw
    }

    /// The preset GDT (LNX-1, LNX-2); the TSS descriptor is busy because TR is loaded with it.
    public func presetGDT() -> [UInt64] {
        var gdt = Array(repeating: UInt64(0), count: gdtEntries)
        let tss = Descriptor.system(base: tssBase, limit: 0x67, type: .tssBusy, dpl: 0, present: true)
        switch mode {
        case .ia32:
            gdt[kernelCSIndex] = flatCode(dpl: 0, long: false)
            gdt[kernelDSIndex] = flatData(dpl: 0)
            gdt[userCSIndex] = flatCode(dpl: 3, long: false)
            gdt[userDSIndex] = flatData(dpl: 3)
            gdt[tssIndex] = tss.low.raw
        case .x86_64:
            gdt[1] = flatCode(dpl: 0, long: false)
            gdt[kernelCSIndex] = flatCode(dpl: 0, long: true)
            gdt[kernelDSIndex] = flatData(dpl: 0)
            gdt[4] = flatCode(dpl: 3, long: false)
            gdt[userDSIndex] = flatData(dpl: 3)
            gdt[userCSIndex] = flatCode(dpl: 3, long: true)
            gdt[tssIndex] = tss.low.raw
            gdt[tssIndex + 1] = tss.high
        }
        return gdt
    }

    /// The preset IDT as raw words (LNX-4): exceptions 0-31 interrupt gates of DPL 0 (3 and 4: DPL 3), the PIC
    /// IRQs 0x20-0x2f interrupt gates of DPL 0 (0x20 the timer), 0x80 the system-call gate of DPL 3 (a trap
    /// gate in ia32, an interrupt gate in x86_64); x86_64 puts #DF, NMI, #DB and #MC on IST stacks.
    public func presetIDT() -> [UInt64] {
        let slots = mode == .ia32 ? 256 : 512
        var idt = Array(repeating: UInt64(0), count: slots)
        func put(_ v: Int, _ type: SystemType, dpl: UInt8, offset: UInt64, ist: UInt8 = 0) {
            let g = Descriptor.gate(type: type, selector: kernelCS, offset: offset, dpl: dpl, present: true, ist: ist)
            if mode == .ia32 {
                idt[v] = g.low.raw
            } else {
                idt[2 * v] = g.low.raw
                idt[2 * v + 1] = g.high
            }
        }
        for v in 0..<0x30 {
            let dpl: UInt8 = (v == 3 || v == 4) ? 3 : 0
            let ist = mode == .x86_64 ? (LinuxLayout.istOfVector[UInt8(v)] ?? 0) : 0
            put(v, .interruptGate, dpl: dpl, offset: vectorEntry(UInt8(v)), ist: ist)
        }
        put(0x80, mode == .ia32 ? .trapGate : .interruptGate, dpl: 3, offset: int80Entry)
        return idt
    }

    /// MSRs (LNX-3). SYSENTER_ESP is the running task's kernel stack top (the model keeps it there on every
    /// switch unless the scenario sets it; Linux reaches the same stack through its entry trampoline).
    public func presetMSRs(kernelStackTop: UInt64) -> [UInt32: UInt64] {
        switch mode {
        case .ia32:
            return [MSR.sysenterCS: UInt64(kernelCS), MSR.sysenterESP: kernelStackTop, MSR.sysenterEIP: entrySYSENTER_32]
        case .x86_64:
            return [MSR.star: (UInt64(0x0023) << 48) | (UInt64(kernelCS) << 32), MSR.lstar: entrySYSCALL_64,
                    MSR.cstar: entrySYSCALL_compat, MSR.fmask: LinuxLayout.syscallFlagMask,
                    MSR.sysenterCS: UInt64(kernelCS), MSR.sysenterESP: kernelStackTop, MSR.sysenterEIP: entrySYSENTER_compat]
        }
    }

    /// Bytes of physical memory the direct map covers, given the paging settings (large pages when allowed,
    /// else a small 4 KiB region: the first 64 KiB). ia32 maps 64 MiB, x86_64 1 GiB.
    public func directMapSize(paging: PagingMode, pse: Bool) -> UInt64 {
        switch paging {
        case .off: 0
        case .bits32: pse ? 0x400_0000 : 0x1_0000
        case .pae: 0x400_0000
        case .level4: 0x4000_0000
        }
    }

    /// The kernel's own mappings (supervisor-only), made once in the template address space.
    public func presetKernelMappings(paging: PagingMode, pse: Bool, nxe: Bool, pge: Bool) -> [PageMapping] {
        func flags(writable: Bool, nx: Bool) -> EntryFlags {
            EntryFlags(present: true, writable: writable, user: false, nx: nx && nxe, global: pge ? true : nil)
        }
        switch paging {
        case .off:
            return []
        case .bits32 where !pse:
            // 4 KiB pages: the first 64 KiB of physical memory and 64 KiB of kernel text.
            return [PageMapping(virt: directMapBase, phys: 0, count: 16, size: .size4K, leaf: flags(writable: true, nx: false)),
                    PageMapping(virt: kernelTextBase, phys: kernelTextPhysical, count: 16, size: .size4K,
                                leaf: flags(writable: false, nx: false))]
        case .bits32:
            // 4 MiB pages: 64 MiB of low memory, kernel text included (virt = phys + PAGE_OFFSET).
            return [PageMapping(virt: directMapBase, phys: 0, count: 16, size: .size4M, leaf: flags(writable: true, nx: false))]
        case .pae:
            return [PageMapping(virt: directMapBase, phys: 0, count: 32, size: .size2M, leaf: flags(writable: true, nx: false))]
        case .level4:
            return [PageMapping(virt: directMapBase, phys: 0, count: 1, size: .size1G, leaf: flags(writable: true, nx: true)),
                    PageMapping(virt: kernelTextBase, phys: kernelTextPhysical, count: 1, size: .size2M,
                                leaf: flags(writable: false, nx: false))]
        }
    }
}

/// Offsets of TSS fields by the names scenarios use.
enum TSSFields {
    static func offset(_ name: String, is64: Bool) -> (offset: Int, size: Int)? {
        if is64 {
            switch name {
            case "rsp0": return (TSS64.rsp(0), 8)
            case "rsp1": return (TSS64.rsp(1), 8)
            case "rsp2": return (TSS64.rsp(2), 8)
            case "iomap": return (TSS64.iomap, 2)
            default:
                if name.hasPrefix("ist"), let n = Int(name.dropFirst(3)), (1...7).contains(n) { return (TSS64.ist(n), 8) }
                return nil
            }
        }
        return legacyOffsets[name].map { (offset: $0.0, size: $0.1) }
    }

    /// The 32-bit TSS fields by name: offset and size (TASK-8).
    private static let legacyOffsets: [String: (Int, Int)] = [
        "link": (TSS32.link, 2), "esp0": (TSS32.esp0, 4), "ss0": (TSS32.ss0, 2), "esp1": (TSS32.esp1, 4),
        "ss1": (TSS32.ss1, 2), "esp2": (TSS32.esp2, 4), "ss2": (TSS32.ss2, 2), "cr3": (TSS32.cr3, 4),
        "eip": (TSS32.eip, 4), "eflags": (TSS32.eflags, 4), "eax": (TSS32.eax, 4), "ecx": (TSS32.ecx, 4),
        "edx": (TSS32.edx, 4), "ebx": (TSS32.ebx, 4), "esp": (TSS32.esp, 4), "ebp": (TSS32.ebp, 4),
        "esi": (TSS32.esi, 4), "edi": (TSS32.edi, 4), "es": (TSS32.es, 2), "cs": (TSS32.cs, 2), "ss": (TSS32.ss, 2),
        "ds": (TSS32.ds, 2), "fs": (TSS32.fs, 2), "gs": (TSS32.gs, 2), "ldt": (TSS32.ldt, 2), "iomap": (TSS32.iomap + 2, 2),
        // The T (debug trap) flag, bit 0 of the word at 0x64 (TASK-7); bits 15..1 are reserved (0).
        "trap": (TSS32.iomap, 2),
    ]
}
