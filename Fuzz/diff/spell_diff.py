#!/usr/bin/env python3
"""Metamorphic test of the scenario format: every shipped scenario rewritten with spellings the format
says are equivalent must give the same outcome (status, number of checks, failures, warnings of
`ringspec run --format json`) and the same trace (`ringspec explain`, line numbers aside).

Each transform below is one documented equivalence (scenario-format.md, docs/format.md); a document it
does not apply to is left as written. For every transform the whole suite is copied into a work folder
with the rewritten documents, and only the files that changed are run and explained.
Python 3 standard library only (yamlsub.py reads and writes the YAML subset the scenarios use).

    python3 Fuzz/diff/spell_diff.py [--only T,T] [--list] [--keep DIR] [--show N] [-v]

Exit status 0 when every rewritten scenario agrees with its original.
"""

import argparse
import concurrent.futures
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import yamlsub as Y  # noqa: E402
from yamlsub import Alias, Map, Scalar, Seq  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))

# ---------------------------------------------------------------------------------------------
# Facts the transforms need (from the format and the SDM / Linux tables, not from the engine)

# SDM Vol. 3A Table 6-1 (mnemonic, vector, title)
EXCEPTIONS = [("DE", 0, "divide error"), ("DB", 1, "debug exception"), ("BP", 3, "breakpoint"), ("OF", 4, "overflow"),
              ("BR", 5, "BOUND range exceeded"), ("UD", 6, "invalid opcode"), ("NM", 7, "device not available"),
              ("DF", 8, "double fault"), ("TS", 10, "invalid TSS"), ("NP", 11, "segment not present"),
              ("SS", 12, "stack-segment fault"), ("GP", 13, "general protection"), ("PF", 14, "page fault"),
              ("MF", 16, "x87 FPU floating-point error"), ("AC", 17, "alignment check"), ("MC", 18, "machine check")]
EXC_BY_NAME = {n: v for n, v, _ in EXCEPTIONS}
EXC_BY_NUM = {v: n for n, v, _ in EXCEPTIONS}
EXC_TITLE = {n: t for n, _, t in EXCEPTIONS}

# Linux arch/x86/entry/syscalls/syscall_32.tbl and syscall_64.tbl (the names the scenarios use)
SYS_I386 = {"restart_syscall": 0, "exit": 1, "fork": 2, "read": 3, "write": 4, "open": 5, "close": 6,
            "waitpid": 7, "execve": 11, "getpid": 20, "pause": 29, "kill": 37, "dup": 41, "brk": 45,
            "dup2": 63, "getppid": 64, "mmap": 90, "munmap": 91, "stat": 106, "wait4": 114, "clone": 120,
            "mprotect": 125, "sched_yield": 158, "nanosleep": 162, "mmap2": 192, "exit_group": 252}
SYS_X64 = {"read": 0, "write": 1, "open": 2, "close": 3, "stat": 4, "mmap": 9, "mprotect": 10, "munmap": 11,
           "brk": 12, "sched_yield": 24, "dup": 32, "dup2": 33, "pause": 34, "nanosleep": 35, "getpid": 39,
           "clone": 56, "fork": 57, "execve": 59, "exit": 60, "wait4": 61, "kill": 62, "getppid": 110,
           "restart_syscall": 219, "exit_group": 231}

# The linux preset's GDT (scenario-format.md names the entries; the indices are Linux's GDT layout:
# arch/x86/include/asm/segment.h, GDT_ENTRY_KERNEL_CS 12 in i386, 2 in x86_64, ...)
PRESET_GDT = {"ia32": {"kernel_cs": 12, "kernel_ds": 13, "user_cs": 14, "user_ds": 15, "tss": 16},
              "x86_64": {"kernel_cs": 2, "kernel_ds": 3, "user32_cs": 4, "user_ds": 5, "user_cs": 6, "tss": 8}}

MSRS = {"IA32_SYSENTER_CS": 0x174, "IA32_SYSENTER_ESP": 0x175, "IA32_SYSENTER_EIP": 0x176,
        "IA32_EFER": 0xC0000080, "IA32_STAR": 0xC0000081, "IA32_LSTAR": 0xC0000082, "IA32_CSTAR": 0xC0000083,
        "IA32_FMASK": 0xC0000084, "IA32_KERNEL_GS_BASE": 0xC0000102}
MSR_BY_NUM = {v: k for k, v in MSRS.items()}

SREGS = ("cs", "ss", "ds", "es", "fs", "gs")

INT_RE = re.compile(r"^[-+]?(0x[0-9a-fA-F_]+|0b[01_]+|0o[0-7_]+|0|[1-9][0-9_]*)$")


def to_int(raw):
    r = raw.strip()
    if r and r[0] in "\"'":
        r = r[1:-1]
    if not INT_RE.match(r):
        return None
    return int(r.replace("_", ""), 0)


def S(x):
    return Scalar(str(x))


def text(n):
    return n.text() if isinstance(n, Scalar) else None


def is_none(n):
    return isinstance(n, Scalar) and n.text().lower() in ("none", "")


# ---------------------------------------------------------------------------------------------
# A document's context


class Doc:
    def __init__(self, tree):
        self.t = tree
        m = tree.get("machine")
        self.machine = m if isinstance(m, Map) else Map()
        self.mode = text(self.machine.get("mode")) or "x86_64"
        self.preset = text(self.machine.get("preset")) or "linux"
        self.extends = tree.get("extends") is not None
        k = tree.get("kernel")
        self.bare = isinstance(k, Scalar) and k.text() == "none"

    def steps(self):
        s = self.t.get("steps")
        return s.items if isinstance(s, Seq) else []

    def processes(self):
        p = self.t.get("processes")
        return [x for x in p.items if isinstance(x, Map)] if isinstance(p, Seq) else []

    def gdt_names(self):
        """name -> (index, ti), or None when the names cannot be worked out here."""
        if self.extends:
            return None
        names = {}
        g = self.machine.get("gdt")
        if self.preset == "linux" and not isinstance(g, Seq):
            names = {n: (i, 0) for n, i in PRESET_GDT[self.mode].items()}
        if isinstance(g, Map):
            for k, v in g.items:
                i = to_int(k.raw)
                if i is None:
                    return None
                for n, (j, _) in list(names.items()):
                    if j == i:
                        del names[n]
                if isinstance(v, Map) and text(v.get("name")):
                    names[text(v.get("name"))] = (i, 0)
        elif isinstance(g, Seq):
            for i, v in enumerate(g.items):
                if isinstance(v, Map) and text(v.get("name")):
                    names[text(v.get("name"))] = (i, 0)
        ld = self.machine.get("ldt")
        if isinstance(ld, Map):
            for k, v in ld.items:
                i = to_int(k.raw)
                if i is not None and isinstance(v, Map) and text(v.get("name")) and text(v.get("name")) not in names:
                    names[text(v.get("name"))] = (i, 1)
        elif isinstance(ld, Seq):
            for i, v in enumerate(ld.items):
                if isinstance(v, Map) and text(v.get("name")) and text(v.get("name")) not in names:
                    names[text(v.get("name"))] = (i, 1)
        return names

    def via(self, step_sys):
        v = text(step_sys.get("via")) if isinstance(step_sys, Map) else None
        if v:
            return v
        if self.extends:
            return None
        bits = [text(p.get("bits")) for p in self.processes()]
        if self.mode == "ia32" or (bits and all(b == "32" for b in bits)):
            return "int80"
        if all(b in (None, "64") for b in bits):
            return "syscall"
        return None


def each_expect(doc):
    for st in doc.steps():
        if isinstance(st, Map) and isinstance(st.get("expect"), Map):
            yield st.get("expect")


# ---------------------------------------------------------------------------------------------
# Transforms. Each takes a Doc and rewrites doc.t in place; it returns True when it changed anything.


