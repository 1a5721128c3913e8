// StepDecoder: `steps:` — one event per step (timer, irq, syscall, wait, exit, exec, access, set,
// schedule), an optional `as`, and the step's `expect`.

import Machine

extension DecodeContext {
    static let eventKeys = ["timer", "irq", "syscall", "wait", "exit", "exec", "access", "set", "schedule"]
    /// The largest `timer:` count of one step (the run's step budget bounds the total too).
    static let maxTimerTicks: UInt64 = 10_000_000

    /// A `wait` pid below -1 (wait4's process group -pid), which the model refuses, as its wait4 does.
    static func processGroupPid(_ s: String) -> Int64? {
        if case let .value(v, negative) = parseInteger(s), negative, v > 1, v <= 4_194_304 { return -Int64(v) }
        return nil
    }

    static func processGroupWait(_ w: String, _ pid: Int64) -> String {
        "\(w).wait: not modelled: pid \(pid) waits for a child in process group \(-pid), and the model has no process groups (write -1 or 0 for any child, or a child's pid)"
    }

    /// A `wait` pid written as a word (`wait: {pid: child}`): a name, where wait4 takes a number.
    static func isTaskNameLike(_ n: YAMLNode) -> Bool {
        guard let s = n.scalar, !n.isNullScalar, case .invalid = parseInteger(s) else { return false }
        return s.first.map { $0.isLetter || $0 == "_" } ?? false
    }

    static let waitPidNote = "wait4 takes a pid: -1 (or 0) for any child, or the child's pid; declared processes have the pids 1, 2, 3... in list order unless they give `pid`, and a fork step's `returns` is its child's pid"

    /// The error for a kernel event (a system call, wait, exit, schedule()) in a scenario with `kernel: none`.
    static func needsKernel(_ w: String, _ event: String) -> String {
        switch event {
        case "schedule":
            return "\(w): a schedule event needs a kernel (its scheduler), and this scenario has `kernel: none`"
        case "irq.wakes":
            return "\(w).irq.wakes: waking a task is the work of the kernel's interrupt handler, and this scenario has `kernel: none` (the CPU stops at the handler's entry): write `irq: VECTOR`"
        case "syscall":
            return "\(w): a syscall event needs a kernel (this scenario has `kernel: none`); use `exec: \"int 0x80\"` to run the instruction on the bare CPU"
        default:
            return "\(w): \(event == "exit" ? "an" : "a") \(event) event is a system call and needs a kernel (this scenario has `kernel: none`); use `exec: \"int 0x80\"` to run the instruction on the bare CPU"
        }
    }

