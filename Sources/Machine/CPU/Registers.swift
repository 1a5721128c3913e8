// The register file: general registers, segment registers with their hidden (cached) parts,
// descriptor-table registers, control registers and MSRs.

/// The sixteen general-purpose registers, in encoding order.
public enum GPR: Int, Sendable, CaseIterable {
    case rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15

    /// Looks a register up by any of its names (`rax`, `eax`, `ax`, `r10`, `r10d`).
    public init?(name: String) {
        let n = name.lowercased()
        if let r = GPR.byName[n] { self = r; return }
        if n.hasPrefix("r"), let num = Int(n.dropFirst().trimmingSuffix("d")), num >= 8, num <= 15,
           let r = GPR(rawValue: num) {
            self = r
            return
        }
        return nil
    }

    /// The legacy register names (64-, 32- and 16-bit), lower case.
    private static let byName: [String: GPR] = [
        "rax": .rax, "eax": .rax, "ax": .rax, "rcx": .rcx, "ecx": .rcx, "cx": .rcx,
        "rdx": .rdx, "edx": .rdx, "dx": .rdx, "rbx": .rbx, "ebx": .rbx, "bx": .rbx,
        "rsp": .rsp, "esp": .rsp, "sp": .rsp, "rbp": .rbp, "ebp": .rbp, "bp": .rbp,
        "rsi": .rsi, "esi": .rsi, "si": .rsi, "rdi": .rdi, "edi": .rdi, "di": .rdi,
    ]

    /// R8-R15: encodable only with a REX prefix (REX.B or REX.R), so only in 64-bit mode.
    public var needsREX: Bool { rawValue >= 8 }

    public var name64: String { String(describing: self) }
    public var name32: String {
        switch self {
        case .rax: "eax"
        case .rcx: "ecx"
        case .rdx: "edx"
        case .rbx: "ebx"
        case .rsp: "esp"
        case .rbp: "ebp"
        case .rsi: "esi"
        case .rdi: "edi"
        default: "\(self)d"
        }
    }
    public var name16: String {
        switch self {
        case .rax, .rcx, .rdx, .rbx, .rsp, .rbp, .rsi, .rdi: String(name32.dropFirst())
        default: "\(self)w"
        }
    }
}

extension Substring {
    func trimmingSuffix(_ s: String) -> Substring {
        hasSuffix(s) ? dropLast(s.count) : self
    }
}

/// The six segment registers.
public enum SegmentRegisterName: String, Sendable, CaseIterable {
    case es, cs, ss, ds, fs, gs
}

/// The hidden part of a segment register: what the CPU cached from the descriptor at load time.
public struct SegmentCache: Sendable, Equatable {
    public var base: UInt64 = 0
    /// Effective limit in bytes (granularity already applied).
    public var limit: UInt32 = 0xFFFF_FFFF
    /// Type nibble (SEG-4): for code bit3=1, bit2 conforming, bit1 readable; for data bit2 expand-down, bit1 writable.
    public var type: UInt8 = 0
    /// DPL: descriptor privilege level.
    public var dpl: UInt8 = 0
    public var present: Bool = true
    /// L: 64-bit code segment.
    public var long: Bool = false
    /// D/B: 32-bit default operand size.
    public var big: Bool = true
    /// False for a register loaded with a null selector (SEG-5a): a memory use faults #GP(0).
    public var usable: Bool = true

    public init() {}

    public var isCode: Bool { type & 0x8 != 0 }
    public var isConforming: Bool { isCode && type & 0x4 != 0 }
    public var isWritableData: Bool { !isCode && type & 0x2 != 0 }
    /// Expand-down data segment (type bit 2 of a data segment).
    public var isExpandDown: Bool { !isCode && type & 0x4 != 0 }
    /// TR's cache holds a 16-bit TSS (available or busy): SS0:SP0 slots of words and no I/O permission bit map.
    public var isSixteenBitTSS: Bool { type == SystemType.tss16Available.rawValue || type == SystemType.tss16Busy.rawValue }

    /// Whether bytes `offset ... offset+size-1` lie inside the segment (SDM Vol. 3A §5.3): an expand-up
    /// segment allows 0 ... limit; an expand-down one limit+1 ... 0xFFFF (B=0) or 0xFFFFFFFF (B=1).
    public func contains(offset: UInt64, size: Int) -> Bool {
        let last = offset &+ UInt64(size) &- 1
        if isExpandDown {
            return offset > UInt64(limit) && last >= offset && last <= (big ? 0xFFFF_FFFF : 0xFFFF)
        }
        return last <= UInt64(limit)
    }

    /// An access to an expand-up segment whose effective limit is 0xFFFFFFFF that starts inside it and runs
    /// past offset 0xFFFFFFFF: SDM Vol. 3A §5.3 "When the effective limit is FFFFFFFFH (4 GBytes), these
    /// accesses may or may not cause the indicated exceptions. Behavior is implementation-specific".
    public func wrapsPastFlatLimit(offset: UInt64, size: Int) -> Bool {
        !isExpandDown && limit == 0xFFFF_FFFF && offset <= 0xFFFF_FFFF && offset &+ UInt64(size) &- 1 > 0xFFFF_FFFF
    }

