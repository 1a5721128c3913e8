// PRIV-1 / PRIV-4: the I/O permission check of IN and OUT (SDM Vol. 1 §19.5.1-19.5.2; Vol. 2A IN, Vol. 2B OUT).
// The expected outcomes are worked out by hand from the SDM text, not from the model: CPL <= IOPL allows
// every port; otherwise the word at TSS offset 66H is the map base, the processor reads the two bytes at
// base + port/8 (either beyond the TSS limit: #GP(0)) and tests bits port mod 8 .. + size - 1 (any 1: #GP(0)).

import Testing
@testable import Machine

/// A TSS's I/O map as a test writes it: the map base and the bytes at it, and the TSS limit.
struct IOMapFixture: Sendable, CustomStringConvertible {
    var base: Int
    var bytes: [Int: UInt8]
    var limit: UInt32
    var description: String {
        "base 0x\(String(base, radix: 16)) limit 0x\(String(limit, radix: 16)) "
            + bytes.sorted { $0.key < $1.key }.map { "[0x\(String($0.key, radix: 16))]=0x\(String($0.value, radix: 16))" }.joined(separator: " ")
    }

    /// A map of ones with the bits of `granted` cleared, and the trailing 0xff byte; the limit ends on it.
    static func granting(_ granted: [Int], base: Int = 0x68, limit: UInt32? = nil) -> IOMapFixture {
        var bytes: [Int: UInt8] = [:]
        for b in 0...0x2000 { bytes[base + b] = 0xFF }
        for p in granted { bytes[base + p / 8]! &= ~UInt8(1 << (p % 8)) }
        return IOMapFixture(base: base, bytes: bytes, limit: limit ?? UInt32(base + 0x2000))
    }
}

struct IOPermissionCase: Sendable, CustomTestStringConvertible {
    var mode: MachineMode
    var cpl: UInt8
    var iopl: UInt8
    var port: UInt16
    var size: Int
    var map: IOMapFixture
    var allowed: Bool
    var testDescription: String {
        "\(mode) CPL\(cpl) IOPL\(iopl) port 0x\(String(port, radix: 16)) x\(size) \(map.description.prefix(60)) -> \(allowed ? "allowed" : "#GP(0)")"
    }
}

