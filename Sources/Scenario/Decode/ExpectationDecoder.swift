// ExpectationDecoder: a step's `expect` and the scenario's final `expect`, decoded into checks that
// remember where they were written.

import Machine

extension DecodeContext {
    static let stepExpectKeys = ["fault", "faults", "gate", "entry", "cpl", "regs", "rflags", "returns", "output", "switch",
                                 "current", "states", "signal", "shutdown", "trace", "physical", "accessed", "dirty"]
    static let finalExpectKeys = ["output", "stdout", "schedule", "switches", "processes", "faults", "shutdown"]

    mutating func decodeStepExpect(_ node: YAMLNode, path: String, names: SelectorNames, event: KernelEvent) -> ([Check], Bool) {
        var checks: [Check] = []
        // `expect:` with nothing after it: no checks yet (`run --update` fills it in).
        if node.isNullScalar { return ([], false) }
        guard let pairs = node.mapping else { error(node, "\(path) must be a mapping"); return ([], false) }
        var mentions = false
        checks.reserveCapacity(pairs.count)
        for p in pairs {
            guard let k = p.key.scalar else { continue }
            let v = p.value
            var here: String { path + "." + k }
            func add(_ kind: Check.Kind, _ at: YAMLNode) {
                checks.append(Check(kind: kind, prefix: path, leaf: k, location: location(at), fields: at))
            }
            guard Self.stepExpectKeys.containsText(k) else {
                var notes = hint(k, Self.stepExpectKeys).map { [$0] } ?? []
                if Self.finalExpectKeys.contains(k) { notes.append("'\(k)' is a check on the whole run: put it in the top-level expect") }
                error(p.key, "unknown key '\(k)' in \(path)", notes: notes)
                continue
            }
            switch k {
            case "fault":
                mentions = true
                if Self.isNone(v) { add(.fault(nil), v) } else if let f = faultMatcher(v, here, names: names) { add(.fault(f), v) }
            case "faults":
                mentions = true
                if Self.isNone(v) { add(.faults([]), v); continue }
                if misspeltNone(v, here, or: "a list of exceptions") { continue }
                guard let items = sequence(v, here) else { continue }
                add(.faults(items.indices.compactMap { faultMatcher(items[$0], "\(here)[\($0)]", names: names) }), v)
            case "gate":
                if Self.isNone(v) { add(.gate(nil), v); continue }
                if misspeltNone(v, here, or: "a mapping {vector, type, dpl, ...}") { continue }
                guard let m = mapping(v, here, allowed: ["vector", "type", "dpl", "from_cpl", "to_cpl", "stack_switch", "if"]) else { continue }
                var g = GateMatcher()
                if let n = m["vector"] { g.vector = vectorNumber(n, "\(here).vector") }
                // Also the descriptor types' spellings (`call_gate`, `task_gate`, as gdt entries write them).
                if let n = m["type"] {
                    g.type = choice(n, "gate type", [("interrupt", "interrupt"), ("trap", "trap"), ("task", "task"), ("call", "call"),
                                                     ("call_gate", "call"), ("task_gate", "task"), ("interrupt_gate", "interrupt"), ("trap_gate", "trap")])
                }
                if let n = m["dpl"] { g.dpl = uint(n, "\(here).dpl", max: 3).map { UInt8($0) } }
                if let n = m["from_cpl"] { g.fromCPL = uint(n, "\(here).from_cpl", max: 3).map { UInt8($0) } }
                if let n = m["to_cpl"] { g.toCPL = uint(n, "\(here).to_cpl", max: 3).map { UInt8($0) } }
                if let n = m["stack_switch"] { g.stackSwitch = bool(n, "\(here).stack_switch") }
                if let n = m["if"] { g.interruptsEnabled = bool(n, "\(here).if") }
                add(.gate(g), v)
            case "entry":
                var e = EntryMatcher()
                let vias = [("int80", "int80"), ("sysenter", "sysenter"), ("syscall", "syscall")]
                if v.scalar != nil {
                    e.via = choice(v, "entry", vias)
                } else if let m = mapping(v, here, allowed: ["via", "cs", "ss", "rip", "eip", "rsp", "esp", "cpl"]) {
                    if let n = m["via"] { e.via = choice(n, "entry", vias) }
                    if let n = m["cs"] { e.cs = selector(n, "\(here).cs", names: names) }
                    if let n = m["ss"] { e.ss = selector(n, "\(here).ss", names: names) }
                    for (wide, narrow) in [("rip", "eip"), ("rsp", "esp")] where m[wide] != nil && m[narrow] != nil {
                        if let n = m[narrow] { error(n, "\(here): give \(wide) or \(narrow), not both (they name one register)") }
                    }
                    if let n = m["rip"] { e.ip = uint(n, "\(here).rip") } else if let n = m["eip"] { e.ip = uint(n, "\(here).eip"); e.ipKey = "eip" }
                    if let n = m["rsp"] { e.sp = uint(n, "\(here).rsp") } else if let n = m["esp"] { e.sp = uint(n, "\(here).esp"); e.spKey = "esp" }
                    if let n = m["cpl"] { e.cpl = uint(n, "\(here).cpl", max: 3).map { UInt8($0) } }
                }
                add(.entry(e), v)
            case "cpl":
                if let c = uint(v, here, max: 3) { add(.cpl(UInt8(c)), v) }
            case "regs":
                guard let rp = v.mapping else { error(v, "\(here) must be a mapping of registers"); continue }
                for r in rp {
                    guard let name = r.key.scalar?.lowercased() else { continue }
                    let rpath = "\(here).\(name)"
                    if SegmentRegisterName(rawValue: name) != nil || name == "tr" || name == "ldtr" {
                        if let s = selector(r.value, rpath, names: names) {
                            checks.append(Check(kind: .register(name, UInt64(s)), path: rpath, location: location(r.value)))
                        }
                    } else if Self.checkableRegisters.contains(name) || GPR(name: name) != nil {
                        if let x = registerValue(r.value, rpath, bits: Self.registerBits(name)) {
                            checks.append(Check(kind: .register(name, x), path: rpath, location: location(r.value)))
                        }
                    } else {
                        error(r.key, "unknown register '\(name)' in \(here)", notes: hint(name, Self.checkableRegisters + GPR.allCases.map(\.name64) + GPR.allCases.map(\.name32)
                                                                                             + SegmentRegisterName.allCases.map(\.rawValue)).map { [$0] } ?? [])
                    }
                }
            case "rflags":
                // A number is the whole register, as `regs: {rflags: N}` checks it (`rflags: 0x202`).
                if let s = v.scalar, !v.isNullScalar, case .value = parseInteger(s) {
                    if let x = registerValue(v, here, bits: 64) {
                        checks.append(Check(kind: .register("rflags", x), path: here, location: location(v)))
                    }
                    continue
                }
                guard let m = mapping(v, here, allowed: Self.rflagsKeys.map(\.0) + ["iopl"]) else { continue }
                for (name, bit) in Self.rflagsKeys {
                    guard let n = m[name], let b = bool(n, "\(here).\(name)") else { continue }
                    checks.append(Check(kind: .flag(name, b ? bit : 0), path: "\(here).\(name)", location: location(n)))
                }
                if let n = m["iopl"], let x = uint(n, "\(here).iopl", max: 3) {
                    checks.append(Check(kind: .flag("iopl", x), path: "\(here).iopl", location: location(n)))
                }
            case "returns":
                if let x = returnValue(v, here) { add(.returns(x), v) }
            case "output":
                if let s = string(v, here) { add(.output(s), v) }
            case "switch":
                if Self.isNone(v) { add(.switchTo(nil), v); continue }
                if misspeltNone(v, here, or: "a mapping {from, to, reason}") { continue }
                guard let m = mapping(v, here, allowed: ["from", "to", "reason"]) else { continue }
                var sw = SwitchMatcher()
                if let n = m["from"] { sw.from = string(n, "\(here).from"); if let t = sw.from { checkTaskName(n, t) } }
                if let n = m["to"] { sw.to = string(n, "\(here).to"); if let t = sw.to { checkTaskName(n, t) } }
                if let n = m["reason"] { sw.reason = choice(n, "switch reason", names: Self.switchReasons) }
                add(.switchTo(sw), v)
            case "current":
                if let s = string(v, here) { checkTaskName(v, s); add(.current(s), v) }
            case "states":
                guard let sp = v.mapping else { error(v, "\(here) must map task names to states"); continue }
                for s in sp {
                    guard let task = s.key.scalar, let st = choice(s.value, "task state", of: TaskState.self) else { continue }
                    checkTaskName(s.key, task)
                    checks.append(Check(kind: .state(task, st), path: "\(here).\(task)", location: location(s.value)))
                }
            case "signal":
                if Self.isNone(v) { add(.signal(nil), v) } else if let s = signalName(v, here) { add(.signal(s), v) }
            case "shutdown":
                if let b = bool(v, here) { add(.shutdown(b), v) }
            case "trace":
                guard let items = sequence(v, here) else { continue }
                var wanted: [String] = []
                for item in items {
                    guard let text = string(item, "\(here) entry") else { continue }
                    let canonical = TraceItem.canonical(text)
                    if let h = TraceItem.suggestion(for: canonical) {
                        warning(item, "\(here): '\(text)' is no trace event name (kernel notes match as written): \(h)")
                    }
                    wanted.append(canonical)
                }
                if items.isEmpty { warning(v, "\(here): an empty list is found in every step's trace: this checks nothing") }
                add(.trace(wanted), v)
            case "physical":
                if let x = uint(v, here) { add(.physical(x), v) }
            case "accessed":
                if let b = bool(v, here) { add(.accessed(b), v) }
            case "dirty":
                if let b = bool(v, here) { add(.dirty(b), v) }
            default:
                break
            }
        }
        return (checks, mentions)
    }

