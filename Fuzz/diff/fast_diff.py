#!/usr/bin/env python3
"""Differential test: random scenarios for fast system calls, MSR/CR writes and #DF rules, whose
`expect` is the prediction of fast_oracle.py, run through ringspec; prints the disagreements.

    python3 Fuzz/diff/fast_diff.py --seed S --count N [--ringspec PATH] [--keep DIR] [-v]

Scenario families (chosen at random):
  fast  a random program of SYSENTER/SYSEXIT/SYSCALL/SYSRET, RDMSR/WRMSR, MOV CRn and register
        writes, in ia32 or x86_64 (64-bit or compatibility-mode task), Intel or AMD, at CPL 0 or 3,
        with random MSRs; each step checks fault/cpl/regs; the first fault ends the program and
        is checked with the handler it reaches.
  df    one faulting event (#UD, #GP, #PF, #BP, INT n) with some IDT gates not present and
        (sometimes) a bad ring-0 stack: checks every exception raised (DF-2), #DF's error code 0,
        and shutdown (DF-4).
  tlb   a MOV to CR3 drops non-global translations and keeps global ones with CR4.PGE (PG-15).
  ctl   a CPL-0 program of WRMSR/RDMSR and MOV to/from CRn with chosen operands: MSR widths (AMD's
        32-bit SYSENTER_ESP/EIP), canonical checks, EFER's reserved and AMD bits, CR4's reserved bits.
Exit status: 0 when engine and oracle agree on every scenario, 1 otherwise.
"""
import argparse
import collections
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fast_oracle as O  # noqa: E402
import rundocs  # noqa: E402

STATS = collections.Counter()
NAMES = {1: "DB", 4: "OF", 6: "UD", 8: "DF", 10: "TS", 11: "NP", 12: "SS", 13: "GP", 14: "PF", 3: "BP"}


def h(v):
    return "0x%x" % v


def rand_addr(rng, long):
    """A value for RCX/RDX/an MSR: mostly canonical, sometimes not (long mode only)."""
    r = rng.random()
    if not long:
        return rng.choice([0x08048100, 0xBFFFF000, 0xC0100400, rng.randrange(1 << 32)])
    if r < 0.3:
        return rng.choice([0x400100, 0x7FFFFFFFE000, 0x08048100])
    if r < 0.55:
        return rng.choice([0xFFFFFFFF81000400, 0xFFFF888002008000])
    if r < 0.85:
        return rng.choice([0x0000800000000000, 0xFFFF7FFFFFFFFFFF, 0x1234567800000000, 0x8000000000000000])
    return rng.randrange(1 << 64)


def selector_base(rng):
    return rng.choice([0x10, 0x60, 0x08, 0x23, 0x13, 0x0, 0x3, 0x4, 0xFFF8, 0x61])


# ---------------------------------------------------------------------------------------------
# family "fast"

def gen_ctl(rng, sid):
    """Family "ctl": a CPL-0 program of MSR and control-register writes with chosen operands."""
    return gen_fast(rng, sid, picker=pick_ctl_step, cpl=0)