    mutating func decodeSteps(_ node: YAMLNode?, mode: MachineMode, names: SelectorNames, kernelEnabled: Bool) -> [StepSpec] {
        guard let node else { return [] }
        guard let items = sequence(node, "steps") else { return [] }
        var out: [StepSpec] = []
        out.reserveCapacity(items.count)
        for i in items.indices {
            let item = items[i]
            let w = "steps[\(i)]"
            // Bare `- wait` / `- schedule`.
            if let s = item.scalar, item.scalarStyle == .plain {
                if !kernelEnabled && (s == "wait" || s == "schedule") { error(item, Self.needsKernel(w, s)) }
                switch s {
                case "wait": out.append(StepSpec(event: .wait(pid: -1), actor: nil, checks: [], mentionsFaults: false, location: location(item), index: i))
                case "schedule": out.append(StepSpec(event: .schedule, actor: nil, checks: [], mentionsFaults: false, location: location(item), index: i))
                case _ where Self.eventKeys.contains(s):
                    error(item, "\(w): a bare `\(s)` step needs a value: write `\(s): ...` (only `wait` and `schedule` stand alone)")
                default: error(item, "\(w) must be a mapping with one event key", notes: hint(s, Self.eventKeys).map { [$0] } ?? [])
                }
                continue
            }
            guard let pairs = item.mapping else { error(item, "\(w) must be a mapping with one event key"); continue }
            var eventPair: YAMLPair?
            var actor: String?
            var expectNode: YAMLNode?
            let errorsBefore = diagnostics.count
            for p in pairs {
                guard let k = p.key.scalar else { error(p.key, "step keys must be names"); continue }
                if k == "as" {
                    actor = string(p.value, "\(w).as")
                    if let a = actor { checkTaskName(p.value, a) }
                    continue
                }
                if k == "expect" { expectNode = p.value; continue }
                if Self.eventKeys.containsText(k) {
                    if let first = eventPair {
                        error(p.key, "\(w) has two events ('\(first.key.scalar ?? "")' and '\(k)'): one event per step")
                    } else {
                        eventPair = p
                    }
                    continue
                }
                error(p.key, "unknown key '\(k)' in \(w)", notes: hint(k, Self.eventKeys + ["as", "expect"]).map { [$0] } ?? ["a step has one event (\(Self.eventKeys.joined(separator: ", "))), optional `as` and `expect`"])
            }
            guard let ev = eventPair, let key = ev.key.scalar else {
                // Not after this step's own key errors (a misspelt event key has said it all).
                if !pairs.isEmpty && diagnostics.count == errorsBefore { error(item, "\(w) has no event (one of \(Self.eventKeys.joined(separator: ", ")))") }
                continue
            }
            guard let event = decodeEvent(key, ev.value, w, mode: mode, names: names, kernelEnabled: kernelEnabled) else {
                // The event is wrong; its expect's own errors are reported too (all of a file's at once).
                if let e = expectNode { _ = decodeStepExpect(e, path: "\(w).expect", names: names, event: .schedule) }
                continue
            }
            if actor != nil, !["syscall", "wait", "exit", "exec", "access", "schedule"].contains(key) {
                error(pairs.first { $0.key.scalar == "as" }?.key ?? ev.key, "`as` names who acts, and a \(key) event has no actor")
            }
            var checks: [Check] = []
            var mentions = false
            if let e = expectNode {
                (checks, mentions) = decodeStepExpect(e, path: "\(w).expect", names: names, event: event)
                if Self.cannotFault(event), let faultKey = e.mapping?.first(where: { ["fault", "faults"].contains($0.key.scalar ?? "") }) {
                    warning(faultKey.key, "\(w) is a `\(key)` step, which only changes state and cannot fault: its `\(faultKey.key.scalar ?? "fault")` expectation checks nothing useful")
                }
            }
            out.append(StepSpec(event: event, actor: actor, checks: checks, mentionsFaults: mentions, location: location(item), index: i))
        }
        return out
    }

    /// Events that raise no exception whatever the machine's state: `set` edits registers, MSRs
    /// or page-table entries directly, without executing an instruction or touching the TLB.
    /// (Chosen conservatively: every other event can fault in some machine.)
    static func cannotFault(_ e: KernelEvent) -> Bool {
        switch e {
        case .setRegisters, .setControl, .setMSRs, .setPages, .setAll: true
        default: false
        }
    }

