// InstructionParser: the Intel-syntax text of an `exec` step (`call far kgate:3:0`, `mov ds, user_ds:3`,
// `mov eax, [0x1000]`) decoded into a `Machine.Instruction` with selectors and addresses resolved.

import Machine

struct InstructionParser {
    var names: SelectorNames
    var mode: MachineMode

    static let examples = ["int 0x80", "int3", "into", "syscall", "sysret", "sysenter", "sysexit", "iret", "call far SEL:OFF",
                           "jmp far SEL:OFF", "retf 8", "mov ds, SEL", "mov ds, eax", "mov eax, ds", "mov eax, 5", "mov eax, [0x1000]", "mov [0x1000], eax",
                           "cli", "sti", "hlt", "lgdt", "lidt", "mov cr3, eax", "invlpg [0x1000]", "rdmsr", "wrmsr", "in", "in al, 0x60", "in eax, dx", "out", "out 0x80, al", "out dx, ax", "nop", "ud2"]

    func parse(_ text: String) -> Result<Instruction, NameError> {
        // One split; the mnemonic and `rest` compare in lower case, `operandsRaw` keeps the case of names.
        let (word, operandsRaw) = text.splitFirstWord()
        let mnemonic = word.lowercased(), rest = operandsRaw.lowercased()
        switch mnemonic {
        case "int":
            guard let n = number(rest), n <= 255 else { return fail("int needs a vector 0-255, as in `int 0x80`") }
            return .success(.int(UInt8(n)))
        case "int3": return bare(rest, .int3)
        case "into": return bare(rest, .into)
        case "int1", "icebp": return bare(rest, .int1)
        case "syscall": return bare(rest, .syscall)
        case "sysret": return bare(rest, .sysret(to64: nil))
        case "sysretq": return bare(rest, .sysret(to64: true))
        case "sysretl", "sysretd": return bare(rest, .sysret(to64: false))
        case "sysenter": return bare(rest, .sysenter)
        case "sysexit", "sysexitl", "sysexitd": return bare(rest, .sysexit(to64: false))
        case "sysexitq": return bare(rest, .sysexit(to64: true))
        case "iret": return bare(rest, .iret(width: nil))
        case "iretd": return bare(rest, .iret(width: 4))
        case "iretq": return bare(rest, .iret(width: 8))
        case "iretw": return bare(rest, .iret(width: 2))
        case "cli": return bare(rest, .cli)
        case "sti": return bare(rest, .sti)
        case "hlt": return bare(rest, .hlt)
        case "nop": return bare(rest, .nop)
        case "ud2": return bare(rest, .ud2)
        case "rdmsr": return bare(rest, .rdmsr)
        case "wrmsr": return bare(rest, .wrmsr)
        // LGDT/LIDT m16&32 would load the table register from memory; the model keeps the scenario's tables
        // as descriptor words, so only the bare form exists, and an operand is refused rather than ignored.
        case "lgdt", "lidt":
            guard rest.isEmpty else {
                return fail("`\(mnemonic)` from a memory operand is not modelled (the descriptor tables are the scenario's "
                            + "`machine.\(mnemonic == "lgdt" ? "gdt" : "idt")`): write `\(mnemonic)` alone, which reloads "
                            + "that table at CPL 0 and is #GP(0) at CPL 1-3")
            }
            return .success(mnemonic == "lgdt" ? .lgdt : .lidt)
        case "in", "out": return portIO(mnemonic, rest)
        case "retf", "lret", "retfq", "retfd", "retfw", "lretq", "lretl", "lretw":
            let width: Int? = mnemonic.hasSuffix("q") ? 8 : (mnemonic.hasSuffix("d") || mnemonic == "lretl" ? 4 : (mnemonic.hasSuffix("w") ? 2 : nil))
            if rest.isEmpty { return .success(.retf(popBytes: 0, width: width)) }
            guard let n = number(rest), n <= 0xFFFF else { return fail("retf takes an optional byte count 0-65535") }
            return .success(.retf(popBytes: UInt16(n), width: width))
        case "call", "jmp", "ljmp", "lcall":
            var ops = operandsRaw
            let (firstWord, afterIt) = ops.splitFirstWord()
            if firstWord.lowercased() == "far" {
                ops = afterIt
            } else if mnemonic.hasPrefix("l"), let comma = ops.lastIndex(of: ","),
                      ops.lastIndex(of: "}").map({ $0 < comma }) ?? true {
                // `ljmp SEL, OFF` (AT&T order, `$` allowed): SEL in any selector form, `kgate:3` and
                // `{index, ti, rpl}` included, as in `ljmp far SEL:OFF` (the offset is after the last comma).
                let pair = [String(ops[..<comma]), String(ops[ops.index(after: comma)...])].map { $0.trimmingWhitespace() }
                ops = pair.map { $0.hasPrefix("$") ? String($0.dropFirst()) : $0 }.joined(separator: ":")
            } else if !ops.contains(":") {
                // `jmp SEL:OFF` (a direct far pointer, as NASM writes it) is far without the keyword.
                // A lone target is a near transfer.
                if mnemonic == "call" || mnemonic == "jmp" {
                    return fail("only far transfers are modelled: write `\(mnemonic) far SEL:OFF`")
                }
            }
            return farPointer(ops).map { mnemonic.hasSuffix("call") ? .callFar(selector: $0.0, offset: $0.1) : .jmpFar(selector: $0.0, offset: $0.1) }
        case "invlpg":
            guard let a = memoryOperand(rest) else { return fail("invlpg needs a memory operand, as in `invlpg [0x1000]`") }
            return .success(.invlpg(a))
        case "mov":
            return mov(operandsRaw)
        case "pop", "push":
            // POP Sreg makes MOV Sreg's checks (SDM Vol. 2B POP); the model runs no stack instructions.
            return fail("`\(mnemonic)` is not modelled (the model runs no stack instructions): "
                        + (mnemonic == "pop" ? "load a segment register with `mov SREG, SEL`, which makes the checks POP Sreg makes (SEG-5, SEG-6)"
                                             : "write memory with `mov [ADDR], REG` and the stack pointer with `set: {regs: ...}`"))
        case "lds", "les", "lfs", "lgs", "lss":
            // The far-pointer loads make MOV Sreg's checks on the selector (SDM Vol. 2A LDS/LES/LFS/LGS/LSS).
            return fail("`\(mnemonic)` is not modelled: load the segment register with `mov \(mnemonic.dropFirst()), SEL` (the same checks, "
                        + "SEG-5/SEG-6) and the offset register with `set: {regs: ...}`"
                        + (mnemonic == "lss" ? " (unlike LSS, MOV SS holds interrupts off until the next instruction is done)" : ""))
        default:
            return .failure(NameError(message: "unknown instruction '\(mnemonic)'",
                                      notes: hint(mnemonic, Self.mnemonics).map { [$0] } ?? ["modelled: \(Self.examples.joined(separator: ", "))"]))
        }
    }

