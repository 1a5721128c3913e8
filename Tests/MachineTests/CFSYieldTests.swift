// cfs sched_yield: the yielder is a ready task, and the smallest vruntime runs; it gives way on a tie.
// Linux: kernel/sched/fair.c yield_task_fair (skip buddy), pick_next_entity / wakeup_preempt_entity.
// Found by scenarios/kernel/blind-sched-4.yaml (bs4-cfs-yield-when-smallest-runs-again).
import Testing
@testable import Machine

@Suite struct CFSYieldTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let mode: MachineMode
        /// Ticks the yielder B runs after A's first two (B starts at 0, A is at 2).
        let ticksBeforeYield: Int
        /// The task running after B's yield.
        let after: String
        var testDescription: String { "\(mode) B at \(ticksBeforeYield) vs A at 2 -> \(after)" }
    }

    static let cases: [Case] = [
        Case(mode: .x86_64, ticksBeforeYield: 0, after: "B"),   // 0 < 2: B is the smallest, runs again
        Case(mode: .ia32, ticksBeforeYield: 1, after: "B"),     // 1 < 2
        Case(mode: .x86_64, ticksBeforeYield: 2, after: "A"),   // 2 == 2: the yielder gives way
        Case(mode: .ia32, ticksBeforeYield: 2, after: "A"),
    ]

    @Test(arguments: cases)
    func yielderRunsAgainOnlyWhenStrictlySmallest(c: Case) throws {
        let via: SyscallEntryKind = c.mode == .ia32 ? .int80 : .syscall
        var sys = try makeSystem(c.mode, policy: .cfs, tasks: [taskSpec("A", state: .running), taskSpec("B")])
        _ = sys.run(.timer(2), as: nil)
        #expect(sys.currentTaskName == "B")
        if c.ticksBeforeYield > 0 { _ = sys.run(.timer(c.ticksBeforeYield), as: nil) }
        #expect(sys.currentTaskName == "B")
        let y = sys.call(via, "sched_yield")
        #expect(sys.currentTaskName == c.after)
        #expect(y.switches == (c.after == "B" ? [] : [SwitchRecord(from: "B", to: "A", reason: "yield")]))
    }
}
