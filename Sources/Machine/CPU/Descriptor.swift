// Segment descriptors and gates in their real 8-byte (and 16-byte, IA-32e) layouts (SDM Vol. 3A §3.4.5,
// §3.5, §6.11, §6.14.1). Tables hold raw 64-bit words; these types encode and decode them.
//
//  63      56 55 54 53 52 51   48 47 46 45 44 43  40 39      16 15       0
// +----------+--+--+--+--+-------+--+-----+--+------+----------+----------+
// |base 31:24| G|DB| L|AV|lim19:16| P| DPL | S| type |base 23:0 |limit 15:0|
// +----------+--+--+--+--+-------+--+-----+--+------+----------+----------+
//
// Gates (call, interrupt, trap, task):
//  63            48 47 46 45 44 43 40 39   37 36 32 31      16 15        0
// +----------------+--+-----+--+-----+-------+-----+----------+-----------+
// |  offset 31:16  | P| DPL | 0| type| 0 0 0 |param| selector | offset 15:0|   (IST in bits 34:32 in IA-32e)
// +----------------+--+-----+--+-----+-------+-----+----------+-----------+
// 16-byte forms: the second word holds base/offset 63:32 in its low 32 bits; bits 44:40 must be 0.

/// System-descriptor and gate type codes (SEG-4).
public enum SystemType: UInt8, Sendable {
    case tss16Available = 0x1, ldt = 0x2, tss16Busy = 0x3, callGate16 = 0x4, taskGate = 0x5
    case interruptGate16 = 0x6, trapGate16 = 0x7, tssAvailable = 0x9, tssBusy = 0xB
    case callGate = 0xC, interruptGate = 0xE, trapGate = 0xF
}

/// A decoded 8-byte descriptor (segment, system segment or gate).
public struct Descriptor: Sendable, Equatable {
    public var raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    /// Type nibble (bits 43:40).
    public var type: UInt8 { UInt8((raw >> 40) & 0xF) }
    /// S: 1 = code/data segment, 0 = system segment or gate.
    public var isCodeOrData: Bool { raw & (1 << 44) != 0 }
    /// DPL: descriptor privilege level.
    public var dpl: UInt8 { UInt8((raw >> 45) & 3) }
    /// P: present.
    public var present: Bool { raw & (1 << 47) != 0 }
    public var long: Bool { raw & (1 << 53) != 0 }
    public var big: Bool { raw & (1 << 54) != 0 }
    public var granularity4K: Bool { raw & (1 << 55) != 0 }

    public var base: UInt64 {
        ((raw >> 16) & 0xFF_FFFF) | (((raw >> 56) & 0xFF) << 24)
    }
    public var rawLimit: UInt32 { UInt32((raw & 0xFFFF) | ((raw >> 32) & 0xF_0000)) }
    /// The limit in bytes, after granularity.
    public var limit: UInt32 { granularity4K ? (rawLimit << 12) | 0xFFF : rawLimit }

    public var isCode: Bool { isCodeOrData && type & 0x8 != 0 }
    public var isData: Bool { isCodeOrData && type & 0x8 == 0 }
    public var isConforming: Bool { isCode && type & 0x4 != 0 }
    public var isReadableCode: Bool { isCode && type & 0x2 != 0 }
    public var isWritableData: Bool { isData && type & 0x2 != 0 }
    public var systemType: SystemType? { isCodeOrData ? nil : SystemType(rawValue: type) }

    // Gate fields.
    public var gateSelector: UInt16 { UInt16((raw >> 16) & 0xFFFF) }
    public var gateOffset: UInt64 { (raw & 0xFFFF) | ((raw >> 32) & 0xFFFF_0000) }
    /// Parameter count of a call gate (bits 36:32).
    public var paramCount: UInt8 { UInt8((raw >> 32) & 0x1F) }
    /// IST index of a 64-bit interrupt/trap gate (bits 34:32).
    public var ist: UInt8 { UInt8((raw >> 32) & 0x7) }

