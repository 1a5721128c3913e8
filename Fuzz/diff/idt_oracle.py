"""Independent oracle for IDT delivery on a bare CPU (`kernel: none`).

Written from the Intel SDM pseudo-code (Vol. 2A "INT n/INTO/INT3/INT1" Operation; Vol. 3A §6.10-6.14:
IDT, gate descriptors, handler procedures, error codes, 64-bit mode; §6.15 Table 6-5 for #DF) and
shared/spec/machine-rules.md (INT-1..INT-11, DF-1..DF-4), not from the engine's Swift code.

The state is what delivery reads: the mode, the CPL, a GDT described by kind (not by raw bits), the
IDT (gate type, DPL, selector, offset, P, IST), the TSS stack fields, and the interrupted SS:RSP.

`deliver(event)` returns a Result: every exception raised, in order (vector, error code or None),
and either the handler reached (vector, gate, CPL, CS, SS, RSP, RIP, IF) or shutdown.
"""

MASK32 = (1 << 32) - 1
MASK64 = (1 << 64) - 1

# DF-1 (SDM Vol. 3A Table 6-4).
CONTRIBUTORY = {0, 10, 11, 12, 13, 21}  # 21 #CP: SDM Vol. 3A Table 6-4
PAGE_FAULT = {14, 20}
# INT-11: hardware exceptions that push an error code.
ERROR_CODE_VECTORS = {8, 10, 11, 12, 13, 14, 17, 21}


def canonical(v):
    top = v >> 47
    return top == 0 or top == (1 << 17) - 1


def exc_class(vector, software):
    # DF-1: a software event (INT n/INT3/INTO) or an external interrupt is benign-first.
    if software is None or software:
        return "benign"
    if vector in CONTRIBUTORY:
        return "contributory"
    if vector in PAGE_FAULT:
        return "pagefault"
    return "benign"


def escalates(first_class, second):
    """DF-2 / SDM Table 6-5: a second exception raised while delivering the first."""
    b = exc_class(second, False)
    return (first_class == "contributory" and b == "contributory") or (first_class == "pagefault" and b != "benign")


class Seg:
    """A GDT entry as the checks see it: kind code|data|system, DPL, P, conforming, L (64-bit code)."""

    def __init__(self, kind, dpl, present=True, conforming=False, long=False, writable=True, limit=MASK32):
        self.kind, self.dpl, self.present, self.limit = kind, dpl, present, limit
        self.conforming, self.long, self.writable = conforming, long, writable


class Gate:
    """An IDT entry (SDM Vol. 3A §6.11, §6.14.1): type interrupt|trap|task, DPL, selector, offset, P, IST."""

    def __init__(self, type, dpl, selector, offset, present=True, ist=0):
        self.type, self.dpl, self.selector, self.offset = type, dpl, selector, offset
        self.present, self.ist = present, ist


class Event:
    """What starts a delivery. kind: 'int' (INT n), 'int3', 'into' (software: EXT = 0, gate DPL checked,
    INT-1/INT-2), 'int1' (ICEBP: EXT = 1, DPL not checked), 'irq' (external), 'exc' (a CPU-detected
    exception with its error code)."""

    def __init__(self, kind, vector, code=None):
        self.kind, self.vector, self.code = kind, vector, code

    @property
    def software(self):
        return self.kind in ("int", "int3", "into")

    @property
    def ext(self):
        return 0 if self.software else 1

    @property
    def pushes_code(self):
        return self.kind == "exc" and self.vector in ERROR_CODE_VECTORS