def _exc_rewrite(doc, fn, vectors=True, idt=True):
    """fn(Scalar) -> node or None: applied to every exception spelling (fault, faults items,
    fault.vector, gate.vector, idt keys)."""
    changed = False

    def sub(node):
        nonlocal changed
        if isinstance(node, Scalar) and not is_none(node):
            r = fn(node)
            if r is not None:
                changed = True
                return r
        return node

    for ex in each_expect(doc):
        for key in ("fault",):
            f = ex.get(key)
            if isinstance(f, Scalar):
                ex.set(key, sub(f))
            elif isinstance(f, Map) and f.get("vector") is not None and vectors:
                f.set("vector", sub(f.get("vector")))
        fs = ex.get("faults")
        if isinstance(fs, Seq):
            for i, it in enumerate(fs.items):
                if isinstance(it, Scalar):
                    fs.items[i] = sub(it)
                elif isinstance(it, Map) and it.get("vector") is not None and vectors:
                    it.set("vector", sub(it.get("vector")))
        g = ex.get("gate")
        if isinstance(g, Map) and g.get("vector") is not None and vectors:
            v = g.get("vector")
            n = exc_num(v)
            if n is not None and n < 32:
                g.set("vector", sub(v))
    if idt:
        t = doc.machine.get("idt")
        if isinstance(t, Map):
            for it in t.items:
                n = exc_num(it[0])
                if n is not None and n < 32:
                    r = fn(it[0])
                    if r is not None and isinstance(r, Scalar):
                        it[0] = r
                        changed = True
    return changed


def exc_num(node):
    if not isinstance(node, Scalar):
        return None
    t = node.text().strip()
    n = to_int(t)
    if n is not None:
        return n
    for n, v, title in EXCEPTIONS:
        if t.lower() == title.lower():
            return v
    t = t.lstrip("#").upper()
    return EXC_BY_NAME.get(t)


def exc_name(node):
    n = exc_num(node)
    return EXC_BY_NUM.get(n) if n is not None else None


def t_exc_number(doc):
    """exception names -> vector numbers (fault, faults, fault/gate.vector, idt keys)"""
    return _exc_rewrite(doc, lambda s: S(exc_num(s)) if exc_name(s) and to_int(s.text()) is None else None)


def t_exc_hex(doc):
    """exception names and numbers -> hex vector numbers (0xe)"""
    return _exc_rewrite(doc, lambda s: S(hex(exc_num(s))) if exc_name(s) else None)


def t_exc_hash(doc):
    """exception names and numbers -> \"#PF\""""
    return _exc_rewrite(doc, lambda s: Scalar('"#%s"' % exc_name(s)) if exc_name(s) else None)


def t_exc_hash_lower(doc):
    """exception names and numbers -> \"#pf\""""
    return _exc_rewrite(doc, lambda s: Scalar('"#%s"' % exc_name(s).lower()) if exc_name(s) else None)


def t_exc_title(doc):
    """exception names and numbers -> the SDM's title (page fault)"""
    return _exc_rewrite(doc, lambda s: Scalar(EXC_TITLE[exc_name(s)]) if exc_name(s) else None)


def t_exc_name(doc):
    """numbers -> short names"""
    return _exc_rewrite(doc, lambda s: S(exc_name(s)) if exc_name(s) and to_int(s.text()) is not None else None)


def t_exc_map(doc):
    """fault: X -> fault: {vector: X}; faults items likewise"""
    changed = False
    for ex in each_expect(doc):
        f = ex.get("fault")
        if isinstance(f, Scalar) and not is_none(f):
            ex.set("fault", Map([[S("vector"), f]]))
            changed = True
        fs = ex.get("faults")
        if isinstance(fs, Seq):
            for i, it in enumerate(fs.items):
                if isinstance(it, Scalar) and not is_none(it):
                    fs.items[i] = Map([[S("vector"), it]])
                    changed = True
    return changed


def _syscalls(doc, fn):
    changed = False
    for st in doc.steps():
        if isinstance(st, Map) and isinstance(st.get("syscall"), Map):
            sc = st.get("syscall")
            via = doc.via(sc)
            nr = sc.get("nr")
            if via is None or not isinstance(nr, Scalar):
                continue
            bits = {text(p.get("bits")) for p in doc.processes()}
            if via == "syscall" and (doc.extends or "32" in bits):
                continue     # a 32-bit task's SYSCALL (AMD) looks its number up in the i386 table
            table = SYS_X64 if via == "syscall" else SYS_I386
            r = fn(nr, table)
            if r is not None:
                sc.set("nr", r)
                changed = True
    return changed


def t_sys_number(doc):
    """syscall names -> numbers of the entry's table (i386 for int80/sysenter, x86_64 for syscall)"""
    return _syscalls(doc, lambda nr, tb: S(tb[nr.text()]) if nr.text() in tb else None)


def t_sys_name(doc):
    """syscall numbers -> names of the entry's table"""
    def f(nr, tb):
        n = to_int(nr.text())
        for k, v in tb.items():
            if v == n:
                return S(k)
        return None
    return _syscalls(doc, f)


# -- selectors


def _sel_parse(raw, names):
    """(index, ti, rpl) of a selector spelling, or None."""
    if isinstance(raw, Map):
        i, ti, rpl = to_int(raw.get("index").raw) if raw.get("index") else None, text(raw.get("ti")) or "gdt", \
            to_int(raw.get("rpl").raw) if raw.get("rpl") else 0
        if i is None or rpl is None:
            return None
        return (i, 1 if ti == "ldt" else 0, rpl)
    if not isinstance(raw, Scalar):
        return None
    t = raw.text().strip()
    n = to_int(t)
    if n is not None:
        return (n >> 3, (n >> 2) & 1, n & 3) if 0 <= n < 0x10000 else None
    m = re.match(r"^([A-Za-z_][\w.-]*)(?::(\d+))?$", t)
    if m and names is not None and m.group(1) in names:
        i, ti = names[m.group(1)]
        return (i, ti, int(m.group(2) or 0))
    return None


def _sel_positions(doc):
    """Yield (container, key) for every YAML selector position."""
    for p in doc.processes():
        c = p.get("context")
        if isinstance(c, Map):
            for r in SREGS:
                if c.get(r) is not None:
                    yield c, r, False
    for ex in each_expect(doc):
        rg = ex.get("regs")
        if isinstance(rg, Map):
            for r in SREGS + ("tr", "ldtr"):
                if rg.get(r) is not None:
                    yield rg, r, False
        f = ex.get("fault")
        for fe in ([f] + (ex.get("faults").items if isinstance(ex.get("faults"), Seq) else [])):
            if isinstance(fe, Map) and isinstance(fe.get("error_code"), Map) and fe.get("error_code").get("selector") is not None:
                yield fe.get("error_code"), "selector", True
    for tbl in ("idt", "gdt"):
        t = doc.machine.get(tbl)
        vals = t.items if isinstance(t, Map) else ([[None, x] for x in t.items] if isinstance(t, Seq) else [])
        for _, v in vals:
            if isinstance(v, Map):
                if v.get("selector") is not None:
                    yield v, "selector", False
                if text(v.get("type")) in ("task", "task_gate") and isinstance(v.get("tss"), (Scalar, Map)):
                    yield v, "tss", False


def _exec_selectors(doc, fn):
    """Rewrite the selector of `mov SREG, SEL` and far call/jmp in exec strings with fn((i,ti,rpl), token)."""
    names = doc.gdt_names()
    changed = False
    for st in doc.steps():
        if not isinstance(st, Map) or not isinstance(st.get("exec"), Scalar):
            continue
        e = st.get("exec").text()
        m = re.match(r"^(\s*mov\s+(?:ds|es|fs|gs|ss)\s*,\s*)(\S+)\s*$", e, re.I)
        new = None
        if m:
            sel = _sel_parse(Scalar(m.group(2)), names) if not re.match(r"^[re]?[a-d]x$|^[re]?[sd]i$|^r\d+", m.group(2), re.I) else None
            if sel:
                r = fn(sel, m.group(2))
                if r:
                    new = m.group(1) + r
        m = re.match(r"^(\s*(?:call|jmp)\s+far\s+)([^\s:]+(?::\d+)?):([^:\s]+)\s*$", e, re.I)
        if m and new is None:
            sel = _sel_parse(Scalar(m.group(2)), names)
            if sel:
                r = fn(sel, m.group(2))
                if r:
                    new = m.group(1) + r + ":" + m.group(3)
        if new is not None and new != e:
            st.set("exec", Scalar(json.dumps(new)))
            changed = True
    return changed


