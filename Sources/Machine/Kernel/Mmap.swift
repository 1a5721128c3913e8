// Mmap: anonymous memory mappings (mm/mmap.c do_mmap, arch/x86/mm/mmap.c), the `mmap` row of the ABI table.
// A mapping is a VMA of the task; its pages are mapped on demand by the page-fault handler (or at once with
// MAP_POPULATE).
//
//   a file mapping: fd not open -> -EBADF (first); not open for reading (or for writing, for a writable
//   shared mapping) -> -EACCES; a terminal or /dev/null -> -ENODEV; a declared file is refused (not modelled)
//   length 0, a type (flags & MAP_TYPE) other than MAP_SHARED/MAP_PRIVATE, a misaligned MAP_FIXED
//   address or file offset -> -EINVAL
//   MAP_FIXED: exactly at addr, replacing what was there; below mmap_min_addr -EPERM;
//   MAP_FIXED_NOREPLACE (with or without MAP_FIXED): -EEXIST when occupied
//   otherwise: the hint (raised to mmap_min_addr when below it) when it is free, else the highest free
//   range below mmap_base = TASK_SIZE - 128 MiB (Linux without address-space randomisation); none -> -ENOMEM
//   MAP_GROWSDOWN (0x100): a VM_GROWSDOWN mapping (a fault below it grows it, as a `grows_down` stack);
//   with MAP_SHARED -> -EINVAL (after the address is chosen, with the type check)
//   MAP_32BIT (0x40) from a 64-bit call (arch/x86/kernel/sys_x86_64.c): a hint ending at or below 0x80000000,
//   else the lowest free range in [0x40000000, 0x80000000) (bottom-up, find_start_end); none -> -ENOMEM
// MAP_SHARED: the frames are allocated at once and a forked child maps the same ones (VM_SHARED).
// Any PROT bit makes the pages readable (x86 has no write-only or execute-only pages); PROT_NONE maps
// nothing accessible.
//
// munmap (mm/mmap.c __vm_munmap, do_vmi_munmap): start not page aligned, length 0, or a range that does
//   not lie below TASK_SIZE -> -EINVAL; otherwise the VMAs lose the range (trimmed or split) and its pages
//   are unmapped; a range with nothing mapped is 0.
// mprotect (mm/mprotect.c do_mprotect_pkey): prot bits other than PROT_READ/WRITE/EXEC/SEM and the
//   GROWSDOWN/GROWSUP pair (both at once -EINVAL) -> -EINVAL; start not page aligned -> -EINVAL; length 0 -> 0
//   (before any lookup); end wrapping -> -ENOMEM; start not inside a VMA, or a hole in the range -> -ENOMEM,
//   the VMAs before the hole keeping their new protection (Linux changes them one by one). The VMAs are split
//   at start and end; the present pages of the range get the new R/W and XD bits (flush_tlb_range);
//   PROT_NONE makes them not present while keeping their frames (Linux's _PAGE_PROTNONE), so a later
//   mprotect back finds the data again.

extension System {
    static let mapShared: UInt64 = 0x01, mapPrivate: UInt64 = 0x02, mapFixed: UInt64 = 0x10
    /// MAP_32BIT (x86_64 only): a 64-bit call's mapping goes in [map32BitStart, map32BitEnd).
    static let map32Bit: UInt64 = 0x40, map32BitStart: UInt64 = 0x4000_0000, map32BitEnd: UInt64 = 0x8000_0000
    static let mapAnonymous: UInt64 = 0x20, mapPopulate: UInt64 = 0x8000, mapFixedNoReplace: UInt64 = 0x10_0000
    /// MAP_GROWSDOWN: the mapping is VM_GROWSDOWN, a stack that a fault below it grows (expand_downwards).
    static let mapGrowsDown: UInt64 = 0x100
    /// mmap_min_addr: the lowest address a hint may give.
    static let mmapMinAddress: UInt64 = 0x1_0000
    /// stack_guard_gap (mm/mmap.c): 256 pages below a stack that brk, mmap and another VMA's growth keep free.
    static let stackGuardGap: UInt64 = 256 << 12

