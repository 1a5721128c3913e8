// A kernel-mode #PF on a kernel address with error code exactly P|W or P|I/D, while the page tables in memory
// allow the access, came from a stale TLB entry: Linux's do_kern_addr_fault -> spurious_kernel_fault
// (arch/x86/mm/fault.c) returns and the access is retried. It was an oops (SIGKILL). A real violation (the
// entry still read-only or XD) stays an oops. docs/kernel-model.md, Exceptions.

@testable import Scenario
import Testing

@Suite struct SpuriousKernelFaultTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var mode: String
        var virt: String
        var addr: String { virt.hasPrefix("0xffff") ? "0xffffc90000000010" : "0xd0000010" }
        var op: String
        var before: String      // the leaf's flags when the translation is cached
        var after: String?      // the flags `set: pages` writes without INVLPG (nil: no edit)
        var code: Int
        var spurious: Bool
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "x86_64 write after R/W 0 -> 1", mode: "x86_64", virt: "0xffffc90000000000", op: "write",
             before: "writable: false", after: "writable: true", code: 0x3, spurious: true),
        Case(name: "x86_64 fetch after XD 1 -> 0", mode: "x86_64", virt: "0xffffc90000000000", op: "fetch",
             before: "nx: true", after: "nx: false", code: 0x11, spurious: true),
        Case(name: "ia32 PAE write after R/W 0 -> 1", mode: "ia32\n  paging: pae", virt: "0xd0000000", op: "write",
             before: "writable: false", after: "writable: true", code: 0x3, spurious: true),
        Case(name: "x86_64 write, still read-only", mode: "x86_64", virt: "0xffffc90000000000", op: "write",
             before: "writable: false", after: nil, code: 0x3, spurious: false),
        Case(name: "x86_64 fetch, still XD", mode: "x86_64", virt: "0xffffc90000000000", op: "fetch",
             before: "nx: true", after: nil, code: 0x11, spurious: false),
    ]

    @Test(arguments: cases)
    func staleKernelTranslation(_ c: Case) {
        let edit = c.after.map { "\n  - set: {pages: [{virt: \(c.virt), phys: 0x800000, \($0)}]}" } ?? ""
        let after = c.spurious ? "\n      physical: 0x800010" : ""
        let r = runScenarioText("""
        scenario: spurious-kernel
        machine:
          mode: \(c.mode)
          pages:
            - {virt: \(c.virt), phys: 0x800000, \(c.before)}
        processes:
          - name: A
          - name: B
            state: ready
        steps:
          - access: {op: read, addr: \(c.virt), cpl: 0}
            expect: {faults: none}\(edit)
          - access: {op: \(c.op), addr: \(c.addr), cpl: 0}
            expect:
              faults: [{vector: PF, error_code: 0x\(String(c.code, radix: 16))}]
              signal: \(c.spurious ? "none" : "SIGKILL")\(after)
        """)
        #expect(r.count == 1)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.name): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
