// MAP_32BIT (0x40) on x86_64 (arch/x86/kernel/sys_x86_64.c): arch_get_unmapped_area_topdown sends a 64-bit
// call with MAP_32BIT to the bottom-up search (`if (!in_32bit_syscall() && (flags & MAP_32BIT)) goto
// bottomup;`), which find_start_end confines to [0x40000000, 0x80000000); a hint is taken only when it ends
// at or below 0x80000000. A call through the i386 table ignores the flag. The flag used to be ignored.

@testable import Scenario
import Testing

@Suite struct Map32BitTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let steps: String
    }

    static let cases: [Case] = [
        Case(description: "no hint: bottom-up from 0x40000000", steps: """
          - syscall: {via: syscall, nr: mmap, args: [0, 4096, 3, 0x62, -1, 0]}
            expect: {returns: 0x40000000}
          - syscall: {via: syscall, nr: mmap, args: [0, 8192, 3, 0x62, -1, 0]}
            expect: {returns: 0x40001000}
        """),
        Case(description: "a free hint below 2 GiB is taken", steps: """
          - syscall: {via: syscall, nr: mmap, args: [0x10000000, 4096, 3, 0x62, -1, 0]}
            expect: {returns: 0x10000000}
        """),
        Case(description: "a hint ending above 2 GiB is not", steps: """
          - syscall: {via: syscall, nr: mmap, args: [0x7ffff000, 8192, 3, 0x62, -1, 0]}
            expect: {returns: 0x40000000}
        """),
        Case(description: "too big for the window: -ENOMEM", steps: """
          - syscall: {via: syscall, nr: mmap, args: [0, 0x40001000, 3, 0x62, -1, 0]}
            expect: {returns: -ENOMEM}
        """),
        Case(description: "through int 0x80 the flag is ignored", steps: """
          - syscall: {via: int80, nr: mmap2, args: [0, 4096, 3, 0x62, -1, 0]}
            expect: {returns: 0xf7ffd000}
        """),
    ]

    @Test(arguments: cases) func map32Bit(_ c: Case) {
        let r = runScenarioText("""
        scenario: map-32bit
        machine: {mode: x86_64}
        steps:
        \(c.steps)
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.description): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
