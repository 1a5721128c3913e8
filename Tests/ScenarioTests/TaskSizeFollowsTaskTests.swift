// TASK_SIZE on x86_64 follows the task, not the system-call entry: IA32_PAGE_OFFSET (0xFFFFE000) under
// TIF_ADDR32 (a 32-bit task), TASK_SIZE_MAX otherwise (arch/x86/include/asm/processor.h `#define TASK_SIZE
// (test_thread_flag(TIF_ADDR32) ? IA32_PAGE_OFFSET : TASK_SIZE_MAX)`). munmap's range check (mm/mmap.c
// do_vmi_munmap), MAP_FIXED's limit (__get_unmapped_area: `addr > TASK_SIZE - len` -> -ENOMEM) and a hint's
// validity (arch/x86/mm/mmap.c mmap_address_hint_valid) use it; only the search for a free range depends on
// the entry (in_32bit_syscall -> mmap_compat_base). The model used the 32-bit limit for any call through
// the i386 table, so a 64-bit task's int 0x80 munmap/mmap2 near 4 GiB failed.

@testable import Scenario
import Testing

@Suite struct TaskSizeFollowsTaskTests {
    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let bits: Int
        let steps: String
    }

    static let cases: [Case] = [
        Case(description: "64-bit task, int 0x80 munmap at 0xffffe000: 0", bits: 64, steps: """
          - syscall: {via: int80, nr: munmap, args: [0xffffe000, 0x1000]}
            expect: {returns: 0}
        """),
        Case(description: "64-bit task, int 0x80 mmap2 MAP_FIXED at 0xfffff000: taken", bits: 64, steps: """
          - syscall: {via: int80, nr: mmap2, args: [0xfffff000, 0x1000, 3, 0x32, -1, 0]}
            expect: {returns: 0xfffff000}
        """),
        Case(description: "64-bit task, int 0x80 mmap2 hint at 0xfffff000: taken", bits: 64, steps: """
          - syscall: {via: int80, nr: mmap2, args: [0xfffff000, 0x1000, 3, 0x22, -1, 0]}
            expect: {returns: 0xfffff000}
        """),
        Case(description: "64-bit task, int 0x80 mmap2 without hint: below the compat base", bits: 64, steps: """
          - syscall: {via: int80, nr: mmap2, args: [0, 0x1000, 3, 0x22, -1, 0]}
            expect: {returns: 0xf7ffd000}
        """),
        Case(description: "32-bit task, munmap at 0xffffe000: -EINVAL", bits: 32, steps: """
          - syscall: {via: int80, nr: munmap, args: [0xffffe000, 0x1000]}
            expect: {returns: -EINVAL}
        """),
        Case(description: "32-bit task, mmap2 MAP_FIXED at 0xfffff000: -ENOMEM", bits: 32, steps: """
          - syscall: {via: int80, nr: mmap2, args: [0xfffff000, 0x1000, 3, 0x32, -1, 0]}
            expect: {returns: -ENOMEM}
        """),
        Case(description: "32-bit task, mmap2 hint at 0xfffff000: ignored", bits: 32, steps: """
          - syscall: {via: int80, nr: mmap2, args: [0xfffff000, 0x1000, 3, 0x22, -1, 0]}
            expect: {returns: 0xf7ffd000}
        """),
    ]

    @Test(arguments: cases) func taskSize(_ c: Case) {
        let r = runScenarioText("""
        scenario: task-size
        machine: {mode: x86_64}
        processes:
          - {name: main, bits: \(c.bits)}
        steps:
        \(c.steps)
        """)
        guard case .passed? = r.first?.outcome else {
            Issue.record("\(c.description): \(String(describing: r.first?.outcome))")
            return
        }
    }
}
