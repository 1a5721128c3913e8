// Control registers, EFER and RFLAGS bits used by the model (SDM Vol. 3A §2.5, §2.2.1).

/// CR0 bits.
public enum CR0 {
    /// Protection enable.
    public static let pe: UInt64 = 1 << 0
    /// Task switched (set by every hardware task switch, TASK-4).
    public static let ts: UInt64 = 1 << 3
    /// Extension type: hardwired to 1 since the P6 family (SDM Vol. 3A §2.5).
    public static let et: UInt64 = 1 << 4
    /// Write protect: supervisor writes honour R/W (PG-7).
    public static let wp: UInt64 = 1 << 16
    /// Alignment mask: with EFLAGS.AC, enables alignment checking at CPL 3 (AC-1).
    public static let am: UInt64 = 1 << 18
    /// Not write-through; changing it reloads the PAE PDPTEs (PG-2).
    public static let nw: UInt64 = 1 << 29
    /// Cache disable; changing it reloads the PAE PDPTEs (PG-2).
    public static let cd: UInt64 = 1 << 30
    /// Paging enable.
    public static let pg: UInt64 = 1 << 31
    /// The bits a MOV to CR0 can change: PE MP EM TS ET NE WP AM NW CD PG. The reserved bits 28:19, 17
    /// and 15:6 ignore writes and read as 0 (SDM Vol. 3A §2.5; Bochs SetCR0 keeps `& 0xe005003f`).
    public static let defined: UInt64 = 0xE005_003F
}

/// CR4 bits.
public enum CR4 {
    /// Protected-mode virtual interrupts: CLI/STI at CPL 3 change VIF (not modelled: refused).
    public static let pvi: UInt64 = 1 << 1
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
    /// Control-flow enforcement (shadow stacks; not modelled: refused). Needs CR0.WP = 1.
    public static let cet: UInt64 = 1 << 23
    /// Protection keys for supervisor pages (PG-10, IA32_PKRS; not modelled: refused).
    public static let pks: UInt64 = 1 << 24
    /// Linear-address-space separation (Intel ISE; Linux X86_CR4_LASS_BIT 27): the model's processor lacks it.
    public static let lass: UInt64 = 1 << 27
    /// Linear-address masking for supervisor pointers (Linux X86_CR4_LAM_SUP_BIT 28): the model's processor
    /// lacks LAM, as its MOV to CR3 shows (CR3's LAM_U57/LAM_U48 bits 61/62 are reserved above MAXPHYADDR).
    public static let lamSup: UInt64 = 1 << 28
    /// Bits that are reserved on the model's processor, so that setting one is #GP(0) (SDM Vol. 2B MOV to CR4,
    /// "a 1 to any reserved bit"; bits 63:32 are checked separately): bit 15 and bits 31:29, reserved on every
    /// processor (SDM Vol. 3A §2.5, Figure 2-7); bit 26, which no feature defines; and LASS (27) and LAM_SUP
    /// (28), whose features the processor does not have (CPUID.(EAX=07H,ECX=1):EAX[6] and [26] = 0). Accepting
    /// them would claim a feature whose rules the model does not follow: LASS turns a user access to the upper
    /// half (and a supervisor access to the lower half) into #GP before paging; LAM_SUP relaxes the canonical
    /// check of supervisor data addresses.
    public static let reserved: UInt64 = (1 << 15) | (1 << 26) | lass | lamSup | (7 << 29)
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
    /// AMD's long-mode segment limit enable (bit 13): on the AMD processors that have it, data-segment limits
    /// are checked in 64-bit mode, which the model does not do; later ones (CPUID Fn8000_0008_EBX[20]) reserve
    /// the bit. Either way a model without the check cannot accept it: refused (`Machine.unmodelledEFERBits`).
    public static let lmsle: UInt64 = 1 << 13
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
    /// Alignment check (AC-1, with CR0.AM at CPL 3) / SMAP override (PG-9).
    public static let ac: UInt64 = 1 << 18
    public static let vif: UInt64 = 1 << 19
    public static let vip: UInt64 = 1 << 20
    public static let id: UInt64 = 1 << 21
    /// The flags that exist (CF, PF, AF, ZF, SF, TF, IF, DF, OF, IOPL, NT, RF, VM, AC, VIF, VIP, ID): bits 1, 3, 5,
    /// 15 and 22-63 are reserved (bit 1 reads as 1, the others as 0; SDM Vol. 1 §3.4.3). An EFLAGS image loaded
    /// from memory (IRET's frame, a TSS) keeps only these bits (Bochs writeEFlags with EFlagsValidMask).
    public static let defined: UInt64 = 0x3F_7FD5

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

    /// Architectural MSRs that the model does not keep, by number: a real processor reads and writes
    /// them without a fault, so RDMSR/WRMSR of one is refused (not #GP(0) as an unimplemented MSR is).
    public static let unmodelled: [UInt32: String] = {
        var m: [UInt32: String] = [
            0x10: "IA32_TIME_STAMP_COUNTER", 0x1B: "IA32_APIC_BASE", 0x3A: "IA32_FEATURE_CONTROL",
            0xFE: "IA32_MTRRCAP", 0x179: "IA32_MCG_CAP", 0x17A: "IA32_MCG_STATUS", 0x1D9: "IA32_DEBUGCTL",
            0x250: "IA32_MTRR_FIX64K_00000", 0x258: "IA32_MTRR_FIX16K_80000", 0x259: "IA32_MTRR_FIX16K_A0000",
            0x277: "IA32_PAT", 0x2FF: "IA32_MTRR_DEF_TYPE", 0x6E0: "IA32_TSC_DEADLINE", 0x6E1: "IA32_PKRS",
            0xC000_0100: "IA32_FS_BASE", 0xC000_0101: "IA32_GS_BASE", 0xC000_0103: "IA32_TSC_AUX",
        ]
        for i in UInt32(0)..<8 {
            m[0x200 + 2 * i] = "IA32_MTRR_PHYSBASE\(i)"
            m[0x201 + 2 * i] = "IA32_MTRR_PHYSMASK\(i)"
            m[0x268 + i] = "IA32_MTRR_FIX4K_\(String(0xC0000 + 0x8000 * Int(i), radix: 16, uppercase: true))"
        }
        return m
    }()

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
