// Explainer: a run's trace as prose, step by step — mode switches, gate deliveries, stack switches,
// segment checks, page walks, TLB lookups, faults with the rule and SDM section that raised them,
// system calls, schedule() and context switches.

import Machine

public enum Explainer {
    /// Explains the scenarios of a file (or the one named); returns the text and whether all was valid.
    /// `detail`: every micro-event (`full`, the default) or the story a student follows (`brief`).
    public static func explain(file: String, scenario: String?, options: SuiteOptions, detail: ExplainDetail = .full) -> (String, Bool) {
        var out = ""
        var ok = true
        var found = false
        var ids: [String] = []
        for loaded in ScenarioDecoder.load(file: file, display: file, options: options.load) {
            switch loaded {
            case let .invalid(r):
                ids.append(r.id)
                if scenario == nil || r.id == scenario {
                    ok = false
                    found = true
                    out += "scenario \(r.id) is invalid:\n"
                    if case let .invalid(ds) = r.outcome { for d in ds { out += "  \(d)\n" } }
                }
            case let .spec(spec, warnings):
                ids.append(spec.id)
                if let scenario, spec.id != scenario { continue }
                found = true
                var limits = options.run
                limits.keepTrace = true
                let record = Runner.run(spec, file: file, warnings: warnings, limits: limits)
                out += render(spec, record, detail: detail)
            }
        }
        // Ids, descriptions, task names and messages come from the file: terminal controls in them
        // are written visibly, as in the human report, so the prose cannot drive the terminal.
        if !found {
            // The ids the file does hold, nearest first, so that a misspelt --scenario is one step from right.
            let near = hint(scenario ?? "", ids).map { " (\($0))" } ?? ""
            let list = ids.isEmpty ? "it holds no scenario" : "its scenarios: " + ids.joined(separator: ", ")
            return (Escaping.terminal("no scenario '\(scenario ?? "")' in \(file)\(near); \(list)", keepingNewlines: true) + "\n", false)
        }
        return (Escaping.terminal(out, keepingNewlines: true), ok)
    }

    /// Whether a context switch follows the schedule() at `index` before the next schedule() of the step.
    static func switchFollows(_ trace: [TraceEvent], after index: Int, within range: Range<Int>) -> Bool {
        var i = index + 1
        while i < range.upperBound, i < trace.count {
            switch trace[i] {
            case .contextSwitch: return true
            case .schedule: return false
            default: i += 1
            }
        }
        return false
    }

    static func render(_ spec: ScenarioSpec, _ r: RunRecord, detail: ExplainDetail = .full) -> String {
        var out = "scenario \(spec.id)"
        if let d = spec.description { out += "\n  \(d.split(separator: "\n").joined(separator: "\n  "))" }
        out += "\n"
        for (i, range) in r.stepTraceRanges.enumerated() {
            let step = spec.steps[i]
            out += "\nstep \(i + 1) (\(describe(step.event, legacy: spec.machine.mode == .ia32))), line \(step.location.line):\n"
            out += detail == .brief ? briefStep(spec, r, step: i, range: range) : fullStep(spec, r, step: i, range: range)
            if i < r.outcomes.count {
                let o = r.outcomes[i]
                if let ret = o.returns {
                    // A call whose task was switched away (sched_yield) returns when that task runs again.
                    let caller = callerSwitchedAway(r.trace[range])
                    let who = o.returnsBy.map { "the system call \($0) was blocked in" }
                        ?? caller.map { "the system call of \($0) (seen when \($0) runs again)" } ?? "the system call"
                    out += "  = \(who) returns \(ret)\(errnoName(ret))\n"
                }
                if !o.output.isEmpty { out += "  = console output: \(ExpectationChecker.quote(o.output))\n" }
                if detail == .brief { out += briefResults(spec.steps[i].event, o) }
                if let err = o.error { out += "  ! the step could not run: \(err)\n" }
                if o.faults.count > 1 {
                    out += "  = exceptions raised, in order: " + o.faults.map { $0.vector.description }.joined(separator: ", ") + "\n"
                }
            }
            if i < r.outcomes.count, r.outcomes[i].shutdown {
                out += "  = the processor shut down: a fault while delivering #DF is a triple fault (DF-4, \(RuleBook.title("DF-4")); \(RuleBook.reference("DF-4"))); no further step runs\n"
            } else if i < r.stepStates.count {
                let st = r.stepStates[i]
                out += "  = afterwards the CPU runs at CPL \(st.cpl) (\(st.cpl == 3 ? "user" : st.cpl == 0 ? "kernel" : "ring \(st.cpl)") mode)"
                out += spec.kernel.enabled ? " and the current task is \(st.current)\n" : "\n"
            }
        }
        switch r.result.outcome {
        case .passed: out += "\nresult: passed (\(r.result.checkCount) check\(r.result.checkCount == 1 ? "" : "s"))\n"
        case let .failed(fs):
            out += "\nresult: failed\n"
            for f in fs { out += "  \(f)\n" }
        case let .invalid(ds):
            out += "\nresult: invalid\n"
            for d in ds { out += "  \(d)\n" }
        case let .skipped(why): out += "\nresult: skipped (\(why))\n"
        }
        return out
    }

