// Sleepers whose timeouts end on the same tick join the run queue in the order their sleeps began,
// not in the order the tasks were created: Linux's nanosleep is an hrtimer, and hrtimers expire in
// order of their deadlines (kernel/time/hrtimer.c __hrtimer_run_queues; lib/timerqueue.c queues an
// equal deadline after the ones already there). Found by scenarios/kernel/blind-sched-4.yaml.
import Testing
@testable import Machine

@Suite struct SleeperWakeOrderTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let mode: MachineMode
        /// (task, ticks) in the order the tasks call nanosleep; every sleep ends on the same tick.
        let sleeps: [(String, UInt64)]
        /// Ticks between the first and the second sleep.
        let gap: Int
        var testDescription: String { "\(mode) \(sleeps.map { "\($0.0):\($0.1)" }) gap \(gap)" }
    }

    static let cases: [Case] = [
        // Created A, B; B sleeps first: B wakes first.
        Case(mode: .x86_64, sleeps: [("B", 2), ("A", 2)], gap: 0),
        Case(mode: .ia32, sleeps: [("B", 2), ("A", 2)], gap: 0),
        // B sleeps 3 ticks, one tick later A sleeps 2: both end on tick 3; B's sleep began first.
        Case(mode: .x86_64, sleeps: [("B", 3), ("A", 2)], gap: 1),
        // In creation order anyway: A first.
        Case(mode: .ia32, sleeps: [("A", 2), ("B", 2)], gap: 0),
    ]

    @Test(arguments: cases)
    func sameTickSleepersWakeInTheOrderTheirSleepsBegan(c: Case) throws {
        let via: SyscallEntryKind = c.mode == .ia32 ? .int80 : .syscall
        var sys = try makeSystem(c.mode, policy: .fifo,
                                 tasks: [taskSpec("A"), taskSpec("B"), taskSpec("R")])
        // Run the first sleeper, then the second, then leave R running.
        let first = c.sleeps[0].0, second = c.sleeps[1].0
        if sys.currentTaskName != first { _ = sys.call(via, "sched_yield") }
        if sys.currentTaskName != first { _ = sys.call(via, "sched_yield") }
        #expect(sys.currentTaskName == first)
        _ = sys.call(via, "nanosleep", [.number(c.sleeps[0].1), .number(0)])
        if c.gap > 0 { _ = sys.run(.timer(c.gap), as: nil) }
        for _ in 0..<3 where sys.currentTaskName != second { _ = sys.call(via, "sched_yield") }
        #expect(sys.currentTaskName == second)
        _ = sys.call(via, "nanosleep", [.number(c.sleeps[1].1), .number(0)])
        #expect(sys.currentTaskName == "R")
        _ = sys.run(.timer(Int(c.sleeps[1].1)), as: nil)
        #expect(sys.task(named: "A")?.state == .ready)
        #expect(sys.task(named: "B")?.state == .ready)
        // R leaves the CPU: the sleeper whose sleep began first runs, then the other.
        #expect(sys.call(via, "pause").switches.map(\.to) == [first])
        #expect(sys.call(via, "pause").switches.map(\.to) == [second])
    }
}
