"""Independent oracle for ringspec's fast system calls, MSR/CR writes and double-fault rules.

Written from the Intel SDM pseudo-code (Vol. 2B: SYSENTER, SYSEXIT, SYSCALL, SYSRET, RDMSR, WRMSR,
MOV to/from CRn; Vol. 3A §6.15 Table 6-5 for #DF and shutdown) and shared/spec/machine-rules.md
(FAST-*, DF-*), not from the engine's Swift code. The machine state is only what these
instructions touch: mode, CPL, CS/SS selectors, a few GPRs, RFLAGS, the MSRs, EFER, CR0/CR3/CR4.

An instruction's outcome is one of
  ("ok",)                      it completed; the state was updated;
  ("fault", vector, code)      it raised an exception (the state is as before the instruction);
  ("refuse", why)              the engine must refuse it (a form or effect it does not model).
"""

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1

# MSR numbers (machine-rules FAST).
SYSENTER_CS, SYSENTER_ESP, SYSENTER_EIP = 0x174, 0x175, 0x176
EFER, STAR, LSTAR, CSTAR, FMASK = 0xC0000080, 0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084
KERNEL_GS_BASE = 0xC0000102
MODELLED_MSRS = {SYSENTER_CS, SYSENTER_ESP, SYSENTER_EIP, EFER, STAR, LSTAR, CSTAR, FMASK, KERNEL_GS_BASE}
# Architectural MSRs that exist on every x86-64 CPU of this kind but that the engine does not keep:
# a real CPU reads/writes them without #GP, so the engine must refuse rather than raise #GP.
UNMODELLED_MSRS = {0x10: "IA32_TIME_STAMP_COUNTER", 0x1B: "IA32_APIC_BASE", 0x277: "IA32_PAT",
                   0xC0000100: "IA32_FS_BASE", 0xC0000101: "IA32_GS_BASE"}
# Numbers no CPU implements: RDMSR/WRMSR raise #GP(0).
NONEXISTENT_MSRS = [0x12345678, 0xABCDEF01]
# SDM WRMSR: #GP(0) for a non-canonical value written to these (FS/GS_BASE and DS_AREA too).
CANONICAL_MSRS = {SYSENTER_ESP, SYSENTER_EIP, LSTAR, KERNEL_GS_BASE}

EFER_SCE, EFER_LME, EFER_LMA, EFER_NXE = 1 << 0, 1 << 8, 1 << 10, 1 << 11
CR0_PE, CR0_WP, CR0_NW, CR0_CD, CR0_PG = 1, 1 << 16, 1 << 29, 1 << 30, 1 << 31
CR4_PSE, CR4_PAE, CR4_PGE, CR4_LA57, CR4_PCIDE = 1 << 4, 1 << 5, 1 << 7, 1 << 12, 1 << 17
CR4_PVI, CR4_CET, CR4_PKS = 1 << 1, 1 << 23, 1 << 24
CR4_RESERVED = (1 << 15) | (0x7 << 29) | (0x7 << 26)  # 28:26: bit 26, LASS, LAM_SUP (the model's CPU has neither)
RF_TF, RF_IF, RF_DF, RF_RF, RF_VM, RF_AC = 1 << 8, 1 << 9, 1 << 10, 1 << 16, 1 << 17, 1 << 18

# DF-1 (SDM Vol. 3A Table 6-4): exception classes.
CONTRIBUTORY = {0, 10, 11, 12, 13, 21}  # 21 #CP: SDM Vol. 3A Table 6-4
PAGE_FAULT_CLASS = {14, 20}
ERROR_CODE_VECTORS = {8, 10, 11, 12, 13, 14, 17, 21}


def canonical(v):
    top = v >> 47
    return top == 0 or top == (1 << 17) - 1


def exc_class(vector):
    if vector in CONTRIBUTORY:
        return "contributory"
    if vector in PAGE_FAULT_CLASS:
        return "pagefault"
    return "benign"


def escalates(first, second):
    """DF-2 / SDM Table 6-5: does `second`, raised while delivering `first`, make a #DF?"""
    a, b = exc_class(first), exc_class(second)
    return (a == "contributory" and b == "contributory") or (a == "pagefault" and b != "benign")


def msr_held(vendor, n, v):
    """The value MSR n holds once v is written to it (WRMSR, machine.msrs, set.msrs, the preset):
    IA32_SYSENTER_CS keeps 32 bits (Bochs wrmsr: val32_lo; KVM: the 32-bit VMCS field); on AMD,
    IA32_SYSENTER_ESP and _EIP are 32-bit MSRs too (Linux syscall_init: "On AMD CPUs these MSRs are
    32-bit, CPU truncates MSR_IA32_SYSENTER_EIP"; KVM svm_set_msr keeps (u32)data)."""
    if v is None:
        return None
    if n == SYSENTER_CS or (vendor == "amd" and n in (SYSENTER_ESP, SYSENTER_EIP)):
        return v & MASK32
    return v


