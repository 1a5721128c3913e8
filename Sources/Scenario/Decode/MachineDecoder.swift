// MachineDecoder: `machine:` — mode, preset, paging, control registers, MSRs, descriptor tables,
// IDT gates, the TSS and page mappings — decoded into `MachineSetup`.

import Machine

/// An IDT gate as written; omitted fields keep the preset's gate (applied after the machine is built).
struct GatePatch: Sendable {
    var vector: Int
    var type: String?
    var dpl: UInt8?
    var selector: UInt16?
    var offset: UInt64?
    var present: Bool?
    var ist: UInt8?
    var tss: UInt16?
}

/// Names of descriptor-table entries, for selector resolution.
struct SelectorNames {
    var gdt: [String: Int] = [:]
    var ldt: [String: Int] = [:]
    /// Slots of `machine.ldt` (its highest entry + 1), when given: the default limit of the LDT descriptor covers them.
    var ldtSlots: Int?
    var all: [String] { Array(gdt.keys) + Array(ldt.keys) }
}

extension DecodeContext {
    static let machineKeys = ["mode", "vendor", "preset", "paging", "cr0", "cr4", "efer", "rflags", "msrs", "pkru",
                              "gdt", "ldt", "idt", "tss", "pages"]

    /// Decodes `machine:`. Returns the setup, the IDT patches and the selector names.
    mutating func decodeMachine(_ node: YAMLNode?) -> (MachineSetup, [GatePatch], SelectorNames) {
        var setup = MachineSetup()
        var names = SelectorNames()
        var gates: [GatePatch] = []
        guard let node else {
            names.gdt = LinuxLayout.gdtNames(mode: setup.mode)
            return (setup, gates, names)
        }
        guard let m = mapping(node, "machine", allowed: Self.machineKeys) else { return (setup, gates, names) }
        if let n = m["mode"], let v = choice(n, "mode", [("ia32", MachineMode.ia32), ("x86_64", .x86_64)]) { setup.mode = v }
        if let n = m["vendor"], let v = choice(n, "vendor", [("intel", CPUVendor.intel), ("amd", .amd)]) { setup.vendor = v; vendor = v }
        if let n = m["preset"], let v = choice(n, "preset", [("linux", true), ("none", false)]) { setup.linuxPreset = v }
        if let n = m["paging"] {
            var options: [(String, PagingMode)] = [("off", .off), ("4level", .level4)]
            if setup.mode == .ia32 { options = [("off", .off), ("32bit", .bits32), ("pae", .pae)] }
            if let v = choice(n, "paging mode for \(setup.mode.rawValue)", options) { setup.paging = v }
        }
        if setup.linuxPreset && !(m["gdt"]?.sequence != nil) { names.gdt = LinuxLayout.gdtNames(mode: setup.mode) }
        if let n = m["cr0"] { setup.cr0 = flags(n, "cr0", [("wp", CR0.wp), ("am", CR0.am)]) }
        if let n = m["cr4"] {
            setup.cr4 = flags(n, "cr4", [("pse", CR4.pse), ("pae", CR4.pae), ("pge", CR4.pge), ("smep", CR4.smep),
                                        ("smap", CR4.smap), ("pke", CR4.pke), ("pcide", CR4.pcide)],
                             unmodelled: Self.unmodelledCR4Flags)
        }
        checkPagingAgainstCR4(&setup, paging: m["paging"], cr4: m["cr4"])
        if let n = m["efer"] { setup.efer = flags(n, "efer", [("sce", EFER.sce), ("nxe", EFER.nxe)]) }
        if let n = m["rflags"] { (setup.rflags, setup.iopl) = rflags(n, "rflags") }
        if let n = m["pkru"], let v = uint(n, "pkru", max: 0xFFFF_FFFF) { setup.pkru = UInt32(v) }

        // Names first, so that entries may refer to each other in any order.
        if let n = m["gdt"] { collectNames(n, into: &names.gdt, table: "gdt") }
        if let n = m["ldt"] {
            collectNames(n, into: &names.ldt, table: "ldt")
            // `NAME` resolves in the GDT first: an LDT entry with a GDT entry's name could never be named.
            for (name, i) in names.ldt.sorted(by: { $0.value < $1.value }) where names.gdt[name] != nil {
                let at = ldtNameNode(n, index: i) ?? n
                error(at, "ldt entry name '\(name)' is also the name of a GDT entry: `\(name)` would select the GDT one",
                      notes: ["give the LDT entry another name, or select it as {index: \(i), ti: ldt}"])
            }
        }
        // After the names: IA32_SYSENTER_CS may be written as a selector (`kernel_cs`).
        if let n = m["msrs"] {
            setup.msrs = msrs(n, names: names)
            // IA32_EFER written as an MSR says what `efer:` says: the preset fits its mappings to
            // SCE and NXE from either (XD bits stay out of them when NXE is off).
            if let v = setup.msrs[MSR.efer] {
                for (name, bit) in [("sce", EFER.sce), ("nxe", EFER.nxe)] {
                    let on = v & bit != 0
                    if (on && setup.efer.clear & bit != 0) || (!on && setup.efer.set & bit != 0) {
                        error(n, "msrs.IA32_EFER has \(name.uppercased())=\(on ? 1 : 0), but efer.\(name) says \(!on)")
                    }
                    if on { setup.efer.set |= bit } else { setup.efer.clear |= bit }
                }
            }
        }
        // The LDT first: its size is the default limit of the GDT's LDT descriptor.
        if let n = m["ldt"], let t = table(n, "ldt", names: names, mode: setup.mode) {
            // A list is the table; a map gives entries by index (there is no preset LDT to patch).
            var list: [TableEntry?]
            switch t {
            case let .replace(entries): list = entries
            case let .patch(map):
                list = Array(repeating: nil, count: (map.keys.max() ?? -1) + 1)
                for (i, e) in map { list[i] = e }
            }
            setup.ldt = list
            names.ldtSlots = list.indices.map { list[$0]?.high != nil ? $0 + 2 : $0 + 1 }.max() ?? 1
        }
        if let n = m["gdt"] { setup.gdt = table(n, "gdt", names: names, mode: setup.mode) }
        if let n = m["ldt"], !hasErrors {
            // "When machine.ldt is given, LDTR starts loaded with this descriptor (exactly one must exist)."
            let ldts: Int
            switch setup.gdt {
            case let .replace(list)?: ldts = list.filter { $0?.isLDT == true }.count
            case let .patch(map)?: ldts = map.values.filter { $0?.isLDT == true }.count
            case nil: ldts = 0
            }
            if ldts != 1 {
                error(n, "machine.ldt needs exactly one LDT descriptor in the GDT (`type: ldt`), found \(ldts)",
                      notes: ["LDTR starts loaded with it; e.g. gdt: {9: {name: my_ldt, type: ldt}}"])
            }
        }
        if let n = m["idt"] { gates = idt(n, names: names, mode: setup.mode) }
        if let n = m["tss"] { decodeTSS(n, into: &setup, names: names) }
        if let n = m["pages"] { setup.pages = pages(n, "machine.pages") }
        return (setup, gates, names)
    }