    /// Every mnemonic the switch above takes, for "did you mean" (`iretd` for `irtd`, not `int`).
    static let mnemonics = ["int", "int3", "into", "int1", "icebp", "syscall", "sysret", "sysretq", "sysretl", "sysretd",
                            "sysenter", "sysexit", "sysexitl", "sysexitd", "sysexitq", "iret", "iretd", "iretq", "iretw",
                            "cli", "sti", "hlt", "nop", "ud2", "rdmsr", "wrmsr", "lgdt", "lidt", "in", "out", "retf", "lret",
                            "retfq", "retfd", "retfw", "lretq", "lretl", "lretw", "call", "jmp", "ljmp", "lcall", "invlpg", "mov"]

    /// `crN` as an operand: N is what MOV CR's ModRM.reg (with REX.R) can encode, 0 to 15 (those that do not
    /// exist are #UD when run, ISA-1); `cr16` and above are no register at all.
    static func controlRegisterNumber(_ operand: String) -> Result<Int, NameError>? {
        guard operand.hasPrefix("cr"), let n = Int(operand.dropFirst(2)) else { return nil }
        guard n <= 15, String(n) == operand.dropFirst(2) else {
            return .failure(NameError(message: "unknown register '\(operand)' (MOV CR encodes CR0-CR15)",
                                      notes: hint(operand, ["cr0", "cr2", "cr3", "cr4", "cr8"]).map { [$0] } ?? ["control registers: cr0, cr2, cr3, cr4, cr8"]))
        }
        return .success(n)
    }

    func fail(_ m: String) -> Result<Instruction, NameError> { .failure(NameError(message: m, notes: [])) }

    /// The accumulator IN and OUT move, by width.
    static let accumulators = ["al": 1, "ax": 2, "eax": 4]
    static func accumulator(_ size: Int) -> String { size == 1 ? "al" : (size == 2 ? "ax" : "eax") }
    static func immediatePort(_ p: IOPortOperand) -> UInt8 {
        if case let .immediate(v) = p { return v }
        return 0
    }

