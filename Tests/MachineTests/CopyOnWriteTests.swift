// Copy-on-write fork (`kernel: {fork: cow}`, Sources/Machine/Kernel/CopyOnWrite.swift): the frame
// accounting, fork's write-protection of both address spaces, and do_wp_page's copy or reuse
// (mm/memory.c wp_page_copy / wp_page_reuse), for user writes and the kernel's copy_to_user.

import Testing
@testable import Machine

@Suite struct CopyOnWriteFramesTests {
    /// One accounting operation and the users of frame 0x1000 it leaves.
    enum Op: Sendable, CustomTestStringConvertible {
        case share(parent: UInt64, child: UInt64)
        case release(UInt64)
        case releaseAll(UInt64)
        var testDescription: String {
            switch self {
            case let .share(p, c): "share \(p)->\(c)"
            case let .release(c): "release \(c)"
            case let .releaseAll(c): "releaseAll \(c)"
            }
        }
    }

    static let cases: [(ops: [Op], users: Int)] = [
        ([.share(parent: 1, child: 2)], 2),
        // A grandchild forked from the child joins the same frame.
        ([.share(parent: 1, child: 2), .share(parent: 2, child: 3)], 3),
        ([.share(parent: 1, child: 2), .release(2)], 1),
        // Releasing twice, or by an address space that never mapped it, changes nothing.
        ([.share(parent: 1, child: 2), .release(2), .release(2), .release(9)], 1),
        ([.share(parent: 1, child: 2), .release(2), .release(1)], 0),
        ([.share(parent: 1, child: 2), .releaseAll(1)], 1),
        ([.share(parent: 1, child: 2), .share(parent: 1, child: 3), .releaseAll(1), .releaseAll(3)], 1),
    ]

    @Test(arguments: cases)
    func accounting(_ c: (ops: [Op], users: Int)) {
        var f = CopyOnWriteFrames()
        for op in c.ops {
            switch op {
            case let .share(p, ch): f.share(0x1000, parent: p, child: ch)
            case let .release(cr3): f.release(0x1000, by: cr3)
            case let .releaseAll(cr3): f.releaseAll(by: cr3)
            }
        }
        #expect(f.users(of: 0x1000) == c.users)
        // A frame with no user left is forgotten: nothing to scan at the next exit.
        #expect(f.count == (c.users == 0 ? 0 : 1))
    }

    @Test func releaseAllCountsOnlyTheFramesOfThatAddressSpace() {
        var f = CopyOnWriteFrames()
        f.share(0x1000, parent: 1, child: 2)
        f.share(0x2000, parent: 1, child: 2)
        f.share(0x3000, parent: 1, child: 3)
        #expect(f.releaseAll(by: 2) == 2)
        #expect(f.isShared(0x1000, in: 1) && !f.isShared(0x1000, in: 2))
        #expect(f.users(of: 0x3000) == 2)
    }
}

@Suite struct CopyOnWriteForkTests {
    /// A task with an rw- data page at `data` (populated) and the given mode; fork mode as asked.
    static func system(_ mode: MachineMode, bits: Int? = nil, fork: ForkMode) throws -> (System, UInt64) {
        let ia32 = mode == .ia32 || bits == 32
        let data: UInt64 = ia32 ? 0x0805_0000 : 0x60_0000
        var t = taskSpec("A", bits: bits)
        let stack: UInt64 = mode == .ia32 ? 0xBFFF_E000 : (bits == 32 ? 0xFFFF_C000 : 0x7FFF_FFFF_D000)
        t.memory = [VMASpec(segment: .data, start: data, size: 0x1000, read: true, write: true, execute: false, populate: true),
                    VMASpec(segment: .stack, start: stack, size: 0x2000, read: true, write: true, execute: false, populate: true)]
        let sys = try makeSystem(mode, policy: .fifo, tasks: [t]) { _, k in k.fork = fork }
        return (sys, data)
    }

    static func write(_ sys: inout System, _ address: UInt64) -> StepOutcome {
        sys.run(.access(kind: .write, address: address, size: 4, cpl: nil, implicit: false), as: nil)
    }

    static func leaf(_ sys: System, _ address: UInt64, task: Int) -> UInt64 {
        let c = sys.pagingControlForKernel
        return sys.machine.paging.leaf(for: address, cr3: sys.core.tasks[task].cr3, mode: c.mode, pse: c.pse)?.value ?? 0
    }

    static let modes: [(MachineMode, Int?)] = [(.x86_64, nil), (.x86_64, 32), (.ia32, nil)]

    /// fork write-protects the page in both address spaces, names one frame in both, leaves the child's
    /// entry old (A=0) with the parent's D, and counts two users; the eager default does none of this.
    @Test(arguments: modes)
    func forkSharesTheFrameReadOnly(_ m: (MachineMode, Int?)) throws {
        var (sys, data) = try Self.system(m.0, bits: m.1, fork: .cow)
        #expect(Self.write(&sys, data).faults.isEmpty)
        let via: SyscallEntryKind = m.0 == .ia32 || m.1 == 32 ? .int80 : .syscall
        #expect(sys.call(via, "fork").returns == 2)
        let p = Self.leaf(sys, data, task: 1), c = Self.leaf(sys, data, task: 2)
        #expect(p & PageTableEntry.writable == 0 && c & PageTableEntry.writable == 0)
        #expect(p & ~0xFFF & 0xFFFF_FFFF == c & ~0xFFF & 0xFFFF_FFFF)
        #expect(c & PageTableEntry.accessed == 0)
        // The parent wrote the page before fork: D stays set in both (pte_wrprotect keeps it).
        #expect(p & PageTableEntry.dirty != 0 && c & PageTableEntry.dirty != 0)
        #expect(sys.core.cowFrames.users(of: p & 0xFFFF_F000) == 2)
        // Reads never fault.
        #expect(sys.run(.access(kind: .read, address: data, size: 4, cpl: nil, implicit: false), as: nil).faults.isEmpty)

        var (eager, _) = try Self.system(m.0, bits: m.1, fork: .copy)
        #expect(eager.call(via, "fork").returns == 2)
        #expect(Self.leaf(eager, data, task: 1) & PageTableEntry.writable != 0)
        #expect(eager.core.cowFrames.count == 0)
        #expect(Self.write(&eager, data).faults.isEmpty)
    }

