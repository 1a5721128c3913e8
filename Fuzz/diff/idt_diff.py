#!/usr/bin/env python3
"""Differential test: random IDT deliveries on a bare CPU (`kernel: none`), whose `expect` is the
prediction of idt_oracle.py, run through ringspec; prints the disagreements.

    python3 Fuzz/diff/idt_diff.py --seed S --count N [--ringspec PATH] [--keep DIR] [-v]

Each scenario: ia32 or x86_64 (64-bit or compatibility mode at CPL 3), CPL 0 or 3, one event (`int N`,
`int3`, `into` (OF = 1; #UD in 64-bit mode), `int1`,
`irq: V`, a #GP from `mov ds, SEL`, a #PF from `access`), a random gate at the event's vector
(interrupt/trap/task (ia32: only ones that fault before the switch), DPL 0-3, present or not, selector null / beyond the GDT limit / TI = 1 /
data / TSS / not-present code / conforming code / DPL-3 code / 32-bit code in IA-32e mode, IST 0-7,
a non-canonical offset), sometimes broken gates at #NP/#GP/#TS/#SS/#DF, and TSS stacks (ia32 SS0
good or null / RPL != DPL / code; x86_64 RSP0 and IST1-7 good or non-canonical). Checks: the faults
raised in order with their error codes (EXT/IDT/TI), #DF escalation and shutdown, the gate reached
(vector, type, DPL, from/to CPL, stack switch), CPL, CS, SS, ESP/RSP, EIP/RIP and RFLAGS.
Exit status: 0 when engine and oracle agree on every scenario, 1 otherwise.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idt_oracle as O  # noqa: E402
import rundocs  # noqa: E402

NAMES = {1: "DB", 3: "BP", 4: "OF", 6: "UD", 8: "DF", 10: "TS", 11: "NP", 12: "SS", 13: "GP", 14: "PF"}
BAD64 = 0x8000000000000000


def h(v):
    return "0x%x" % v


def layout(long):
    """The linux preset's GDT (LNX-2) plus the entries every generated scenario adds at 20-22."""
    if long:
        gdt = {2: O.Seg("code", 0, long=True), 3: O.Seg("data", 0), 4: O.Seg("code", 3),
               5: O.Seg("data", 3), 6: O.Seg("code", 3, long=True), 8: O.Seg("system", 0),
               1: O.Seg("code", 0)}
        gdt[20] = O.Seg("code", 0, present=False, long=True)
        gdt[21] = O.Seg("code", 0, conforming=True, long=True)
        gdt[22] = O.Seg("code", 0)
        gdt[23] = O.Seg("code", 0, long=True, limit=0xFFFF)  # the limit is ignored in 64-bit mode
        kcs, kds, ucs, uds, tss = 0x10, 0x18, 0x33, 0x2B, 0x40
        text = 0xFFFFFFFF81000000
    else:
        gdt = {12: O.Seg("code", 0), 13: O.Seg("data", 0), 14: O.Seg("code", 3), 15: O.Seg("data", 3),
               16: O.Seg("tss-busy", 0)}
        gdt[24] = O.Seg("tss", 0, present=False)
        gdt[20] = O.Seg("code", 0, present=False)
        gdt[21] = O.Seg("code", 0, conforming=True)
        gdt[22] = O.Seg("data", 0, present=False)
        gdt[23] = O.Seg("code", 0, limit=0xFFFF)
        kcs, kds, ucs, uds, tss = 0x60, 0x68, 0x73, 0x7B, 0x80
        text = 0xC0100000
    return gdt, kcs, kds, ucs, uds, tss, text


def preset_idt(long, kcs, text):
    idt = {}
    for v in range(0x30):
        ist = {8: 1, 2: 2, 1: 3, 18: 4}.get(v, 0) if long else 0
        idt[v] = O.Gate("interrupt", 3 if v in (3, 4) else 0, kcs, text + 0x1000 + v * 0x10, ist=ist)
    idt[0x80] = O.Gate("interrupt" if long else "trap", 3, kcs, text + 0x2000)
    return idt


