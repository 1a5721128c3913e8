// Each policy with a hand-computed timeline, and the mechanics of a context switch.
import Testing
@testable import Machine

@Suite struct SchedulerTests {
    /// The running task after each of `ticks` single timer steps.
    func timeline(_ sys: inout System, ticks: Int) -> [String] {
        (0..<ticks).map { _ in
            let o = sys.run(.timer(1), as: nil)
            #expect(o.error == nil)
            #expect(o.faults.isEmpty)
            return sys.currentTaskName
        }
    }

    @Test(arguments: [MachineMode.ia32, .x86_64])
    func roundRobinThreeTasksTimesliceTwo(mode: MachineMode) throws {
        var sys = try makeSystem(mode, policy: .rr, timeslice: 2, tasks: [taskSpec("A", state: .running), taskSpec("B"), taskSpec("C")])
        // A A | B B | C C | A : a switch after every second tick.
        #expect(timeline(&sys, ticks: 7) == ["A", "B", "B", "C", "C", "A", "A"])
        #expect(sys.dispatchOrder == ["A", "B", "C", "A"])
        #expect(sys.switchCount == 3)
        #expect(sys.processes["A"]?.ticks == 3)
        #expect(sys.processes["B"]?.ticks == 2)
        #expect(sys.processes["C"]?.ticks == 2)
        #expect(sys.machine.cpu.cpl == 3)
    }

    @Test func roundRobinAloneKeepsRunning() throws {
        var sys = try makeSystem(.x86_64, policy: .rr, timeslice: 1)
        let o = sys.run(.timer(3), as: nil)
        #expect(o.switches.isEmpty)
        #expect(sys.processes["main"]?.ticks == 3)
    }

    @Test func fifoIsNeverPreempted() throws {
        var sys = try makeSystem(.x86_64, policy: .fifo, timeslice: 1, tasks: [taskSpec("A", state: .running), taskSpec("B")])
        let o = sys.run(.timer(10), as: nil)
        #expect(o.switches.isEmpty)
        #expect(sys.currentTaskName == "A")
        let y = sys.call(.syscall, "sched_yield")
        #expect(y.switches == [SwitchRecord(from: "A", to: "B", reason: "yield")])
        #expect(sys.run(.timer(5), as: nil).switches.isEmpty)
        #expect(sys.dispatchOrder == ["A", "B"])
    }

    @Test func priorityPreemptionOnWake() throws {
        var sys = try makeSystem(.x86_64, policy: .priority, timeslice: 3,
                                 tasks: [taskSpec("lo", state: .running, priority: 1), taskSpec("lo2", priority: 1),
                                         taskSpec("hi", state: .blocked, priority: 5)])
        #expect(timeline(&sys, ticks: 1) == ["lo"])
        let w = sys.run(.irq(vector: 0x21, wakes: "hi"), as: nil)
        #expect(w.switches == [SwitchRecord(from: "lo", to: "hi", reason: "wakeup")])
        // hi sleeps; lo (head of its level) comes back with the rest of its slice: 2 more ticks.
        let s = sys.call(.syscall, "nanosleep", [.number(50), .number(0)])
        #expect(s.switches == [SwitchRecord(from: "hi", to: "lo", reason: "blocking")])
        #expect(timeline(&sys, ticks: 2) == ["lo", "lo2"])
        #expect(sys.dispatchOrder == ["lo", "hi", "lo", "lo2"])
    }

    @Test func priorityYieldRunsAgainWhenAloneAtItsLevel() throws {
        var sys = try makeSystem(.x86_64, policy: .priority, tasks: [taskSpec("hi", state: .running, priority: 3), taskSpec("lo", priority: 1)])
        let y = sys.call(.syscall, "sched_yield")
        #expect(y.switches.isEmpty)
        #expect(sys.currentTaskName == "hi")
        #expect(timeline(&sys, ticks: 6) == Array(repeating: "hi", count: 6))
    }

    @Test func cfsTwoNiceValues() throws {
        // A nice 0 gains 1 per tick, B nice 5 gains 1024/335 = 3.057 per tick.
        var sys = try makeSystem(.x86_64, policy: .cfs, tasks: [taskSpec("A", state: .running, nice: 0), taskSpec("B", nice: 5)])
        #expect(timeline(&sys, ticks: 10) == ["A", "B", "B", "A", "A", "A", "A", "A", "A", "B"])
        #expect(sys.processes["A"]?.ticks == 8)
        #expect(sys.processes["B"]?.ticks == 2)
        let b = sys.task(named: "B")!
        #expect(abs(b.vruntime.ticks - 2 * 1024.0 / 335) < 1e-9)
    }

    @Test func cfsWeights() {
        #expect(System.weight(nice: 0) == 1024)
        #expect(System.weight(nice: -20) == 88761)
        #expect(System.weight(nice: 19) == 15)
        #expect(System.weight(nice: 5) == 335)
    }