    mutating func decodeEvent(_ key: String, _ v: YAMLNode, _ w: String, mode: MachineMode, names: SelectorNames,
                              kernelEnabled: Bool) -> KernelEvent? {
        switch key {
        case "timer":
            guard let n = uint(v, "\(w).timer", max: Self.maxTimerTicks) else { return nil }
            // `timer: 0` is accepted: zero interrupts, a step in which nothing happens (the format sets no lower bound).
            return .timer(Int(n))
        case "irq":
            if v.mapping != nil {
                guard let m = mapping(v, "\(w).irq", allowed: ["vector", "wakes"]) else { return nil }
                guard let vn = m["vector"], let vec = uint(vn, "\(w).irq.vector", max: 255) else {
                    if m["vector"] == nil { error(v, "\(w).irq needs a vector") }
                    return nil
                }
                let wakes = m["wakes"].flatMap { string($0, "\(w).irq.wakes") }
                if let n = m["wakes"], let t = wakes {
                    // Waking a task is the kernel handler's work: a bare CPU stops at the handler's entry.
                    if kernelEnabled { checkTaskName(n, t) } else { error(n, Self.needsKernel(w, "irq.wakes")) }
                }
                return .irq(vector: UInt8(vec), wakes: wakes)
            }
            guard let vec = uint(v, "\(w).irq", max: 255) else { return nil }
            return .irq(vector: UInt8(vec), wakes: nil)
        case "syscall":
            if !kernelEnabled { error(v, Self.needsKernel(w, "syscall")) }
            guard let m = mapping(v, "\(w).syscall", allowed: ["via", "nr", "args", "name"]) else { return nil }
            let via: SyscallEntryKind
            if let vn = m["via"] {
                guard let v = choice(vn, "syscall entry", [("int80", SyscallEntryKind.int80), ("sysenter", .sysenter), ("syscall", .syscall)]) else { return nil }
                via = v
            } else if let d = defaultSyscallEntry {
                // Without `via`, the task's natural entry: int80 for a 32-bit task, syscall for a 64-bit one.
                via = d
            } else {
                error(v, "\(w).syscall needs via (int80, sysenter or syscall): the scenario has both 32- and 64-bit tasks")
                return nil
            }
            let table: SyscallTable = via == .syscall ? .x86_64 : .i386
            var nr: Int64?
            var nrName: String?
            if let nn = m["nr"] {
                if let s = nn.scalar, case .invalid = parseInteger(s) {
                    nr = table.number(of: s)
                    nrName = s
                    if nr == nil, let n = UnmodelledSyscalls.number(of: s, table: table) {
                        error(nn, UnmodelledSyscalls.refusal(s, number: n, table: table))
                    } else if nr == nil {
                        let tableName = via == .syscall ? "x86_64" : "i386"
                        var notes = [String]()
                        if let other = (via == .syscall ? SyscallTable.i386 : SyscallTable.x86_64).number(of: s) {
                            notes.append("'\(s)' exists only in the \(via == .syscall ? "i386" : "x86_64") table (number \(other))")
                        } else if let h = hint(s, Self.knownSyscallNames) { notes.append(h) }
                        error(nn, "'\(s)' is not in the \(tableName) system-call table used by \(via.rawValue)", notes: notes)
                    }
                } else if let s = nn.scalar, case let .value(v, false) = parseInteger(s) {
                    // The number is loaded into EAX/RAX, a register value like the arguments: a
                    // non-negative number may use all 64 bits (0xffffffff00000027: the kernel reads
                    // only the low half, do_syscall_64's `int nr`), kept as its bit pattern.
                    nr = Int64(bitPattern: v)
                } else {
                    nr = int(nn, "\(w).syscall.nr")
                }
            } else {
                error(v, "\(w).syscall needs nr (a number or a name)")
            }
            var args: [SyscallArgument] = []
            if let an = m["args"], let items = sequence(an, "\(w).syscall.args") {
                if items.count > 6 { error(an, "\(w).syscall.args: at most 6 arguments") }
                for j in items.indices {
                    let a = items[j]
                    if let s = a.scalar, a.scalarStyle != .plain {
                        args.append(.string(s))
                    } else if let s = a.scalar, case .invalid = parseInteger(s) {
                        args.append(.string(s))
                    } else if let s = a.scalar, case let .value(v, false) = parseInteger(s) {
                        // An argument is a register value: a non-negative number may use all 64 bits
                        // (a kernel pointer such as 0xffff888000000000; scenario-format.md, "Integers").
                        args.append(.number(v))
                    } else if let x = int(a, "\(w).syscall.args[\(j)]") {
                        args.append(.number(UInt64(bitPattern: x)))
                    }
                }
            }
            guard let nr else { return nil }
            return .syscall(via: via, nr: nr, args: args, childName: m["name"].flatMap { string($0, "\(w).syscall.name") }, name: nrName)
        case "wait":
            if !kernelEnabled { error(v, Self.needsKernel(w, "wait")) }
            if v.isNullScalar { return .wait(pid: -1) }
            // `wait: 2` / `wait: -1`, as `wait: {pid: 2}`.
            if let n = v.scalar.flatMap(Self.processGroupPid) { error(v, Self.processGroupWait(w, n)); return nil }
            if Self.isTaskNameLike(v) { error(v, "\(w).wait takes a pid, not a task name ('\(v.scalar ?? "")')", notes: [Self.waitPidNote]); return nil }
            if v.scalar != nil, let pid = int(v, "\(w).wait (a pid)", min: -1, max: 32768) { return .wait(pid: pid) }
            if v.scalar != nil { return nil }
            guard let m = mapping(v, "\(w).wait", allowed: ["pid"]) else { return nil }
            if let pn = m["pid"], let n = pn.scalar.flatMap(Self.processGroupPid) { error(pn, Self.processGroupWait(w, n)); return nil }
            if let pn = m["pid"], Self.isTaskNameLike(pn) { error(pn, "\(w).wait.pid takes a pid, not a task name ('\(pn.scalar ?? "")')", notes: [Self.waitPidNote]); return nil }
            let pid = m["pid"].flatMap { int($0, "\(w).wait.pid", min: -1, max: 32768) } ?? -1
            return .wait(pid: pid)
        case "exit":
            if !kernelEnabled { error(v, Self.needsKernel(w, "exit")) }
            if v.isNullScalar { return .exit(code: 0) }
            guard let c = int(v, "\(w).exit", min: -2_147_483_648, max: 2_147_483_647) else { return nil }
            return .exit(code: c)
        case "exec":
            guard let s = string(v, "\(w).exec") else { return nil }
            switch InstructionParser(names: names, mode: mode).parse(s) {
            case let .success(i): return .exec(i)
            case let .failure(e): error(v, "\(w).exec: \(e.message)", notes: e.notes); return nil
            }
        case "access":
            guard let m = mapping(v, "\(w).access", allowed: ["op", "addr", "size", "cpl", "implicit"]) else { return nil }
            guard let on = m["op"], let op = choice(on, "access op", of: AccessKind.self) else {
                if m["op"] == nil { error(v, "\(w).access needs op (read, write or fetch)") }
                return nil
            }
            guard let an = m["addr"], let addr = uint(an, "\(w).access.addr") else {
                if m["addr"] == nil { error(v, "\(w).access needs addr") }
                return nil
            }
            let size = m["size"].flatMap { choice($0, "access size", [("1", 1), ("2", 2), ("4", 4), ("8", 8)]) } ?? (op == .fetch ? 1 : 4)
            let cpl = m["cpl"].flatMap { uint($0, "\(w).access.cpl", max: 3) }.map { UInt8($0) }
            let implicit = m["implicit"].flatMap { bool($0, "\(w).access.implicit") } ?? false
            return .access(kind: op, address: addr, size: size, cpl: cpl, implicit: implicit)
        case "set":
            return decodeSet(v, w, names: names, mode: mode)
        case "schedule":
            if !kernelEnabled { error(v, Self.needsKernel(w, "schedule")) }
            // Only `schedule`, `schedule:` (null) or `schedule: {}`: a list or a value was silently ignored.
            if !v.isNullScalar, v.mapping?.isEmpty != true { error(v, "\(w).schedule takes no arguments: write `schedule: {}`") }
            return .schedule
        default:
            return nil
        }
    }

