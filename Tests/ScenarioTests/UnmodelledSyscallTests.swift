// Linux's process, scheduling, signal and file-descriptor calls that the model does not implement are refused as not modelled,
// by number (a step error naming the call and why) and by name (an error at the `nr`), instead of -ENOSYS:
// Linux has them (arch/x86/entry/syscalls/syscall_{32,64}.tbl), so -ENOSYS was a guess a real kernel
// contradicts. A number Linux does not have still returns -ENOSYS.
@testable import Scenario
import Testing

@Suite struct UnmodelledSyscallTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var via: String
        var number: Int
        var name: String
        var testDescription: String { "\(via) \(number) \(name)" }
    }

    static let cases: [Case] = [
        Case(via: "syscall", number: 144, name: "sched_setscheduler"),
        Case(via: "syscall", number: 141, name: "setpriority"),
        Case(via: "syscall", number: 13, name: "rt_sigaction"),
        Case(via: "syscall", number: 109, name: "setpgid"),
        Case(via: "syscall", number: 186, name: "gettid"),
        Case(via: "syscall", number: 247, name: "waitid"),
        Case(via: "int80", number: 34, name: "nice"),
        Case(via: "int80", number: 156, name: "sched_setscheduler"),
        Case(via: "int80", number: 48, name: "signal"),
        Case(via: "int80", number: 190, name: "vfork"),
        // The signal calls other than kill and pause, and ptrace: Linux has them (they were -ENOSYS).
        Case(via: "syscall", number: 127, name: "rt_sigpending"),
        Case(via: "syscall", number: 128, name: "rt_sigtimedwait"),
        Case(via: "syscall", number: 129, name: "rt_sigqueueinfo"),
        Case(via: "syscall", number: 131, name: "sigaltstack"),
        Case(via: "syscall", number: 282, name: "signalfd"),
        Case(via: "syscall", number: 289, name: "signalfd4"),
        Case(via: "syscall", number: 297, name: "rt_tgsigqueueinfo"),
        Case(via: "syscall", number: 101, name: "ptrace"),
        Case(via: "syscall", number: 438, name: "pidfd_getfd"),
        Case(via: "int80", number: 26, name: "ptrace"),
        Case(via: "int80", number: 68, name: "sgetmask"),
        Case(via: "int80", number: 69, name: "ssetmask"),
        Case(via: "int80", number: 73, name: "sigpending"),
        Case(via: "int80", number: 176, name: "rt_sigpending"),
        Case(via: "int80", number: 177, name: "rt_sigtimedwait"),
        Case(via: "int80", number: 178, name: "rt_sigqueueinfo"),
        Case(via: "int80", number: 186, name: "sigaltstack"),
        Case(via: "int80", number: 321, name: "signalfd"),
        Case(via: "int80", number: 327, name: "signalfd4"),
        Case(via: "int80", number: 335, name: "rt_tgsigqueueinfo"),
        Case(via: "int80", number: 438, name: "pidfd_getfd"),
        // The file and descriptor calls beside open/read/write/close/dup/dup2 (they were -ENOSYS, which Linux's
        // lseek, pipe, fcntl, openat ... never answer).
        Case(via: "syscall", number: 8, name: "lseek"),
        Case(via: "syscall", number: 22, name: "pipe"),
        Case(via: "syscall", number: 72, name: "fcntl"),
        Case(via: "syscall", number: 257, name: "openat"),
        Case(via: "syscall", number: 292, name: "dup3"),
        Case(via: "syscall", number: 5, name: "fstat"),
        Case(via: "syscall", number: 20, name: "writev"),
        Case(via: "syscall", number: 436, name: "close_range"),
        Case(via: "int80", number: 19, name: "lseek"),
        Case(via: "int80", number: 140, name: "_llseek"),
        Case(via: "int80", number: 42, name: "pipe"),
        Case(via: "int80", number: 221, name: "fcntl64"),
        Case(via: "int80", number: 295, name: "openat"),
        Case(via: "int80", number: 330, name: "dup3"),
        Case(via: "int80", number: 18, name: "oldstat"),
        Case(via: "int80", number: 197, name: "fstat64"),
        Case(via: "int80", number: 8, name: "creat"),
    ]

    func yaml(_ c: Case, nr: String) -> String {
        "scenario: u\nmachine: {mode: \(c.via == "syscall" ? "x86_64" : "ia32")}\nsteps:\n  - syscall: {via: \(c.via), nr: \(nr)}\n    expect: {returns: 0}\n"
    }

    @Test(arguments: cases)
    func byNumberIsRefused(_ c: Case) {
        let outcome = runText(yaml(c, nr: "\(c.number)"))
        guard case let .failed(fs) = outcome else {
            Issue.record("expected a refused step, got \(outcome)")
            return
        }
        let table = c.via == "syscall" ? "x86_64" : "i386"
        #expect(fs.contains { $0.actual.contains("not modelled: \(c.name) (\(table) \(c.number))") }, "\(fs)")
    }

    @Test(arguments: cases)
    func byNameIsAnError(_ c: Case) {
        let outcome = runText(yaml(c, nr: c.name))
        guard case let .invalid(ds) = outcome else {
            Issue.record("expected an invalid scenario, got \(outcome)")
            return
        }
        #expect(ds.contains { $0.message.hasPrefix("not modelled: \(c.name)") && $0.location?.line == 4 }, "\(ds.map(\.description))")
    }

    @Test(arguments: ["sched_setscheduler", "nice", "sigaction", "gettid"])
    func inKernelSyscallsIsNotModelledNotUnknown(_ name: String) {
        let outcome = runText("scenario: u\nmachine: {mode: ia32}\nkernel: {syscalls: [write, \(name)]}\nsteps:\n  - timer: 1\n    expect: {switch: none}\n")
        guard case let .invalid(ds) = outcome else {
            Issue.record("expected an invalid scenario, got \(outcome)")
            return
        }
        #expect(ds.contains { $0.message.hasPrefix("kernel.syscalls: not modelled: \(name) (") && $0.location?.line == 3 }, "\(ds.map(\.description))")
    }

    @Test(arguments: ["syscall", "int80"])
    func numberLinuxDoesNotHaveIsENOSYS(_ via: String) {
        let c = Case(via: via, number: 999, name: "")
        let outcome = runText(yaml(c, nr: "999").replacingOccurrences(of: "returns: 0", with: "returns: -ENOSYS"))
        #expect(outcome.isPassed, "\(outcome)")
    }
}