def gen_fast(rng, sid, picker=None, cpl=None):
    picker = picker or pick_step
    mode = rng.choice(["ia32", "x86_64", "x86_64"])
    vendor = "amd" if rng.random() < 0.3 else "intel"
    long = mode == "x86_64"
    bits = 64 if not long else rng.choice([64, 64, 32])
    cpl = rng.choice([0, 3]) if cpl is None else cpl
    m = O.Machine(mode, vendor, cpl, bits if long else 32)
    sce = rng.random() < 0.85
    if not sce:
        m.efer &= ~O.EFER_SCE
    # MSRs, all given explicitly.
    m.msr[O.SYSENTER_CS] = selector_base(rng)
    m.msr[O.SYSENTER_ESP] = rng.choice([0xFFFF888002008000, 0xC2006000]) if long else 0xC2006000
    m.msr[O.SYSENTER_EIP] = rng.choice([0xFFFFFFFF81002400, 0xC0100200]) if long else 0xC0100200
    m.msr[O.STAR] = (selector_base(rng) << 48) | (selector_base(rng) << 32) | rng.choice([0xC0100300, 0])
    if long:
        m.msr[O.LSTAR] = rng.choice([0xFFFFFFFF81002200, 0x401000])
        m.msr[O.CSTAR] = rng.choice([0xFFFFFFFF81002300, 0x402000])
    else:
        m.msr[O.LSTAR] = 0
        m.msr[O.CSTAR] = 0
    m.msr[O.FMASK] = rng.choice([0x257FD5, 0x200, 0, 0x47700, rng.randrange(1 << 22)])
    y = ["scenario: %s" % sid, "machine:", "  mode: %s" % mode]
    if vendor == "amd":
        y.append("  vendor: amd")
    if not sce:
        y.append("  efer: {sce: false}")
    y.append("  msrs: {IA32_SYSENTER_CS: %s, IA32_SYSENTER_ESP: %s, IA32_SYSENTER_EIP: %s, IA32_STAR: %s, "
             "IA32_LSTAR: %s, IA32_CSTAR: %s, IA32_FMASK: %s}" % tuple(h(m.msr[k]) for k in (
                 O.SYSENTER_CS, O.SYSENTER_ESP, O.SYSENTER_EIP, O.STAR, O.LSTAR, O.CSTAR, O.FMASK)))
    y.append("kernel: none")
    y += ["processes:", "  - name: t", "    state: running"]
    if long:
        y.append("    bits: %d" % bits)
    # Initial flags: IF plus some of CF ZF DF NT IOPL RF AC ID (never TF or VM: not modelled).
    m.rflags = rng.choice([0x202, 0x202, 0x10202, 0x40202, 0x246, 0x4202, 0x3202, 0x200202, 0x50603, 0x2])
    fl = "eflags" if not long or bits == 32 else "rflags"
    if cpl == 0:
        cs = {True: "kernel_cs", False: "kernel32_cs"}[bits == 64] if long else "kernel_cs"
        ip = "rip" if long and bits == 64 else "eip"
        sp = "rsp" if long and bits == 64 else "esp"
        y.append("    context: {cs: %s, ss: kernel_ds, %s: %s, %s: %s, %s: %s}"
                 % (cs, ip, h(m.rip), sp, h(m.rsp), fl, h(m.rflags)))
    else:
        y.append("    context: {%s: %s}" % (fl, h(m.rflags)))
    y.append("steps:")
    refuse = None
    nsteps = rng.randint(1, 10)
    for i in range(nsteps):
        step, insn, length = picker(rng, m)
        if insn is None:  # a `set`
            y += step
            continue
        out = m.execute(insn, length)
        STATS[(insn[0] + ("" if len(insn) < 2 or insn[0] not in ("sysret", "sysexit") else "/%s" % insn[1]),
               out[0] if out[0] != "fault" else "#%d" % out[1])] += 1
        y.append("  - exec: \"%s\"" % step)
        if out[0] == "refuse":
            y.append("    expect: {fault: none}")
            refuse = (i, out[1])
            break
        if out[0] == "unknown-value":
            y.append("    expect: {fault: none}")
            break
        if out[0] == "fault" and not m.stack_known_good():
            y.pop()  # the frame would go to a stack the oracle cannot vouch for
            break
        if out[0] == "fault":
            vec, code = out[1], out[2]
            f = "{vector: %s, error_code: %s}" % (NAMES[vec], h(code)) if code is not None else NAMES[vec]
            y.append("    expect:")
            y.append("      faults: [%s]" % f)
            y.append("      gate: {vector: %d, from_cpl: %d, to_cpl: 0}" % (vec, m.cpl))
            y.append("      cpl: 0")
            handler = (0xFFFFFFFF81000000 if long else 0xC0100000) + 0x1000 + vec * 0x10
            # INT-9: an interrupt gate clears IF, TF, NT, RF and VM on entry.
            flags = m.rflags & ~(O.RF_IF | O.RF_TF | (1 << 14) | O.RF_RF | O.RF_VM)
            y.append("      regs: {cs: %s, %s: %s, rflags: %s}" % (h(m.kernel_cs), "rip" if long else "eip", h(handler),
                                                                  h(flags)))
            break
        # completed
        regs = {"cs": m.cs, "ss": m.ss}
        ip = "rip" if long else "eip"
        regs[ip] = m.rip
        if m.rsp is not None:
            regs["rsp" if long else "esp"] = m.rsp
        for r in ("rax", "rcx", "rdx"):
            regs[r if long else "e" + r[1:]] = m.regs[r] & (O.MASK64 if long else O.MASK32)
        if long:
            regs["r11"] = m.regs["r11"]
        regs["rflags"] = m.rflags
        if insn[0] in ("mov_to_cr", "wrmsr"):
            regs["cr0"], regs["cr4"] = m.cr0, m.cr4
        y.append("    expect:")
        y.append("      fault: none")
        y.append("      cpl: %d" % m.cpl)
        y.append("      regs: {%s}" % ", ".join("%s: %s" % (k, h(v)) for k, v in regs.items()))
        if insn[0] in ("sysenter", "syscall"):
            e = "{via: %s, cs: %s, ss: %s, %s: %s" % (insn[0], h(m.cs), h(m.ss), ip, h(m.rip))
            if m.rsp is not None:
                e += ", %s: %s" % ("rsp" if long else "esp", h(m.rsp))
            y.append("      entry: %s, cpl: 0}" % e)
    return "\n".join(line for line in y if line != ""), refuse