    /// `in` / `out` bare (the version-1 form: no port, PRIV-1 only), or with Intel-syntax operands:
    /// `in al|ax|eax, IMM8|dx` and `out IMM8|dx, al|ax|eax` (SDM Vol. 2A IN, Vol. 2B OUT).
    func portIO(_ mnemonic: String, _ rest: String) -> Result<Instruction, NameError> {
        if rest.isEmpty { return .success(mnemonic == "in" ? .inPort : .outPort) }
        let form = mnemonic == "in" ? "`in al, 0x60`, `in ax, dx`, `in eax, 0x71`" : "`out 0x80, al`, `out dx, ax`, `out 0x70, eax`"
        let ops = rest.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        guard ops.count == 2 else {
            return .failure(NameError(message: "\(mnemonic) takes two operands (or none): \(form)", notes: []))
        }
        let (regText, portText) = mnemonic == "in" ? (ops[0], ops[1]) : (ops[1], ops[0])
        guard let size = Self.accumulators[regText] else {
            return .failure(NameError(message: "\(mnemonic) moves AL, AX or EAX only, not '\(regText)'",
                                      notes: ["the port is an 8-bit immediate or dx: \(form)"]))
        }
        if portText == "dx" { return .success(mnemonic == "in" ? .portIn(.dx, size: size) : .portOut(.dx, size: size)) }
        guard let n = number(portText) else {
            return .failure(NameError(message: "\(mnemonic): the port '\(portText)' is neither an 8-bit immediate nor dx",
                                      notes: ["ports above 0xff are reached through dx: `mov edx, 0x3f8` then \(mnemonic == "in" ? "`in al, dx`" : "`out dx, al`")"]))
        }
        guard n <= 0xFF else {
            return .failure(NameError(message: "\(mnemonic): the immediate port 0x\(String(n, radix: 16)) does not fit 8 bits (0-0xff)",
                                      notes: ["ports above 0xff are reached through dx: `mov edx, 0x\(String(n, radix: 16))` then \(mnemonic == "in" ? "`in \(regText), dx`" : "`out dx, \(regText)`")"]))
        }
        let port = IOPortOperand.immediate(UInt8(n))
        return .success(mnemonic == "in" ? .portIn(port, size: size) : .portOut(port, size: size))
    }

    func bare(_ rest: String, _ i: Instruction) -> Result<Instruction, NameError> {
        rest.isEmpty ? .success(i) : fail("this instruction takes no operands")
    }

