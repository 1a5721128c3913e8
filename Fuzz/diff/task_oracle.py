"""Independent oracle for hardware task switches (ia32, `kernel: none`, the linux preset's tables).

Written from the Intel SDM, not from the engine's Swift code:
- Vol. 2A JMP / CALL pseudo-code (TASK-GATE and TASK-STATE-SEGMENT branches), INT n (TASK-GATE),
  IRET (TASK-RETURN);
- Vol. 3A §7.3 "Task Switching" (the steps, the commit point), Table 7-1 (exception conditions),
  §7.4 Table 7-2 (busy flag, NT, previous-task link), §7.2.1 (TSS layout);
- shared/spec/machine-rules.md TASK-1..TASK-8, FAR-15, INT-2..INT-9, SEG-8/9, DF-1/2.

Where the SDM leaves the order open (Table 7-1: "the exact order is model specific"), the oracle
follows Bochs cpu/tasking.cc, which the engine follows too: after the commit point the new LDT is
checked, then SS, then DS, ES, FS, GS, then CS; while the LDT and SS are checked the CPL is taken as
3 (Bochs: "force a privilege level change and stack switch if SS is not properly loaded"), so a fault
there is delivered on the new TSS's ring-0 stack; from the data segments on, the CPL is the new
CS.RPL. These places are marked BOCHS-ORDER.

The world is a small description of the tables: GDT / LDT entries by kind (`Desc`), TSS images by GDT
index (dicts of field -> value), IDT gates, and the CPU registers. `run(world, event)` applies one
event and returns a Result: the exceptions raised in order (vector, error code), the final delivery
(or None), and the CPU state afterwards; the world is updated in place (busy bits, TSS images).
"""

import copy

MASK32 = (1 << 32) - 1
NT, IF, TF, RF, VM = 0x4000, 0x200, 0x100, 0x10000, 0x20000
DEFINED_FLAGS = 0x3F7FD5  # CF PF AF ZF SF TF IF DF OF IOPL NT RF VM AC VIF VIP ID
CR0_TS = 0x8
CONTRIBUTORY = {0, 10, 11, 12, 13}
ERROR_CODE_VECTORS = {8, 10, 11, 12, 13, 14, 17}
KCS, KDS = 0x60, 0x68
HANDLER_BASE = 0xC0101000  # the linux preset's handler of vector v: HANDLER_BASE + 16 v
SEGS = ["es", "cs", "ss", "ds", "fs", "gs"]  # TSS order (TASK-8)
GPRS = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
LEN = {"jmp": 7, "call": 7, "int": 2, "iret": 1}


class Desc:
    """A descriptor by kind: code | data | tss | ldt | gate (task gate) | other (a call gate)."""

    def __init__(self, kind, dpl=0, present=True, **kw):
        self.kind, self.dpl, self.present = kind, dpl, present
        self.conforming = kw.get("conforming", False)
        self.readable = kw.get("readable", True)
        self.writable = kw.get("writable", True)
        self.limit = kw.get("limit", MASK32)
        self.busy = kw.get("busy", False)
        self.tss = kw.get("tss", 0)  # a task gate's TSS selector


class Fault(Exception):
    def __init__(self, vector, code=None, why="", cr2=None):
        super().__init__("%d %s %s" % (vector, code, why))
        self.vector, self.code, self.why, self.cr2 = vector, code, why, cr2


class World:
    def __init__(self):
        self.gdt = {}        # index -> Desc
        self.gdt_slots = 32  # the preset's GDT limit covers 32 entries (ia32)
        self.ldt = {}        # index -> Desc (the LDT named by the GDT's ldt descriptor)
        self.ldt_slots = 0
        self.idt = {}        # vector -> Desc(kind "gate" task gate | "intr" interrupt gate)
        self.tss = {}        # GDT index -> dict of fields
        self.cpu = {}        # cpl, eip, eflags, GPRs, segment selectors, tr, ldtr (selector or None), cr0

    def clone(self):
        return copy.deepcopy(self)


