"""An independent oracle for segment loads and far transfers in 32-bit protected mode.

Written from the Intel SDM pseudo-code (Vol. 2A/2B: MOV, POP SS, JMP, CALL, RET far; Vol. 3A §5.5-5.8,
§7.3) and shared/spec/machine-rules.md (SEG-1..SEG-6, FAR-1..FAR-14, TASK-2/3), not from the engine's
Swift sources. seg_diff.py generates scenarios, predicts their outcome with this model and checks the
engine against it.

Scope (what the generator produces): ia32 mode, flat data segments (base 0, 4 GiB), 32-bit code
segments (D=1) that are flat or byte-granular with a small limit, 32-bit call gates, task gates and
32-bit TSS descriptors. Every descriptor table read is an implicit supervisor read that cannot fault
(docs/machine-model.md: tables are not read through paging).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

GP, NP, SS, TS = 13, 11, 12, 10
VECTOR_NAMES = {GP: "GP", NP: "NP", SS: "SS", TS: "TS"}


@dataclass
class Desc:
    """One 8-byte descriptor. kind: code, data, empty (all-zero slot), tss, ldt, call_gate, task_gate."""
    kind: str
    dpl: int = 0
    present: bool = True
    conforming: bool = False      # code
    readable: bool = True         # code
    writable: bool = True         # data
    limit: int = 0xFFFF_FFFF      # effective byte limit (code/data/tss)
    busy: bool = False            # tss
    target: int = 0               # call gate: code selector; task gate: TSS selector
    offset: int = 0               # call gate
    params: int = 0               # call gate
    tss: dict = field(default_factory=dict)   # tss: the fields the new task loads

    @property
    def is_code(self) -> bool:
        return self.kind == "code"

    @property
    def is_data(self) -> bool:
        return self.kind == "data"


class Fault(Exception):
    """An exception the instruction raises: vector, error code and the rule that decides it."""

    def __init__(self, vector: int, code: int, rule: str):
        super().__init__(f"#{VECTOR_NAMES.get(vector, vector)}({code:#x}) by {rule}")
        self.vector, self.code, self.rule = vector, code, rule


def sel_index(s: int) -> int:
    return s >> 3


def sel_ti(s: int) -> int:
    return (s >> 2) & 1


def sel_rpl(s: int) -> int:
    return s & 3


def is_null(s: int) -> bool:
    """SEG-2: index 0 and TI 0 (values 0..3)."""
    return (s & 0xFFFC) == 0


def ecode(s: int) -> int:
    """A selector error code: the selector without its RPL (SEG-8; EXT is 0 for an instruction)."""
    return s & 0xFFFC


@dataclass
class SegReg:
    """A segment register: visible selector plus the cached descriptor (None: unusable / null)."""
    sel: int
    desc: Optional[Desc]


@dataclass
class Machine:
    gdt: dict                      # index -> Desc (missing indices are empty slots)
    gdt_limit: int
    ldt: Optional[list]            # LDT entries when LDTR is loaded, else None
    ldt_limit: int
    cpl: int
    segs: dict                     # name -> SegReg
    eip: int
    esp: int
    tss_stacks: dict               # n -> (ss, esp) for the current (32-bit) TSS, n = 0, 1, 2
    tr_sel: int = 0x80
    mem: dict = field(default_factory=dict)   # dword-aligned address -> dword written by the scenario/pushes

    # --- descriptor lookup (SEG-3)
    def lookup(self, s: int) -> Optional[Desc]:
        """The descriptor a selector names, or None when it lies beyond the table limit (or TI=1 and no LDT)."""
        i = sel_index(s)
        if sel_ti(s):
            if self.ldt is None or i * 8 + 7 > self.ldt_limit:
                return None
            return self.ldt[i] if i < len(self.ldt) else Desc("empty", present=False)
        if i * 8 + 7 > self.gdt_limit:
            return None
        return self.gdt.get(i, Desc("empty", present=False))

    # --- memory
    def read32(self, a: int) -> int:
        return self.mem.get(a & 0xFFFF_FFFF, 0)

    def write32(self, a: int, v: int) -> None:
        self.mem[a & 0xFFFF_FFFF] = v & 0xFFFF_FFFF

    # --- MOV Sreg (SDM Vol. 2B MOV; SEG-5, SEG-6)
    def mov_sreg(self, reg: str, s: int) -> None:
        if reg == "ss":
            self._load_ss(s)
            return
        if is_null(s):                                   # SEG-5a
            self.segs[reg] = SegReg(s, None)
            return
        d = self.lookup(s)
        if d is None:                                    # SEG-5b
            raise Fault(GP, ecode(s), "SEG-5b")
        if not (d.is_data or (d.is_code and d.readable)):  # SEG-5c
            raise Fault(GP, ecode(s), "SEG-5c")
        if d.is_data or not d.conforming:                # SEG-5d
            if sel_rpl(s) > d.dpl or self.cpl > d.dpl:
                raise Fault(GP, ecode(s), "SEG-5d")
        if not d.present:                                # SEG-5e
            raise Fault(NP, ecode(s), "SEG-5e")
        self.segs[reg] = SegReg(s, d)

    def _load_ss(self, s: int) -> None:
        if is_null(s):                                   # SEG-6a (protected, not 64-bit mode)
            raise Fault(GP, 0, "SEG-6a")
        d = self.lookup(s)
        if d is None:
            raise Fault(GP, ecode(s), "SEG-6b")
        if sel_rpl(s) != self.cpl:
            raise Fault(GP, ecode(s), "SEG-6c")
        if not (d.is_data and d.writable):
            raise Fault(GP, ecode(s), "SEG-6d")
        if d.dpl != self.cpl:
            raise Fault(GP, ecode(s), "SEG-6e")
        if not d.present:
            raise Fault(SS, ecode(s), "SEG-6f")
        self.segs["ss"] = SegReg(s, d)

    # --- far JMP / CALL (SDM Vol. 2A JMP, CALL; FAR-1..FAR-10, TASK-2)
    def far(self, kind: str, s: int, off: int, length: int = 7) -> Optional[str]:
        """Returns None, or 'task' when a task switch happened (the caller then stops predicting)."""
        ret_ip = (self.eip + length) & 0xFFFF_FFFF
        if is_null(s):
            raise Fault(GP, 0, "FAR-1")
        d = self.lookup(s)
        if d is None:
            raise Fault(GP, ecode(s), "FAR-1")
        if d.is_code:
            # FAR-2: conforming DPL <= CPL; non-conforming RPL <= CPL and DPL == CPL; then P; then EIP.
            if d.conforming:
                if d.dpl > self.cpl:
                    raise Fault(GP, ecode(s), "FAR-2")
            elif sel_rpl(s) > self.cpl or d.dpl != self.cpl:
                raise Fault(GP, ecode(s), "FAR-2")
            if not d.present:
                raise Fault(NP, ecode(s), "FAR-2")
            if off > d.limit:
                raise Fault(GP, 0, "FAR-2")
            if kind == "call":
                self.push(self.segs["cs"].sel)
                self.push(ret_ip)
            self.segs["cs"] = SegReg((s & 0xFFFC) | self.cpl, d)     # FAR-3
            self.eip = off
            return None
        if d.kind == "call_gate":
            self._call_gate(kind, s, d, ret_ip)
            return None
        if d.kind == "tss":
            if d.dpl < self.cpl or d.dpl < sel_rpl(s) or d.busy:
                raise Fault(GP, ecode(s), "TASK-2")
            if not d.present:
                raise Fault(NP, ecode(s), "TASK-2")
            return self._task_switch(kind, s, d)
        if d.kind == "task_gate":
            if d.dpl < self.cpl or d.dpl < sel_rpl(s):
                raise Fault(GP, ecode(s), "TASK-2")
            if not d.present:
                raise Fault(NP, ecode(s), "TASK-2")
            t = d.target
            if sel_ti(t):
                raise Fault(GP, ecode(t), "TASK-2")
            td = self.lookup(t)
            if td is None or td.kind != "tss" or td.busy:
                raise Fault(GP, ecode(t), "TASK-2")
            if not td.present:
                raise Fault(NP, ecode(t), "TASK-2")
            return self._task_switch(kind, t, td)
        raise Fault(GP, ecode(s), "FAR-1")    # data, LDT, empty/reserved system descriptor

    def _call_gate(self, kind: str, gs: int, g: Desc, ret_ip: int) -> None:
        if g.dpl < self.cpl or g.dpl < sel_rpl(gs):                     # FAR-5
            raise Fault(GP, ecode(gs), "FAR-5")
        if not g.present:
            raise Fault(NP, ecode(gs), "FAR-5")
        t = g.target
        if is_null(t):                                                  # FAR-6
            raise Fault(GP, 0, "FAR-6")
        td = self.lookup(t)
        if td is None:
            raise Fault(GP, ecode(t), "FAR-6")
        if kind == "jmp":
            # SDM JMP call-gate path: not code, conforming with DPL > CPL, non-conforming with DPL != CPL.
            if not td.is_code or (td.conforming and td.dpl > self.cpl) or (not td.conforming and td.dpl != self.cpl):
                raise Fault(GP, ecode(t), "FAR-8")
            if not td.present:
                raise Fault(NP, ecode(t), "FAR-8")
            if g.offset > td.limit:
                raise Fault(GP, 0, "FAR-8")
            self.segs["cs"] = SegReg((t & 0xFFFC) | self.cpl, td)
            self.eip = g.offset
            return
        if not td.is_code or td.dpl > self.cpl:                         # FAR-7
            raise Fault(GP, ecode(t), "FAR-7")
        if not td.present:
            raise Fault(NP, ecode(t), "FAR-7")
        if not td.conforming and td.dpl < self.cpl:
            # FAR-9: MORE-PRIVILEGE. The 32-bit TSS holds SSn:ESPn within its limit (0x67).
            n = td.dpl
            nss, nesp = self.tss_stacks[n]
            if is_null(nss):
                raise Fault(TS, 0, "FAR-9")
            sd = self.lookup(nss)
            if sd is None:
                raise Fault(TS, ecode(nss), "FAR-9")
            if sel_rpl(nss) != n or not (sd.is_data and sd.writable) or sd.dpl != n:
                raise Fault(TS, ecode(nss), "FAR-9")
            if not sd.present:
                raise Fault(SS, ecode(nss), "FAR-9")
            if g.offset > td.limit:
                raise Fault(GP, 0, "FAR-9")
            old_ss, old_esp = self.segs["ss"].sel, self.esp
            params = [self.read32(old_esp + 4 * i) for i in range(g.params)]
            sp = nesp
            frame = [old_ss, old_esp] + list(reversed(params)) + [self.segs["cs"].sel, ret_ip]
            for v in frame:
                sp = (sp - 4) & 0xFFFF_FFFF
                self.write32(sp, v)
            self.segs["ss"] = SegReg((nss & 0xFFFC) | n, sd)
            self.esp = sp
            self.segs["cs"] = SegReg((t & 0xFFFC) | n, td)
            self.cpl = n
            self.eip = g.offset
            return
        # FAR-10: same privilege.
        if g.offset > td.limit:
            raise Fault(GP, 0, "FAR-10")
        self.push(self.segs["cs"].sel)
        self.push(ret_ip)
        self.segs["cs"] = SegReg((t & 0xFFFC) | self.cpl, td)
        self.eip = g.offset

    def _task_switch(self, kind: str, s: int, d: Desc) -> str:
        # TASK-3: the new TSS must be at least 0x67 bytes long.
        if d.limit < 0x67:
            raise Fault(TS, ecode(s), "TASK-3")
        f = d.tss
        self.cpl = sel_rpl(f["cs"])
        for r in ("cs", "ss", "ds", "es", "fs", "gs"):
            self.segs[r] = SegReg(f[r], self.lookup(f[r]))
        self.eip, self.esp = f["eip"], f["esp"]
        return "task"

    def push(self, v: int) -> None:
        self.esp = (self.esp - 4) & 0xFFFF_FFFF
        self.write32(self.esp, v)

    # --- RET far (SDM Vol. 2B RET; FAR-12..FAR-14)
    def retf(self, n: int) -> None:
        sp = self.esp
        ip = self.read32(sp)
        cs = self.read32(sp + 4) & 0xFFFF
        if is_null(cs):
            raise Fault(GP, 0, "FAR-12")
        d = self.lookup(cs)
        if d is None:
            raise Fault(GP, ecode(cs), "FAR-12")
        rpl = sel_rpl(cs)
        if not d.is_code or rpl < self.cpl:
            raise Fault(GP, ecode(cs), "FAR-12")
        if d.conforming and d.dpl > rpl:
            raise Fault(GP, ecode(cs), "FAR-12")
        if not d.conforming and d.dpl != rpl:
            raise Fault(GP, ecode(cs), "FAR-12")
        if not d.present:
            raise Fault(NP, ecode(cs), "FAR-12")
        if rpl == self.cpl:
            if ip > d.limit:
                raise Fault(GP, 0, "FAR-12")
            self.segs["cs"] = SegReg(cs, d)
            self.eip = ip
            self.esp = (sp + 8 + n) & 0xFFFF_FFFF
            return
        # FAR-13: return to an outer level.
        new_esp = self.read32(sp + 8 + n)
        ss = self.read32(sp + 12 + n) & 0xFFFF
        if is_null(ss):
            raise Fault(GP, 0, "FAR-13")
        sd = self.lookup(ss)
        if sd is None:
            raise Fault(GP, ecode(ss), "FAR-13")
        if sel_rpl(ss) != rpl or not (sd.is_data and sd.writable) or sd.dpl != rpl:
            raise Fault(GP, ecode(ss), "FAR-13")
        if not sd.present:
            raise Fault(SS, ecode(ss), "FAR-13")
        if ip > d.limit:
            raise Fault(GP, 0, "FAR-13")
        self.cpl = rpl
        self.segs["cs"] = SegReg(cs, d)
        self.eip = ip
        self.segs["ss"] = SegReg(ss, sd)
        self.esp = (new_esp + n) & 0xFFFF_FFFF
        # FAR-14: ES, FS, GS, DS holding data or non-conforming code with DPL < new CPL become null.
        for r in ("es", "fs", "gs", "ds"):
            c = self.segs[r].desc
            if c is None or ((c.is_data or (c.is_code and not c.conforming)) and c.dpl < self.cpl):
                self.segs[r] = SegReg(0, None)