def _sel_rewrite(doc, fn, in_exec=True):
    names = doc.gdt_names()
    if names is None:
        return False
    changed = False
    for cont, key, is_err in _sel_positions(doc):
        v = cont.get(key)
        sel = _sel_parse(v, names)
        if sel is None:
            continue
        if is_err and sel[2] != 0:
            continue
        r = fn(sel, v, is_err)
        if r is not None:
            cont.set(key, r)
            changed = True
    if in_exec:
        changed |= _exec_selectors(doc, lambda sel, tok: (fn(sel, Scalar(tok), False) or Scalar(tok)).text()
                                   if not isinstance(fn(sel, Scalar(tok), False), Map) else None)
    return changed


def _is_name(v):
    return isinstance(v, Scalar) and to_int(v.text()) is None


def t_sel_number(doc):
    """selector names (NAME, NAME:RPL) -> numbers, in YAML and in exec operands"""
    return _sel_rewrite(doc, lambda sel, v, e: S(hex(sel[0] * 8 + sel[1] * 4 + sel[2])) if _is_name(v) else None)


def t_sel_map(doc):
    """selector names -> {index, ti, rpl}, in YAML and in exec operands"""
    def f(sel, v, e):
        if not _is_name(v) or e:
            return None
        return Map([[S("index"), S(sel[0])], [S("ti"), S("ldt" if sel[1] else "gdt")], [S("rpl"), S(sel[2])]])
    changed = _sel_rewrite(doc, f, in_exec=False)
    names = doc.gdt_names()
    if names is not None:
        changed |= _exec_selectors(doc, lambda sel, tok: "{index: %d, ti: %s, rpl: %d}" % (sel[0], "ldt" if sel[1] else "gdt", sel[2])
                                   if to_int(tok) is None else None)
    return changed


def t_sel_name(doc):
    """selector numbers -> NAME or NAME:RPL"""
    names = doc.gdt_names()
    if names is None:
        return False
    inv = {}
    for n, k in sorted(names.items()):
        inv.setdefault(k, n)

    def f(sel, v, e):
        if _is_name(v) or isinstance(v, Map) or (sel[0], sel[1]) not in inv:
            return None
        n = inv[(sel[0], sel[1])]
        if sel[1] and n is None:
            return None
        return S(n if sel[2] == 0 else "%s:%d" % (n, sel[2]))
    return _sel_rewrite(doc, f)


# -- wait / schedule


def toggle_short_form(st, key, inner, accept):
    """An event's short form and its one-key map, each turned into the other: `key: V` (a scalar that
    `accept` takes) -> `key: {inner: V}`, and `key: {inner: V}` -> `key: V`. True when it changed."""
    v = st.get(key)
    if isinstance(v, Scalar) and accept(v):
        st.set(key, Map([[S(inner), v]]))
        return True
    if isinstance(v, Map) and v.keys() == [inner]:
        st.set(key, v.get(inner))
        return True
    return False


def t_wait_forms(doc):
    """wait: {} <-> {pid: -1} <-> bare - wait; wait: N <-> {pid: N}"""
    changed = False
    s = doc.t.get("steps")
    if not isinstance(s, Seq):
        return False
    for i, st in enumerate(s.items):
        if isinstance(st, Scalar) and st.text() == "wait":
            s.items[i] = Map([[S("wait"), Map()]])
            changed = True
        elif isinstance(st, Map) and st.get("wait") is not None:
            w = st.get("wait")
            if isinstance(w, Map) and not w.items:
                st.set("wait", Map([[S("pid"), S(-1)]]))
                changed = True
            elif isinstance(w, Map) and w.keys() == ["pid"] and to_int(w.get("pid").raw) == -1:
                if st.keys() == ["wait"]:
                    s.items[i] = S("wait")
                else:
                    st.set("wait", Map())
                changed = True
            elif toggle_short_form(st, "wait", "pid", lambda v: to_int(v.raw) is not None):
                changed = True
    return changed


def t_schedule_forms(doc):
    """schedule: {} <-> bare - schedule"""
    changed = False
    s = doc.t.get("steps")
    if not isinstance(s, Seq):
        return False
    for i, st in enumerate(s.items):
        if isinstance(st, Scalar) and st.text() == "schedule":
            s.items[i] = Map([[S("schedule"), Map()]])
            changed = True
        elif isinstance(st, Map) and st.keys() == ["schedule"] and isinstance(st.get("schedule"), Map) and not st.get("schedule").items:
            s.items[i] = S("schedule")
            changed = True
    return changed


# -- numbers

NUM_SKIP = {"scenario", "description", "tags", "trace", "output", "stdout", "stdin", "files", "exec", "name",
            "perm", "via", "nr", "extends"}


# keys whose 1 and 0 are booleans (docs/format.md), not numbers to respell
BOOL_KEYS = {"p", "w", "u", "rsvd", "i", "pk", "present", "writable", "user", "nx", "global", "accessed", "dirty",
             "reserved", "if", "ac", "tf", "df", "nt", "of", "cf", "rf", "zf", "sf", "wp", "am", "pse", "pae", "pge",
             "smep", "smap", "pke", "pcide", "sce", "nxe", "busy", "conforming", "readable", "long", "expand_down",
             "idt", "ext", "shutdown", "implicit", "populate", "grows_down", "trap", "stack_switch", "partial",
             "preempt", "ti", "nw", "cd", "pg", "pe", "vme", "pvi", "tsd", "de", "mce", "pce", "osfxsr", "umip"}


def _renumber(node, fn, key=None):
    """Rewrite plain integer scalars (values and map keys) with fn(int, raw) -> str or None."""
    changed = False
    if isinstance(node, Map):
        for it in node.items:
            k = it[0].text()
            if k in NUM_SKIP and key not in ("gdt", "ldt", "idt", "msrs", "files"):
                continue
            if key in ("gdt", "ldt", "idt", "msrs") and it[0].plain and to_int(it[0].raw) is not None:
                r = fn(to_int(it[0].raw), it[0].raw)
                if r:
                    it[0] = Scalar(r, it[0].anchor)  # an anchored scalar keeps its anchor for its aliases
                    changed = True
            if isinstance(it[1], Scalar):
                if k in BOOL_KEYS and it[1].raw in ("0", "1"):
                    continue
                if it[1].plain and to_int(it[1].raw) is not None:
                    r = fn(to_int(it[1].raw), it[1].raw)
                    if r:
                        it[1] = Scalar(r, it[1].anchor)
                        changed = True
            else:
                changed |= _renumber(it[1], fn, k)
    elif isinstance(node, Seq):
        for i, x in enumerate(node.items):
            if isinstance(x, Scalar):
                if x.plain and to_int(x.raw) is not None and key not in NUM_SKIP:
                    r = fn(to_int(x.raw), x.raw)
                    if r:
                        node.items[i] = Scalar(r, x.anchor)
                        changed = True
            else:
                changed |= _renumber(x, fn, key)
    return changed


def _fmt_hex(n):
    return ("-" if n < 0 else "") + hex(abs(n))


def t_hex(doc):
    """decimal integers -> 0x hex (values and gdt/ldt/idt/msrs keys)"""
    return _renumber(doc.t, lambda n, raw: _fmt_hex(n) if not raw.lstrip("-+").startswith("0x") else None)


def t_decimal(doc):
    """hex, binary, octal and _-separated integers -> decimal"""
    return _renumber(doc.t, lambda n, raw: str(n) if raw.lstrip("-+")[:2] in ("0x", "0b", "0o") or "_" in raw else None)


def t_quoted_numbers(doc):
    """A quoted number is the same number wherever a number is expected (syscall args excepted)."""
    def go(node, key=None):
        ch = False
        if isinstance(node, Map):
            for it in node.items:
                k = it[0].text()
                if k in NUM_SKIP or k == "args":
                    continue
                v = it[1]
                if isinstance(v, Scalar) and v.plain and to_int(v.raw) is not None:
                    it[1] = Scalar('"%s"' % v.raw, v.anchor)
                    ch = True
                else:
                    ch |= go(v, k)
        elif isinstance(node, Seq):
            for x in node.items:
                ch |= go(x, key)
        return ch
    return go(doc.t)


