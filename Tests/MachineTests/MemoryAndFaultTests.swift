// Demand paging, SIGSEGV, signals for ring-3 exceptions, kernel-half sharing, `access` steps.
import Testing
@testable import Machine

@Suite struct MemoryAndFaultTests {
    func dataTask(_ mode: MachineMode) -> TaskSpec {
        var t = taskSpec("main")
        let bits = mode == .ia32 ? 32 : 64
        let text = LinuxLayout(mode: mode).defaultTextBase(bits: bits)
        let top = LinuxLayout(mode: mode).userSpaceTop
        t.memory = [VMASpec(segment: .text, start: text, size: 0x1000, read: true, write: false, execute: true, populate: true),
                    VMASpec(segment: .data, start: 0x0060_0000, size: 0x4000, read: true, write: true, execute: false, populate: false),
                    VMASpec(segment: .stack, start: top - 0x2000, size: 0x2000, read: true, write: true, execute: false, populate: true)]
        return t
    }

    @Test(arguments: [MachineMode.ia32, .x86_64])
    func demandPagingOnStore(mode: MachineMode) throws {
        var sys = try makeSystem(mode, tasks: [dataTask(mode)])
        sys.machine.cpu[.rax] = 0x1234
        let o = sys.run(.exec(.store(address: 0x0060_1008, .rax, size: 4)), as: nil)
        #expect(o.error == nil)
        #expect(o.faults.map(\.vector) == [.PF])
        #expect(o.faults.first?.errorCode == 0x6)  // not present, write, user
        #expect(o.faults.first?.cr2 == 0x0060_1008)
        #expect(o.signal == nil)
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.rip == sys.task(named: "main")!.userContext.rip + Instruction.store(address: 0, .rax, size: 4).length(in64BitMode: mode == .x86_64))
        #expect(sys.peekBytes(0x0060_1008, count: 2, cr3: sys.machine.cpu.cr3) == [0x34, 0x12])
        // The page is mapped now: no fault the second time.
        #expect(sys.run(.exec(.load(.rbx, address: 0x0060_1008, size: 4)), as: nil).faults.isEmpty)
        #expect(sys.machine.cpu[.rbx] == 0x1234)
    }

    @Test func demandPagingOnAccessReportsPhysicalAndDirty() throws {
        var sys = try makeSystem(.x86_64, tasks: [dataTask(.x86_64)])
        let o = sys.run(.access(kind: .write, address: 0x0060_2000, size: 8, cpl: nil, implicit: false), as: nil)
        #expect(o.faults.map(\.vector) == [.PF])
        #expect(o.access?.accessed == true)
        #expect(o.access?.dirty == true)
        let r = sys.run(.access(kind: .read, address: 0x0060_2010, size: 8, cpl: nil, implicit: false), as: nil)
        #expect(r.faults.isEmpty)
        #expect(r.access?.physical == o.access!.physical + 0x10)
    }

    @Test(arguments: [MachineMode.ia32, .x86_64])
    func segfaultOutsideAnyVMA(mode: MachineMode) throws {
        var sys = try makeSystem(mode, tasks: [taskSpec("victim", state: .running), taskSpec("other")])
        let o = sys.run(.access(kind: .read, address: 0x1000_0000, size: 4, cpl: nil, implicit: false), as: nil)
        #expect(o.faults.map(\.vector) == [.PF])
        #expect(o.signal == "SIGSEGV")
        #expect(o.switches == [SwitchRecord(from: "victim", to: "other", reason: "signal")])
        #expect(sys.processes["victim"]?.signal == "SIGSEGV")
        #expect(sys.taskState("victim") == .zombie)
        #expect(sys.machine.cpu.cpl == 3)
    }

    @Test func writeToTextIsSIGSEGV() throws {
        var sys = try makeSystem(.ia32)
        let o = sys.run(.access(kind: .write, address: 0x0804_8010, size: 4, cpl: nil, implicit: false), as: nil)
        #expect(o.faults.first?.errorCode == 0x7)  // present, write, user
        #expect(o.signal == "SIGSEGV")
        #expect(sys.currentTaskName == "idle")
    }

    @Test(arguments: [MachineMode.ia32, .x86_64])
    func kernelIsSupervisorOnly(mode: MachineMode) throws {
        var sys = try makeSystem(mode)
        let o = sys.run(.access(kind: .read, address: LinuxLayout(mode: mode).kernelTextBase, size: 4, cpl: nil, implicit: false), as: nil)
        #expect(o.faults.first?.vector == .PF)
        #expect(o.faults.first?.errorCode == 0x5)  // present, user
        #expect(o.signal == "SIGSEGV")
    }

    @Test(arguments: [MachineMode.ia32, .x86_64])
    func kernelAccessAtCPL0(mode: MachineMode) throws {
        var sys = try makeSystem(mode)
        let o = sys.run(.access(kind: .read, address: LinuxLayout(mode: mode).kernelTextBase, size: 4, cpl: 0, implicit: false), as: nil)
        #expect(o.faults.isEmpty)
        #expect(o.access?.physical == LinuxLayout(mode: mode).kernelTextPhysical)
        #expect(sys.machine.cpu.cpl == 3)
        // A kernel fault with no fix-up is an oops.
        let oops = sys.run(.access(kind: .read, address: LinuxLayout(mode: mode).kernelHalfStart + 0x3F00_0000, size: 4, cpl: 0, implicit: false), as: nil)
        #expect(oops.faults.map(\.vector) == [.PF])
        #expect(oops.gate?.stackSwitch == (mode == .x86_64 ? false : false))
        // page_fault_oops ends the task with oops_end(..., SIGKILL) (arch/x86/mm/fault.c); die() uses SIGSEGV.
        #expect(oops.signal == "SIGKILL")
    }

    @Test(arguments: [(Instruction.hlt, "SIGSEGV", ExceptionVector.GP), (.int(0x20), "SIGSEGV", .GP), (.int3, "SIGTRAP", .BP),
                      (.movToCS, "SIGILL", .UD)])
    func ringThreeExceptionsBecomeSignals(instruction: Instruction, signal: String, vector: ExceptionVector) throws {
        var sys = try makeSystem(.ia32)
        let o = sys.run(.exec(instruction), as: nil)
        #expect(o.faults.first?.vector == vector)
        #expect(o.signal == signal)
        #expect(sys.processes["main"]?.signal == signal)
    }

    @Test func patchedGateRefusesInt80() throws {
        var sys = try makeSystem(.ia32) { m, _ in
            let l = LinuxLayout(mode: .ia32)
            let g = Descriptor.gate(type: .trapGate, selector: l.kernelCS, offset: l.entryINT80_32, dpl: 0, present: true)
            m.idt[0x80] = TableEntry(low: g.low.raw)
        }
        let o = sys.call(.int80, "getpid")
        #expect(o.faults.first?.vector == .GP)
        #expect(o.faults.first?.errorCode == UInt32(0x402))
        #expect(o.returns == nil)
        #expect(o.signal == "SIGSEGV")
    }

    @Test func kernelNoneStopsAtTheHandler() throws {
        var sys = try makeSystem(.x86_64) { _, k in k.enabled = false }
        let o = sys.run(.access(kind: .read, address: 0x1000_0000, size: 4, cpl: nil, implicit: false), as: nil)
        #expect(o.faults.map(\.vector) == [.PF])
        #expect(sys.machine.cpu.rip == LinuxLayout(mode: .x86_64).vectorEntry(14))
        #expect(sys.machine.cpu.cpl == 0)
        #expect(o.signal == nil)
    }

    @Test func kernelHalfSharedX86_64() throws {
        let sys = try makeSystem(.x86_64, tasks: [taskSpec("a"), taskSpec("b")])
        let a = sys.task(named: "a")!.cr3, b = sys.task(named: "b")!.cr3
        #expect(a != b)
        for i in UInt64(256)..<512 {
            #expect(sys.machine.paging.memory.read(a + i * 8, size: 8) == sys.machine.paging.memory.read(b + i * 8, size: 8))
        }
        let directMap = (LinuxLayout(mode: .x86_64).directMapBase >> 39) & 0x1FF
        #expect(sys.machine.paging.memory.read(a + directMap * 8, size: 8) & 1 == 1)
        #expect(sys.machine.paging.memory.read(a + 0, size: 8) != sys.machine.paging.memory.read(b + 0, size: 8))
        _ = sys
    }

    @Test func kernelHalfSharedIA32() throws {
        let sys = try makeSystem(.ia32, tasks: [taskSpec("a"), taskSpec("b")])
        let a = sys.task(named: "a")!.cr3, b = sys.task(named: "b")!.cr3
        for i in UInt64(768)..<1024 {
            #expect(sys.machine.paging.memory.read(a + i * 4, size: 4) == sys.machine.paging.memory.read(b + i * 4, size: 4))
        }
        // 4 MiB pages for the direct map (CR4.PSE is on in the preset).
        let pde = sys.machine.paging.memory.read(a + 768 * 4, size: 4)
        #expect(pde & 0x80 != 0)
        #expect(pde & 0x4 == 0)  // supervisor-only
    }

    @Test(arguments: [("32bit", false), ("32bit", true), ("pae", true)])
    func ia32PresetFitsPagingSettings(paging: String, pse: Bool) throws {
        var sys = try makeSystem(.ia32) { m, _ in
            m.paging = PagingMode(rawValue: paging)
            if !pse { m.cr4 = FlagEdit(clear: CR4.pse) }
        }
        let o = sys.call(.int80, "write", [.number(1), .string("ok"), .number(2)])
        #expect(o.output == "ok")
        #expect(o.faults.isEmpty)
        #expect(sys.machine.cpu.cpl == 3)
        let t = sys.run(.timer(1), as: nil)
        #expect(t.faults.isEmpty)
    }

    @Test func noXDBitsWithoutNXE() throws {
        var sys = try makeSystem(.x86_64) { m, _ in m.efer = FlagEdit(clear: EFER.nxe) }
        let cr3 = sys.machine.cpu.cr3
        let leaf = sys.machine.paging.leaf(for: LinuxLayout(mode: .x86_64).directMapBase, cr3: cr3, mode: .level4, pse: false)!
        #expect(leaf.value >> 63 == 0)
        #expect(sys.call(.syscall, "getpid").returns == 1)
    }

    @Test func presetTables() throws {
        let ia = try makeSystem(.ia32)
        #expect(ia.machine.gdt.count == 32)
        #expect(Descriptor(raw: ia.machine.gdt[14]).dpl == 3)
        #expect(Descriptor(raw: ia.machine.idt[0x80]).systemType == .trapGate)
        #expect(Descriptor(raw: ia.machine.idt[3]).dpl == 3)
        #expect(Descriptor(raw: ia.machine.idt[14]).systemType == .interruptGate)
        #expect(Descriptor(raw: ia.machine.idt[0x30]).present == false)
        #expect(ia.machine.cpu.msr(MSR.sysenterCS) == 0x60)
        #expect(ia.machine.cpu.cr0 & CR0.wp != 0)
        #expect(ia.machine.cpu.tr.selector == 0x80)
        let x = try makeSystem(.x86_64)
        #expect(x.machine.gdt.count == 16)
        #expect(Descriptor(raw: x.machine.idt[2 * 0x80]).systemType == .interruptGate)
        #expect(Descriptor(raw: x.machine.idt[2 * 8]).ist == 1)
        #expect(x.machine.cpu.msr(MSR.star) == 0x0023_0010 << 32)
        #expect(x.machine.cpu.msr(MSR.fmask) & (RFLAGS.if | RFLAGS.tf | RFLAGS.df | RFLAGS.ac) == RFLAGS.if | RFLAGS.tf | RFLAGS.df | RFLAGS.ac)
        #expect(x.machine.cpu.efer & (EFER.sce | EFER.nxe) == EFER.sce | EFER.nxe)
        #expect(x.machine.cpu.cr4 & (CR4.smep | CR4.smap | CR4.pke) == 0)
        #expect(x.machine.cpu.tr.selector == 0x40)
        #expect(LinuxLayout.gdtNames(mode: .x86_64)["user32_cs"] == 4)
        #expect(LinuxLayout.gdtNames(mode: .ia32)["user32_cs"] == nil)
        #expect(x.machine.tssRead(offset: TSS64.ist(1), size: 8) != 0)
    }

    @Test func presetNoneStartsFlatAtCPL0() throws {
        let sys = try makeSystem(.ia32) { m, _ in m.linuxPreset = false }
        #expect(sys.machine.gdt == [0])
        #expect(sys.machine.idt.isEmpty)
        #expect(sys.machine.cpu.cpl == 0)
    }
}