class Result:
    def __init__(self):
        self.faults = []     # (vector, code or None)
        self.delivery = None  # the gate record (format `gate`): vector, type, dpl, from_cpl, to_cpl, stack_switch, if
        self.via_gate = None  # a far JMP/CALL through a GDT/LDT task gate: that gate's DPL
        self.cpu = None
        self.switched = False  # a task switch passed its commit point
        self.debug_trap = False  # the new TSS's T bit asks for a #DB after the switch
        self.ok = False  # the event completed and no exception handler was entered
        self.shutdown = False  # a fault while delivering #DF (DF-4)


def lookup(w, sel, ldt_ok):
    """The descriptor a selector names, or None (null, beyond the table limit, TI=1 without a usable LDT)."""
    idx = sel >> 3
    if sel & 4:
        if not ldt_ok:
            return None
        return w.ldt.get(idx) if idx < w.ldt_slots else None
    if idx == 0 or idx >= w.gdt_slots:
        return None
    return w.gdt.get(idx, Desc("empty", present=False))


def gdt_desc(w, sel):
    """A GDT-only lookup (TSS selectors, back links): None for TI=1 or beyond the limit."""
    if sel & 4 or (sel >> 3) >= w.gdt_slots:
        return None
    return w.gdt.get(sel >> 3, Desc("empty", present=False)) if sel >> 3 else Desc("empty", present=False)


def ldt_usable(w):
    return w.cpu["ldtr"] is not None


# ---- the task switch (SDM Vol. 3A §7.3 steps; Table 7-1; Table 7-2) ----