def _bools(node, yes, no):
    ch = False
    if isinstance(node, Map):
        for it in node.items:
            k = it[0].text()
            if k in NUM_SKIP:
                continue
            v = it[1]
            if isinstance(v, Scalar) and v.plain and k in BOOL_KEYS and v.raw in ("true", "false"):
                it[1] = Scalar(yes if v.raw == "true" else no)
                ch = True
            else:
                ch |= _bools(v, yes, no)
    elif isinstance(node, Seq):
        for x in node.items:
            ch |= _bools(x, yes, no)
    return ch


def t_bool_yes(doc):
    """booleans true/false -> YAML 1.1's yes/no (On/Off for some)"""
    return _bools(doc.t, "yes", "Off")


def t_bool_digits(doc):
    """booleans true/false -> 1/0"""
    return _bools(doc.t, "1", "0")


def t_exec_asm_hex(doc):
    """0x numbers in exec operands -> the assembler's 80h form"""
    changed = False
    for st in doc.steps():
        if isinstance(st, Map) and isinstance(st.get("exec"), Scalar):
            e = st.get("exec").text()

            def rep(m):
                h = m.group(1).replace("_", "").lower()
                return ("0" + h if h[0] in "abcdef" else h) + "h"
            new = re.sub(r"(?<![\w.:])0x([0-9a-fA-F_]+)(?![\w:])", rep, e)
            if new != e:
                st.set("exec", Scalar(json.dumps(new)))
                changed = True
    return changed


# asm-generic/errno-base.h and errno.h
ERRNO = {"EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7, "ENOEXEC": 8,
         "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13, "EFAULT": 14, "ENOTBLK": 15,
         "EBUSY": 16, "EEXIST": 17, "EXDEV": 18, "ENODEV": 19, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22,
         "ENFILE": 23, "EMFILE": 24, "ENOTTY": 25, "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29,
         "EROFS": 30, "EMLINK": 31, "EPIPE": 32, "EDOM": 33, "ERANGE": 34, "ENOSYS": 38}
# asm-generic/signal.h (x86)
SIGNALS = {"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6, "SIGBUS": 7,
           "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12, "SIGPIPE": 13, "SIGALRM": 14,
           "SIGTERM": 15, "SIGCHLD": 17, "SIGCONT": 18, "SIGSTOP": 19}


def t_errno(doc):
    """returns: -EFAULT <-> -14 (and EFAULT, -efault)"""
    changed = False
    for ex in each_expect(doc):
        r = ex.get("returns")
        if isinstance(r, Scalar) and r.plain:
            t = r.text()
            n = to_int(t)
            if n is not None and n < 0:
                for k, v in ERRNO.items():
                    if v == -n:
                        ex.set("returns", S("-" + k.lower()))
                        changed = True
            elif t.lstrip("-").upper() in ERRNO:
                ex.set("returns", S(-ERRNO[t.lstrip("-").upper()]))
                changed = True
    return changed


def t_signal_forms(doc):
    """signal: SIGSEGV -> segv, numbers -> names (steps and top-level processes)"""
    changed = False
    holders = list(each_expect(doc))
    top = doc.t.get("expect")
    if isinstance(top, Map) and isinstance(top.get("processes"), Map):
        holders += [v for _, v in top.get("processes").items if isinstance(v, Map)]
    for h in holders:
        v = h.get("signal")
        if isinstance(v, Scalar) and not is_none(v):
            t = v.text()
            n = to_int(t)
            if n is not None:
                name = [k for k, x in SIGNALS.items() if x == n]
                if name:
                    h.set("signal", S(name[0]))
                    changed = True
            elif t.upper().lstrip() in SIGNALS:
                h.set("signal", S(t.upper()[3:].lower()))
                changed = True
    return changed


def t_irq_forms(doc):
    """irq: N <-> irq: {vector: N}"""
    changed = False
    for st in doc.steps():
        if isinstance(st, Map) and toggle_short_form(st, "irq", "vector", lambda v: True):
            changed = True
    return changed


def t_none_forms(doc):
    """faults: none <-> faults: [], fault/gate/switch/signal: none -> "none" """
    changed = False
    for ex in each_expect(doc):
        for k in ("fault", "gate", "switch", "signal"):
            v = ex.get(k)
            if isinstance(v, Scalar) and v.raw == "none":
                ex.set(k, Scalar('"none"'))
                changed = True
        v = ex.get("faults")
        if isinstance(v, Scalar) and v.text() == "none":
            ex.set("faults", Seq())
            changed = True
        elif isinstance(v, Seq) and not v.items:
            ex.set("faults", S("none"))
            changed = True
    return changed


def t_gate_type(doc):
    """gate.type interrupt/trap/task/call -> interrupt_gate/trap_gate/task_gate/call_gate"""
    changed = False
    for ex in each_expect(doc):
        g = ex.get("gate")
        if isinstance(g, Map) and text(g.get("type")) in ("interrupt", "trap", "task", "call"):
            g.set("type", S(text(g.get("type")) + "_gate"))
            changed = True
    return changed


def t_via_omit(doc):
    """syscall.via left out where it is the tasks' own entry (int80 for 32-bit tasks, syscall for 64-bit)"""
    if doc.extends:
        return False
    bits = [text(p.get("bits")) for p in doc.processes()]
    if doc.mode == "ia32" or (bits and all(b == "32" for b in bits)):
        own = "int80"
    elif all(b in (None, "64") for b in bits):
        own = "syscall"
    else:
        return False
    changed = False
    for st in doc.steps():
        if isinstance(st, Map) and isinstance(st.get("syscall"), Map):
            sc = st.get("syscall")
            if text(sc.get("via")) == own:
                sc.remove("via")
                changed = True
    return changed


def t_main_explicit(doc):
    """processes omitted -> processes: [{name: main}] (the one task the format gives then)"""
    if doc.t.get("processes") is not None or doc.extends:
        return False
    items = []
    for k, v in doc.t.items:
        items.append([k, v])
        if k.text() == "kernel" or (k.text() == "machine" and doc.t.get("kernel") is None):
            items.append([S("processes"), Seq([Map([[S("name"), S("main")]])])])
    if not any(k.text() == "processes" for k, _ in items):
        i = [k.text() for k, _ in items].index("steps") if doc.t.get("steps") is not None else len(items)
        items.insert(i, [S("processes"), Seq([Map([[S("name"), S("main")]])])])
    doc.t.items = items
    return True


def t_rflags_context(doc):
    """machine.rflags (a flag map) -> the running task's context.rflags"""
    r = doc.machine.get("rflags")
    if not isinstance(r, Map) or doc.extends:
        return False
    ps = doc.processes()
    if doc.t.get("processes") is None:
        t = Map([[S("name"), S("main")]])
        doc.t.items.insert([k.text() for k, _ in doc.t.items].index("machine") + 1, [S("processes"), Seq([t])])
    else:
        run = [p for p in ps if text(p.get("state")) == "running"] or \
              [p for p in ps if text(p.get("state")) in (None, "ready")][:1]
        if len(run) != 1:
            return False
        t = run[0]
    c = t.get("context")
    if c is None:
        c = Map()
        t.set("context", c)
    if not isinstance(c, Map) or c.get("rflags") is not None or c.get("eflags") is not None:
        return False
    c.set("rflags", r)
    doc.machine.remove("rflags")
    return True


def _cpu_bits(doc):
    """32 when every task runs 32-bit code, 64 when every task runs 64-bit code, else None."""
    bits = [text(p.get("bits")) for p in doc.processes()]
    if doc.mode == "ia32":
        return 32
    if doc.extends or any(isinstance(p.get("context"), Map) and p.get("context").get("cs") is not None for p in doc.processes()):
        return None
    if bits and all(b == "32" for b in bits):
        return 32
    if all(b in (None, "64") for b in bits):
        return 64
    return None


