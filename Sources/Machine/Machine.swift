// Machine: the whole modelled computer — CPU state, descriptor tables, TSS images, physical memory
// with its paging unit, and the trace of what happened. A value type: copying a machine copies it.

/// IA-32 protected mode or IA-32e (long) mode.
public enum MachineMode: String, Sendable, CaseIterable {
    case ia32
    case x86_64
}

/// Whose documented behaviour to follow where Intel and AMD differ (FAST-5, FAST-6, FAST-12).
public enum CPUVendor: String, Sendable, CaseIterable {
    case intel, amd
}

/// Limits that keep a run bounded whatever its input says.
public struct MachineLimits: Sendable, Equatable {
    /// How deep exception delivery may nest before the model gives up (a triple fault ends it earlier).
    public static let defaultMaxDeliveryDepth = 8
    public var maxDeliveryDepth = MachineLimits.defaultMaxDeliveryDepth
    public init() {}
}

public struct Machine: Sendable {
    public var mode: MachineMode
    public var vendor: CPUVendor
    public var cpu = CPUState()
    /// The GDT, one raw 8-byte word per slot (16-byte system descriptors take two slots in IA-32e).
    public var gdt: [UInt64] = [0] {
        didSet { cpu.gdtr.limit = UInt32(max(gdt.count * 8, 1) - 1) }
    }
    /// LDT contents, keyed by the base address named in their LDT descriptor.
    public var ldtTables: [UInt64: [UInt64]] = [:]
    /// The IDT, raw words; in IA-32e a gate takes two words (16 bytes).
    public var idt: [UInt64] = [] {
        didSet { cpu.idtr.limit = UInt32(max(idt.count * 8, 1) - 1) }
    }
    /// TSS contents (the byte image, TASK-8 layout), keyed by the base address in their descriptor.
    public var tssImages: [UInt64: [UInt8]] = [:]
    public var paging: PagingUnit
    public var pagingMode: PagingMode
    public var trace = Trace()
    public var limits = MachineLimits()
    /// Set by a triple fault (DF-4): the CPU stops.
    public var shutdown = false
    /// Set by HLT at CPL 0.
    public var halted = false
    /// The interrupt shadow: STI executed with IF = 0, or a MOV to SS, inhibits maskable interrupts
    /// at the next instruction boundary (SDM Vol. 2B STI, Vol. 3A §6.8.3); cleared when the next
    /// instruction completes.
    public var interruptShadow = false
    /// Name of the task whose context the CPU is running, for the trace (`user A`, `kernel A`).
    public var taskName = "main"
    /// The last gate delivery (IDT or call gate), for `expect.gate`.
    public var lastDelivery: DeliveryRecord?
    /// The last kernel entry through SYSENTER, SYSCALL or an `int 0x80` gate, for `expect.entry`.
    public var lastEntry: EntryRecord?
    /// CPL before the last hardware task switch.
    public var lastTaskSwitchFromCPL: UInt8 = 0
    /// Set by a task switch into a TSS whose T bit is set: `execute` raises the #DB trap (TASK-7).
    public var pendingTaskSwitchTrap = false
    /// Set by a task switch at its commit point to the new task's EIP (TASK-6): a fault raised after it belongs
    /// to the new task and saves that EIP as its return address. Cleared when the switch completes, and taken
    /// by whoever delivers the fault.
    public var taskSwitchFaultIP: UInt64?
    /// Set when an input asks for behaviour the model does not implement; the run refuses it.
    public var unsupported: String?

    public init(mode: MachineMode, vendor: CPUVendor = .intel, pagingMode: PagingMode, paging: PagingUnit) {
        self.mode = mode
        self.vendor = vendor
        self.pagingMode = pagingMode
        self.paging = paging
        if mode == .x86_64 { cpu.efer |= EFER.lme | EFER.lma }
    }

    // MARK: Modes

    /// IA-32e mode is active (EFER.LMA).
    @inlinable public var longMode: Bool { mode == .x86_64 }
    /// 64-bit mode: IA-32e with a code segment whose L bit is set.
    @inlinable public var in64BitMode: Bool { longMode && cpu.cs.cache.long }
    /// Compatibility mode: IA-32e with a 32-bit code segment.
    @inlinable public var inCompatibilityMode: Bool { longMode && !cpu.cs.cache.long }

    /// The paging controls in force now.
    public var pagingControl: PagingControl {
        PagingControl(
            mode: pagingMode, cr3: cpu.cr3, wp: cpu.cr0 & CR0.wp != 0, pse: cpu.cr4 & CR4.pse != 0,
            pge: cpu.cr4 & CR4.pge != 0, smep: cpu.cr4 & CR4.smep != 0, smap: cpu.cr4 & CR4.smap != 0,
            pke: cpu.cr4 & CR4.pke != 0, nxe: cpu.efer & EFER.nxe != 0,
            ac: cpu.rflags & RFLAGS.ac != 0, pkru: cpu.pkru)
    }