def pick_ctl_step(rng, m):
    """One step of family "ctl": set ECX/EDX/EAX for a chosen MSR or control-register write, or run
    WRMSR, RDMSR or MOV to/from CRn (the reserved, width and vendor rules: PRIV-2/PRIV-3)."""
    long = m.long
    R = (lambda n: n) if m.in64 else (lambda n: "e" + n[1:])
    r = rng.random()
    if r < 0.45:
        if rng.random() < 0.5:
            n = rng.choice([O.SYSENTER_CS, O.SYSENTER_ESP, O.SYSENTER_EIP, O.EFER, O.STAR, O.LSTAR, O.CSTAR,
                            O.FMASK, O.KERNEL_GS_BASE])
            hi = rng.choice([0, 0, 0x8000, 0xFFFFFFFF, 0xFFFF8000, 0x12345678, 1])
            if n == O.EFER:
                lo = value_for_write(rng, m) & O.MASK32 if rng.random() < 0.5 else m.efer ^ rng.choice(
                    [1 << 12, 1 << 13, 1 << 14, 1 << 15, O.EFER_SCE, O.EFER_NXE])
                hi = 0
            else:
                lo = rng.choice([0xC0100000, 0x81002400, 0x60, 0x10, 0x300, 0])
            lines = []
            for reg, v in (("rcx", n), ("rdx", hi), ("rax", lo)):
                m.set_reg(reg, v)
                lines.append("  - set: {regs: {%s: %s}}" % (reg if long else "e" + reg[1:], h(v)))
            return lines, None, 0
        v = value_for_write(rng, m)
        if rng.random() < 0.4:
            v = m.cr4 ^ rng.choice([1 << 26, 1 << 27, 1 << 28, 1 << 25, 1 << 11, 1 << 16, 1 << 18])
        v &= O.MASK64 if long else O.MASK32
        m.set_reg("rax", v)
        return ["  - set: {regs: {%s: %s}}" % ("rax" if long else "eax", h(v))], None, 0
    if r < 0.62:
        return "wrmsr", ("wrmsr",), 2
    if r < 0.72:
        return "rdmsr", ("rdmsr",), 2
    if r < 0.92:
        n = rng.choice([0, 4, 4, 3, 8])
        return "mov cr%d, %s" % (n, R("rax")), ("mov_to_cr", n, "rax"), cr_mov_length(n)
    n = rng.choice([0, 4, 3])
    return "mov %s, cr%d" % (R("rax"), n), ("mov_from_cr", "rax", n), cr_mov_length(n)