    mutating func decodeSet(_ v: YAMLNode, _ w: String, names: SelectorNames, mode: MachineMode) -> KernelEvent? {
        guard let m = mapping(v, "\(w).set", allowed: ["regs", "cr0", "cr4", "efer", "rflags", "msrs", "pages"]) else { return nil }
        // Several kinds of state may be set in one step; they are applied in a fixed order (KernelEvent.setAll).
        var regsEdit: KernelEvent?, controlEdit: KernelEvent?, msrEdit: KernelEvent?, pagesEdit: KernelEvent?
        if let n = m["regs"] {
            var regs: [GPR: UInt64] = [:]
            var rip: UInt64?
            if let pairs = n.mapping {
                checkRegisterAliases(pairs, "\(w).set.regs")
                for p in pairs {
                    let key = p.key.scalar?.lowercased() ?? ""
                    switch key {
                    case "rip", "eip":
                        // The instruction pointer: the address the next instruction runs at and that a
                        // delivery saves (EIP must fit 32 bits, RIP be canonical: checked when it runs).
                        if let x = registerValue(p.value, "set.regs.\(key)", bits: key == "eip" ? 32 : 64) {
                            if key == "eip" && x > 0xFFFF_FFFF {
                                error(p.value, "set.regs.eip 0x\(String(x, radix: 16)) does not fit in 32 bits")
                            } else {
                                rip = x
                            }
                        }
                        continue
                    case "eflags", "rflags", "flags":
                        error(p.key, "set.regs.\(key): flags are set with `set: {rflags: {if: true, iopl: 3, ...}}`")
                        continue
                    case "cs":
                        error(p.key, "set.regs.cs: CS is loaded through its checks by a far jmp, call or return (`exec: \"jmp far SEL:OFF\"`), or set in a task's `context`")
                        continue
                    case "ss", "ds", "es", "fs", "gs":
                        error(p.key, "set.regs.\(key): a segment register is loaded through its checks, with `exec: \"mov \(key), SELECTOR\"`, or set in a task's `context`")
                        continue
                    default:
                        break
                    }
                    guard let k = p.key.scalar, let r = GPR(name: k) else {
                        let k = p.key.scalar ?? ""
                        let all = ["rip", "eip"] + GPR.allCases.map(\.name64) + GPR.allCases.map(\.name32)
                        error(p.key, "set.regs: unknown general register '\(k)'", notes: hint(k, all).map { [$0] } ?? [])
                        continue
                    }
                    // A negative value is the register's two's complement; a 32-bit name writes the
                    // low 32 bits and clears the rest (as a 32-bit MOV does), so the value must fit them.
                    let bits = Self.registerBits(k.lowercased())
                    guard let x = registerValue(p.value, "set.regs.\(k)", bits: bits) else { continue }
                    if bits == 16 {
                        error(p.key, "set.regs.\(k): a 16-bit register is part of a wider one; set \(r.name32) or \(r.name64)")
                    } else if bits == 32, x > 0xFFFF_FFFF {
                        error(p.value, "set.regs.\(k) 0x\(String(x, radix: 16)) does not fit in 32 bits")
                    } else {
                        regs[r] = x
                    }
                }
            } else {
                error(n, "set.regs must be a mapping")
            }
            regsEdit = .setRegisters(regs, rip: rip)
        }
        if m["cr0"] != nil || m["cr4"] != nil || m["efer"] != nil || m["rflags"] != nil {
            let cr0 = m["cr0"].map { flags($0, "set.cr0", [("wp", CR0.wp), ("am", CR0.am)]) } ?? FlagEdit()
            let cr4 = m["cr4"].map {
                flags($0, "set.cr4", [("pse", CR4.pse), ("pae", CR4.pae), ("pge", CR4.pge), ("smep", CR4.smep), ("smap", CR4.smap), ("pke", CR4.pke), ("pcide", CR4.pcide)],
                      unmodelled: Self.unmodelledCR4Flags)
            } ?? FlagEdit()
            // CR4.PCIDE can only be set in IA-32e mode (SDM Vol. 3A §4.10.1): in ia32 the write could only be
            // refused (MOV to CR4 raises #GP(0)), so the step is an error at the flag.
            if mode == .ia32, cr4.set & CR4.pcide != 0, let n = m["cr4"]?.value(forKey: "pcide") {
                error(n, "\(w).set.cr4.pcide: true in ia32: CR4.PCIDE can only be set in IA-32e mode (SDM Vol. 3A §4.10.1; MOV to CR4 setting it outside is #GP(0))")
            }
            let efer = m["efer"].map { flags($0, "set.efer", [("sce", EFER.sce), ("nxe", EFER.nxe)]) } ?? FlagEdit()
            let rf = m["rflags"].map { rflags($0, "set.rflags").0 } ?? FlagEdit()
            controlEdit = .setControl(cr0: cr0, cr4: cr4, efer: efer, rflags: rf)
        }
        if let n = m["msrs"] { msrEdit = .setMSRs(msrs(n, names: names)) }
        if let n = m["pages"] { pagesEdit = .setPages(pages(n, "\(w).set.pages")) }
        let edits = [msrEdit, controlEdit, regsEdit, pagesEdit].compactMap { $0 }
        switch edits.count {
        case 0:
            error(v, "\(w).set changes nothing")
            return nil
        case 1:
            return edits[0]
        default:
            return .setAll(edits)
        }
    }
}