def task_switch(w, res, sel, reason, err, ext, ret_ip):
    """Switch to the TSS `sel` (already checked: an available TSS for JMP/CALL/INT, busy for IRET).
    Raises Fault for a fault before the commit point; after it, returns (fault or None, cpl_for_delivery)."""
    e = 1 if ext else 0
    d = w.gdt[sel >> 3]
    # TASK-3: the new TSS limit (>= 0x67 for a 32-bit TSS), #TS(new TSS) before anything changes.
    if d.limit < 0x67:
        raise Fault(10, (sel & 0xFFFC) | e, "new TSS limit")
    c = w.cpu
    old = w.tss[c["tr"] >> 3]
    new = w.tss[sel >> 3]
    # TASK-5: save the dynamic state in the old TSS (IRET: NT cleared in the saved image, Table 7-2).
    old["eip"] = ret_ip & MASK32
    old["eflags"] = c["eflags"] & ~NT if reason == "iret" else c["eflags"]
    for r in GPRS:
        old[r] = c[r]
    for s in SEGS:
        old[s] = c[s]
    # TASK-4 / Table 7-2: busy flags and the previous-task link.
    if reason in ("jmp", "iret"):
        w.gdt[c["tr"] >> 3].busy = False
    if reason != "iret":
        d.busy = True
    if reason in ("call", "int"):
        new["link"] = c["tr"]
    # Commit point: TR, CR0.TS, EFLAGS (NT forced for CALL/interrupt), EIP, GPRs, raw selectors.
    res.switched = True
    c["tr"] = sel
    c["cr0"] |= CR0_TS
    # Only the flags that exist are loaded (bits 3, 5, 15, 22-31 reserved: SDM Vol. 1 §3.4.3; Bochs task_switch
    # writeEFlags(newEFLAGS, EFlagsValidMask)).
    c["eflags"] = ((new.get("eflags", 2) & DEFINED_FLAGS) | 2) | (NT if reason in ("call", "int") else 0)
    c["eip"] = new.get("eip", 0)
    for r in GPRS:
        c[r] = new.get(r, 0)
    raw = {s: new.get(s, 0) for s in SEGS}
    for s in SEGS:
        c[s] = raw[s]
    ldt_sel = new.get("ldt", 0)
    new_cpl = raw["cs"] & 3
    # BOCHS-ORDER: LDT, SS with CPL taken as 3.
    c["cpl"] = 3
    if ldt_sel & 0xFFFC:
        ld = gdt_desc(w, ldt_sel)
        if ld is None or ld.kind != "ldt" or not ld.present:
            c["ldtr"] = None
            return Fault(10, (ldt_sel & 0xFFFC) | e, "new LDT"), 3
        c["ldtr"] = ldt_sel
    else:
        c["ldtr"] = None
    ss = raw["ss"]
    sd = lookup(w, ss, ldt_usable(w)) if ss & 0xFFFC else None
    if sd is None or sd.kind != "data" or not sd.writable:
        return Fault(10, (ss & 0xFFFC) | e, "new SS"), 3
    if not sd.present:
        return Fault(12, (ss & 0xFFFC) | e, "new SS not present"), 3
    if sd.dpl != new_cpl or sd.dpl != (ss & 3):
        return Fault(10, (ss & 0xFFFC) | e, "new SS DPL"), 3
    c["cpl"] = new_cpl
    for s in ("ds", "es", "fs", "gs"):
        v = raw[s]
        if not v & 0xFFFC:
            continue
        dd = lookup(w, v, ldt_usable(w))
        if dd is None or dd.kind not in ("code", "data") or (dd.kind == "code" and not dd.readable):
            return Fault(10, (v & 0xFFFC) | e, "new " + s), new_cpl
        if (dd.kind == "data" or not dd.conforming) and ((v & 3) > dd.dpl or new_cpl > dd.dpl):
            return Fault(10, (v & 0xFFFC) | e, "new %s privilege" % s), new_cpl
        if not dd.present:
            return Fault(11, (v & 0xFFFC) | e, "new %s not present" % s), new_cpl
    cs = raw["cs"]
    cd = lookup(w, cs, ldt_usable(w)) if cs & 0xFFFC else None
    if cd is None or cd.kind != "code":
        return Fault(10, (cs & 0xFFFC) | e, "new CS"), new_cpl
    if (not cd.conforming and cd.dpl != new_cpl) or (cd.conforming and cd.dpl > new_cpl):
        return Fault(10, (cs & 0xFFFC) | e, "new CS DPL"), new_cpl
    if not cd.present:
        return Fault(11, (cs & 0xFFFC) | e, "new CS not present"), new_cpl
    # TASK-7: the error code on the new task's stack, then the EIP check against the CS limit.
    if err is not None:
        # The generator's stacks: ring 0 in kernel memory, ring 3 in the task's stack pages; anything below
        # 0xb0000000 is unmapped: the push is a write page fault (user-mode at CPL 3), CR2 = the address.
        addr = (c["esp"] - 4) & MASK32
        if addr < 0xB0000000:
            return Fault(14, 6 if new_cpl == 3 else 2, "push of the error code", cr2=addr), new_cpl
        c["esp"] = addr
    if c["eip"] > cd.limit:
        return Fault(13, e, "EIP beyond the new CS limit"), new_cpl
    # TASK-7: the T bit (offset 0x64 bit 0) of the new TSS: a #DB trap once the switch is complete.
    res.debug_trap = bool(new.get("trap"))
    return None, new_cpl


# ---- delivery of a fault through the preset's interrupt gates (INT-5..INT-9) ----

def task_record(w, vector, dpl, from_cpl, to_cpl):
    """The gate record of a task switch through a task gate (format `gate`, TASK-1): the gate's DPL, the CPL
    before the switch and the new task's (its CS.RPL); the stack always changes (the new SS:ESP come from the
    TSS, SDM Vol. 3A §7.3 step 9 / §6.12.2), and IF is the new task's own EFLAGS.IF: a task switch loads
    EFLAGS from the new TSS and, unlike an interrupt gate, clears nothing (SDM Vol. 3A §6.12.2, INT n
    pseudo-code TASK-GATE). `vector` is None for a GDT/LDT task gate named by a far JMP/CALL."""
    r = {"type": "task", "dpl": dpl, "from_cpl": from_cpl, "to_cpl": to_cpl, "stack_switch": True,
         "if": bool(w.cpu["eflags"] & IF)}
    if vector is not None:
        r["vector"] = vector
    return r


