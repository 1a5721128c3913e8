// fork, wait and exit in both orders; kill; nanosleep; the format's parent-waits-for-child scenario.
import Testing
@testable import Machine

@Suite struct ProcessTests {
    @Test func parentWaitsForChild() throws {
        var sys = try makeSystem(.x86_64, policy: .rr, timeslice: 4, tasks: [taskSpec("shell", state: .running)])
        let f = sys.call(.syscall, "fork")
        #expect(f.returns == 2)
        #expect(sys.taskState("shell-child") == .ready)
        let w = sys.call(.syscall, "wait4", [.number(UInt64(bitPattern: -1)), .number(0), .number(0), .number(0)])
        #expect(w.switches == [SwitchRecord(from: "shell", to: "shell-child", reason: "blocking")])
        #expect(sys.taskState("shell") == .blocked)
        #expect(sys.currentTaskName == "shell-child")
        // The child returns 0 from fork, in user mode, in its own address space.
        #expect(sys.machine.cpu[.rax] == 0)
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.cr3 == sys.task(named: "shell-child")!.cr3)
        let e = sys.run(.exit(code: 0), as: "shell-child")
        #expect(e.switches.map(\.to) == ["shell"])
        #expect(e.switches.first?.reason == "exit")
        #expect(sys.machine.cpu[.rax] == 2)  // wait4 returns the child's pid
        #expect(sys.dispatchOrder == ["shell", "shell-child", "shell"])
        #expect(sys.taskState("shell") == .running)
        #expect(sys.processes["shell-child"]?.exitCode == 0)
    }

    @Test func childExitsFirstThenWaitReturnsAtOnce() throws {
        var sys = try makeSystem(.ia32, policy: .fifo, tasks: [taskSpec("sh", state: .running)])
        #expect(sys.call(.int80, "fork", childName: "worker").returns == 2)
        // The parent yields; the child runs and exits with 7.
        let y = sys.call(.int80, "sched_yield")
        #expect(y.switches == [SwitchRecord(from: "sh", to: "worker", reason: "yield")])
        #expect(sys.machine.cpu[.rax] == 0)
        let e = sys.run(.exit(code: 7), as: "worker")
        #expect(e.switches == [SwitchRecord(from: "worker", to: "sh", reason: "exit")])
        #expect(sys.taskState("worker") == .zombie)
        let w = sys.call(.int80, "waitpid", [.number(UInt64(bitPattern: -1)), .number(0), .number(0)])
        #expect(w.returns == 2)
        #expect(w.switches.isEmpty)
        // No children left.
        #expect(sys.call(.int80, "wait4", [.number(UInt64(bitPattern: -1)), .number(0), .number(0), .number(0)]).returns == -10)
        #expect(sys.processes["worker"]?.exitCode == 7)
    }

    @Test func waitWithoutChildrenIsECHILD() throws {
        var sys = try makeSystem(.x86_64)
        #expect(sys.run(.wait(pid: -1), as: nil).returns == -10)
    }

    @Test func forkNamesChildrenInOrder() throws {
        var sys = try makeSystem(.x86_64, tasks: [taskSpec("p", state: .running)])
        _ = sys.call(.syscall, "fork")
        _ = sys.call(.syscall, "fork")
        #expect(sys.taskNames == ["p", "p-child", "p-child2"])
        #expect(sys.task(named: "p-child2")?.parent == 1)
    }

    @Test func forkCopiesTheAddressSpace() throws {
        var sys = try makeSystem(.x86_64, policy: .fifo, tasks: [taskSpec("p", state: .running)])
        let top = LinuxLayout(mode: .x86_64).userSpaceTop
        #expect(sys.call(.syscall, "read", [.number(0), .number(top - 0x200), .number(0)]).returns == 0)
        _ = sys.pokeBytes(top - 0x200, Array("P".utf8), cr3: sys.machine.cpu.cr3)
        _ = sys.call(.syscall, "fork")
        let parentCR3 = sys.task(named: "p")!.cr3, childCR3 = sys.task(named: "p-child")!.cr3
        #expect(parentCR3 != childCR3)
        #expect(sys.peekBytes(top - 0x200, count: 1, cr3: childCR3) == Array("P".utf8))
        _ = sys.pokeBytes(top - 0x200, Array("Q".utf8), cr3: childCR3)
        #expect(sys.peekBytes(top - 0x200, count: 1, cr3: parentCR3) == Array("P".utf8))
    }

    @Test func killEndsATaskWithItsSignal() throws {
        // `a` is pid 3, not 1: init (pid 1) ignores every signal (SIGNAL_UNKILLABLE).
        var a = taskSpec("a", state: .running)
        a.pid = 3
        var sys = try makeSystem(.x86_64, tasks: [a, taskSpec("b")])
        let o = sys.call(.syscall, "kill", [.number(2), .number(9)])
        #expect(o.returns == 0)
        #expect(o.signal == "SIGKILL")
        #expect(sys.processes["b"]?.signal == "SIGKILL")
        #expect(sys.taskState("b") == .zombie)
        #expect(sys.call(.syscall, "kill", [.number(99), .number(15)]).returns == -3)
        let selfKill = sys.call(.syscall, "kill", [.number(3), .number(15)])
        #expect(selfKill.signal == "SIGTERM")
        #expect(selfKill.switches == [SwitchRecord(from: "a", to: "idle", reason: "signal")])
        #expect(sys.currentTaskName == "idle")
    }

    @Test func nanosleepBlocksUntilTicksPass() throws {
        var sys = try makeSystem(.x86_64, policy: .rr, timeslice: 10, tasks: [taskSpec("s", state: .running), taskSpec("t")])
        let o = sys.call(.syscall, "nanosleep", [.number(2), .number(0)])
        #expect(o.switches == [SwitchRecord(from: "s", to: "t", reason: "blocking")])
        #expect(sys.taskState("s") == .sleeping)
        _ = sys.run(.timer(1), as: nil)
        #expect(sys.taskState("s") == .sleeping)
        _ = sys.run(.timer(1), as: nil)
        #expect(sys.taskState("s") == .ready)
        #expect(sys.currentTaskName == "t")
        _ = sys.call(.syscall, "sched_yield")
        #expect(sys.currentTaskName == "s")
        #expect(sys.machine.cpu[.rax] == 0)
    }

    @Test func irqWakesABlockedTask() throws {
        var sys = try makeSystem(.ia32, policy: .rr, tasks: [taskSpec("r", state: .blocked), taskSpec("w", state: .running)])
        let o = sys.run(.irq(vector: 0x21, wakes: "r"), as: nil)
        #expect(o.faults.isEmpty)
        #expect(o.gate?.vector == 0x21)
        #expect(sys.taskState("r") == .ready)
        #expect(o.switches.isEmpty)  // rr: no preemption on wake
        #expect(sys.machine.cpu.cpl == 3)
    }

    /// A step whose own call does not return reports the return of the blocked call it resumes
    /// (`expect.returns` on the child's exit step is the parent's wait4 result).
    @Test func resumedBlockedCallGivesTheStepsReturns() throws {
        var sys = try makeSystem(.x86_64, policy: .rr, timeslice: 4, tasks: [taskSpec("p", state: .running)])
        #expect(sys.call(.syscall, "fork").returns == 2)
        let w = sys.call(.syscall, "wait4", [.number(UInt64(bitPattern: -1)), .number(0), .number(0), .number(0)])
        #expect(w.returns == nil)
        let e = sys.run(.exit(code: 1), as: "p-child")
        #expect(e.returns == 2)
        #expect(e.returnsBy == "p")
        // The parent's own next call reports its own value, not a stale resumed one.
        let g = sys.call(.syscall, "getpid")
        #expect(g.returns == 1)
        #expect(g.returnsBy == nil)
    }

    /// A tick that ends a nanosleep and dispatches the sleeper reports nanosleep's 0; a tick that does
    /// not dispatch it reports nothing.
    @Test(arguments: [MachineMode.ia32, .x86_64])
    func tickThatEndsASleepReportsZero(mode: MachineMode) throws {
        var sys = try makeSystem(mode, policy: .rr, tasks: [taskSpec("s", state: .running)])
        let via: SyscallEntryKind = mode == .ia32 ? .int80 : .syscall
        #expect(sys.call(via, "nanosleep", [.number(2), .number(0)]).returns == nil)
        #expect(sys.run(.timer(1), as: nil).returns == nil)
        let t = sys.run(.timer(1), as: nil)
        #expect(t.returns == 0)
        #expect(t.returnsBy == "s")
    }
}