def pick_step(rng, m):
    """One step: (YAML text or lines, oracle instruction or None, encoded length)."""
    long = m.long
    r = rng.random()
    R = (lambda n: n) if m.in64 else (lambda n: "e" + n[1:])
    if r < 0.04:
        # set.msrs: any value (no WRMSR checks), including non-canonical entry points
        name, num = rng.choice([("IA32_SYSENTER_CS", O.SYSENTER_CS), ("IA32_SYSENTER_EIP", O.SYSENTER_EIP),
                                ("IA32_SYSENTER_ESP", O.SYSENTER_ESP), ("IA32_STAR", O.STAR),
                                ("IA32_LSTAR", O.LSTAR), ("IA32_CSTAR", O.CSTAR), ("IA32_FMASK", O.FMASK)])
        if num == O.SYSENTER_CS:
            v = selector_base(rng)
        elif num == O.STAR:
            v = (selector_base(rng) << 48) | (selector_base(rng) << 32) | rng.randrange(1 << 32)
        elif num == O.FMASK:
            v = rng.randrange(1 << 22)
        elif num == O.SYSENTER_ESP:
            v = rng.choice([0xFFFF888002008000, 0x0000800000000000] if long else [0xC2006000])
        else:
            v = rand_addr(rng, long)
        m.msr[num] = v
        return ["  - set: {msrs: {%s: %s}}" % (name, h(v))], None, 0
    if r < 0.22:
        # set a register directly (any width: set.regs takes 64-bit names in every mode)
        reg = rng.choice(["rcx", "rdx", "rax", "r11"] if long else ["rcx", "rdx", "rax"])
        if rng.random() < 0.35:
            v = rng.choice(sorted(O.MODELLED_MSRS) + sorted(O.UNMODELLED_MSRS) + O.NONEXISTENT_MSRS)
            reg = "rcx"
        elif reg == "r11":
            v = rng.choice([0x202, 0x3, 0x10202, 0x20202, 0x4346D7, 0x302, rng.randrange(1 << 22)])
        elif reg in ("rax", "rdx") and rng.random() < 0.5:
            v = value_for_write(rng, m)
            reg = "rax"
        else:
            v = rand_addr(rng, long)
        name = reg if long else "e" + reg[1:]
        m.set_reg(reg, v & (O.MASK64 if long else O.MASK32))
        return ["  - set: {regs: {%s: %s}}" % (name, h(v & (O.MASK64 if long else O.MASK32)))], None, 0
    if r < 0.30:
        reg = rng.choice(["rcx", "rdx"])
        v = rand_addr(rng, long) if m.in64 else rand_addr(rng, False)
        width = 8 if m.in64 else 4
        return "mov %s, %s" % (R(reg), h(v)), ("mov_imm", reg, v, width), (10 if width == 8 else 5)
    if r < 0.38:
        return "sysenter", ("sysenter",), 2
    if r < 0.46:
        q = rng.random() < (0.8 if m.in64 else 0.1)
        return ("sysexitq" if q else "sysexit"), ("sysexit", q), (3 if q else 2)
    if r < 0.56:
        return "syscall", ("syscall",), 2
    if r < 0.66:
        form = rng.choice([None, None, True, False] if m.in64 else [None, None, None, False, True])
        text = {None: "sysret", True: "sysretq", False: "sysretl"}[form]
        return text, ("sysret", form), (3 if (m.in64 if form is None else form) else 2)
    if r < 0.74:
        return "rdmsr", ("rdmsr",), 2
    if r < 0.84:
        return "wrmsr", ("wrmsr",), 2
    if r < 0.94:
        n = rng.choice([0, 4, 4, 0, 3, 8, 1, 5])
        return "mov cr%d, %s" % (n, R("rax")), ("mov_to_cr", n, "rax"), cr_mov_length(n)
    n = rng.choice([0, 4, 3, 8, 6])
    return "mov %s, cr%d" % (R("rax"), n), ("mov_from_cr", "rax", n), cr_mov_length(n)