class Machine:
    def __init__(self, mode, cpl, gdt, idt, tss, ss, rsp):
        self.mode, self.long = mode, mode == "x86_64"
        self.cpl, self.gdt, self.idt, self.tss = cpl, gdt, idt, tss
        self.ss, self.rsp = ss, rsp

    # ---- one delivery attempt -------------------------------------------------------------
    def attempt(self, ev):
        """Returns ("fault", vector, code) or ("ok", record) for one delivery (no escalation)."""
        v, ext = ev.vector, ev.ext
        idt_code = v * 8 + 2 + ext
        g = self.idt.get(v)
        # INT-3 (limit): a vector with no entry is beyond no limit here; a missing entry is P = 0.
        if g is None:
            return ("fault", 11, idt_code)
        # INT-4: task gates do not exist in IA-32e mode.
        if g.type == "task":
            if self.long:
                return ("fault", 13, idt_code)
            return self.task_gate(ev, g)
        # INT-2: the gate DPL check for INT n, INT3, INTO only.
        if ev.software and g.dpl < self.cpl:
            return ("fault", 13, v * 8 + 2)
        # INT-5
        if not g.present:
            return ("fault", 11, idt_code)
        # INT-6: the target code segment.
        sel = g.selector
        if sel & 0xFFFC == 0:
            return ("fault", 13, ext)
        scode = (sel & 0xFFFC) | ext
        s = self.gdt.get(sel >> 3)
        if sel & 4 or s is None:
            return ("fault", 13, scode)
        if s.kind != "code" or s.dpl > self.cpl:
            return ("fault", 13, scode)
        if self.long and not s.long:
            return ("fault", 13, scode)
        if not s.present:
            return ("fault", 11, scode)
        inner = not s.conforming and s.dpl < self.cpl
        new_cpl = s.dpl if inner else self.cpl
        width = 8 if self.long else 4
        frame = (5 if (inner or self.long) else 3) + (1 if ev.pushes_code else 0)
        if self.long:
            # INT-10 / SDM 64-bit mode IDT delivery: IST first, else RSPn on a privilege change.
            if g.ist:
                rsp = self.tss.get("ist%d" % g.ist, 0)
            elif inner:
                rsp = self.tss.get("rsp%d" % new_cpl, 0)
            else:
                rsp = self.rsp
            if not canonical(rsp):
                return ("fault", 12, ext)
            if (g.ist or inner) and rsp not in GOOD_STACKS["x86_64"] and rsp not in UNMAPPED:
                return ("refuse", "stack not known to the oracle")
            ss = new_cpl if inner else self.ss  # INT-10: SS = NULL with RPL = new CPL
            new_rsp = (rsp & ~0xF) - frame * width
            # SDM INT n (IA-32e): a non-canonical gate offset is #GP(EXT), checked before any push.
            if not canonical(g.offset):
                return ("fault", 13, ext)
            if new_cpl == 3 and rsp in KERNEL_STACKS:
                # An IST stack at CPL 3 (conforming or DPL-3 target): the frame's first push (SS) is a
                # user-mode write to a supervisor page, #PF(P|W|U) (SDM Vol. 3A §6.14.5, §4.6).
                return ("fault", 14, 7, (rsp & ~0xF) - 8)
            if rsp in UNMAPPED:
                # The first push (SS) writes to a not-present page: #PF(W, U = new CPL 3).
                return ("fault", 14, 2 | (4 if new_cpl == 3 else 0), (rsp & ~0xF) - 8)
            rip = g.offset
        else:
            if inner:
                # INT-7 / SDM "INTER-PRIVILEGE-LEVEL-INTERRUPT": SS from the TSS.
                ss = self.tss.get("ss0", 0)
                if ss & 0xFFFC == 0:
                    return ("fault", 10, ext)
                d = self.gdt.get(ss >> 3)
                sscode = (ss & 0xFFFC) | ext
                if ss & 4 or d is None:
                    return ("fault", 10, sscode)
                if ss & 3 != new_cpl:
                    return ("fault", 10, sscode)
                if d.kind != "data" or not d.writable or d.dpl != new_cpl:
                    return ("fault", 10, sscode)
                if not d.present:
                    return ("fault", 12, sscode)
                rsp = self.tss.get("esp0", 0)
            else:
                ss, rsp = self.ss, self.rsp
            if rsp not in GOOD_STACKS["ia32"] and rsp not in UNMAPPED:
                return ("refuse", "stack not known to the oracle")
            new_rsp = (rsp - frame * width) & MASK32
            # SDM INT n (protected mode): an EIP beyond the target's limit is #GP(EXT), checked after
            # the stack (Bochs: after the SS checks, before the pushes). 64-bit mode checks no limit.
            if g.offset > s.limit:
                return ("fault", 13, ext)
            if rsp in UNMAPPED:
                return ("fault", 14, 2 | (4 if new_cpl == 3 else 0), rsp - 4)
            rip = g.offset & MASK32
        rec = {"vector": v, "type": g.type, "dpl": g.dpl, "from_cpl": self.cpl, "to_cpl": new_cpl,
               "stack_switch": inner or (self.long and g.ist != 0), "cs": (sel & 0xFFFC) | new_cpl, "ss": ss,
               "rsp": new_rsp, "rip": rip, "if": g.type == "trap"}
        return ("ok", rec)

    def task_gate(self, ev, g):
        """SDM INT n TASK-GATE (and machine-rules TASK-2): the checks before the task switch. The
        INT-2 DPL and INT-5 present checks on the gate come first (in attempt's caller order, so they
        are repeated here). The switch itself is not predicted."""
        v, ext = ev.vector, ev.ext
        if ev.software and g.dpl < self.cpl:
            return ("fault", 13, v * 8 + 2)
        if not g.present:
            return ("fault", 11, v * 8 + 2 + ext)
        sel = g.selector
        code = (sel & 0xFFFC) | ext
        d = self.gdt.get(sel >> 3)
        # TI = 1, beyond the GDT limit, not a TSS, or a busy TSS: #GP(TSS selector + EXT).
        if sel & 4 or d is None or d.kind != "tss":
            return ("fault", 13, code)
        if not d.present:
            return ("fault", 11, code)  # #NP(TSS selector + EXT)
        return ("refuse", "a task switch (not predicted)")

    # ---- the whole delivery with #DF / shutdown ---------------------------------------------
    def deliver(self, ev, initial=None):
        """initial: the exceptions listed before delivery (the instruction's own). Returns
        (faults, outcome): outcome ("delivered", record) | ("shutdown",) | ("refuse", why)."""
        faults = list(initial or [])
        cur = ev
        for _ in range(8):
            out = self.attempt(cur)
            if out[0] == "ok":
                return faults, ("delivered", out[1])
            if out[0] == "refuse":
                return faults, out
            second = tuple(out[1:])  # (vector, code[, cr2])
            faults.append(second)
            if cur.kind == "exc" and cur.vector == 8:
                return faults, ("shutdown",)  # DF-4
            # DF-1: INT n/INT3/INTO, INT1 (#DB) and external interrupts are benign first events.
            first_class = exc_class(cur.vector, False) if cur.kind == "exc" else "benign"
            if escalates(first_class, second[0]):
                faults.append((8, 0))  # DF-3
                cur = Event("exc", 8, 0)
            else:
                cur = Event("exc", second[0], second[1])
        return faults, ("shutdown",)


# Stack tops whose frame goes to a not-present page (page 0 is never mapped by the preset).
UNMAPPED = {0x1000}
KERNEL_STACKS = {0xFFFF888002008000, 0xFFFF888003000000, 0xFFFF888003100000, 0xFFFF888002007FF0}

# Stacks the preset maps writable for the kernel (and the default user stacks).
GOOD_STACKS = {"x86_64": {0xFFFF888002008000, 0xFFFF888003000000, 0xFFFF888003100000, 0xFFFF888002007FF0,
                          0x7FFFFFFFEFF0, 0xFFFFDFF0},
               "ia32": {0xC2008000, 0xC2006000, 0xBFFFFFF0}}