    /// mmap: the start of the new mapping, or a negative errno. `compat` is a call through the i386 table,
    /// whose search for a free range Linux starts below the 32-bit mmap base even for a 64-bit task
    /// (in_32bit_syscall -> mmap_compat_base). The TASK_SIZE limit on MAP_FIXED and on a hint follows the
    /// task, not the entry: TASK_SIZE is IA32_PAGE_OFFSET only under TIF_ADDR32, a 32-bit task
    /// (arch/x86/include/asm/processor.h; mm/mmap.c __get_unmapped_area, mmap_address_hint_valid).
    mutating func sysMmap(addr: UInt64, length: UInt64, prot: UInt64, flags: UInt64, fd: Int, compat: Bool,
                          _ out: inout StepOutcome) -> Int64 {
        let c = core.current
        // ksys_mmap_pgoff: a file mapping's descriptor is looked up first.
        var file: OpenFile?
        if flags & System.mapAnonymous == 0 {
            guard let f = core.tasks[c].files[fd] else { return -KernelErrno.EBADF }
            file = f
        }
        guard length > 0 else { return -KernelErrno.EINVAL }
        // do_mmap: MAP_FIXED_NOREPLACE implies MAP_FIXED; a hint below mmap_min_addr is raised to it
        // (round_hint_to_min).
        let fixed = flags & (System.mapFixed | System.mapFixedNoReplace) != 0
        let top = core.layout.userSpaceTop(bits: core.currentTask.bits)
        let searchTop = core.layout.userSpaceTop(bits: compat ? 32 : core.currentTask.bits)
        let (rounded, overflow) = length.addingReportingOverflow(0xFFF)
        guard !overflow, rounded & ~0xFFF != 0 else { return -KernelErrno.ENOMEM }
        let size = rounded & ~0xFFF
        guard size <= top else { return -KernelErrno.ENOMEM }
        let start: UInt64
        if fixed {
            // get_unmapped_area for MAP_FIXED: beyond TASK_SIZE -ENOMEM, misaligned -EINVAL, below
            // mmap_min_addr -EPERM (security_mmap_addr, an unprivileged task).
            guard addr <= top - size else { return -KernelErrno.ENOMEM }
            guard addr & 0xFFF == 0 else { return -KernelErrno.EINVAL }
            guard addr >= System.mmapMinAddress else { return -KernelErrno.EPERM }
            if !rangeIsFree(addr, size), flags & System.mapFixedNoReplace != 0 { return -KernelErrno.EEXIST }
            start = addr
        } else {
            var hint = addr & ~0xFFF
            if hint != 0 && hint < System.mmapMinAddress { hint = System.mmapMinAddress }
            // MAP_32BIT from a 64-bit system call (not in_32bit_syscall): arch_get_unmapped_area_topdown goes
            // bottom-up in [0x40000000, 0x80000000) (find_start_end); a hint must end below 0x80000000.
            let below2G = flags & System.map32Bit != 0 && !compat && core.currentTask.bits == 64
            let hintTop = below2G ? System.map32BitEnd : top
            if hint != 0, size <= hintTop, hint <= hintTop - size, rangeIsFree(hint, size), !stackGaps().contains(where: { $0.0 < hint + size && hint < $0.1 }) {
                start = hint
            } else if below2G {
                guard let s = lowestFreeRange(size, from: System.map32BitStart, to: System.map32BitEnd) else {
                    return -KernelErrno.ENOMEM
                }
                start = s
            } else if let s = highestFreeRange(size, below: searchTop - 0x800_0000) {
                start = s
            } else {
                return -KernelErrno.ENOMEM
            }
        }
        // The mapping type (flags & MAP_TYPE): MAP_SHARED or MAP_PRIVATE; anything else (also
        // MAP_SHARED_VALIDATE for an anonymous mapping) is -EINVAL.
        let type = flags & 0xF
        if file == nil {
            guard type == System.mapShared || type == System.mapPrivate else { return -KernelErrno.EINVAL }
            // do_mmap: a shared anonymous mapping cannot be VM_GROWSDOWN.
            if type == System.mapShared && flags & System.mapGrowsDown != 0 { return -KernelErrno.EINVAL }
        } else {
            guard (1...3).contains(type) else { return -KernelErrno.EINVAL }
        }
        if let file {
            // do_mmap's file checks: a writable shared mapping needs FMODE_WRITE, any mapping FMODE_READ
            // (-EACCES); terminals and /dev/null have no mmap file operation (-ENODEV); a declared regular
            // file could be mapped in Linux, which the model does not do.
            if type != System.mapPrivate && prot & 0x2 != 0 && !file.writable { return -KernelErrno.EACCES }
            if !file.readable { return -KernelErrno.EACCES }
            if ["stdin", "stdout", "stderr", "/dev/null", "/dev/console", "/dev/tty"].contains(file.path) { return -KernelErrno.ENODEV }
            out.error = "not modelled: mmap of the file \(file.path) (only anonymous mappings)"
            return -KernelErrno.ENODEV
        }
        if fixed && !rangeIsFree(start, size) { removeMappings(from: start, to: start + size) }
        var vma = VMA(segment: .mmap, start: start, end: start + size, read: prot & 0x7 != 0, write: prot & 0x2 != 0,
                      execute: prot & 0x4 != 0, shared: type == System.mapShared)
        vma.growsDown = flags & System.mapGrowsDown != 0
        core.tasks[c].vmas.append(vma)
        // A shared mapping is populated at once, so that a fork finds its frames and shares them.
        if (flags & System.mapPopulate != 0 || vma.shared) && vma.read {
            do throws(MachineError) { try populate(vma, cr3: core.tasks[c].cr3) } catch {
                core.tasks[c].vmas.removeLast()
                return -KernelErrno.ENOMEM
            }
        }
        machine.trace.record(.kernelAction("mmap: \(core.tasks[c].name) gets an anonymous \(vma.perm) mapping at 0x\(String(start, radix: 16))-0x\(String(start + size, radix: 16))"))
        return Int64(bitPattern: start)
    }

