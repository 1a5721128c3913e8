// RuleBook: the rules the model cites in faults, with their Intel SDM references
// (docs/machine-rules.md holds the full text). `ringspec explain` prints these.

public enum RuleBook {
    /// SDM (or Linux source) reference of a rule id such as `SEG-5d` or `PG-9`: the section that states the
    /// rule, with the SDM's title of that section (section numbers as in the SDM editions whose Vol. 3A has
    /// chapter 4 Paging, 5 Protection, 6 Interrupt and Exception Handling, 7 Task Management).
    public static func reference(_ id: String) -> String {
        if let specific = references[baseID(id)] { return specific }
        let family = id.split(separator: "-").first.map(String.init) ?? id
        switch family {
        case "SEG": return "Intel SDM Vol. 3A §3.4 (logical and linear addresses), §5.5-5.7"
        case "FAR": return "Intel SDM Vol. 3A §5.8 (privilege level checking when transferring program control between code segments)"
        case "INT": return "Intel SDM Vol. 3A §6.10-6.14"
        case "TASK": return "Intel SDM Vol. 3A ch. 7 (task management)"
        case "FAST": return "Intel SDM Vol. 2B SYSENTER/SYSEXIT/SYSCALL/SYSRET, Vol. 3A §5.8.7-5.8.8"
        case "PG": return "Intel SDM Vol. 3A ch. 4 (paging)"
        case "DF": return "Intel SDM Vol. 3A §6.15, interrupt 8 (double fault exception)"
        case "PRIV": return "Intel SDM Vol. 3A §5.9 (privileged instructions)"
        case "LNX": return "Linux arch/x86 (segment.h, idt.c, common.c)"
        case "ABI": return "Linux syscall_32.tbl / syscall_64.tbl"
        case "KERN": return "Linux kernel model (docs/kernel-model.md)"
        case "AC": return "Intel SDM Vol. 3A §6.15 (interrupt 17, #AC), §2.3 (EFLAGS.AC), §2.5 (CR0.AM)"
        case "ISA": return "Intel SDM Vol. 2 instruction pages (instructions invalid in a mode)"
        default: return "docs/machine-rules.md"
        }
    }

    /// The rule without its sub-step letter: `SEG-5d` -> `SEG-5`.
    static func baseID(_ id: String) -> String {
        String(id.prefix { !("a"..."z").contains($0) })
    }

