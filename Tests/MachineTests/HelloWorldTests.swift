// The two hello worlds, the sysenter path, and the same request through both numbering systems.
import Testing
@testable import Machine

@Suite struct HelloWorldTests {
    @Test func ia32Int80HelloWorld() throws {
        var sys = try makeSystem(.ia32)
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.cs.selector == 0x73)
        let o = sys.call(.int80, "write", [.number(1), .string("Hello, world!\n"), .number(14)])
        #expect(o.error == nil)
        #expect(o.faults.isEmpty)
        #expect(o.returns == 14)
        #expect(o.output == "Hello, world!\n")
        #expect(o.gate?.vector == 0x80)
        #expect(o.gate?.type == "trap")
        #expect(o.gate?.dpl == 3)
        #expect(o.gate?.fromCPL == 3)
        #expect(o.gate?.toCPL == 0)
        #expect(o.gate?.stackSwitch == true)
        #expect(o.entry?.via == "int80")
        #expect(o.entry?.cs == 0x60)
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.cs.selector == 0x73)
        #expect(sys.machine.cpu[.rax] == 14)
        #expect(traceContains(sys, o, ["user main", "gate 0x80", "kernel main", "syscall write", "iret", "user main"]))
    }

    @Test func x86_64SyscallHelloWorld() throws {
        var sys = try makeSystem(.x86_64)
        #expect(sys.machine.cpu.cs.selector == 0x33)
        let userRIP = sys.machine.cpu.rip
        let o = sys.call(.syscall, "write", [.number(1), .string("Hello, world!\n"), .number(14)])
        #expect(o.error == nil)
        #expect(o.faults.isEmpty)
        #expect(o.returns == 14)
        #expect(o.output == "Hello, world!\n")
        #expect(o.entry?.via == "syscall")
        #expect(o.entry?.cs == 0x10)
        #expect(o.entry?.ss == 0x18)
        #expect(o.entry?.ip == LinuxLayout(mode: .x86_64).entrySYSCALL_64)
        #expect(o.entry?.cpl == 0)
        #expect(o.gate == nil)
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.cs.selector == 0x33)
        #expect(sys.machine.cpu.ss.selector == 0x2b)
        #expect(sys.machine.cpu.rip == userRIP + 2)
        #expect(traceContains(sys, o, ["syscall", "kernel main", "syscall write", "sysret", "user main"]))
    }

    @Test func ia32SysenterAndSysexit() throws {
        var sys = try makeSystem(.ia32)
        let userESP = sys.machine.cpu[.rsp]
        let o = sys.call(.sysenter, "getpid")
        #expect(o.error == nil)
        #expect(o.returns == 1)
        #expect(o.entry?.via == "sysenter")
        #expect(o.entry?.cs == 0x60)
        #expect(o.entry?.ss == 0x68)
        #expect(o.entry?.sp == sys.task(named: "main")!.kernelStackTop)
        #expect(sys.machine.cpu.cs.selector == 0x73)
        #expect(sys.machine.cpu.ss.selector == 0x7b)
        #expect(sys.machine.cpu[.rsp] == userESP)
        #expect(traceContains(sys, o, ["sysenter", "syscall getpid", "sysexit", "user main"]))
    }

    @Test func compatTaskInt80AndSysenter() throws {
        var sys = try makeSystem(.x86_64, tasks: [taskSpec("old", bits: 32)])
        #expect(sys.machine.cpu.cs.selector == 0x23)
        #expect(sys.machine.inCompatibilityMode)
        var o = sys.call(.int80, "getpid")
        #expect(o.returns == 1)
        #expect(sys.machine.cpu.cs.selector == 0x23)
        o = sys.call(.sysenter, "getppid")
        #expect(o.error == nil)
        #expect(o.returns == 0)
        #expect(sys.machine.cpu.cs.selector == 0x23)
        #expect(sys.machine.cpu.ss.selector == 0x2b)
        // Intel: SYSCALL outside 64-bit mode is #UD, delivered to the kernel: SIGILL.
        o = sys.call(.syscall, "getpid")
        #expect(o.faults.map(\.vector) == [.UD])
        #expect(o.signal == "SIGILL")
    }
}