    /// No VMA and no explicit page mapping of the current task (nor a `machine.pages` mapping, present in
    /// every address space) overlaps [start, start + size).
    func rangeIsFree(_ start: UInt64, _ size: UInt64) -> Bool {
        let end = start + size
        let task = core.currentTask
        if task.vmas.contains(where: { $0.start < end && start < $0.end }) { return false }
        func overlaps(_ p: PageMapping) -> Bool { p.virt < end && start < p.virt &+ p.count &* p.size.bytes }
        // Two scans, not one over `task.pages + core.sharedPages` (that would copy both arrays on every call).
        return !task.pages.contains { overlaps($0) } && !core.sharedPages.contains { overlaps($0) }
    }

    /// The guard gaps below the current task's stack VMAs (vm_start_gap, stack_guard_gap = 256 pages): a
    /// stack may grow into [start - 1 MiB, start), so get_unmapped_area does not place a mapping there, for a
    /// hint (arch/x86/kernel/sys_x86_64.c: `addr + len <= vm_start_gap(vma)` for the VMA above) or in its
    /// top-down search. A gap does not reach below the VMA under the stack. MAP_FIXED ignores the gaps.
    func stackGaps() -> [(UInt64, UInt64)] {
        let vmas = core.currentTask.vmas
        return vmas.filter { $0.segment == .stack || $0.growsDown }.map { s in
            let below = vmas.filter { $0.end <= s.start }.map(\.end).max() ?? 0
            return (max(s.start >= System.stackGuardGap ? s.start - System.stackGuardGap : 0, below), s.start)
        }
    }

    /// What get_unmapped_area must not give: the current task's VMAs, its and the shared explicit pages, and
    /// the stacks' guard gaps, as [start, end) ranges.
    func occupiedRanges() -> [(UInt64, UInt64)] {
        let task = core.currentTask
        return task.vmas.map { ($0.start, $0.end) }
            + (task.pages + core.sharedPages).map { ($0.virt, $0.virt &+ $0.count &* $0.size.bytes) }
            + stackGaps()
    }

