// Outside 64-bit mode a linear address is 32 bits (SDM Vol. 3A §3.2.4, §3.4): the bytes of an access that
// starts below 4 GiB and runs past 0xFFFFFFFF (a segment base plus offset that wraps) continue at page 0, in
// legacy and compatibility mode alike (Bochs access_read_linear/access_write_linear: "if (!long64_mode())
// laddr2 &= 0xffffffff; /* handle linear address wrap in legacy mode */"). The model translated the second
// page at 0x1_0000_0000 and raised a #PF there.

@testable import Scenario
import Testing

@Suite struct LinearWrapSplitAccessTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let mode: String
        let bits: Int?
        let op: String
        let high: String
    }

    static let cases: [Case] = [
        Case(description: "compatibility-mode read", mode: "x86_64", bits: 32, op: "read", high: "0xfffff000"),
        Case(description: "compatibility-mode write", mode: "x86_64", bits: 32, op: "write", high: "0xfffff000"),
        Case(description: "ia32 read", mode: "ia32", bits: nil, op: "read", high: "0xbffff000"),
        Case(description: "ia32 write", mode: "ia32", bits: nil, op: "write", high: "0xbffff000"),
    ]

    @Test(arguments: cases) func wrapsToPageZero(_ c: Case) {
        // DS base 0x10000000 + offset 0xeffffffe = linear 0xfffffffe: two bytes on the last page, two on page 0.
        let bitsLine = c.bits.map { "\n    bits: \($0)" } ?? ""
        let r = runScenarioText("""
        scenario: wrap
        machine:
          mode: \(c.mode)
          gdt:
            20: {name: based_ds, type: data, dpl: 3, base: 0x10000000, limit: 0xfffff, granularity: 4k}
        kernel: none
        processes:
          - name: main\(bitsLine)
            context: {ds: based_ds:3}
            pages:
              - {virt: 0, phys: 0x300000, user: true, writable: true}
              - {virt: 0xfffff000, phys: 0x301000, user: true, writable: true}
        steps:
          - access: {op: \(c.op), addr: 0xeffffffe, size: 4}
            expect: {fault: none, physical: 0x301ffe}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.description): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
