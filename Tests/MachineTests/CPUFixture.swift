// CPUFixture: an explicit, flat protected-mode (ia32) or IA-32e (x86_64) machine for the rule tests.
//
// GDT (same selectors in both modes):
//   0  0x00  null
//   1  0x08  kernel code  DPL 0 (ia32: 32-bit; x86_64: L=1, D=0)
//   2  0x10  kernel data  DPL 0
//   3  0x1B  user code    DPL 3 (selector with RPL 3)
//   4  0x23  user data    DPL 3
//   5  0x29  ring-1 code  DPL 1
//   6  0x31  ring-1 data  DPL 1
//   7  0x3A  ring-2 code  DPL 2
//   8  0x42  ring-2 data  DPL 2
//   9  0x48  TSS (busy; ia32 32-bit TSS in one slot, x86_64 16-byte TSS in slots 9-10)
//   then free slots, filled by `add...` helpers.
// IDT: 256 present interrupt gates of DPL 0 to kernel code, vector v -> `Addr.handler(v)`.
// TSS at 0x5000: ESP0/RSP0 = 0x20000 (SS0 0x10), ESP1 = 0x21000 (SS1 0x31), ESP2 = 0x22000 (SS2 0x42),
//   x86_64 ISTn = 0x50000 + n*0x1000.
// Start state: CPL 3 (CS 0x1B, SS/DS/ES 0x23, ESP 0x30000) or CPL 0 (CS 0x08, SS/DS/ES 0x10, ESP 0x40000),
//   CPL 1/2 likewise with the ring-1/2 segments and ESP 0x41000/0x42000; EIP 0x1000; EFLAGS 0x202.

import Testing
@testable import Machine

enum Sel {
    static let null: UInt16 = 0
    static let kernelCode: UInt16 = 0x08
    static let kernelData: UInt16 = 0x10
    static let userCode: UInt16 = 0x1B
    static let userData: UInt16 = 0x23
    static let ring1Code: UInt16 = 0x29
    static let ring1Data: UInt16 = 0x31
    static let ring2Code: UInt16 = 0x3A
    static let ring2Data: UInt16 = 0x42
    static let tss: UInt16 = 0x48

    static func code(ring: UInt8) -> UInt16 { [kernelCode, ring1Code, ring2Code, userCode][Int(ring)] }
    static func data(ring: UInt8) -> UInt16 { [kernelData, ring1Data, ring2Data, userData][Int(ring)] }
}

enum Addr {
    static let tssBase: UInt64 = 0x5000
    static let ldtBase: UInt64 = 0x6000
    static let code: UInt64 = 0x1000
    /// TSS.ESPn / RSPn for n = 0, 1, 2.
    static func innerStack(_ n: UInt8) -> UInt64 { 0x20000 + UInt64(n) * 0x1000 }
    static let userStack: UInt64 = 0x30000
    /// The stack a CPL 0/1/2 start state runs on.
    static func startStack(_ cpl: UInt8) -> UInt64 { cpl == 3 ? userStack : 0x40000 + UInt64(cpl) * 0x1000 }
    static func ist(_ n: Int) -> UInt64 { 0x50000 + UInt64(n) * 0x1000 }
    static func handler(_ v: UInt8) -> UInt64 { 0x10_0000 + UInt64(v) * 0x100 }
}

/// A fault as a test expects it.
struct Expected: Sendable, Equatable, CustomStringConvertible {
    var vector: ExceptionVector
    var code: UInt32?
    var rule: String
    init(_ vector: ExceptionVector, _ code: UInt32?, _ rule: String) {
        self.vector = vector
        self.code = code
        self.rule = rule
    }
    var description: String { "\(vector)(\(code.map { "0x" + String($0, radix: 16) } ?? "-")) [\(rule)]" }
}

struct CPUFixture {
    var m: Machine
    let mode: MachineMode

    var is64: Bool { mode == .x86_64 }