    /// The section of the SDM (or of Linux) each rule comes from, titled as the SDM titles it.
    static let references: [String: String] = [
        "SEG-1": "Intel SDM Vol. 3A §3.4.2 (segment selectors)",
        "SEG-2": "Intel SDM Vol. 3A §3.4.2 (segment selectors: the null segment selector)",
        "SEG-3": "Intel SDM Vol. 3A §3.5.1 (segment descriptor tables), Vol. 2B MOV (#GP(selector) outside the table limit)",
        "SEG-4": "Intel SDM Vol. 3A §3.4.5.1 (code- and data-segment descriptor types), §3.5 (system descriptor types)",
        "SEG-5": "Intel SDM Vol. 3A §5.6 (privilege level checking when accessing data segments), Vol. 2B MOV",
        "SEG-6": "Intel SDM Vol. 3A §5.7 (privilege level checking when loading the SS register), Vol. 2B MOV",
        "SEG-7": "Intel SDM Vol. 2B MOV (loading CS with MOV is #UD)",
        "SEG-8": "Intel SDM Vol. 3A §6.13 (error code)",
        "SEG-9": "Intel SDM Vol. 3A §6.13 (error code: the EXT bit)",
        "SEG-10": "Intel SDM Vol. 3B §20.1.4 (interrupt and exception handling in real-address mode)",
        "SEG-11": "Intel SDM Vol. 3A §5.3 (limit checking)",
        "FAR-1": "Intel SDM Vol. 3A §5.8.1 (direct calls or jumps to code segments), Vol. 2A CALL/JMP",
        "FAR-2": "Intel SDM Vol. 3A §5.8.1 (direct calls or jumps to code segments)",
        "FAR-3": "Intel SDM Vol. 3A §5.8.1 (direct calls or jumps to code segments)",
        "FAR-4": "Intel SDM Vol. 2A CALL (far call: CS and EIP pushed)",
        "FAR-5": "Intel SDM Vol. 3A §5.8.4 (accessing a code segment through a call gate)",
        "FAR-6": "Intel SDM Vol. 3A §5.8.4 (accessing a code segment through a call gate), Vol. 2A CALL/JMP",
        "FAR-7": "Intel SDM Vol. 3A §5.8.4 (accessing a code segment through a call gate)",
        "FAR-8": "Intel SDM Vol. 3A §5.8.4 (accessing a code segment through a call gate: JMP)",
        "FAR-9": "Intel SDM Vol. 3A §5.8.5 (stack switching)",
        "FAR-10": "Intel SDM Vol. 3A §5.8.4 (accessing a code segment through a call gate), Vol. 2A CALL",
        "FAR-11": "Intel SDM Vol. 3A §5.8.3.1 (IA-32e mode call gates), §5.8.5 (stack switching)",
        "FAR-12": "Intel SDM Vol. 3A §5.8.6 (returning from a called procedure), Vol. 2B RET",
        "FAR-13": "Intel SDM Vol. 3A §5.8.6 (returning from a called procedure), Vol. 2B RET",
        "FAR-14": "Intel SDM Vol. 3A §5.8.6 (returning from a called procedure), Vol. 2B RET",
        "FAR-15": "Intel SDM Vol. 3A §7.4 (task linking), Vol. 2A IRET",
        "FAR-16": "Intel SDM Vol. 2A IRET/IRETD/IRETQ",
        "FAR-17": "Intel SDM Vol. 2A IRET/IRETD/IRETQ (flags restored by privilege)",
        "INT-1": "Intel SDM Vol. 3A §6.3 (sources of interrupts), §6.4 (sources of exceptions)",
        "INT-2": "Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: protection), Vol. 2A INT n",
        "INT-3": "Intel SDM Vol. 3A §6.10 (interrupt descriptor table)",
        "INT-4": "Intel SDM Vol. 3A §6.11 (IDT descriptors)",
        "INT-5": "Intel SDM Vol. 3A §6.11 (IDT descriptors), Vol. 2A INT n",
        "INT-6": "Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures), Vol. 2A INT n",
        "INT-7": "Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: stack switch)",
        "INT-8": "Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: no stack switch)",
        "INT-9": "Intel SDM Vol. 3A §6.12.1 (exception- or interrupt-handler procedures: flag usage)",
        "INT-10": "Intel SDM Vol. 3A §6.14 (exception and interrupt handling in 64-bit mode)",
        "INT-11": "Intel SDM Vol. 3A §6.13 (error code), §6.15 (exception and interrupt reference)",
        "INT-12": "Intel SDM Vol. 3A §6.5 (exception classifications)",
        "INT-13": "Intel SDM Vol. 3B §20.3 (interrupt and exception handling in virtual-8086 mode)",
        "INT-14": "Intel SDM Vol. 3B §20.1.4 (interrupt and exception handling in real-address mode)",
        "INT-15": "Intel SDM Vol. 3B §17.3.1.1 (instruction-breakpoint exception condition: RF)",
        "TASK-1": "Intel SDM Vol. 3A §7.3 (task switching)",
        "TASK-2": "Intel SDM Vol. 3A §7.3 (task switching), §7.2.5 (task-gate descriptor)",
        "TASK-3": "Intel SDM Vol. 3A §7.2.2 (TSS descriptor), §7.3 (task switching)",
        "TASK-4": "Intel SDM Vol. 3A §7.4 (task linking)",
        "TASK-5": "Intel SDM Vol. 3A §7.3 (task switching), §7.2.1 (task-state segment)",
        "TASK-6": "Intel SDM Vol. 3A §7.3 (task switching)",
        "TASK-7": "Intel SDM Vol. 3A §6.12.2 (interrupt tasks), §7.2.1 (task-state segment: T flag)",
        "TASK-8": "Intel SDM Vol. 3A §7.2.1 (task-state segment)",
        "TASK-9": "Intel SDM Vol. 3A §7.7 (task management in 64-bit mode)",
        "FAST-1": "Intel SDM Vol. 2B SYSENTER, Vol. 3A §5.8.7 (performing fast calls to system procedures with the SYSENTER and SYSEXIT instructions)",
        "FAST-2": "Intel SDM Vol. 2B SYSENTER, Vol. 3A §5.8.7",
        "FAST-3": "Intel SDM Vol. 2B SYSEXIT, Vol. 3A §5.8.7",
        "FAST-4": "Intel SDM Vol. 2B SYSEXIT, Vol. 3A §5.8.7",
        "FAST-5": "AMD APM Vol. 3 SYSENTER/SYSEXIT (#UD in long mode); Intel SDM Vol. 2B SYSENTER",
        "FAST-6": "Intel SDM Vol. 2B SYSCALL, Vol. 3A §5.8.8 (fast system calls in 64-bit mode)",
        "FAST-7": "Intel SDM Vol. 2B SYSCALL, Vol. 3A §5.8.8 (fast system calls in 64-bit mode)",
        "FAST-8": "AMD APM Vol. 3 SYSCALL (legacy mode)",
        "FAST-9": "Intel SDM Vol. 2B SYSRET, Vol. 3A §5.8.8",
        "FAST-10": "Intel SDM Vol. 2B SYSRET, Vol. 3A §5.8.8",
        "FAST-11": "Intel SDM Vol. 3A §5.8.8 (fast system calls in 64-bit mode: IA32_STAR)",
        "FAST-12": "Intel SDM Vol. 2B SYSRET (#GP(0) for a non-canonical RCX, raised at CPL 0); CVE-2012-0217",
        "FAST-13": "AMD APM Vol. 3 SYSRET (SS attributes); Linux entry_64.S",
        "FAST-14": "kvm-unit-tests x86/syscall.c",
        "PG-1": "Intel SDM Vol. 3A §4.3 (32-bit paging)",
        "PG-2": "Intel SDM Vol. 3A §4.4 (PAE paging), §4.4.1 (PDPTE registers)",
        "PG-3": "Intel SDM Vol. 3A §4.5 (4-level paging and 5-level paging), Vol. 1 §3.3.7.1 (canonical addressing)",
        "PG-4": "Intel SDM Vol. 3A §4.3-4.5 (paging-structure entry formats)",
        "PG-5": "Intel SDM Vol. 3A §4.6 (access rights)",
        "PG-6": "Intel SDM Vol. 3A §4.6 (access rights: user-mode accesses)",
        "PG-7": "Intel SDM Vol. 3A §4.6 (access rights: supervisor-mode accesses, CR0.WP)",
        "PG-8": "Intel SDM Vol. 3A §4.6 (access rights: instruction fetches, XD, SMEP)",
        "PG-9": "Intel SDM Vol. 3A §4.6 (access rights: SMAP)",
        "PG-10": "Intel SDM Vol. 3A §4.6.2 (protection keys)",
        "PG-11": "Intel SDM Vol. 3A §4.7 (page-fault exceptions)",
        "PG-12": "Intel SDM Vol. 3A §4.7 (page-fault exceptions), §4.3-4.5 (reserved bits of the entries)",
        "PG-13": "Intel SDM Vol. 3A §4.7 (page-fault exceptions: the U/S bit)",
        "PG-14": "Intel SDM Vol. 3A §4.8 (accessed and dirty flags)",
        "PG-15": "Intel SDM Vol. 3A §4.10 (caching translation information)",
        "DF-1": "Intel SDM Vol. 3A §6.15, interrupt 8 (double fault exception), Table 6-4 (interrupt and exception classes)",
        "DF-2": "Intel SDM Vol. 3A §6.15, interrupt 8 (double fault exception), Table 6-5 (conditions for generating a double fault)",
        "DF-3": "Intel SDM Vol. 3A §6.15, interrupt 8 (double fault exception)",
        "DF-4": "Intel SDM Vol. 3A §6.15, interrupt 8 (double fault exception: shutdown)",
        "DF-5": "Intel SDM Vol. 3A §6.15, interrupt 8; Vol. 3B §20.1.4 (real-address mode)",
        "PRIV-1": "Intel SDM Vol. 3A §6.8.1 (masking maskable hardware interrupts: CLI/STI need CPL <= IOPL), Vol. 1 Input/Output chapter (I/O privilege level)",
        "PRIV-2": "Intel SDM Vol. 3A §5.9 (privileged instructions), Vol. 2B RDMSR/WRMSR (#GP(0) for a reserved or unimplemented MSR, reserved bits, a non-canonical address)",
        "PRIV-3": "Intel SDM Vol. 2B MOV (move to/from control registers)",
        "PRIV-4": "Intel SDM Vol. 1 §19.5.2 (I/O permission bit map), Vol. 2A IN and Vol. 2B OUT (operation), Vol. 3A Figures 7-2 and 7-11 (I/O map base at TSS offset 66H)",
    ]

