// A wait4 woken by a child's exit reaps when the waiter runs again (kernel/exit.c do_wait: the wake-up
// only ends the sleep; after schedule() the waiter scans its children list, in fork order, and reaps
// the first zombie). Until then the zombie exists (kill finds it), and an older child that exits in
// the meantime is the one reaped.
import Testing
@testable import Machine

@Suite struct DeferredReapTests {
    struct Entry: Sendable, CustomStringConvertible {
        let mode: MachineMode
        let via: SyscallEntryKind
        var description: String { "\(mode) \(via)" }
    }
    static let entries = [Entry(mode: .x86_64, via: .syscall), Entry(mode: .ia32, via: .int80), Entry(mode: .ia32, via: .sysenter)]

    static func minus(_ v: Int64) -> SyscallArgument { .number(UInt64(bitPattern: v)) }

    /// P waits; its child K exits while X is ahead of P in the fifo queue: kill(K, 0) from X still finds
    /// the zombie (0); once P has run and returned K's pid, K is gone (-ESRCH).
    @Test(arguments: entries)
    func zombieStaysUntilTheWaiterRuns(_ e: Entry) throws {
        var sys = try makeSystem(e.mode, policy: .fifo, tasks: [taskSpec("P", state: .running), taskSpec("K", parent: "P"), taskSpec("X")])
        let w = sys.call(e.via, "wait4", [Self.minus(-1), .number(0), .number(0), .number(0)])
        #expect(w.switches == [SwitchRecord(from: "P", to: "K", reason: "blocking")])
        _ = sys.call(e.via, "sched_yield")      // K -> X
        _ = sys.call(e.via, "sched_yield")      // X -> K
        let x = sys.run(.exit(code: 6), as: "K")
        #expect(x.switches == [SwitchRecord(from: "K", to: "X", reason: "exit")])
        #expect(sys.taskState("P") == .ready)
        #expect(sys.call(e.via, "kill", [.number(2), .number(0)]).returns == 0)
        let y = sys.call(e.via, "sched_yield")  // X -> P
        #expect(y.switches == [SwitchRecord(from: "X", to: "P", reason: "yield")])
        #expect(sys.machine.cpu[.rax] & 0xFFFF_FFFF == 2)
        #expect(sys.call(e.via, "kill", [.number(2), .number(0)]).returns == -3)
    }

    /// P forks A then B and waits for any child; B exits first (waking P), then A, before P runs:
    /// P's wait4 returns A's pid (the first zombie of its children list); the next returns B's.
    @Test(arguments: entries)
    func theWaiterReapsTheOldestZombie(_ e: Entry) throws {
        var sys = try makeSystem(e.mode, policy: .fifo, tasks: [taskSpec("P", state: .running)])
        #expect(sys.call(e.via, "fork", childName: "A").returns == 2)
        #expect(sys.call(e.via, "fork", childName: "B").returns == 3)
        _ = sys.call(e.via, "wait4", [Self.minus(-1), .number(0), .number(0), .number(0)])  // P -> A
        _ = sys.call(e.via, "sched_yield")                                                  // A -> B
        _ = sys.run(.exit(code: 2), as: "B")                                                // B -> A
        let a = sys.run(.exit(code: 1), as: "A")                                            // A -> P
        #expect(a.switches == [SwitchRecord(from: "A", to: "P", reason: "exit")])
        #expect(a.returns == 2)
        #expect(sys.call(e.via, "wait4", [Self.minus(-1), .number(0), .number(0), .number(0)]).returns == 3)
    }

    /// A waiter woken by its child's exit and killed before it ran: do_wait reaps first, so the child
    /// is released rather than handed to init, which would find it with its own wait4.
    @Test func killedWaiterStillReleasesTheChild() throws {
        var sys = try makeSystem(.x86_64, policy: .fifo, tasks: [
            taskSpec("init", state: .running), taskSpec("P", parent: "init"), taskSpec("K", parent: "P"), taskSpec("X")])
        _ = sys.call(.syscall, "sched_yield")   // init -> P
        _ = sys.call(.syscall, "wait4", [Self.minus(-1), .number(0), .number(0), .number(0)])  // P -> K
        _ = sys.run(.exit(code: 0), as: "K")    // K -> X; P woken
        #expect(sys.call(.syscall, "kill", [.number(2), .number(9)]).returns == 0)  // X kills P
        #expect(sys.call(.syscall, "kill", [.number(3), .number(0)]).returns == -3)  // K was released
        _ = sys.call(.syscall, "sched_yield")   // X -> init
        #expect(sys.call(.syscall, "wait4", [Self.minus(-1), .number(0), .number(1), .number(0)]).returns == 2)
        #expect(sys.call(.syscall, "wait4", [Self.minus(-1), .number(0), .number(1), .number(0)]).returns == -10)
    }
}
