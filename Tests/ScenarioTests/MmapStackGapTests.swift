// get_unmapped_area keeps stack_guard_gap (1 MiB) free below a stack VMA (vm_start_gap; x86's
// arch_get_unmapped_area_topdown takes a hint only when `addr + len <= vm_start_gap(vma)`): a hint inside the
// gap is not taken (the mapping goes below mmap_base instead), one just below it is; MAP_FIXED ignores the
// gap. The hint used to be taken whenever the range itself was free.

@testable import Scenario
import Testing

@Suite struct MmapStackGapTests {
    @Test func hintInsideTheStackGapIsNotTaken() {
        // The default x86_64 stack: 0x7fffffffd000-0x7ffffffff000; its gap starts at 0x7fffffefd000.
        let r = runScenarioText("""
        scenario: mmap-gap
        machine: {mode: x86_64}
        steps:
          - syscall: {via: syscall, nr: mmap, args: [0x7fffffff0000, 4096, 3, 0x22, -1, 0]}
            expect: {returns: 0x7ffff7ffe000}
          - syscall: {via: syscall, nr: mmap, args: [0x7fffffefd000, 4096, 3, 0x22, -1, 0]}
            expect: {returns: 0x7ffff7ffd000}
          - syscall: {via: syscall, nr: mmap, args: [0x7fffffefc000, 4096, 3, 0x22, -1, 0]}
            expect: {returns: 0x7fffffefc000}
          - syscall: {via: syscall, nr: mmap, args: [0x7fffffff0000, 4096, 3, 0x32, -1, 0]}
            expect: {returns: 0x7fffffff0000}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(String(describing: r.first?.outcome))")
            return
        }
    }

    /// The top-down search skips the gap too: a stack declared just below mmap_base pushes the mapping below
    /// its gap, not into it.
    @Test func topDownSearchSkipsTheGap() {
        let r = runScenarioText("""
        scenario: mmap-gap-search
        machine: {mode: ia32}
        processes:
          - name: app
            state: running
            memory:
              - {segment: text, start: 0x08048000, pages: 1, perm: "r-x", populate: true}
              - {segment: stack, start: 0xb7ffc000, pages: 4, perm: "rw-", populate: true}
            context: {esp: 0xb7fffff0}
        steps:
          - syscall: {via: int80, nr: mmap2, args: [0, 4096, 3, 0x22, -1, 0]}
            expect: {returns: 0xb7efb000}
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(String(describing: r.first?.outcome))")
            return
        }
    }
}
