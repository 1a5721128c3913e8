// Findings of the third blind pass on the format contract (branch blind-fmt-3): the bare CPU
// (`preset: none`, `kernel: none`) with every table written by the scenario.

import Machine
@testable import Scenario
import Testing

@Suite struct FormatContractBlind3Tests {
    /// One bare-CPU scenario whose task states no `memory` (so it gets the default layout: a text page at
    /// 0x08048000 / 0x400000 and a stack below the top of user space) and whose `machine.pages` maps
    /// `mapping`, a page the default layout also covers; `step` must pass.
    struct DefaultLayoutCase: Sendable, CustomTestStringConvertible {
        var name: String
        var mode: String
        var mapping: String
        var step: String
        var testDescription: String { name }

        var yaml: String {
            let gdt = mode == "ia32"
                ? "    - {name: kcode, type: code, dpl: 0, base: 0, limit: 0xfffff, granularity: 4k}\n"
                : "    - {name: kcode, type: code, dpl: 0, long: true}\n"
            return """
            scenario: kept
            machine:
              mode: \(mode)
              preset: none
              gdt:
                - null
            \(gdt)    - {name: kdata, type: data, dpl: 0, base: 0, limit: 0xfffff, granularity: 4k}
              idt:
                PF: {type: interrupt, dpl: 0, selector: kcode, offset: 0x1000}
              pages:
                - \(mapping)
            kernel: none
            processes:
              - name: main
                context: {cs: kcode, ss: kdata, ds: kdata}
            steps:
              - \(step)

            """
        }
    }

    /// "`pages`: mappings present in every address space": the default layout (the engine's choice) must
    /// not replace a mapping the scenario wrote. It did: the default text page was written over the
    /// author's PTE (its flags lost, silently), and over a large page the build failed at 1:1.
    @Test(arguments: [
        DefaultLayoutCase(name: "ia32 writable page at the default text base keeps R/W",
                          mode: "ia32", mapping: "{virt: 0x08048000, phys: 0x300000, writable: true}",
                          step: "access: {op: write, addr: 0x08048000}\n    expect: {fault: none}"),
        DefaultLayoutCase(name: "ia32 read-only page at the default stack stays read-only",
                          mode: "ia32", mapping: "{virt: 0xbffff000, phys: 0x300000}",
                          // The #PF's own pushes meet the same read-only stack page: #PF, #DF, shutdown.
                          step: "access: {op: write, addr: 0xbffff000}\n    expect: {faults: [{vector: PF, error_code: {p: 1, w: 1}}, PF, DF, GP], shutdown: true}"),
        DefaultLayoutCase(name: "x86_64 XD leaf with NXE = 0 stays a reserved bit",
                          mode: "x86_64", mapping: "{virt: 0x400000, phys: 0x300000, nx: true}",
                          step: "access: {op: read, addr: 0x400000}\n    expect: {fault: {vector: PF, error_code: {p: 1, rsvd: 1}}}"),
        DefaultLayoutCase(name: "x86_64 2m page over the default text page",
                          mode: "x86_64", mapping: "{virt: 0x400000, size: 2m, writable: true}",
                          step: "access: {op: write, addr: 0x5ffff8, size: 8}\n    expect: {fault: none}"),
        DefaultLayoutCase(name: "x86_64 1g page over the default stack",
                          mode: "x86_64", mapping: "{virt: 0x7fffc0000000, size: 1g, writable: true}",
                          step: "access: {op: write, addr: 0x7fffffffeff8, size: 8}\n    expect: {fault: none}"),
    ])
    func machinePagesSurviveTheDefaultLayout(_ c: DefaultLayoutCase) {
        let outcome = runText(c.yaml)
        #expect(outcome.isPassed, "\(outcome)")
    }

    /// A context that names CS at CPL 1-3 but no SS: the unnamed SS started as the flat ring-0 stack, so
    /// ring-3 code pushed through a DPL-0 SS (ia32) without a word; it is a state no processor reaches.
    @Test(arguments: [
        ("ia32", "{name: ucode, type: code, dpl: 3, base: 0, limit: 0xfffff, granularity: 4k}", "ucode:3", 3),
        ("ia32", "{name: ucode, type: code, dpl: 1, base: 0, limit: 0xfffff, granularity: 4k}", "ucode:1", 1),
        ("x86_64", "{name: ucode, type: code, dpl: 3, long: true}", "ucode:3", 3),
        ("x86_64", "{name: ucode, type: code, dpl: 2, long: true}", "ucode:2", 2),
    ])
    func contextWithCSAboveRingZeroNeedsSS(_ mode: String, _ code: String, _ cs: String, _ cpl: Int) {
        let yaml = """
        scenario: no-ss
        machine:
          mode: \(mode)
          preset: none
          gdt: [null, \(code)]
        kernel: none
        processes:
          - name: main
            context: {cs: "\(cs)", eip: 0x1000, esp: 0x1000}
        steps:
          - exec: "call far \(cs):0x2000"
            expect: {fault: none}

        """
        guard case let .invalid(d) = runText(yaml), let e = d.first else {
            Issue.record("not refused: \(runText(yaml))")
            return
        }
        #expect(e.message.contains("but no ss") && e.message.contains("ss: NAME:\(cpl)"), "\(e.message)")
        #expect(e.location?.line == 9, "\(String(describing: e.location))")
    }

