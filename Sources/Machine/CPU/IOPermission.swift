// IOPermission: the protected-mode check IN and OUT make before they touch a port (SDM Vol. 1 §19.5.1-19.5.2;
// Vol. 2A IN, Vol. 2B OUT: "IF ((PE = 1) and ((CPL > IOPL) or (VM = 1))) THEN IF (Any I/O Permission Bit for I/O
// port being accessed = 1) THEN #GP(0)"). Rules PRIV-1 (CPL <= IOPL) and PRIV-4 (the bit map), ids added by ringspec.
//
//   CPL <= IOPL                                   -> allowed, the map is not read
//   TR holds a 16-bit TSS                         -> #GP(0): a 16-bit TSS has no map
//   TSS bytes 0x66..0x67: the I/O map base (16 bits), in the 32-bit and the 64-bit TSS alike
//     limit < 0x67 (the base word beyond it)      -> #GP(0)
//   port p, n bytes (1, 2, 4): bits p .. p+n-1; the bit of port p is bit (p mod 8) of byte base + p/8
//     the processor always reads two bytes, base + p/8 and base + p/8 + 1 (ports are not aligned):
//     either byte beyond the TSS limit            -> #GP(0) (ports past the map count as set bits)
//     any of the n bits set                       -> #GP(0)
//     else                                        -> allowed
// Bochs allow_io (cpu/io.cc) and QEMU check_io (seg_helper.c) read the same two bytes with the same limit test.

/// A port operand of IN/OUT: the 8-bit immediate (E4-E7) or DX (EC-EF).
public enum IOPortOperand: Sendable, Equatable {
    case immediate(UInt8)
    case dx
}

/// What the TSS's I/O permission bit map decided, with the bytes that decided it (for the trace and `explain`).
public enum IOPermission: Sendable, Equatable {
    /// CPL <= IOPL: every port is allowed.
    case allowedByIOPL
    /// The tested bits are clear; `byte` is the TSS offset of the first of the two bytes read.
    case allowedByMap(mapBase: Int, byte: Int)
    /// A 16-bit TSS is loaded: it has no map.
    case deniedSixteenBitTSS
    /// The TSS limit stops before the I/O map base word (offsets 0x66-0x67).
    case deniedMapBaseBeyondLimit(limit: UInt32)
    /// A byte the processor must read (`byte`, a TSS offset) lies beyond the TSS limit.
    case deniedBeyondLimit(mapBase: Int, byte: Int, limit: UInt32)
    /// The bit of `port` (bit `bit` of TSS byte `byte`) is set. `port` may be 0x10000 for the byte after the
    /// map's last one (a 2- or 4-byte access at the top of the I/O space).
    case deniedBitSet(mapBase: Int, port: Int, byte: Int, bit: Int)

    public var allowed: Bool {
        switch self {
        case .allowedByIOPL, .allowedByMap: true
        default: false
        }
    }

    /// The offset of the I/O map base word in the 32-bit and the 64-bit TSS (SDM Vol. 3A Figures 7-2, 7-11).
    public static let mapBaseOffset = 0x66

    /// The check itself. `byteAt(offset)` reads one TSS byte (called only for offsets within `limit`).
    public static func check(cpl: UInt8, iopl: UInt8, port: UInt16, size: Int, tssLimit limit: UInt32,
                             sixteenBitTSS: Bool, byteAt: (Int) -> UInt8) -> IOPermission {
        if cpl <= iopl { return .allowedByIOPL }
        if sixteenBitTSS { return .deniedSixteenBitTSS }
        guard UInt64(mapBaseOffset + 1) <= UInt64(limit) else { return .deniedMapBaseBeyondLimit(limit: limit) }
        let mapBase = Int(byteAt(mapBaseOffset)) | Int(byteAt(mapBaseOffset + 1)) << 8
        let first = mapBase + Int(port) / 8
        for byte in [first, first + 1] where UInt64(byte) > UInt64(limit) {
            return .deniedBeyondLimit(mapBase: mapBase, byte: byte, limit: limit)
        }
        let word = Int(byteAt(first)) | Int(byteAt(first + 1)) << 8
        let shift = Int(port) % 8
        for k in 0..<size where (word >> (shift + k)) & 1 != 0 {
            return .deniedBitSet(mapBase: mapBase, port: Int(port) + k, byte: first + (shift + k) / 8, bit: (shift + k) % 8)
        }
        return .allowedByMap(mapBase: mapBase, byte: first)
    }
}