def _may_run_16bit_code(doc):
    """True when a step could run in a 16-bit code segment (D = 0), where `iret`/`retf` have a 16-bit
    operand size and are not `iretd`/`retfd`: the document extends a base (whose descriptors this
    rewrite cannot see) or declares a descriptor with `default_size: 16`."""
    if doc.extends:
        return True

    def walk(n):
        if isinstance(n, Map):
            for k, v in n.items:
                if isinstance(k, Scalar) and k.text() == "default_size" and isinstance(v, Scalar) and to_int(v.raw) == 16:
                    return True
                if walk(v):
                    return True
        elif isinstance(n, Seq):
            return any(walk(x) for x in n.items)
        return False
    return walk(doc.t)


def t_exec_syntax(doc):
    """exec: `call/jmp far S:O` -> `lcall/ljmp S, O` (AT&T) or `call/jmp S:O` (NASM), the mnemonic in
    upper case, `iret`/`retf` -> `iretd`/`retfd` in 32-bit code (never where 16-bit code may run)"""
    changed = False
    bits = _cpu_bits(doc)
    if bits == 32 and _may_run_16bit_code(doc):
        bits = None
    for i, st in enumerate(doc.steps()):
        if not (isinstance(st, Map) and isinstance(st.get("exec"), Scalar)):
            continue
        e = st.get("exec").text()
        new = e
        m = re.match(r"^\s*(call|jmp)\s+far\s+(\S+):([^:\s]+)\s*$", e, re.I)
        if m and not m.group(2).startswith("{"):
            if i % 2 == 0:
                new = "l%s %s, %s" % (m.group(1).lower(), m.group(2), m.group(3))
            else:
                new = "%s %s:%s" % (m.group(1), m.group(2), m.group(3))
        elif bits == 32 and re.match(r"^\s*iret\s*$", e, re.I):
            new = "iretd"
        elif bits == 32 and re.match(r"^\s*retf(\s+\S+)?\s*$", e, re.I):
            new = re.sub(r"retf", "retfd", e.strip(), flags=re.I)
        else:
            w = e.strip().split(None, 1)
            if w:
                new = w[0].upper() + (" " + w[1] if len(w) > 1 else "")
        if new != e:
            st.set("exec", Scalar(json.dumps(new)))
            changed = True
    return changed


def t_reg_width(doc):
    """set.regs rax..rdi/rsp/rbp -> eax..edi/esp/ebp where the value fits 32 bits (a 32-bit name clears
    the upper half, docs/format.md), and back"""
    pairs = {"r" + x: "e" + x for x in ("ax", "bx", "cx", "dx", "si", "di", "sp", "bp")}
    changed = False
    for st in doc.steps():
        if isinstance(st, Map) and isinstance(st.get("set"), Map) and isinstance(st.get("set").get("regs"), Map):
            rg = st.get("set").get("regs")
            for it in rg.items:
                k = it[0].text().lower()
                v = to_int(it[1].raw) if isinstance(it[1], Scalar) else None
                if v is None or v < 0 or v >= 1 << 32:
                    continue
                if k in pairs and rg.get(pairs[k]) is None:
                    it[0] = S(pairs[k])
                    changed = True
                elif k in pairs.values() and doc.mode == "x86_64" and _cpu_bits(doc) == 64:
                    r = [a for a, b in pairs.items() if b == k][0]
                    if rg.get(r) is None:
                        it[0] = S(r)
                        changed = True
    return changed


def t_exec_numbers(doc):
    """numbers in exec operands: hex <-> decimal"""
    changed = False
    for st in doc.steps():
        if isinstance(st, Map) and isinstance(st.get("exec"), Scalar):
            e = st.get("exec").text()

            def rep(m):
                tok = m.group(0)
                n = int(tok.replace("_", ""), 0)
                return str(n) if tok.lower().startswith("0x") else hex(n)
            new = re.sub(r"(?<![\w.:])(0x[0-9a-fA-F_]+|[0-9]+)(?![\w:])", rep, e)
            if new != e:
                st.set("exec", Scalar(json.dumps(new)))
                changed = True
    return changed


# -- EFER and MSRs


def _efer_bits(m, sce, nxe):
    if m is None:
        return sce, nxe
    for k, v in m.items:
        b = text(v).lower() in ("true", "1", "yes", "on", "y")
        if k.text() == "sce":
            sce = b
        elif k.text() == "nxe":
            nxe = b
    return sce, nxe


def _msr_key(m, name):
    if not isinstance(m, Map):
        return None
    for it in m.items:
        t = it[0].text()
        if t.upper() == name or (to_int(t) is not None and to_int(t) == MSRS[name]):
            return it
    return None


def _efer_value(doc, sce, nxe):
    v = (1 if sce else 0) | (0x800 if nxe else 0)
    if doc.mode == "x86_64":
        v |= 0x500
    return hex(v)


def t_efer_msr(doc):
    """machine.efer -> machine.msrs IA32_EFER, set.efer -> set.msrs IA32_EFER"""
    if doc.extends or doc.preset != "linux":
        return False
    if any(isinstance(st, Map) and isinstance(st.get("exec"), Scalar) and "wrmsr" in st.get("exec").text() for st in doc.steps()):
        return False
    changed = False
    sce, nxe = True, True
    e = doc.machine.get("efer")
    if _msr_key(doc.machine.get("msrs"), "IA32_EFER"):
        return False
    if isinstance(e, Map):
        sce, nxe = _efer_bits(e, sce, nxe)
        doc.machine.remove("efer")
        ms = doc.machine.get("msrs")
        if not isinstance(ms, Map):
            ms = Map()
            doc.machine.set("msrs", ms)
        ms.set("IA32_EFER", S(_efer_value(doc, sce, nxe)))
        changed = True
    for st in doc.steps():
        if isinstance(st, Map) and isinstance(st.get("set"), Map):
            s = st.get("set")
            if _msr_key(s.get("msrs"), "IA32_EFER"):
                return False
            if isinstance(s.get("efer"), Map):
                sce, nxe = _efer_bits(s.get("efer"), sce, nxe)
                s.remove("efer")
                ms = s.get("msrs")
                if not isinstance(ms, Map):
                    ms = Map()
                    s.items.insert(0, [S("msrs"), ms])
                ms.set("IA32_EFER", S(_efer_value(doc, sce, nxe)))
                changed = True
    return changed


def t_msr_efer(doc):
    """machine.msrs IA32_EFER -> machine.efer, set.msrs IA32_EFER -> set.efer"""
    changed = False
    for holder in [doc.machine] + [st.get("set") for st in doc.steps() if isinstance(st, Map) and isinstance(st.get("set"), Map)]:
        ms = holder.get("msrs")
        it = _msr_key(ms, "IA32_EFER")
        if not it or holder.get("efer") is not None or to_int(it[1].raw) is None:
            continue
        v = to_int(it[1].raw)
        if v & ~0xd01:
            continue
        ms.items.remove(it)
        if not ms.items:
            holder.remove("msrs")
        holder.set("efer", Map([[S("sce"), S("true" if v & 1 else "false")], [S("nxe"), S("true" if v & 0x800 else "false")]]))
        changed = True
    return changed


def _msr_keys(doc, fn):
    changed = False
    for holder in [doc.machine] + [st.get("set") for st in doc.steps() if isinstance(st, Map) and isinstance(st.get("set"), Map)]:
        ms = holder.get("msrs")
        if isinstance(ms, Map):
            for it in ms.items:
                r = fn(it[0].text())
                if r:
                    it[0] = Scalar(r, it[0].anchor)  # an anchored scalar keeps its anchor for its aliases
                    changed = True
    return changed


def t_msr_number(doc):
    """MSR names -> numbers (machine.msrs, set.msrs)"""
    return _msr_keys(doc, lambda k: hex(MSRS[k.upper()]) if k.upper() in MSRS else None)


def t_msr_name(doc):
    """MSR numbers -> names"""
    return _msr_keys(doc, lambda k: MSR_BY_NUM.get(to_int(k)) if to_int(k) is not None else None)


# -- eip / rip


def _ip_swap(m, pairs, fit_only):
    changed = False
    if not isinstance(m, Map):
        return False
    for it in m.items:
        k = it[0].text()
        for a, b in pairs:
            if k == a and m.get(b) is None:
                v = to_int(it[1].raw) if isinstance(it[1], Scalar) else None
                if fit_only and (v is None or v < 0 or v >= 1 << 32):
                    continue
                it[0] = S(b)
                changed = True
    return changed


