// wait4/waitpid and kill take pid_t and int arguments: only the low 32 bits of the register count,
// sign-extended (x86_64 too), and wait4 refuses option bits it does not know with -EINVAL before
// looking for children (Linux's kernel_wait4: WNOHANG, WUNTRACED, WCONTINUED, __WNOTHREAD, __WCLONE,
// __WALL; WEXITED and WNOWAIT are waitid's). Each case failed before: the engine used the whole
// 64-bit register (no such pid: -ESRCH / -ECHILD) and ignored unknown options.

@testable import Scenario
import Testing

@Suite struct WaitKillArgumentTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var mode = "x86_64"
        var steps: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "kill: pid 0x1_0000_0002 is pid 2", steps: """
          - syscall: {via: syscall, nr: kill, args: [0x100000002, 15]}
            expect: {returns: 0, signal: SIGTERM, states: {B: zombie}}
        """),
        Case(name: "kill: signal 0x1_0000_000f is SIGTERM", steps: """
          - syscall: {via: syscall, nr: kill, args: [2, 0x10000000f]}
            expect: {returns: 0, signal: SIGTERM}
        """),
        Case(name: "wait4: pid 0xffff_ffff is -1 (any child)", steps: """
          - syscall: {via: syscall, nr: kill, args: [2, 9]}
          - syscall: {via: syscall, nr: wait4, args: [0xffffffff, 0, 0, 0]}
            expect: {returns: 2}
        """),
        Case(name: "wait4: WEXITED (4) is not a wait4 option", steps: """
          - syscall: {via: syscall, nr: wait4, args: [-1, 0, 4, 0]}
            expect: {returns: -EINVAL, switch: none}
        """),
        Case(name: "waitpid (i386): WNOWAIT (0x01000000) is not a waitpid option", mode: "ia32", steps: """
          - syscall: {via: int80, nr: waitpid, args: [-1, 0, 0x1000000]}
            expect: {returns: -EINVAL, switch: none}
        """),
        Case(name: "wait4: INT_MIN is -ESRCH", steps: """
          - syscall: {via: syscall, nr: wait4, args: [0x80000000, 0, 0, 0]}
            expect: {returns: -ESRCH, switch: none}
        """),
        Case(name: "wait4: WNOHANG|__WALL with a live child returns 0", steps: """
          - syscall: {via: syscall, nr: wait4, args: [-1, 0, 0x40000001, 0]}
            expect: {returns: 0, switch: none}
        """),
    ]

    @Test(arguments: cases)
    func passes(_ c: Case) {
        let r = runParentAndChild(mode: c.mode, steps: c.steps)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }
}
