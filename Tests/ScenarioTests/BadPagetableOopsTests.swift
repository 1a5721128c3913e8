// A #PF with RSVD on a user-space address is a corrupted page table to Linux: do_user_addr_fault calls
// pgtable_bad ("Bad pagetable", arch/x86/mm/fault.c), an oops that kills the task with SIGKILL whether the
// access came from user or kernel mode. It was a catchable SIGSEGV from user mode. A kernel-space address
// goes through do_kern_addr_fault, where a user-mode fault stays SIGSEGV. docs/kernel-model.md, Exceptions.

@testable import Scenario
import Testing

@Suite struct BadPagetableOopsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var machine: String
        var virt: String
        var cpl: Int
        var code: Int
        var signal: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "x86_64 user read, user address", machine: "{mode: x86_64}", virt: "0x600000", cpl: 3, code: 0xd, signal: "SIGKILL"),
        Case(name: "x86_64 kernel read, user address", machine: "{mode: x86_64}", virt: "0x600000", cpl: 0, code: 0x9, signal: "SIGKILL"),
        Case(name: "ia32 PAE user read, user address", machine: "{mode: ia32, paging: pae}", virt: "0x40000000", cpl: 3, code: 0xd, signal: "SIGKILL"),
        Case(name: "ia32 32-bit paging 4 MiB page, user read", machine: "{mode: ia32}", virt: "0x40000000", cpl: 3, code: 0xd, signal: "SIGKILL"),
        Case(name: "x86_64 user read, kernel address: do_kern_addr_fault", machine: "{mode: x86_64}", virt: "0xffffc90000000000", cpl: 3, code: 0xd, signal: "SIGSEGV"),
        Case(name: "x86_64 user read, last page below 2^47 (TASK_SIZE_MAX): do_kern_addr_fault", machine: "{mode: x86_64}",
             virt: "0x7ffffffff000", cpl: 3, code: 0xd, signal: "SIGSEGV"),
        Case(name: "x86_64 user read, the page below it", machine: "{mode: x86_64}", virt: "0x7fffffffe000", cpl: 3, code: 0xd, signal: "SIGKILL"),
    ]

    @Test(arguments: cases)
    func reservedBitFault(_ c: Case) {
        let size = c.machine == "{mode: ia32}" ? ", size: 4m" : ""
        let user = c.virt.hasPrefix("0xffff8") || c.virt.hasPrefix("0xffffc") ? "" : ", user: true"
        let cplKey = c.cpl == 0 ? ", cpl: 0" : ""
        let r = runScenarioText("""
        scenario: rsvd
        machine: \(c.machine)
        processes:
          - name: A
            pages:
              - {virt: \(c.virt), phys: 0x800000\(size)\(user), reserved: true}
          - name: B
            state: ready
        steps:
          - access: {op: read, addr: \(c.virt)\(cplKey)}
            expect:
              faults: [{vector: PF, error_code: 0x\(String(c.code, radix: 16)), cr2: \(c.virt)}]
              signal: \(c.signal)
              switch: {from: A, to: B}
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.name): \(String(describing: r.first?.outcome))")
            return
        }
    }
}

/// do_user_addr_fault oopses before its VMA lookup for a kernel instruction fetch from a user address (I/D set,
/// U/S clear) and, with SMAP, for a supervisor access with EFLAGS.AC=0 (arch/x86/mm/fault.c): the not-present
/// page of a VMA that allows the access is not demand paged, so the step has one #PF and the task dies with
/// SIGKILL. The model demand paged it and faulted again (two #PF). Without SMAP, or with AC=1, it is paged in.
@Suite struct KernelFaultBeforeVMALookupTests {
    @Test(arguments: [
        ("{mode: x86_64, cr4: {smap: true}}", "read", false, "[{vector: PF, error_code: 0x0, cr2: 0x600000}]", "SIGKILL"),
        ("{mode: x86_64, cr4: {smap: true}}", "read", true, "[{vector: PF, error_code: 0x0, cr2: 0x600000}]", "none"),
        ("{mode: x86_64}", "read", false, "[{vector: PF, error_code: 0x0, cr2: 0x600000}]", "none"),
        ("{mode: ia32, cr4: {smap: true}}", "write", false, "[{vector: PF, error_code: 0x2, cr2: 0x600000}]", "SIGKILL"),
        ("{mode: x86_64}", "fetch", false, "[{vector: PF, error_code: 0x10, cr2: 0x600000}]", "SIGKILL"),
    ])
    func kernelFaultOnUserPage(_ machine: String, _ op: String, _ ac: Bool, _ faults: String, _ signal: String) {
        let r = runScenarioText("""
        scenario: kfault
        machine: \(machine)
        processes:
          - name: A
            context: {rflags: {ac: \(ac)}}
            memory:
              - {segment: data, start: 0x600000, pages: 1, perm: "rwx"}
          - name: B
            state: ready
        steps:
          - access: {op: \(op), addr: 0x600000, cpl: 0}
            expect:
              faults: \(faults)
              signal: \(signal)
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(machine) \(op) ac=\(ac): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
