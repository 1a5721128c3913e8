#!/usr/bin/env python3
"""Differential test: random hardware task switches on a bare ia32 CPU (`kernel: none`), whose `expect`
is the prediction of task_oracle.py, run through ringspec; prints the disagreements.

    python3 Fuzz/diff/task_diff.py --seed S --count N [--family ia32|x86_64|both] [--ringspec PATH] [--keep DIR] [-v]

Each scenario: the linux preset's ia32 tables (TSS 0x80 loaded and busy) plus two 32-bit TSSs (0xa0,
0xa8: DPL 0-3, present or not, available or busy, limit 0x67 or around it, random EIP, EFLAGS with NT
and IF (sometimes with reserved bits set, which the switch does not load), GPRs, segment selectors valid or bad for the task's CPL, LDT selector, sometimes the T flag
`trap: true`), a task gate in the GDT
(0xb0) and one in the LDT (0x04), a DPL-3 gate back to TSS 0x80 (0x98), segments that break one check
each (not present, conforming, execute-only, read-only, small limit), the current task at CPL 0 or 3
(random EFLAGS, NT sometimes, GPRs). Step 1 is one of `jmp far SEL:0` / `call far SEL:0` (SEL a TSS,
a task gate, the busy current TSS, with random RPL, sometimes TI=1), `int 0x81` or `irq: 0x81` through
an IDT task gate, `mov ds, 0x100` whose #GP goes through a task gate at vector 13 (error code pushed on
the new task's stack and read back), or `iret` with NT=1 through TSS 0x80's back link. Later steps (after a switch that
completed) go back: `iret` through the back link, or `jmp far 0x98:0` (the old TSS must be available
again after a JMP, busy after a CALL), and once more.
Checks: the faults raised in order with their error codes (EXT), #DF escalation, the step's whole gate
record (a task gate's vector or none for a GDT/LDT gate, DPL, from/to CPL, stack switch, the new task's IF;
an interrupt gate's; `none` for a switch straight to a TSS or an IRET through the back link),
CPL, TR, CS/SS/DS/ES/FS/GS, EIP, ESP, the GPRs, EFLAGS (NT), CR0 (TS), LDTR; a return checks the
state saved in the old TSS (TASK-5) by loading it back. The x86_64 family (TASK-9) checks that a far
JMP/CALL to a task gate or 64-bit TSS, an IDT task gate and IRET with NT=1 raise #GP.
Exit status: 0 when engine and oracle agree on every scenario, 1 otherwise.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import task_oracle as O  # noqa: E402
import rundocs  # noqa: E402

NAMES = {1: "DB", 3: "BP", 8: "DF", 14: "PF", 10: "TS", 11: "NP", 12: "SS", 13: "GP"}
UCS, UDS, TSS0 = 0x73, 0x7B, 0x80
CR0 = 0x80010011  # the preset's CR0: PG | WP | ET | PE
BEYOND = 0x100    # index 32: beyond the preset's 32-entry GDT


def h(v):
    return "0x%x" % v


def base_world():
    w = O.World()
    g = w.gdt
    g[12] = O.Desc("code", 0)
    g[13] = O.Desc("data", 0)
    g[14] = O.Desc("code", 3)
    g[15] = O.Desc("data", 3)
    g[16] = O.Desc("tss", 0, busy=True, limit=0x67)
    g[19] = O.Desc("gate", 3, tss=TSS0)
    g[23] = O.Desc("ldt", 0)
    g[24] = O.Desc("data", 0, present=False)
    g[25] = O.Desc("data", 3, present=False)
    g[26] = O.Desc("code", 0, present=False)
    g[27] = O.Desc("code", 0, conforming=True)
    g[28] = O.Desc("code", 0, readable=False)
    g[29] = O.Desc("data", 3, writable=False)
    g[30] = O.Desc("code", 3, limit=0xFFF)
    g[31] = O.Desc("code", 0, limit=0xFFF)
    w.ldt = {1: O.Desc("data", 3), 2: O.Desc("code", 3)}
    w.ldt_slots = 3
    return w


FIXED_YAML = """    19: {name: gback, type: task_gate, dpl: 3, tss: 0x80}
    23: {name: ldt0, type: ldt}
    24: {name: d0np, type: data, dpl: 0, present: false}
    25: {name: d3np, type: data, dpl: 3, present: false}
    26: {name: c0np, type: code, dpl: 0, present: false}
    27: {name: c0conf, type: code, dpl: 0, conforming: true}
    28: {name: c0xo, type: code, dpl: 0, readable: false}
    29: {name: d3ro, type: data, dpl: 3, writable: false}
    30: {name: c3small, type: code, dpl: 3, limit: 0xfff}
    31: {name: c0small, type: code, dpl: 0, limit: 0xfff}"""


def pick_segments(rng, cpl):
    """Selectors for a new task at `cpl`: valid, then sometimes one or two broken."""
    if cpl == 0:
        segs = {"cs": 0x60, "ss": 0x68, "ds": 0x68, "es": rng.choice([0x68, 0, 0x7B]), "fs": rng.choice([0, 0x68]),
                "gs": rng.choice([0, 0x68, 0x60])}
        eip = rng.choice([0xC0100500, 0xC0100800, 0x800])
        esp = rng.choice([0xC2006000, 0xC2006800])
    else:
        segs = {"cs": UCS, "ss": UDS, "ds": UDS, "es": UDS, "fs": rng.choice([0, UDS, 0x0F]),
                "gs": rng.choice([0, UDS, 0xEB, 0xDB])}
        eip = rng.choice([0x08048000, 0x08048100, 0x800])
        esp = rng.choice([0xBFFFFF00, 0xBFFFFE00] * 5 + [0x10000000])  # the last one is not mapped
    ldt = rng.choice([0, 0xB8, 0xB8])
    bad = {
        "cs": [0, 0x68, BEYOND, 0xD0, 0xD0 | 3, 0xD8, 0xD8 | 3, 0x60 | 3, 0x70, 0xF0 | 3, 0xF8, 0x0C | 3, 0x14 | 3, 0x1C | 3],
        "ss": [0, 0x60, 0xC0, 0xC8 | 3, 0x7B, 0x68, 0x78, 0xE8 | 3, BEYOND, 0x0C | 3, 0x0C, 0x6B],
        "ds": [0x68, 0xC0, 0xC8 | 3, 0x60, 0xE0, 0xD8 | 3, TSS0, BEYOND, 0x0C | 3, 0xE8 | 3, 0x7B, 0x14 | 3, 0x1C],
        "ldt": [0x60, 0xBC, BEYOND, TSS0, 0xA0],
    }
    r = rng.random()
    n = 0 if r < 0.5 else (1 if r < 0.85 else 2)
    for _ in range(n):
        f = rng.choice(["cs", "ss", "ds", "es", "fs", "gs", "ldt", "eip"])
        if f == "ldt":
            ldt = rng.choice(bad["ldt"])
        elif f == "eip":
            eip = rng.choice([0x1000, 0xFFF, 0xFFC])
            segs["cs"] = rng.choice([0xF0 | 3, 0xF8])
        else:
            segs[f] = rng.choice(bad[f if f in bad else "ds"])
    if esp < 0xB0000000 and segs["cs"] & 3 != 3:
        # The unmapped stack is only for a ring-3 task (its handlers switch stacks); a fault delivered at
        # CPL 0 on it would page-fault its way to a triple fault, which the oracle does not follow.
        esp = 0xBFFFFF00
    return segs, eip, esp, ldt


def rand_tss(rng):
    cpl = rng.choice([0, 3])
    segs, eip, esp, ldt = pick_segments(rng, cpl)
    img = dict(segs)
    img.update({"eip": eip, "esp": esp, "ldt": ldt, "esp0": 0xC2007000, "ss0": 0x68,
                "eflags": rng.choice([0x2, 0x202, 0x4202, 0x246, 0x4002, 0x3202, 0x893, 0xFFC08228, 0xFFC0C02A])})
    if rng.random() < 0.12:
        img["trap"] = True  # the T bit (TASK-7)
    for r in O.GPRS:
        if r != "esp":
            img[r] = rng.getrandbits(32)
    desc = O.Desc("tss", rng.choice([0, 3, 3, 3, 1, 2]), present=rng.random() < 0.92, busy=rng.random() < 0.1,
                  limit=rng.choice([0x67] * 8 + [0x66, 0x2B, 0x68, 0x100, 0x40]))
    return desc, img


def tss_yaml(idx, name, d, img):
    f = ["name: %s" % name, "type: tss32", "dpl: %d" % d.dpl]
    if not d.present:
        f.append("present: false")
    if d.busy:
        f.append("busy: true")
    if d.limit != 0x67:
        f.append("limit: %s" % h(d.limit))
    for k in ["link", "esp0", "ss0", "eip", "eflags"] + [r for r in O.GPRS] + O.SEGS + ["ldt"]:
        if k in img:
            f.append("%s: %s" % (k, h(img[k])))
    if img.get("trap"):
        f.append("trap: true")
    return "    %d: {%s}" % (idx, ", ".join(f))


def gate_yaml(d, with_name=None, idt=False):
    f = []
    if with_name:
        f.append("name: " + with_name)
    f.append("type: task" if idt else "type: task_gate")
    f.append("dpl: %d" % d.dpl)
    if not d.present:
        f.append("present: false")
    f.append("tss: %s" % h(d.tss))
    return "{%s}" % ", ".join(f)


def rand_gate(rng):
    return O.Desc("gate", rng.choice([0, 3, 3, 3, 1, 2]), present=rng.random() < 0.92,
                  tss=rng.choice([0xA0, 0xA8] * 3 + [0xA3, TSS0, 0x60, BEYOND, 0xA4, 0]))


def event_text(ev):
    k = ev[0]
    if k in ("jmp", "call"):
        return 'exec: "%s far %s:0"' % (k, h(ev[1]))
    if k == "int":
        return 'exec: "int %s"' % h(ev[1])
    if k == "int3":
        return 'exec: "int3"'
    if k == "exc":
        return 'exec: "mov ds, %s"' % h(ev[1])
    if k == "irq":
        return "irq: %s" % h(ev[1])
    if k == "load":
        return 'exec: "mov eax, [%s]"' % h(ev[2])
    return 'exec: "iret"'


def gate_yaml_record(d):
    """The `gate` check of a step: the last delivery's whole record (format: `{vector, type, dpl, from_cpl,
    to_cpl, stack_switch, if}`; no vector for a GDT/LDT task gate), or `none` when the step delivered nothing
    (a far JMP/CALL straight to a TSS, IRET through the back link, a plain instruction)."""
    if d is None:
        return "none"
    f = []
    if "vector" in d:
        f.append("vector: %s" % h(d["vector"]))
    f += ["type: %s" % d["type"], "dpl: %d" % d["dpl"], "from_cpl: %d" % d["from_cpl"], "to_cpl: %d" % d["to_cpl"],
          "stack_switch: %s" % str(d["stack_switch"]).lower(), "if: %s" % str(d["if"]).lower()]
    return "{%s}" % ", ".join(f)


def expect_yaml(res, ev):
    y = ["    expect:"]
    items = []
    for f in res.faults:
        v, c = f[0], f[1]
        if len(f) > 2:
            items.append("{vector: %s, error_code: %s, cr2: %s}" % (NAMES[v], h(c), h(f[2])))
        else:
            items.append("{vector: %s, error_code: %s}" % (NAMES.get(v, v), h(c)) if c is not None else NAMES.get(v, str(v)))
    y.append("      faults: [%s]" % ", ".join(items))
    if res.shutdown:
        y.append("      shutdown: true")
        y.append("      gate: none")
        return y
    c = res.cpu
    y.append("      gate: %s" % gate_yaml_record(res.delivery))
    y.append("      cpl: %d" % c["cpl"])
    regs = ["tr: %s" % h(c["tr"]), "cs: %s" % h(c["cs"]), "eip: %s" % h(c["eip"]), "esp: %s" % h(c["esp"]),
            "rflags: %s" % h(c["eflags"]), "cr0: %s" % h(c["cr0"])]
    if res.switched or res.ok:
        regs += ["%s: %s" % (s, h(c[s])) for s in ("ds", "es", "fs", "gs")]
        regs += ["%s: %s" % (r, h(c[r])) for r in O.GPRS if r != "esp"]
    if res.ok:
        regs.append("ss: %s" % h(c["ss"]))
        regs.append("ldtr: %s" % h(c["ldtr"] or 0))
    y.append("      regs: {%s}" % ", ".join(regs))
    return y


def gen(rng, sid):
    w = base_world()
    cpl = rng.choice([0, 3])
    c = {"cpl": cpl, "cr0": CR0, "tr": TSS0, "ldtr": 0xB8}
    if cpl == 0:
        c.update({"cs": 0x60, "ss": 0x68, "ds": 0x68, "es": 0x68, "fs": 0, "gs": 0, "eip": 0xC0100000, "esp": 0xC2005000})
    else:
        c.update({"cs": UCS, "ss": UDS, "ds": UDS, "es": UDS, "fs": rng.choice([0, UDS]), "gs": 0,
                  "eip": 0x08048000, "esp": 0xBFFFFFF0})
    for r in O.GPRS:
        if r != "esp":
            c[r] = rng.getrandbits(32)
    kind = rng.choice(["jmp", "jmp", "call", "call", "int", "irq", "exc", "exc", "iret", "int3"])
    c["eflags"] = rng.choice([0x202, 0x246, 0x2, 0x3202, 0x283]) | (O.NT if kind == "iret" or rng.random() < 0.2 else 0)
    if kind == "irq":
        c["eflags"] |= O.IF  # a maskable interrupt is taken at once only with IF = 1
    w.cpu = c
    start = {k: c[k] for k in ("cs", "ss", "ds", "es", "fs", "gs", "eip", "esp", "eflags") + tuple(O.GPRS)}
    t1, i1 = rand_tss(rng)
    t2, i2 = rand_tss(rng)
    w.gdt[20], w.gdt[21] = t1, t2
    w.tss[20], w.tss[21] = i1, i2
    w.tss[16] = {"esp0": 0xC2008000, "ss0": 0x68, "ldt": 0xB8}
    g1 = rand_gate(rng)
    w.gdt[22] = g1
    lg = rand_gate(rng)
    w.ldt[0] = lg
    idt_lines = []
    if kind == "iret":
        link = rng.choice([0xA0, 0xA8, 0xA0, 0xA8, 0xA4, BEYOND, TSS0, 0x60, 0])
        w.tss[16]["link"] = link
        if rng.random() < 0.7 and link in (0xA0, 0xA8):
            w.gdt[link >> 3].busy = True
        ev = ("iret",)
    elif kind in ("jmp", "call"):
        sel = rng.choice([0xA0, 0xA8, 0xB0, 0xB0, 0x04, TSS0, 0xA0, 0xA8]) | rng.choice([0, 0, 0, 3, 1, 2])
        ev = (kind, sel)
    else:
        g = rand_gate(rng)
        vec = {"exc": 13, "int3": 3}.get(kind, 0x81)
        w.idt[vec] = g
        idt_lines.append("    %s: %s" % (h(vec), gate_yaml(g, idt=True)))
        if kind == "exc" and rng.random() < 0.4:
            # a double-fault task: #DF through a task gate (a fault while switching to it: shutdown)
            dg = rand_gate(rng)
            w.idt[8] = dg
            idt_lines.append("    0x8: %s" % gate_yaml(dg, idt=True))
        ev = ("exc", BEYOND) if kind == "exc" else (kind, vec)
    tables = [tss_yaml(20, "t1", t1, i1), tss_yaml(21, "t2", t2, i2), "    22: %s" % gate_yaml(g1, "g1"), FIXED_YAML,
              "  ldt:", "    0: %s" % gate_yaml(lg), "    1: {type: data, dpl: 3}", "    2: {type: code, dpl: 3}"]
    events = [ev]
    results = []
    while True:
        r = O.run(w, events[-1])
        results.append(r)
        if not r.ok or len(events) >= 4:
            break
        if events[-1][0] == "exc" and w.cpu["ds"] in (0x68, 0x7B):
            # TASK-7: read the error code back from the new task's stack through its flat DS.
            events.append(("load", BEYOND, w.cpu["esp"]))
            continue
        # go back: IRET through the back link, or a JMP through the DPL-3 gate to TSS 0x80
        if w.cpu["eflags"] & O.NT and rng.random() < 0.7:
            events.append(("iret",))
        else:
            events.append((rng.choice(["jmp", "jmp", "call"]), rng.choice([0x98, 0x98 | 3, 0xA0 | 3, 0xA8 | 3, 0xB0 | 3])))
    y = ["scenario: %s" % sid, "machine:", "  mode: ia32",
         "  tss: {name: tss, esp0: 0xc2008000, ss0: kernel_ds, ldt: 0xb8%s}" % (
             ", link: %s" % h(link) if kind == "iret" else ""),
         "  gdt:"] + tables
    if idt_lines:
        y += ["  idt:"] + idt_lines
    y += ["kernel: none", "processes:", "  - name: t", "    state: running"]
    ctx = ["%s: %s" % (k, h(v)) for k, v in start.items()]
    y.append("    context: {%s}" % ", ".join(ctx))
    y.append("steps:")
    for e, r in zip(events, results):
        y.append("  - " + event_text(e))
        y += expect_yaml(r, e)
    return "\n".join(y)


def gen64(rng, sid):
    """IA-32e mode (TASK-9): a task gate, a 64-bit TSS, IDT task gates and IRET with NT=1 all raise #GP."""
    sub = rng.choice(["64", "compat", "kernel"])
    kind = rng.choice(["jmp", "call", "int", "irq", "exc", "iret", "int3"])
    gdpl = rng.choice([0, 3])
    y = ["scenario: %s" % sid, "machine:", "  mode: x86_64", "  gdt:",
         "    10: {name: tg, type: task_gate, dpl: %d, tss: %s%s}" % (rng.choice([0, 3]), rng.choice(["0x40", "0x60"]),
                                                                     "" if rng.random() < 0.8 else ", present: false"),
         "    12: {name: t64, type: tss64, dpl: %d%s%s, rsp0: 0xffff888002007000}" % (
             rng.choice([0, 3]), "" if rng.random() < 0.8 else ", present: false", ", busy: true" if rng.random() < 0.2 else ""),
         "    13: null"]
    if kind in ("int", "irq", "exc", "int3"):
        vec = {"exc": 13, "int3": 3}.get(kind, 0x81)
        y += ["  idt:", "    %s: {type: task, dpl: %d, tss: %s%s}" % (h(vec), gdpl, rng.choice(["0x40", "0x60", "0x50"]),
                                                                    "" if rng.random() < 0.8 else ", present: false")]
    y += ["kernel: none", "processes:", "  - name: t", "    state: running"]
    flags = 0x202 | (O.NT if kind == "iret" else 0)
    if sub == "compat":
        y += ["    bits: 32", "    context: {eflags: %s}" % h(flags)]
    elif sub == "64":
        y += ["    context: {rflags: %s}" % h(flags)]
    else:
        y += ["    context: {cs: kernel_cs, ss: kernel_ds, rip: 0xffffffff81000000, rsp: 0xffff888002007ff0, rflags: %s}"
              % h(flags)]
    if kind in ("jmp", "call"):
        ev = (kind, rng.choice([0x50, 0x60, 0x40]) | rng.choice([0, 3]))
    elif kind in ("int", "irq"):
        ev = (kind, 0x81)
    elif kind == "exc":
        ev = ("exc", 0xFFF8)
    elif kind == "int3":
        ev = ("int3", 3)
    else:
        ev = ("iret",)
    faults = O.run64(ev, 0 if sub == "kernel" else 3, gdpl)
    y += ["steps:", "  - " + event_text(ev), "    expect:"]
    y.append("      faults: [%s]" % ", ".join("{vector: %s, error_code: %s}" % (NAMES[v], h(c)) if c is not None
                                             else NAMES[v] for v, c in faults))
    # The last fault is delivered through the preset's 64-bit interrupt gate (INT-5..INT-9, INT-12): a stack
    # switch from CPL 3, or through #DF's IST1 (docs/kernel-model.md: Linux's ESTACK order) whatever the CPL.
    cpl = 0 if sub == "kernel" else 3
    last = faults[-1][0]
    y.append("      gate: %s" % gate_yaml_record({"vector": last, "type": "interrupt", "dpl": 0, "from_cpl": cpl,
                                                   "to_cpl": 0, "stack_switch": cpl != 0 or last == 8, "if": False}))
    return "\n".join(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rundocs.common_args(ap, count=500)
    ap.add_argument("--family", choices=["ia32", "x86_64", "both"], default="both",
                    help="ia32 task switches, IA-32e refusals (TASK-9), or both (one scenario in five IA-32e)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = rundocs.work_dir(a, "task_diff_")
    docs, sources = [], {}
    for i in range(a.count):
        sid = "task-%d-%d" % (a.seed, i)
        long = a.family == "x86_64" or (a.family == "both" and rng.random() < 0.2)
        text = gen64(rng, sid) if long else gen(rng, sid)
        docs.append(text)
        sources[sid] = text
    rundocs.write_docs(out, docs, per_file=200)
    report = rundocs.run_json(a.ringspec, out)
    if report is None:
        return 2
    bad = rundocs.count_disagreements(report, sources, a.verbose)
    return rundocs.finish(a, out, report, bad)


if __name__ == "__main__":
    sys.exit(main())