    /// Refusals on a bare CPU say what to write instead.
    @Test func bareCPURefusalsSayWhatToWrite() {
        let access = runText("""
        scenario: a
        machine:
          mode: ia32
          preset: none
          paging: off
          gdt: [null, {name: kc, type: code}, {name: kd, type: data}, {name: uc, type: code, dpl: 3}, {name: ud, type: data, dpl: 3}]
        kernel: none
        processes:
          - {name: main, context: {cs: "uc:3", ss: "ud:3", ds: "ud:3"}}
        steps:
          - access: {op: read, addr: 0x1000, cpl: 0}
            expect: {fault: none}

        """)
        #expect("\(access)".contains("run the task at CPL 0"), "\(access)")
        let tss = diagnostics("""
        scenario: t
        machine:
          mode: x86_64
          preset: none
          gdt: [null, {name: kc, type: code, long: true}]
          tss: {name: tss}
        kernel: none
        steps: []

        """)
        #expect(tss.contains { $0.message.contains("names no GDT entry") && $0.notes.contains { $0.contains("type: tss64") } }, "\(tss)")
    }

    /// Two mappings of one `pages` list that cover one page: the page has one leaf entry, and the list
    /// silently kept the later one (its flags, its frame). The contract makes two mappings that set one
    /// upper-level entry differently an error; the leaf is refused likewise, at the second mapping.
    @Test(arguments: [
        ("machine:\n  mode: x86_64\n  pages:\n    - {virt: 0x600000, writable: true}\n    - {virt: 0x600000, phys: 0x500000}\n",
         5, "machine.pages[1] (virt 0x600000) maps a page that machine.pages[0]"),
        ("machine:\n  mode: ia32\n  pages:\n    - {virt: 0x400000, count: 4}\n    - {virt: 0x403000, writable: true}\n",
         5, "machine.pages[1] (virt 0x403000)"),
        ("machine:\n  mode: x86_64\n  pages:\n    - {virt: 0x601000}\n    - {virt: 0x600000, size: 2m}\n",
         5, "machine.pages[1] (virt 0x600000)"),
        ("machine:\n  mode: ia32\nprocesses:\n  - name: t\n    pages:\n      - {virt: 0x400000}\n      - {virt: 0x400000, user: true}\n",
         7, "processes[0].pages[1]"),
    ])
    func onePageMappedTwiceInOneListIsAnError(_ head: String, _ line: Int, _ message: String) {
        let yaml = "scenario: twice\n" + head + "kernel: none\nsteps:\n  - exec: nop\n    expect: {fault: none}\n"
        let e = diagnostics(yaml).first { $0.severity == .error }
        #expect(e?.message.contains(message) == true, "\(String(describing: e))")
        #expect(e?.location?.line == line + 1, "\(String(describing: e))")
    }

    /// Every mapping that meets an earlier one is named, each with the first earlier one it meets, also when a
    /// large page that comes later covers both (the sweep once hid the second pair behind the first).
    @Test func everyLaterMappingThatMeetsAnEarlierOneIsNamed() {
        let yaml = "scenario: t\nmachine:\n  mode: ia32\n  pages:\n    - {virt: 0x500000, count: 4}\n    - {virt: 0x600000}\n"
            + "    - {virt: 0x502000}\n    - {virt: 0x400000, size: 4m}\nkernel: none\nsteps: []\n"
        let errors = diagnostics(yaml).filter { $0.severity == .error }.map(\.message)
        #expect(errors.count == 2, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("machine.pages[2] (virt 0x502000) maps a page that machine.pages[0]") }, "\(errors)")
        #expect(errors.contains { $0.hasPrefix("machine.pages[3] (virt 0x400000) maps a page that machine.pages[0]") }, "\(errors)")
    }

    /// 10,000 mappings of distinct pages in reverse order are valid, and 10,000 copies of one mapping give a
    /// bounded number of errors (the sweep stops after 64 meeting pairs) instead of one per pair.
    @Test func manyMappingsAreCheckedWithoutComparingEveryPair() {
        let distinct = (0..<10_000).reversed().map { "    - {virt: \(0x1000_0000 + $0 * 0x1000)}\n" }.joined()
        let ok = "scenario: t\nmachine:\n  mode: ia32\n  pages:\n" + distinct + "kernel: none\nsteps: []\n"
        #expect(diagnostics(ok).filter { $0.severity == .error }.isEmpty)
        let same = String(repeating: "    - {virt: 0x10000000}\n", count: 10_000)
        let bad = "scenario: t\nmachine:\n  mode: ia32\n  pages:\n" + same + "kernel: none\nsteps: []\n"
        let errors = diagnostics(bad).filter { $0.severity == .error }
        #expect(!errors.isEmpty && errors.count <= 64, "\(errors.count)")
    }

    /// Adjacent runs and a page mapped once in `machine.pages` and again in a task's own `pages` stay valid.
    @Test func adjacentMappingsAndTwoListsAreFine() {
        let yaml = """
        scenario: ok
        machine:
          mode: ia32
          pages:
            - {virt: 0x400000, count: 2}
            - {virt: 0x402000, writable: true}
        kernel: none
        processes:
          - name: t
            pages:
              - {virt: 0x400000, user: true}
        steps:
          - exec: nop
            expect: {fault: none}

        """
        #expect(diagnostics(yaml).filter { $0.severity == .error }.isEmpty, "\(diagnostics(yaml))")
    }
}
