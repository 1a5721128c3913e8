// CopyOnWrite: fork's copy-on-write sharing of private pages, opt-in with `kernel: {fork: cow}` (the default,
// `copy`, copies them eagerly in sysFork). Linux's scheme (kernel/fork.c dup_mmap, mm/memory.c):
//
//   fork      copy_present_pte: a present page of a private VMA is shared, not copied. When the parent's PTE is
//             writable it is write-protected (ptep_set_wrprotect) and the child's PTE is the same frame,
//             read-only and old (pte_mkold: A=0, D kept); a read-only page is shared as it is. dup_mmap ends with
//             flush_tlb_mm(oldmm): the parent's stale writable translations are dropped.
//   write     #PF P|W (user, or the kernel's copy_to_user / put_user with U=0) -> do_wp_page: a frame that
//             other address spaces still map is copied into a fresh one mapped writable (wp_page_copy); one
//             this address space alone maps is made writable in place (wp_page_reuse). Reads never fault.
//   release   exit (exit_mmap), munmap and brk shrink (zap_pte_range) drop the task's reference.
//   mprotect  adding write leaves a shared frame write-protected until its fault (can_change_pte_writable:
//             the page is not PageAnonExclusive).
//
// The accounting is a dictionary keyed by frame (one lookup per fault, no scan over all frames), holding the
// address spaces (CR3) that map each frame fork shared. A frame leaves it when its last user makes it
// writable (reuse) or goes away; a copy is a fresh frame, exclusive, not in it.

/// The frames fork shared copy-on-write, each with the address spaces (by CR3) that still map it.
public struct CopyOnWriteFrames: Sendable, Equatable {
    /// Physical frame address -> the CR3s of the address spaces mapping it copy-on-write.
    private(set) var sharers: [UInt64: Set<UInt64>] = [:]

    public init() {}

    /// How many address spaces map `frame` copy-on-write (0: not a copy-on-write frame).
    public func users(of frame: UInt64) -> Int { sharers[frame]?.count ?? 0 }

    /// Whether `frame` is mapped copy-on-write by the address space `cr3`.
    public func isShared(_ frame: UInt64, in cr3: UInt64) -> Bool { sharers[frame]?.contains(cr3) ?? false }

    /// The number of frames under copy-on-write.
    public var count: Int { sharers.count }

    /// fork: `frame`, mapped by `parent`, is now mapped by `child` too.
    public mutating func share(_ frame: UInt64, parent: UInt64, child: UInt64) {
        sharers[frame, default: []].formUnion([parent, child])
    }

    /// `cr3` no longer maps `frame` (it copied, unmapped or reused it); the entry goes with its last user.
    public mutating func release(_ frame: UInt64, by cr3: UInt64) {
        guard var s = sharers[frame], s.remove(cr3) != nil else { return }
        sharers[frame] = s.isEmpty ? nil : s
    }

    /// exit_mmap: `cr3` drops every copy-on-write frame it maps; returns how many.
    @discardableResult
    public mutating func releaseAll(by cr3: UInt64) -> Int {
        var dropped = 0
        for frame in Array(sharers.keys) where sharers[frame]?.contains(cr3) == true {
            release(frame, by: cr3)
            dropped += 1
        }
        return dropped
    }
}

/// What do_wp_page did with a copy-on-write frame.
enum CopyOnWriteOutcome: Equatable {
    /// wp_page_copy: the data went to a fresh frame.
    case copied(from: UInt64, to: UInt64)
    /// wp_page_reuse: this address space was the frame's last user.
    case reused(UInt64)
}

extension System {
    /// Copy-on-write fork is on (`kernel: {fork: cow}`).
    var forksCopyOnWrite: Bool { core.setup.fork == .cow }

