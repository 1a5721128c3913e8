// ExpectationChecker: compares one check against what a step (or the whole run) did, and says
// precisely what differed.

import Machine

enum ExpectationChecker {
    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    static func describe(_ f: Fault) -> String {
        var s = f.vector.name
        if let c = f.errorCode { s += " error_code=\(hex(UInt64(c)))" }
        if let c = f.cr2 { s += " cr2=\(hex(c))" }
        return s
    }

    static func describe(_ m: FaultMatcher) -> String {
        var s = m.vector.name
        if let e = m.errorCode {
            switch e {
            case let .exact(c): s += " error_code=\(hex(UInt64(c)))"
            case let .selector(sel, idt, ext):
                let parts = [sel.map { "selector \(hex(UInt64($0)))" }, idt.map { "idt \($0)" }, ext.map { "ext \($0)" }].compactMap { $0 }
                s += " error_code={\(parts.joined(separator: ", "))}"
            case let .page(p, w, u, rsvd, i, pk):
                let parts = [("p", p), ("w", w), ("u", u), ("rsvd", rsvd), ("i", i), ("pk", pk)].compactMap { k, v in v.map { "\(k): \($0)" } }
                s += " error_code={\(parts.joined(separator: ", "))}"
            }
        }
        if let c = m.cr2 { s += " cr2=\(hex(c))" }
        return s
    }

    /// Every field of `m` that `f` does not match, in the matcher's order: (field, expected,
    /// actual), the field `vector`, `error_code`, `error_code.p`, ..., `cr2`. Empty when it matches.
    static func mismatches(_ m: FaultMatcher, _ f: Fault) -> [(String, String, String)] {
        var out: [(String, String, String)] = []
        if m.vector != f.vector { out.append(("vector", m.vector.name, f.vector.name)) }
        if let e = m.errorCode {
            let code = f.errorCode ?? 0
            switch e {
            case let .exact(c):
                if f.errorCode != c { out.append(("error_code", hex(UInt64(c)), f.errorCode.map { hex(UInt64($0)) } ?? "no error code")) }
            case let .selector(sel, idt, ext):
                if let sel, UInt32(sel) & 0xFFFC != code & 0xFFFC { out.append(("error_code.selector", hex(UInt64(sel)), hex(UInt64(code & 0xFFFC)))) }
                if let idt, (code & 2 != 0) != idt { out.append(("error_code.idt", "\(idt)", "\(code & 2 != 0)")) }
                if let ext, (code & 1 != 0) != ext { out.append(("error_code.ext", "\(ext)", "\(code & 1 != 0)")) }
            case let .page(p, w, u, rsvd, i, pk):
                for (name, want, bit) in [("p", p, 1), ("w", w, 2), ("u", u, 4), ("rsvd", rsvd, 8), ("i", i, 16), ("pk", pk, 32)] as [(String, Bool?, UInt32)] {
                    if let want, (code & bit != 0) != want { out.append(("error_code.\(name)", "\(want)", "\(code & bit != 0) (error code \(hex(UInt64(code))))")) }
                }
            }
        }
        if let c = m.cr2, f.cr2 != c { out.append(("cr2", hex(c), f.cr2.map { hex($0) } ?? "none")) }
        return out
    }

    /// A wrong `error_code.selector` with the names of the table entries it compared, when they have
    /// names: `expected 0x78 (user_ds), got 0x68 (kernel_ds)`, so that a student who wrote `user_ds`
    /// reads the names back rather than two numbers (SEG-8: the error code's index and TI bits).
    static func namingSelectors(_ f: CheckFailure, _ names: SelectorNames) -> CheckFailure {
        guard f.path.hasSuffix("error_code.selector") else { return f }
        func named(_ text: String) -> String {
            guard text.hasPrefix("0x"), let v = Int(text.dropFirst(2), radix: 16) else { return text }
            let table = v & 4 != 0 ? names.ldt : names.gdt
            guard let name = table.filter({ $0.value == v >> 3 }).map(\.key).min() else { return text }
            return "\(text) (\(name))"
        }
        var out = f
        out.expected = named(f.expected)
        out.actual = named(f.actual)
        return out
    }

    /// Whether a fault matches `m` in every field.
    static func matches(_ m: FaultMatcher, _ f: Fault) -> Bool { mismatches(m, f).isEmpty }