class MSRFile(dict):
    """The MSRs, each write kept as the processor keeps it (msr_held)."""

    def __init__(self, vendor):
        super().__init__()
        self.vendor = vendor

    def __setitem__(self, n, v):
        super().__setitem__(n, msr_held(self.vendor, n, v))


class Machine:
    """The registers the oracle models, with the linux preset's initial values."""

    def __init__(self, mode, vendor, cpl, bits):
        self.mode, self.vendor = mode, vendor
        self.long = mode == "x86_64"
        self.cpl = cpl
        self.in64 = self.long and bits == 64
        self.cr0 = 0x80010011  # PG WP ET PE (ET hardwired to 1)
        self.cr4 = 0x20 if self.long else 0x10
        self.initial_cr4 = self.cr4
        # The preset's page-table root for a scenario with one task and no extra mappings.
        self.cr3 = self.initial_cr3 = 0x10004000 if self.long else 0x10001000
        self.efer = EFER_SCE | EFER_NXE | ((EFER_LME | EFER_LMA) if self.long else 0)
        kcs = 0x10 if self.long else 0x60
        self.kernel_cs = kcs
        self.msr = MSRFile(vendor)
        for n, v in ((SYSENTER_CS, kcs), (STAR, (0x23 << 48) | (kcs << 32)), (FMASK, 0x257FD5), (KERNEL_GS_BASE, 0)):
            self.msr[n] = v
        text = 0xFFFFFFFF81000000 if self.long else 0xC0100000
        self.msr[SYSENTER_EIP] = text + (0x2400 if self.long else 0x2100)
        self.msr[LSTAR] = text + 0x2200 if self.long else 0
        self.msr[CSTAR] = text + 0x2300 if self.long else 0
        self.msr[SYSENTER_ESP] = None  # the task's kernel stack top: not known to the oracle
        self.regs = {"rax": 0, "rcx": 0, "rdx": 0, "r11": 0}
        self.rflags = 0x202
        if cpl == 0:
            if self.long and bits == 64:
                self.cs, self.ss, self.rip, self.rsp = 0x10, 0x18, 0xFFFFFFFF81000000, 0xFFFF888002007FF0
            elif self.long:
                self.cs, self.ss, self.rip, self.rsp = 0x08, 0x18, 0x08048000, 0xFFFFDFF0
            else:
                self.cs, self.ss, self.rip, self.rsp = 0x60, 0x68, 0xC0100000, 0xC2006000
        else:
            if self.long and bits == 64:
                self.cs, self.ss, self.rip, self.rsp = 0x33, 0x2B, 0x400000, 0x7FFFFFFFEFF0
            elif self.long:
                self.cs, self.ss, self.rip, self.rsp = 0x23, 0x2B, 0x08048000, 0xFFFFDFF0
            else:
                self.cs, self.ss, self.rip, self.rsp = 0x73, 0x7B, 0x08048000, 0xBFFFFFF0

    # ---- helpers -------------------------------------------------------------------------
    GOOD_STACKS = {"x86_64": {0xFFFF888002007FF0, 0xFFFF888002008000, 0x7FFFFFFFEFF0, 0xFFFFDFF0},
                   "ia32": {0xC2006000, 0xBFFFFFF0}}
    STACK_CR4_BITS = CR4_PSE | CR4_PAE | (1 << 20) | (1 << 21) | (1 << 22)

    def stack_known_good(self):
        """Whether a fault's frame can be pushed at CPL 0 without faulting (the oracle does not walk
        page tables: only the preset's stacks, with the preset's paging controls, count). Clearing
        EFER.NXE in IA-32e mode turns the preset's XD bits into reserved bits (#PF RSVD), and a CR3
        write may have changed the address space."""
        if self.long and not self.efer & EFER_NXE:
            return False
        if self.cr3 & ~0xFFF != self.initial_cr3:
            return False
        if self.cpl == 3:
            return (self.cr4 ^ self.initial_cr4) & self.STACK_CR4_BITS == 0
        return self.rsp in self.GOOD_STACKS[self.mode] and (self.cr4 ^ self.initial_cr4) & self.STACK_CR4_BITS == 0

    def width_mask(self):
        return MASK64 if self.in64 else MASK32

    def set_reg(self, name, value):
        self.regs[name] = value & MASK64

    # ---- instructions --------------------------------------------------------------------
    def execute(self, insn, length):
        """Runs one instruction; `length` is its encoded length (for saved return addresses)."""
        nxt = (self.rip + length) & self.width_mask()
        # RF is cleared as each instruction starts (SDM Vol. 3B §17.3.1.1; INT-15): only IRET,
        # which the oracle does not run, reloads it.
        self.rflags &= ~RF_RF
        handler = getattr(self, "i_" + insn[0])
        out = handler(nxt, *insn[1:])
        if out[0] == "ok" and insn[0] not in ("sysenter", "sysexit", "syscall", "sysret"):
            self.rip = nxt
        return out

    def i_nop(self, nxt):
        return ("ok",)

    def i_mov_imm(self, nxt, reg, value, width):
        # A 32-bit write zero-extends (64-bit mode); outside it the register is 32 bits wide.
        self.regs[reg] = value & (MASK64 if width == 8 else MASK32)
        return ("ok",)

    def i_sysenter(self, nxt):
        # SDM Vol. 2B SYSENTER; FAST-1/2/5.
        if self.vendor == "amd" and self.long:
            return ("fault", 6, None)
        cs = self.msr[SYSENTER_CS]
        if cs & 0xFFFC == 0:
            return ("fault", 13, 0)
        eip, esp = self.msr[SYSENTER_EIP], self.msr[SYSENTER_ESP]
        # FAST-1: in IA-32e mode a non-canonical SYSENTER_EIP/ESP (which only `set.msrs` can
        # produce: WRMSR refuses them) is #GP(0).
        if self.long and (not canonical(eip) or (esp is not None and not canonical(esp))):
            return ("fault", 13, 0)
        self.rflags &= ~(RF_VM | RF_IF | RF_RF)
        self.cs = cs & 0xFFFC
        self.ss = (self.cs + 8) & 0xFFFC
        self.cpl = 0
        self.in64 = self.long
        self.rip = eip if self.long else eip & MASK32
        if esp is not None:
            self.rsp = esp if self.long else esp & MASK32
        else:
            self.rsp = None
        return ("ok",)

    def i_sysexit(self, nxt, to64):
        # SDM Vol. 2B SYSEXIT; FAST-3/4/5.
        if to64 and not self.in64:  # 0x48 is DEC EAX there: the model runs no such pair
            return ("refuse", "SYSEXITQ outside 64-bit mode (REX.W exists only in 64-bit mode)")
        if self.vendor == "amd" and self.long:
            return ("fault", 6, None)
        cs = self.msr[SYSENTER_CS]
        if cs & 0xFFFC == 0 or self.cpl != 0:
            return ("fault", 13, 0)
        if to64:
            if not canonical(self.regs["rcx"]) or not canonical(self.regs["rdx"]):
                return ("fault", 13, 0)
            self.rsp, self.rip = self.regs["rcx"], self.regs["rdx"]
        else:
            self.rsp, self.rip = self.regs["rcx"] & MASK32, self.regs["rdx"] & MASK32
        self.cs = ((cs + (32 if to64 else 16)) | 3) & 0xFFFF
        self.ss = ((cs + (40 if to64 else 24)) | 3) & 0xFFFF
        self.cpl = 3
        self.in64 = to64
        return ("ok",)

    def i_syscall(self, nxt):
        # SDM Vol. 2B SYSCALL; FAST-6/7/8 (AMD: legacy and compatibility mode too).
        if not self.efer & EFER_SCE:
            return ("fault", 6, None)
        if self.vendor == "intel" and not self.in64:
            return ("fault", 6, None)
        star = self.msr[STAR]
        if self.long:
            self.regs["rcx"] = nxt
            self.regs["r11"] = self.rflags & ~RF_RF
            self.rip = self.msr[LSTAR] if self.in64 else self.msr[CSTAR]
            self.rflags = (self.rflags & ~self.msr[FMASK] & ~RF_RF & MASK64) | 2
            self.in64 = True
        else:
            self.regs["rcx"] = nxt & MASK32
            self.rip = star & MASK32
            self.rflags &= ~(RF_VM | RF_IF | RF_RF)
        self.cs = (star >> 32) & 0xFFFC
        self.ss = (((star >> 32) & 0xFFFF) + 8) & 0xFFFF
        self.cpl = 0
        return ("ok",)

    def i_sysret(self, nxt, to64):
        # SDM Vol. 2B SYSRET; FAST-9/10/12. `to64` None: the mode's natural form (REX.W in 64-bit mode).
        if to64 is None:
            to64 = self.in64
        if to64 and not self.in64:
            return ("refuse", "SYSRETQ outside 64-bit mode (REX.W exists only in 64-bit mode)")
        if not self.efer & EFER_SCE:
            return ("fault", 6, None)
        if self.vendor == "intel" and not self.in64:
            return ("fault", 6, None)
        if self.cpl != 0:
            return ("fault", 13, 0)
        base = (self.msr[STAR] >> 48) & 0xFFFF
        if self.long:
            late = False
            if to64 and not canonical(self.regs["rcx"]):
                if self.vendor == "intel":
                    return ("fault", 13, 0)
                late = True  # FAST-12: AMD completes the return, then #GP(0) at CPL 3
            self.rip = self.regs["rcx"] if to64 else self.regs["rcx"] & MASK32
            self.rflags = (self.regs["r11"] & 0x3C7FD7) | 2
            self.cs = ((base + 16) | 3) & 0xFFFF if to64 else (base | 3)
            self.in64 = to64
        else:
            self.rip = self.regs["rcx"] & MASK32
            self.rflags |= RF_IF
            self.cs = base | 3
        self.ss = ((base + 8) | 3) & 0xFFFF
        self.cpl = 3
        if self.long and late:
            return ("fault", 13, 0)
        if self.rflags & RF_TF:
            return ("refuse", "SYSRET restored TF = 1: the single-step #DB is not modelled")
        return ("ok",)

    def i_rdmsr(self, nxt):
        if self.cpl != 0:
            return ("fault", 13, 0)
        n = self.regs["rcx"] & MASK32
        if n in UNMODELLED_MSRS:
            return ("refuse", "RDMSR of %s, which the model does not keep" % UNMODELLED_MSRS[n])
        if n not in MODELLED_MSRS:
            return ("fault", 13, 0)
        v = self.efer if n == EFER else self.msr[n]
        if v is None:
            return ("unknown-value",)
        self.regs["rax"], self.regs["rdx"] = v & MASK32, v >> 32
        return ("ok",)

    def i_wrmsr(self, nxt):
        if self.cpl != 0:
            return ("fault", 13, 0)
        n = self.regs["rcx"] & MASK32
        v = ((self.regs["rdx"] & MASK32) << 32) | (self.regs["rax"] & MASK32)
        if n in UNMODELLED_MSRS:
            return ("refuse", "WRMSR to %s, which the model does not keep" % UNMODELLED_MSRS[n])
        if n not in MODELLED_MSRS:
            return ("fault", 13, 0)
        # SDM WRMSR protected-mode exceptions (Bochs wrmsr): on a processor with IA-32e mode the
        # canonical check applies in every mode. CSTAR: Bochs checks it too. AMD's 32-bit
        # SYSENTER_ESP/EIP drop the high half instead (msr_held).
        if (n in CANONICAL_MSRS or n == CSTAR) and msr_held(self.vendor, n, v) == v and not canonical(v):
            return ("fault", 13, 0)
        if n == EFER:
            supported = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | (0xF000 if self.vendor == "amd" else 0)
            if v & ~supported:
                return ("fault", 13, 0)
            if self.vendor == "amd" and v & (1 << 13):
                return ("refuse", "EFER.LMSLE (AMD's 64-bit segment limit checks)")
            if (v ^ self.efer) & EFER_LME:
                if self.cr0 & CR0_PG:
                    return ("fault", 13, 0)
                return ("refuse", "EFER.LME change with paging off")
            self.efer = (v & ~EFER_LMA) | (self.efer & EFER_LMA)
            return ("ok",)
        self.msr[n] = v  # kept as msr_held says
        return ("ok",)

    def cr_exists(self, n):
        # SDM MOV CRn: CR1, CR5-7, CR9-15 are #UD, and CR8 outside 64-bit mode (decoded before the CPL check).
        return n in (0, 2, 3, 4) or (n == 8 and self.in64)

    def i_mov_to_cr(self, nxt, n, reg):
        if not self.cr_exists(n):
            return ("fault", 6, None)
        if self.cpl != 0:
            return ("fault", 13, 0)
        # Outside 64-bit mode MOV CRn takes a 32-bit operand (SDM Vol. 2B MOV CRn: "the operand size
        # is 32 bits ... in 64-bit mode 64 bits").
        v = self.regs[reg] if self.in64 else self.regs[reg] & MASK32
        if n == 0:
            if v >> 32:
                return ("fault", 13, 0)
            if v & CR0_PG and not v & CR0_PE:
                return ("fault", 13, 0)
            if v & CR0_NW and not v & CR0_CD:
                return ("fault", 13, 0)
            if not v & CR0_PG and self.in64:
                return ("fault", 13, 0)
            if not v & CR0_PG and self.cr0 & CR0_PG and self.cr4 & CR4_PCIDE:
                return ("fault", 13, 0)  # SDM MOV to CR0: clearing PG with CR4.PCIDE = 1
            if not v & CR0_PE or not v & CR0_PG:
                return ("refuse", "CR0 mode change")
            # SDM Vol. 3A §2.5, Bochs SetCR0: reserved bits ignore writes, ET reads 1.
            self.cr0 = (v & 0xE005003F) | 0x10
            return ("ok",)
        if n == 8:
            # CR8 = TPR[7:4]: bits 63:4 reserved; a non-zero priority (interrupt masking) is not modelled.
            if v >> 4:
                return ("fault", 13, 0)
            return ("refuse", "a non-zero CR8 task priority") if v else ("ok",)
        if n == 3:
            # SDM Vol. 2B MOV to CR3: in IA-32e mode bits 63:MAXPHYADDR (40 in the model) are
            # reserved, except bit 63 with CR4.PCIDE = 1 (the no-flush hint, not stored).
            if self.long:
                if self.cr4 & CR4_PCIDE:
                    v &= ~(1 << 63)
                if v >> 40:
                    return ("fault", 13, 0)
            if v & ~0xFFF != self.cr3 & ~0xFFF:
                return ("unknown-value",)  # another address space: completes, then unknown
            self.cr3 = v  # bits 11:0 (PWT, PCD, the rest ignored, or the PCID) are kept
            return ("ok",)
        if n == 4:
            # SDM Vol. 3A §2.5 / Vol. 2B MOV to CR4: a 1 in a reserved bit is #GP(0). Bit 15 and
            # bits 31:29 are reserved on every processor, 28:26 on the model's (no LASS, no LAM);
            # so are bits 63:32.
            if v >> 32 or v & CR4_RESERVED:
                return ("fault", 13, 0)
            if self.long and not v & CR4_PAE:
                return ("fault", 13, 0)
            if self.long and (v ^ self.cr4) & CR4_LA57:
                return ("fault", 13, 0)
            if v & CR4_PCIDE and not self.cr4 & CR4_PCIDE:
                if not self.long:
                    return ("fault", 13, 0)
                if self.cr3 & 0xFFF:  # PCIDE 0 -> 1 needs CR3[11:0] = 0 (SDM MOV to CR4)
                    return ("fault", 13, 0)
            if v & CR4_CET and not self.cr0 & CR0_WP:
                return ("fault", 13, 0)
            if v & ~self.cr4 & (CR4_PVI | CR4_CET | CR4_PKS):
                return ("refuse", "CR4.PVI/CET/PKS change what the model runs")
            if not self.long and (v ^ self.cr4) & CR4_PAE:
                return ("refuse", "paging-mode change through CR4.PAE")
            self.cr4 = v
            return ("ok",)
        return ("refuse", "mov cr%d not generated" % n)

    def i_mov_from_cr(self, nxt, reg, n):
        if not self.cr_exists(n):
            return ("fault", 6, None)
        if self.cpl != 0:
            return ("fault", 13, 0)
        v = {0: self.cr0, 3: self.cr3, 4: self.cr4, 8: 0}[n]
        self.regs[reg] = v
        return ("ok",)


