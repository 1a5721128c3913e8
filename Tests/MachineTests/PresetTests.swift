// The preset under scenario settings: GDT patches, call gates, LDT, TSS fields, preset none.
import Testing
@testable import Machine

@Suite struct PresetTests {
    /// The format's first complete scenario: a DPL-3 call gate into kernel code, `kernel: none`.
    @Test func callGateRaisesPrivilege() throws {
        var sys = try makeSystem(.ia32) { m, k in
            let g = Descriptor.gate(type: .callGate, selector: 0x60, offset: 0xC010_0000, dpl: 3, present: true, paramCount: 2)
            m.gdt = .patch([20: TableEntry(low: g.low.raw)])
            k.enabled = false
        }
        let userESP = sys.machine.cpu[.rsp]
        var o = sys.run(.exec(.callFar(selector: 20 << 3 | 3, offset: 0)), as: nil)
        #expect(o.faults.isEmpty)
        #expect(sys.machine.cpu.cpl == 0)
        #expect(sys.machine.cpu.cs.selector == 0x60)
        #expect(sys.machine.cpu.ss.selector == 0x68)
        o = sys.run(.exec(.retf(popBytes: 8)), as: nil)
        #expect(o.faults.isEmpty)
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.cs.selector == 0x73)
        #expect(sys.machine.cpu[.rsp] == userESP + 8)
        o = sys.run(.exec(.callFar(selector: 0x60, offset: 0xC010_0000)), as: nil)
        #expect(o.faults.first?.vector == .GP)
        #expect(o.faults.first?.errorCode == UInt32(0x60))
        #expect(sys.machine.gdt.count == 32)
    }

    @Test func gdtReplaceAndLDT() throws {
        let l = LinuxLayout(mode: .ia32)
        var sys = try makeSystem(.ia32) { m, _ in
            let ldtDesc = Descriptor.system(base: 0x9000, limit: 0x17, type: .ldt, dpl: 0, present: true)
            m.gdt = .patch([18: TableEntry(low: ldtDesc.low.raw, isLDT: true)])
            m.ldt = [nil, TableEntry(low: l.flatData(dpl: 3))]
        }
        #expect(sys.machine.cpu.ldtr.selector == 18 << 3)
        let o = sys.run(.exec(.movToSegment(.es, 0x0F)), as: nil)  // LDT index 1, RPL 3
        #expect(o.faults.isEmpty)
        #expect(sys.machine.cpu.es.selector == 0x0F)
    }

    @Test func idtPatchMergesOverThePreset() throws {
        var sys = try makeSystem(.x86_64) { m, _ in
            let g = Descriptor.gate(type: .interruptGate, selector: 0x10, offset: 0xFFFF_FFFF_8100_5000, dpl: 3, present: true)
            m.idt[0x40] = TableEntry(low: g.low.raw, high: g.high)
        }
        #expect(Descriptor(raw: sys.machine.idt[2 * 0x80]).present)
        let o = sys.run(.exec(.int(0x40)), as: nil)
        #expect(o.faults.isEmpty)
        #expect(sys.machine.cpu.rip == 0xFFFF_FFFF_8100_5000)  // not a kernel entry: the CPU stays there
        #expect(sys.machine.cpu.cpl == 0)
    }

    @Test func tssFieldsOverrideThePreset() throws {
        let sys = try makeSystem(.ia32) { m, _ in m.tssFields = ["esp0": 0xC000_8000] }
        #expect(sys.machine.tssRead(offset: TSS32.esp0, size: 4) == 0xC000_8000)
        #expect(sys.machine.tssRead(offset: TSS32.ss0, size: 2) == 0x68)
    }

    /// TASK-2 / LTR: the TSS that `machine.tss` loads into TR is marked busy, as LTR marks it (SDM Vol. 2A LTR;
    /// Vol. 3A §7.2.4), whatever its written descriptor said: a far JMP or CALL to the running task's own TSS is
    /// #GP(TSS selector), and the one it leaves for another is freed again.
    @Test(arguments: [MachineMode.ia32, .x86_64]) func loadedTSSIsMarkedBusy(_ mode: MachineMode) throws {
        let index = 20
        let sys = try makeSystem(mode) { m, k in
            let t = Descriptor.system(base: 0x9000, limit: 0x67, type: .tssAvailable, dpl: 3, present: true)
            m.gdt = .patch([index: TableEntry(low: t.low.raw, high: mode == .x86_64 ? 0 : nil, tss64: mode == .x86_64)])
            m.tssIndex = index
            k.enabled = false
        }
        #expect(Descriptor(raw: sys.machine.gdt[index]).systemType == .tssBusy)
        #expect(sys.machine.cpu.tr.selector == UInt16(index << 3))
        #expect(sys.machine.cpu.tr.cache.type == SystemType.tssBusy.rawValue)
        guard mode == .ia32 else { return }
        for jump in [true, false] {
            var s = sys
            let o = s.run(.exec(jump ? .jmpFar(selector: UInt16(index << 3 | 3), offset: 0) : .callFar(selector: UInt16(index << 3 | 3), offset: 0)), as: nil)
            #expect(o.faults.first?.vector == .GP)
            #expect(o.faults.first?.errorCode == UInt32(index << 3))
            #expect(s.machine.cpu.tr.selector == UInt16(index << 3))
        }
    }

    @Test func scenarioMSRsWin() throws {
        var sys = try makeSystem(.x86_64) { m, _ in m.msrs = [MSR.lstar: 0xFFFF_FFFF_8100_9000] }
        let o = sys.call(.syscall, "getpid")
        #expect(o.returns == nil)
        #expect(sys.machine.cpu.rip == 0xFFFF_FFFF_8100_9000)
        #expect(sys.machine.cpu.cpl == 0)
    }

    @Test func efersSCEOffMakesSyscallUD() throws {
        var sys = try makeSystem(.x86_64) { m, _ in m.efer = FlagEdit(clear: EFER.sce) }
        let o = sys.call(.syscall, "getpid")
        #expect(o.faults.map(\.vector) == [.UD])
        #expect(o.signal == "SIGILL")
    }

    @Test func presetNoneWithContext() throws {
        var t = taskSpec("main")
        t.segments = [.cs: 0x0B, .ss: 0x13]
        let sys = try makeSystem(.ia32, tasks: [t]) { m, _ in
            m.linuxPreset = false
            let code = Descriptor.segment(base: 0, limit: 0xF_FFFF, type: 0xB, dpl: 3, present: true, long: false, big: true, granularity4K: true)
            let data = Descriptor.segment(base: 0, limit: 0xF_FFFF, type: 0x3, dpl: 3, present: true, long: false, big: true, granularity4K: true)
            m.gdt = .replace([nil, TableEntry(low: code.raw), TableEntry(low: data.raw)])
        }
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.cs.selector == 0x0B)
    }

    @Test func presetNoneRefusesSchedule() throws {
        var sys = try makeSystem(.x86_64) { m, _ in m.linuxPreset = false }
        #expect(sys.run(.schedule, as: nil).error != nil)
        // A system call executes the instruction; with no MSRs it faults (#UD: EFER.SCE is off).
        let o = sys.call(.syscall, "getpid")
        #expect(o.faults.map(\.vector).first == .UD)
    }

    @Test func buildErrors() {
        #expect(throws: MachineError.self) { try makeSystem(.x86_64) { m, _ in m.paging = .pae } }
        #expect(throws: MachineError.self) { try makeSystem(.x86_64, tasks: [taskSpec("a", state: .running), taskSpec("b", state: .running)]) }
        #expect(throws: MachineError.self) { try makeSystem(.ia32, tasks: [taskSpec("a", bits: 64)]) }
    }
}