    @Test func idleRunsWhenNothingIsReady() throws {
        var sys = try makeSystem(.ia32, tasks: [taskSpec("s", state: .running)])
        let o = sys.call(.int80, "nanosleep", [.number(1), .number(0)])
        #expect(o.switches == [SwitchRecord(from: "s", to: "idle", reason: "blocking")])
        #expect(sys.currentTaskName == "idle")
        #expect(sys.machine.cpu.cpl == 0)
        let t = sys.run(.timer(1), as: nil)
        #expect(t.switches == [SwitchRecord(from: "idle", to: "s", reason: "wakeup")])
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.dispatchOrder == ["s", "idle", "s"])
        #expect(sys.processes["s"]?.ticks == 0)
    }

    @Test(arguments: [MachineMode.ia32, .x86_64])
    func contextSwitchTraceOrderCR3AndTSS(mode: MachineMode) throws {
        var sys = try makeSystem(mode, policy: .rr, timeslice: 1, tasks: [taskSpec("A", state: .running), taskSpec("B")])
        let a = sys.task(named: "A")!, b = sys.task(named: "B")!
        #expect(a.cr3 != b.cr3)
        #expect(a.kernelStackTop != b.kernelStackTop)
        #expect(sys.machine.cpu.cr3 == a.cr3)
        let esp0Offset = mode == .ia32 ? TSS32.esp0 : TSS64.rsp(0)
        let width = mode == .ia32 ? 4 : 8
        #expect(sys.machine.tssRead(offset: esp0Offset, size: width) == a.kernelStackTop)
        let userRegsOfA = sys.machine.cpu.gpr
        let o = sys.run(.timer(1), as: nil)
        #expect(o.switches == [SwitchRecord(from: "A", to: "B", reason: "timer")])
        #expect(traceContains(sys, o, ["user A", "gate 0x20", "kernel A", "schedule", "switch A -> B", "tlb flush cr3", "kernel B", "iret", "user B"]))
        #expect(sys.machine.cpu.cr3 == b.cr3)
        #expect(sys.machine.tssRead(offset: esp0Offset, size: width) == b.kernelStackTop)
        #expect(sys.machine.taskName == "B")
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.rip == b.userContext.rip)
        // A's registers are in A's task_struct; the next switch brings them back.
        #expect(sys.task(named: "A")!.kernelContext != nil)
        _ = sys.run(.timer(1), as: nil)
        #expect(sys.currentTaskName == "A")
        #expect(sys.machine.cpu.gpr == userRegsOfA)
        #expect(sys.machine.cpu.rip == a.userContext.rip)
        #expect(sys.machine.cpu.cr3 == a.cr3)
    }

    @Test func explicitScheduleKeepsTheCurrentTask() throws {
        var sys = try makeSystem(.x86_64, policy: .rr, tasks: [taskSpec("A", state: .running), taskSpec("B")])
        let o = sys.run(.schedule, as: nil)
        #expect(o.switches.isEmpty)
        #expect(sys.currentTaskName == "A")
        #expect(sys.machine.cpu.cpl == 3)
    }

    @Test func explicitSchedulePicksAHigherPriority() throws {
        var sys = try makeSystem(.x86_64, policy: .priority, tasks: [taskSpec("A", state: .running, priority: 1), taskSpec("B", priority: 2)])
        let o = sys.run(.schedule, as: nil)
        #expect(o.switches.map(\.to) == ["B"])
        #expect(sys.machine.cpu.cpl == 3)
        _ = sys.run(.exit(code: 0), as: "B")
        #expect(sys.currentTaskName == "A")
        #expect(sys.machine.cpu.cpl == 3)
        #expect(sys.machine.cpu.cs.selector == 0x33)
    }
}

@Suite struct KernelStackTests {
    @Test(arguments: [MachineMode.ia32, .x86_64])
    func stacksAreInTheDirectMapAndLeadToTheirTask(mode: MachineMode) throws {
        var sys = try makeSystem(mode, tasks: [taskSpec("a", state: .running), taskSpec("b")])
        let l = LinuxLayout(mode: mode)
        for name in ["a", "b"] {
            let t = sys.task(named: name)!
            #expect(t.kernelStackBase % l.threadSize == 0)
            #expect(t.kernelStackBase >= l.directMapBase && t.kernelStackBase < l.directMapBase + 0x400_0000)
            #expect(sys.taskOwningKernelStack(t.kernelStackTop - 8) == name)
        }
        _ = sys.call(mode == .ia32 ? .int80 : .syscall, "fork")
        let child = sys.task(named: "a-child")!
        #expect(sys.taskOwningKernelStack(child.kernelStackTop - 0x100) == "a-child")
        // In the idle task the CPU's own stack pointer leads to `idle`.
        _ = sys.run(.exit(code: 0), as: "a")
        _ = sys.run(.exit(code: 0), as: "b")
        _ = sys.run(.exit(code: 0), as: "a-child")
        #expect(sys.currentTaskName == "idle")
        #expect(sys.taskOwningKernelStack(sys.machine.cpu[.rsp]) == "idle")
    }

    @Test func ia32WithoutPSEUsesTheStackArea() throws {
        var sys = try makeSystem(.ia32, tasks: [taskSpec("a", state: .running), taskSpec("b")]) { m, _ in m.cr4 = FlagEdit(clear: CR4.pse) }
        let a = sys.task(named: "a")!
        #expect(a.kernelStackBase >= LinuxLayout(mode: .ia32).kernelStackArea)
        #expect(sys.taskOwningKernelStack(a.kernelStackTop - 4) == "a")
        #expect(sys.run(.timer(3), as: nil).switches.map(\.to) == ["b"])
    }
}