    /// copy_present_pte for one present 4 KiB page of a private VMA in copy-on-write mode: write-protects the
    /// parent's leaf when it is writable, maps the same frame read-only and old (A=0, pte_mkold; D as in the
    /// parent's: pte_wrprotect keeps it without user shadow stacks) in the child, and counts the child among
    /// the frame's users. Returns whether the parent's leaf was write-protected.
    mutating func shareForFork(page: UInt64, frame: UInt64, parentLeaf leaf: (entryAddress: UInt64, value: UInt64, pageSize: UInt64),
                               parentCR3: UInt64, childCR3: UInt64, nx: Bool) throws(MachineError) -> Bool {
        let c = pagingControlForKernel
        let writable = leaf.value & PageTableEntry.writable != 0
        if writable {
            try machine.paging.writeEntry(at: leaf.entryAddress, value: leaf.value & ~PageTableEntry.writable, width: EntryWidth(c.mode))
        }
        try machine.paging.map(PageMapping(virt: page, phys: frame, count: 1, size: .size4K,
                                           leaf: EntryFlags(present: true, writable: false, user: true, nx: nx,
                                                            dirty: leaf.value & PageTableEntry.dirty != 0)),
                               cr3: childCR3, mode: c.mode, pse: c.pse, nxe: c.nxe)
        core.cowFrames.share(frame, parent: parentCR3, child: childCR3)
        return writable
    }

    /// The 4 KiB frame a leaf entry names (present or not: PROT_NONE keeps the frame).
    private func leafFrame(_ value: UInt64) -> UInt64 {
        machine.paging.frameOfLeaf(value, mode: pagingControlForKernel.mode, large: false, size: 0x1000)
    }

    /// The frame of a write-protected 4 KiB leaf when it is a copy-on-write frame of the address space `cr3`.
    func copyOnWriteFrame(_ leaf: (entryAddress: UInt64, value: UInt64, pageSize: UInt64), cr3: UInt64) -> UInt64? {
        guard forksCopyOnWrite, leaf.pageSize == 0x1000, core.cowFrames.count > 0 else { return nil }
        let frame = leafFrame(leaf.value)
        return core.cowFrames.isShared(frame, in: cr3) ? frame : nil
    }

    /// do_wp_page on a copy-on-write frame mapped by `leaf` in the address space `cr3` of task `t`: copy it to a
    /// fresh frame when another address space still maps it (wp_page_copy), else make it writable in place
    /// (wp_page_reuse). The leaf gets R/W=1 (and the new frame), and the TLB's translation of `address` is
    /// dropped. Nil when an entry could not be written or no frame could be had (nothing changed).
    mutating func breakCopyOnWrite(_ leaf: (entryAddress: UInt64, value: UInt64, pageSize: UInt64), frame: UInt64,
                                   _ address: UInt64, cr3: UInt64, task t: Int, vma: VMA) -> CopyOnWriteOutcome? {
        let mode = pagingControlForKernel.mode
        let mask = mode == .bits32 ? PageTableEntry.frameMask32 : PageTableEntry.frameMask
        let page = address & ~0xFFF
        let outcome: CopyOnWriteOutcome
        do throws(MachineError) {
            if core.cowFrames.users(of: frame) > 1 {
                let fresh = try machine.paging.memory.allocateDataFrame()
                try machine.paging.memory.copyWithinFrames(from: frame, to: fresh, count: 0x1000)
                try machine.paging.writeEntry(at: leaf.entryAddress, value: (leaf.value & ~mask) | fresh | PageTableEntry.writable,
                                              width: EntryWidth(mode))
                outcome = .copied(from: frame, to: fresh)
            } else {
                try machine.paging.writeEntry(at: leaf.entryAddress, value: leaf.value | PageTableEntry.writable, width: EntryWidth(mode))
                outcome = .reused(frame)
            }
        } catch {
            return nil
        }
        core.cowFrames.release(frame, by: cr3)
        machine.paging.tlb.invlpg(address)
        let owner = "\(core.tasks[t].name)'s \(vma.segment.rawValue) VMA (\(vma.perm))"
        switch outcome {
        case let .copied(from, to):
            machine.trace.record(.kernelAction("copy-on-write: copied page 0x\(String(page, radix: 16)) of \(owner) from frame 0x\(String(from, radix: 16)), "
                + "which \(core.cowFrames.users(of: from)) other address space(s) still map, to a new frame 0x\(String(to, radix: 16)) mapped writable (do_wp_page -> wp_page_copy)"))
        case let .reused(f):
            machine.trace.record(.kernelAction("copy-on-write: reused page 0x\(String(page, radix: 16)) of \(owner) in place: no other address space maps frame 0x\(String(f, radix: 16)) any more, "
                + "so it is made writable (do_wp_page -> wp_page_reuse)"))
        }
        return outcome
    }

