// A `syscall` step is the instruction run in the mode the task is in when the step starts, not the mode its
// `bits` gave it at the start: a far return can move a 32-bit task into 64-bit code (CS.L = 1) or a 64-bit
// task into compatibility mode, and Linux then dispatches by the entry the instruction reaches
// (arch/x86/entry/entry_64.S entry_SYSCALL_64 -> do_syscall_64 and the x86_64 table; entry_64_compat.S
// entry_SYSCALL_compat -> the i386 table; int 0x80 -> the i386 table from either mode). The model used to
// set RAX from the task's `bits`, so a 32-bit task that had returned into 64-bit code put getpid's i386
// number (20) in RAX and reached the x86_64 table's slot 20 (-ENOSYS).

@testable import Scenario
import Testing

@Suite struct SyscallModeAfterFarReturnTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var machine: String
        var bits: Int
        /// The far return's target selector (32-bit frame: EIP, CS) and the entry of the `syscall` step.
        var target: String
        var eip: String
        var via: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "32-bit task in 64-bit code: syscall uses the x86_64 table", machine: "{mode: x86_64}", bits: 32,
             target: "0x33", eip: "0x400000", via: "syscall"),
        Case(name: "32-bit task in 64-bit code: int 0x80 uses the i386 table", machine: "{mode: x86_64}", bits: 32,
             target: "0x33", eip: "0x400000", via: "int80"),
        Case(name: "64-bit task in compatibility mode: AMD syscall uses the i386 table", machine: "{mode: x86_64, vendor: amd}",
             bits: 64, target: "0x23", eip: "0x08048000", via: "syscall"),
        Case(name: "64-bit task in compatibility mode: int 0x80 uses the i386 table", machine: "{mode: x86_64}", bits: 64,
             target: "0x23", eip: "0x08048000", via: "int80"),
    ]

    @Test(arguments: cases)
    func getpidAfterFarReturn(_ c: Case) {
        // The frame goes where both modes can address it: a user page below 4 GiB.
        let r = runScenarioText("""
        scenario: r
        machine: \(c.machine)
        kernel: {scheduler: {policy: fifo}}
        processes:
          - name: app
            bits: \(c.bits)
            context: {rsp: 0xffffcf00}
            pages:
              - {virt: 0xffffc000, writable: true, user: true}
        steps:
          - exec: "mov eax, \(c.eip)"
          - exec: "mov [0xffffcf00], eax"
          - exec: "mov eax, \(c.target)"
          - exec: "mov [0xffffcf04], eax"
          - exec: "retfd"
            expect: {fault: none, cpl: 3, regs: {cs: \(c.target)}}
          - syscall: {via: \(c.via), nr: getpid}
            expect: {returns: 1}
        """)
        #expect(r.count == 1)
        #expect(r.first?.outcome.isPassed == true, "\(String(describing: r.first?.outcome))")
    }

    /// `via: sysenter` is a call through the 32-bit vDSO: refused for 64-bit code (a 32-bit task that returned into
    /// it) and for a 64-bit task (no 32-bit vDSO), whatever mode it runs in.
    @Test(arguments: [(32, "0x33", "0x400000"), (64, "0x23", "0x08048000")])
    func sysenterStepRefused(_ bits: Int, _ target: String, _ eip: String) {
        let r = runScenarioText("""
        scenario: r
        machine: {mode: x86_64}
        kernel: {scheduler: {policy: fifo}}
        processes:
          - name: app
            bits: \(bits)
            context: {rsp: 0xffffcf00}
            pages:
              - {virt: 0xffffc000, writable: true, user: true}
        steps:
          - exec: "mov eax, \(eip)"
          - exec: "mov [0xffffcf00], eax"
          - exec: "mov eax, \(target)"
          - exec: "mov [0xffffcf04], eax"
          - exec: "retfd"
          - syscall: {via: sysenter, nr: getpid}
        """)
        #expect(r.count == 1)
        #expect(r.first?.outcome.isPassed == false)
        let text = String(describing: r.first?.outcome)
        #expect(text.contains("`via: sysenter` is the 32-bit vDSO's entry"), "\(text)")
    }
}
