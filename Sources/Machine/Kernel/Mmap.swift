// Mmap: anonymous memory mappings (mm/mmap.c do_mmap, arch/x86/mm/mmap.c), the `mmap` row of the ABI table.
// A mapping is a VMA of the task; its pages are mapped on demand by the page-fault handler (or at once with
// MAP_POPULATE).
//
//   length 0, no MAP_SHARED/MAP_PRIVATE type, a misaligned MAP_FIXED address or file offset  -> -EINVAL
//   a file mapping: fd not open -> -EBADF; an open file -> -ENODEV (no file can be mapped in the model)
//   MAP_FIXED: exactly at addr, replacing what was there; MAP_FIXED_NOREPLACE: -EEXIST when occupied
//   otherwise: the hint when it is free and at or above mmap_min_addr, else the highest free range below
//   mmap_base = TASK_SIZE - 128 MiB (Linux without address-space randomisation); none -> -ENOMEM
// Any PROT bit makes the pages readable (x86 has no write-only or execute-only pages); PROT_NONE maps
// nothing accessible.

extension System {
    static let mapShared: UInt64 = 0x01, mapPrivate: UInt64 = 0x02, mapFixed: UInt64 = 0x10
    static let mapAnonymous: UInt64 = 0x20, mapPopulate: UInt64 = 0x8000, mapFixedNoReplace: UInt64 = 0x10_0000
    /// mmap_min_addr: the lowest address a hint may give.
    static let mmapMinAddress: UInt64 = 0x1_0000

    /// mmap: the start of the new mapping, or a negative errno. `compat` is a call through the i386 table,
    /// which Linux serves below the 32-bit TASK_SIZE even for a 64-bit task (mmap_is_ia32).
    mutating func sysMmap(addr: UInt64, length: UInt64, prot: UInt64, flags: UInt64, fd: Int, compat: Bool) -> Int64 {
        let c = core.current
        guard length > 0, flags & (System.mapShared | System.mapPrivate) != 0 else { return -KernelErrno.EINVAL }
        if flags & System.mapAnonymous == 0 {
            guard core.tasks[c].files[fd] != nil else { return -KernelErrno.EBADF }
            return -KernelErrno.ENODEV
        }
        let top = core.layout.userSpaceTop(bits: compat ? 32 : core.currentTask.bits)
        let (rounded, overflow) = length.addingReportingOverflow(0xFFF)
        guard !overflow, rounded & ~0xFFF <= top else { return -KernelErrno.ENOMEM }
        let size = rounded & ~0xFFF
        let start: UInt64
        if flags & (System.mapFixed | System.mapFixedNoReplace) != 0 {
            guard addr & 0xFFF == 0 else { return -KernelErrno.EINVAL }
            guard addr <= top - size else { return -KernelErrno.ENOMEM }
            if !rangeIsFree(addr, size) {
                if flags & System.mapFixed == 0 { return -KernelErrno.EEXIST }
                removeMappings(from: addr, to: addr + size)
            }
            start = addr
        } else {
            let hint = addr & ~0xFFF
            if hint >= System.mmapMinAddress, hint <= top - size, rangeIsFree(hint, size) {
                start = hint
            } else if let s = highestFreeRange(size, below: top - 0x800_0000) {
                start = s
            } else {
                return -KernelErrno.ENOMEM
            }
        }
        let vma = VMA(segment: .mmap, start: start, end: start + size, read: prot & 0x7 != 0, write: prot & 0x2 != 0,
                      execute: prot & 0x4 != 0)
        core.tasks[c].vmas.append(vma)
        if flags & System.mapPopulate != 0 && vma.read {
            do throws(MachineError) { try populate(vma, cr3: core.tasks[c].cr3) } catch {
                core.tasks[c].vmas.removeLast()
                return -KernelErrno.ENOMEM
            }
        }
        machine.trace.record(.kernelAction("mmap: \(core.tasks[c].name) gets an anonymous \(vma.perm) mapping at 0x\(String(start, radix: 16))-0x\(String(start + size, radix: 16))"))
        return Int64(bitPattern: start)
    }

    /// No VMA and no explicit page mapping of the current task overlaps [start, start + size).
    func rangeIsFree(_ start: UInt64, _ size: UInt64) -> Bool {
        let end = start + size
        let task = core.currentTask
        if task.vmas.contains(where: { $0.start < end && start < $0.end }) { return false }
        return !task.pages.contains { p in
            let pEnd = p.virt &+ p.count &* p.size.bytes
            return p.virt < end && start < pEnd
        }
    }

    /// The highest page-aligned range of `size` bytes ending at or below `base` that is free (top-down).
    func highestFreeRange(_ size: UInt64, below base: UInt64) -> UInt64? {
        var end = base & ~0xFFF
        let task = core.currentTask
        let taken: [(UInt64, UInt64)] = task.vmas.map { ($0.start, $0.end) }
            + task.pages.map { ($0.virt, $0.virt &+ $0.count &* $0.size.bytes) }
        while end >= size && end - size >= System.mmapMinAddress {
            let start = end - size
            guard let blocker = taken.filter({ $0.0 < end && start < $0.1 }).min(by: { $0.0 < $1.0 }) else { return start }
            end = blocker.0 & ~0xFFF
        }
        return nil
    }

    /// MAP_FIXED over existing mappings: the VMAs lose [from, to) (trimmed or split) and its pages are unmapped.
    mutating func removeMappings(from: UInt64, to: UInt64) {
        let c = core.current
        var kept: [VMA] = []
        for v in core.tasks[c].vmas {
            guard v.start < to && from < v.end else { kept.append(v); continue }
            if v.start < from { var head = v; head.end = from; kept.append(head) }
            if v.end > to { var tail = v; tail.start = to; kept.append(tail) }
        }
        core.tasks[c].vmas = kept
        unmapUserPages(from: from, to: to)
    }
}