    // MARK: Descriptor tables

    /// Reads the 8-byte descriptor a selector names, or nil when it lies beyond the table's limit or the
    /// LDT is not usable (SEG-3).
    public func descriptor(_ sel: Selector) -> Descriptor? {
        if sel.isLDT {
            guard cpu.ldtr.cache.usable, let table = ldtTables[cpu.ldtr.cache.base] else { return nil }
            guard UInt64(sel.index) * 8 + 7 <= UInt64(cpu.ldtr.cache.limit), sel.index < table.count else { return nil }
            return Descriptor(raw: table[sel.index])
        }
        guard UInt64(sel.index) * 8 + 7 <= UInt64(cpu.gdtr.limit), sel.index < gdt.count else { return nil }
        return Descriptor(raw: gdt[sel.index])
    }

    /// Why `descriptor(sel)` found nothing, in words for a trace: an LDT selector while LDTR is null, or an
    /// index beyond the GDT's or LDT's limit.
    public func descriptorMiss(_ sel: Selector) -> String {
        if sel.isLDT && !cpu.ldtr.cache.usable { return "names an LDT entry, but LDTR is null" }
        return "lies beyond the \(sel.isLDT ? "LDT" : "GDT") limit"
    }

    /// The high word of a 16-byte system descriptor or gate in the GDT (IA-32e), or nil beyond the limit.
    public func descriptorHigh(_ sel: Selector) -> UInt64? {
        let i = sel.index + 1
        if sel.isLDT {
            guard let table = ldtTables[cpu.ldtr.cache.base], i < table.count,
                  UInt64(i) * 8 + 7 <= UInt64(cpu.ldtr.cache.limit) else { return nil }
            return table[i]
        }
        guard i < gdt.count, UInt64(i) * 8 + 7 <= UInt64(cpu.gdtr.limit) else { return nil }
        return gdt[i]
    }

    /// Writes back a descriptor (busy bits, accessed bits).
    public mutating func setDescriptor(_ sel: Selector, _ d: Descriptor) {
        if sel.isLDT {
            let base = cpu.ldtr.cache.base
            if var table = ldtTables[base], sel.index < table.count {
                table[sel.index] = d.raw
                ldtTables[base] = table
            }
        } else if sel.index < gdt.count {
            gdt[sel.index] = d.raw
        }
    }

    // MARK: Linear memory

    /// Translates a linear address for an access (PG); records the walk in the trace.
    @inlinable
    public mutating func translate(_ linear: UInt64, _ access: MemoryAccess) throws(Fault) -> UInt64 {
        let control = pagingControl
        return try paging.translate(linear, access, control, trace: &trace)
    }

    /// Refuses (as not modelled) an access that runs past offset 0xFFFFFFFF of a segment whose effective limit
    /// is 0xFFFFFFFF, where the SDM leaves the fault implementation specific (§5.3); the caller still throws
    /// its limit fault, which ends the step.
    mutating func refuseFlatLimitWrap(_ cache: SegmentCache, offset: UInt64, size: Int, register: String) {
        guard cache.wrapsPastFlatLimit(offset: offset, size: size) else { return }
        unsupported = "a \(size)-byte access at \(register) offset 0x\(String(offset, radix: 16)) runs past offset 0xffffffff of a segment whose limit is 0xffffffff: whether it faults is implementation specific (SDM Vol. 3A §5.3)"
    }

    /// AC-1 (SDM Vol. 3A §6.15 "Interrupt 17", §2.3 EFLAGS.AC): with CR0.AM = 1 and EFLAGS.AC = 1, a data or
    /// stack access made at CPL 3 whose linear address is not a multiple of its size (a word at an odd address,
    /// a doubleword not on a 4-byte boundary, ...) faults #AC(0). Not for instruction fetches, nor for implicit
    /// supervisor accesses (descriptor-table and TSS reads), nor at CPL 0-2. It comes after the segment checks
    /// and the canonical check and before paging (Bochs access_read_linear/access_write_linear, stack_write_*).
    public func checkAlignment(_ linear: UInt64, size: Int, _ access: MemoryAccess) throws(Fault) {
        // CR0.AM first: it is almost always clear, and then nothing else is looked at.
        guard cpu.cr0 & CR0.am != 0, cpu.rflags & RFLAGS.ac != 0, size > 1, access.kind != .fetch, access.isUser,
              linear & UInt64(size - 1) != 0 else { return }
        throw Fault(.AC, code: 0, rule: "AC-1",
                    "\(size)-byte \(access.kind == .write ? "write" : "read") at 0x\(String(linear, radix: 16)) is not aligned on a \(size)-byte boundary, with CR0.AM = 1, EFLAGS.AC = 1 and CPL 3")
    }