extension Machine {
    /// The port an IN/OUT names: its immediate, or DX (the low 16 bits of RDX).
    public func ioPort(_ operand: IOPortOperand) -> UInt16 {
        switch operand {
        case let .immediate(p): UInt16(p)
        case .dx: UInt16(truncatingIfNeeded: cpu[.rdx])
        }
    }

    /// PRIV-1/PRIV-4 for IN/OUT with a port: #GP(0) unless CPL <= IOPL or the current TSS's bit map allows
    /// every byte of the access. `what` names the instruction for the trace (`IN AL, 0x60`).
    mutating func checkIOPermission(port: UInt16, size: Int, what: String) throws(Fault) {
        let tr = cpu.tr.cache
        let iopl = RFLAGS.iopl(of: cpu.rflags)
        // TR always holds a TSS in a scenario (the builder loads one); without one there is no map to read.
        if !tr.usable && cpu.cpl > iopl {
            throw Fault.gp(0, rule: "PRIV-4", "\(what) at CPL \(cpu.cpl) > IOPL \(iopl): TR holds no TSS, so there is no I/O permission bit map")
        }
        // `check` reads only offsets within the limit; a byte past the kept image reads 0, as before.
        let decision = IOPermission.check(cpl: cpu.cpl, iopl: iopl, port: port, size: size, tssLimit: tr.limit,
                                          sixteenBitTSS: tr.isSixteenBitTSS) { UInt8(truncatingIfNeeded: tssRead(offset: $0, size: 1) ?? 0) }
        let ports = size == 1 ? "port \(hex(Int(port)))" : "ports \(hex(Int(port)))-\(hex(Int(port) + size - 1))"
        let head = "\(what) at CPL \(cpu.cpl) > IOPL \(iopl): I/O permission bit map, \(ports)"
        switch decision {
        case .allowedByIOPL:
            return
        case let .allowedByMap(mapBase, byte):
            let note = "\(head): TSS bytes \(hex(byte))-\(hex(byte + 1)) (map base \(hex(mapBase)) + \(hex(Int(port) / 8))), \(size) bit\(size == 1 ? "" : "s") from bit \(Int(port) % 8) of the first, all 0: access allowed (PRIV-4)"
            trace.record(.note(note))
        case .deniedSixteenBitTSS:
            throw Fault.gp(0, rule: "PRIV-4", "\(what) at CPL \(cpu.cpl) > IOPL \(iopl): TR holds a 16-bit TSS, which has no I/O permission bit map")
        case let .deniedMapBaseBeyondLimit(limit):
            throw Fault.gp(0, rule: "PRIV-4", "\(head): the I/O map base (TSS bytes 0x66-0x67) lies beyond the TSS limit \(hex(Int(limit)))")
        case let .deniedBeyondLimit(mapBase, _, limit) where UInt64(mapBase) > UInt64(limit):
            throw Fault.gp(0, rule: "PRIV-4", "\(head): the map base \(hex(mapBase)) (TSS bytes 0x66-0x67) lies beyond the TSS limit \(hex(Int(limit))), so the TSS has no I/O permission bit map and no port is granted")
        case let .deniedBeyondLimit(mapBase, byte, limit):
            throw Fault.gp(0, rule: "PRIV-4", "\(head): the processor reads TSS bytes \(hex(mapBase + Int(port) / 8))-\(hex(mapBase + Int(port) / 8 + 1)) (map base \(hex(mapBase)) + \(hex(Int(port) / 8))), and byte \(hex(byte)) lies beyond the TSS limit \(hex(Int(limit)))")
        case let .deniedBitSet(mapBase, setPort, byte, bit):
            throw Fault.gp(0, rule: "PRIV-4", "\(head): the bit of port \(hex(setPort)), bit \(bit) of TSS byte \(hex(byte)) (map base \(hex(mapBase)) + \(hex(byte - mapBase))), is 1")
        }
    }

    private func hex(_ v: Int) -> String { "0x" + String(v, radix: 16) }
}