def t_eip_rip(doc):
    """eip -> rip and esp -> rsp (always the same value), rip -> eip where the value fits 32 bits"""
    changed = False
    pairs32 = [("eip", "rip"), ("esp", "rsp")]
    pairs64 = [("rip", "eip"), ("rsp", "esp")]
    for p in doc.processes():
        changed |= _ip_swap(p.get("context"), pairs32, False)
        changed |= _ip_swap(p.get("context"), pairs64, True)
    for st in doc.steps():
        if isinstance(st, Map):
            s = st.get("set")
            if isinstance(s, Map):
                changed |= _ip_swap(s.get("regs"), [("eip", "rip")], False)
                changed |= _ip_swap(s.get("regs"), [("rip", "eip")], True)
            ex = st.get("expect")
            if isinstance(ex, Map):
                changed |= _ip_swap(ex.get("regs"), pairs32, False)
                if isinstance(ex.get("entry"), Map):
                    changed |= _ip_swap(ex.get("entry"), pairs32, False)
    return changed


# -- style, anchors, extends


def t_block(doc):
    """the document written back in block style"""
    return True


def t_flow(doc):
    """every collection below the top level in flow style"""
    doc.flow_below = 1
    return True


def t_anchors(doc):
    """machine/kernel/processes defined under x- keys with anchors and used through aliases, machine
    through a merge key."""
    if Y.has_alias(doc.t):
        return False
    changed = False
    items = []
    for k, v in doc.t.items:
        if k.text() in ("processes", "kernel") and isinstance(v, (Map, Seq)) and v.items:
            v.anchor = "spell_" + k.text()
            items.insert(0, [S("x-spell-" + k.text()), v])
            items.append([k, Alias(v.anchor)])
            changed = True
        elif k.text() == "machine" and isinstance(v, Map) and v.items:
            v.anchor = "spell_machine"
            items.insert(0, [S("x-spell-machine"), v])
            items.append([k, Map([[Scalar("<<"), Alias("spell_machine")]])])
            changed = True
        else:
            items.append([k, v])
    doc.t.items = items
    return changed


def t_resolve(doc):
    """aliases and merge keys written out"""
    if not Y.has_alias(doc.t):
        return False
    # gdt/ldt indices, idt vectors and msrs merge by what a key names (docs/format.md)
    r = Y.resolve(doc.t, keyof=_key_meaning)
    r.items = [it for it in r.items if not it[0].text().startswith("x-")]
    doc.t.items = r.items
    return True


def t_extends(doc):
    """machine, kernel and processes moved into a fragment the scenario extends"""
    if doc.extends or Y.has_alias(doc.t):
        return False
    frag = Map()
    keep = []
    for k, v in doc.t.items:
        if k.text() in ("machine", "kernel", "processes"):
            frag.items.append([k, v])
        else:
            keep.append([k, v])
    if not frag.items:
        return False
    doc.fragment = frag
    doc.t.items = [keep[0], [S("extends"), None]] + keep[1:]
    return True


def t_extends_split(doc):
    """the machine's first keys in a fragment, its others in the scenario (maps merge key by key)"""
    if doc.extends or Y.has_alias(doc.t):
        return False
    m = doc.t.get("machine")
    if not isinstance(m, Map) or len(m.items) < 2:
        return False
    half = len(m.items) // 2
    doc.fragment = Map([[S("machine"), Map(m.items[:half])]])
    m.items = m.items[half:]
    doc.t.items = [doc.t.items[0], [S("extends"), None]] + doc.t.items[1:]
    return True


# The linux preset's GDT written out as a list (scenario-format.md: kernel code/data, user code/data, a
# 32-bit user code segment in x86_64, the TSS; at Linux's indices, arch/x86/include/asm/segment.h, and
# docs/kernel-model.md: 32 slots in ia32, 16 in x86_64, where entry 1 is Linux's 32-bit kernel code segment).
PRESET_GDT_SLOTS = {"ia32": 32, "x86_64": 16}
PRESET_GDT_LIST = {
    "ia32": {12: "{name: kernel_cs, type: code, dpl: 0}", 13: "{name: kernel_ds, type: data, dpl: 0}",
             14: "{name: user_cs, type: code, dpl: 3}", 15: "{name: user_ds, type: data, dpl: 3}",
             16: "{name: tss, type: tss32}"},
    "x86_64": {1: "{type: code, dpl: 0}", 2: "{name: kernel_cs, type: code, dpl: 0, long: true}", 3: "{name: kernel_ds, type: data, dpl: 0}",
               4: "{name: user32_cs, type: code, dpl: 3}", 5: "{name: user_ds, type: data, dpl: 3}",
               6: "{name: user_cs, type: code, dpl: 3, long: true}", 8: "{name: tss, type: tss64}"},
}
WIDE = ("tss64", "ldt", "call_gate")


def _as_list(entries, mode, slots=0):
    """index -> node as a list with null slots (at least `slots` of them); None when a 16-byte entry's
    upper slot is written."""
    top = max(max(entries) if entries else -1, slots - 1)
    out = []
    for i in range(top + 1):
        out.append(entries.get(i, Scalar("null")))
    if mode == "x86_64":
        for i, v in list(entries.items()):
            if isinstance(v, Map) and text(v.get("type")) in WIDE:
                if i + 1 in entries:
                    return None
                if i + 1 >= len(out):
                    out.append(Scalar("null"))
    return Seq(out)


def _io_port_lists(doc):
    """The `io_ports` lists of a document: machine.tss's and those of the gdt's TSS entries."""
    out = []
    tss = doc.machine.get("tss") if isinstance(doc.machine, Map) else None
    if isinstance(tss, Map) and isinstance(tss.get("io_ports"), Seq):
        out.append(tss.get("io_ports"))
    g = doc.machine.get("gdt") if isinstance(doc.machine, Map) else None
    entries = [v for _, v in g.items] if isinstance(g, Map) else (list(g.items) if isinstance(g, Seq) else [])
    for e in entries:
        if isinstance(e, Map) and isinstance(e.get("io_ports"), Seq):
            out.append(e.get("io_ports"))
    return out


def t_io_ports(doc):
    """io_ports: a port p -> the range {from: p, to: p}, and a range of at most 8 ports -> its ports one by
    one (docs/format.md: a list of ports and ranges, both ends included)"""
    changed = False
    for lst in _io_port_lists(doc):
        items = []
        for it in lst.items:
            v = to_int(it.raw) if isinstance(it, Scalar) else None
            if v is not None:
                items.append(Map([(S("from"), S(hex(v))), (S("to"), S(hex(v)))]))
                changed = True
                continue
            if isinstance(it, Map) and set(k.text() for k, _ in it.items) == {"from", "to"}:
                a, b = to_int(it.get("from").raw), to_int(it.get("to").raw)
                if a is not None and b is not None and 0 <= b - a < 8:
                    items += [S(hex(p)) for p in range(a, b + 1)]
                    changed = True
                    continue
            items.append(it)
        lst.items = items
    return changed


def t_gdt_list(doc):
    """gdt as a map patch of the preset -> the whole table as a list (the preset's entries written out)"""
    g = doc.machine.get("gdt")
    if not isinstance(g, Map) or doc.preset != "linux" or doc.extends or Y.has_alias(doc.t):
        return False
    entries = {i: Y._parse_flow(t) for i, t in PRESET_GDT_LIST[doc.mode].items()}
    for k, v in g.items:
        i = to_int(k.raw)
        if i is None or (isinstance(v, Scalar) and v.text() in ("", "null", "~")):
            return False
        entries[i] = v
    names = [text(v.get("name")) for v in entries.values() if isinstance(v, Map) and v.get("name") is not None]
    if len(names) != len(set(names)):
        return False       # a written entry took a preset name: the list would hold it twice
    lst = _as_list(entries, doc.mode, PRESET_GDT_SLOTS[doc.mode])
    if lst is None:
        return False
    doc.machine.set("gdt", lst)
    return True