    /// `paging` and `cr4.pae`/`cr4.pcide` say one thing. In ia32, `cr4: {pae: true}` is PAE paging (PG-2) as
    /// `paging: pae` is: without `paging` it selects it, and `paging: 32bit` with it (or `paging: pae` with
    /// `pae: false`) is an error at the flag. IA-32e mode (x86_64) runs 4-level paging, which needs
    /// CR4.PAE = 1 (PG-3; MOV to CR4 clearing it there is #GP(0)). CR4.PCIDE can only be set in IA-32e
    /// mode (SDM Vol. 3A §4.10.1; MOV to CR4 setting it outside is #GP(0)), so in ia32 it is refused.
    mutating func checkPagingAgainstCR4(_ setup: inout MachineSetup, paging pagingNode: YAMLNode?, cr4 cr4Node: YAMLNode?) {
        let paeNode = cr4Node?.value(forKey: "pae")
        let pagingNote = pagingNode.map { ["paging is set at \($0.source ?? file):\($0.start.line):\($0.start.column)"] } ?? []
        switch setup.mode {
        case .x86_64:
            if setup.paging == .off, let pagingNode {
                error(pagingNode, "paging off: x86_64 (IA-32e mode) runs 4-level paging (PG-3); IA-32e mode cannot be active with paging off")
            }
            if setup.cr4.clear & CR4.pae != 0, let paeNode {
                error(paeNode, "cr4.pae: false: x86_64 (IA-32e mode) runs 4-level paging, which needs CR4.PAE = 1 (PG-3; MOV to CR4 clearing PAE in IA-32e mode is #GP(0))")
            }
        case .ia32:
            if setup.cr4.set & CR4.pcide != 0, let n = cr4Node?.value(forKey: "pcide") {
                error(n, "cr4.pcide: true in ia32: CR4.PCIDE can only be set in IA-32e mode (SDM Vol. 3A §4.10.1; MOV to CR4 setting it outside is #GP(0)), so no processor in legacy mode holds it")
            }
            if setup.cr4.set & CR4.pae != 0 {
                switch setup.paging {
                case nil: setup.paging = .pae
                case .bits32?:
                    if let paeNode {
                        error(paeNode, "cr4.pae: true is PAE paging (PG-2), but paging is 32bit (CR4.PAE = 0, PG-1); write `paging: pae` or drop one of them", notes: pagingNote)
                    }
                default: break  // `pae`; `off` keeps CR4.PAE = 1 with CR0.PG = 0, a state a processor can hold
                }
            }
            if setup.cr4.clear & CR4.pae != 0, setup.paging == .pae, let paeNode {
                error(paeNode, "cr4.pae: false is not PAE paging, but paging is pae (PAE paging is CR4.PAE = 1, PG-2); write `paging: 32bit` or drop one of them", notes: pagingNote)
            }
        }
    }

    /// CR4 flags that a processor has but the model does not run, with the reason, so that a scenario naming one
    /// is told that, not offered a look-alike name ("did you mean 'pse'?"). VME changes only virtual-8086 mode
    /// and PVI makes CLI/STI at CPL 3 change VIF instead of faulting (SDM Vol. 3A §2.5, §20.4).
    static let unmodelledCR4Flags: [(String, String)] = [
        ("vme", "CR4.VME (virtual-8086 mode extensions) is not a flag the format sets: it changes only virtual-8086 mode, which is not modelled (`mov cr4, REG` may set it, to no effect)"),
        ("pvi", "CR4.PVI (protected-mode virtual interrupts) is not modelled: CLI and STI at CPL 3 would change VIF instead of raising #GP(0)"),
    ]

    /// A map of flag names to booleans; `unmodelled` names flags of the register that the model refuses, with why.
    mutating func flags(_ node: YAMLNode, _ what: String, _ known: [(String, UInt64)],
                        unmodelled: [(String, String)] = []) -> FlagEdit {
        var edit = FlagEdit()
        guard let m = mapping(node, what, allowed: known.map(\.0) + unmodelled.map(\.0)) else { return edit }
        for (name, why) in unmodelled {
            if let n = m[name] { error(n, "\(what).\(name): \(why)", notes: ["the flags of \(what) are \(known.map(\.0).joined(separator: ", "))"]) }
        }
        for (name, bit) in known {
            guard let n = m[name], let b = bool(n, "\(what).\(name)") else { continue }
            if b { edit.set |= bit } else { edit.clear |= bit }
        }
        return edit
    }

    static let rflagsKeys: [(String, UInt64)] = [("if", RFLAGS.if), ("ac", RFLAGS.ac), ("tf", RFLAGS.tf), ("df", RFLAGS.df),
                                                  ("nt", RFLAGS.nt), ("of", RFLAGS.of), ("cf", RFLAGS.cf), ("rf", RFLAGS.rf)]