    /// The write-protect fix for a leaf `writeProtectedLeaf` found in the current address space: a copy-on-write
    /// frame is copied or reused (`breakCopyOnWrite`), any other page is made writable in place (`makeWritable`).
    mutating func resolveWriteProtectedLeaf(_ leaf: (entryAddress: UInt64, value: UInt64, pageSize: UInt64), _ address: UInt64, vma: VMA) -> Bool {
        let cr3 = machine.cpu.cr3
        if let frame = copyOnWriteFrame(leaf, cr3: cr3) {
            return breakCopyOnWrite(leaf, frame: frame, address, cr3: cr3, task: core.current, vma: vma) != nil
        }
        return makeWritable(leaf, address, vma: vma)
    }

    /// User-mode writes the model makes on the task's behalf before a system call (the 32-bit vDSO's pushes of
    /// ECX, EDX, EBP; compat SYSCALL's sixth argument at 0(%esp)), in order: each one that lands on a
    /// copy-on-write page of a writable VMA raises #PF P|W|U (CR2 = its first byte on that page, PG-7), which is
    /// added to the step's faults, and do_wp_page breaks the share before the bytes land. False when a share
    /// could not be broken (the caller refuses the call). Without copy-on-write frames this does nothing.
    mutating func breakCopyOnWriteForUserWrites(_ writes: [(address: UInt64, count: UInt64)], _ out: inout StepOutcome) -> Bool {
        guard forksCopyOnWrite, core.cowFrames.count > 0 else { return true }
        let c = pagingControlForKernel
        let cr3 = machine.cpu.cr3
        for w in writes where w.count > 0 {
            var page = w.address & ~0xFFF
            while page <= (w.address &+ w.count &- 1) & ~0xFFF {
                if let leaf = machine.paging.leaf(for: page, cr3: cr3, mode: c.mode, pse: c.pse), leaf.value & 0x5 == 0x5,
                   leaf.value & PageTableEntry.writable == 0, let frame = copyOnWriteFrame(leaf, cr3: cr3),
                   let vma = core.currentTask.vmas.first(where: { $0.contains(page) }), vma.write {
                    let cr2 = max(w.address, page)
                    let f = Fault(.PF, code: 0x7, cr2: cr2, rule: "PG-7",
                                  "a user-mode write to 0x\(String(cr2, radix: 16)), whose page is write-protected for copy-on-write after fork (R/W=0)")
                    machine.cpu.cr2 = cr2
                    machine.trace.record(.fault(f))
                    out.faults.append(f)
                    guard breakCopyOnWrite(leaf, frame: frame, cr2, cr3: cr3, task: core.current, vma: vma) != nil else { return false }
                }
                page &+= 0x1000
            }
        }
        return true
    }

    /// zap_pte_range for one leaf being unmapped from the address space `cr3`: a copy-on-write frame loses that
    /// user. The frame is read from the entry even when it is not present (PROT_NONE keeps it).
    mutating func releaseCopyOnWrite(leafValue: UInt64, cr3: UInt64) {
        guard forksCopyOnWrite, core.cowFrames.count > 0 else { return }
        core.cowFrames.release(leafFrame(leafValue), by: cr3)
    }

    /// exit_mmap for task `i`: its address space stops mapping every copy-on-write frame it shared.
    mutating func releaseCopyOnWrite(task i: Int) {
        guard forksCopyOnWrite, core.cowFrames.count > 0 else { return }
        let n = core.cowFrames.releaseAll(by: core.tasks[i].cr3)
        if n > 0 {
            machine.trace.record(.kernelAction("exit: \(core.tasks[i].name)'s address space drops its \(n) copy-on-write frame reference(s) (exit_mmap)"))
        }
    }

    /// Whether a leaf in the address space `cr3` maps a copy-on-write frame, so that mprotect must keep it
    /// write-protected (change_pte_range: can_change_pte_writable refuses a page that is not exclusive).
    func keepsWriteProtected(leafValue: UInt64, cr3: UInt64) -> Bool {
        guard forksCopyOnWrite, core.cowFrames.count > 0 else { return false }
        return core.cowFrames.isShared(leafFrame(leafValue), in: cr3)
    }
}