    /// The highest page-aligned range of `size` bytes ending at or below `base` that is free (top-down),
    /// outside the stacks' guard gaps.
    func highestFreeRange(_ size: UInt64, below base: UInt64) -> UInt64? {
        var end = base & ~0xFFF
        let taken = occupiedRanges()
        while end >= size && end - size >= System.mmapMinAddress {
            let start = end - size
            guard let blocker = taken.filter({ $0.0 < end && start < $0.1 }).min(by: { $0.0 < $1.0 }) else { return start }
            end = blocker.0 & ~0xFFF
        }
        return nil
    }

    /// The lowest page-aligned range of `size` bytes inside [from, to) that is free (bottom-up, as
    /// vm_unmapped_area without VM_UNMAPPED_AREA_TOPDOWN), outside the stacks' guard gaps.
    func lowestFreeRange(_ size: UInt64, from: UInt64, to: UInt64) -> UInt64? {
        var start = from & ~0xFFF
        let taken = occupiedRanges()
        while size <= to && start <= to - size {
            let end = start + size
            guard let blocker = taken.filter({ $0.0 < end && start < $0.1 }).max(by: { $0.1 < $1.1 }) else { return start }
            let (next, overflow) = blocker.1.addingReportingOverflow(0xFFF)
            guard !overflow else { return nil }
            start = next & ~0xFFF
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

    /// munmap: 0, or -EINVAL. The limit is the task's TASK_SIZE (IA32_PAGE_OFFSET under TIF_ADDR32, a
    /// 32-bit task), whichever entry the call came through (mm/mmap.c do_vmi_munmap).
    mutating func sysMunmap(addr: UInt64, length: UInt64) -> Int64 {
        let c = core.current
        let top = core.layout.userSpaceTop(bits: core.currentTask.bits)
        guard addr & 0xFFF == 0, length > 0 else { return -KernelErrno.EINVAL }
        let (rounded, overflow) = length.addingReportingOverflow(0xFFF)
        let size = rounded & ~0xFFF
        guard !overflow, size != 0, addr <= top, size <= top - addr else { return -KernelErrno.EINVAL }
        let end = addr + size
        if core.tasks[c].vmas.contains(where: { $0.start < end && addr < $0.end }) {
            machine.trace.record(.kernelAction("munmap: \(core.tasks[c].name) unmaps 0x\(String(addr, radix: 16))-0x\(String(end, radix: 16))"))
        }
        removeMappings(from: addr, to: end)
        return 0
    }

    /// mprotect: 0, or -EINVAL / -ENOMEM.
    mutating func sysMprotect(start requested: UInt64, length: UInt64, prot: UInt64, compat: Bool) -> Int64 {
        let c = core.current
        let growsDown: UInt64 = 0x0100_0000, growsUp: UInt64 = 0x0200_0000
        // do_mprotect_pkey's order: both GROWS flags, the start's alignment, len 0 (success, whatever the
        // prot bits), PAGE_ALIGN(len) wrapping the kernel's word (-ENOMEM), and only then
        // arch_validate_prot (READ, WRITE, EXEC, SEM).
        guard prot & (growsDown | growsUp) != growsDown | growsUp else { return -KernelErrno.EINVAL }
        guard requested & 0xFFF == 0 else { return -KernelErrno.EINVAL }
        if length == 0 { return 0 }
        let word: UInt64 = core.layout.mode == .ia32 ? 0xFFFF_FFFF : .max
        let size = (length &+ 0xFFF) & ~0xFFF & word
        let end = (requested &+ size) & word
        guard end > requested else { return -KernelErrno.ENOMEM }
        guard prot & ~(0x7 | 0x8 | growsDown | growsUp) == 0 else { return -KernelErrno.EINVAL }
        let read = prot & 0x7 != 0, write = prot & 0x2 != 0, execute = prot & 0x4 != 0
        // The VMAs in address order, covering [start, end) without a hole from start on.
        let order = core.tasks[c].vmas.indices.sorted { core.tasks[c].vmas[$0].start < core.tasks[c].vmas[$1].start }
        var start = requested
        if prot & (growsDown | growsUp) != 0 {
            // PROT_GROWSDOWN: from the start of the first VMA in the range, which must grow down (a stack);
            // PROT_GROWSUP: x86 has no VM_GROWSUP VMA (-EINVAL once the VMA is found).
            guard let i = order.first(where: { core.tasks[c].vmas[$0].end > start && core.tasks[c].vmas[$0].start < end }) else {
                return -KernelErrno.ENOMEM
            }
            let v = core.tasks[c].vmas[i]
            if prot & growsDown != 0 {
                guard v.segment == .stack || v.growsDown else { return -KernelErrno.EINVAL }
                start = v.start
            } else {
                guard v.start <= start else { return -KernelErrno.ENOMEM }
                return -KernelErrno.EINVAL
            }
        }
        guard let from = order.firstIndex(where: { core.tasks[c].vmas[$0].contains(start) }) else { return -KernelErrno.ENOMEM }
        var changed: [VMA] = []
        var next = start
        var result: Int64 = 0
        for i in order[from...] {
            let v = core.tasks[c].vmas[i]
            guard next < end else { break }
            if v.start > next { result = -KernelErrno.ENOMEM; break }
            changed.append(v)
            next = v.end
        }
        if result == 0 && next < end { result = -KernelErrno.ENOMEM }
        // Split at start and at the end of what is changed, then change the inner pieces.
        let upTo = min(end, next)
        var kept: [VMA] = []
        for v in core.tasks[c].vmas {
            guard changed.contains(v) else { kept.append(v); continue }
            if v.start < start { var head = v; head.end = start; kept.append(head) }
            var mid = v
            mid.start = max(v.start, start); mid.end = min(v.end, upTo)
            mid.read = read; mid.write = write; mid.execute = execute
            kept.append(mid)
            if v.end > upTo { var tail = v; tail.start = upTo; kept.append(tail) }
        }
        core.tasks[c].vmas = kept
        reprotectUserPages(from: start, to: upTo, read: read, write: write, execute: execute)
        machine.trace.record(.kernelAction("mprotect: \(core.tasks[c].name) 0x\(String(start, radix: 16))-0x\(String(upTo, radix: 16)) is now \(read ? "r" : "-")\(write ? "w" : "-")\(execute ? "x" : "-")"))
        return result
    }

    /// The 4 KiB leaves of [from, to) in the current address space get the new protection (change_protection):
    /// R/W and XD from the VMA's (a copy-on-write frame keeps R/W=0); not present for PROT_NONE, the frame kept;
    /// flushed from the TLB.
    mutating func reprotectUserPages(from: UInt64, to: UInt64, read: Bool, write: Bool, execute: Bool) {
        let c = pagingControlForKernel
        guard c.mode != .off else { return }
        let nx: UInt64 = 1 << 63
        var page = from
        while page < to {
            let walkable = machine.paging.nextWalkable(from: page, cr3: machine.cpu.cr3, mode: c.mode, pse: c.pse)
            if walkable != page { page = walkable; continue }
            if let leaf = machine.paging.leaf(for: page, cr3: machine.cpu.cr3, mode: c.mode, pse: c.pse), leaf.pageSize == 0x1000,
               leaf.value & ~0xFFF != 0 || leaf.value & 1 != 0 {
                var v = leaf.value
                if read { v |= 1 } else { v &= ~1 }
                // A copy-on-write frame stays write-protected until its write fault (can_change_pte_writable).
                if write && !keepsWriteProtected(leafValue: leaf.value, cr3: machine.cpu.cr3) { v |= 2 } else { v &= ~2 }
                if c.nxe { if execute { v &= ~nx } else { v |= nx } }
                try? machine.paging.writeEntry(at: leaf.entryAddress, value: v, width: EntryWidth(c.mode))
                machine.paging.tlb.invlpg(page)
            }
            page += 0x1000
        }
    }
}