    /// The width of a register name: 16 (`ax`), 32 (`eax`, `r8d`, `eip`) or 64 (`rax`, `rip`, `cr3`).
    static func registerBits(_ name: String) -> Int {
        guard GPR(name: name) != nil || ["eip", "esp", "eflags"].contains(name) else { return 64 }
        if name.hasPrefix("e") || (name.hasPrefix("r") && name.hasSuffix("d")) { return 32 }
        if name.count == 2 && !name.hasPrefix("r") { return 16 }
        return 64
    }

    /// A register value: a number, or a negative one that fits `bits` bits (two's complement,
    /// `rax: -14` after a failed system call).
    mutating func registerValue(_ v: YAMLNode, _ what: @autoclosure () -> String, bits: Int) -> UInt64? {
        let mask: UInt64 = bits == 64 ? ~0 : (1 << UInt64(bits)) - 1
        if let s = v.scalar, case .value(_, true) = parseInteger(s) {
            return int(v, what(), min: bits == 64 ? .min : -(1 << Int64(bits - 1))).map { UInt64(bitPattern: $0) & mask }
        }
        // A larger positive value is compared in its low bits (as before: `eip: 0xffffffff81000000`).
        return uint(v, what())
    }

    static let checkableRegisters = ["rip", "eip", "rsp", "esp", "rflags", "eflags", "cr0", "cr2", "cr3", "cr4", "tr", "ldtr"]
    static let switchReasons = ["timer", "yield", "blocking", "exit", "wakeup", "syscall_return", "signal"]