def t_ldt_list(doc):
    """ldt as a map from index -> a list (empty slots null)"""
    g = doc.machine.get("ldt")
    if not isinstance(g, Map) or doc.extends or Y.has_alias(doc.t):
        return False
    entries = {}
    for k, v in g.items:
        i = to_int(k.raw)
        if i is None:
            return False
        entries[i] = v
    lst = _as_list(entries, doc.mode)
    if lst is None:
        return False
    doc.machine.set("ldt", lst)
    return True


def _key_meaning(path, t):
    """What a key names in the map at `path` (gdt/ldt indices, idt vectors and msrs merge by meaning)."""
    if path[-1:] in (["gdt"], ["ldt"]) and to_int(t) is not None:
        return ("index", to_int(t))
    if path[-1:] == ["idt"]:
        n = exc_num(Scalar(t))
        return ("vector", n) if n is not None else t
    if path[-1:] == ["msrs"]:
        if t.upper() in MSRS:
            return ("msr", MSRS[t.upper()])
        if to_int(t) is not None:
            return ("msr", to_int(t))
    return t


def _merge(base, over, path):
    """extends: maps merge key by key (by meaning in gdt/ldt/idt/msrs), anything else is replaced."""
    if isinstance(base, Seq) and isinstance(over, Map) and path in (["machine", "gdt"], ["machine", "ldt"]):
        raise Y.Unsupported("patch of a base list")
    if not (isinstance(base, Map) and isinstance(over, Map)):
        return over
    items = [[k, v] for k, v in base.items]
    for k, v in over.items:
        m = _key_meaning(path, k.text())
        hit = [it for it in items if _key_meaning(path, it[0].text()) == m]
        if hit:
            hit[0][0] = k
            kept = _gate_kept(hit[0][1], v) if path == ["machine", "idt"] else hit[0][1]
            hit[0][1] = _merge(kept, v, path + [k.text()])
        else:
            items.append([k, v])
    return Map(items)


def _gate_kept(base, over):
    """A base IDT gate under a scenario gate that changes its kind (task <-> interrupt/trap) keeps only dpl and
    present (docs/format.md, `idt`; ScenarioDecoder.gateKept)."""
    if not (isinstance(base, Map) and isinstance(over, Map)):
        return base
    def is_task(m):
        t = m.get("type")
        return None if t is None else (isinstance(t, Scalar) and t.text() == "task")
    o = is_task(over)
    if o is None or o == (is_task(base) or False):
        return base
    return Map([[k, v] for k, v in base.items if k.text() in ("dpl", "present")])


def t_inline_extends(doc):
    """extends replaced by the base's machine, kernel and processes merged in (written out)"""
    e = doc.t.get("extends")
    if not isinstance(e, Scalar) or not getattr(doc, "path", None):
        return False
    fpath = os.path.join(os.path.dirname(doc.path), e.text())
    with open(fpath) as f:
        base = Y.parse(f.read())
    if not isinstance(base, Map) or base.get("extends") is not None:
        return False
    base = Y.resolve(base, keyof=_key_meaning)
    if Y.has_alias(doc.t):
        return False
    for key in ("machine", "kernel", "processes"):
        b = base.get(key)
        if b is None:
            continue
        o = doc.t.get(key)
        doc.t.set(key, _merge(b, o, [key]) if o is not None else b)
    doc.t.remove("extends")
    return True


TRANSFORMS = [
    ("block", t_block), ("flow", t_flow),
    ("exc-number", t_exc_number), ("exc-hex", t_exc_hex), ("exc-hash", t_exc_hash),
    ("exc-hash-lower", t_exc_hash_lower), ("exc-title", t_exc_title), ("exc-name", t_exc_name),
    ("exc-map", t_exc_map),
    ("sys-number", t_sys_number), ("sys-name", t_sys_name),
    ("sel-number", t_sel_number), ("sel-map", t_sel_map), ("sel-name", t_sel_name),
    ("wait-forms", t_wait_forms), ("schedule-forms", t_schedule_forms),
    ("hex", t_hex), ("decimal", t_decimal), ("quoted-numbers", t_quoted_numbers), ("exec-numbers", t_exec_numbers),
    ("efer-msr", t_efer_msr), ("msr-efer", t_msr_efer), ("msr-number", t_msr_number), ("msr-name", t_msr_name),
    ("eip-rip", t_eip_rip), ("gdt-list", t_gdt_list), ("ldt-list", t_ldt_list),
    ("bool-yes", t_bool_yes), ("bool-digits", t_bool_digits), ("exec-asm-hex", t_exec_asm_hex),
    ("errno", t_errno), ("signal-forms", t_signal_forms), ("irq-forms", t_irq_forms), ("none-forms", t_none_forms),
    ("gate-type", t_gate_type), ("via-omit", t_via_omit), ("main-explicit", t_main_explicit),
    ("rflags-context", t_rflags_context), ("inline-extends", t_inline_extends), ("exec-syntax", t_exec_syntax),
    ("reg-width", t_reg_width), ("io-ports", t_io_ports),
    ("anchors", t_anchors), ("resolve", t_resolve), ("extends", t_extends), ("extends-split", t_extends_split),
]

# ---------------------------------------------------------------------------------------------
# Running


def suite_files(root):
    return sorted(glob.glob(os.path.join(root, "**", "*.yaml"), recursive=True))


def rewrite_file(path, rel, fn, out_dir):
    """Writes the rewritten file under out_dir when the transform changed a document; returns the
    number of documents changed."""
    with open(path) as f:
        src = f.read()
    try:
        docs = Y.split_documents(src)
    except Y.Unsupported:
        return 0
    out, changed, frags = [], 0, []
    for n, (_, d) in enumerate(docs):
        try:
            tree = Y.parse(d)
        except Y.Unsupported:
            out.append(d)
            continue
        if not isinstance(tree, Map) or tree.get("scenario") is None:
            out.append(d)
            continue
        # A scenario tagged `yaml` (scenarios/examples/blind-yaml-2.yaml) is about how the loader reads its
        # spelling itself (explicit tags, chomping indicators, names that look like numbers), which these
        # rewrites do not carry over: it is left as written.
        tags = tree.get("tags")
        if isinstance(tags, Seq) and any(isinstance(t, Scalar) and t.text() == "yaml" for t in tags.items):
            out.append(d)
            continue
        doc = Doc(tree)
        doc.path = path
        doc.flow_below = None
        doc.fragment = None
        try:
            ok = fn(doc)
        except (Y.Unsupported, ValueError, TypeError, AttributeError, OSError):
            ok = False
        if not ok:
            out.append(d)
            continue
        if doc.fragment is not None:
            fname = "_spell-%s-%d.yaml" % (os.path.basename(rel)[:-5], n)
            frags.append((fname, Y.dump(doc.fragment)))
            for it in doc.t.items:
                if it[0].text() == "extends":
                    it[1] = Scalar(fname)
        out.append(Y.dump(doc.t, doc.flow_below))
        changed += 1
    if changed:
        dst = os.path.join(out_dir, rel)
        with open(dst, "w") as f:
            f.write("\n---\n".join(out) + "\n")
        for fname, body in frags:
            with open(os.path.join(os.path.dirname(dst), fname), "w") as f:
                f.write(body)
    return changed


def _strip_places(x):
    """A report item without the places it names (file, line, column), which a rewrite moves."""
    if isinstance(x, dict):
        return {k: _strip_places(v) for k, v in x.items() if k not in ("file", "line", "column")}
    if isinstance(x, list):
        return [_strip_places(v) for v in x]
    return x


def run_report(ringspec, root, files):
    p = subprocess.run([ringspec, "run", "--format", "json", "--root", root] + files, capture_output=True, text=True)
    try:
        rep = json.loads(p.stdout)
    except json.JSONDecodeError:
        return None, p.stdout + p.stderr
    res = {}
    for s in rep["scenarios"]:
        key = (os.path.relpath(s["file"], root), s["id"])
        norm = lambda x: re.sub(r"\(?[^\s()]*\.yaml:\d+(:\d+)?\)?", "(FILE)", json.dumps(_strip_places(x), sort_keys=True))
        res[key] = {"status": s["status"], "checks": s.get("checks"),
                    "failures": norm(s.get("failures")), "diagnostics": norm(s.get("diagnostics")),
                    "warnings": norm(s.get("warnings"))}
    return res, None