    /// An operand number: as in YAML (`128`, `0x80`, `0b...`, `0o...`), or in the assembler's `80h` form
    /// (hex digits ending in `h`, starting with a decimal digit as NASM and MASM require: `0ffh`, not `ffh`).
    func number(_ s: String) -> UInt64? {
        let t = s.trimmingWhitespace()
        if case let .value(v, false) = parseInteger(t, leadingZeroIsDecimal: true) { return v }
        // `NNh`: the digits before the `h` are parsed as `0xNN`, which checks them as hex.
        guard let first = t.utf8.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first), t.utf8.count >= 2,
              t.utf8.last.map({ $0 | 0x20 == UInt8(ascii: "h") }) == true,
              case let .value(v, false) = parseInteger("0x" + t.dropLast()) else { return nil }
        return v
    }

    /// `[ADDR]`, optionally after a size (`byte`, `word`, `dword`, `qword`, each optionally followed by `ptr`):
    /// the address and the size in bytes the text states (nil when it states none).
    func sizedMemoryOperand(_ s: String) -> (address: UInt64, size: Int?)? {
        var t = s.trimmingWhitespace()
        var size: Int?
        let (first, after) = t.splitFirstWord()
        if let n = Self.sizeKeywords[first.lowercased()] {
            size = n
            t = after
            let (second, rest) = t.splitFirstWord()
            if second.lowercased() == "ptr" { t = rest }
        }
        guard t.hasPrefix("["), t.hasSuffix("]"), let a = number(String(t.dropFirst().dropLast())) else { return nil }
        return (a, size)
    }

    static let sizeKeywords = ["byte": 1, "word": 2, "dword": 4, "qword": 8]

    /// The 8-bit register names, which no modelled `mov` takes.
    static let byteRegisters = Set(["al", "ah", "bl", "bh", "cl", "ch", "dl", "dh", "sil", "dil", "spl", "bpl"] + (8...15).map { "r\($0)b" })

    func memoryOperand(_ s: String) -> UInt64? {
        guard let m = sizedMemoryOperand(s), m.size == nil else { return nil }
        return m.address
    }

    /// A selector operand: a number, NAME, NAME:RPL or `{index, ti: gdt|ldt, rpl}` (as anywhere a
    /// selector is expected, scenario-format.md "Selectors").
    func selector(_ text: String) -> Result<UInt16, NameError> {
        let t = text.trimmingWhitespace()
        if let v = number(t) {
            guard v <= 0xFFFF else { return .failure(NameError(message: "selector \(t) does not fit in 16 bits", notes: [])) }
            return .success(UInt16(v))
        }
        guard t.hasPrefix("{") else { return resolveSelectorText(t, names: names) }
        guard t.hasSuffix("}") else { return .failure(NameError(message: "a selector map is written {index: N, ti: gdt|ldt, rpl: R} (got '\(t)')", notes: [])) }
        var index: UInt64 = 0, ti = false, rpl: UInt64 = 0
        for field in t.dropFirst().dropLast().split(separator: ",") {
            let kv = field.split(separator: ":", maxSplits: 1).map { String($0).trimmingWhitespace() }
            guard kv.count == 2 else { return .failure(NameError(message: "a selector map is written {index: N, ti: gdt|ldt, rpl: R} (got '\(t)')", notes: [])) }
            switch kv[0].lowercased() {
            case "index":
                guard let v = number(kv[1]), v <= 8191 else { return .failure(NameError(message: "selector index '\(kv[1])' must be 0-8191", notes: [])) }
                index = v
            case "ti":
                switch kv[1].lowercased() {
                case "gdt": ti = false
                case "ldt": ti = true
                default: return .failure(NameError(message: "selector ti '\(kv[1])' must be gdt or ldt", notes: []))
                }
            case "rpl":
                guard let v = number(kv[1]), v <= 3 else { return .failure(NameError(message: "RPL '\(kv[1])' must be 0-3", notes: [])) }
                rpl = v
            default:
                return .failure(NameError(message: "unknown key '\(kv[0])' in a selector map", notes: hint(kv[0], ["index", "ti", "rpl"]).map { [$0] } ?? []))
            }
        }
        return .success(UInt16(index << 3) | (ti ? 4 : 0) | UInt16(rpl))
    }

    /// `SEL:OFF` where SEL is a number, NAME, NAME:RPL or `{index, ti, rpl}`.
    func farPointer(_ s: String) -> Result<(UInt16, UInt64), NameError> {
        if s.hasPrefix("{"), let close = s.firstIndex(of: "}") {
            let after = String(s[s.index(after: close)...]).trimmingWhitespace()
            guard after.hasPrefix(":"), let off = number(String(after.dropFirst())) else {
                return .failure(NameError(message: "a far pointer is SEL:OFF, with SEL a number, NAME, NAME:RPL or {index, ti, rpl} (got '\(s)')", notes: []))
            }
            if mode == .ia32 && off > 0xFFFF_FFFF { return .failure(NameError(message: "offset 0x\(String(off, radix: 16)) does not fit in 32 bits", notes: [])) }
            return selector(String(s[...close])).map { ($0, off) }
        }
        let parts = s.split(separator: ":", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        guard parts.count == 2 || parts.count == 3, let off = number(parts[parts.count - 1]) else {
            return .failure(NameError(message: "a far pointer is SEL:OFF, with SEL a number, NAME or NAME:RPL (got '\(s)')", notes: []))
        }
        if mode == .ia32 && off > 0xFFFF_FFFF { return .failure(NameError(message: "offset 0x\(String(off, radix: 16)) does not fit in 32 bits", notes: [])) }
        let selText = parts.count == 3 ? parts[0] + ":" + parts[1] : parts[0]
        if parts.count == 2, let v = number(parts[0]) {
            guard v <= 0xFFFF else { return .failure(NameError(message: "selector \(parts[0]) does not fit in 16 bits", notes: [])) }
            return .success((UInt16(v), off))
        }
        return resolveSelectorText(selText, names: names).map { ($0, off) }
    }

    func mov(_ operands: String) -> Result<Instruction, NameError> {
        let ops = operands.split(separator: ",", maxSplits: 1).map { String($0).trimmingWhitespace() }
        guard ops.count == 2 else { return fail("mov needs two operands: `mov DEST, SRC`") }
        let dst = ops[0].lowercased(), src = ops[1]
        // MOV CS is #UD whatever its source, but a source that names nothing (a misspelt selector name) is
        // still the author's mistake, not something to run.
        if dst == "cs" { return GPR(name: src) != nil ? .success(.movToCS) : selector(src).map { _ in .movToCS } }
        if let seg = SegmentRegisterName(rawValue: dst) {
            if let r = GPR(name: src) { return .success(.movRegisterToSegment(seg, r)) }
            return selector(src).map { .movToSegment(seg, $0) }
        }
        if let cr = Self.controlRegisterNumber(dst) {
            guard case let .success(n) = cr else { return cr.map { _ in .nop } }
            guard let r = GPR(name: src) else { return fail("mov \(dst), REG needs a general register") }
            return .success(.movToCR(n, r))
        }
        if let m = sizedMemoryOperand(dst) {
            guard let r = GPR(name: src) else {
                return byteRegisterRefusal(src) ?? fail("mov [ADDR], REG needs an address and a register")
            }
            if let size = m.size, size != Self.width(src) { return sizeMismatch(size, register: src) }
            return .success(.store(address: m.address, r, size: Self.width(src)))
        }
        if dst.hasPrefix("[") { return fail("mov [ADDR], REG needs an address and a register") }
        guard let r = GPR(name: dst) else {
            if let refusal = byteRegisterRefusal(dst) ?? byteRegisterRefusal(src) { return refusal }
            let known = GPR.allCases.flatMap { [$0.name64, $0.name32] } + SegmentRegisterName.allCases.map(\.rawValue) + ["cr0", "cr2", "cr3", "cr4", "cr8"]
            return .failure(NameError(message: "unknown register '\(ops[0])'", notes: hint(dst, known).map { [$0] } ?? []))
        }
        let s = src.lowercased()
        if let cr = Self.controlRegisterNumber(s) { return cr.map { .movFromCR(r, $0) } }
        if let seg = SegmentRegisterName(rawValue: s) { return .success(.movSegmentToRegister(r, seg, width: Self.width(dst))) }
        if let m = sizedMemoryOperand(s) {
            if let size = m.size, size != Self.width(dst) { return sizeMismatch(size, register: dst) }
            return .success(.load(r, address: m.address, size: Self.width(dst)))
        }
        if s.hasPrefix("[") { return fail("bad memory operand '\(src)'") }
        var literal = parseInteger(src.trimmingWhitespace(), leadingZeroIsDecimal: true)
        if literal == .invalid, let v = number(src) { literal = .value(v, negative: false) }
        if case let .value(v, negative) = literal {
            // The immediate fits the destination's width; a negative one is its two's complement there.
            let bits = UInt64(Self.width(dst) * 8)
            let mask: UInt64 = bits == 64 ? ~0 : (1 << bits) - 1
            let fits = negative ? v <= (mask >> 1) + 1 : v <= mask
            guard fits else { return fail("mov \(dst), \(src): the immediate does not fit in \(bits) bits") }
            return .success(.movImmediate(r, (negative ? 0 &- v : v) & mask, width: Self.width(dst)))
        }
        if let v = resolvedSelector(src) { return .success(.movImmediate(r, UInt64(v), width: Self.width(dst))) }
        return fail("mov \(dst), SRC: SRC must be a number, [ADDR] or CRn")
    }

    /// The refusal of an 8-bit register operand, or nil when `operand` names none.
    func byteRegisterRefusal(_ operand: String) -> Result<Instruction, NameError>? {
        let name = operand.lowercased()
        guard Self.byteRegisters.contains(name) else { return nil }
        return fail("8-bit register operands (\(name)) are not modelled: use the 16-, 32- or 64-bit register")
    }

    func sizeMismatch(_ size: Int, register: String) -> Result<Instruction, NameError> {
        let word = Self.sizeKeywords.first { $0.value == size }?.key ?? "\(size)-byte"
        return fail("operand size mismatch: a \(word) memory operand with the \(Self.width(register) * 8)-bit register \(register)")
    }

    func resolvedSelector(_ s: String) -> UInt16? {
        if case let .success(v) = selector(s) { return v }
        return nil
    }

    static func width(_ reg: String) -> Int {
        let r = reg.lowercased()
        if r.hasPrefix("r") { return r.hasSuffix("d") ? 4 : 8 }
        if r.hasPrefix("e") { return 4 }
        return 2
    }
}