def rand_gate(rng, long, kcs, kds, ucs, tss, text):
    r = rng.random()
    if r < 0.45:
        sel = kcs
    else:
        sel = rng.choice([0, 3, 0xFFF8, 0x0C, kds, tss, 0xA0, 0xA8, 0xA8 | 3, ucs, 0xB0, kcs | 3, 0xB8, 0xB8])
    typ = rng.choice(["interrupt", "trap"] * 6 + ["task"])
    if typ == "task" and not long:
        # ia32: only task gates that fault before the switch (null, TI = 1, beyond the limit, a code
        # segment, the busy current TSS, a not-present TSS)
        sel = rng.choice([0, 0x84, 0xFFF8, kcs, tss, tss, 0xC0, 0xC0])
    off = text + rng.choice([0x100, 0x200, 0x480])
    if sel == 0xB8:  # the code segment with limit 0xffff
        off = rng.choice([0x100, 0xFFFF, 0x10000, 0x20000])
    if long and rng.random() < 0.1:
        off = rng.choice([0x0000800000000000, 0xFFFF7FFFFFFFF000])
    ist = rng.choice([0, 0, 0, 1, 2, 3, 4, 5, 6, 7]) if long else 0
    return O.Gate(typ, rng.choice([0, 3, 3, 1, 2]), sel, off, present=rng.random() < 0.85, ist=ist)


def gate_yaml(g, long):
    if g.type == "task":
        return "{type: task, dpl: %d, present: %s%s}" % (g.dpl, str(g.present).lower(),
                                                          "" if long else ", tss: %s" % h(g.selector))
    s = "{type: %s, dpl: %d, selector: %s, offset: %s, present: %s" % (
        g.type, g.dpl, h(g.selector), h(g.offset), str(g.present).lower())
    if long:
        s += ", ist: %d" % g.ist
    return s + "}"


