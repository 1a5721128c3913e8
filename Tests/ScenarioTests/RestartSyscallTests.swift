// restart_syscall (i386 0, x86_64 219): with no interrupted call to restart, Linux's restart_block.fn is
// do_no_restart_syscall, which returns -EINTR (kernel/signal.c). An `int 0x80` with EAX = 0, the register's
// value when a scenario sets nothing, used to be -ENOSYS (an unknown number).

@testable import Scenario
import Testing

@Suite struct RestartSyscallTests {
    @Test(arguments: [("ia32", "exec: \"int 0x80\"", "{eax: -4}"),
                      ("ia32", "syscall: {via: sysenter, nr: 0}", "{eax: 0xfffffffc}"),
                      ("x86_64", "syscall: {via: syscall, nr: restart_syscall}", "{rax: -4}"),
                      ("x86_64", "syscall: {via: int80, nr: restart_syscall}", "{rax: -4}")])
    func restartWithNothingToRestartIsEINTR(_ mode: String, _ step: String, _ regs: String) {
        let r = runScenarioText("""
        scenario: restart
        machine: {mode: \(mode)}
        steps:
          - \(step)
            expect: {regs: \(regs), faults: none}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(mode) \(step): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
