// TASK-5: the EIP saved in the old TSS by a JMP/CALL/INT n/IRET task switch is the address of the
// instruction after it, so that a nested task's IRET resumes the caller instead of re-executing the switch.
import Testing
@testable import Machine

@Suite struct TaskSwitchReturnAddressTests {
    /// ia32, `kernel: none`, a ring-0 task in a second TSS at GDT 20 (0xa0), a DPL-3 task gate at IDT 0x81
    /// and at GDT 21 (0xab with RPL 3).
    func systemWithSecondTask() throws -> System {
        try makeSystem(.ia32) { m, k in
            let tss = Descriptor.system(base: 0xC0F1_4000, limit: 0x67, type: .tssAvailable, dpl: 3, present: true)
            let fields: [String: UInt64] = ["eip": 0xC010_0500, "esp": 0xC200_6000, "eflags": 0x2,
                                            "cs": 0x60, "ss": 0x68, "ds": 0x68, "es": 0x68]
            let gate = Descriptor.gate(type: .taskGate, selector: 0xA0, offset: 0, dpl: 3, present: true)
            m.gdt = .patch([20: TableEntry(low: tss.low.raw, tssFields: fields), 21: TableEntry(low: gate.low.raw)])
            m.idt[0x81] = TableEntry(low: gate.low.raw)
            k.enabled = false
        }
    }

    @Test func intThroughTaskGateSavesNextInstruction() throws {
        var sys = try systemWithSecondTask()
        let start = sys.machine.cpu.rip
        var o = sys.run(.exec(.int(0x81)), as: nil)
        #expect(o.faults.isEmpty)
        #expect(sys.machine.cpu.tr.selector == 0xA0)
        #expect(sys.machine.tssRead(offset: TSS32.eip, size: 4, tssBase: 0xC0F1_4000) == 0xC010_0500)
        o = sys.run(.exec(.iret(width: nil)), as: nil)
        #expect(o.faults.isEmpty)
        #expect(sys.machine.cpu.tr.selector == 0x80)
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.rip == start + 2)  // after the 2-byte INT 0x81
    }

    @Test func farCallToTaskGateSavesNextInstruction() throws {
        var sys = try systemWithSecondTask()
        let start = sys.machine.cpu.rip
        let o = sys.run(.exec(.callFar(selector: 0xAB, offset: 0)), as: nil)
        #expect(o.faults.isEmpty)
        let oldTSSBase = sys.machine.descriptor(Selector(0x80))!.base
        #expect(sys.machine.tssRead(offset: TSS32.eip, size: 4, tssBase: oldTSSBase) == start + 7)
    }

    @Test func iretTaskReturnSavesNextInstruction() throws {
        var sys = try systemWithSecondTask()
        _ = sys.run(.exec(.int(0x81)), as: nil)
        let inner = sys.machine.cpu.rip
        _ = sys.run(.exec(.iret(width: nil)), as: nil)
        #expect(sys.machine.tssRead(offset: TSS32.eip, size: 4, tssBase: 0xC0F1_4000) == inner + 1)  // IRETD is 1 byte
    }
}

/// `expect.entry` on an `exec` step: the CPU's entry record reaches the step outcome on a bare CPU.
@Suite struct ExecEntryRecordTests {
    @Test func sysenterExecReportsEntry() throws {
        var sys = try makeSystem(.ia32) { m, k in
            m.msrs = [MSR.sysenterESP: 0xC200_8000, MSR.sysenterEIP: 0xC010_0200]
            k.enabled = false
        }
        let o = sys.run(.exec(.sysenter), as: nil)
        #expect(o.faults.isEmpty)
        #expect(o.entry == EntryRecord(via: "sysenter", cs: 0x60, ss: 0x68, ip: 0xC010_0200, sp: 0xC200_8000, cpl: 0))
    }

    @Test func syscallExecReportsEntry() throws {
        var sys = try makeSystem(.x86_64) { m, k in
            m.msrs = [MSR.lstar: 0xFFFF_FFFF_8100_0040]
            k.enabled = false
        }
        let o = sys.run(.exec(.syscall), as: nil)
        #expect(o.faults.isEmpty)
        #expect(o.entry?.via == "syscall")
        #expect(o.entry?.cs == 0x10)
        #expect(o.entry?.ip == 0xFFFF_FFFF_8100_0040)
    }
}
