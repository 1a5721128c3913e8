// A system call whose copy_from_user/copy_to_user walks through a paging entry with a reserved bit: the
// kernel's #PF has P|RSVD, and do_user_addr_fault (arch/x86/mm/fault.c) calls pgtable_bad before it looks
// for a fix-up: an oops that kills the task with SIGKILL, not -EFAULT. The model copied through the entry
// and returned the count. Calls that touch no byte (count 0) are not concerned.

@testable import Scenario
import Testing

@Suite struct UserCopyBadPagetableTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var machine: String
        var via: String
        var nr: String
        var args: String
        var virt: String
        /// nil: the call returns this value; otherwise the #PF error code and the task dies.
        var code: Int?
        var returns: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "x86_64 write(1) reads a reserved-bit page: oops", machine: "{mode: x86_64}", via: "syscall", nr: "write",
             args: "[1, 0x600000, 4]", virt: "0x600000", code: 0x9, returns: 0),
        Case(name: "x86_64 read(0) writes a reserved-bit page: oops", machine: "{mode: x86_64}", via: "syscall", nr: "read",
             args: "[0, 0x600000, 4]", virt: "0x600000", code: 0xb, returns: 0),
        Case(name: "ia32 PAE write(1) through int 0x80: oops", machine: "{mode: ia32, paging: pae}", via: "int80", nr: "write",
             args: "[1, 0x40000000, 4]", virt: "0x40000000", code: 0x9, returns: 0),
        Case(name: "write of 0 bytes touches nothing", machine: "{mode: x86_64}", via: "syscall", nr: "write",
             args: "[1, 0x600000, 0]", virt: "0x600000", code: nil, returns: 0),
        Case(name: "read of 0 bytes touches nothing", machine: "{mode: x86_64}", via: "syscall", nr: "read",
             args: "[0, 0x600000, 0]", virt: "0x600000", code: nil, returns: 0),
    ]

    @Test(arguments: cases)
    func copyThroughReservedBitOopses(_ c: Case) {
        let expect = c.code.map {
            "{faults: [{vector: PF, error_code: 0x\(String($0, radix: 16)), cr2: \(c.virt)}], signal: SIGKILL, switch: {from: A, to: B, reason: signal}}"
        } ?? "{returns: \(c.returns), faults: none, signal: none}"
        let r = runScenarioText("""
        scenario: rsvd-copy
        machine: \(c.machine)
        kernel: {stdin: "abcd"}
        processes:
          - name: A
            pages:
              - {virt: \(c.virt), user: true, writable: true, reserved: true}
          - name: B
            state: ready
        steps:
          - syscall: {via: \(c.via), nr: \(c.nr), args: \(c.args)}
            expect: \(expect)
        expect:
          processes: {A: {state: \(c.code == nil ? "running" : "zombie")}}
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.name): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
