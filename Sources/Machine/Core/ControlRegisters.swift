// Control registers, EFER and RFLAGS bits used by the model (SDM Vol. 3A §2.5, §2.2.1).

/// CR0 bits.
public enum CR0 {
    /// Protection enable.
    public static let pe: UInt64 = 1 << 0
    /// Task switched (set by every hardware task switch, TASK-4).
    public static let ts: UInt64 = 1 << 3
    /// Write protect: supervisor writes honour R/W (PG-7).
    public static let wp: UInt64 = 1 << 16
    /// Not write-through; changing it reloads the PAE PDPTEs (PG-2).
    public static let nw: UInt64 = 1 << 29
    /// Cache disable; changing it reloads the PAE PDPTEs (PG-2).
    public static let cd: UInt64 = 1 << 30
    /// Paging enable.
    public static let pg: UInt64 = 1 << 31
}

/// CR4 bits.
public enum CR4 {
    /// Page size extensions: 4 MiB pages in 32-bit paging (PG-1).
    public static let pse: UInt64 = 1 << 4
    /// Physical address extension (PG-2).
    public static let pae: UInt64 = 1 << 5
    /// Page global enable (PG-15).
    public static let pge: UInt64 = 1 << 7
    /// 57-bit linear addresses (5-level paging; not modelled).
    public static let la57: UInt64 = 1 << 12
    /// Process-context identifiers.
    public static let pcide: UInt64 = 1 << 17
    /// Supervisor-mode execution prevention (PG-8).
    public static let smep: UInt64 = 1 << 20
    /// Supervisor-mode access prevention (PG-9).
    public static let smap: UInt64 = 1 << 21
    /// Protection keys for user pages (PG-10).
    public static let pke: UInt64 = 1 << 22
}

/// IA32_EFER bits (MSR 0xC0000080).
public enum EFER {
    /// System-call extensions: SYSCALL/SYSRET enabled (FAST-6).
    public static let sce: UInt64 = 1 << 0
    /// Long mode enable.
    public static let lme: UInt64 = 1 << 8
    /// Long mode active.
    public static let lma: UInt64 = 1 << 10
    /// No-execute enable: the XD bit of page entries is honoured (PG-8).
    public static let nxe: UInt64 = 1 << 11
}

/// RFLAGS bits.
public enum RFLAGS {
    public static let cf: UInt64 = 1 << 0
    /// Bit 1 is reserved and always 1.
    public static let reserved1: UInt64 = 1 << 1
    /// Trap flag (single step).
    public static let tf: UInt64 = 1 << 8
    /// Interrupt enable flag.
    public static let `if`: UInt64 = 1 << 9
    /// Direction flag.
    public static let df: UInt64 = 1 << 10
    /// Overflow flag.
    public static let of: UInt64 = 1 << 11
    /// I/O privilege level, bits 13:12.
    public static let iopl: UInt64 = 3 << 12
    /// Nested task (TASK-4, FAR-15).
    public static let nt: UInt64 = 1 << 14
    /// Resume flag.
    public static let rf: UInt64 = 1 << 16
    /// Virtual-8086 mode.
    public static let vm: UInt64 = 1 << 17
    /// Alignment check / SMAP override (PG-9).
    public static let ac: UInt64 = 1 << 18
    public static let vif: UInt64 = 1 << 19
    public static let vip: UInt64 = 1 << 20
    public static let id: UInt64 = 1 << 21

    /// IOPL as a number 0-3.
    @inlinable public static func iopl(of flags: UInt64) -> UInt8 { UInt8((flags >> 12) & 3) }
}

/// Well-known MSR numbers (FAST).
public enum MSR {
    public static let sysenterCS: UInt32 = 0x174
    public static let sysenterESP: UInt32 = 0x175
    public static let sysenterEIP: UInt32 = 0x176
    public static let efer: UInt32 = 0xC000_0080
    public static let star: UInt32 = 0xC000_0081
    public static let lstar: UInt32 = 0xC000_0082
    public static let cstar: UInt32 = 0xC000_0083
    public static let fmask: UInt32 = 0xC000_0084
    public static let kernelGSBase: UInt32 = 0xC000_0102

    /// Names accepted in scenarios, with their numbers.
    public static let names: [(String, UInt32)] = [
        ("IA32_SYSENTER_CS", sysenterCS), ("IA32_SYSENTER_ESP", sysenterESP),
        ("IA32_SYSENTER_EIP", sysenterEIP), ("IA32_EFER", efer), ("IA32_STAR", star),
        ("IA32_LSTAR", lstar), ("IA32_CSTAR", cstar), ("IA32_FMASK", fmask),
        ("IA32_KERNEL_GS_BASE", kernelGSBase),
    ]
}

/// Whether a 64-bit address is canonical for 48-bit linear addresses (PG-3).
@inlinable
public func isCanonical(_ address: UInt64) -> Bool {
    let top = Int64(bitPattern: address) >> 47
    return top == 0 || top == -1
}
