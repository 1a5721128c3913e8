// Scheduling-rule cases found while writing the scenarios of issue 5, each derived from the
// scheduling rules of shared/spec/scenario-format.md.
import Testing
@testable import Machine

@Suite struct SchedulerRuleTests {
    /// priority: a task whose slice ends in the same tick that wakes a more important task has no
    /// "rest of its slice" to keep: it goes to the tail of its level (round robin with timeslice),
    /// so the next task of that level runs after the woken one blocks.
    @Test func prioritySliceEndAndWakeupInTheSameTick() throws {
        var sys = try makeSystem(.x86_64, policy: .priority, timeslice: 3,
                                 tasks: [taskSpec("hi", state: .running, priority: 5), taskSpec("lo", priority: 1),
                                         taskSpec("lo2", priority: 1)])
        #expect(sys.call(.syscall, "nanosleep", [.number(3), .number(0)]).switches.map(\.to) == ["lo"])
        _ = sys.run(.timer(2), as: nil)
        #expect(sys.currentTaskName == "lo")
        // Tick 3: lo's slice (3) is used up and hi's timeout ends.
        #expect(sys.run(.timer(1), as: nil).switches.map(\.to) == ["hi"])
        let s = sys.call(.syscall, "nanosleep", [.number(30), .number(0)])
        #expect(s.switches == [SwitchRecord(from: "hi", to: "lo2", reason: "blocking")])
    }
}

@Suite struct BrkRuleTests {
    /// brk below the current break shrinks the heap: the pages above the new break are unmapped
    /// (Linux: brk -> do_munmap), so touching them again is a fault outside any VMA -> SIGSEGV.
    @Test func shrinkingTheHeapUnmapsItsPages() throws {
        let text = VMASpec(segment: .text, start: 0x0804_8000, size: 0x1000, read: true, write: false, execute: true, populate: true)
        var t = taskSpec("app", state: .running)
        t.memory = [text]
        var sys = try makeSystem(.ia32, tasks: [t])
        #expect(sys.call(.int80, "brk", [.number(0x0804_b000)]).returns == 0x0804_b000)
        #expect(sys.run(.access(kind: .write, address: 0x0804_a000, size: 4, cpl: nil, implicit: false), as: nil).signal == nil)
        #expect(sys.call(.int80, "brk", [.number(0x0804_a000)]).returns == 0x0804_a000)
        let o = sys.run(.access(kind: .write, address: 0x0804_a000, size: 4, cpl: nil, implicit: false), as: nil)
        #expect(o.faults.map(\.vector) == [.PF])
        #expect(o.signal == "SIGSEGV")
    }
}
