// Explainer: a run's trace as prose, step by step — mode switches, gate deliveries, stack switches,
// segment checks, page walks, TLB lookups, faults with the rule and SDM section that raised them,
// system calls, schedule() and context switches.

import Machine

public enum Explainer {
    /// Explains the scenarios of a file (or the one named); returns the text and whether all was valid.
    public static func explain(file: String, scenario: String?, options: SuiteOptions) -> (String, Bool) {
        var out = ""
        var ok = true
        var found = false
        for loaded in ScenarioDecoder.load(file: file, display: file, options: options.load) {
            switch loaded {
            case let .invalid(r):
                if scenario == nil || r.id == scenario {
                    ok = false
                    found = true
                    out += "scenario \(r.id) is invalid:\n"
                    if case let .invalid(ds) = r.outcome { for d in ds { out += "  \(d)\n" } }
                }
            case let .spec(spec, warnings):
                if let scenario, spec.id != scenario { continue }
                found = true
                var limits = options.run
                limits.keepTrace = true
                let record = Runner.run(spec, file: file, warnings: warnings, limits: limits)
                out += render(spec, record)
            }
        }
        if !found {
            return ("no scenario '\(scenario ?? "")' in \(file)\n", false)
        }
        return (out, ok)
    }

    static func render(_ spec: ScenarioSpec, _ r: RunRecord) -> String {
        var out = "scenario \(spec.id)"
        if let d = spec.description { out += "\n  \(d.split(separator: "\n").joined(separator: "\n  "))" }
        out += "\n"
        for (i, range) in r.stepTraceRanges.enumerated() {
            let step = spec.steps[i]
            out += "\nstep \(i + 1) (\(describe(step.event))), line \(step.location.line):\n"
            for e in r.trace[range] { out += "  - " + sentence(e) + "\n" }
            if i < r.outcomes.count {
                let o = r.outcomes[i]
                if let ret = o.returns { out += "  = the system call returns \(ret)\n" }
                if !o.output.isEmpty { out += "  = console output: \(ExpectationChecker.quote(o.output))\n" }
                if let err = o.error { out += "  ! the step could not run: \(err)\n" }
            }
        }
        switch r.result.outcome {
        case .passed: out += "\nresult: passed (\(r.result.checkCount) checks)\n"
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

    static func describe(_ e: KernelEvent) -> String {
        switch e {
        case let .timer(n): "timer: \(n)"
        case let .irq(v, w): "irq \(v)" + (w.map { " waking \($0)" } ?? "")
        case let .syscall(via, nr, _, _): "syscall \(nr) via \(via.rawValue)"
        case let .wait(pid): "wait for \(pid == -1 ? "any child" : "pid \(pid)")"
        case let .exit(code): "exit \(code)"
        case let .exec(i): "exec \(i.intelSyntax)"
        case let .access(kind, addr, size, cpl, implicit): "\(kind.rawValue) of \(size) bytes at 0x\(String(addr, radix: 16))" + (cpl.map { " at CPL \($0)" } ?? "") + (implicit ? " (implicit)" : "")
        case .schedule: "schedule()"
        case .setRegisters: "set registers"
        case .setControl: "set control registers"
        case .setMSRs: "set MSRs"
        case .setPages: "edit page-table entries"
        }
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// One trace event as a sentence.
    public static func sentence(_ e: TraceEvent) -> String {
        switch e {
        case let .modeSwitch(task, from, to):
            if from == to { return "\(task) runs in \(to == 3 ? "user" : "kernel") mode (CPL \(to))" }
            return to < from ? "\(task) enters kernel mode: CPL \(from) -> \(to)" : "\(task) returns to \(to == 3 ? "user" : "CPL \(to)") mode: CPL \(from) -> \(to)"
        case let .gate(vector, kind, dpl, from, to, switched, pushed):
            var s = vector.map { "IDT vector \(hex(UInt64($0))): \(kind) gate" } ?? kind
            s += ", DPL \(dpl); CPL \(from) -> \(to)"
            s += switched ? ", with a stack switch" : ", on the same stack"
            if !pushed.isEmpty { s += "; pushed " + pushed.joined(separator: ", ") }
            return s
        case let .fastEntry(instr, cs, ss, ip, sp):
            return "\(instr.uppercased()) enters the kernel from the MSRs: CS=\(hex(UInt64(cs))) SS=\(hex(UInt64(ss))) RIP=\(hex(ip)) RSP=\(hex(sp)); no descriptor table is read"
        case let .fastReturn(instr, cs, ss, ip, sp):
            return "\(instr.uppercased()) returns: CS=\(hex(UInt64(cs))) SS=\(hex(UInt64(ss))) RIP=\(hex(ip)) RSP=\(hex(sp))"
        case let .stackSwitch(ss, sp, source):
            return "stack switch to SS=\(hex(UInt64(ss))) SP=\(hex(sp)) taken from \(source)"
        case let .segmentCheck(reg, sel, detail):
            return "\(reg.uppercased()) <- selector \(hex(UInt64(sel))) (index \(sel >> 3), \(sel & 4 != 0 ? "LDT" : "GDT"), RPL \(sel & 3)): \(detail)"
        case let .pageWalk(linear, entries, phys):
            var s = "page walk for \(hex(linear)):"
            for en in entries { s += " \(en.level)@\(hex(en.address))=\(hex(en.value)) [\(flagText(en.value))]" }
            s += phys.map { " -> physical \(hex($0))" } ?? " -> fault"
            return s
        case let .tlb(linear, hit):
            return "TLB \(hit ? "hit" : "miss") for \(hex(linear))"
        case let .tlbFlush(kind, linear):
            return "TLB flush (\(kind)\(linear.map { " " + hex($0) } ?? ""))"
        case let .fault(f):
            var s = "FAULT \(f.vector) (\(f.vector.title)), vector \(f.vector.rawValue)"
            if let c = f.errorCode { s += ", error code \(hex(UInt64(c))) = " + decodeErrorCode(f.vector, c) }
            if let cr2 = f.cr2 { s += ", CR2=\(hex(cr2))" }
            s += "\n      rule \(f.rule) (\(RuleBook.title(f.rule)); \(RuleBook.reference(f.rule))): \(f.reason)"
            return s
        case let .escalation(first, second, result):
            return "\(second) while delivering \(first): \(result) (DF-2; \(RuleBook.reference("DF-2")))"
        case let .syscall(entry, table, number, name, args):
            return "system call via \(entry): \(table) table, number \(number) = \(name)(\(args.map { hex($0) }.joined(separator: ", ")))"
        case let .syscallReturn(name, value):
            return "\(name) returns \(value)"
        case let .schedule(reason):
            return "schedule() runs (\(reason))"
        case let .contextSwitch(from, to, reason):
            return "context switch \(from) -> \(to) (\(reason)): \(from)'s registers saved in its task_struct, \(to)'s restored; current = \(to)"
        case let .kernelAction(s):
            return "kernel: \(s)"
        case let .output(task, text):
            return "\(task) writes \(ExpectationChecker.quote(text)) to the console"
        case let .note(s):
            return s
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

    /// The error code, bit by bit (SEG-8 for selector codes, PG-11 for page faults).
    public static func decodeErrorCode(_ v: ExceptionVector, _ c: UInt32) -> String {
        if v == .PF {
            let bits = [(1, "P: protection violation", "P=0: page not present"), (2, "W/R=1: write", "W/R=0: read"),
                        (4, "U/S=1: user-mode access", "U/S=0: supervisor-mode access"), (8, "RSVD=1: reserved bit set", ""),
                        (16, "I/D=1: instruction fetch", ""), (32, "PK=1: protection key", "")]
            return "{" + bits.compactMap { b, on, off in c & UInt32(b) != 0 ? on : (off.isEmpty ? nil : off) }.joined(separator: "; ") + "}"
        }
        if c == 0 { return "0" }
        var s = "{index \(c >> 3)"
        if c & 2 != 0 { s += " (IDT vector \(c >> 3))" } else { s += c & 4 != 0 ? " in the LDT" : " in the GDT" }
        s += c & 1 != 0 ? ", EXT=1: an external event" : ", EXT=0"
        return s + "}"
    }
}