def cr_mov_length(n):
    """MOV to/from CRn with RAX/EAX: 0F 22 /r or 0F 20 /r; CR8 needs REX.R (44 0F 22 C0), one byte more
    (SDM Vol. 2B MOV to/from control registers). Outside 64-bit mode CR8 is #UD, so its length never counts."""
    return 4 if n == 8 else 3


def value_for_write(rng, m):
    """A value for RAX (and so for WRMSR's low half or a CR write): near the current CR0/CR4/EFER."""
    which = rng.choice(["cr0", "cr4", "efer", "cr3", "cr8"])
    if which == "cr8":
        return rng.choice([0, 0, 2, 0x10])
    if which == "cr3":
        return (m.cr3 & ~0xFFF) | rng.choice([0, 0, 1 << 63, 1 << 52, 1 << 40, 0x8, 0x18, 0x5, 0x3])
    if which == "cr0":
        bits = [O.CR0_PE, O.CR0_PG, O.CR0_NW, O.CR0_CD, O.CR0_WP, O.CR0_NW | O.CR0_CD, 1 << 32, O.CR0_PE | O.CR0_PG,
                1 << 4, 1 << 6, 1 << 17, 1 << 28, 1 << 3, 1 << 18]
        return m.cr0 ^ rng.choice(bits)
    if which == "cr4":
        bits = [O.CR4_PSE, O.CR4_PAE, O.CR4_PGE, O.CR4_LA57, O.CR4_PCIDE, 1 << 20, 1 << 21, 1 << 22,
                1 << 15, 1 << 30, 1 << 32, O.CR4_PVI, O.CR4_CET, O.CR4_PKS, 1 << 0, 1 << 9,
                1 << 26, 1 << 27, 1 << 28]
        return m.cr4 ^ rng.choice(bits)
    bits = [O.EFER_SCE, O.EFER_NXE, O.EFER_LME, O.EFER_LMA, 1 << 1, 1 << 12, 1 << 9, 1 << 32]
    return m.efer ^ rng.choice(bits)


# ---------------------------------------------------------------------------------------------
# family "df"