    /// The linear address of byte `i` of an access split across pages (SDM Vol. 3A §3.2.4, §3.4; Bochs
    /// access_read_linear/access_write_linear, "handle linear address wrap in legacy mode"): outside 64-bit mode a linear address is 32 bits, so the
    /// bytes of an access that runs past 0xFFFFFFFF wrap to page 0, in legacy and compatibility mode alike. A
    /// linear address above 4 GiB outside 64-bit mode (a 64-bit frame, a system table in IA-32e mode) is
    /// left as it is.
    @inlinable
    func splitByteAddress(_ linear: UInt64, _ i: Int) -> UInt64 {
        let byte = linear &+ UInt64(i)
        return !in64BitMode && linear <= 0xFFFF_FFFF ? byte & 0xFFFF_FFFF : byte
    }

    /// Reads `size` bytes (1, 2, 4 or 8) at a linear address.
    public mutating func readLinear(_ linear: UInt64, size: Int, _ access: MemoryAccess) throws(Fault) -> UInt64 {
        try checkAlignment(linear, size: size, access)
        let lastPage = (linear &+ UInt64(size) &- 1) & ~0xFFF
        if lastPage != linear & ~0xFFF {
            var v: UInt64 = 0
            for i in 0..<size {
                let pa = try translate(splitByteAddress(linear, i), access)
                v |= UInt64(paging.memory.read(pa, size: 1)) << (8 * UInt64(i))
            }
            return v
        }
        let pa = try translate(linear, access)
        return paging.memory.read(pa, size: size)
    }

    /// Writes `size` bytes (1, 2, 4 or 8) at a linear address.
    public mutating func writeLinear(_ linear: UInt64, value: UInt64, size: Int, _ access: MemoryAccess) throws(Fault) {
        try checkAlignment(linear, size: size, access)
        let lastPage = (linear &+ UInt64(size) &- 1) & ~0xFFF
        if lastPage != linear & ~0xFFF {
            // Check every page before writing anything, as the CPU does for a push.
            var addrs: [UInt64] = []
            for i in 0..<size { addrs.append(try translate(splitByteAddress(linear, i), access)) }
            for (i, pa) in addrs.enumerated() { paging.memory.write(pa, value: (value >> (8 * UInt64(i))) & 0xFF, size: 1) }
            return
        }
        let pa = try translate(linear, access)
        paging.memory.write(pa, value: value, size: size)
    }

    /// Writes bytes at a linear address as the kernel would (supervisor, no SMAP), used to place scenario strings.
    public mutating func writeBytes(_ linear: UInt64, _ bytes: [UInt8]) throws(Fault) {
        for (i, b) in bytes.enumerated() {
            let pa = try translate(linear &+ UInt64(i), MemoryAccess(.write, cpl: 0, implicit: false))
            paging.memory.write(pa, value: UInt64(b), size: 1)
        }
    }

    // MARK: TSS

    /// Reads `size` bytes at `offset` in the current TSS; nil beyond its limit.
    public func tssRead(offset: Int, size: Int, tssBase: UInt64? = nil, limit: UInt32? = nil) -> UInt64? {
        let base = tssBase ?? cpu.tr.cache.base
        let lim = limit ?? cpu.tr.cache.limit
        guard offset >= 0, UInt64(offset + size - 1) <= UInt64(lim), let image = tssImages[base],
              offset + size <= image.count else { return nil }
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(image[offset + i]) << (8 * UInt64(i)) }
        return v
    }

    /// Writes `size` bytes at `offset` in a TSS image.
    public mutating func tssWrite(offset: Int, size: Int, value: UInt64, tssBase: UInt64) {
        guard tssImages[tssBase] != nil else { return }
        Machine.store(value, offset: offset, size: size, into: &tssImages[tssBase, default: []])
    }

    /// Writes the low `size` bytes of `value` at `offset` of a TSS image, little endian, growing the image
    /// with zeros when it is shorter.
    static func store(_ value: UInt64, offset: Int, size: Int, into image: inout [UInt8]) {
        if offset + size > image.count { image += Array(repeating: 0, count: offset + size - image.count) }
        for i in 0..<size { image[offset + i] = UInt8((value >> (8 * UInt64(i))) & 0xFF) }
    }
}