    /// `rflags: {if, ac, iopl, ...}`.
    mutating func rflags(_ node: YAMLNode, _ what: String) -> (FlagEdit, UInt8?) {
        var edit = FlagEdit()
        var iopl: UInt8?
        guard let m = mapping(node, what, allowed: Self.rflagsKeys.map(\.0) + ["iopl"]) else { return (edit, nil) }
        for (name, bit) in Self.rflagsKeys {
            guard let n = m[name], let b = bool(n, "\(what).\(name)") else { continue }
            if b { edit.set |= bit } else { edit.clear |= bit }
        }
        if let n = m["iopl"], let v = uint(n, "\(what).iopl", max: 3) {
            iopl = UInt8(v)
            edit.clear |= RFLAGS.iopl
            edit.set |= v << 12
        }
        return (edit, iopl)
    }

    /// Whether a node is a scalar integer literal (so not a selector name or map).
    func isIntegerLiteral(_ node: YAMLNode) -> Bool {
        guard let s = node.scalar else { return false }
        if case .invalid = parseInteger(s) { return false }
        return true
    }

    /// MSR values are numbers; IA32_SYSENTER_CS holds a selector and so also takes the selector
    /// forms (`kernel_cs`, `NAME:RPL`, `{index, ti, rpl}`) when `names` are known.
    mutating func msrs(_ node: YAMLNode, names: SelectorNames? = nil) -> [UInt32: UInt64] {
        var out: [UInt32: UInt64] = [:]
        guard let written = node.mapping else { error(node, "msrs must be a mapping from MSR name or number to value"); return out }
        let pairs = droppingOverriddenMerges(written) { $0.scalar.flatMap(Self.msrNumber) }
        var seen = FirstKeys<UInt32>()
        for p in pairs {
            guard let key = p.key.scalar else { error(p.key, "MSR names must be scalars"); continue }
            if parseInteger(key) == .leadingZero { leadingZeroError(p.key, key, "MSR number"); continue }
            guard let number = Self.msrNumber(key) else {
                error(p.key, "unknown MSR '\(key)'", notes: hint(key.uppercased(), MSR.names.map(\.0)).map { [$0] } ?? [])
                continue
            }
            guard seen.isNew(number, p.key, "MSR 0x\(String(number, radix: 16))", context: &self) else { continue }
            if let name = MSR.unmodelled[number] {
                error(p.key, "MSR \(name) (0x\(String(number, radix: 16))) is not modelled: the model keeps only \(MSR.names.map(\.0).joined(separator: ", "))")
                continue
            }
            var value: UInt64?
            if number == MSR.sysenterCS, let names, !isIntegerLiteral(p.value) {
                value = selector(p.value, "MSR \(key)", names: names).map(UInt64.init)
            } else {
                value = uint(p.value, "MSR \(key)")
            }
            guard let value else { continue }
            // A value WRMSR refuses with #GP(0) is one no processor holds (PRIV-2), except a non-canonical
            // address: FAST-1 (SYSENTER's #GP(0) for a non-canonical SYSENTER_EIP/ESP) needs one set up.
            if let problem = Machine.msrWriteProblem(number, value, vendor: vendor, checkCanonical: false) {
                error(p.value, "MSR \(key) = 0x\(String(value, radix: 16)): WRMSR \(problem) raises #GP(0) (PRIV-2), so no processor holds it")
                continue
            }
            if number == MSR.efer, let what = Machine.unmodelledEFERBits(value, vendor: vendor) {
                error(p.value, "MSR \(key) = 0x\(String(value, radix: 16)) sets \(what)")
                continue
            }
            out[number] = value
        }
        return out
    }

    /// The MSR a `msrs` key names: an MSR name (any case) or a number that fits 32 bits; nil otherwise.
    static func msrNumber(_ key: String) -> UInt32? {
        if let hit = MSR.names.first(where: { $0.0 == key.uppercased() }) { return hit.1 }
        if case let .value(v, false) = parseInteger(key), v <= 0xFFFF_FFFF { return UInt32(v) }
        return nil
    }

    // MARK: Selectors

    /// A selector: integer, `NAME`, `NAME:RPL`, or `{index, ti, rpl}`.
    mutating func selector(_ node: YAMLNode, _ what: @autoclosure () -> String, names: SelectorNames) -> UInt16? {
        if let m = node.mapping {
            _ = m
            guard let mm = mapping(node, what(), allowed: ["index", "ti", "rpl"]) else { return nil }
            let index = mm["index"].flatMap { uint($0, "\(what()).index", max: 8191) } ?? 0
            let ti = mm["ti"].flatMap { choice($0, "\(what()).ti", [("gdt", false), ("ldt", true)]) } ?? false
            let rpl = mm["rpl"].flatMap { uint($0, "\(what()).rpl", max: 3) } ?? 0
            return UInt16(index << 3) | (ti ? 4 : 0) | UInt16(rpl)
        }
        guard let s = node.scalar else { error(node, "\(what()) must be a selector"); return nil }
        if parseInteger(s) == .leadingZero { leadingZeroError(node, s, what()); return nil }
        if case let .value(v, false) = parseInteger(s) {
            guard v <= 0xFFFF else { error(node, "\(what()) \(s) does not fit in 16 bits"); return nil }
            return UInt16(v)
        }
        switch resolveSelectorText(s, names: names) {
        case let .success(v): return v
        case let .failure(msg): error(node, "\(what()): \(msg.message)", notes: msg.notes); return nil
        }
    }

    // MARK: Tables

    /// The pairs of a `gdt`/`ldt` index map, a merged index that a written key (`0x14` over a merged
    /// `20`) gives too left out (`droppingOverriddenMerges`).
    static func tablePairs(_ pairs: [YAMLPair]) -> [YAMLPair] {
        droppingOverriddenMerges(pairs, key: tableIndex)
    }