extension String {
    /// The text without leading and trailing spaces and tabs (compared as UTF-8 bytes: both are
    /// ASCII, so no multi-byte character is split).
    func trimmingWhitespace() -> String {
        let u = utf8
        var lo = u.startIndex
        var hi = u.endIndex
        while lo < hi, Self.isBlank(u[lo]) { lo = u.index(after: lo) }
        while lo < hi {
            let p = u.index(before: hi)
            guard Self.isBlank(u[p]) else { break }
            hi = p
        }
        if lo == u.startIndex && hi == u.endIndex { return self }
        return String(decoding: u[lo..<hi], as: UTF8.self)
    }

    /// The first word and the trimmed rest, split at the first space or tab.
    func splitFirstWord() -> (String, String) {
        let t = trimmingWhitespace()
        let u = t.utf8
        guard let sp = u.firstIndex(where: Self.isBlank) else { return (t, "") }
        return (String(decoding: u[..<sp], as: UTF8.self), String(decoding: u[sp...], as: UTF8.self).trimmingWhitespace())
    }

    @inline(__always)
    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
}

extension Instruction {
    /// The instruction in the Intel syntax `exec` accepts (selectors as numbers).
    public var intelSyntax: String { intelSyntax(legacy: false) }

    /// The instruction in the Intel syntax `exec` accepts (selectors as numbers); `legacy` (an ia32 machine, where
    /// no 64-bit register exists) names the register of a control-register move by its 32-bit name.
    public func intelSyntax(legacy: Bool) -> String {
        func h(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case let .int(n): return "int \(h(UInt64(n)))"
        case .int3: return "int3"
        case .into: return "into"
        case .int1: return "int1"
        case .syscall: return "syscall"
        case let .sysret(to64): return to64.map { $0 ? "sysretq" : "sysretl" } ?? "sysret"
        case .sysenter: return "sysenter"
        case let .sysexit(to64): return to64 ? "sysexitq" : "sysexit"
        case let .iret(width): return width == 8 ? "iretq" : (width == 4 ? "iretd" : (width == 2 ? "iretw" : "iret"))
        case let .callFar(sel, off): return "call far \(h(UInt64(sel))):\(h(off))"
        case let .jmpFar(sel, off): return "jmp far \(h(UInt64(sel))):\(h(off))"
        case let .retf(n, width):
            let name = width == 8 ? "retfq" : (width == 4 ? "retfd" : (width == 2 ? "retfw" : "retf"))
            return n == 0 ? name : "\(name) \(n)"
        case let .movToSegment(r, sel): return "mov \(r.rawValue), \(h(UInt64(sel)))"
        case let .movRegisterToSegment(s, r): return "mov \(s.rawValue), \(r.name32)"
        case let .movSegmentToRegister(r, s, width): return "mov \(width == 8 ? r.name64 : r.name32), \(s.rawValue)"
        case .movToCS: return "mov cs, ..."
        case let .movImmediate(r, v, width): return "mov \(width == 8 ? r.name64 : (width == 4 ? r.name32 : r.name16)), \(h(v))"
        case let .load(r, a, size): return "mov \(size == 8 ? r.name64 : r.name32), [\(h(a))]"
        case let .store(a, r, size): return "mov [\(h(a))], \(size == 8 ? r.name64 : r.name32)"
        case .cli: return "cli"
        case .sti: return "sti"
        case .hlt: return "hlt"
        case .lgdt: return "lgdt"
        case .lidt: return "lidt"
        case let .movToCR(n, r): return "mov cr\(n), \(legacy ? r.name32 : r.name64)"
        case let .movFromCR(r, n): return "mov \(legacy ? r.name32 : r.name64), cr\(n)"
        case let .invlpg(a): return "invlpg [\(h(a))]"
        case .rdmsr: return "rdmsr"
        case .wrmsr: return "wrmsr"
        case .inPort: return "in"
        case .outPort: return "out"
        case let .portIn(port, size): return "in \(InstructionParser.accumulator(size)), \(port == .dx ? "dx" : h(UInt64(InstructionParser.immediatePort(port))))"
        case let .portOut(port, size): return "out \(port == .dx ? "dx" : h(UInt64(InstructionParser.immediatePort(port)))), \(InstructionParser.accumulator(size))"
        case .nop: return "nop"
        case .ud2: return "ud2"
        }
    }
}