    /// Why a task that kill(2) signalled is still alive when it is pid 1 (nil when no signal was ignored).
    static func initNote(_ task: String, system: System) -> String? {
        let ignored = system.signalsIgnoredAsInit(task)
        guard !ignored.isEmpty else { return nil }
        return "\(task) is pid 1, init, which ignores every signal kill sends it (SIGNAL_UNKILLABLE; kernel/signal.c "
            + "sig_task_ignored): \(ignored.joined(separator: ", ")) had no effect. Give \(task) another pid (`pid: 100`) "
            + "to make it an ordinary process"
    }

    static func fail(_ c: Check, _ expected: String, _ actual: String, sub: String? = nil, note: String? = nil) -> CheckFailure {
        // The field, else the element or mapping key holding it, else the check.
        let at = sub.flatMap { sub in
            let parts = sub.split(separator: ".")
            return (1...max(parts.count, 1)).reversed().lazy.compactMap { c.location(ofField: parts.prefix($0).joined(separator: ".")) }.first
        } ?? c.location
        return CheckFailure(path: sub.map { $0.hasPrefix("[") ? c.path + $0 : "\(c.path).\($0)" } ?? c.path,
                            expected: expected, actual: actual, location: at, note: note)
    }

    /// The failures of a map-valued check, one per wrong field (field nil: the check as a whole),
    /// each with its own path and location, in the order the fields are written (fields not
    /// found in the text keep their place after the ones that are). They are one check for
    /// grading: each carries `check`, the check's path. `note` goes with the last.
    static func failFields(_ c: Check, _ fields: [(field: String?, expected: String, actual: String)], note: String? = nil) -> [CheckFailure] {
        var out = fields.map { f in
            var failure = fail(c, f.expected, f.actual, sub: f.field)
            failure.check = c.path
            return failure
        }
        if c.fields != nil {
            // Stable: by where each field is written.
            let numbered: [(offset: Int, element: CheckFailure)] = Array(out.enumerated())
            out = numbered.sorted { (a, b) -> Bool in
                if a.element.location != b.element.location { return a.element.location < b.element.location }
                return a.offset < b.offset
            }.map { $0.element }
        }
        // The note (the rule that raised the fault, the switches compared) comes after the fields.
        if !out.isEmpty { out[out.count - 1].note = note }
        return out
    }

    /// The failures of one check of a step: none when it passes; one, or for a map-valued check
    /// (`fault`, `gate`, `entry`, `switch`) one per wrong field, all counting as one failed check.
    static func check(_ c: Check, outcome o: StepOutcome, system: System, trace: [TraceEvent], range: Range<Int>) -> [CheckFailure] {
        one(c, outcome: o, system: system, trace: trace, range: range).map { [$0] } ?? fields(c, outcome: o, system: system)
    }