def deliver_plain(w, res, vector, code, cpl):
    """A fault delivered through the linux preset's DPL-0 interrupt gate at `vector` (kernel CS)."""
    c = w.cpu
    frame = 4 * (3 + (1 if code is not None else 0))
    if cpl > 0:
        t = w.tss[c["tr"] >> 3]
        esp = t["esp0"]
        frame += 8
        switch = True
        c["ss"] = t["ss0"]
    else:
        esp = c["esp"]
        switch = False
    c["esp"] = (esp - frame) & MASK32
    c["cs"] = KCS
    c["eip"] = HANDLER_BASE + 16 * vector
    c["eflags"] &= ~(IF | TF | NT | RF | VM)
    # INT-9: the preset's DPL-0 interrupt gates clear IF (its handler starts with IF = 0).
    res.delivery = {"vector": vector, "type": "interrupt", "dpl": 0, "from_cpl": cpl, "to_cpl": 0,
                    "stack_switch": switch, "if": False}
    c["cpl"] = 0


def deliver_df(w, res, cpl):
    """#DF (error code 0): through the preset's gate, or through a task gate at vector 8 (the classic
    double-fault task). Any fault while delivering #DF, before or after the switch's commit point, is a
    triple fault: shutdown (DF-4)."""
    res.faults.append((8, 0))
    if 8 not in w.idt:
        deliver_plain(w, res, 8, 0, cpl)
        return
    c = w.cpu
    try:
        post = idt_task(w, res, 8, False, 0, c["eip"])
    except Fault as f2:
        res.faults.append((f2.vector, f2.code))
        res.shutdown = True
        return
    f3, cpl3 = post
    if f3 is not None:
        res.faults.append((f3.vector, f3.code) if f3.cr2 is None else (f3.vector, f3.code, f3.cr2))
        res.shutdown = True
        return
    res.delivery = task_record(w, 8, w.idt[8].dpl, cpl, cpl3)
    if res.debug_trap:
        res.faults.append((1, None))
        deliver_plain(w, res, 1, None, cpl3)


def raise_fault(w, res, f, cpl, first_contributory):
    """Records the fault and delivers it (or #DF if it arose while delivering a contributory one, DF-2).
    The IDT entry may be a task gate (the generator puts one at vector 13 for `exc` events): then the fault
    is delivered by a task switch (EXT = 1, its error code pushed on the new task's stack, TASK-7)."""
    res.faults.append((f.vector, f.code) if f.cr2 is None else (f.vector, f.code, f.cr2))
    if first_contributory and f.vector in CONTRIBUTORY:
        deliver_df(w, res, cpl)
        return
    if f.vector not in w.idt:
        deliver_plain(w, res, f.vector, f.code, cpl)
        return
    c = w.cpu
    c["eflags"] |= RF  # INT-15: a fault sets RF in the EFLAGS image it saves (here in the old TSS)
    try:
        post = idt_task(w, res, f.vector, False, f.code if f.vector in ERROR_CODE_VECTORS else None, c["eip"])
    except Fault as f2:
        raise_fault(w, res, f2, c["cpl"], f.vector in CONTRIBUTORY)
        return
    f3, cpl3 = post
    if f3 is not None:
        raise_fault(w, res, f3, cpl3, f.vector in CONTRIBUTORY)
        return
    res.delivery = task_record(w, f.vector, w.idt[f.vector].dpl, cpl, cpl3)
    if res.debug_trap:
        res.faults.append((1, None))
        deliver_plain(w, res, 1, None, cpl3)


# ---- the events ----