    /// The index a `gdt`/`ldt` map key writes (any non-negative integer spelling, range unchecked); nil
    /// for anything else.
    static func tableIndex(_ key: YAMLNode) -> UInt64? {
        guard let s = key.scalar, case let .value(v, false) = parseInteger(s) else { return nil }
        return v
    }

    mutating func collectNames(_ node: YAMLNode, into names: inout [String: Int], table: String) {
        var entries: [(Int, YAMLNode)] = []
        if let items = node.sequence {
            entries = items.indices.map { ($0, items[$0]) }
        } else if let pairs = node.mapping {
            for p in Self.tablePairs(pairs) {
                guard let v = Self.tableIndex(p.key), v < 8192 else { continue }
                entries.append((Int(v), p.value))
            }
        }
        var written: [String: YAMLNode] = [:]
        for (i, e) in entries {
            guard let nameNode = e.value(forKey: "name"), let n = nameNode.scalar else { continue }
            // A name is how selectors find the entry: two entries of one table with one name would
            // make every use of it ambiguous (a preset name may be given to a written entry, which
            // then takes it over).
            if let earlier = written[n] {
                error(nameNode, "\(table) entry name '\(n)' is already used at \(location(earlier).description)",
                      notes: ["a selector NAME must name one descriptor"])
                continue
            }
            written[n] = nameNode
            names[n] = i
        }
    }

    /// The `name` node of the entry at `index` of a written table (list or index map).
    func ldtNameNode(_ node: YAMLNode, index: Int) -> YAMLNode? {
        if let items = node.sequence { return index < items.count ? items[index].value(forKey: "name") : nil }
        for p in Self.tablePairs(node.mapping ?? []) {
            if Self.tableIndex(p.key) == UInt64(index) { return p.value.value(forKey: "name") }
        }
        return nil
    }

    mutating func table(_ node: YAMLNode, _ what: String, names: SelectorNames, mode: MachineMode) -> TableSpec? {
        if let items = node.sequence {
            var out: [TableEntry?] = []
            for i in items.indices {
                let item = items[i]
                if i > 0, let prev = out.last, let prevEntry = prev, prevEntry.high != nil {
                    if !item.isNullScalar { error(item, "\(what)[\(i)] is the upper half of the 16-byte descriptor at \(i - 1): leave it null") }
                    out.append(nil)
                    continue
                }
                out.append(descriptor(item, "\(what)[\(i)]", names: names, mode: mode, index: i))
            }
            guard out.count <= 8192 else { error(node, "\(what) has more than 8192 entries"); return nil }
            return .replace(out)
        }
        guard let written = node.mapping else { error(node, "\(what) must be a list (replaces the table) or a map from index to descriptor (patches it)"); return nil }
        let pairs = Self.tablePairs(written)
        var out: [Int: TableEntry?] = [:]
        var seen = FirstKeys<Int>()
        for p in pairs {
            guard let i = uint(p.key, "\(what) index", max: 8191) else { continue }
            // `20` and `0x14` are one index: the loader's duplicate-key check compares the text only.
            guard seen.isNew(Int(i), p.key, "\(what) index \(i)", context: &self) else { continue }
            out[Int(i)] = descriptor(p.value, "\(what)[\(i)]", names: names, mode: mode, index: Int(i))
        }
        return .patch(out)
    }

    static let descriptorTypes = ["code", "data", "tss32", "tss64", "ldt", "call_gate", "task_gate"]
    static let tss32Fields = ["link", "esp0", "esp1", "esp2", "ss0", "ss1", "ss2", "cr3", "eip", "eflags", "eax", "ecx", "edx",
                              "ebx", "esp", "ebp", "esi", "edi", "es", "cs", "ss", "ds", "fs", "gs", "ldt", "iomap", "trap"]
    static let tss64Fields = ["rsp0", "rsp1", "rsp2", "ist1", "ist2", "ist3", "ist4", "ist5", "ist6", "ist7", "iomap"]
    /// Every key some descriptor type takes (`type` aside).
    static let descriptorKeys: Set<String> = Set(["name", "dpl", "present", "base", "limit", "granularity", "default_size",
                                                  "conforming", "readable", "long", "accessed", "writable", "expand_down",
                                                  "busy", "io_ports", "selector", "offset", "params", "tss"] + tss32Fields + tss64Fields)
    static let tssSelectorFields: Set<String> = ["link", "ss0", "ss1", "ss2", "es", "cs", "ss", "ds", "fs", "gs", "ldt"]