def gen_df(rng, sid):
    mode = rng.choice(["ia32", "x86_64"])
    long = mode == "x86_64"
    absent = set(v for v in (1, 3, 4, 6, 8, 10, 11, 13, 14, 0x80) if rng.random() < 0.3)
    bad_stack = rng.random() < 0.4
    bad_ist = long and bad_stack and rng.random() < 0.3
    cpl = 0 if rng.random() < 0.25 else 3
    kinds = ["ud", "gp", "pf-r", "int3", "int80", "int1"] + (["pf-w", "int-dpl"] if cpl == 3 else ["wrmsr"])
    if not long:
        kinds.append("into")
    kind = rng.choice(kinds)
    y = ["scenario: %s" % sid, "machine:", "  mode: %s" % mode]
    if bad_stack:
        if long:
            y.append("  tss: {name: tss, rsp0: 0xffff8880c0000000, ist1: %s}"
                     % ("0xffff8880c0000000" if bad_ist else "0xffff888003000000"))
        else:
            y.append("  tss: {name: tss, ss0: 0, esp0: 0xc2008000}")
    if absent:
        y.append("  idt:")
        for v in sorted(absent):
            y.append("    %d: {present: false}" % v)
    y.append("kernel: none")
    if kind == "into" and cpl == 3:
        y += ["processes:", "  - name: u", "    state: running", "    context: {eflags: 0xa02}"]
    if cpl == 0:
        y += ["processes:", "  - name: k", "    state: running"]
        if kind == "into":
            y.append("    context: {cs: kernel_cs, ss: kernel_ds, eip: 0xc0100000, esp: 0xc2006000, eflags: 0xa02}")
        elif long:
            y.append("    context: {cs: kernel_cs, ss: kernel_ds, rip: 0xffffffff81000000, rsp: 0xffff888002007ff0}")
        else:
            y.append("    context: {cs: kernel_cs, ss: kernel_ds, eip: 0xc0100000, esp: 0xc2006000}")
    y.append("steps:")
    text_page = 0x400000 if long else 0x08048000
    u = 4 if cpl == 3 else 0
    first = None  # the instruction's own exception, listed first
    if kind == "ud":
        y.append("  - exec: \"mov cs, ax\"")
        first, start = (6, None), (6, True)
    elif kind == "gp":
        y.append("  - exec: \"sysexit\"" if cpl == 3 else "  - exec: \"mov cr4, %s\"" % ("rax" if long else "eax"))
        first, start = (13, 0), (13, True)
        if cpl == 0:
            y.insert(-1, "  - exec: \"mov %s, 0x8000\"" % ("rax" if long else "eax"))
    elif kind == "wrmsr":
        y.append("  - exec: \"mov ecx, 0x12345678\"")
        y.append("  - exec: \"wrmsr\"")
        first, start = (13, 0), (13, True)
    elif kind == "pf-w":
        y.append("  - access: {op: write, addr: %s, size: 4}" % h(text_page + 0x10))
        first, start = (14, 7), (14, True)
    elif kind == "pf-r":
        y.append("  - access: {op: read, addr: 0x10000000, size: 4}")
        first, start = (14, u), (14, True)
    elif kind == "int3":
        y.append("  - exec: \"int3\"")
        first, start = (3, None), (3, False)
    elif kind == "int1":
        # INT1/ICEBP: #DB delivered with EXT = 1 (SEG-9), the gate DPL not checked (INT-2)
        y.append("  - exec: \"int1\"")
        first, start = (1, None), (1, True)
    elif kind == "into":
        # INTO with OF = 1: #OF, a software exception (EXT = 0, gate DPL checked: 3 in the preset)
        y.append("  - exec: \"into\"")
        first, start = (4, None), (4, False)
    elif kind == "int-dpl":
        v = rng.choice([13, 14, 6])
        y.append("  - exec: \"int %d\"" % v)
        first, start = (13, v * 8 + 2), (13, True)
    else:
        y.append("  - exec: \"int 0x80\"")
        start = (0x80, False)

    def stack_fault(vector, ext):
        # Only a delivery from CPL 3 switches to the TSS's ring-0 stack; IST 1 (#DF) always does.
        if not bad_stack:
            return None
        if long:
            if vector == 8:
                return (14, 2) if bad_ist else None
            if vector in (1, 2, 18):
                return None  # the preset's IST 3, 2, 4 (the scenario leaves them)
            return (14, 2) if cpl == 3 else None
        return (10, ext) if cpl == 3 else None

    raised, outcome = O.delivery_chain(start[0], start[1], absent, stack_fault)
    faults = ([first] if first else []) + raised
    items = ["{vector: %s, error_code: %s}" % (NAMES[v], h(c)) if c is not None else NAMES[v] for v, c in faults]
    y.append("    expect:")
    y.append("      faults: [%s]" % ", ".join(items))
    if outcome[0] == "shutdown":
        y.append("      shutdown: true")
    else:
        y.append("      shutdown: false")
        y.append("      gate: {vector: %d, from_cpl: %d, to_cpl: 0}" % (outcome[1], cpl))
    return "\n".join(y), None


# ---------------------------------------------------------------------------------------------
# family "tlb"