def far_task(w, res, kind, sel):
    """JMP/CALL far SEL:0 where SEL names a TSS or a task gate (SDM JMP/CALL pseudo-code, TASK-2)."""
    c = w.cpu
    cpl = c["cpl"]
    if not sel & 0xFFFC:
        raise Fault(13, 0, "null selector")
    d = lookup(w, sel, ldt_usable(w))
    if d is None:
        raise Fault(13, sel & 0xFFFC, "beyond the table limit")
    if d.kind not in ("tss", "gate"):
        raise Fault(13, sel & 0xFFFC, "not a TSS or a task gate (the generator does not aim elsewhere)")
    if d.kind == "tss":
        # TASK-STATE-SEGMENT: DPL vs CPL and RPL, busy, TI -> #GP(TSS sel); not present -> #NP.
        if d.dpl < cpl or d.dpl < (sel & 3) or d.busy or sel & 4:
            raise Fault(13, sel & 0xFFFC, "TSS DPL / busy")
        if not d.present:
            raise Fault(11, sel & 0xFFFC, "TSS not present")
        tss_sel = sel
    else:
        if d.dpl < cpl or d.dpl < (sel & 3):
            raise Fault(13, sel & 0xFFFC, "task gate DPL")
        if not d.present:
            raise Fault(11, sel & 0xFFFC, "task gate not present")
        tss_sel = d.tss
        res.via_gate = d.dpl
        t = gdt_desc(w, tss_sel)
        if t is None or t.kind != "tss" or t.busy:
            raise Fault(13, tss_sel & 0xFFFC, "gate's TSS not available")
        if not t.present:
            raise Fault(11, tss_sel & 0xFFFC, "gate's TSS not present")
    return task_switch(w, res, tss_sel, kind, None, False, c["eip"] + LEN[kind])


def iret_task(w, res):
    """IRET with NT=1: TASK-RETURN through the back link of the current TSS (FAR-15)."""
    c = w.cpu
    link = w.tss[c["tr"] >> 3].get("link", 0)
    t = gdt_desc(w, link)
    if t is None or link & 4 or t.kind != "tss" or not t.busy:
        raise Fault(10, link & 0xFFFC, "back link")
    if not t.present:
        raise Fault(11, link & 0xFFFC, "back link not present")
    return task_switch(w, res, link, "iret", None, False, c["eip"] + 1)


def idt_task(w, res, vector, software, err, ret_ip):
    """INT n (software) or a hardware exception through an IDT task gate (INT n TASK-GATE pseudo-code)."""
    c = w.cpu
    e = 0 if software else 1
    g = w.idt[vector]
    if software and g.dpl < c["cpl"]:
        raise Fault(13, vector * 8 + 2, "gate DPL")
    if not g.present:
        raise Fault(11, vector * 8 + 2 + e, "gate not present")
    sel = g.tss
    t = gdt_desc(w, sel)
    if t is None or sel & 4 or not sel & 0xFFFC or t.kind != "tss" or t.busy:
        raise Fault(13, (sel & 0xFFFC) | e, "gate's TSS not available")
    if not t.present:
        raise Fault(11, (sel & 0xFFFC) | e, "gate's TSS not present")
    return task_switch(w, res, sel, "int", err, not software, ret_ip)