def delivery_chain(vector, exception, gate_absent, stack_fault):
    """The exceptions raised while delivering `vector` (DF-2 / SDM Table 6-5, DF-4).

    exception:   True for an exception (EXT = 1 in the error codes its delivery raises), False for a
                 software event (INT n, INT3: EXT = 0; its faults count as benign-first).
    gate_absent: vectors whose IDT gate is present = 0: #NP(vector*8 + 2 + EXT) (INT-5).
    stack_fault: function (vector, ext) -> (vector, code) or None: the fault raised when the delivery
                 switches to the ring-0 stack (#TS for a null SS0, #PF for an unmapped RSP0), checked
                 after the gate (INT-6/7).
    Returns (faults raised after the first, outcome): outcome ("delivered", vector) or ("shutdown",).
    """
    raised = []
    for _ in range(16):
        ext = 1 if exception else 0
        if vector in gate_absent:
            second = (11, vector * 8 + 2 + ext)
        else:
            second = stack_fault(vector, ext)
            if second is None:
                return raised, ("delivered", vector)
        raised.append(second)
        if exception and vector == 8:
            return raised, ("shutdown",)  # DF-4: a fault while delivering #DF
        if escalates(vector if exception else 32, second[0]):  # a software event counts as benign
            raised.append((8, 0))  # DF-3: #DF's error code is 0
            vector, exception = 8, True
        else:
            vector, exception = second[0], True
    return raised, ("shutdown",)