    /// A one-line title of a rule.
    public static func title(_ id: String) -> String {
        titles[id] ?? titles[baseID(id)] ?? id
    }

    static let titles: [String: String] = [
        "SEG-2": "null selectors", "SEG-3": "descriptor-table limit check", "SEG-5": "loading DS/ES/FS/GS",
        "SEG-5a": "null selector into a data segment register: the register is unusable, a memory use is #GP(0)", "SEG-5b": "table limit", "SEG-5c": "data or readable code only",
        "SEG-5d": "max(CPL, RPL) <= DPL", "SEG-5e": "segment present", "SEG-6": "loading SS", "SEG-6a": "null SS",
        "SEG-6b": "table limit", "SEG-6c": "RPL == CPL", "SEG-6d": "writable data only", "SEG-6e": "DPL == CPL",
        "SEG-6f": "stack segment present (#SS)", "SEG-7": "MOV CS is invalid",
        "SEG-11": "segment limit check: the access must lie within the segment's limits (expand-up or expand-down)",
        "FAR-1": "far transfer selector", "FAR-2": "direct far JMP/CALL privilege", "FAR-4": "far CALL pushes",
        "FAR-5": "call gate privilege", "FAR-6": "call gate target selector", "FAR-7": "call gate target code segment",
        "FAR-8": "JMP through a call gate", "FAR-9": "CALL through a call gate to inner privilege",
        "FAR-10": "CALL through a call gate, same privilege", "FAR-11": "64-bit call gates", "FAR-12": "far RET checks",
        "FAR-13": "outer-level return", "FAR-14": "data segments nulled on an outer return", "FAR-15": "IRET with NT=1",
        "FAR-16": "IRET", "FAR-17": "IRET flag restoration",
        "INT-1": "event kinds", "INT-2": "gate DPL check for software interrupts", "INT-3": "IDT limit",
        "INT-4": "IDT gate type", "INT-5": "gate present", "INT-6": "handler code segment", "INT-7": "inner-privilege delivery",
        "INT-8": "same-privilege delivery", "INT-9": "IF/TF on handler entry", "INT-10": "64-bit IDT delivery",
        "INT-11": "error codes", "INT-12": "faults and traps",
        "INT-13": "INT n in virtual-8086 mode", "INT-14": "real-mode interrupts",
        "INT-15": "RF in the saved EFLAGS image",
        "SEG-1": "selector layout: index, TI, RPL", "SEG-4": "descriptor type codes", "SEG-8": "selector error codes",
        "SEG-9": "the EXT bit", "SEG-10": "no error codes in real mode", "FAR-3": "CPL does not change on a direct far transfer",
        "TASK-1": "task switch entry points", "TASK-4": "busy bits, NT and the back link", "TASK-5": "state saved in the old TSS",
        "TASK-8": "32-bit TSS layout", "FAST-2": "SYSENTER targets", "FAST-7": "SYSCALL in IA-32e mode",
        "FAST-8": "AMD: legacy-mode SYSCALL", "FAST-10": "SYSRET targets", "FAST-11": "STAR layout",
        "FAST-13": "AMD: SYSRET and SS attributes", "FAST-14": "SYSCALL/SYSRET and TF",
        "PG-1": "32-bit paging", "PG-4": "paging-structure entry bits", "PG-5": "rights combine over all levels",
        "PG-11": "#PF error code", "PG-13": "U/S bit of the error code", "PG-14": "accessed and dirty bits",
        "DF-1": "exception classes", "DF-3": "#DF is an abort with error code 0", "DF-5": "double faults in real mode",
        "TASK-2": "task switch checks", "TASK-3": "TSS limits", "TASK-6": "loading the new task", "TASK-7": "error code on the new stack; the TSS T flag",
        "TASK-9": "no task switching in IA-32e mode",
        "FAST-1": "SYSENTER", "FAST-3": "SYSEXIT", "FAST-4": "SYSEXIT targets", "FAST-5": "AMD: no SYSENTER in long mode",
        "FAST-6": "SYSCALL enable and mode", "FAST-9": "SYSRET", "FAST-12": "non-canonical SYSRET (CVE-2012-0217)",
        "PG-2": "PAE PDPTE reserved bits", "PG-3": "canonical addresses", "PG-6": "user-mode access rights",
        "PG-7": "supervisor writes and CR0.WP", "PG-8": "instruction fetch: XD and SMEP", "PG-9": "SMAP",
        "PG-10": "protection keys", "PG-12": "not present / reserved bit", "PG-15": "TLB",
        "DF-2": "double fault", "DF-4": "triple fault",
        "PRIV-1": "IOPL-sensitive instruction", "PRIV-2": "CPL-0 instruction, and the operand checks of RDMSR/WRMSR", "PRIV-3": "MOV to a control register: values that fault or change the mode", "PRIV-4": "I/O permission bit map", "ISA-1": "instruction invalid in this mode", "ISA-2": "UD2, the defined invalid opcode",
        "AC-1": "alignment check: CR0.AM, EFLAGS.AC, CPL 3, misaligned data or stack access",
    ]
}