    /// The failures of the map-valued checks of a step, one per wrong field, once `one` found the
    /// check can be compared field by field (the fault, gate, entry or switch happened); none for
    /// the other checks.
    static func fields(_ c: Check, outcome o: StepOutcome, system: System) -> [CheckFailure] {
        switch c.kind {
        case let .fault(m?):
            guard let f = SoftwareExceptionFaults.forFault(m, o.faults).first else { return [] }
            let wrong = mismatches(m, f).map { (field: $0.0 == "vector" ? nil : Optional($0.0), expected: $0.1, actual: $0.2) }
            return failFields(c, wrong, note: "raised by \(f.rule) (\(RuleBook.reference(f.rule))): \(f.reason)")
        case let .faults(ms):
            let actual = SoftwareExceptionFaults.forFaults(ms, o.faults)
            guard ms.count == actual.count else { return [] }
            var wrong: [(field: String?, expected: String, actual: String)] = []
            var last: Fault?
            for (i, (m, f)) in zip(ms, actual).enumerated() {
                let fieldsWrong = mismatches(m, f)
                if !fieldsWrong.isEmpty { last = f }
                wrong += fieldsWrong.map { (field: Optional("[\(i)].\($0.0)"), expected: $0.1, actual: $0.2) }
            }
            return failFields(c, wrong, note: last.map { "raised by \($0.rule) (\(RuleBook.reference($0.rule))): \($0.reason)" })
        case let .gate(g?):
            guard let d = o.gate else { return [] }
            var wrong: [(field: String?, expected: String, actual: String)] = []
            if let v = g.vector, d.vector != v { wrong.append(("vector", hex(UInt64(v)), d.vector.map { hex(UInt64($0)) } ?? (d.type == "task" ? "a GDT/LDT task gate (no vector)" : "a call gate"))) }
            if let t = g.type, d.type != t { wrong.append(("type", t, d.type)) }
            if let x = g.dpl, d.dpl != x { wrong.append(("dpl", "\(x)", "\(d.dpl)")) }
            if let x = g.fromCPL, d.fromCPL != x { wrong.append(("from_cpl", "\(x)", "\(d.fromCPL)")) }
            if let x = g.toCPL, d.toCPL != x { wrong.append(("to_cpl", "\(x)", "\(d.toCPL)")) }
            if let x = g.stackSwitch, d.stackSwitch != x { wrong.append(("stack_switch", "\(x)", "\(d.stackSwitch)")) }
            if let x = g.interruptsEnabled, d.interruptsEnabled != x { wrong.append(("if", "\(x)", "\(d.interruptsEnabled)")) }
            return failFields(c, wrong)
        case let .entry(e):
            guard let r = o.entry else { return [] }
            var wrong: [(field: String?, expected: String, actual: String)] = []
            if let x = e.via, r.via != x { wrong.append(("via", x, r.via)) }
            if let x = e.cs, r.cs != x { wrong.append(("cs", hex(UInt64(x)), hex(UInt64(r.cs)))) }
            if let x = e.ss, r.ss != x { wrong.append(("ss", hex(UInt64(x)), hex(UInt64(r.ss)))) }
            if let x = e.ip, r.ip != x { wrong.append((e.ipKey, hex(x), hex(r.ip))) }
            if let x = e.sp, r.sp != x { wrong.append((e.spKey, hex(x), hex(r.sp))) }
            if let x = e.cpl, r.cpl != x { wrong.append(("cpl", "\(x)", "\(r.cpl)")) }
            return failFields(c, wrong)
        case let .switchTo(m?):
            typealias Field = (field: String, want: String?, got: (SwitchRecord) -> String, ok: (SwitchRecord) -> Bool)
            let fromField: Field = ("from", m.from, { (sw: SwitchRecord) -> String in sw.from }, { (sw: SwitchRecord) -> Bool in m.from == nil || sw.from == m.from })
            let toField: Field = ("to", m.to, { (sw: SwitchRecord) -> String in sw.to }, { (sw: SwitchRecord) -> Bool in m.to == nil || sw.to == m.to })
            let reasonField: Field = ("reason", m.reason, { (sw: SwitchRecord) -> String in sw.reason }, { (sw: SwitchRecord) -> Bool in
                m.reason == nil || sw.reason == m.reason || (m.reason == "syscall_return" && sw.atSyscallReturn)
            })
            let wanted = [fromField, toField, reasonField]
            guard !o.switches.isEmpty, !o.switches.contains(where: { sw in wanted.allSatisfy { $0.ok(sw) } }) else { return [] }
            // Compared field by field with the switch that matches the most fields (the first of those).
            var best = o.switches[0]
            var bestCount = -1
            for sw in o.switches {
                let n = wanted.filter { $0.ok(sw) }.count
                if n > bestCount { best = sw; bestCount = n }
            }
            let wrong = wanted.filter { !$0.ok(best) }.map { (field: Optional($0.field), expected: $0.want ?? "*", actual: $0.got(best)) }
            let text = { (sw: SwitchRecord) -> String in "\(sw.from) -> \(sw.to) (\(sw.reason))" }
            let note = o.switches.count > 1
                ? "compared with \(text(best)), the closest of the step's context switches: " + o.switches.map(text).joined(separator: ", ")
                : "the step's context switch: \(text(best))"
            return failFields(c, wrong, note: note)
        case .process:
            return checkFinal(c, system: system)
        default:
            return []
        }
    }