    /// The hidden-register image of a code/data segment loaded from this descriptor.
    public var cache: SegmentCache {
        var c = SegmentCache()
        c.base = base
        c.limit = limit
        c.type = type
        c.dpl = dpl
        c.present = present
        c.long = long
        c.big = big
        c.usable = true
        return c
    }

    // MARK: Encoding

    /// The limit fields of a descriptor word: limit 15:0 in bits 15:0, limit 19:16 in bits 51:48.
    static func limitBits(_ limit: UInt32) -> UInt64 {
        UInt64(limit & 0xFFFF) | UInt64((limit >> 16) & 0xF) << 48
    }

    /// Gives the descriptor a byte-granular limit (G = 0): its limit fields are replaced, the rest kept.
    public mutating func setByteLimit(_ limit: UInt32) {
        raw = (raw & ~0x008F_0000_0000_FFFF) | Descriptor.limitBits(limit)
    }

    /// A code or data segment descriptor.
    public static func segment(base: UInt64, limit: UInt32, type: UInt8, dpl: UInt8, present: Bool,
                               long: Bool, big: Bool, granularity4K: Bool) -> Descriptor {
        var r: UInt64 = 0
        r |= Descriptor.limitBits(limit)
        r |= (base & 0xFF_FFFF) << 16
        r |= UInt64(type & 0xF) << 40
        r |= 1 << 44
        r |= UInt64(dpl & 3) << 45
        if present { r |= 1 << 47 }
        if long { r |= 1 << 53 }
        if big { r |= 1 << 54 }
        if granularity4K { r |= 1 << 55 }
        r |= ((base >> 24) & 0xFF) << 56
        return Descriptor(raw: r)
    }

    /// A system segment (TSS, LDT); returns the high word too (used in IA-32e for 16-byte descriptors).
    public static func system(base: UInt64, limit: UInt32, type: SystemType, dpl: UInt8, present: Bool)
        -> (low: Descriptor, high: UInt64) {
        var r: UInt64 = 0
        r |= Descriptor.limitBits(limit)
        r |= (base & 0xFF_FFFF) << 16
        r |= UInt64(type.rawValue) << 40
        r |= UInt64(dpl & 3) << 45
        if present { r |= 1 << 47 }
        r |= ((base >> 24) & 0xFF) << 56
        return (Descriptor(raw: r), base >> 32)
    }

    /// A gate (call, interrupt, trap, task); `high` is the second word of a 16-byte gate.
    public static func gate(type: SystemType, selector: UInt16, offset: UInt64, dpl: UInt8, present: Bool,
                            paramCount: UInt8 = 0, ist: UInt8 = 0) -> (low: Descriptor, high: UInt64) {
        var r: UInt64 = 0
        r |= offset & 0xFFFF
        r |= UInt64(selector) << 16
        r |= UInt64((paramCount & 0x1F) | (ist & 0x7)) << 32
        r |= UInt64(type.rawValue) << 40
        r |= UInt64(dpl & 3) << 45
        if present { r |= 1 << 47 }
        r |= ((offset >> 16) & 0xFFFF) << 48
        return (Descriptor(raw: r), offset >> 32)
    }
}

/// A segment selector (SEG-1): bits 15..3 index, bit 2 TI, bits 1..0 RPL.
public struct Selector: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var value: UInt16
    public init(_ value: UInt16) { self.value = value }
    public init(index: UInt16, ldt: Bool = false, rpl: UInt8 = 0) {
        value = (index << 3) | (ldt ? 4 : 0) | UInt16(rpl & 3)
    }
    public var index: Int { Int(value >> 3) }
    /// TI: the selector names an LDT entry.
    public var isLDT: Bool { value & 4 != 0 }
    /// RPL: requested privilege level.
    public var rpl: UInt8 { UInt8(value & 3) }
    /// SEG-2: null means index 0 and TI 0 (values 0..3).
    public var isNull: Bool { value & 0xFFFC == 0 }
    /// The selector as an error code: RPL bits cleared (SEG-8).
    public var errorCode: UInt32 { UInt32(value & 0xFFFC) }
    public var description: String { "0x" + String(value, radix: 16) }
}
