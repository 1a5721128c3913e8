// The preset cache: a machine built from a cached preset is the machine built from scratch, and
// runs the same steps to the same results.
import Testing
@testable import Machine

@Suite struct PresetCacheTests {
    /// What two builds must agree on: tables, CPU, memory, page-table bookkeeping, tasks.
    struct Snapshot: Equatable {
        var gdt: [UInt64]
        var idt: [UInt64]
        var tss: [UInt64: [UInt8]]
        var cpu: CPUState
        var frames: [UInt64: [UInt8]]
        var allocator: FrameAllocator
        var upper: [UInt64: UpperEntryOrigin]
        var template: UInt64?
        var tasks: [String]

        init(_ s: System) {
            gdt = s.machine.gdt
            idt = s.machine.idt
            tss = s.machine.tssImages
            cpu = s.machine.cpu
            let memory = s.machine.paging.memory
            frames = Dictionary(uniqueKeysWithValues: memory.frameNumbers.map { ($0, memory.readBytes($0 << 12, count: 0x1000)) })
            allocator = memory.allocator
            upper = Dictionary(uniqueKeysWithValues: s.machine.paging.upperEntries.entries.map { ($0.key, $0.value) })
            template = s.core.templateCR3
            tasks = s.core.tasks.map {
                "\($0.pid) \($0.name) \($0.cr3) \($0.kernelStackBase) \($0.userContext) \(String(describing: $0.kernelContext)) \($0.returnPath)"
            }
        }
    }

    /// Mode, paging mode, and the CR4 and EFER edits of each case.
    static let setups: [(MachineMode, PagingMode, FlagEdit, FlagEdit)] = [
        (.ia32, .bits32, FlagEdit(), FlagEdit()),
        (.ia32, .bits32, FlagEdit(clear: CR4.pse), FlagEdit()),
        (.ia32, .pae, FlagEdit(), FlagEdit()),
        (.ia32, .pae, FlagEdit(set: CR4.pge), FlagEdit()),
        (.ia32, .off, FlagEdit(), FlagEdit()),
        (.x86_64, .level4, FlagEdit(), FlagEdit()),
        (.x86_64, .level4, FlagEdit(set: CR4.pge | CR4.smep), FlagEdit(clear: EFER.nxe)),
    ]

    @Test(arguments: 0..<PresetCacheTests.setups.count)
    func cachedBuildEqualsFreshBuild(_ i: Int) throws {
        let (mode, paging, cr4, efer) = Self.setups[i]
        var m = MachineSetup()
        m.mode = mode
        m.paging = paging
        m.cr4 = cr4
        m.efer = efer
        let tasks = [taskSpec("a", state: .running), taskSpec("b"), taskSpec("c", bits: mode == .x86_64 ? 32 : nil)]
        let fresh = try System.build(machine: m, kernel: KernelSetup(), tasks: tasks, presetCache: false)
        // Twice through the cache: the first stores the preset, the second copies it.
        _ = try System.build(machine: m, kernel: KernelSetup(), tasks: tasks)
        let cached = try System.build(machine: m, kernel: KernelSetup(), tasks: tasks)
        #expect(Snapshot(cached) == Snapshot(fresh))

        // The same steps give the same outcomes and traces.
        var a = fresh, b = cached
        let via: SyscallEntryKind = mode == .x86_64 ? .syscall : .int80
        let steps: [KernelEvent] = [
            .syscall(via: via, nr: SyscallTable.number(of: "getpid", table: SyscallTable.abi(for: via)) ?? 0, args: [], childName: nil),
            .timer(3),
            .access(kind: .write, address: 0x1000_0000, size: 4, cpl: nil, implicit: false),
            .syscall(via: via, nr: SyscallTable.number(of: "sched_yield", table: SyscallTable.abi(for: via)) ?? 0, args: [], childName: nil),
            .timer(2),
        ]
        for e in steps {
            let oa = a.run(e, as: nil), ob = b.run(e, as: nil)
            #expect(oa.faults == ob.faults)
            #expect(oa.switches.map(\.to) == ob.switches.map(\.to))
            #expect(oa.error == ob.error)
        }
        #expect(a.machine.trace.events == b.machine.trace.events)
        #expect(Snapshot(a) == Snapshot(b))
    }
}