    /// The first writer copies (the other side still maps the frame), the second reuses it in place.
    @Test(arguments: modes)
    func firstWriteCopiesSecondReuses(_ m: (MachineMode, Int?)) throws {
        var (sys, data) = try Self.system(m.0, bits: m.1, fork: .cow)
        let via: SyscallEntryKind = m.0 == .ia32 || m.1 == 32 ? .int80 : .syscall
        #expect(sys.call(via, "fork").returns == 2)
        let frame = Self.leaf(sys, data, task: 1) & 0xFFFF_F000
        let w = Self.write(&sys, data)
        #expect(w.faults.map(\.vector) == [.PF])
        #expect(w.faults.first?.errorCode == 0x7)
        #expect(w.signal == nil)
        #expect(traceContains(sys, w, ["wp_page_copy"]))
        let copied = Self.leaf(sys, data, task: 1)
        #expect(copied & 0xFFFF_F000 != frame && copied & PageTableEntry.writable != 0)
        #expect(sys.core.cowFrames.users(of: frame) == 1)
        #expect(!sys.core.cowFrames.isShared(frame, in: sys.core.tasks[1].cr3))
        // The child's write: the last user reuses the frame in place.
        #expect(sys.call(via, "sched_yield").switches.count == 1)
        let r = Self.write(&sys, data + 4)
        #expect(r.faults.first?.errorCode == 0x7)
        #expect(traceContains(sys, r, ["wp_page_reuse"]))
        #expect(Self.leaf(sys, data, task: 2) & 0xFFFF_F000 == frame)
        #expect(sys.core.cowFrames.count == 0 || sys.core.cowFrames.users(of: frame) == 0)
    }

    /// copy_to_user into a shared page: the kernel's #PF P|W (U=0) is the step's, and the frame is copied.
    @Test func kernelCopyBreaksTheShare() throws {
        var (sys, data) = try Self.system(.x86_64, fork: .cow)
        sys.core.setup.stdin = Array("hey".utf8)
        #expect(sys.call(.syscall, "fork").returns == 2)
        let frame = Self.leaf(sys, data, task: 1) & 0xFFFF_F000
        let o = sys.call(.syscall, "read", [.number(0), .number(data + 0x20), .number(3)])
        #expect(o.returns == 3)
        #expect(o.faults.map(\.errorCode) == [0x3])
        #expect(o.faults.first?.cr2 == data + 0x20)
        #expect(Self.leaf(sys, data, task: 1) & 0xFFFF_F000 != frame)
        #expect(sys.machine.paging.memory.read(frame + 0x20, size: 4) == 0)
    }

    /// exit drops the task's references: the survivor's write reuses, no copy.
    @Test func exitReleasesTheChildsReferences() throws {
        var (sys, data) = try Self.system(.x86_64, fork: .cow)
        #expect(sys.call(.syscall, "fork").returns == 2)
        let frame = Self.leaf(sys, data, task: 1) & 0xFFFF_F000
        #expect(sys.call(.syscall, "sched_yield").switches.count == 1)
        _ = sys.run(.exit(code: 0), as: nil)
        #expect(sys.core.current == 1)
        #expect(sys.core.cowFrames.users(of: frame) == 1)
        let w = Self.write(&sys, data)
        #expect(traceContains(sys, w, ["wp_page_reuse"]))
        #expect(Self.leaf(sys, data, task: 1) & 0xFFFF_F000 == frame)
    }

    /// mprotect(PROT_READ|PROT_WRITE) keeps a shared frame write-protected (can_change_pte_writable).
    @Test func mprotectDoesNotMakeASharedFrameWritable() throws {
        var (sys, data) = try Self.system(.x86_64, fork: .cow)
        #expect(sys.call(.syscall, "fork").returns == 2)
        #expect(sys.call(.syscall, "mprotect", [.number(data), .number(0x1000), .number(1)]).returns == 0)
        #expect(sys.call(.syscall, "mprotect", [.number(data), .number(0x1000), .number(3)]).returns == 0)
        #expect(Self.leaf(sys, data, task: 1) & PageTableEntry.writable == 0)
        let w = Self.write(&sys, data)
        #expect(w.faults.first?.errorCode == 0x7)
        #expect(traceContains(sys, w, ["wp_page_copy"]))
    }

    /// munmap drops the reference: the other side then reuses.
    @Test func munmapReleasesTheReference() throws {
        var (sys, data) = try Self.system(.x86_64, fork: .cow)
        #expect(sys.call(.syscall, "fork").returns == 2)
        let frame = Self.leaf(sys, data, task: 1) & 0xFFFF_F000
        #expect(sys.call(.syscall, "munmap", [.number(data), .number(0x1000)]).returns == 0)
        #expect(sys.core.cowFrames.users(of: frame) == 1)
        #expect(!sys.core.cowFrames.isShared(frame, in: sys.core.tasks[1].cr3))
    }
}
