// ScenarioTemplate: the starting scenario `ringspec new NAME` writes: every part of a scenario,
// commented, and passing as written.

public enum ScenarioTemplate {
    /// The scenario id for a path given to `new`: its last component without `.yaml`.
    public static func id(forPath path: String) -> String {
        var last = path.split(separator: "/").last.map(String.init) ?? path
        for ext in [".yaml", ".yml"] where last.hasSuffix(ext) { last.removeLast(ext.count) }
        return last
    }

    public static func text(id: String, schema: String) -> String {
        """
        # yaml-language-server: $schema=\(schema)
        # A ringspec scenario: the machine, the tasks, the steps, and what must happen.
        # Run it with `ringspec run \(id).yaml`; `ringspec explain \(id).yaml` tells the story.
        # `ringspec run --update \(id).yaml` rewrites the expect blocks with what the run did.
        scenario: \(id)
        description: >
          One write(2) through SYSCALL: the CPU enters the kernel at CPL 0 through the MSRs
          (no IDT gate), the kernel prints the string, SYSRET returns to CPL 3.
        tags: [example]
        points: 1                          # grading weight

        machine:
          mode: x86_64                     # or ia32 (32-bit protected mode)
          # preset: linux                  # the default: Linux's GDT, IDT, TSS, MSRs and page tables
          # gdt: {20: {name: my_gate, type: call_gate, dpl: 3, selector: kernel_cs, offset: 0x1000}}
          # idt: {0x80: {dpl: 0}}          # patch one gate of the preset

        kernel:
          scheduler: {policy: rr, timeslice: 3}   # fifo, rr, priority or cfs; `kernel: none` for a bare CPU

        processes:
          - {name: main, state: running}   # default layout: a text page and a two-page stack

        steps:
          # One event per step: timer, irq, syscall, wait, exit, exec, access, set, schedule.
          - syscall: {via: syscall, nr: write, args: [1, "hi\\n", 3]}
            expect:                        # only what is written is checked
              fault: none
              gate: none                   # SYSCALL uses no gate
              returns: 3
              output: "hi\\n"
              cpl: 3                       # back in user mode after SYSRET
          - timer: 3                       # three ticks use up the time slice; nobody else is ready
            expect:
              switch: none
              current: main

        expect:                            # checks on the whole run, after the last step
          output: "hi\\n"
          schedule: [main]
          processes: {main: {state: running}}

        """
    }
}