@Suite struct RegressionTests {
    @Test func oopsOfTheLastTaskLeavesTheCPUIdle() throws {
        var sys = try makeSystem(.x86_64)
        let o = sys.run(.access(kind: .read, address: 0xFFFF_8000_1000_0000, size: 8, cpl: 0, implicit: false), as: nil)
        #expect(o.signal == "SIGKILL")  // a page-fault oops (page_fault_oops)
        #expect(sys.currentTaskName == "idle")
        #expect(sys.machine.cpu.cpl == 0)
        #expect(sys.machine.cpu.rip == LinuxLayout(mode: .x86_64).idleLoop)
    }

    @Test func twoIdenticalSyscallsBothReportTheGate() throws {
        var sys = try makeSystem(.ia32)
        #expect(sys.call(.int80, "getpid").gate?.vector == 0x80)
        #expect(sys.call(.int80, "getpid").gate?.vector == 0x80)
    }
}

/// Exception names a scenario may write: the short name with or without `#`, or the SDM title, in any case.
struct ExceptionNameTests {
    @Test(arguments: [
        ("GP", ExceptionVector.GP), ("#gp", .GP), ("general protection", .GP), ("General Protection Fault", .GP),
        ("PF", .PF), ("Page  Fault", .PF), ("invalid TSS", .TS), ("stack-segment fault", .SS), ("stack segment fault", .SS),
        ("segment not present", .NP), ("invalid opcode", .UD), ("double fault", .DF), ("divide error", .DE), ("NMI", .NMI),
    ])
    func known(_ pair: (String, ExceptionVector)) {
        #expect(ExceptionVector(name: pair.0) == pair.1)
    }

    @Test(arguments: ["", "#", "G P", "page", "fault", "general", "PF!", "protection fault"])
    func unknown(_ name: String) {
        #expect(ExceptionVector(name: name) == nil)
    }
}