def run(w, ev):
    """One event: ("jmp", sel) | ("call", sel) | ("int", n) | ("int3", 3) | ("irq", n) | ("exc", bad_ds_selector) | ("iret",)
    | ("load", value): `mov eax, [ADDR]` reading `value` (the generator aims it at a pushed error code)."""
    res = Result()
    c = w.cpu
    kind = ev[0]
    cpl0 = c["cpl"]
    if kind != "irq":
        c["eflags"] &= ~RF  # INT-15: every instruction clears RF at its start (an interrupt keeps it)
    try:
        if kind in ("jmp", "call"):
            post = far_task(w, res, kind, ev[1])
        elif kind == "iret":
            if not c["eflags"] & NT:
                raise RuntimeError("the generator only issues IRET with NT=1")
            post = iret_task(w, res)
        elif kind == "int":
            post = idt_task(w, res, ev[1], True, None, c["eip"] + 2)
        elif kind == "int3":
            # INT3 raises #BP (the format lists it among the step's faults), a software interrupt: the gate's
            # DPL is checked (INT-2) and EXT is 0 (SDM Vol. 2A INT n/INTO/INT3/INT1); the saved EIP follows
            # the one-byte instruction. Through a task gate at vector 3 it is a task switch like INT n.
            res.faults.append((3, None))
            post = idt_task(w, res, 3, True, None, c["eip"] + 1)
        elif kind == "irq":
            # An external interrupt: EXT = 1, no gate DPL check; the saved EIP is the current one.
            post = idt_task(w, res, ev[1], False, None, c["eip"])
        elif kind == "load":
            c["eax"] = ev[1]
            c["eip"] = (c["eip"] + 6) & MASK32
            res.ok = True
            res.cpu = dict(c)
            return res
        elif kind == "exc":
            # `mov ds, SEL` with SEL beyond the GDT: #GP(SEL), a fault (saved EIP = the MOV, RF set in
            # the saved EFLAGS: INT-15), delivered through the task gate at vector 13 with EXT=1.
            raise_fault(w, res, Fault(13, ev[1] & 0xFFFC), c["cpl"], False)
            res.ok = len(res.faults) == 1
            res.cpu = dict(c)
            return res
        else:
            raise ValueError(kind)
    except Fault as f:
        # Before the commit point: the fault belongs to the old task, at its CPL.
        raise_fault(w, res, f, c["cpl"], False)
        res.cpu = dict(c)
        return res
    f, cpl = post
    if f is not None:
        raise_fault(w, res, f, cpl, False)
    else:
        if kind in ("int", "irq", "int3"):
            res.delivery = task_record(w, ev[1], w.idt[ev[1]].dpl, cpl0, cpl)
        elif res.via_gate is not None:
            # A far JMP/CALL through a GDT/LDT task gate: a task gate record without a vector.
            res.delivery = task_record(w, None, res.via_gate, cpl0, cpl)
        if res.debug_trap:
            # #DB (a trap, no error code) in the new task, through the preset's DPL-0 gate at vector 1.
            res.faults.append((1, None))
            deliver_plain(w, res, 1, None, cpl)
        else:
            res.ok = True
    res.cpu = dict(c)
    return res


# ---- IA-32e mode: no task switching (TASK-9) ----

def run64(ev, cpl, gate_dpl):
    """The exceptions an event raises in IA-32e mode, where task switching does not exist (SDM Vol. 3A §7.7,
    TASK-9). ev: ("jmp"|"call", sel) aimed at a 64-bit TSS or a task gate: #GP(sel) (only 64-bit call gates
    are accepted, checked before DPL and present); ("int", n) / ("irq", n) through an IDT task gate: the gate
    type is checked first (INT-4), #GP(n*8+2+EXT); ("exc", sel): `mov ds, sel` beyond the GDT, #GP(sel),
    whose delivery through the task gate at 13 raises #GP(13*8+2+1), contributory twice: #DF;
    ("iret",) with NT=1: #GP(0) (FAR-15)."""
    k = ev[0]
    if k in ("jmp", "call"):
        return [(13, ev[1] & 0xFFFC)]
    if k == "int":
        return [(13, ev[1] * 8 + 2)]
    if k == "int3":
        return [(3, None), (13, 3 * 8 + 2)]  # #BP, then its gate's type: #GP(3*8+2), EXT 0 (software)
    if k == "irq":
        return [(13, ev[1] * 8 + 3)]
    if k == "exc":
        return [(13, ev[1] & 0xFFFC), (13, 13 * 8 + 3), (8, 0)]
    return [(13, 0)]
