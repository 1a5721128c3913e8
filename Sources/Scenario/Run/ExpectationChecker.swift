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
                s += " error_code={selector \(hex(UInt64(sel)))\(idt.map { ", idt \($0)" } ?? "")\(ext.map { ", ext \($0)" } ?? "")}"
            case let .page(p, w, u, rsvd, i, pk):
                let parts = [("p", p), ("w", w), ("u", u), ("rsvd", rsvd), ("i", i), ("pk", pk)].compactMap { k, v in v.map { "\(k): \($0)" } }
                s += " error_code={\(parts.joined(separator: ", "))}"
            }
        }
        if let c = m.cr2 { s += " cr2=\(hex(c))" }
        return s
    }

    /// Whether a fault matches; returns the first mismatching field (name, expected, actual) or nil.
    static func mismatch(_ m: FaultMatcher, _ f: Fault) -> (String, String, String)? {
        if m.vector != f.vector { return ("vector", m.vector.name, f.vector.name) }
        if let e = m.errorCode {
            let code = f.errorCode ?? 0
            switch e {
            case let .exact(c):
                if f.errorCode != c { return ("error_code", hex(UInt64(c)), f.errorCode.map { hex(UInt64($0)) } ?? "no error code") }
            case let .selector(sel, idt, ext):
                if UInt32(sel) & 0xFFFC != code & 0xFFFC { return ("error_code.selector", hex(UInt64(sel)), hex(UInt64(code & 0xFFFC))) }
                if let idt, (code & 2 != 0) != idt { return ("error_code.idt", "\(idt)", "\(code & 2 != 0)") }
                if let ext, (code & 1 != 0) != ext { return ("error_code.ext", "\(ext)", "\(code & 1 != 0)") }
            case let .page(p, w, u, rsvd, i, pk):
                for (name, want, bit) in [("p", p, 1), ("w", w, 2), ("u", u, 4), ("rsvd", rsvd, 8), ("i", i, 16), ("pk", pk, 32)] as [(String, Bool?, UInt32)] {
                    if let want, (code & bit != 0) != want { return ("error_code.\(name)", "\(want)", "\(code & bit != 0) (error code \(hex(UInt64(code))))") }
                }
            }
        }
        if let c = m.cr2, f.cr2 != c { return ("cr2", hex(c), f.cr2.map { hex($0) } ?? "none") }
        return nil
    }

    static func fail(_ c: Check, _ expected: String, _ actual: String, sub: String? = nil, note: String? = nil) -> CheckFailure {
        let at = sub.flatMap { c.location(ofField: $0) ?? c.location(ofField: String($0.split(separator: ".").first ?? "")) } ?? c.location
        return CheckFailure(path: sub.map { "\(c.path).\($0)" } ?? c.path, expected: expected, actual: actual, location: at, note: note)
    }

    static func check(_ c: Check, outcome o: StepOutcome, system: System, trace: [TraceEvent], range: Range<Int>) -> CheckFailure? {
        let cpu = system.machine.cpu
        switch c.kind {
        case let .fault(m):
            guard let m else {
                if let f = o.faults.first { return fail(c, "none", describe(f), note: "raised by \(f.rule) (\(RuleBook.reference(f.rule))): \(f.reason)") }
                return nil
            }
            guard let f = o.faults.first else { return fail(c, describe(m), "no fault") }
            if let (field, e, a) = mismatch(m, f) {
                return fail(c, e, a, sub: field == "vector" ? nil : field, note: "raised by \(f.rule) (\(RuleBook.reference(f.rule))): \(f.reason)")
            }
        case let .faults(ms):
            let actual = o.faults
            if actual.count != ms.count || zip(ms, actual).contains(where: { mismatch($0, $1) != nil }) {
                return fail(c, "[" + ms.map(describe).joined(separator: ", ") + "]", "[" + actual.map(describe).joined(separator: ", ") + "]")
            }
        case let .gate(g):
            guard let g else {
                if let d = o.gate { return fail(c, "none", "a delivery through \(d.type) gate \(d.vector.map { hex(UInt64($0)) } ?? "")") }
                return nil
            }
            guard let d = o.gate else { return fail(c, "a gate delivery", "none") }
            if let v = g.vector, d.vector != v { return fail(c, hex(UInt64(v)), d.vector.map { hex(UInt64($0)) } ?? "a call gate", sub: "vector") }
            if let t = g.type, d.type != t { return fail(c, t, d.type, sub: "type") }
            if let x = g.dpl, d.dpl != x { return fail(c, "\(x)", "\(d.dpl)", sub: "dpl") }
            if let x = g.fromCPL, d.fromCPL != x { return fail(c, "\(x)", "\(d.fromCPL)", sub: "from_cpl") }
            if let x = g.toCPL, d.toCPL != x { return fail(c, "\(x)", "\(d.toCPL)", sub: "to_cpl") }
            if let x = g.stackSwitch, d.stackSwitch != x { return fail(c, "\(x)", "\(d.stackSwitch)", sub: "stack_switch") }
            if let x = g.interruptsEnabled, d.interruptsEnabled != x { return fail(c, "\(x)", "\(d.interruptsEnabled)", sub: "if") }
        case let .entry(e):
            guard let r = o.entry else { return fail(c, e.via ?? "a kernel entry", "no entry into the kernel") }
            if let x = e.via, r.via != x { return fail(c, x, r.via, sub: "via") }
            if let x = e.cs, r.cs != x { return fail(c, hex(UInt64(x)), hex(UInt64(r.cs)), sub: "cs") }
            if let x = e.ss, r.ss != x { return fail(c, hex(UInt64(x)), hex(UInt64(r.ss)), sub: "ss") }
            if let x = e.ip, r.ip != x { return fail(c, hex(x), hex(r.ip), sub: e.ipKey) }
            if let x = e.sp, r.sp != x { return fail(c, hex(x), hex(r.sp), sub: e.spKey) }
            if let x = e.cpl, r.cpl != x { return fail(c, "\(x)", "\(r.cpl)", sub: "cpl") }
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
            guard let r = o.returns else { return fail(c, "\(x)", "no system call returned") }
            if r != x { return fail(c, errnoText(x), errnoText(r)) }
        case let .output(s):
            if o.output != s { return fail(c, quote(s), quote(o.output)) }
        case let .switchTo(m):
            guard let m else {
                if let s = o.switches.first { return fail(c, "none", "\(s.from) -> \(s.to) (\(s.reason))") }
                return nil
            }
            guard let s = o.switches.first(where: { sw in (m.from == nil || sw.from == m.from) && (m.to == nil || sw.to == m.to) && (m.reason == nil || sw.reason == m.reason || (m.reason == "syscall_return" && sw.atSyscallReturn)) }) else {
                let actual = o.switches.isEmpty ? "no context switch" : o.switches.map { "\($0.from) -> \($0.to) (\($0.reason))" }.joined(separator: ", ")
                return fail(c, "\(m.from ?? "*") -> \(m.to ?? "*")\(m.reason.map { " (\($0))" } ?? "")", actual)
            }
            _ = s
        case let .current(name):
            if system.currentTaskName != name { return fail(c, name, system.currentTaskName) }
        case let .state(task, st):
            guard let actual = system.taskState(task) else { return fail(c, st.rawValue, "no task named '\(task)'") }
            if actual != st { return fail(c, st.rawValue, actual.rawValue) }
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
            return checkFinal(c, system: system)
        }
        return nil
    }

    static func checkFinal(_ c: Check, system: System) -> CheckFailure? {
        switch c.kind {
        case let .schedule(list):
            if system.dispatchOrder != list { return fail(c, "[" + list.joined(separator: ", ") + "]", "[" + system.dispatchOrder.joined(separator: ", ") + "]") }
        case let .switchCount(n):
            if Int64(system.switchCount) != n { return fail(c, "\(n)", "\(system.switchCount)") }
        case let .faultCount(n):
            if Int64(system.faultCount) != n { return fail(c, "\(n)", "\(system.faultCount)") }
        case let .totalOutput(s):
            if system.totalOutput != s { return fail(c, quote(s), quote(system.totalOutput)) }
        case let .shutdown(b):
            if system.machine.shutdown != b { return fail(c, "\(b)", "\(system.machine.shutdown)") }
        case let .process(task, m):
            guard let p = system.processSummary(task) else { return fail(c, "a task named '\(task)'", "none") }
            if let s = m.state, p.state != s { return fail(c, s.rawValue, p.state.rawValue, sub: "state") }
            if let e = m.exitCode, p.exitCode != e { return fail(c, "\(e)", p.exitCode.map { "\($0)" } ?? "none (not exited)", sub: "exit_code") }
            if let s = m.signal, p.signal != s { return fail(c, s, p.signal ?? "none", sub: "signal") }
            if let t = m.ticks, Int64(p.ticks) != t { return fail(c, "\(t)", "\(p.ticks)", sub: "ticks") }
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