    mutating func decodeFinalExpect(_ node: YAMLNode?) -> [Check] {
        guard let node, !node.isNullScalar else { return [] }
        var checks: [Check] = []
        guard let pairs = node.mapping else { error(node, "expect must be a mapping"); return [] }
        for p in pairs {
            guard let k = p.key.scalar else { continue }
            let v = p.value
            let here = "expect.\(k)"
            guard Self.finalExpectKeys.contains(k) else {
                var notes = hint(k, Self.finalExpectKeys).map { [$0] } ?? []
                if Self.stepExpectKeys.contains(k) { notes.append("'\(k)' is a check on one step: put it under that step's expect") }
                error(p.key, "unknown key '\(k)' in the top-level expect", notes: notes)
                continue
            }
            let at = location(v)
            switch k {
            case "output", "stdout":
                if let s = string(v, here) { checks.append(Check(kind: .totalOutput(s), path: here, location: at)) }
            case "schedule":
                if let items = sequence(v, here) {
                    let names = items.compactMap { n in string(n, "task name").map { checkTaskName(n, $0); return $0 } }
                    checks.append(Check(kind: .schedule(names), path: here, location: at))
                }
            case "switches":
                if let x = int(v, here, min: 0) { checks.append(Check(kind: .switchCount(x), path: here, location: at)) }
            case "faults":
                if let x = int(v, here, min: 0) { checks.append(Check(kind: .faultCount(x), path: here, location: at)) }
            case "shutdown":
                if let b = bool(v, here) { checks.append(Check(kind: .shutdown(b), path: here, location: at)) }
            case "processes":
                guard let tp = v.mapping else { error(v, "\(here) must map task names to {state, exit_code, signal, ticks}"); continue }
                for t in tp {
                    guard let task = t.key.scalar, let m = mapping(t.value, "\(here).\(task)", allowed: ["state", "exit_code", "signal", "ticks"]) else { continue }
                    checkTaskName(t.key, task)
                    var pm = ProcessMatcher()
                    if let n = m["state"] { pm.state = choice(n, "task state", of: TaskState.self) }
                    if let n = m["exit_code"], let x = int(n, "\(here).\(task).exit_code") {
                        // The parent sees the low 8 bits of exit's argument (wait status bits 15:8): a check
                        // outside 0-255 could never pass.
                        if x < 0 || x > 255 {
                            error(n, "\(here).\(task).exit_code \(x) is out of range (0 to 255)",
                                  notes: ["an exit code is the low 8 bits of exit's argument: exit(\(x)) leaves \(x & 0xff)"])
                        } else {
                            pm.exitCode = x
                        }
                    }
                    if let n = m["signal"] {
                        if Self.isNone(n) { pm.signal = .some(nil) } else if let name = signalName(n, "\(here).\(task).signal") { pm.signal = name }
                    }
                    if let n = m["ticks"] { pm.ticks = int(n, "\(here).\(task).ticks", min: 0) }
                    checks.append(Check(kind: .process(task, pm), prefix: here, leaf: task, location: location(t.value), fields: t.value))
                }
            default:
                break
            }
        }
        return checks
    }