private let ioPermissionCases: [IOPermissionCase] = {
    let only60 = IOMapFixture.granting([0x60])
    let ports7and8 = IOMapFixture.granting([7, 8])
    let port7 = IOMapFixture.granting([7])
    let top = IOMapFixture.granting([0xFFFF])
    let topCut = IOMapFixture.granting([0xFFFF], limit: 0x68 + 0x1FFF)
    let none = IOMapFixture(base: 0x68, bytes: [:], limit: 0x67)
    // Port 0x10 reads TSS bytes 0x6a and 0x6b.
    let edge = IOMapFixture.granting([0x10], limit: 0x6B)
    let edgeShort = IOMapFixture.granting([0x10], limit: 0x6A)
    let zeros = IOMapFixture(base: 0x68, bytes: [:], limit: 0x7F)
    let uart = IOMapFixture.granting(Array(0x3F8...0x3FF))
    var c: [IOPermissionCase] = []
    for mode in MachineMode.allCases {
        let rows: [(UInt8, UInt8, UInt16, Int, IOMapFixture, Bool)] = [
            // CPL <= IOPL: the map is not read, even when there is none.
            (0, 0, 0x60, 1, none, true), (3, 3, 0x60, 4, none, true), (1, 2, 0x1F7, 2, none, true),
            // No map within the limit: every port faults.
            (3, 0, 0x60, 1, none, false), (3, 2, 0x0, 1, none, false),
            // One granted port; its neighbours are not.
            (3, 0, 0x60, 1, only60, true), (3, 0, 0x61, 1, only60, false), (3, 0, 0x5F, 1, only60, false),
            (3, 0, 0x60, 2, only60, false), (2, 1, 0x60, 1, only60, true),
            // A word across a byte boundary: port 7 (bit 7 of byte 0) and port 8 (bit 0 of byte 1).
            (3, 0, 0x7, 2, ports7and8, true), (3, 0, 0x7, 2, port7, false), (3, 0, 0x7, 1, port7, true),
            // A dword inside a granted range, and one that runs past it.
            (3, 0, 0x3F8, 4, uart, true), (3, 0, 0x3FC, 4, uart, true), (3, 0, 0x3FD, 4, uart, false),
            (3, 0, 0x3FE, 2, uart, true), (3, 0, 0x3F7, 2, uart, false),
            // Port 0xffff: the second byte read is the trailing 0xff byte.
            (3, 0, 0xFFFF, 1, top, true), (3, 0, 0xFFFF, 2, top, false), (3, 0, 0xFFFE, 2, top, false),
            // ... and with the limit on the map's last byte, the second byte is beyond it.
            (3, 0, 0xFFFF, 1, topCut, false), (3, 0, 0xFFF0, 1, topCut, false), (3, 0, 0xFFEF, 1, topCut, false),
            // The limit exactly on the second byte read, and one short of it.
            (3, 0, 0x10, 1, edge, true), (3, 0, 0x10, 1, edgeShort, false), (3, 0, 0x8, 1, edgeShort, false),
            // Zero bytes inside the limit grant their ports; the second byte beyond the limit does not.
            (3, 0, 0xB0, 1, zeros, true), (3, 0, 0xB7, 1, zeros, true), (3, 0, 0xB8, 1, zeros, false),
            (3, 0, 0xAF, 4, zeros, true),
        ]
        for (cpl, iopl, port, size, map, allowed) in rows {
            c.append(IOPermissionCase(mode: mode, cpl: cpl, iopl: iopl, port: port, size: size, map: map, allowed: allowed))
        }
    }
    return c
}()

extension CPUFixture {
    /// Installs `map` in the fixture's TSS: the base word at 0x66, the bytes, and TR's limit.
    mutating func installIOMap(_ map: IOMapFixture) {
        var image = m.tssImages[Addr.tssBase] ?? []
        let top = max(map.bytes.keys.max() ?? 0, 0x67) + 1
        if image.count < top { image += [UInt8](repeating: 0, count: top - image.count) }
        image[0x66] = UInt8(map.base & 0xFF)
        image[0x67] = UInt8(map.base >> 8)
        for (offset, byte) in map.bytes { image[offset] = byte }
        m.tssImages[Addr.tssBase] = image
        m.cpu.tr.cache.limit = map.limit
    }
}

@Test("PRIV-4: IN and OUT at CPL > IOPL consult the TSS's I/O permission bit map", arguments: ioPermissionCases)
func priv4IOPermission(_ c: IOPermissionCase) {
    for isIn in [true, false] {
        for operand in [IOPortOperand.dx] + (c.port <= 0xFF ? [.immediate(UInt8(c.port))] : []) {
            var f = CPUFixture(c.mode, cpl: c.cpl)
            f.m.cpu.rflags = (f.m.cpu.rflags & ~RFLAGS.iopl) | UInt64(c.iopl) << 12
            f.installIOMap(c.map)
            f.m.cpu[.rdx] = 0xABCD_0000 | UInt64(c.port)
            let r = f.run(isIn ? .portIn(operand, size: c.size) : .portOut(operand, size: c.size))
            expectFirst(r, c.allowed ? nil : Expected(.GP, 0, c.cpl <= c.iopl ? "PRIV-1" : "PRIV-4"))
        }
    }
}

