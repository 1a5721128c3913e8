// cfs placement against Linux's cfs_rq->min_vruntime (kernel/sched/fair.c update_min_vruntime, place_entity):
// the smallest vruntime of the queue and the current task, never going back. Two cases the queue alone got wrong:
// - while the idle task runs nothing is runnable, but min_vruntime keeps its last value, so a task woken then does
//   not keep the old vruntime it slept with (it would "catch up" for as long as it slept);
// - a parent woken by its child's exit: exit_notify wakes it before do_task_dead's __schedule() dequeues the
//   child, so the child, still cfs_rq->curr, counts.
import Testing
@testable import Machine

@Suite struct CFSMinVruntimeTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let testDescription: String
        let mode: MachineMode
        /// The task whose vruntime is checked after the steps, and its expected value in nice-0 ticks.
        let woken: String
        let vruntime: Double
    }

    static let cases: [Case] = [
        Case(testDescription: "woken while idle runs, ia32", mode: .ia32, woken: "B", vruntime: 10),
        Case(testDescription: "woken while idle runs, x86_64", mode: .x86_64, woken: "B", vruntime: 10),
        Case(testDescription: "parent woken by its child's exit, ia32", mode: .ia32, woken: "P", vruntime: 2),
        Case(testDescription: "parent woken by its child's exit, x86_64", mode: .x86_64, woken: "P", vruntime: 2),
    ]

    @Test(arguments: cases)
    func wokenTaskIsPlacedAtMinVruntime(_ c: Case) throws {
        var sys: System
        var placed = -1.0
        if c.woken == "B" {
            // A runs 10 ticks alone (vruntime 10) and sleeps: idle runs. B, blocked from the start at 0, wakes.
            sys = try makeSystem(c.mode, policy: .cfs, tasks: [taskSpec("A", state: .running), taskSpec("B", state: .blocked)])
            _ = sys.run(.timer(10), as: nil)
            let sleep = sys.call(c.mode == .ia32 ? .int80 : .syscall, "nanosleep", [.number(5), .number(0)])
            #expect(sleep.switches == [SwitchRecord(from: "A", to: "idle", reason: "blocking")])
            let w = sys.run(.irq(vector: 0x21, wakes: "B"), as: nil)
            #expect(w.switches == [SwitchRecord(from: "idle", to: "B", reason: "wakeup")])
            placed = try #require(sys.task(named: "B")).vruntime.ticks
            // A wakes after 5 ticks at max(10, 15) = 15; B (16) is not more than one tick ahead, at 17 it is.
            _ = sys.run(.timer(6), as: nil)
            #expect(sys.currentTaskName == "B")
            let t = sys.run(.timer(1), as: nil)
            #expect(t.switches == [SwitchRecord(from: "B", to: "A", reason: "timer")])
        } else {
            // P (pid 4) waits: A (pid 2) runs 2 ticks, Q (pid 3) 4 ticks, A is back at 2 with Q at 4; A exits.
            var p = taskSpec("P", state: .running), a = taskSpec("A", parent: "P"), q = taskSpec("Q")
            p.pid = 4; a.pid = 2; q.pid = 3
            sys = try makeSystem(c.mode, policy: .cfs, tasks: [p, a, q])
            _ = sys.run(.wait(pid: -1), as: nil)
            _ = sys.run(.timer(2), as: nil)
            _ = sys.run(.timer(4), as: nil)
            #expect(sys.currentTaskName == "A")
            let e = sys.run(.exit(code: 0), as: nil)
            // P at min(A 2, Q 4) = 2 runs before Q; placed against Q alone it would tie at 4 and lose to pid 3.
            #expect(e.switches == [SwitchRecord(from: "A", to: "P", reason: "exit")])
            placed = try #require(sys.task(named: "P")).vruntime.ticks
        }
        #expect(abs(placed - c.vruntime) < 1e-9)
    }
}