    /// `none`, plain or quoted (YAML gives both the same string).
    static func isNone(_ v: YAMLNode) -> Bool { v.scalar == "none" }

    /// A word where `none` or a collection is expected (`switch: noen`): an error that suggests `none` when the
    /// word is near it. False (nothing reported) for anything else, which the caller's own shape check reports.
    mutating func misspeltNone(_ v: YAMLNode, _ here: String, or shape: String) -> Bool {
        guard let w = v.scalar, !v.isNullScalar, let note = hint(w, ["none"]) else { return false }
        error(v, "\(here) must be `none` or \(shape), not \(describe(v))", notes: [note])
        return true
    }

    /// A signal by name (`SIGSEGV`, `sigsegv`, `SEGV`) or number (`11`), as the name the model reports.
    mutating func signalName(_ v: YAMLNode, _ what: @autoclosure () -> String) -> String? {
        guard let s = v.scalar, !v.isNullScalar || v.scalarStyle != .plain else {
            error(v, "\(what()) must be a signal name such as SIGSEGV, not \(describe(v))")
            return nil
        }
        if case let .value(n, false) = parseInteger(s) {
            if let name = KernelSignal.names[Int64(clamping: n)] { return name }
            error(v, "\(what()): \(s) is not a signal number the model knows", notes: ["known: " + KernelSignal.names.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")])
            return nil
        }
        let upper = s.uppercased()
        let name = upper.hasPrefix("SIG") ? upper : "SIG" + upper
        if KernelSignal.number(name) != nil { return name }
        let known = KernelSignal.names.sorted { $0.key < $1.key }.map(\.value)
        error(v, "unknown signal '\(s)'", notes: hint(name, known).map { [$0] } ?? ["known: \(known.joined(separator: ", "))"])
        return nil
    }

    /// A vector: number or exception name.
    mutating func vectorNumber(_ n: YAMLNode, _ what: @autoclosure () -> String) -> UInt8? {
        if let s = n.scalar, let e = ExceptionVector(name: s) { return e.rawValue }
        if unknownExceptionName(n) { return nil }
        return uint(n, what(), max: 255).map { UInt8($0) }
    }

    /// A scalar that is neither a number nor an exception name (`vector: PG`): reported as an unknown
    /// exception with a "did you mean" hint, as `fault: PG` is. True when reported.
    mutating func unknownExceptionName(_ n: YAMLNode) -> Bool {
        guard let s = n.scalar, !n.isNullScalar, case .invalid = parseInteger(s), ExceptionVector(name: s) == nil else { return false }
        error(n, "unknown exception '\(s)'", notes: ExceptionNameHint.notes(s))
        return true
    }

    /// `GP`, `"#GP"`, or `{vector, error_code, cr2}`.
    mutating func faultMatcher(_ v: YAMLNode, _ here: @autoclosure () -> String, names: SelectorNames) -> FaultMatcher? {
        if let s = v.scalar {
            // A bare vector number (`fault: 13`, or quoted, `fault: "13"`, as every number may be), as `{vector: 13}`.
            if parseInteger(s) != .invalid {
                guard let x = uint(v, here(), max: 31) else { return nil }
                guard let e = ExceptionVector(rawValue: UInt8(x)) else {
                    error(v, "\(here()) \(x) is not an exception vector")
                    return nil
                }
                return FaultMatcher(vector: e, errorCode: nil, cr2: nil)
            }
            guard let e = ExceptionVector(name: s) else {
                error(v, "unknown exception '\(s)'", notes: ExceptionNameHint.notes(s))
                return nil
            }
            return FaultMatcher(vector: e, errorCode: nil, cr2: nil)
        }
        guard let m = mapping(v, here(), allowed: ["vector", "error_code", "cr2"]) else { return nil }
        guard let vn = m["vector"] else { error(v, "\(here()) needs a vector"); return nil }
        var vector: ExceptionVector?
        if let s = vn.scalar, let e = ExceptionVector(name: s) { vector = e } else if unknownExceptionName(vn) {
            return nil
        } else if let x = uint(vn, "\(here()).vector", max: 31) {
            vector = ExceptionVector(rawValue: UInt8(x))
            if vector == nil { error(vn, "\(here()).vector \(x) is not an exception vector") }
        }
        guard let vector else { return nil }
        var f = FaultMatcher(vector: vector, errorCode: nil, cr2: nil)
        if let en = m["error_code"] {
            if en.mapping != nil {
                let keys = en.value(forKey: "selector") != nil ? ["selector", "idt", "ext", "ti"] : ["p", "w", "u", "rsvd", "i", "pk", "selector", "idt", "ext"]
                guard let em = mapping(en, "\(here()).error_code", allowed: keys) else { return f }
                if let sn = em["selector"] {
                    let sel = selector(sn, "\(here()).error_code.selector", names: names) ?? 0
                    // An error code has no RPL (bits 1..0 are IDT and EXT): RPL bits written here
                    // would be ignored, so they are an error rather than a check that cannot fail.
                    if sel & 3 != 0 {
                        var notes: [String] = []
                        if let idt = em["idt"].flatMap({ bool($0, "idt") }), idt, sel < 256 {
                            // `{selector: 0x81, idt: true}` most likely means the gate of vector 0x81.
                            notes.append("with idt: true the index is the vector: for vector 0x\(String(sel, radix: 16)) write {selector: {index: 0x\(String(sel, radix: 16))}, idt: true} (selector 0x\(String(UInt32(sel) << 3, radix: 16)); error code 0x\(String((UInt32(sel) << 3) | 2, radix: 16)))")
                        }
                        error(sn, "\(here()).error_code.selector 0x\(String(sel, radix: 16)) has RPL bits; an error code holds none (bit 1 is idt, bit 0 is ext): write 0x\(String(sel & 0xFFFC, radix: 16)) and idt/ext", notes: notes)
                    }
                    if let tn = em["ti"], let ti = tableIndicator(tn, "\(here()).error_code.ti"), (sel & 4 != 0) != ti {
                        let says = sel & 4 != 0 ? "1 (LDT)" : "0 (GDT)"
                        error(tn, "\(here()).error_code.ti: \(tn.scalar ?? "") contradicts the selector 0x\(String(sel, radix: 16)), whose TI bit (bit 2) is \(says)")
                    }
                    f.errorCode = .selector(sel & 0xFFFC, idt: em["idt"].flatMap { bool($0, "idt") }, ext: em["ext"].flatMap { bool($0, "ext") })
                } else if em["idt"] != nil || em["ext"] != nil {
                    // `{idt: true}` alone checks the IDT (and EXT) bit of a selector error code, whatever its index.
                    let pageBits = ["p", "w", "u", "rsvd", "i", "pk"].filter { em[$0] != nil }
                    if pageBits.isEmpty {
                        f.errorCode = .selector(nil, idt: em["idt"].flatMap { bool($0, "idt") }, ext: em["ext"].flatMap { bool($0, "ext") })
                    } else {
                        error(en, "\(here()).error_code mixes page-fault bits (\(pageBits.joined(separator: ", "))) with idt/ext, which belong to a selector error code")
                    }
                } else {
                    f.errorCode = .page(p: em["p"].flatMap { bool($0, "p") }, w: em["w"].flatMap { bool($0, "w") },
                                        u: em["u"].flatMap { bool($0, "u") }, rsvd: em["rsvd"].flatMap { bool($0, "rsvd") },
                                        i: em["i"].flatMap { bool($0, "i") }, pk: em["pk"].flatMap { bool($0, "pk") })
                }
            } else if let x = uint(en, "\(here()).error_code", max: 0xFFFF_FFFF) {
                f.errorCode = .exact(UInt32(x))
            }
        }
        if let cn = m["cr2"] { f.cr2 = uint(cn, "\(here()).cr2") }
        return f
    }

    /// The TI bit of a selector error code: `gdt` / `ldt`, as a selector map writes it, or a flag
    /// (true/1 = LDT, false/0 = GDT, as `bool` reads flags).
    mutating func tableIndicator(_ n: YAMLNode, _ what: @autoclosure () -> String) -> Bool? {
        if let s = n.scalar, !n.isNullScalar {
            switch s {
            case "gdt", "GDT": return false
            case "ldt", "LDT": return true
            case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y", "1": return true
            case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N", "0": return false
            default: break
            }
        }
        let written = n.scalar.map { "'\($0)'" } ?? describe(n)
        error(n, "\(what()) must be gdt or ldt (or a flag: true or 1 for the LDT, false or 0 for the GDT), not \(written)",
              notes: n.scalar.flatMap { hint($0.lowercased(), ["gdt", "ldt"]) }.map { [$0] } ?? [])
        return nil
    }

    /// A syscall return: a number (`-14`) or `-ENAME`.
    mutating func returnValue(_ v: YAMLNode, _ here: @autoclosure () -> String) -> Int64? {
        // Errno names in any case, as signal names are (`-EFAULT`, `-efault`).
        if let s = v.scalar, s.uppercased().hasPrefix("-E") || s.uppercased().hasPrefix("E") {
            let name = (s.hasPrefix("-") ? String(s.dropFirst()) : s).uppercased()
            guard let e = KernelErrno.value(of: name) else {
                error(v, "unknown errno '\(name)'", notes: hint(name, KernelErrno.all.map(\.name)).map { [$0] } ?? [])
                return nil
            }
            return -e
        }
        return int(v, here())
    }
}

extension String {
    func replacingHash() -> String { hasPrefix("#") ? String(dropFirst()) : self }
}