def gen(rng, sid):
    mode = rng.choice(["ia32", "x86_64"])
    long = mode == "x86_64"
    cpl = rng.choice([0, 3])
    gdt, kcs, kds, ucs, uds, tss_sel, text = layout(long)
    idt = preset_idt(long, kcs, text)
    # x86_64 at CPL 3: sometimes a compatibility-mode task (user32_cs), where INTO exists.
    compat = long and cpl == 3 and rng.random() < 0.35
    kinds = ["int", "int", "int", "int3", "int1", "irq", "gp", "pf", "into"]
    kind = rng.choice(kinds)
    initial = []
    if kind == "int":
        v = rng.choice([rng.randrange(0x30, 0x100), 0x80, 13, 14, 8, 3, 11, rng.randrange(0, 0x30)])
        ev, step = O.Event("int", v), 'exec: "int %s"' % h(v)
    elif kind == "int3":
        ev, step, initial = O.Event("int3", 3), 'exec: "int3"', [(3, None)]
    elif kind == "into" and long and not compat:
        # SDM INTO: #UD in 64-bit mode (a hardware exception: EXT = 1, no DPL check).
        ev, step, initial = O.Event("exc", 6), 'exec: "into"', [(6, None)]
    elif kind == "into":
        ev, step, initial = O.Event("into", 4), 'exec: "into"', [(4, None)]
    elif kind == "int1":
        ev, step, initial = O.Event("int1", 1), 'exec: "int1"', [(1, None)]
    elif kind == "irq":
        v = rng.choice([0x21, 0x2F, rng.randrange(0x30, 0x100)])
        ev, step = O.Event("irq", v), "irq: %s" % h(v)
    elif kind == "gp":
        sel = 0xFFF8 if cpl == 0 or rng.random() < 0.5 else kds
        ev, step = O.Event("exc", 13, sel & 0xFFFC), 'exec: "mov ds, %s"' % h(sel)
        initial = [(13, sel & 0xFFFC)]
    else:
        code = 4 if cpl == 3 else 0
        ev, step = O.Event("exc", 14, code), "access: {op: read, addr: 0x10000000, size: 4}"
        initial = [(14, code, 0x10000000)]
    changed = {ev.vector: rand_gate(rng, long, kcs, kds, ucs, tss_sel, text)}
    for w in (10, 11, 12, 13, 8):
        if w not in changed and rng.random() < 0.12:
            changed[w] = rand_gate(rng, long, kcs, kds, ucs, tss_sel, text)
    idt.update(changed)
    # TSS stacks
    if long:
        tss = {"rsp0": 0xFFFF888002008000 if rng.random() < 0.75 else rng.choice([BAD64, 0x1000])}
        for n in range(1, 8):
            tss["ist%d" % n] = 0xFFFF888003000000 if rng.random() < 0.8 else rng.choice([BAD64, 0x1000])
        tss_y = "{name: tss, %s}" % ", ".join("%s: %s" % (k, h(v)) for k, v in tss.items())
    else:
        ss0 = kds if rng.random() < 0.7 else rng.choice([0, uds, kcs, 0xB0, kds | 1, 0x6C])
        esp0 = 0xC2008000 if rng.random() < 0.85 else 0x1000
        tss = {"ss0": ss0, "esp0": esp0}
        tss_y = "{name: tss, ss0: %s, esp0: %s}" % (h(ss0), h(esp0))
    if cpl == 0:
        ss, rsp = (0x18, 0xFFFF888002007FF0) if long else (0x68, 0xC2006000)
    else:
        ss, rsp = (0x2B, 0xFFFFDFF0 if compat else 0x7FFFFFFFEFF0) if long else (0x7B, 0xBFFFFFF0)
    m = O.Machine(mode, cpl, gdt, idt, tss, ss, rsp)
    faults, outcome = m.deliver(ev, initial)
    if outcome[0] == "refuse":
        return None
    y = ["scenario: %s" % sid, "machine:", "  mode: %s" % mode, "  tss: %s" % tss_y, "  gdt:"]
    if long:
        y += ["    20: {type: code, dpl: 0, long: true, present: false}",
              "    21: {type: code, dpl: 0, long: true, conforming: true}",
              "    22: {type: code, dpl: 0}",
              "    23: {type: code, dpl: 0, long: true, limit: 0xffff}"]
    else:
        y += ["    20: {type: code, dpl: 0, present: false}",
              "    21: {type: code, dpl: 0, conforming: true}",
              "    22: {type: data, dpl: 0, present: false}",
              "    23: {type: code, dpl: 0, limit: 0xffff}",
              "    24: {type: tss32, dpl: 0, present: false}"]
    y.append("  idt:")
    for v in sorted(changed):
        y.append("    %d: %s" % (v, gate_yaml(changed[v], long)))
    y.append("kernel: none")
    # Initial flags: IF plus sometimes NT, RF, IOPL 3, AC, CF/ZF (OF for INTO); never TF or VM.
    flags = rng.choice([0x202, 0x202, 0x4202, 0x10202, 0x3202, 0x40202, 0x243]) | (0x800 if kind == "into" else 0)
    fl = "rflags" if long and not compat else "eflags"
    y += ["processes:", "  - name: t", "    state: running"]
    if compat:
        y.append("    bits: 32")
    if cpl == 3:
        y.append("    context: {%s: %s}" % (fl, h(flags)))
    elif long:
        y.append("    context: {cs: kernel_cs, ss: kernel_ds, rip: 0xffffffff81000000, rsp: 0xffff888002007ff0, "
                 "rflags: %s}" % h(flags))
    else:
        y.append("    context: {cs: kernel_cs, ss: kernel_ds, eip: 0xc0100000, esp: 0xc2006000, eflags: %s}" % h(flags))
    y += ["steps:", "  - " + step, "    expect:"]
    items = []
    for f in faults:
        if f[1] is None:
            items.append(NAMES.get(f[0], str(f[0])))
        elif len(f) > 2:
            items.append("{vector: %s, error_code: %s, cr2: %s}" % (NAMES.get(f[0], f[0]), h(f[1]), h(f[2])))
        else:
            items.append("{vector: %s, error_code: %s}" % (NAMES.get(f[0], f[0]), h(f[1])))
    y.append("      faults: [%s]" % ", ".join(items))
    if outcome[0] == "shutdown":
        y.append("      shutdown: true")
    else:
        r = outcome[1]
        y.append("      shutdown: false")
        y.append("      gate: {vector: %s, type: %s, dpl: %d, from_cpl: %d, to_cpl: %d, stack_switch: %s}" % (
            h(r["vector"]), r["type"], r["dpl"], r["from_cpl"], r["to_cpl"], str(r["stack_switch"]).lower()))
        y.append("      cpl: %d" % r["to_cpl"])
        sp, ip = ("rsp", "rip") if long else ("esp", "eip")
        y.append("      regs: {cs: %s, ss: %s, %s: %s, %s: %s}" % (h(r["cs"]), h(r["ss"]), sp, h(r["rsp"]), ip,
                                                               h(r["rip"])))
        # INT-9: both gate kinds clear TF, NT, RF and VM; an interrupt gate clears IF too.
        after = flags & ~(0x100 | 0x4000 | 0x10000 | 0x20000) & ~(0 if r["if"] else 0x200)
        y.append("      rflags: {if: %s}" % str(r["if"]).lower())
        y[-2] = y[-2][:-1] + ", rflags: %s}" % h(after)
    return "\n".join(y)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rundocs.common_args(ap, count=500)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = rundocs.work_dir(a, "idt_diff_")
    docs, sources = [], {}
    i = 0
    while len(docs) < a.count:
        sid = "idt-%d-%d" % (a.seed, i)
        i += 1
        text = gen(rng, sid)
        if text is None:
            continue  # the oracle cannot vouch for the stack the frame goes to
        docs.append(text)
        sources[sid] = text
    rundocs.write_docs(out, docs, per_file=500)
    report = rundocs.run_json(a.ringspec, out)
    if report is None:
        return 2
    bad = rundocs.count_disagreements(report, sources, a.verbose)
    return rundocs.finish(a, out, report, bad)


if __name__ == "__main__":
    sys.exit(main())