def explain(ringspec, root, f):
    p = subprocess.run([ringspec, "explain", "--root", root, f], capture_output=True, text=True)
    secs, cur, body = {}, None, []
    for l in p.stdout.split("\n"):
        m = re.match(r"^scenario (.*)$", l)
        if m:
            if cur is not None:
                secs[cur] = body
            cur, body = m.group(1), []
            continue
        l = re.sub(r"\bline \d+", "line N", l)
        # a step's label repeats the event as written (`set control registers` / `set MSRs`, `exec iret` /
        # `exec iretd`): the trace is what follows it
        l = re.sub(r"^(step \d+) \(.*\), line N:$", r"\1:", l)
        l = re.sub(r"[^\s()]*\.yaml:\d+(:\d+)?", "FILE", l)
        body.append(l)
    if cur is not None:
        secs[cur] = body
    return secs


# The default run checks these combinations (one rewritten suite each, every transform of the list
# applied in turn: outcome and trace), and the transforms no combination holds on their own; that keeps
# it short. --each runs every transform on its own as well (outcomes), --trace-each explains each one.
COMBOS = [
    ("combo-a", ["exc-number", "sys-number", "sel-number", "wait-forms", "schedule-forms", "decimal", "exec-numbers",
                 "efer-msr", "msr-number", "eip-rip", "bool-yes", "errno", "irq-forms", "gate-type", "rflags-context", "reg-width", "flow", "anchors"]),
    ("combo-b", ["exc-hash", "exc-map", "sys-name", "sel-map", "hex", "msr-name", "msr-efer", "bool-digits", "exec-asm-hex", "exec-syntax", "signal-forms", "none-forms", "via-omit", "block",
                 "extends"]),
    ("combo-c", ["exc-title", "sel-name", "quoted-numbers", "exc-hex", "resolve", "gdt-list", "ldt-list", "main-explicit", "inline-extends", "extends-split"]),
]


def combine(fns):
    def run(doc):
        changed = False
        for f in fns:
            try:
                changed |= bool(f(doc))
            except (Y.Unsupported, ValueError, TypeError, AttributeError, OSError):
                pass
        return changed
    return run


def compare(name, base_rep, base_expl, rep_f, ex, show, verbose, root):
    diffs = []
    if rep_f is not None:
        rep, err = rep_f.result()
        if rep is None:
            diffs.append("ringspec run failed: %s" % err[:2000])
            rep = {}
        for key, r in sorted(rep.items()):
            b = base_rep.get(key)
            if b is None:
                diffs.append("%s %s: not in the original run (%s)" % (key[0], key[1], r["diagnostics"][:300]))
                continue
            for field in ("status", "checks", "failures", "diagnostics", "warnings"):
                if r[field] != b[field]:
                    diffs.append("%s %s: outcome %s: original %s, rewritten %s" % (key[0], key[1], field, b[field][:300], r[field][:300]))
                    break
    for rel, fut in ex.items():
        secs = fut.result()
        bsecs = base_expl[rel].result()
        for sid, body in secs.items():
            bb = bsecs.get(sid)
            if bb is not None and bb != body:
                for i, (x, y) in enumerate(zip(bb + [""] * len(body), body + [""] * len(bb))):
                    if x != y:
                        diffs.append("%s %s: trace line %d: original %r, rewritten %r" % (rel, sid, i + 1, x.strip(), y.strip()))
                        break
    seen, uniq = set(), []
    for d in diffs:
        k = " ".join(d.split(" ")[:2])
        if k not in seen:
            seen.add(k)
            uniq.append(d)
    return uniq


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ringspec", default=os.path.join(REPO, ".build", "debug", "ringspec"))
    ap.add_argument("--scenarios", default=os.path.join(REPO, "scenarios"))
    ap.add_argument("--only", help="comma-separated transforms (default: all)")
    ap.add_argument("--list", action="store_true", help="list the transforms and exit")
    ap.add_argument("--keep", help="write the rewritten suites under this folder and keep them")
    ap.add_argument("--show", type=int, default=20, help="differences to print per transform")
    ap.add_argument("--each", action="store_true", help="also run every transform on its own (outcomes), to tell which one a difference comes from")
    ap.add_argument("--trace-each", action="store_true", help="compare traces for every transform (slow), not only the combinations")
    ap.add_argument("--no-trace", action="store_true", help="compare outcomes only")
    ap.add_argument("-j", "--jobs", type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    named = dict(TRANSFORMS)
    if args.list:
        for n, f in TRANSFORMS:
            print("%-16s %s" % (n, (f.__doc__ or "").strip().split("\n")[0]))
        for n, parts in COMBOS:
            print("%-16s trace check of %s" % (n, ", ".join(parts)))
        return 0
    in_combo = {p for _, parts in COMBOS for p in parts}
    singles = [(n, f, args.trace_each) for n, f in TRANSFORMS if args.each or args.trace_each or args.only or n not in in_combo]
    chosen = singles
    if not args.trace_each:
        chosen += [(n, combine([named[p] for p in parts]), True) for n, parts in COMBOS]
    if args.no_trace:
        chosen = [(n, f, False) for n, f, _ in chosen]
    if args.only:
        want = args.only.split(",")
        known = dict((n, f) for n, f, _ in chosen)
        unknown = [w for w in want if w not in known]
        if unknown:
            print("unknown transform(s): %s" % ", ".join(unknown), file=sys.stderr)
            return 2
        chosen = [(n, f, t if not args.trace_each else True) for n, f, t in chosen if n in want]
    work = args.keep or tempfile.mkdtemp(prefix="spell-")
    src_root = os.path.abspath(args.scenarios)
    files = suite_files(src_root)
    rels = [os.path.relpath(f, src_root) for f in files]

    def tree_for(name):
        root = os.path.join(work, name, "scenarios")
        if os.path.exists(root):
            shutil.rmtree(root)
        shutil.copytree(src_root, root)
        return root

    base_root = tree_for("original")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs)
    plans = []
    for name, fn, trace in chosen:
        root = tree_for(name)
        changed_files, docs = [], 0
        for f, rel in zip(files, rels):
            if os.path.basename(rel).startswith("_"):
                continue
            n = rewrite_file(f, rel, fn, root)
            if n:
                changed_files.append(rel)
                docs += n
        plans.append((name, root, changed_files, docs, trace))
    all_changed = sorted({rel for _, _, cf, _, _ in plans for rel in cf})
    traced = sorted({rel for _, _, cf, _, t in plans if t for rel in cf})
    base_rep_f = pool.submit(run_report, args.ringspec, base_root, [os.path.join(base_root, r) for r in all_changed])
    base_expl = {r: pool.submit(explain, args.ringspec, base_root, os.path.join(base_root, r)) for r in traced}
    jobs = []
    for name, root, cf, docs, trace in plans:
        rep = pool.submit(run_report, args.ringspec, root, [os.path.join(root, r) for r in cf]) if cf else None
        ex = {r: pool.submit(explain, args.ringspec, root, os.path.join(root, r)) for r in cf} if trace else {}
        jobs.append((name, root, cf, docs, rep, ex))
    base_rep, err = base_rep_f.result() if all_changed else ({}, None)
    if base_rep is None:
        print("ringspec failed on the original suite:\n" + err[:3000])
        return 2
    total_diff = total_docs = 0
    for name, root, cf, docs, rep_f, ex in jobs:
        total_docs += docs
        uniq = compare(name, base_rep, base_expl, rep_f, ex, args.show, args.verbose, root)
        total_diff += len(uniq)
        print("%-16s %5d documents rewritten in %3d files%s: %d differ" % (name, docs, len(cf), " (traced)" if ex else "", len(uniq)))
        for d in uniq[:args.show]:
            print("    " + d)
        if len(uniq) > args.show:
            print("    ... %d more" % (len(uniq) - args.show))
        if args.verbose:
            print("    rewritten suite: %s" % root)
    print("%d rewritten documents, %d differences" % (total_docs, total_diff))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if total_diff == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