    /// Every micro-event of one step, one sentence each (`explain` without `--brief`).
    static func fullStep(_ spec: ScenarioSpec, _ r: RunRecord, step i: Int, range: Range<Int>) -> String {
        let step = spec.steps[i]
        var out = ""
        // Only the gate of the step's own INT n / INT3 / INTO is a software interrupt's (INT-2): once a
        // fault other than the trap's own #BP/#OF is raised (the INT n's delivery failed), or once that
        // gate was used, a later gate delivers an exception or an interrupt, which ignores the gate DPL.
        var software = isSoftwareInterrupt(step.event)
        // A `wait` or `exit` step makes its call through the task's default entry: `int 0x80` for a 32-bit
        // task, whose gate (the step's first) is then a software interrupt's, checked against its DPL.
        if isImplicitSystemCall(step.event), let first = r.trace[range].first(where: { if case .gate = $0 { true } else { false } }),
           case let .gate(vector, _, _, _, _, _, _) = first, vector == 0x80 {
            software = true
        }
        var pendingHits: [UInt64] = []
        func flushHits() {
            guard !pendingHits.isEmpty else { return }
            out += pendingHits.count == 1 ? "  - " + sentence(.tlb(linear: pendingHits[0], hit: true)) + "\n"
                : "  - TLB hits for \(pendingHits.map { hex($0) }.joined(separator: ", ")): the cached translations are used and no page table is read\n"
            pendingHits = []
        }
        for at in range {
            let e = r.trace[at]
            // A run of TLB hits (the pushes of one stack frame) reads as one line.
            if case let .tlb(linear, true) = e { pendingHits.append(linear); continue }
            flushHits()
            if case let .schedule(reason, atReturn) = e, reason == "timer" {
                // The timer's reason depends on the policy: a used-up slice, or cfs's vruntime lead.
                out += "  - schedule() runs (timer)\(atReturn ? " on the way back from the system call" : ""): \(timerReasonText(spec.kernel.policy))\n"
            } else {
                out += "  - " + sentence(e, softwareInterrupt: software, legacy: spec.machine.mode == .ia32) + "\n"
            }
            if case .schedule = e, !switchFollows(r.trace, after: at, within: range) {
                // schedule() that picks the task it interrupted: the reader would otherwise look for a switch.
                out += "  - schedule() picks the running task again: no ready task comes before it, so it keeps the CPU (with a fresh time slice) and no context switch happens\n"
            }
            switch e {
            case .gate: software = false
            case let .fault(f) where f.vector != .BP && f.vector != .OF: software = false
            default: break
            }
        }
        flushHits()
        if r.trace[range].isEmpty { out += "  - nothing happens that the trace records\n" }
        return out
    }