    init(_ mode: MachineMode, cpl: UInt8 = 3, vendor: CPUVendor = .intel) {
        self.mode = mode
        m = Machine(mode: mode, vendor: vendor, pagingMode: .off, paging: PagingUnit())
        let long = mode == .x86_64
        var gdt: [UInt64] = [0]
        gdt.append(Self.code(dpl: 0, long: long).raw)
        gdt.append(Self.data(dpl: 0).raw)
        gdt.append(Self.code(dpl: 3, long: long).raw)
        gdt.append(Self.data(dpl: 3).raw)
        gdt.append(Self.code(dpl: 1, long: long).raw)
        gdt.append(Self.data(dpl: 1).raw)
        gdt.append(Self.code(dpl: 2, long: long).raw)
        gdt.append(Self.data(dpl: 2).raw)
        let tss = Descriptor.system(base: Addr.tssBase, limit: 0x67, type: .tssBusy, dpl: 0, present: true)
        gdt.append(tss.low.raw)
        if long { gdt.append(tss.high) }
        m.gdt = gdt

        var image = [UInt8](repeating: 0, count: 0x68)
        func put(_ off: Int, _ size: Int, _ v: UInt64) {
            for i in 0..<size { image[off + i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) }
        }
        if long {
            for n in 0..<3 { put(4 + 8 * n, 8, Addr.innerStack(UInt8(n))) }
            for n in 1...7 { put(0x24 + 8 * (n - 1), 8, Addr.ist(n)) }
        } else {
            for n in 0..<3 {
                put(4 + 8 * n, 4, Addr.innerStack(UInt8(n)))
                put(8 + 8 * n, 2, UInt64(Sel.data(ring: UInt8(n))))
            }
        }
        m.tssImages[Addr.tssBase] = image
        m.cpu.tr = SegmentRegister(selector: Sel.tss, cache: tss.low.cache)

        var idt: [UInt64] = []
        for v in 0...255 {
            let g = Descriptor.gate(type: .interruptGate, selector: Sel.kernelCode, offset: Addr.handler(UInt8(v)),
                                    dpl: 0, present: true)
            idt.append(g.low.raw)
            if long { idt.append(g.high) }
        }
        m.idt = idt

        m.cpu.rip = Addr.code
        m.cpu.rflags = RFLAGS.reserved1 | RFLAGS.if
        setCPL(cpl)
    }

    /// Puts the CPU at `cpl` with that ring's code, stack and data segments.
    mutating func setCPL(_ cpl: UInt8) {
        let cs = Sel.code(ring: cpl), ds = Sel.data(ring: cpl)
        m.cpu.cpl = cpl
        m.cpu.cs = SegmentRegister(selector: cs, cache: descriptor(cs).cache)
        m.cpu.ss = SegmentRegister(selector: ds, cache: descriptor(ds).cache)
        m.cpu.ds = m.cpu.ss
        m.cpu.es = m.cpu.ss
        m.cpu.fs = SegmentRegister(selector: 0, cache: .unusable)
        m.cpu.gs = SegmentRegister(selector: 0, cache: .unusable)
        m.cpu[.rsp] = Addr.startStack(cpl)
    }

    func descriptor(_ sel: UInt16) -> Descriptor { Descriptor(raw: m.gdt[Int(sel >> 3)]) }

    // MARK: Descriptor builders

    /// A flat code segment: non-conforming readable by default (type 0xA/0xB), ia32 32-bit, x86_64 L=1.
    static func code(dpl: UInt8, conforming: Bool = false, readable: Bool = true, present: Bool = true,
                     long: Bool = false, big: Bool? = nil, limit: UInt32 = 0xFFFFF, g: Bool = true) -> Descriptor {
        let type: UInt8 = 0x8 | (conforming ? 0x4 : 0) | (readable ? 0x2 : 0) | 0x1
        return .segment(base: 0, limit: limit, type: type, dpl: dpl, present: present, long: long,
                        big: big ?? !long, granularity4K: g)
    }

    /// A flat data segment: writable by default.
    static func data(dpl: UInt8, writable: Bool = true, present: Bool = true) -> Descriptor {
        .segment(base: 0, limit: 0xFFFFF, type: writable ? 0x3 : 0x1, dpl: dpl, present: present, long: false,
                 big: true, granularity4K: true)
    }

    /// A code segment of the fixture's mode (L=1 in x86_64).
    func modeCode(dpl: UInt8, conforming: Bool = false, readable: Bool = true, present: Bool = true) -> Descriptor {
        Self.code(dpl: dpl, conforming: conforming, readable: readable, present: present, long: is64)
    }

    /// Appends an 8-byte descriptor and returns its selector (RPL 0).
    @discardableResult
    mutating func add(_ d: Descriptor) -> UInt16 {
        m.gdt.append(d.raw)
        return UInt16((m.gdt.count - 1) << 3)
    }

    /// Appends a raw word.
    @discardableResult
    mutating func addRaw(_ raw: UInt64) -> UInt16 {
        m.gdt.append(raw)
        return UInt16((m.gdt.count - 1) << 3)
    }

