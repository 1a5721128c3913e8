// RuleBook: the rules the model cites in faults, with their Intel SDM references
// (docs/machine-rules.md holds the full text). `ringspec explain` prints these.

public enum RuleBook {
    /// SDM (or Linux source) reference of a rule id such as `SEG-5d` or `PG-9`.
    public static func reference(_ id: String) -> String {
        let family = id.split(separator: "-").first.map(String.init) ?? id
        switch family {
        case "SEG": return id == "SEG-11" ? "Intel SDM Vol. 3A §5.3 (limit checking)" : "Intel SDM Vol. 3A §3.4, §5.5-5.7"
        case "FAR": return "Intel SDM Vol. 3A §5.8"
        case "INT": return "Intel SDM Vol. 3A §6.10-6.14"
        case "TASK": return "Intel SDM Vol. 3A ch. 7"
        case "FAST": return "Intel SDM Vol. 2B SYSENTER/SYSEXIT/SYSCALL/SYSRET, Vol. 3A §5.8.7-5.8.8"
        case "PG": return "Intel SDM Vol. 3A ch. 4 (§4.6 access rights, §4.7 #PF error code, §4.10 TLBs)"
        case "DF": return "Intel SDM Vol. 3A §6.15, interrupt 8"
        case "PRIV": return id == "PRIV-3" ? "Intel SDM Vol. 2B, MOV to/from control registers" : "Intel SDM Vol. 3A §5.9 (privileged instructions), Vol. 1 §19.5.1 (IOPL-sensitive instructions)"
        case "LNX": return "Linux arch/x86 (segment.h, idt.c, common.c)"
        case "ABI": return "Linux syscall_32.tbl / syscall_64.tbl"
        case "KERN": return "Linux kernel model (docs/kernel-model.md)"
        case "AC": return "Intel SDM Vol. 3A §6.15 (interrupt 17, #AC), §2.3 (EFLAGS.AC), §2.5 (CR0.AM)"
        case "ISA": return "Intel SDM Vol. 2 instruction pages (instructions invalid in a mode)"
        default: return "docs/machine-rules.md"
        }
    }

    /// A one-line title of a rule.
    public static func title(_ id: String) -> String {
        let base = id.prefix { $0 != "a" && $0 != "b" && $0 != "c" && $0 != "d" && $0 != "e" && $0 != "f" }
        return titles[id] ?? titles[String(base)] ?? id
    }

    static let titles: [String: String] = [
        "SEG-2": "null selectors", "SEG-3": "descriptor-table limit check", "SEG-5": "loading DS/ES/FS/GS",
        "SEG-5a": "null selector into a data segment register", "SEG-5b": "table limit", "SEG-5c": "data or readable code only",
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
        "INT-15": "RF in the saved EFLAGS image (SDM Vol. 3A §17.3.1.1)",
        "TASK-2": "task switch checks", "TASK-3": "TSS limits", "TASK-6": "loading the new task", "TASK-7": "error code on the new stack",
        "TASK-9": "no task switching in IA-32e mode",
        "FAST-1": "SYSENTER", "FAST-3": "SYSEXIT", "FAST-4": "SYSEXIT targets", "FAST-5": "AMD: no SYSENTER in long mode",
        "FAST-6": "SYSCALL enable and mode", "FAST-9": "SYSRET", "FAST-12": "non-canonical SYSRET (CVE-2012-0217)",
        "PG-2": "PAE PDPTE reserved bits", "PG-3": "canonical addresses", "PG-6": "user-mode access rights",
        "PG-7": "supervisor writes and CR0.WP", "PG-8": "instruction fetch: XD and SMEP", "PG-9": "SMAP",
        "PG-10": "protection keys", "PG-12": "not present / reserved bit", "PG-15": "TLB",
        "DF-2": "double fault", "DF-4": "triple fault",
        "PRIV-1": "IOPL-sensitive instruction", "PRIV-2": "CPL-0 instruction", "PRIV-3": "MOV to a control register: values that fault or change the mode", "ISA-1": "instruction invalid in this mode", "ISA-2": "UD2, the defined invalid opcode",
        "AC-1": "alignment check: CR0.AM, EFLAGS.AC, CPL 3, misaligned data or stack access",
    ]
}
