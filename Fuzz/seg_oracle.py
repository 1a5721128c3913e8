"""An independent oracle for segment loads and far transfers in 32-bit protected mode.

Written from the Intel SDM pseudo-code (Vol. 2A/2B: MOV, POP SS, JMP, CALL, RET far; Vol. 3A §5.5-5.8,
§7.3) and shared/spec/machine-rules.md (SEG-1..SEG-6, FAR-1..FAR-14, TASK-2/3), not from the engine's
Swift sources. seg_diff.py generates scenarios, predicts their outcome with this model and checks the
engine against it.

Scope (what the generator produces): ia32 mode and IA-32e mode (64-bit and compatibility-mode tasks),
flat data segments (base 0, 4 GiB), 32-bit code segments (D=1) that are flat or byte-granular with a
small limit, 64-bit code segments (L=1), 32-bit call gates, task gates and 32-bit TSS descriptors
(ia32), 16-byte call gates and TSS descriptors (IA-32e, whose upper halves read as type-0 system
descriptors). Every descriptor table read is an implicit supervisor read that cannot fault
(docs/machine-model.md: tables are not read through paging).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

GP, NP, SS, TS, PF = 13, 11, 12, 10, 14
VECTOR_NAMES = {GP: "GP", NP: "NP", SS: "SS", TS: "TS", PF: "PF"}


@dataclass
class Desc:
    """One 8-byte descriptor. kind: code, data, empty (all-zero slot), tss, ldt, call_gate, task_gate."""
    kind: str
    dpl: int = 0
    present: bool = True
    conforming: bool = False      # code
    readable: bool = True         # code
    writable: bool = True         # data
    expand_down: bool = False     # data
    # (`big` above is also the B bit of a data segment: a 16-bit stack, SS.B = 0, is addressed with SP)
    base: int = 0                 # code/data (the generator gives a base only to stack segments)
    limit: int = 0xFFFF_FFFF      # effective byte limit (code/data/tss)
    long: bool = False            # code: L bit (IA-32e)
    big: bool = True              # code: D bit
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

    def __init__(self, vector: int, code: int, rule: str, cr2: Optional[int] = None):
        super().__init__(f"#{VECTOR_NAMES.get(vector, vector)}({code:#x}) by {rule}")
        self.vector, self.code, self.rule, self.cr2 = vector, code, rule, cr2


class Refused(Exception):
    """A step the engine must refuse as not modelled (docs/machine-model.md, "deliberate simplifications"):
    a stack access through a null SS outside 64-bit mode, which only a same-level far JMP/CALL/RET from 64-bit
    code into compatibility mode can leave behind (MOV SS, RETF and IRET refuse a null SS there: SEG-6a,
    FAR-13), and for which the SDM states no behaviour."""


MASK64 = (1 << 64) - 1


def canonical(a: int) -> bool:
    """48-bit canonical: bits 63..47 all equal."""
    top = a >> 47
    return top == 0 or top == (1 << 17) - 1


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
    long_mode: bool = False        # IA-32e (EFER.LMA)
    mapped: list = field(default_factory=list)   # [(lo, hi)] linear ranges mapped present+writable (paging-lite)
    rflags: int = 0x202
    prev: Optional[dict] = None    # the task left by a CALL task switch (for IRET with NT=1)
    mem: dict = field(default_factory=dict)   # byte address -> byte written by the scenario/pushes

    @property
    def in64(self) -> bool:
        """64-bit mode: IA-32e with CS.L = 1."""
        c = self.segs["cs"].desc
        return self.long_mode and c is not None and c.long

    @property
    def width(self) -> int:
        """Operand size of far transfers: REX.W forms (8) in 64-bit mode, else CS.D (4, or 2 in 16-bit code)."""
        c = self.segs["cs"].desc
        return 8 if self.in64 else (4 if c is None or c.big else 2)

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
    def stack_addr(self, sp: int, stack64: bool, d: Optional[Desc] = None) -> int:
        """The offset of a stack slot: RSP on a 64-bit stack, else ESP (SS.B = 1) or SP (SS.B = 0)."""
        if stack64:
            return sp & MASK64
        return sp & (0xFFFF if d is not None and not d.big else 0xFFFF_FFFF)

    @staticmethod
    def adv(sp: int, delta: int, stack64: bool, d: Optional[Desc]) -> int:
        """The stack pointer moved by delta with the stack's address size: on a 16-bit stack only SP changes
        (ESP[31:16] stay, SDM Vol. 1 §6.2.3); a 32-bit stack zero-extends ESP."""
        if stack64:
            return (sp + delta) & MASK64
        if d is not None and not d.big:
            return (sp & ~0xFFFF) | ((sp + delta) & 0xFFFF)
        return (sp + delta) & 0xFFFF_FFFF

    def cur_adv(self, sp: int, delta: int) -> int:
        return self.adv(sp, delta, self.in64, self.segs["ss"].desc)

    @staticmethod
    def within(d: Optional[Desc], off: int, w: int) -> bool:
        """SDM Vol. 3A §5.3: expand-up offsets 0..limit; expand-down limit+1..0xFFFFFFFF (B=1)."""
        if d is None:
            return True
        if d.expand_down:
            return off > d.limit and off + w - 1 <= (0xFFFF_FFFF if d.big else 0xFFFF)
        return off + w - 1 <= d.limit

    def touch(self, a: int, w: int, write: bool, cpl: int, rule: str) -> None:
        """#PF (P=0) when a stack access leaves the mapped ranges; U/S from the access's CPL (PG-11, PG-13)."""
        if not self.mapped:
            return
        for lo, hi in self.mapped:
            if lo <= a and a + w <= hi:
                return
        raise Fault(PF, (2 if write else 0) | (4 if cpl == 3 else 0), rule, cr2=a)

    def stack_read(self, sp: int, w: int, rule: str) -> int:
        """A read of the current stack: SS limit (#SS(0)) outside 64-bit mode, then paging."""
        d = self.segs["ss"].desc
        if d is None and not self.in64:
            raise Refused("a pop through a null SS outside 64-bit mode")
        off = self.stack_addr(sp, self.in64, d)
        if self.in64:
            a = off
        else:
            if not self.within(d, off, w):
                raise Fault(SS, 0, rule)
            a = ((d.base if d else 0) + off) & 0xFFFF_FFFF
        self.touch(a, w, False, self.cpl, rule)
        return self.read(a, w)

    def stack_write(self, sp: int, v: int, w: int, cpl: int, stack64: bool, rule: str,
                    ss: Optional[Desc] = None, code: int = 0) -> None:
        """A push onto the stack of segment `ss` (the current SS if None): limit (#SS(code)), then paging."""
        d = ss if ss is not None else self.segs["ss"].desc
        if d is None and not stack64:
            raise Refused("a push through a null SS outside 64-bit mode")
        off = self.stack_addr(sp, stack64, d)
        if stack64:
            a = off
        else:
            if not self.within(d, off, w):
                raise Fault(SS, code, rule)
            a = ((d.base if d else 0) + off) & 0xFFFF_FFFF
        self.touch(a, w, True, cpl, rule)
        self.write(a, v, w)

    def read(self, a: int, w: int) -> int:
        return sum(self.mem.get((a + i) & MASK64, 0) << (8 * i) for i in range(w))

    def write(self, a: int, v: int, w: int) -> None:
        for i in range(w):
            self.mem[(a + i) & MASK64] = (v >> (8 * i)) & 0xFF

    def check_target(self, off: int, d: Desc, rule: str) -> int:
        """The new RIP: canonical for a 64-bit target; else the offset's low 32 bits (SDM: "IF target mode =
        Compatibility mode THEN tempEIP <- tempEIP AND 00000000_FFFFFFFFH"), within the CS limit (#GP(0))."""
        if self.long_mode and d.long:
            if not canonical(off):
                raise Fault(GP, 0, rule)
            return off
        off &= 0xFFFF_FFFF
        if off > d.limit:
            raise Fault(GP, 0, rule)
        return off

    def check_cs(self, s: int, d: Desc, rpl: int, cpl: int, rule: str) -> None:
        """Bochs check_cs / the SDM's code-segment checks: code, not L+D (IA-32e), privilege, present."""
        if not d.is_code:
            raise Fault(GP, ecode(s), rule)
        if self.long_mode and d.long and d.big:
            raise Fault(GP, ecode(s), rule)
        if d.conforming:
            if d.dpl > cpl:
                raise Fault(GP, ecode(s), rule)
        elif rpl > cpl or d.dpl != cpl:
            raise Fault(GP, ecode(s), rule)
        if not d.present:
            raise Fault(NP, ecode(s), rule)

    # --- data accesses through DS: `mov REG, [ADDR]` / `mov [ADDR], REG`
    def data_access(self, off: int, w: int, write: bool, value: int = 0) -> int:
        """A read (returns the value) or write of `w` bytes at DS:off, the checks made on use:
        - 64-bit mode: none of the segment's. SDM Vol. 3A §5.4.1.1 "NULL Segment Checking in 64-bit Mode":
          no #GP for an access through a null DS/ES/FS/GS; §3.4.4 / §5.2.1: DS's base is treated as 0 and
          its limit is not checked; Bochs's 64-bit accessors (cpu/access2.cc write_virtual_dword_64) check
          only the canonical address, not the segment's type, so a read-only or code DS may be written.
        - compatibility mode (and legacy mode): a null DS is #GP(0) (§5.4.1: "any attempt to access a segment
          through one of these registers when it is loaded with a null segment selector results in a #GP"),
          whenever and in whichever mode it was loaded (SEG-5a); a write through a read-only data or a code
          segment is #GP(0) (§5.2 / §5.7: type checking); an offset outside the limit is #GP(0) (SEG-11).
        Then paging (only the mapped ranges exist, P=0 #PF otherwise)."""
        if self.in64:
            a = off & MASK64
        else:
            d = self.segs["ds"].desc
            off &= 0xFFFF_FFFF
            if d is None:
                raise Fault(GP, 0, "SEG-5a")
            if write and not (d.is_data and d.writable):
                raise Fault(GP, 0, "SEG-11")
            if not self.within(d, off, w):
                raise Fault(GP, 0, "SEG-11")
            a = (d.base + off) & 0xFFFF_FFFF
        self.touch(a, w, write, self.cpl, "SEG-5a")
        if write:
            self.write(a, value, w)
            return value
        return self.read(a, w)

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
        if is_null(s):                                   # SEG-6a
            if self.in64 and self.cpl != 3 and sel_rpl(s) == self.cpl:
                self.segs["ss"] = SegReg(s, None)
                return
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

    # --- far JMP / CALL (SDM Vol. 2A JMP, CALL; FAR-1..FAR-11, TASK-2, TASK-9)
    def far(self, kind: str, s: int, off: int, length: int = 7) -> Optional[str]:
        """Returns None, or 'task' when a task switch happened (the caller then stops predicting)."""
        # From 16-bit code (operand size 16) the direct form is CALL/JMP ptr16:16 (9A/EA iw iw): 5 bytes.
        if self.width == 2:
            length = 5
        ret_ip = (self.eip + length) & {8: MASK64, 4: 0xFFFF_FFFF, 2: 0xFFFF}[self.width]
        if is_null(s):
            raise Fault(GP, 0, "FAR-1")
        d = self.lookup(s)
        if d is None:
            raise Fault(GP, ecode(s), "FAR-1")
        if d.is_code or d.is_data:
            # FAR-2: conforming DPL <= CPL; non-conforming RPL <= CPL and DPL == CPL; then P; then RIP.
            self.check_cs(s, d, sel_rpl(s), self.cpl, "FAR-2")
            if kind == "call" and not self.in64 and self.segs["ss"].desc is None:
                raise Refused("CALL's room check on a null SS outside 64-bit mode")
            if kind == "call" and not self.in64:
                # SDM CALL: "IF stack not large enough for return address THEN #SS(0)" before the EIP check.
                w = self.width
                for k in (1, 2):
                    if not self.within(self.segs["ss"].desc, self.stack_addr(self.cur_adv(self.esp, -w * k), False,
                                                                            self.segs["ss"].desc), w):
                        raise Fault(SS, 0, "FAR-4")
            # SDM JMP/CALL: "IF OperandSize = 16 THEN tempEIP <- tempEIP AND 0000FFFFH".
            off = self.check_target(off & 0xFFFF if self.width == 2 else off, d, "FAR-2")
            if kind == "call":
                w = self.width
                self.push(self.segs["cs"].sel, w, "FAR-4")
                self.push(ret_ip, w, "FAR-4")
            self.segs["cs"] = SegReg((s & 0xFFFC) | self.cpl, d)     # FAR-3
            self.eip = off
            return None
        if d.kind == "call_gate":
            self._call_gate(kind, s, d, ret_ip)
            return None
        if self.long_mode:
            # TASK-9 / FAR-5: in IA-32e mode only 64-bit call gates are valid far targets.
            raise Fault(GP, ecode(s), "TASK-9" if d.kind in ("tss", "task_gate") else "FAR-1")
        if d.kind == "tss":
            if d.dpl < self.cpl or d.dpl < sel_rpl(s) or d.busy:
                raise Fault(GP, ecode(s), "TASK-2")
            if not d.present:
                raise Fault(NP, ecode(s), "TASK-2")
            return self._task_switch(kind, s, d, ret_ip)
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
            return self._task_switch(kind, t, td, ret_ip)
        raise Fault(GP, ecode(s), "FAR-1")    # LDT, empty/reserved system descriptor

    def _call_gate(self, kind: str, gs: int, g: Desc, ret_ip: int) -> None:
        if g.dpl < self.cpl or g.dpl < sel_rpl(gs):                     # FAR-5
            raise Fault(GP, ecode(gs), "FAR-5")
        if not g.present:
            raise Fault(NP, ecode(gs), "FAR-5")
        if self.long_mode and self.lookup((gs & 0xFFFF) + 8) is None:
            # FAR-11: the 16-byte gate must lie inside the table (index*8 + 15 <= limit). The upper half is read
            # after the P check (SDM CALL/JMP pseudo-code: #NP(gate) right after the DPL checks; Bochs
            # call_gate64 -> fetch_raw_descriptor_64 and QEMU helper_lcall_protected read it only then).
            raise Fault(GP, ecode(gs), "FAR-11")
        t = g.target
        if is_null(t):                                                  # FAR-6
            raise Fault(GP, 0, "FAR-6")
        td = self.lookup(t)
        if td is None:
            raise Fault(GP, ecode(t), "FAR-6")
        if not td.is_code or td.dpl > self.cpl:                         # FAR-7 (JMP: FAR-8 says the same)
            raise Fault(GP, ecode(t), "FAR-7")
        if self.long_mode and not (td.long and not td.big):             # FAR-11
            raise Fault(GP, ecode(t), "FAR-11")
        if kind == "jmp":
            # FAR-8: non-conforming DPL == CPL (RPL not checked), conforming DPL <= CPL; P; RIP.
            self.check_cs(t, td, 0, self.cpl, "FAR-8")
            self.check_target(g.offset, td, "FAR-8")
            self.segs["cs"] = SegReg((t & 0xFFFC) | self.cpl, td)
            self.eip = g.offset
            return
        if not td.present:
            raise Fault(NP, ecode(t), "FAR-7")
        if not td.conforming and td.dpl < self.cpl:
            n = td.dpl
            nss, nesp = self.tss_stacks[n]
            old_ss, old_esp, old_cs = self.segs["ss"].sel, self.esp, self.segs["cs"].sel
            if self.long_mode:
                # FAR-11: RSPn from the 64-bit TSS, SS = null selector with RPL n, 8-byte pushes, no copy.
                # SDM CALL (MORE-PRIVILEGE, CallGateSize = 64): "IF CallGate(InstructionPointer) is not canonical
                # THEN #GP(0)" comes before the pushes, so a non-canonical offset is #GP(0) even when RSPn is
                # not mapped (the pushes would #PF).
                self.check_target(g.offset, td, "FAR-11")
                frame = [old_ss, old_esp, old_cs, ret_ip]
                sp = nesp
                for v in frame:
                    sp = self.adv(sp, -8, True, None)
                    self.stack_write(sp, v, 8, n, True, "FAR-11")
                self.segs["ss"] = SegReg(n, None)
                self.esp = sp
                self.segs["cs"] = SegReg((t & 0xFFFC) | n, td)
                self.cpl = n
                self.eip = g.offset
                return
            # FAR-9: MORE-PRIVILEGE. The 32-bit TSS holds SSn:ESPn within its limit (0x67).
            if is_null(nss):
                raise Fault(TS, 0, "FAR-9")
            sd = self.lookup(nss)
            if sd is None:
                raise Fault(TS, ecode(nss), "FAR-9")
            if sel_rpl(nss) != n or not (sd.is_data and sd.writable) or sd.dpl != n:
                raise Fault(TS, ecode(nss), "FAR-9")
            if not sd.present:
                raise Fault(SS, ecode(nss), "FAR-9")
            # SDM CALL (MORE-PRIVILEGE): "IF stack does not have room for parameters plus 16 bytes THEN
            # #SS(NewSS)"; "IF CallGate(InstructionPointer) not within new code-segment limit THEN #GP(0)";
            # then the pushes (old SS, ESP, the copied parameters, CS, EIP), which may still #PF.
            probe = nesp
            for _ in range(4 + g.params):
                probe = self.adv(probe, -4, False, sd)
                if not self.within(sd, self.stack_addr(probe, False, sd), 4):
                    raise Fault(SS, ecode(nss), "FAR-9")
            if (g.offset & 0xFFFF_FFFF) > td.limit:
                raise Fault(GP, 0, "FAR-9")
            sp = nesp

            def push_new(v: int) -> None:
                nonlocal sp
                sp = self.adv(sp, -4, False, sd)
                self.stack_write(sp, v, 4, n, False, "FAR-9", ss=sd, code=ecode(nss))
            push_new(old_ss)
            push_new(old_esp)
            params = [self.stack_read(self.cur_adv(old_esp, 4 * i), 4, "FAR-9") for i in range(g.params)]
            for v in reversed(params):
                push_new(v)
            push_new(old_cs)
            push_new(ret_ip)
            self.segs["ss"] = SegReg((nss & 0xFFFC) | n, sd)
            self.esp = sp
            self.segs["cs"] = SegReg((t & 0xFFFC) | n, td)
            self.cpl = n
            self.eip = g.offset
            return
        # FAR-10 / FAR-11: same privilege (8-byte pushes with a 64-bit gate).
        # SDM CALL (SAME-PRIVILEGE): the stack's room for the return address (#SS(0), limits only), then the
        # gate's offset against the CS limit / canonical (#GP(0)), then the pushes (which may #PF).
        w = 8 if self.long_mode else 4
        ssd = self.segs["ss"].desc
        if not self.in64:
            if ssd is None:
                raise Refused("CALL's room check on a null SS outside 64-bit mode")
            for k in (1, 2):
                if not self.within(ssd, self.stack_addr(self.cur_adv(self.esp, -w * k), False, ssd), w):
                    raise Fault(SS, 0, "FAR-10")
        self.check_target(g.offset, td, "FAR-10")
        self.push(self.segs["cs"].sel, w, "FAR-10")
        self.push(ret_ip, w, "FAR-10")
        self.segs["cs"] = SegReg((t & 0xFFFC) | self.cpl, td)
        self.eip = g.offset

    def _task_switch(self, kind: str, s: int, d: Desc, ret_ip: int) -> str:
        """TASK-3..TASK-6 for a new TSS whose contents are valid (the generator writes a valid user context)."""
        # TASK-3: the new TSS must be at least 0x67 bytes long.
        if d.limit < 0x67:
            raise Fault(TS, ecode(s), "TASK-3")
        # TASK-5: the old task's dynamic state goes to its TSS; TASK-4: a CALL links back and sets NT.
        self.prev = {"segs": dict(self.segs), "cpl": self.cpl, "eip": ret_ip, "esp": self.esp,
                     "rflags": self.rflags, "tr": self.tr_sel} if kind == "call" else None
        f = d.tss
        self.cpl = sel_rpl(f["cs"])
        for r in ("cs", "ss", "ds", "es", "fs", "gs"):
            self.segs[r] = SegReg(f[r], self.lookup(f[r]))
        self.eip, self.esp = f["eip"], f["esp"]
        self.rflags = 0x202 | (0x4000 if kind == "call" else 0)
        self.tr_sel = s
        return "task"

    def iret_nested(self, link: int) -> str:
        """IRET with EFLAGS.NT = 1 in legacy mode (FAR-15, SDM IRET TASK-RETURN): back to the task named by the
        current TSS's link field, which must be a busy TSS in the GDT; its contents are a valid user context."""
        if sel_ti(link):
            raise Fault(TS, ecode(link), "FAR-15")
        d = self.lookup(link)
        if d is None:
            raise Fault(TS, ecode(link), "FAR-15")
        if d.kind != "tss" or not d.busy:
            raise Fault(TS, ecode(link), "FAR-15")
        if not d.present:
            raise Fault(NP, ecode(link), "FAR-15")
        if d.limit < 0x67:
            raise Fault(TS, ecode(link), "TASK-3")
        f = d.tss
        self.cpl = sel_rpl(f["cs"])
        for r in ("cs", "ss", "ds", "es", "fs", "gs"):
            self.segs[r] = SegReg(f[r], self.lookup(f[r]))
        self.eip, self.esp = f["eip"], f["esp"]
        self.rflags = 0x202                       # TASK-4: NT from the new TSS (its EFLAGS is 0x202)
        self.tr_sel = link
        return "task"

    def task_return_ok(self) -> bool:
        """Whether IRET with NT=1 back to the CALLing task reloads its state without a fault (TASK-6 checks
        that the SDM states without an order: CS code with the right DPL, SS writable data at CPL, data
        registers null or readable with DPL >= max(CPL, RPL) unless conforming code, all present)."""
        p = self.prev
        if p is None:
            return False
        cpl = p["cpl"]
        cs = p["segs"]["cs"].desc
        if cs is None or not cs.is_code or not cs.present or \
                (cs.dpl > cpl if cs.conforming else cs.dpl != cpl) or (self.long_mode and cs.long):
            return False
        ss = p["segs"]["ss"]
        if ss.desc is None or not (ss.desc.is_data and ss.desc.writable) or ss.desc.dpl != cpl \
                or sel_rpl(ss.sel) != cpl or not ss.desc.present:
            return False
        # A task switch does not save LDTR: the return loads it from the old TSS's LDT field, which the
        # generator never sets (a field not given is zero, scenario-format.md), so every LDT selector of the
        # returning task names an entry of a null LDT: #TS(selector) (TASK-6).
        if any(sel_ti(p["segs"][r].sel) and not is_null(p["segs"][r].sel) for r in ("cs", "ss", "ds", "es", "fs", "gs")):
            return False
        for r in ("ds", "es", "fs", "gs"):
            sr = p["segs"][r]
            if is_null(sr.sel):
                continue
            d = self.lookup(sr.sel)
            if d is None or not (d.is_data or (d.is_code and d.readable)) or not d.present:
                return False
            if (d.is_data or not d.conforming) and (d.dpl < cpl or d.dpl < sel_rpl(sr.sel)):
                return False
        return True

    def task_return(self) -> None:
        """IRET with NT=1 (FAR-15): back to the task named by the back link, its state as saved (TASK-4..6)."""
        p = self.prev
        self.segs = dict(p["segs"])
        self.cpl, self.eip, self.esp, self.rflags, self.tr_sel = p["cpl"], p["eip"], p["esp"], p["rflags"], p["tr"]
        self.prev = None

    def push(self, v: int, w: int, rule: str) -> None:
        """A push on the current stack (the pointer is only updated by the caller's commit in the CPU, but
        a fault here ends the scenario, so updating it at once is equivalent)."""
        esp = self.cur_adv(self.esp, -w)
        self.stack_write(esp, v, w, self.cpl, self.in64, rule)
        self.esp = esp

    # --- RET far (SDM Vol. 2B RET; FAR-12..FAR-14); RETFQ in 64-bit mode
    def retf(self, n: int) -> None:
        self._far_return(n, iret=False, width=self.width)

    # --- IRET (SDM Vol. 2A IRET, protected mode with NT=0; FAR-16, FAR-17, FAR-12..FAR-14)
    def iret(self) -> None:
        """IRET of the mode's default size (IRETQ in 64-bit mode); EFLAGS.NT = 0 and no return to V86."""
        self._far_return(0, iret=True, width=self.width)

    def _far_return(self, n: int, iret: bool, width: int) -> None:
        w = width
        rule = "FAR-16" if iret else "FAR-12"
        sp = self.esp
        ip = self.stack_read(sp, w, rule)
        cs = self.stack_read(self.cur_adv(sp, w), w, rule) & 0xFFFF
        flags = self.stack_read(self.cur_adv(sp, 2 * w), w, rule) if iret else None
        top = 3 * w if iret else 2 * w                  # bytes of IP, CS [, FLAGS]
        if is_null(cs):
            raise Fault(GP, 0, "FAR-12")
        d = self.lookup(cs)
        if d is None:
            raise Fault(GP, ecode(cs), "FAR-12")
        rpl = sel_rpl(cs)
        if rpl < self.cpl:
            raise Fault(GP, ecode(cs), "FAR-12")
        self.check_cs(cs, d, rpl, rpl, "FAR-12")
        mask = MASK64 if self.in64 else 0xFFFF_FFFF
        outer = rpl > self.cpl
        # An IRET that began in 64-bit mode always pops SS:RSP (SDM IRET "IF instruction began in 64-Bit Mode").
        pops_stack = outer or (iret and self.in64)
        if not pops_stack:
            ip = self.check_target(ip, d, "FAR-12")
            self.esp = self.cur_adv(sp, top + n)        # with the stack size before CS changes
            self.segs["cs"] = SegReg(cs, d)
            self.eip = ip
            if iret:
                self._load_flags(flags, w)
            return
        # FAR-13: pop SS:ESP (an outer return, or any IRET from 64-bit mode).
        new_esp = self.stack_read(self.cur_adv(sp, top + n), w, "FAR-13")
        ss = self.stack_read(self.cur_adv(sp, top + w + n), w, "FAR-13") & 0xFFFF
        if is_null(ss):
            # A null SS only into 64-bit mode at CPL 0-2, with RPL = that CPL (SDM IRET IA-32e-MODE-RETURN,
            # Vol. 3A 6.15 #GP; Bochs and QEMU skip the RPL test).
            if not (self.long_mode and d.long and rpl != 3) or sel_rpl(ss) != rpl:
                raise Fault(GP, 0, "FAR-13")
            sd = None
        else:
            sd = self.lookup(ss)
            if sd is None:
                raise Fault(GP, ecode(ss), "FAR-13")
            if sel_rpl(ss) != rpl or not (sd.is_data and sd.writable) or sd.dpl != rpl:
                raise Fault(GP, ecode(ss), "FAR-13")
            if not sd.present:
                raise Fault(SS, ecode(ss), "FAR-13")
        ip = self.check_target(ip, d, "FAR-13")
        if iret:
            self._load_flags(flags, w)
        self.cpl = rpl
        self.segs["cs"] = SegReg(cs, d)
        self.eip = ip
        self.segs["ss"] = SegReg(ss, sd)
        old_esp = self.esp
        self.esp = (new_esp + (n if outer else 0)) & mask
        if sd is not None and not sd.big and not (self.long_mode and d.long):
            if iret:
                # An IRET to a 16-bit stack segment (B = 0) restores SP only: ESP[31:16] (RSP[63:16]) keep the
                # inner stack's bits (Linux arch/x86/kernel/espfix_64.c; Bochs iret_protected, QEMU
                # helper_ret_protected), whatever the operand size; the SDM's "ESP <- Pop()" says otherwise.
                self.esp = (old_esp & ~0xFFFF & mask) | (new_esp & 0xFFFF)
            elif outer and n:
                # RETF imm16 to a 16-bit outer stack releases the parameters from SP only (SDM Vol. 1 6.2.3).
                self.esp = (new_esp & ~0xFFFF & mask) | ((new_esp + n) & 0xFFFF)
        if not outer:
            return
        # FAR-14: ES, FS, GS, DS holding data or non-conforming code with DPL < new CPL become null
        # (a null/unusable register has DPL 0 in its cache, Bochs load_null_selector).
        for r in ("es", "fs", "gs", "ds"):
            c = self.segs[r].desc
            if c is None or ((c.is_data or (c.is_code and not c.conforming)) and c.dpl < self.cpl):
                self.segs[r] = SegReg(0, None)

    def _load_flags(self, f: int, w: int) -> None:
        """FAR-17 at the CPL before the return: IF only if CPL <= IOPL; IOPL, VIF, VIP only at CPL 0; VM stays;
        RF, AC, ID, NT and the arithmetic/TF/DF flags always; IRETW loads FLAGS[15:0] only."""
        IF, IOPL, VM, VIF, VIP = 0x200, 0x3000, 0x2_0000, 0x8_0000, 0x10_0000
        mask = 0x3F_7FD5 & ~(VM | VIF | VIP | IOPL | IF)
        iopl = (self.rflags >> 12) & 3
        if self.cpl <= iopl:
            mask |= IF
        if self.cpl == 0:
            mask |= IOPL | VIF | VIP
        if w == 2:
            mask &= 0xFFFF
        self.rflags = (self.rflags & ~mask) | (f & mask) | 2
