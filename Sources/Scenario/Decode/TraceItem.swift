// TraceItem: the spelling a `trace` item of an `expect` is matched in, so that an author's
// `Page Fault`, `#pf`, `Schedule` or `switch A->B` finds the event the engine records.

import Machine

/// Normalises one expected `trace` item to the short forms `TraceEvent.shortForms` produces:
/// - the vocabulary's words in lower case (`Schedule` -> `schedule`, `TLB miss` -> `tlb miss`,
///   `Load DS` -> `load ds`, `Gate 0X80` -> `gate 0x80`), task names kept as written
///   (`User A` -> `user A`, `Switch A->B` -> `switch A -> B`);
/// - exception names in the manual's case (`#pf` -> `#PF`, `gp` -> `GP`) and the SDM's titles in
///   lower case (`Page Fault` -> `page fault`, `General Protection` -> `general protection`);
/// - runs of spaces and tabs as one space, `schedule()` as `schedule`.
/// Any other item (a kernel note such as `B is killed by SIGSEGV`) is kept exactly.
enum TraceItem {
    /// First words that begin an item of the vocabulary with no task name in it.
    private static let keywords: Set<String> = [
        "schedule", "schedule()", "stack", "page", "tlb", "gate", "syscall", "sysenter", "sysexit", "sysret",
        "iret", "retf", "double", "triple", "return", "output", "load", "context", "call",
    ]

    static func canonical(_ text: String) -> String {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first else { return text }
        let head = first.lowercased()
        let joined = words.joined(separator: " ")
        let lower = joined.lowercased()

        // An exception by name (`#pf`, `gp`) in the manual's case, or by title (`Page Fault`) in lower case.
        if let v = ExceptionVector(name: lower) {
            if lower == v.name.lowercased() { return v.name }
            return lower == v.description.lowercased() ? v.description : lower
        }
        switch head {
        case "user", "kernel":
            return ([head] + words.dropFirst()).joined(separator: " ")
        case "switch":
            return "switch" + switchTail(words.dropFirst().joined(separator: " "))
        default:
            guard keywords.contains(head) else { return text }
            return lower == "schedule()" ? "schedule" : lower
        }
    }

    /// The fixed phrases of the vocabulary (without task names or numbers), for "did you mean".
    static let phrases: [String] = [
        "schedule", "stack switch", "page walk", "tlb hit", "tlb miss", "tlb flush", "gate", "syscall", "sysenter",
        "sysexit", "sysret", "iret", "retf", "double fault", "triple fault", "return", "output", "switch",
        "context switch", "task switch", "task gate", "call gate", "user", "kernel",
        "copy-on-write", "copy-on-write fork", "wp_page_copy", "wp_page_reuse",
    ] + ExceptionVector.allCases.map { $0.title.lowercased() }

    /// A "did you mean" for an item (already canonical) that is no phrase of the vocabulary but is close
    /// to one: `page falt` -> `page fault`. Nil for a known form, and for text far from every phrase
    /// (a kernel note, matched as written).
    static func suggestion(for item: String) -> String? {
        let words = item.split(separator: " ").map(String.init)
        let head = words.first ?? ""
        if phrases.contains(item) || ExceptionVector(name: item) != nil { return nil }
        // A system call by its name alone (`read`) or its kernel function (`sys_read`).
        let call = item.hasPrefix("sys_") ? String(item.dropFirst(4)) : item
        if SyscallTable.allNames.contains(call) { return nil }
        // Forms with a task name or a parameter: `user A`, `switch A -> B`, `schedule timer`, `gate 0x80`,
        // `syscall write`, `load ds`, `tlb flush global`.
        if ["user", "kernel", "switch", "schedule", "gate", "syscall", "load"].contains(head) { return nil }
        if words.count > 2, words[0] == "tlb", words[1] == "flush" { return nil }
        if let h = hint(item, phrases) { return h }
        // A form with a task name or a parameter whose first word is misspelt (`usr A`, `kernl B`, `swich A -> B`):
        // one edit away only, since a kernel note may start with a task's name.
        if words.count >= 2,
           let word = parameterHeads.first(where: { editDistance(Array(head), Array($0), atMost: 1) != nil }) {
            return "did you mean '\(([word] + words.dropFirst()).joined(separator: " "))'?"
        }
        return nil
    }

    /// The first words of the forms that carry a task name or a parameter.
    private static let parameterHeads = ["user", "kernel", "switch", "schedule", "gate", "syscall", "load"]

    /// ` A -> B` from `A->B`, `A -> B` or `A  ->B` (empty when nothing follows `switch`).
    private static func switchTail(_ rest: String) -> String {
        guard !rest.isEmpty else { return "" }
        guard let arrow = rest.firstRange(of: "->") else { return " " + rest }
        let from = String(rest[..<arrow.lowerBound]).trimmingWhitespace()
        let to = String(rest[arrow.upperBound...]).trimmingWhitespace()
        return " \(from) -> \(to)"
    }
}