    /// The step's event in a few words; `legacy` (an ia32 machine) names registers by their 32-bit names.
    static func describe(_ e: KernelEvent, legacy: Bool = false) -> String {
        switch e {
        case let .timer(n): "timer: \(n)"
        case let .irq(v, w): "irq \(v)" + (w.map { " waking \($0)" } ?? "")
        case let .syscall(via, nr, _, _, _): "syscall \(nr) via \(via.rawValue)"
        case let .wait(pid): "wait for \(pid == -1 ? "any child" : "pid \(pid)")"
        case let .exit(code): "exit \(code)"
        case let .exec(i): "exec \(i.intelSyntax(legacy: legacy))"
        case let .access(kind, addr, size, cpl, implicit): "\(kind.rawValue) of \(size) bytes at 0x\(String(addr, radix: 16))" + (cpl.map { " at CPL \($0)" } ?? "") + (implicit ? " (implicit)" : "")
        case .schedule: "schedule()"
        case .setRegisters: "set registers"
        case .setControl: "set control registers"
        case .setMSRs: "set MSRs"
        case .setPages: "edit page-table entries"
        case let .setAll(edits): edits.map { describe($0, legacy: legacy) }.joined(separator: ", ")
        }
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// INT n, INT3 and INTO are software interrupts: only they are checked against the gate's DPL
    /// (INT-2; an exception or an external interrupt ignores the gate's DPL).
    static func isSoftwareInterrupt(_ e: KernelEvent) -> Bool {
        switch e {
        case let .exec(i):
            let text = "\(i)".lowercased()
            return text.hasPrefix("int") && !text.hasPrefix("int1") && !text.hasPrefix("into ") || text == "into"
        case let .syscall(via, _, _, _, _): return via == .int80
        default: return false
        }
    }

    /// The task that made the step's system call when the step dispatched another task before that call
    /// returned to user mode (sched_yield), else nil.
    static func callerSwitchedAway(_ events: ArraySlice<TraceEvent>) -> String? {
        guard events.contains(where: { if case .syscall = $0 { true } else { false } }),
              let first = events.first(where: { if case .modeSwitch = $0 { true } else { false } }),
              case let .modeSwitch(caller, _, _) = first else { return nil }
        var switchedAway = false
        for e in events {
            switch e {
            case let .contextSwitch(from, _, _, _) where from == caller: switchedAway = true
            case let .modeSwitch(task, from, 3) where task == caller && from != 3: return nil
            default: break
            }
        }
        return switchedAway ? caller : nil
    }

    /// The steps that make a system call without naming its entry (`wait`, `exit`).
    static func isImplicitSystemCall(_ e: KernelEvent) -> Bool {
        switch e {
        case .wait, .exit: true
        default: false
        }
    }

    static func errnoName(_ v: Int64) -> String {
        guard v < 0, v != .min, let name = KernelErrno.name(of: -v) else { return "" }
        return " (-\(name))"
    }

    /// Why schedule() ran, in words.
    static func reasonText(_ reason: String) -> String {
        switch reason {
        case "timer": "the timer interrupt set need_resched: the running task used up its time slice (rr, priority), or its vruntime got more than one tick's worth ahead of the smallest ready one (cfs)"
        case "yield": "the task gave up the CPU: sched_yield calls schedule() itself (do_sched_yield), and the call returns when the task runs again"
        case "blocking": "the task blocked (it waits for something) and cannot go on"
        case "exit": "the task exited and will never run again"
        case "wakeup": "a task that was woken is more important than the running one"
        case "syscall_return": "need_resched was set, and the return from the system call is where the kernel checks it"
        case "signal": "a signal changed which task can run (the running task was killed, or a task was woken by one)"
        case "explicit": "the scenario called schedule() itself"
        default: reason
        }
    }

    /// Why the timer set need_resched under a given policy (the scheduling rules of the format).
    static func timerReasonText(_ policy: SchedulingPolicy) -> String {
        switch policy {
        case .cfs: "the timer interrupt set need_resched: the running task's vruntime got more than one tick's worth ahead of the smallest ready one (cfs)"
        case .rr, .priority: "the timer interrupt set need_resched: the running task used up its time slice (\(policy.rawValue))"
        case .fifo: reasonText("timer")
        }
    }

    /// A rule id with the SDM section that states it (RuleBook), for a sentence that tells why.
    static func cited(_ rule: String) -> String { "\(rule), \(RuleBook.reference(rule))" }

    /// The rule that takes the inner stack from the TSS: an IDT delivery (INT-7, or INT-10 in IA-32e
    /// mode) or a CALL through a call gate (FAR-9, or FAR-11 for a 64-bit call gate).
    static func stackRule(callGate: Bool, legacy: Bool) -> String {
        callGate ? (legacy ? "FAR-9" : "FAR-11") : (legacy ? "INT-7" : "INT-10")
    }

    /// One trace event as a sentence.
    /// `legacy`: the machine is in 32-bit protected mode, so registers are EIP/ESP rather than RIP/RSP.
    public static func sentence(_ e: TraceEvent, softwareInterrupt: Bool = false, legacy: Bool = false) -> String {
        let ip = legacy ? "EIP" : "RIP", sp = legacy ? "ESP" : "RSP"
        switch e {
        case let .modeSwitch(task, from, to):
            if from == to { return "\(task) runs in \(to == 3 ? "user" : "kernel") mode (CPL \(to))" }
            return to < from ? "\(task) enters kernel mode: CPL \(from) -> \(to)" : "\(task) returns to \(to == 3 ? "user" : "CPL \(to)") mode: CPL \(from) -> \(to)"
        case let .gate(vector, "task", dpl, from, to, _, pushed):
            // TASK-1/TASK-2: a task gate names a TSS; the delivery is a task switch, not a handler call.
            var s: String
            if let vector {
                let name = ExceptionVector(rawValue: UInt8(truncatingIfNeeded: vector)).map { " (\($0.description))" } ?? ""
                s = "the CPU reads IDT entry \(hex(UInt64(vector)))\(name): a present task gate of DPL \(dpl)"
                s += softwareInterrupt
                    ? "; DPL check: a software interrupt needs CPL <= gate DPL, and CPL \(from) <= \(dpl), so it may use this gate"
                    : "; an exception or external interrupt is not checked against the gate's DPL"
            } else {
                s = "task gate of DPL \(dpl): CPL \(from) and the selector's RPL must be <= \(dpl) (TASK-2), so the far JMP/CALL may pass"
            }
            s += "; a task gate names a TSS, so instead of entering a handler the CPU switches tasks (\(cited("TASK-1")); told next)"
            s += "\n      privilege: CPL \(from) -> \(to) (the new task's CS.RPL), on the new task's stack, SS:ESP loaded from its TSS"
            if !pushed.isEmpty { s += "\n      pushed on the new task's stack: " + pushed.joined(separator: ", ") + " (TASK-7)" }
            return s
        case let .gate(vector, kind, dpl, from, to, switched, pushed):
            var s: String
            if let vector {
                let name = ExceptionVector(rawValue: UInt8(truncatingIfNeeded: vector)).map { " (\($0.description))" } ?? ""
                s = "the CPU reads IDT entry \(hex(UInt64(vector)))\(name): a present \(kind) gate of DPL \(dpl)"
                if softwareInterrupt {
                    s += "; DPL check: a software interrupt needs CPL <= gate DPL, and CPL \(from) <= \(dpl), so it may use this gate"
                } else {
                    s += "; an exception or external interrupt is not checked against the gate's DPL"
                }
                s += kind == "interrupt"
                    ? "; an interrupt gate clears IF (\(cited("INT-9"))), so maskable interrupts wait until IF is set again (STI, or IRET restoring the saved EFLAGS)"
                    : (kind == "trap" ? "; a trap gate leaves IF as it was (\(cited("INT-9"))): interrupts may arrive inside the handler" : "")
            } else {
                let jmp = kind.contains("jmp")
                // SDM Vol. 3A §5.8.4, Table 5-1: CALL needs target DPL <= CPL; JMP a conforming target with DPL <= CPL
                // or a non-conforming one with DPL == CPL (FAR-8).
                let target = jmp ? "the target code segment is conforming with DPL <= CPL or non-conforming with DPL == CPL (FAR-8)"
                    : "the target code segment's DPL <= CPL (FAR-7)"
                s = "call gate of DPL \(dpl): CPL \(from) and the selector's RPL must be <= \(dpl) (FAR-5), and \(target), so the \(jmp ? "JMP" : "CALL") may pass; the CPU enters at the gate's offset, not the instruction's"
                if jmp { s += "; a JMP through a gate never changes privilege (FAR-8)" }
            }
            s += "\n      privilege: CPL \(from) -> \(to)" + (from == to ? " (no change)" : (to < from ? " (more privileged)" : ""))
            if switched && from == to {
                s += ", but the gate names an IST stack, which the CPU switches to whatever the privilege (INT-10; told next: the stack switch)"
            } else {
                s += switched
                    ? ", so the CPU switches to the stack for CPL \(to) (\(cited(stackRule(callGate: vector == nil, legacy: legacy))); told next: the stack switch)"
                    : ", so the CPU stays on the current stack"
            }
            if !pushed.isEmpty {
                s += "\n      pushed on the \(switched ? "new" : "current") stack, in order: " + pushed.joined(separator: ", ")
                s += vector == nil ? " (RETF pops them back)" : " (IRET pops them back" + (pushed.contains { $0.lowercased().contains("error") } ? ", after the handler removes the error code)" : ")")
            }
            return s
        case let .fastEntry(instr, cs, ss, rip, rsp):
            let regs = "CS=\(hex(UInt64(cs))) SS=\(hex(UInt64(ss))) \(ip)=\(hex(rip)) \(sp)=\(hex(rsp))"
            if instr == "syscall" && legacy {
                return "SYSCALL (AMD, legacy mode) enters the kernel at CPL 0 from the MSRs, reading no descriptor table: \(regs) (CS = STAR[47:32], "
                    + "SS = CS + 8, EIP = STAR[31:0]; ECX = the return address; IF, VM and RF cleared; \(cited("FAST-8"))); ESP is not changed"
            }
            if instr == "syscall" {
                return "SYSCALL enters the kernel at CPL 0 from the MSRs, reading no descriptor table: \(regs) (CS = STAR[47:32], SS = CS + 8, "
                    + "\(ip) = LSTAR from 64-bit code, CSTAR from compatibility mode; \(cited("FAST-7"))); RCX = the return address, R11 = RFLAGS, then "
                    + "RFLAGS &= ~FMASK; \(sp) is not changed: the kernel's entry code switches to its own stack"
            }
            if instr == "sysenter" {
                return "SYSENTER enters the kernel at CPL 0 from the MSRs, reading no descriptor table: \(regs) (CS = SYSENTER_CS, SS = SYSENTER_CS + 8, "
                    + "\(ip) = SYSENTER_EIP, \(sp) = SYSENTER_ESP; VM, IF and RF cleared; \(cited("FAST-2"))); nothing is saved: the user's return address and stack travel in registers"
            }
            return "\(instr.uppercased()) enters the kernel from the MSRs: \(regs); no descriptor table is read"
        case let .fastReturn(instr, cs, ss, rip, rsp):
            let regs = "CS=\(hex(UInt64(cs))) SS=\(hex(UInt64(ss))) \(ip)=\(hex(rip)) \(sp)=\(hex(rsp))"
            switch instr {
            case "sysret":
                return "SYSRET returns to CPL 3: \(regs) (CS = STAR[63:48] + 16 for 64-bit code, STAR[63:48] for compatibility mode, SS = STAR[63:48] + 8, "
                    + "each with RPL 3; \(ip) = RCX, RFLAGS = R11; \(cited("FAST-10")))"
            case "sysexit":
                return "SYSEXIT returns to CPL 3: \(regs) (CS = SYSENTER_CS + 16, SS = SYSENTER_CS + 24, each with RPL 3 (+32/+40 for the 64-bit form); "
                    + "\(ip) = EDX, \(sp) = ECX; \(cited("FAST-4")))"
            case "iret":
                if !legacy { return "IRET pops RIP, CS, RFLAGS, RSP and SS (in 64-bit mode always all five; FAR-16): \(regs)" }
                return cs & 3 == 0
                    ? "IRET pops EIP, CS and EFLAGS (a return to the same privilege level: the stack stays; FAR-16): \(regs)"
                    : "IRET pops EIP, CS and EFLAGS, and, as the return CS.RPL is outer, ESP and SS (FAR-16, FAR-13): \(regs)"
            case "retf":
                // RET imm16 adds the immediate twice on an outer return (SDM Vol. 2 RET, "Release parameters
                // from called procedure's stack" / "from calling procedure's stack"): a student asks why ESP moved.
                return "RETF pops \(ip) and CS, and \(sp) and SS when the return CS.RPL is outer (FAR-12, FAR-13); "
                    + "RETF n also releases n bytes of parameters, from the called procedure's stack before \(sp) and SS are popped "
                    + "and again from the caller's stack after: \(regs)"
            default:
                return "\(instr.uppercased()) returns: \(regs)"
            }
        case let .stackSwitch(ss, newSP, source):
            var s = "stack switch: the new stack is SS=\(hex(UInt64(ss))) \(sp)=\(hex(newSP)), read from \(source)"
            if !legacy && !source.contains(":") {
                // INT-10, FAR-11: IA-32e mode loads SS with a null selector whose RPL is the new CPL.
                s += " (in IA-32e mode SS gets a null selector with RPL = the new CPL; an interrupt also aligns RSP down to 16 bytes)"
            }
            return s + "; the old SS and \(sp) are pushed on it so that the return can restore them"
        case let .segmentCheck(reg, sel, detail):
            return "\(reg.uppercased()) <- selector \(hex(UInt64(sel))) (index \(sel >> 3), \(sel & 4 != 0 ? "LDT" : "GDT"), RPL \(sel & 3)): \(detail)"
        case let .pageWalk(linear, entries, phys):
            var s = "page walk for linear address \(hex(linear)), one entry per level:"
            let bits = indexBits(firstLevel: entries.first?.level ?? "")
            for en in entries {
                var which = ""
                if let (high, low) = bits[en.level] {
                    let index = (linear >> UInt64(low)) & ((1 << UInt64(high - low + 1)) - 1)
                    which = " #\(index) (address bits \(high)..\(low))"
                }
                s += "\n      \(en.level)\(which) at physical \(hex(en.address)) = \(hex(en.value)) [\(flagText(en.value))]"
            }
            if let phys {
                s += "\n      -> physical address \(hex(phys))"
            } else if let last = entries.last, last.value & 1 == 0 {
                s += "\n      -> the walk stops at the not-present \(last.level) (see the fault)"
            } else {
                s += "\n      -> no access: a reserved bit is set, or the rights of the entries refuse this access (see the fault)"
            }
            return s
        case let .tlb(linear, hit):
            return hit ? "TLB hit for \(hex(linear)): the cached translation is used and no page table is read (an edited PTE is not seen until INVLPG, or a CR3 write for a non-global page)"
                : "TLB miss for \(hex(linear)): no cached translation, so the CPU walks the page tables"
        case let .tlbFlush(kind, linear):
            let what: String
            switch kind {
            case "cr3": what = "CR3 was loaded, so every non-global translation is dropped (PG-15)"
            case "invlpg": what = "INVLPG drops the translation of that one page, global or not (PG-15)"
            case "all": what = "every translation is dropped, global ones too (PG-15)"
            case "mm": what = "the kernel flushes the address space (flush_tlb_mm): every non-global translation is dropped (PG-15)"
            default: what = "cached translations are dropped (PG-15)"
            }
            return "TLB flush (\(kind)\(linear.map { " " + hex($0) } ?? "")): \(what)"
        case let .fault(f):
            var s = "FAULT \(f.vector) (\(f.vector.title)), vector \(f.vector.rawValue)"
            if let c = f.errorCode { s += ", error code \(hex(UInt64(c))) = " + decodeErrorCode(f.vector, c) }
            if let cr2 = f.cr2 { s += ", CR2=\(hex(cr2)) (the linear address that faulted)" }
            s += "\n      why: rule \(f.rule) (\(RuleBook.title(f.rule)); \(RuleBook.reference(f.rule))): \(f.reason)"
            if let c = f.errorCode { s += "\n      error code bit by bit: " + errorCodeBits(f.vector, c) }
            return s
        case let .escalation(first, second, result):
            // DF-4: a fault while delivering #DF shuts the processor down; DF-2 decides the double fault.
            let rule = first == .DF ? "DF-4" : "DF-2"
            return "\(second) while delivering \(first): \(result) (\(rule); \(RuleBook.reference(rule)))"
        case let .syscall(entry, table, number, name, args):
            return "system call dispatch: entered via \(entry); the kernel looks up number \(number) in the \(table) table and finds \(name), called as \(name)(\(args.map { hex($0) }.joined(separator: ", ")))"
        case let .syscallReturn(name, value):
            return "\(name) is done: its result \(value) goes in \(legacy ? "EAX" : "RAX") for the task's return to user mode"
        case let .schedule(reason, atReturn):
            return "schedule() runs (\(reason))\(atReturn ? " on the way back from the system call" : ""): \(reasonText(reason))"
        case let .contextSwitch(from, to, reason, details):
            var s = "context switch \(from) -> \(to) (\(reason)): \(from)'s registers saved in its task_struct, \(to)'s restored; current = \(to)"
            guard let d = details else { return s }
            s += "\n      kernel stack: \(from)'s \(sp) \(hex(d.savedSP)) saved, "
            s += d.restoredSP.map { "\(to)'s \(hex($0)) restored" } ?? "\(to) starts on its own kernel stack"
            s += legacy ? "; the model finds current from the stack (thread_info at its base: sp & ~(THREAD_SIZE-1)), as ia32 Linux did before 2.6.22; Linux since reads the per-CPU variable current_task"
                : "; current is the per-CPU variable current_task"
            if let field = d.tssField {
                s += "; \(field) = \(hex(d.kernelStackTop)), the top of \(to)'s kernel stack, where its next trap from user mode lands (LNX-6)"
            }
            if d.sysenterESP { s += "; SYSENTER_ESP follows it" }
            s += "\n      address space: "
            s += d.cr3.map { "CR3 = \(hex($0)), \(to)'s page tables (the kernel half is shared, so only the user half changes)" }
                ?? (to == "idle" ? "CR3 stays: the idle task borrows \(from)'s address space (lazy TLB)" : "CR3 stays: \(from) and \(to) share one address space")
            return s
        case let .kernelAction(s):
            return "kernel: \(s)"
        case let .output(task, text):
            return "\(task) writes \(ExpectationChecker.quote(text)) to the console"
        case let .note(s):
            return s
        }
    }

    /// Which bits of the linear address index each level, told by the walk's first level:
    /// PML4E for 4-level paging, PDPTE for PAE, PDE for 32-bit paging (SDM Vol. 3A §4.3-4.5).
    static func indexBits(firstLevel: String) -> [String: (Int, Int)] {
        switch firstLevel {
        case "PML4E": ["PML4E": (47, 39), "PDPTE": (38, 30), "PDE": (29, 21), "PTE": (20, 12)]
        case "PDPTE": ["PDPTE": (31, 30), "PDE": (29, 21), "PTE": (20, 12)]
        case "PDE": ["PDE": (31, 22), "PTE": (21, 12)]
        default: [:]
        }
    }

    static func flagText(_ v: UInt64) -> String {
        var parts: [String] = []
        parts.append(v & 1 != 0 ? "P" : "not present")
        if v & 1 != 0 {
            parts.append(v & 2 != 0 ? "RW" : "RO")
            parts.append(v & 4 != 0 ? "U" : "S")
            if v & 0x20 != 0 { parts.append("A") }
            if v & 0x40 != 0 { parts.append("D") }
            if v & 0x80 != 0 { parts.append("PS") }
            if v & 0x100 != 0 { parts.append("G") }
            if v & (1 << 63) != 0 { parts.append("XD") }
        }
        return parts.joined(separator: " ")
    }

    /// Every bit of an error code with its value and meaning (SEG-8 selector codes, PG-11 page faults).
    public static func errorCodeBits(_ v: ExceptionVector, _ c: UInt32) -> String {
        func bit(_ n: Int) -> Int { Int(c >> UInt32(n) & 1) }
        if v == .PF {
            return ["bit 0 P=\(bit(0)) (\(bit(0) == 0 ? "the page was not present" : bit(3) == 1 ? "the entries were present: a reserved-bit violation" : "the page was present: a protection violation"))",
                    "bit 1 W/R=\(bit(1)) (\(bit(1) == 1 ? "a write" : "a read"))",
                    "bit 2 U/S=\(bit(2)) (\(bit(2) == 1 ? "made at CPL 3" : "a supervisor-mode access: made at CPL 0-2, or an implicit access to the GDT, IDT, LDT or TSS at any CPL (PG-13)"))",
                    "bit 3 RSVD=\(bit(3))\(bit(3) == 1 ? " (a reserved bit was set in an entry)" : "")",
                    "bit 4 I/D=\(bit(4))\(bit(4) == 1 ? " (an instruction fetch)" : "")",
                    "bit 5 PK=\(bit(5))\(bit(5) == 1 ? " (the protection key forbade it)" : "")"].joined(separator: "; ")
        }
        if v == .DF { return "\(c): #DF always pushes an error code of 0 (DF-3)" }
        if v == .AC { return "\(c): #AC always pushes an error code of 0" }
        if c == 0 { return "0: no selector is involved (or the null selector)" }
        return ["bit 0 EXT=\(bit(0)) (\(bit(0) == 1 ? "raised while delivering an event external to the program: an interrupt or an earlier exception" : "caused by the program"))",
                "bit 1 IDT=\(bit(1)) (\(bit(1) == 1 ? "the index is an IDT vector" : "the index is a descriptor-table entry"))",
                bit(1) == 1 ? "bit 2 TI=\(bit(2)) (ignored)" : "bit 2 TI=\(bit(2)) (\(bit(2) == 1 ? "LDT" : "GDT"))",
                bit(1) == 1 ? "bits 15..3 index=\(c >> 3) (IDT vector \(hex(UInt64(c >> 3))))"
                    : "bits 15..3 index=\(c >> 3) (selector \(hex(UInt64(c & 0xFFFC))))"].joined(separator: "; ")
    }

    /// The error code, bit by bit (SEG-8 for selector codes, PG-11 for page faults).
    public static func decodeErrorCode(_ v: ExceptionVector, _ c: UInt32) -> String {
        if v == .PF {
            let bits = [(1, c & 8 != 0 ? "P=1: reserved-bit violation" : "P=1: protection violation", "P=0: page not present"), (2, "W/R=1: write", "W/R=0: read"),
                        (4, "U/S=1: user-mode access", "U/S=0: supervisor-mode access"), (8, "RSVD=1: reserved bit set", ""),
                        (16, "I/D=1: instruction fetch", ""), (32, "PK=1: protection key", "")]
            return "{" + bits.compactMap { b, on, off in c & UInt32(b) != 0 ? on : (off.isEmpty ? nil : off) }.joined(separator: "; ") + "}"
        }
        if c == 0 { return "0" }
        var s = "{index \(c >> 3)"
        if c & 2 != 0 { s += " (IDT vector \(hex(UInt64(c >> 3))))" } else { s += c & 4 != 0 ? " in the LDT" : " in the GDT" }
        s += c & 1 != 0 ? ", EXT=1: raised while delivering an earlier event" : ", EXT=0"
        return s + "}"
    }
}