    /// One descriptor of `gdt` / `ldt` (at `index` of its table); nil for `null`.
    mutating func descriptor(_ node: YAMLNode, _ what: String, names: SelectorNames, mode: MachineMode, index: Int) -> TableEntry? {
        if node.isNullScalar { return nil }
        guard let typeNode = node.value(forKey: "type") else {
            guard let pairs = node.mapping else { error(node, "\(what) must be null or a descriptor mapping"); return nil }
            // A misspelt `type` key (`tye: code`) is the likelier mistake than a forgotten one: say so at that key.
            if let p = pairs.first(where: { $0.key.scalar.map { !Self.descriptorKeys.contains($0) && hint($0, ["type"]) != nil } ?? false }),
               let k = p.key.scalar {
                error(p.key, "unknown key '\(k)' in \(what)", notes: ["did you mean 'type'? (every descriptor needs one of \(Self.descriptorTypes.joined(separator: ", ")))"])
            } else {
                error(node, "\(what) needs a type (one of \(Self.descriptorTypes.joined(separator: ", ")))")
            }
            return nil
        }
        guard let type = choice(typeNode, "descriptor type", names: Self.descriptorTypes) else { return nil }
        // The name is read where selectors look names up (a scalar or nothing): a list or a map there
        // was silently no name.
        if let n = node.value(forKey: "name"), string(n, "\(what).name") == nil { return nil }
        let common = ["name", "type", "dpl", "present"]
        switch type {
        case "code", "data":
            let extra = type == "code" ? ["conforming", "readable", "long", "accessed"] : ["writable", "expand_down", "accessed"]
            guard let m = mapping(node, "\(what) (\(type))", allowed: common + ["base", "limit", "granularity", "default_size"] + extra) else { return nil }
            let dpl = m["dpl"].flatMap { uint($0, "\(what).dpl", max: 3) } ?? 0
            let present = m["present"].flatMap { bool($0, "\(what).present") } ?? true
            let base = m["base"].flatMap { uint($0, "\(what).base", max: 0xFFFF_FFFF) } ?? 0
            let limitGiven = m["limit"] != nil
            var g4k = !limitGiven
            if let gn = m["granularity"], let g = choice(gn, "granularity", [("byte", false), ("4k", true)]) { g4k = g }
            var limit: UInt64 = 0xF_FFFF
            if let ln = m["limit"], let l = uint(ln, "\(what).limit", max: 0xFFFF_FFFF) {
                if g4k {
                    // A 4k-granular limit may be written in bytes (0xffffffff) or in pages (0xfffff).
                    limit = l > 0xF_FFFF ? l >> 12 : l
                } else if l > 0xF_FFFF {
                    error(ln, "\(what).limit 0x\(String(l, radix: 16)) needs granularity: 4k (byte granularity allows at most 0xfffff)")
                } else {
                    limit = l
                }
            }
            let long = type == "code" ? (m["long"].flatMap { bool($0, "\(what).long") } ?? false) : false
            var big = !long
            if let ds = m["default_size"], let v = choice(ds, "default_size", [("16", false), ("32", true)]) { big = v }
            var t: UInt8 = type == "code" ? 0x8 : 0
            if type == "code" {
                if m["conforming"].flatMap({ bool($0, "\(what).conforming") }) ?? false { t |= 0x4 }
                if m["readable"].flatMap({ bool($0, "\(what).readable") }) ?? true { t |= 0x2 }
            } else {
                if m["expand_down"].flatMap({ bool($0, "\(what).expand_down") }) ?? false { t |= 0x4 }
                if m["writable"].flatMap({ bool($0, "\(what).writable") }) ?? true { t |= 0x2 }
            }
            if m["accessed"].flatMap({ bool($0, "\(what).accessed") }) ?? false { t |= 0x1 }
            if long && big && m["default_size"] != nil && mode == .x86_64 {
                warning(node, "\(what): L=1 with D=1 is reserved; using it as a CS faults #GP (FAR check_cs)")
            }
            let d = Descriptor.segment(base: base, limit: UInt32(limit), type: t, dpl: UInt8(dpl), present: present,
                                       long: long, big: big, granularity4K: g4k)
            return TableEntry(low: d.raw)
        case "tss32", "tss64":
            let fields = type == "tss32" ? Self.tss32Fields : Self.tss64Fields
            guard let m = mapping(node, "\(what) (\(type))", allowed: common + ["busy", "base", "limit", "io_ports"] + fields) else { return nil }
            if type == "tss64" && mode == .ia32 { error(typeNode, "\(what): a 64-bit TSS exists only in x86_64 mode") }
            if type == "tss32" && mode == .x86_64 { error(typeNode, "\(what): IA-32e mode uses 64-bit TSSs (tss64)") }
            let dpl = m["dpl"].flatMap { uint($0, "\(what).dpl", max: 3) } ?? 0
            let present = m["present"].flatMap { bool($0, "\(what).present") } ?? true
            let busy = m["busy"].flatMap { bool($0, "\(what).busy") } ?? false
            let base = m["base"].flatMap { uint($0, "\(what).base", max: mode == .ia32 ? 0xFFFF_FFFF : .max) } ?? Self.defaultTSSBase(index: index, mode: mode)
            let limit = m["limit"].flatMap { uint($0, "\(what).limit", max: 0xF_FFFF) } ?? 0x67
            var values: [String: UInt64] = [:]
            for f in fields {
                guard let n = m[f] else { continue }
                if Self.tssSelectorFields.contains(f) {
                    if let v = selector(n, "\(what).\(f)", names: names) { values[f] = UInt64(v) }
                } else if f == "trap" {
                    if let t = bool(n, "\(what).trap") { values[f] = t ? 1 : 0 }
                } else if f == "iomap" {
                    if let v = uint(n, "\(what).iomap", max: 0xFFFF) { values[f] = v }
                } else if let v = uint(n, "\(what).\(f)", max: type == "tss32" ? 0xFFFF_FFFF : .max) {
                    values[f] = v
                }
            }
            let sys: SystemType = busy ? .tssBusy : .tssAvailable
            let (low, high) = Descriptor.system(base: base, limit: UInt32(limit), type: sys, dpl: UInt8(dpl), present: present)
            let ports = m["io_ports"].flatMap { ioPorts($0, "\(what).io_ports") }
            if ports != nil, let n = m["iomap"], let base = values["iomap"] { checkMapBase(n, base, what) }
            return TableEntry(low: low.raw, high: mode == .x86_64 ? high : nil, tssFields: values, tss64: type == "tss64",
                              ioPorts: ports, limitGiven: m["limit"] != nil)
        case "ldt":
            guard let m = mapping(node, "\(what) (ldt)", allowed: common + ["base", "limit"]) else { return nil }
            let dpl = m["dpl"].flatMap { uint($0, "\(what).dpl", max: 3) } ?? 0
            let present = m["present"].flatMap { bool($0, "\(what).present") } ?? true
            let base = m["base"].flatMap { uint($0, "\(what).base") } ?? 0x7000_0000
            let limit = m["limit"].flatMap { uint($0, "\(what).limit", max: 0xF_FFFF) } ?? UInt64(max(names.ldtSlots ?? (names.ldt.values.max() ?? 0) + 1, 1) * 8 - 1)
            let (low, high) = Descriptor.system(base: base, limit: UInt32(limit), type: .ldt, dpl: UInt8(dpl), present: present)
            return TableEntry(low: low.raw, high: mode == .x86_64 ? high : nil, isLDT: true)
        case "call_gate":
            guard let m = mapping(node, "\(what) (call_gate)", allowed: common + ["selector", "offset", "params"]) else { return nil }
            let dpl = m["dpl"].flatMap { uint($0, "\(what).dpl", max: 3) } ?? 0
            let present = m["present"].flatMap { bool($0, "\(what).present") } ?? true
            guard let selNode = m["selector"] else { error(node, "\(what): a call gate needs a selector"); return nil }
            let sel = selector(selNode, "\(what).selector", names: names) ?? 0
            let offset = m["offset"].flatMap { uint($0, "\(what).offset", max: mode == .ia32 ? 0xFFFF_FFFF : .max) } ?? 0
            let params = m["params"].flatMap { uint($0, "\(what).params", max: 31) } ?? 0
            if params != 0 && mode == .x86_64 { error(m["params"] ?? node, "\(what): 64-bit call gates copy no parameters (FAR-11)") }
            let (low, high) = Descriptor.gate(type: .callGate, selector: sel, offset: offset, dpl: UInt8(dpl), present: present,
                                              paramCount: UInt8(params))
            return TableEntry(low: low.raw, high: mode == .x86_64 ? high : nil)
        default:  // task_gate
            guard let m = mapping(node, "\(what) (task_gate)", allowed: common + ["tss"]) else { return nil }
            let dpl = m["dpl"].flatMap { uint($0, "\(what).dpl", max: 3) } ?? 0
            let present = m["present"].flatMap { bool($0, "\(what).present") } ?? true
            let tss = m["tss"].flatMap { selector($0, "\(what).tss", names: names) } ?? 0
            let (low, _) = Descriptor.gate(type: .taskGate, selector: tss, offset: 0, dpl: UInt8(dpl), present: present)
            return TableEntry(low: low.raw)
        }
    }