    /// A flat 4 GiB segment of the given kind and DPL, as SYSCALL/SYSENTER load them (FAST-2, FAST-7).
    public static func flat(code: Bool, dpl: UInt8, long: Bool = false) -> SegmentCache {
        var c = SegmentCache()
        c.type = code ? 0xB : 0x3
        c.dpl = dpl
        c.long = long
        c.big = !long
        return c
    }

    /// The cache of SS after a null selector was loaded into it in 64-bit mode at CPL `dpl` (SEG-6a, FAR-13, INT-10):
    /// 64-bit mode's stack accesses ignore it; outside 64-bit mode a stack access through it is not modelled
    /// (`usable` is false). SYSENTER, SYSCALL, SYSEXIT and SYSRET load fixed, usable caches even when their
    /// computed SS selector is null (FAST rules), so those stay `flat`.
    public static func nullStack(dpl: UInt8) -> SegmentCache {
        var c = SegmentCache.flat(code: false, dpl: dpl)
        c.usable = false
        return c
    }

    /// The cache of a null selector: unusable.
    public static var unusable: SegmentCache {
        var c = SegmentCache()
        c.usable = false
        c.present = false
        return c
    }
}

/// A segment register: the visible selector and its hidden descriptor cache.
public struct SegmentRegister: Sendable, Equatable {
    public var selector: UInt16
    public var cache: SegmentCache
    public init(selector: UInt16, cache: SegmentCache) {
        self.selector = selector
        self.cache = cache
    }
}

/// GDTR / IDTR: base and limit of a descriptor table.
public struct TableRegister: Sendable, Equatable {
    public var base: UInt64
    public var limit: UInt32
    public init(base: UInt64, limit: UInt32) {
        self.base = base
        self.limit = limit
    }
}

/// The architectural state of the CPU.
public struct CPUState: Sendable, Equatable {
    /// General registers, indexed by `GPR.rawValue`.
    public var gpr: [UInt64] = Array(repeating: 0, count: 16)
    /// RIP / EIP: the instruction pointer.
    public var rip: UInt64 = 0
    /// RFLAGS / EFLAGS.
    public var rflags: UInt64 = RFLAGS.reserved1
    public var es = SegmentRegister(selector: 0, cache: .unusable)
    public var cs = SegmentRegister(selector: 0, cache: .flat(code: true, dpl: 0))
    public var ss = SegmentRegister(selector: 0, cache: .flat(code: false, dpl: 0))
    public var ds = SegmentRegister(selector: 0, cache: .unusable)
    public var fs = SegmentRegister(selector: 0, cache: .unusable)
    public var gs = SegmentRegister(selector: 0, cache: .unusable)
    /// CPL: the current privilege level (CS.RPL, SDM §5.5).
    public var cpl: UInt8 = 0
    public var cr0: UInt64 = CR0.pe | CR0.pg | CR0.wp
    /// CR2: the linear address of the last page fault.
    public var cr2: UInt64 = 0
    /// CR3: the physical address of the root paging structure.
    public var cr3: UInt64 = 0
    public var cr4: UInt64 = 0
    /// IA32_EFER (also readable through `msrs`).
    public var efer: UInt64 = 0
    /// PKRU: protection-key rights for user pages (PG-10).
    public var pkru: UInt32 = 0
    public var gdtr = TableRegister(base: 0, limit: 0)
    public var idtr = TableRegister(base: 0, limit: 0)
    /// LDTR: the selector and cached base/limit of the current LDT.
    public var ldtr = SegmentRegister(selector: 0, cache: .unusable)
    /// TR: the task register, selecting the current TSS.
    public var tr = SegmentRegister(selector: 0, cache: .unusable)
    /// Model-specific registers other than EFER.
    public var msrs: [UInt32: UInt64] = [:]

    public init() {}

    @inlinable public subscript(_ r: GPR) -> UInt64 {
        get { gpr[r.rawValue] }
        set { gpr[r.rawValue] = newValue }
    }

    public subscript(segment s: SegmentRegisterName) -> SegmentRegister {
        get {
            switch s {
            case .es: es
            case .cs: cs
            case .ss: ss
            case .ds: ds
            case .fs: fs
            case .gs: gs
            }
        }
        set {
            switch s {
            case .es: es = newValue
            case .cs: cs = newValue
            case .ss: ss = newValue
            case .ds: ds = newValue
            case .fs: fs = newValue
            case .gs: gs = newValue
            }
        }
    }

    public func msr(_ n: UInt32) -> UInt64 { n == MSR.efer ? efer : msrs[n, default: 0] }
    public mutating func setMSR(_ n: UInt32, _ v: UInt64) {
        if n == MSR.efer { efer = v } else { msrs[n] = v }
    }

    public var interruptsEnabled: Bool { rflags & RFLAGS.if != 0 }
}