@Suite struct MoreModeTests {
    @Test func ia32PagingOff() throws {
        var sys = try makeSystem(.ia32, tasks: [taskSpec("a", state: .running), taskSpec("b")]) { m, _ in m.paging = .off }
        let o = sys.call(.int80, "write", [.number(1), .string("off"), .number(3)])
        #expect(o.output == "off")
        #expect(sys.run(.timer(3), as: nil).switches.map(\.to) == ["b"])
        #expect(sys.machine.cpu.cpl == 3)
    }

    @Test func compatTaskForksAndWaits() throws {
        var sys = try makeSystem(.x86_64, policy: .fifo, tasks: [taskSpec("old", state: .running, bits: 32)])
        #expect(sys.call(.int80, "fork").returns == 2)
        let w = sys.call(.int80, "waitpid", [.number(UInt64(bitPattern: -1)), .number(0), .number(0)])
        #expect(w.switches.map(\.to) == ["old-child"])
        #expect(sys.machine.cpu.cs.selector == 0x23)
        #expect(sys.machine.cpu[.rax] == 0)
        _ = sys.run(.exit(code: 3), as: "old-child")
        #expect(sys.currentTaskName == "old")
        #expect(sys.machine.cpu[.rax] == 2)
        #expect(sys.machine.cpu.cs.selector == 0x23)
    }

    @Test func externalInterruptOnAnExceptionVectorIsRefused() throws {
        var sys = try makeSystem(.x86_64)
        #expect(sys.run(.irq(vector: 14, wakes: nil), as: nil).error != nil)
    }

    @Test func waitStatusIsWritten() throws {
        var sys = try makeSystem(.x86_64, policy: .fifo, tasks: [taskSpec("p", state: .running)])
        _ = sys.call(.syscall, "fork")
        let status = LinuxLayout(mode: .x86_64).userSpaceTop - 0x100
        _ = sys.call(.syscall, "wait4", [.number(UInt64(bitPattern: -1)), .number(status), .number(0), .number(0)])
        _ = sys.run(.exit(code: 5), as: "p-child")
        #expect(sys.peekBytes(status, count: 4, cr3: sys.machine.cpu.cr3) == [0, 5, 0, 0])
    }
}
