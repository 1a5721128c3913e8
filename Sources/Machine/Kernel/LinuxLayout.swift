// LinuxLayout: the constants of the `linux` preset for each mode (LNX-1..LNX-6): GDT slots and selectors,
// the address-space split, kernel text and entry points, stack sizes. Everything the preset builds and the
// kernel model recognises (an entry address it knows) comes from here.

public struct LinuxLayout: Sendable, Equatable {
    public var mode: MachineMode

    public init(mode: MachineMode) { self.mode = mode }

    // MARK: GDT (LNX-1, LNX-2)

    /// GDT slot of each named entry of the preset.
    public static func gdtNames(mode: MachineMode) -> [String: Int] {
        switch mode {
        case .ia32: ia32GDTNames
        case .x86_64: x86_64GDTNames
        }
    }

    /// Built once: every scenario asks for them.
    private static let ia32GDTNames = ["kernel_cs": 12, "kernel_ds": 13, "user_cs": 14, "user_ds": 15, "tss": 16]
    private static let x86_64GDTNames = ["kernel32_cs": 1, "kernel_cs": 2, "kernel_ds": 3, "user32_cs": 4, "user_ds": 5, "user_cs": 6, "tss": 8]

    /// Number of GDT slots the preset writes (ia32: GDT_ENTRIES 32; x86_64: 16).
    public var gdtEntries: Int { mode == .ia32 ? 32 : 16 }

    public var kernelCSIndex: Int { mode == .ia32 ? 12 : 2 }
    public var kernelDSIndex: Int { mode == .ia32 ? 13 : 3 }
    public var userCSIndex: Int { mode == .ia32 ? 14 : 6 }
    public var userDSIndex: Int { mode == .ia32 ? 15 : 5 }
    /// 32-bit user code (x86_64 only: compatibility-mode tasks).
    public var user32CSIndex: Int? { mode == .ia32 ? nil : 4 }
    public var kernel32CSIndex: Int? { mode == .ia32 ? nil : 1 }
    public var tssIndex: Int { mode == .ia32 ? 16 : 8 }

    /// Selector values: kernel ones with RPL 0, user ones with RPL 3.
    public var kernelCS: UInt16 { UInt16(kernelCSIndex << 3) }
    public var kernelDS: UInt16 { UInt16(kernelDSIndex << 3) }
    public var userCS: UInt16 { UInt16(userCSIndex << 3) | 3 }
    public var userDS: UInt16 { UInt16(userDSIndex << 3) | 3 }
    public var user32CS: UInt16? { user32CSIndex.map { UInt16($0 << 3) | 3 } }
    public var tssSelector: UInt16 { UInt16(tssIndex << 3) }

    // MARK: Address space (LNX-5)

    /// PAGE_OFFSET (ia32) / the direct map of all physical memory (x86_64).
    public var directMapBase: UInt64 { mode == .ia32 ? 0xC000_0000 : 0xFFFF_8880_0000_0000 }
    /// Start of the kernel half shared by every address space.
    public var kernelHalfStart: UInt64 { mode == .ia32 ? 0xC000_0000 : 0xFFFF_8000_0000_0000 }
    /// Kernel text: classic i386 `_text` at 0xC0100000 (physical 1 MiB); x86_64 `_text` at 0xffffffff81000000
    /// (physical 16 MiB, CONFIG_PHYSICAL_START).
    public var kernelTextBase: UInt64 { mode == .ia32 ? 0xC010_0000 : 0xFFFF_FFFF_8100_0000 }
    public var kernelTextPhysical: UInt64 { mode == .ia32 ? 0x0010_0000 : 0x0100_0000 }
    /// Top of user space: TASK_SIZE (ia32 0xC0000000) / the last user page the preset uses (x86_64).
    public var userSpaceTop: UInt64 { mode == .ia32 ? 0xC000_0000 : 0x0000_7FFF_FFFF_F000 }
    /// Top of a task's user space, where its default stack ends: TASK_SIZE for its width. A 32-bit task
    /// on x86_64 runs in compatibility mode with 32-bit addresses; Linux gives it IA32_PAGE_OFFSET =
    /// 0xFFFFE000 (arch/x86/include/asm/page_64_types.h), so its stack is reachable through ESP.
    public func userSpaceTop(bits: Int) -> UInt64 {
        mode == .x86_64 && bits == 32 ? 0xFFFF_E000 : userSpaceTop
    }
    /// The conventional ELF text base.
    public func defaultTextBase(bits: Int) -> UInt64 { bits == 32 ? 0x0804_8000 : 0x40_0000 }
    /// A user page the kernel model maps for a step's string arguments (an anonymous mmap region).
    public var scratchBase: UInt64 { 0x7000_0000 }
    /// Kernel stacks and IST stacks live here (the vmalloc area: ia32 near the top, x86_64 VMALLOC_START),
    /// and additionally in the direct map when their frames are contiguous inside it.
    public var kernelStackArea: UInt64 { mode == .ia32 ? 0xFF80_0000 : 0xFFFF_C900_0000_0000 }
    /// The per-CPU TSS (its image is kept beside memory; the base is the key and the descriptor's base).
    public var tssBase: UInt64 { mode == .ia32 ? 0xC000_5000 : 0xFFFF_FE00_0000_3000 }