    /// Where a scenario-declared TSS lives when its base is not given (kernel memory, one page per GDT slot).
    static func defaultTSSBase(index: Int, mode: MachineMode) -> UInt64 {
        (mode == .ia32 ? 0xC0F0_0000 : 0xFFFF_8880_00F0_0000) + UInt64(index) * 0x1000
    }

    static let gateTypes = ["interrupt", "trap", "task"]

    /// What an `idt` key names: a number (range unchecked) or an exception name's vector; nil otherwise.
    static func idtKey(_ key: String) -> UInt64? {
        if case let .value(v, false) = parseInteger(key) { return v }
        return ExceptionVector(name: key).map { UInt64($0.rawValue) }
    }

    mutating func idt(_ node: YAMLNode, names: SelectorNames, mode: MachineMode) -> [GatePatch] {
        guard let written = node.mapping else { error(node, "idt must be a map from vector (number or exception name) to gate"); return [] }
        let pairs = droppingOverriddenMerges(written) { $0.scalar.flatMap(Self.idtKey) }
        var out: [GatePatch] = []
        var seen = FirstKeys<Int>()
        for p in pairs {
            guard let key = p.key.scalar else { error(p.key, "IDT vectors must be numbers or exception names"); continue }
            if parseInteger(key) == .leadingZero { leadingZeroError(p.key, key, "IDT vector"); continue }
            guard let vector = Self.idtKey(key).flatMap({ $0 < 256 ? Int($0) : nil }) else {
                error(p.key, "unknown IDT vector '\(key)'", notes: hint(key.uppercased(), ExceptionVector.allCases.map(\.name)).map { [$0] } ?? ["a number 0-255 or an exception name such as GP or PF"])
                continue
            }
            // `14`, `PF` and `"#PF"` are one vector.
            guard seen.isNew(vector, p.key, "idt vector \(vector)", context: &self) else { continue }
            let what = "idt[\(key)]"
            if p.value.isNullScalar { out.append(GatePatch(vector: vector, present: false)); continue }
            guard let m = mapping(p.value, what, allowed: ["type", "dpl", "selector", "offset", "present", "ist", "tss"]) else { continue }
            var g = GatePatch(vector: vector)
            g.type = m["type"].flatMap { choice($0, "gate type", names: Self.gateTypes) }
            if g.type == "task" && mode == .x86_64 {
                // Allowed to be written (it is a fault to use one, TASK-9): encoded as a task gate.
            }
            g.dpl = m["dpl"].flatMap { uint($0, "\(what).dpl", max: 3) }.map { UInt8($0) }
            g.selector = m["selector"].flatMap { selector($0, "\(what).selector", names: names) }
            g.present = m["present"].flatMap { bool($0, "\(what).present") }
            if g.type == "task" {
                // A task gate holds only a TSS selector, a DPL and P (SDM Vol. 3A §7.2.5, Figure 7-6): the new
                // task's EIP and stack come from its TSS, so an offset or an IST written here could not be used.
                for key in ["offset", "ist"] {
                    if let n = m[key] {
                        error(n, "\(what).\(key): a task gate has no \(key == "offset" ? "offset (the new task's EIP comes from its TSS)" : "IST (the new task's stack comes from its TSS)"); only tss (or selector), dpl and present",
                              notes: ["TASK-1: a task gate names a TSS; remove \(key), or use type: interrupt or trap for a handler"])
                    }
                }
            } else {
                g.offset = m["offset"].flatMap { uint($0, "\(what).offset", max: mode == .ia32 ? 0xFFFF_FFFF : .max) }
                if let n = m["ist"] {
                    if mode == .ia32 { error(n, "\(what).ist: the IST exists only in x86_64 mode") }
                    g.ist = uint(n, "\(what).ist", max: 7).map { UInt8($0) }
                }
            }
            if let n = m["tss"] {
                if g.type != "task" { error(n, "\(what).tss belongs to task gates (type: task)") }
                g.tss = selector(n, "\(what).tss", names: names)
                if m["selector"] != nil { error(n, "\(what): give the TSS as tss or as selector, not both") }
            }
            out.append(g)
        }
        return out
    }