    /// The failure of a check of a step that is not map-valued, or that fails as a whole (`gate`
    /// expected and none happened, ...); nil when it passes or when `fields` compares it.
    static func one(_ c: Check, outcome o: StepOutcome, system: System, trace: [TraceEvent], range: Range<Int>) -> CheckFailure? {
        let cpu = system.machine.cpu
        switch c.kind {
        case let .fault(m):
            guard let m else {
                if let f = o.faults.first { return fail(c, "none", describe(f), note: "raised by \(f.rule) (\(RuleBook.reference(f.rule))): \(f.reason)") }
                return nil
            }
            guard o.faults.first != nil else { return fail(c, describe(m), "no fault") }
        case let .faults(ms):
            // A list of other exceptions fails as a whole; the same exceptions with a wrong error
            // code or CR2 fail field by field (`fields`), as `fault` does.
            let actual = SoftwareExceptionFaults.forFaults(ms, o.faults)
            if actual.count != ms.count || zip(ms, actual).contains(where: { $0.vector != $1.vector }) {
                return fail(c, "[" + ms.map(describe).joined(separator: ", ") + "]", "[" + o.faults.map(describe).joined(separator: ", ") + "]")
            }
        case let .gate(g):
            if g == nil {
                if let d = o.gate { return fail(c, "none", "a delivery through \(d.type) gate\(d.vector.map { " " + hex(UInt64($0)) } ?? "")") }
                return nil
            }
            if o.gate == nil { return fail(c, "a gate delivery", "none") }
        case let .entry(e):
            if o.entry == nil { return fail(c, e.via ?? "a kernel entry", "no entry into the kernel") }
        case let .cpl(x):
            if cpu.cpl != x { return fail(c, "\(x)", "\(cpu.cpl)") }
        case let .register(name, x):
            let actual = registerValue(name, system.machine)
            let bits = SegmentRegisterName(rawValue: name) != nil || name == "tr" || name == "ldtr" ? 64 : DecodeContext.registerBits(name)
            let mask: UInt64 = (bits == 64 ? ~0 : (1 << UInt64(bits)) - 1) & (system.machine.mode == .ia32 ? 0xFFFF_FFFF : ~0)
            if actual & mask != x & mask { return fail(c, hex(x), hex(actual)) }
        case let .flag(name, x):
            let actual = name == "iopl" ? UInt64(RFLAGS.iopl(of: cpu.rflags)) : cpu.rflags & (DecodeContext.rflagsKeys.first { $0.0 == name }?.1 ?? 0)
            if actual != x {
                return name == "iopl" ? fail(c, "\(x)", "\(actual)") : fail(c, "\(x != 0)", "\(actual != 0)")
            }
        case let .returns(x):
            guard let r = o.returns else { return fail(c, "\(x)", noReturnText(o.dispatched)) }
            if r != x { return fail(c, errnoText(x), errnoText(r)) }
        case let .output(s):
            if o.output != s {
                let (e, a) = ReportClamp.quotedPair(s, o.output, quote: quote)
                return fail(c, e, a)
            }
        case let .switchTo(m):
            guard let m else {
                if let s = o.switches.first { return fail(c, "none", "\(s.from) -> \(s.to) (\(s.reason))") }
                return nil
            }
            if o.switches.isEmpty { return fail(c, "\(m.from ?? "*") -> \(m.to ?? "*")\(m.reason.map { " (\($0))" } ?? "")", "no context switch") }
        case let .current(name):
            if system.currentTaskName != name { return fail(c, name, system.currentTaskName) }
        case let .state(task, st):
            guard let actual = system.taskState(task) else { return fail(c, st.rawValue, "no task named '\(task)'") }
            if actual != st { return fail(c, st.rawValue, actual.rawValue, note: initNote(task, system: system)) }
        case let .signal(s):
            if o.signal != s { return fail(c, s ?? "none", o.signal ?? "none") }
        case let .shutdown(b):
            if o.shutdown != b { return fail(c, "\(b)", "\(o.shutdown)") }
        case let .trace(wanted):
            var i = range.lowerBound
            for w in wanted {
                var found = false
                while i < range.upperBound {
                    let forms = trace[i].shortForms
                    i += 1
                    if forms.contains(w) { found = true; break }
                }
                if !found {
                    let seen = trace[range].map { $0.shortForms.first ?? "" }.joined(separator: ", ")
                    return fail(c, "'\(w)' (in order)", "[\(seen)]")
                }
            }
        case let .physical(x):
            guard let a = o.access else { return fail(c, hex(x), "no successful access") }
            if a.physical != x { return fail(c, hex(x), hex(a.physical)) }
        case let .accessed(b):
            guard let a = o.access else { return fail(c, "\(b)", "no successful access") }
            if a.accessed != b { return fail(c, "\(b)", "\(a.accessed)") }
        case let .dirty(b):
            guard let a = o.access else { return fail(c, "\(b)", "no successful access") }
            if a.dirty != b { return fail(c, "\(b)", "\(a.dirty)") }
        default:
            return finalOne(c, system: system)
        }
        return nil
    }

