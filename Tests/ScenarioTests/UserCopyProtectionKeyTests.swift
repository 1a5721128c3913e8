// The kernel's copy_from_user/copy_to_user are supervisor data accesses to user pages, which protection keys
// govern (PG-10, Intel SDM Vol. 3A §4.6.2): PKRU.AD refuses them, PKRU.WD refuses a copy_to_user when CR0.WP = 1.
// Linux's access_error (arch/x86/mm/fault.c) treats X86_PF_PK as an unconditional error, so the copy ends in
// the fix-up: -EFAULT, or the bytes copied before the refused page. The model copied through the key.

@testable import Scenario
import Testing

@Suite struct UserCopyProtectionKeyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var pkru: UInt32
        var wp: Bool
        var nr: String
        var args: String
        var returns: Int
        /// The kernel's own handled faults (demand paging of a VMA page) the step raises.
        var faults = "none"
        var testDescription: String { name }
    }

    // 0x600000: key 0; 0x601000: key 1. stdin holds "abcd".
    static let cases: [Case] = [
        Case(name: "AD1: write(1) reads the buffer: -EFAULT", pkru: 0x4, wp: true, nr: "write", args: "[1, 0x601000, 4]", returns: -14),
        Case(name: "AD1: read(0) writes the buffer: -EFAULT", pkru: 0x4, wp: true, nr: "read", args: "[0, 0x601000, 4]", returns: -14),
        Case(name: "AD1: a key-0 buffer is not concerned", pkru: 0x4, wp: true, nr: "read", args: "[0, 0x600000, 4]", returns: 4),
        Case(name: "AD1: read(0) across into the key-1 page copies the first 2 bytes", pkru: 0x4, wp: true, nr: "read", args: "[0, 0x600ffe, 4]", returns: 2),
        Case(name: "AD1: a terminal write chunk that cannot be read whole: -EFAULT", pkru: 0x4, wp: true, nr: "write", args: "[1, 0x600ffe, 4]", returns: -14),
        Case(name: "WD1: write(1) only reads: allowed", pkru: 0x8, wp: true, nr: "write", args: "[1, 0x601000, 4]", returns: 4),
        Case(name: "WD1 with CR0.WP=1: read(0) -EFAULT", pkru: 0x8, wp: true, nr: "read", args: "[0, 0x601000, 4]", returns: -14),
        Case(name: "WD1 with CR0.WP=0: supervisor writes ignore WD", pkru: 0x8, wp: false, nr: "read", args: "[0, 0x601000, 4]", returns: 4),
        Case(name: "AD0: demand-paged key-0 page of a VMA still refused", pkru: 0x1, wp: true, nr: "read", args: "[0, 0x602000, 4]", returns: -14, faults: "[{vector: PF, error_code: 0x2, cr2: 0x602000}]"),
    ]

    @Test(arguments: cases)
    func kernelCopyHonoursPKRU(_ c: Case) {
        let r = runScenarioText("""
        scenario: pk-copy
        machine: {mode: x86_64, cr4: {pke: true}, pkru: \(c.pkru), cr0: {wp: \(c.wp)}}
        kernel: {stdin: "abcd"}
        processes:
          - name: A
            memory:
              - {segment: text, start: 0x400000, pages: 1, perm: "r-x", populate: true}
              - {segment: data, start: 0x602000, pages: 1, perm: "rw-"}
              - {segment: stack, start: 0x7fffffffd000, pages: 2, perm: "rw-", populate: true}
            pages:
              - {virt: 0x600000, user: true, writable: true}
              - {virt: 0x601000, user: true, writable: true, pkey: 1}
            context: {rip: 0x400000, rsp: 0x7fffffffeff0}
        steps:
          - syscall: {via: syscall, nr: \(c.nr), args: \(c.args)}
            expect: {returns: \(c.returns), signal: none, faults: \(c.faults)}
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.name): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