    /// `tss: NAME` (the GDT entry alone) or `tss: {name: NAME, <fields>}`.
    mutating func decodeTSS(_ node: YAMLNode, into setup: inout MachineSetup, names: SelectorNames) {
        if node.scalar != nil {
            selectTSS(node, into: &setup, names: names)
            return
        }
        let fields = setup.mode == .ia32 ? Self.tss32Fields : Self.tss64Fields
        guard let m = mapping(node, "tss", allowed: ["name", "io_ports"] + fields) else { return }
        if let n = m["name"] { selectTSS(n, into: &setup, names: names) }
        if let n = m["io_ports"] { setup.tssIOPorts = ioPorts(n, "tss.io_ports") }
        for f in fields {
            guard let n = m[f] else { continue }
            if Self.tssSelectorFields.contains(f) {
                if let v = selector(n, "tss.\(f)", names: names) { setup.tssFields[f] = UInt64(v) }
            } else if f == "trap" {
                if let t = bool(n, "tss.trap") { setup.tssFields[f] = t ? 1 : 0 }
            } else if f == "iomap" {
                if let v = uint(n, "tss.iomap", max: 0xFFFF) { setup.tssFields[f] = v }
            } else if let v = uint(n, "tss.\(f)") {
                setup.tssFields[f] = v
            }
        }
        if setup.tssIOPorts != nil, let n = m["iomap"], let base = setup.tssFields["iomap"] { checkMapBase(n, base, "tss") }
    }

    /// `io_ports`: the ports a TSS's I/O permission bit map grants, a list of ports (`0x60`) and ranges
    /// (`{from: 0x3f8, to: 0x3ff}`, both ends included), each within the 64 KiB I/O space.
    mutating func ioPorts(_ node: YAMLNode, _ what: String) -> [ClosedRange<UInt16>]? {
        guard let items = sequence(node, what) else { return nil }
        var out: [ClosedRange<UInt16>] = []
        for (i, item) in items.enumerated() {
            let at = "\(what)[\(i)]"
            if item.mapping != nil {
                guard let m = mapping(item, at, allowed: ["from", "to"]) else { continue }
                guard let fromNode = m["from"], let toNode = m["to"] else {
                    error(item, "\(at) needs both from and to (a range of ports, both ends included)")
                    continue
                }
                guard let from = uint(fromNode, "\(at).from", max: 0xFFFF), let to = uint(toNode, "\(at).to", max: 0xFFFF) else { continue }
                guard from <= to else {
                    error(toNode, "\(at): to (0x\(String(to, radix: 16))) is below from (0x\(String(from, radix: 16)))")
                    continue
                }
                out.append(UInt16(from)...UInt16(to))
            } else if let p = uint(item, at, max: 0xFFFF) {
                out.append(UInt16(p)...UInt16(p))
            }
        }
        return out
    }

    /// A map that `io_ports` builds must not overwrite the fixed part of the TSS (0x00-0x67).
    mutating func checkMapBase(_ node: YAMLNode, _ base: UInt64, _ what: String) {
        guard base < UInt64(IOPermissionMap.defaultBase) else { return }
        error(node, "\(what).iomap 0x\(String(base, radix: 16)): the map io_ports builds would overwrite the TSS's own fields (offsets 0-0x67)",
              notes: ["put the map at 0x68 or above (leave iomap out for 0x68)"])
    }

    /// The GDT entry that the task register starts loaded with: it must name a TSS descriptor.
    mutating func selectTSS(_ n: YAMLNode, into setup: inout MachineSetup, names: SelectorNames) {
        if let s = string(n, "tss.name") {
            if let i = names.gdt[s] {
                setup.tssIndex = i
                // The entry must be a TSS descriptor: one the scenario wrote, or the preset's.
                let presetTSS = setup.linuxPreset && LinuxLayout.gdtNames(mode: setup.mode)["tss"] == i
                let isTSS: Bool
                switch setup.gdt {
                case let .replace(list)?: isTSS = i < list.count && list[i]?.tssFields != nil
                case let .patch(map)?: isTSS = map[i].map { $0?.tssFields != nil } ?? presetTSS
                case nil: isTSS = presetTSS
                }
                if !isTSS { error(n, "tss.name '\(s)' names GDT entry \(i), which is not a TSS descriptor (type: \(setup.mode == .ia32 ? "tss32" : "tss64"))") }
            } else {
                let write = "give the GDT a TSS descriptor of that name, e.g. gdt: {N: {name: \(s), type: \(setup.mode == .ia32 ? "tss32" : "tss64")}}"
                error(n, "tss.name '\(s)' names no GDT entry", notes: hint(s, Array(names.gdt.keys)).map { [$0] } ?? [write])
            }
        }
    }

    // MARK: Pages

    static let pageKeys = ["virt", "phys", "count", "size", "present", "writable", "user", "nx", "global", "accessed", "dirty",
                           "pkey", "reserved", "pml4e", "pdpte", "pde"]
    /// The flags of a `pml4e`/`pdpte`/`pde` override: the same as a leaf's (scenario-format.md). G, D
    /// and the key bits are ignored in a non-leaf entry (PG-4, PG-10), so the walk never reads them.
    static let levelKeys = ["present", "writable", "user", "nx", "global", "accessed", "dirty", "pkey", "reserved"]
    /// The largest `count` one mapping may ask for (what the page-table builder accepts).
    static let maxPagesPerMapping: UInt64 = PagingUnit.maxPagesPerMapping

