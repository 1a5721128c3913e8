// A write to a present, read-only page inside a VMA with `w` is a write-protect fault the kernel resolves
// (access_error lets a write to a VM_WRITE VMA through, handle_mm_fault -> do_wp_page makes the PTE
// writable), not a SIGSEGV as it was. Only when making the leaf writable alone lets the write through: a
// VMA without `w`, a supervisor page for a user write, an upper level with R/W=0, SMAP keep the fault
// (SIGSEGV from user mode, an oops from the kernel: SIGKILL, as page_fault_oops kills). docs/kernel-model.md, Exceptions.

@testable import Scenario
import Testing

@Suite struct WriteProtectFaultTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var machine = "{mode: x86_64}"
        var perm: String? = "rw-"        // the VMA over the page (nil: none)
        var page = "user: true, writable: false"
        var cpl = 3
        var fixed: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "user write, rw- VMA, user read-only page", fixed: true),
        Case(name: "user write, -w- VMA", perm: "-w-", fixed: true),
        Case(name: "user write, rwx VMA", perm: "rwx", fixed: true),
        Case(name: "user write, r-- VMA: the VMA refuses writes", perm: "r--", fixed: false),
        Case(name: "user write, r-x VMA", perm: "r-x", fixed: false),
        Case(name: "user write, no VMA", perm: nil, fixed: false),
        Case(name: "user write to a supervisor page: U/S=0 would still refuse it", page: "user: false, writable: false", fixed: false),
        Case(name: "user write below a PDE with R/W=0", page: "user: true, writable: false, pde: {writable: false}", fixed: false),
        Case(name: "user write below a PDE with U/S=0", page: "user: true, writable: false, pde: {user: false}", fixed: false),
        Case(name: "kernel write (cpl 0), user read-only page", cpl: 0, fixed: true),
        Case(name: "kernel write (cpl 0), supervisor read-only page", page: "user: false, writable: false", cpl: 0, fixed: true),
        Case(name: "kernel write (cpl 0) with SMAP: SMAP refuses it", machine: "{mode: x86_64, cr4: {smap: true}}", cpl: 0, fixed: false),
        Case(name: "kernel write (cpl 0), r-- VMA: an oops", perm: "r--", cpl: 0, fixed: false),
        Case(name: "ia32 32-bit paging", machine: "{mode: ia32}", fixed: true),
        Case(name: "ia32 PAE paging", machine: "{mode: ia32, paging: pae}", fixed: true),
        Case(name: "ia32 PAE paging via cr4", machine: "{mode: ia32, cr4: {pae: true}}", fixed: true),
        Case(name: "ia32 supervisor page", machine: "{mode: ia32}", page: "user: false, writable: false", fixed: false),
    ]

    @Test(arguments: cases)
    func writeToReadOnlyPage(_ c: Case) {
        let memory = c.perm.map { "    memory:\n      - {segment: data, start: 0x40000000, pages: 2, perm: \"\($0)\"}\n" } ?? ""
        let cplKey = c.cpl == 0 ? ", cpl: 0" : ""
        let code = 0x3 | (c.cpl == 3 ? 0x4 : 0)
        let after = c.fixed ? """

          - access: {op: write, addr: 0x40001010, size: 4\(cplKey)}
            expect: {faults: none, physical: 0x900010}
        """ : ""
        let r = runScenarioText("""
        scenario: wp
        machine: \(c.machine)
        processes:
          - name: A
        \(memory)    pages:
              - {virt: 0x40001000, phys: 0x900000, \(c.page)}
        steps:
          - access: {op: write, addr: 0x40001008, size: 4\(cplKey)}
            expect:
              faults: [{vector: PF, error_code: 0x\(String(code, radix: 16)), cr2: 0x40001008}]
              signal: \(c.fixed ? "none" : (c.cpl == 0 ? "SIGKILL" : "SIGSEGV"))\(after)
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.name): \(String(describing: r.first?.outcome))")
            return
        }
    }

    /// read()'s copy_to_user into a read-only page of a writable VMA raises the kernel's #PF P|W (U=0) and
    /// copies; into one of an r-- VMA it is -EFAULT with no fault (decided before memory is touched).
    @Test(arguments: [("rw-", true), ("r--", false)])
    func copyToUser(_ perm: String, _ fixed: Bool) {
        let expect = fixed
            ? "{returns: 3, faults: [{vector: PF, error_code: 0x3, cr2: 0x40001ff0}]}"
            : "{returns: -EFAULT, faults: none}"
        let r = runScenarioText("""
        scenario: wp-read
        machine: {mode: x86_64}
        kernel: {stdin: "abc"}
        processes:
          - name: A
            memory:
              - {segment: data, start: 0x40000000, pages: 2, perm: "\(perm)"}
            pages:
              - {virt: 0x40001000, phys: 0x900000, user: true, writable: false}
        steps:
          - syscall: {via: syscall, nr: read, args: [0, 0x40001ff0, 3]}
            expect: \(expect)
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(perm): \(String(describing: r.first?.outcome))")
            return
        }
    }

    /// A write through a stale read-only TLB entry after the leaf was made writable in memory (no INVLPG): the
    /// CPU raises #PF P|W (SDM Vol. 3A §4.10.4.3, a "spurious" fault); Linux's handle_pte_fault finds the PTE
    /// writable, flushes the entry (flush_tlb_fix_spurious_fault) and returns, and the retry succeeds. It was a
    /// SIGSEGV (or an oops at CPL 0). Without a VMA allowing the write it stays one.
    @Test(arguments: [(3, "rw-", true), (0, "rw-", true), (3, "r--", false), (0, "r--", false)])
    func spuriousWriteFaultAfterLoosening(_ cpl: Int, _ perm: String, _ fixed: Bool) {
        let cplKey = cpl == 0 ? ", cpl: 0" : ""
        let code = 0x3 | (cpl == 3 ? 0x4 : 0)
        let after = fixed ? "\n      physical: 0x900010\n      dirty: true" : ""
        let r = runScenarioText("""
        scenario: spurious
        machine: {mode: ia32}
        processes:
          - name: A
            memory:
              - {segment: data, start: 0x40000000, pages: 2, perm: "\(perm)"}
            pages:
              - {virt: 0x40001000, phys: 0x900000, user: true}
        steps:
          - access: {op: read, addr: 0x40001010\(cplKey)}
            expect: {faults: none}
          - set: {pages: [{virt: 0x40001000, phys: 0x900000, user: true, writable: true}]}
          - access: {op: write, addr: 0x40001010\(cplKey)}
            expect:
              faults: [{vector: PF, error_code: 0x\(String(code, radix: 16)), cr2: 0x40001010}]
              signal: \(fixed ? "none" : (cpl == 0 ? "SIGKILL" : "SIGSEGV"))\(after)
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("cpl \(cpl) \(perm): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