    /// THREAD_SIZE (LNX-6).
    public var threadSize: UInt64 { mode == .ia32 ? 0x2000 : 0x4000 }
    /// thread_info sits at the base of the kernel stack (ia32, LNX-6); its size in the model.
    public static let threadInfoSize: UInt64 = 0x40
    /// Bytes below the top of a new user stack where the stack pointer starts (room for a call gate's
    /// copied parameters, or argc/argv).
    public static let initialStackGap: UInt64 = 16

    // MARK: Entry points (inside the kernel text)

    /// The handler of an IDT vector the preset fills (exceptions 0-31, IRQs 0x20-0x2f).
    public func vectorEntry(_ vector: UInt8) -> UInt64 { kernelTextBase + 0x1000 + UInt64(vector) * 0x10 }
    public var entryINT80_32: UInt64 { kernelTextBase + 0x2000 }
    public var entrySYSENTER_32: UInt64 { kernelTextBase + 0x2100 }
    public var entrySYSCALL_64: UInt64 { kernelTextBase + 0x2200 }
    public var entrySYSCALL_compat: UInt64 { kernelTextBase + 0x2300 }
    public var entrySYSENTER_compat: UInt64 { kernelTextBase + 0x2400 }
    public var entryINT80_compat: UInt64 { kernelTextBase + 0x2500 }
    /// The idle loop (do_idle: `sti; hlt`).
    public var idleLoop: UInt64 { kernelTextBase + 0x3000 }

    /// The int 0x80 entry of this mode.
    public var int80Entry: UInt64 { mode == .ia32 ? entryINT80_32 : entryINT80_compat }
    public var sysenterEntry: UInt64 { mode == .ia32 ? entrySYSENTER_32 : entrySYSENTER_compat }

    /// Linux's IA32_FMASK (MSR_SYSCALL_MASK, arch/x86/kernel/cpu/common.c since 5.x): CF PF AF ZF SF TF IF DF OF
    /// IOPL NT RF AC ID = 0x257FD5 ("clear as much as possible").
    public static let syscallFlagMask: UInt64 = 0x25_7FD5

    /// IST slots used by the x86_64 preset (ESTACK_DF, ESTACK_NMI, ESTACK_DB, ESTACK_MCE + 1).
    public static let istOfVector: [UInt8: UInt8] = [8: 1, 2: 2, 1: 3, 18: 4]

    /// The kernel entry at an address, if the preset knows it.
    public func entryName(at address: UInt64) -> String? {
        switch address {
        case entryINT80_32 where mode == .ia32: return "entry_INT80_32"
        case entrySYSENTER_32 where mode == .ia32: return "entry_SYSENTER_32"
        case entrySYSCALL_64 where mode == .x86_64: return "entry_SYSCALL_64"
        case entrySYSCALL_compat where mode == .x86_64: return "entry_SYSCALL_compat"
        case entrySYSENTER_compat where mode == .x86_64: return "entry_SYSENTER_compat"
        case entryINT80_compat where mode == .x86_64: return "entry_INT80_compat"
        case idleLoop: return "do_idle"
        default:
            let base = kernelTextBase + 0x1000
            if address >= base, address < base + 0x30 * 0x10, (address - base) % 0x10 == 0 {
                return LinuxLayout.handlerName(UInt8((address - base) / 0x10))
            }
            return nil
        }
    }

    /// Linux's name of the handler of an exception or IRQ vector.
    public static func handlerName(_ vector: UInt8) -> String {
        let names: [UInt8: String] = [
            0: "asm_exc_divide_error", 1: "asm_exc_debug", 2: "asm_exc_nmi", 3: "asm_exc_int3", 4: "asm_exc_overflow",
            5: "asm_exc_bounds", 6: "asm_exc_invalid_op", 7: "asm_exc_device_not_available", 8: "asm_exc_double_fault",
            9: "asm_exc_coproc_segment_overrun", 10: "asm_exc_invalid_tss", 11: "asm_exc_segment_not_present",
            12: "asm_exc_stack_segment", 13: "asm_exc_general_protection", 14: "asm_exc_page_fault",
            16: "asm_exc_coprocessor_error", 17: "asm_exc_alignment_check", 18: "asm_exc_machine_check",
            19: "asm_exc_simd_coprocessor_error", 20: "asm_exc_virtualization_exception", 21: "asm_exc_control_protection",
            0x20: "timer_interrupt",
        ]
        return names[vector] ?? (vector >= 0x20 ? "irq_entries_start+\(vector - 0x20)" : "asm_exc_spurious_\(vector)")
    }
}