    mutating func pages(_ node: YAMLNode, _ what: String) -> [PageMapping] {
        guard let items = sequence(node, what) else { return [] }
        var out: [PageMapping] = []
        var itemOf: [Int] = []  // out[k] was written at items[itemOf[k]]
        for i in items.indices {
            let item = items[i]
            let w = "\(what)[\(i)]"
            guard let m = mapping(item, w, allowed: Self.pageKeys) else { continue }
            guard let vn = m["virt"], let virt = uint(vn, "\(w).virt") else {
                if m["virt"] == nil { error(item, "\(w) needs virt") }
                continue
            }
            var pm = PageMapping(virt: virt)
            pm.origin = origins.count
            origins.append(location(item))
            pm.phys = m["phys"].flatMap { uint($0, "\(w).phys") }
            if let n = m["count"], let c = uint(n, "\(w).count", max: Self.maxPagesPerMapping) {
                if c == 0 { error(n, "\(w).count must be at least 1") }
                pm.count = c
                chargePages(c, n, "\(w).count")
            } else {
                chargePages(1, item, w)
            }
            if let n = m["size"], let s = choice(n, "page size", of: PageSize.self) { pm.size = s }
            pm.leaf = entryFlags(m, w)
            for (key, path) in [("pml4e", \PageMapping.pml4e), ("pdpte", \PageMapping.pdpte), ("pde", \PageMapping.pde)] {
                guard let n = m[key], let lm = mapping(n, "\(w).\(key)", allowed: Self.levelKeys) else { continue }
                pm[keyPath: path] = entryFlags(lm, "\(w).\(key)")
            }
            out.append(pm)
            itemOf.append(i)
        }
        reportOverlaps(out, itemOf: itemOf, items: items, what)
        return out
    }

    /// Two mappings of one list that cover a common page are an error at the later one (a page has one leaf
    /// entry), naming the first one it meets. One sweep over the spans sorted by start, keeping the spans that
    /// reach past the current start (each of them meets the current one), so that a list of many mappings is
    /// checked in O(n log n) (issue 7, target 5: 10,000 mappings load in linear time), not pair by pair; after
    /// 64 meeting pairs the list is wrong enough and the sweep stops.
    mutating func reportOverlaps(_ out: [PageMapping], itemOf: [Int], items: [YAMLNode], _ what: String) {
        guard out.count > 1 else { return }
        let ends = out.map(Self.spanEnd)
        let order = out.indices.sorted { out[$0].virt != out[$1].virt ? out[$0].virt < out[$1].virt : $0 < $1 }
        var active: [Int] = []
        var firstMet: [Int: Int] = [:]  // later mapping -> the first earlier one (list order) it meets
        var pairs = 0
        sweep: for k in order {
            active.removeAll { ends[$0] <= out[k].virt }
            for j in active {
                let (earlier, later) = j < k ? (j, k) : (k, j)
                if firstMet[later].map({ earlier < $0 }) ?? true { firstMet[later] = earlier }
                pairs += 1
                if pairs >= 64 { break sweep }
            }
            active.append(k)
        }
        for later in firstMet.keys.sorted() {
            guard let earlier = firstMet[later] else { continue }
            let at = out[earlier].origin.map { " (\(origins[$0]))" } ?? ""
            error(items[itemOf[later]], "\(what)[\(itemOf[later])] (virt 0x\(String(out[later].virt, radix: 16))) maps a page that \(what)[\(itemOf[earlier])]\(at) already maps: a page has one leaf entry, so one of the two would be lost",
                  notes: ["write each page once in a list, with the flags it should have; to change a page later, use a `set: {pages: [...]}` step"])
        }
    }

    /// The end of a mapping's span [virt, virt + count * size), saturated at the top of the address space.
    static func spanEnd(_ m: PageMapping) -> UInt64 {
        let (span, o1) = m.count.multipliedReportingOverflow(by: m.size.bytes)
        let (e, o2) = m.virt.addingReportingOverflow(span)
        return o1 || o2 ? .max : e
    }

    mutating func entryFlags(_ m: FieldMap, _ w: String) -> EntryFlags {
        var f = EntryFlags()
        if let n = m["present"] { f.present = bool(n, "\(w).present") }
        if let n = m["writable"] { f.writable = bool(n, "\(w).writable") }
        if let n = m["user"] { f.user = bool(n, "\(w).user") }
        if let n = m["nx"] { f.nx = bool(n, "\(w).nx") }
        if let n = m["accessed"] { f.accessed = bool(n, "\(w).accessed") }
        if let n = m["reserved"] { f.reserved = bool(n, "\(w).reserved") }
        // Upper levels take them too (`levelKeys`); the page-table builder refuses them where the
        // entry has no such bit (a PAE PDPTE; a key outside 4-level paging).
        if let n = m["global"] { f.global = bool(n, "\(w).global") }
        if let n = m["dirty"] { f.dirty = bool(n, "\(w).dirty") }
        if let n = m["pkey"] { f.pkey = uint(n, "\(w).pkey", max: 15).map { UInt8($0) } }
        return f
    }
}

struct NameError: Error {
    var message: String
    var notes: [String]
}

/// Resolves `NAME` or `NAME:RPL` against the table names (GDT names have TI=0, LDT names TI=1).
func resolveSelectorText(_ s: String, names: SelectorNames) -> Result<UInt16, NameError> {
    var name = Substring(s)
    var rpl: UInt16 = 0
    if let colon = s.lastIndex(of: ":") {
        name = s[..<colon]
        let r = s[s.index(after: colon)...]
        guard let v = UInt16(r), v <= 3 else { return .failure(NameError(message: "RPL '\(r)' must be 0-3", notes: [])) }
        rpl = v
    }
    if let i = names.gdt[String(name)] { return .success(UInt16(i << 3) | rpl) }
    if let i = names.ldt[String(name)] { return .success(UInt16(i << 3) | 4 | rpl) }
    let known = names.all.sorted()
    return .failure(NameError(message: "unknown selector name '\(name)'",
                              notes: hint(String(name), known).map { [$0] } ?? (known.isEmpty ? [] : ["known names: \(known.joined(separator: ", "))"])))
}