def gen_tlb(rng, sid):
    """PG-15: a stale translation survives until a flush that covers it: a MOV to CR3 (not for a
    global page with CR4.PGE=1), INVLPG of the page (global or not), or any change of CR4.PGE."""
    mode = rng.choice(["ia32", "x86_64"])
    long = mode == "x86_64"
    glob = rng.random() < 0.5
    pge = rng.random() < 0.5
    flush = rng.choice(["cr3", "cr3", "invlpg", "pge", "none", "other-invlpg"])
    page = 0x600000 if long else 0x08100000
    cr4 = (0x20 if long else 0x10) | (0x80 if pge else 0)
    y = ["scenario: %s" % sid, "machine:", "  mode: %s" % mode]
    if pge:
        y.append("  cr4: {pge: true}")
    y += ["kernel: none", "processes:", "  - name: k", "    state: running",
          "    pages: [{virt: %s, writable: true%s}]" % (h(page), ", global: true" if glob else "")]
    if long:
        y.append("    context: {cs: kernel_cs, ss: kernel_ds, rip: 0xffffffff81000000, rsp: 0xffff888002007ff0}")
    else:
        y.append("    context: {cs: kernel_cs, ss: kernel_ds, eip: 0xc0100000, esp: 0xc2006000}")
    r = "rax" if long else "eax"
    y += ["steps:",
          "  - access: {op: read, addr: %s}" % h(page),
          "    expect: {fault: none}",
          "  - set: {pages: [{virt: %s, present: false}]}" % h(page),
          "  - access: {op: read, addr: %s}" % h(page),
          "    expect: {fault: none}"]
    if flush == "cr3":
        y += ["  - exec: \"mov %s, cr3\"" % r, "  - exec: \"mov cr3, %s\"" % r]
        survives = glob and pge
    elif flush == "invlpg":
        y.append("  - exec: \"invlpg [%s]\"" % h(page))
        survives = False
    elif flush == "other-invlpg":
        y.append("  - exec: \"invlpg [%s]\"" % h(page + 0x1000))
        survives = True
    elif flush == "pge":
        y += ["  - exec: \"mov %s, %s\"" % (r, h(cr4 ^ 0x80)), "  - exec: \"mov cr4, %s\"" % r]
        survives = False
    else:
        survives = True
    y.append("  - access: {op: read, addr: %s}" % h(page))
    if survives:
        y.append("    expect: {fault: none}")
    else:
        y.append("    expect:")
        y.append("      faults: [{vector: PF, error_code: 0x0, cr2: %s}]" % h(page))
    return "\n".join(y), None


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rundocs.common_args(ap, count=300)
    ap.add_argument("--family", choices=["fast", "df", "tlb", "ctl"], action="append")
    ap.add_argument("--stats", action="store_true", help="print how often each instruction had each outcome")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    fams = a.family or ["fast", "fast", "fast", "df", "tlb", "ctl"]
    out = rundocs.work_dir(a, "fast_diff_")
    refusals, docs, sources = {}, [], {}
    for i in range(a.count):
        fam = rng.choice(fams)
        sid = "%s-%d-%d" % (fam, a.seed, i)
        text, refuse = {"fast": gen_fast, "df": gen_df, "tlb": gen_tlb, "ctl": gen_ctl}[fam](rng, sid)
        docs.append(text)
        sources[sid] = text
        if refuse:
            refusals[sid] = refuse
    rundocs.write_docs(out, docs, per_file=500)
    report = rundocs.run_json(a.ringspec, out)
    if report is None:
        return 2

    def refusal(s, fails):
        """A scenario whose instruction the oracle expects the engine to refuse as not modelled."""
        ref = refusals.get(s["id"])
        if not ref:
            return None
        ok = any("not modelled" in str(f.get("actual", "")) and f["path"].startswith("steps[")
                 for f in fails) and len(s["failures"]) == 1
        if not ok:
            print("DISAGREE %s: oracle expects a refusal (%s); engine: %s" % (s["id"], ref[1], s["status"]))
            if a.verbose:
                print(sources[s["id"]])
                print(json.dumps(fails, indent=1))
        return ok

    bad = rundocs.count_disagreements(report, sources, a.verbose, judge=refusal)
    if a.stats:
        for (insn, outcome), n in sorted(STATS.items()):
            print("  %-16s %-14s %d" % (insn, outcome, n))
    return rundocs.finish(a, out, report, bad)


if __name__ == "__main__":
    sys.exit(main())