    /// Appends a system descriptor or gate: one slot in ia32, two in x86_64.
    @discardableResult
    mutating func addSystem(_ pair: (low: Descriptor, high: UInt64)) -> UInt16 {
        let sel = add(pair.low)
        if is64 { m.gdt.append(pair.high) }
        return sel
    }

    /// Appends a call gate (32-bit or 16-bit in ia32; the 64-bit form in x86_64 unless `type` says otherwise).
    @discardableResult
    mutating func addCallGate(to target: UInt16, offset: UInt64, dpl: UInt8, present: Bool = true,
                              params: UInt8 = 0, type: SystemType = .callGate) -> UInt16 {
        addSystem(Descriptor.gate(type: type, selector: target, offset: offset, dpl: dpl, present: present,
                                  paramCount: params))
    }

    /// Replaces the IDT gate of `vector`.
    mutating func setGate(_ vector: UInt8, type: SystemType = .interruptGate, selector: UInt16 = Sel.kernelCode,
                          offset: UInt64? = nil, dpl: UInt8 = 0, present: Bool = true, ist: UInt8 = 0) {
        let g = Descriptor.gate(type: type, selector: selector, offset: offset ?? Addr.handler(vector), dpl: dpl,
                                present: present, ist: ist)
        setGateRaw(vector, low: g.low.raw, high: g.high)
    }

    mutating func setGateRaw(_ vector: UInt8, low: UInt64, high: UInt64 = 0) {
        if is64 {
            m.idt[Int(vector) * 2] = low
            m.idt[Int(vector) * 2 + 1] = high
        } else {
            m.idt[Int(vector)] = low
        }
    }

    /// Installs an LDT with the given entries and loads LDTR.
    mutating func installLDT(_ entries: [UInt64]) {
        let d = Descriptor.system(base: Addr.ldtBase, limit: UInt32(entries.count * 8 - 1), type: .ldt, dpl: 0, present: true)
        let sel = addSystem(d)
        m.ldtTables[Addr.ldtBase] = entries
        m.cpu.ldtr = SegmentRegister(selector: sel, cache: d.low.cache)
    }

    // MARK: Memory and TSS

    func read(_ addr: UInt64, _ size: Int) -> UInt64 { m.paging.memory.read(addr, size: size) }
    mutating func write(_ addr: UInt64, _ value: UInt64, _ size: Int) { m.paging.memory.write(addr, value: value, size: size) }

    /// `count` slots of `width` bytes from `sp` upwards (index 0 = the top of the stack).
    func stack(_ sp: UInt64, _ count: Int, width: Int) -> [UInt64] {
        (0..<count).map { read(sp + UInt64($0 * width), width) }
    }

    /// Pushes values as a caller would (first element pushed first) on the current stack.
    mutating func push(_ values: [UInt64], width: Int) {
        for v in values {
            m.cpu[.rsp] -= UInt64(width)
            write(m.cpu[.rsp], v, width)
        }
    }

    mutating func tssWrite(_ offset: Int, _ value: UInt64, _ size: Int, base: UInt64 = Addr.tssBase) {
        m.tssWrite(offset: offset, size: size, value: value, tssBase: base)
    }

    func tssRead(_ offset: Int, _ size: Int, base: UInt64 = Addr.tssBase) -> UInt64 {
        m.tssRead(offset: offset, size: size, tssBase: base, limit: 0xFFFF) ?? 0xDEAD_DEAD
    }

    // MARK: Running

    @discardableResult
    mutating func run(_ i: Instruction) -> ExecutionResult { m.execute(i) }

    /// The error code the handler finds on top of its stack (after delivery of an exception with one).
    func topOfStack() -> UInt64 { read(m.cpu[.rsp], is64 ? 8 : 4) }
}

/// Compares the first fault raised with an expectation.
func expectFirst(_ r: ExecutionResult, _ e: Expected?, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let e else {
        #expect(r.faults.isEmpty, "unexpected faults \(r.faults)", sourceLocation: sourceLocation)
        return
    }
    guard let f = r.faults.first else {
        Issue.record("expected \(e), nothing was raised", sourceLocation: sourceLocation)
        return
    }
    #expect(f.vector == e.vector, "\(f)", sourceLocation: sourceLocation)
    #expect(f.errorCode == e.code, "\(f)", sourceLocation: sourceLocation)
    #expect(f.rule == e.rule, "\(f)", sourceLocation: sourceLocation)
}

/// The (vector, error code) list of the faults raised.
func faultList(_ r: ExecutionResult) -> [String] {
    r.faults.map { "\($0.vector.name)" + ($0.errorCode.map { "(\(String($0, radix: 16)))" } ?? "") }
}