    /// The failures of a check of the whole run (`processes` field by field, as `check`'s map-valued checks).
    static func checkFinal(_ c: Check, system: System) -> [CheckFailure] {
        if case let .process(task, m) = c.kind {
            guard let p = system.processSummary(task) else { return [fail(c, "a task named '\(task)'", "none")] }
            var wrong: [(field: String?, expected: String, actual: String)] = []
            if let s = m.state, p.state != s { wrong.append(("state", s.rawValue, p.state.rawValue)) }
            if let e = m.exitCode, p.exitCode != e { wrong.append(("exit_code", "\(e)", p.exitCode.map { "\($0)" } ?? "none (not exited)")) }
            if let s = m.signal, p.signal != s { wrong.append(("signal", s ?? "none", p.signal ?? "none")) }
            if let t = m.ticks, Int64(p.ticks) != t { wrong.append(("ticks", "\(t)", "\(p.ticks)")) }
            let killedWanted = wrong.contains { $0.field == "state" || $0.field == "signal" }
            return failFields(c, wrong, note: killedWanted ? initNote(task, system: system) : nil)
        }
        return finalOne(c, system: system).map { [$0] } ?? []
    }

    static func finalOne(_ c: Check, system: System) -> CheckFailure? {
        switch c.kind {
        case let .schedule(list):
            if system.dispatchOrder != list { return fail(c, "[" + list.joined(separator: ", ") + "]", "[" + system.dispatchOrder.joined(separator: ", ") + "]") }
        case let .switchCount(n):
            if Int64(system.switchCount) != n { return fail(c, "\(n)", "\(system.switchCount)") }
        case let .faultCount(n):
            if Int64(system.faultCount) != n { return fail(c, "\(n)", "\(system.faultCount)") }
        case let .totalOutput(s):
            if system.totalOutput != s {
                let (e, a) = ReportClamp.quotedPair(s, system.totalOutput, quote: quote)
                return fail(c, e, a)
            }
        case let .shutdown(b):
            if system.machine.shutdown != b { return fail(c, "\(b)", "\(system.machine.shutdown)") }
        default:
            return nil
        }
        return nil
    }

    static func registerValue(_ name: String, _ m: Machine) -> UInt64 {
        let cpu = m.cpu
        if let s = SegmentRegisterName(rawValue: name) { return UInt64(cpu[segment: s].selector) }
        switch name {
        case "rip", "eip": return cpu.rip
        case "rsp", "esp": return cpu[.rsp]
        case "rflags", "eflags": return cpu.rflags
        case "cr0": return cpu.cr0
        case "cr2": return cpu.cr2
        case "cr3": return cpu.cr3
        case "cr4": return cpu.cr4
        case "tr": return UInt64(cpu.tr.selector)
        case "ldtr": return UInt64(cpu.ldtr.selector)
        default:
            guard let r = GPR(name: name) else { return 0 }
            var v = cpu[r]
            let n = name.lowercased()
            if n.hasPrefix("e") || n.hasSuffix("d") { v &= 0xFFFF_FFFF } else if n.count == 2 && !n.hasPrefix("r") { v &= 0xFFFF }
            return v
        }
    }

    /// Why a step has no return value, naming the call it dispatched: `exit` through int 0x80 is
    /// number 1 in the i386 table, where a student may have meant write (seed concept 4).
    static func noReturnText(_ call: DispatchedCall?) -> String {
        guard let call else { return "no return value: the step made no system call and dispatched no task whose call returns" }
        return "no return value: the step called \(call.name) (number \(call.number) in the \(call.table) table), which did not return to user mode"
    }

    static func errnoText(_ v: Int64) -> String {
        // Int64.min has no negation (an expected `returns` may be written as -2^63).
        if v < 0, v != .min, let name = KernelErrno.name(of: -v) { return "\(v) (-\(name))" }
        // An address (mmap, brk) reads as one.
        if v >= 0x10000 { return hex(UInt64(v)) }
        return "\(v)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if ch.value < 0x20 || ch.value == 0x7F { out += "\\x" + String(ch.value, radix: 16) } else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}