@Test("PRIV-4: the decision names the byte and the bit that decided", arguments: [
    (UInt16(0x61), 1, IOPermission.deniedBitSet(mapBase: 0x68, port: 0x61, byte: 0x74, bit: 1)),
    (UInt16(0x60), 1, IOPermission.allowedByMap(mapBase: 0x68, byte: 0x74)),
    (UInt16(0x5F), 2, IOPermission.deniedBitSet(mapBase: 0x68, port: 0x5F, byte: 0x73, bit: 7)),
    (UInt16(0x60), 4, IOPermission.deniedBitSet(mapBase: 0x68, port: 0x61, byte: 0x74, bit: 1)),
    (UInt16(0xFFFF), 2, IOPermission.deniedBitSet(mapBase: 0x68, port: 0x10000, byte: 0x2068, bit: 0)),
])
func priv4DecisionDetail(_ port: UInt16, _ size: Int, _ expected: IOPermission) {
    let map = IOMapFixture.granting([0x60, 0xFFFF])
    let d = IOPermission.check(cpl: 3, iopl: 0, port: port, size: size, tssLimit: map.limit, sixteenBitTSS: false) {
        $0 == 0x66 ? 0x68 : ($0 == 0x67 ? 0 : map.bytes[$0] ?? 0)
    }
    #expect(d == expected)
}

@Test("PRIV-4: the map base word beyond the limit, a byte beyond it, and a 16-bit TSS deny")
func priv4Denials() {
    let base68: (Int) -> UInt8 = { $0 == 0x66 ? 0x68 : 0 }
    #expect(IOPermission.check(cpl: 3, iopl: 0, port: 0, size: 1, tssLimit: 0x66, sixteenBitTSS: false, byteAt: base68)
            == .deniedMapBaseBeyondLimit(limit: 0x66))
    #expect(IOPermission.check(cpl: 3, iopl: 0, port: 0, size: 1, tssLimit: 0x68, sixteenBitTSS: false, byteAt: base68)
            == .deniedBeyondLimit(mapBase: 0x68, byte: 0x69, limit: 0x68))
    #expect(IOPermission.check(cpl: 3, iopl: 0, port: 0, size: 1, tssLimit: 0x69, sixteenBitTSS: false, byteAt: base68)
            == .allowedByMap(mapBase: 0x68, byte: 0x68))
    #expect(IOPermission.check(cpl: 3, iopl: 0, port: 0, size: 1, tssLimit: 0x2000, sixteenBitTSS: true, byteAt: base68)
            == .deniedSixteenBitTSS)
    #expect(IOPermission.check(cpl: 3, iopl: 3, port: 0, size: 1, tssLimit: 0, sixteenBitTSS: true, byteAt: base68) == .allowedByIOPL)
}

@Test("IN reads all ones (no device answers) into AL, AX or EAX; OUT changes no register", arguments: MachineMode.allCases)
func ioValues(_ mode: MachineMode) {
    for (size, expected) in [(1, 0x1234_5678_0000_00FF as UInt64), (2, 0x1234_5678_0000_FFFF), (4, 0xFFFF_FFFF)] {
        var f = CPUFixture(mode, cpl: 0)
        f.m.cpu[.rax] = mode == .x86_64 ? 0x1234_5678_0000_0000 : 0
        let r = f.run(.portIn(.immediate(0x60), size: size))
        expectFirst(r, nil)
        #expect(f.m.cpu[.rax] == (mode == .x86_64 ? expected : expected & 0xFFFF_FFFF))
        f.m.cpu[.rax] = 0x42
        expectFirst(f.run(.portOut(.dx, size: size)), nil)
        #expect(f.m.cpu[.rax] == 0x42)
    }
}

@Test("A MOV into the TSS's map changes the next IN's outcome", arguments: MachineMode.allCases)
func ioMapWrittenByMov(_ mode: MachineMode) {
    var f = CPUFixture(mode, cpl: 0)
    f.installIOMap(.granting([0x60]))
    f.setCPL(3)
    expectFirst(f.run(.portIn(.immediate(0x60), size: 1)), nil)
    // The kernel (CPL 0) sets every bit of TSS bytes 0x74.. (port 0x60 is bit 0 of byte 0x74).
    var g = CPUFixture(mode, cpl: 0)
    g.installIOMap(.granting([0x60]))
    g.m.cpu[.rax] = 0xFFFF_FFFF
    expectFirst(g.run(.store(address: Addr.tssBase + 0x74, .rax, size: 4)), nil)
    #expect(g.m.tssImages[Addr.tssBase]?[0x74] == 0xFF)
    g.m.cpu[.rax] = 0
    expectFirst(g.run(.load(.rax, address: Addr.tssBase + 0x74, size: 4)), nil)
    #expect(g.m.cpu[.rax] == 0xFFFF_FFFF)
    g.setCPL(3)
    expectFirst(g.run(.portIn(.immediate(0x60), size: 1)), Expected(.GP, 0, "PRIV-4"))
}

@Test("IN/OUT lengths: E4/E5/E6/E7 ib take 2 bytes, EC-EF 1, plus 66 for the size that is not the code's", arguments: [
    (Instruction.portIn(.immediate(0x60), size: 1), false, UInt64(2)), (.portIn(.immediate(0x60), size: 2), false, 3),
    (.portIn(.immediate(0x60), size: 4), false, 2), (.portOut(.dx, size: 1), false, 1), (.portOut(.dx, size: 2), false, 2),
    (.portOut(.dx, size: 4), false, 1), (.portIn(.dx, size: 2), true, 1), (.portIn(.dx, size: 4), true, 2),
    (.portOut(.immediate(0x80), size: 4), true, 3), (.inPort, false, 1),
])
func ioLengths(_ i: Instruction, _ codeSize16: Bool, _ length: UInt64) {
    #expect(i.length(in64BitMode: false, codeSize16: codeSize16) == length)
    if !codeSize16 { #expect(i.length(in64BitMode: true) == length) }
}

@Test("IOPermissionMap: ones everywhere but the granted ports, and the trailing 0xff byte")
func ioMapBytes() {
    let bytes = IOPermissionMap.bytes(granting: [0x60...0x60, 0x3F8...0x3FF, 0xFFFF...0xFFFF])
    #expect(bytes.count == 0x2001)
    #expect(bytes[0xC] == 0xFE)
    #expect(bytes[0x7F] == 0x00)
    #expect(bytes[0x1FFF] == 0x7F)
    #expect(bytes[0x2000] == 0xFF)
    #expect(bytes.enumerated().filter { ![0xC, 0x7F, 0x1FFF].contains($0.offset) }.allSatisfy { $0.element == 0xFF })
    #expect(IOPermissionMap.limit(mapBase: 0x68) == 0x2068)
}

/// `merged` keeps the ports the ranges grant and makes the ranges disjoint, so the map's build is bounded by the
/// I/O space (docs/reliability.md, seventh run).
@Test("IOPermissionMap.merged: sorted, disjoint, same ports", arguments: [
    ([ClosedRange<UInt16>](), [ClosedRange<UInt16>]()),
    ([0x60...0x60], [0x60...0x60]),
    ([0x3F8...0x3FF, 0x60...0x60], [0x60...0x60, 0x3F8...0x3FF]),
    ([0...7, 8...15], [0...15]),
    ([0...7, 9...15], [0...7, 9...15]),
    ([0x10...0x20, 0x18...0x30, 0x00...0x12], [0x00...0x30]),
    ([0...0xFFFF, 0...0xFFFF, 0xFFFF...0xFFFF], [0...0xFFFF]),
    ([0xFFFF...0xFFFF, 0xFFFE...0xFFFE], [0xFFFE...0xFFFF]),
    ([5...9, 0...100, 200...300], [0...100, 200...300]),
] as [([ClosedRange<UInt16>], [ClosedRange<UInt16>])])
func ioMapMerged(_ ranges: [ClosedRange<UInt16>], _ expected: [ClosedRange<UInt16>]) {
    #expect(IOPermissionMap.merged(ranges) == expected)
    #expect(IOPermissionMap.bytes(granting: ranges) == IOPermissionMap.bytes(granting: expected))
}
