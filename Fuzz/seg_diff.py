#!/usr/bin/env python3
"""Differential test of ringspec's segment loads and far transfers against Fuzz/seg_oracle.py.

    python3 Fuzz/seg_diff.py --seed S --count N [--engine .build/debug/ringspec] [--keep DIR]

Generates N random-but-valid ia32 scenarios (GDT/LDT entries with random type, DPL, present bit,
limit; selectors with random index, TI, RPL; CPL 0..3 from the task's context), writes the oracle's
prediction as each step's `expect`, runs them through `ringspec run --format json` and prints every
disagreement (expected = oracle, actual = engine). Exit status 0 when engine and oracle agree.
With --keep DIR the generated files are kept (the failing scenarios under DIR/failing.yaml).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seg_oracle import Desc, Fault, Machine, SegReg, VECTOR_NAMES, is_null  # noqa: E402

# Fixed GDT slots (ia32 linux preset, LNX-1) plus ring-1 and ring-2 flat segments for CPL 1/2 tasks.
KCS, KDS, UCS, UDS, TSS = 12, 13, 14, 15, 16
R1CS, R1DS, R2CS, R2DS = 17, 18, 19, 20
FIRST_RANDOM = 21
CODE_OF_CPL = [KCS, R1CS, R2CS, UCS]
DATA_OF_CPL = [KDS, R1DS, R2DS, UDS]
EIP0 = 0x1000
ESP0_USER = 0xBFFFFF00              # inside the default two-page user stack (0xbfffe000..0xc0000000)
TSS_STACKS = {0: 0xC2008000, 1: 0xBFFFE800, 2: 0xBFFFEC00}
SMALL_LIMIT = 0xFFF                  # byte-granular code limit for EIP-beyond-limit cases


def fixed_gdt() -> dict:
    return {
        KCS: Desc("code", dpl=0), KDS: Desc("data", dpl=0), UCS: Desc("code", dpl=3), UDS: Desc("data", dpl=3),
        TSS: Desc("tss", dpl=0, busy=True, limit=0x67),
        R1CS: Desc("code", dpl=1), R1DS: Desc("data", dpl=1), R2CS: Desc("code", dpl=2), R2DS: Desc("data", dpl=2),
    }


class Gen:
    def __init__(self, rng: random.Random):
        self.r = rng

    def selector(self, top: int, ldt_len: int) -> int:
        r = self.r
        ti = 1 if r.random() < 0.15 else 0
        if ti:
            idx = r.randint(0, max(ldt_len + 1, 2))
        else:
            roll = r.random()
            if roll < 0.08:
                idx = 0
            elif roll < 0.25:
                idx = r.randint(KCS, R2DS)
            elif roll < 0.9:
                idx = r.randint(FIRST_RANDOM, top)
            else:
                idx = r.randint(top + 1, max(top + 4, 33))
        return (idx << 3) | (ti << 2) | r.randint(0, 3)

    def pick(self, table: dict, kinds: tuple, rpl: int) -> int:
        """A GDT selector naming an entry of one of `kinds` (any entry if none), with the given RPL."""
        cands = [i for i, d in table.items() if d.kind in kinds] or list(table)
        return (self.r.choice(cands) << 3) | rpl

    def near_valid_rpl(self, cpl: int) -> int:
        """Mostly an RPL that passes privilege checks at this CPL, sometimes any."""
        return cpl if self.r.random() < 0.6 else self.r.randint(0, 3)

    def segment(self, code_target_pool: list) -> Desc:
        r = self.r
        if r.random() < 0.5:
            return Desc("code", dpl=r.randint(0, 3), present=r.random() < 0.85, conforming=r.random() < 0.35,
                        readable=r.random() < 0.7, limit=SMALL_LIMIT if r.random() < 0.2 else 0xFFFF_FFFF)
        return Desc("data", dpl=r.randint(0, 3), present=r.random() < 0.85, writable=r.random() < 0.7)

    def table_entry(self, top: int, ldt_len: int, in_ldt: bool) -> Desc:
        r = self.r
        roll = r.random()
        if roll < 0.55:
            return self.segment([])
        if roll < 0.8:
            tgt = self.selector(top, ldt_len) if r.random() < 0.3 else (r.choice(CODE_OF_CPL) << 3) | r.randint(0, 3)
            return Desc("call_gate", dpl=r.choice([0, 1, 2, 3, 3, 3]), present=r.random() < 0.85, target=tgt,
                        offset=r.choice([0x100, 0x2000, 0x0804_8000]), params=r.choice([0, 0, 1, 2, 3]))
        if in_ldt or roll < 0.87:
            return Desc("empty", present=False)
        if roll < 0.94:
            return Desc("tss", dpl=r.randint(0, 3), present=r.random() < 0.85, busy=r.random() < 0.3,
                        limit=0x67 if r.random() < 0.85 else 0x50,
                        tss={"cs": (UCS << 3) | 3, "ss": (UDS << 3) | 3, "ds": (UDS << 3) | 3, "es": (UDS << 3) | 3,
                             "fs": 0, "gs": 0, "eip": 0x0804_8000, "esp": 0xBFFFFE00})
        return Desc("task_gate", dpl=r.randint(0, 3), present=r.random() < 0.85,
                    target=self.selector(top, ldt_len) if r.random() < 0.5 else None)


def yaml_desc(name: str, d: Desc) -> str:
    p = [f"name: {name}"]
    if d.kind == "code":
        p += ["type: code", f"dpl: {d.dpl}", f"present: {str(d.present).lower()}",
              f"conforming: {str(d.conforming).lower()}", f"readable: {str(d.readable).lower()}"]
        if d.limit != 0xFFFF_FFFF:
            p.append(f"limit: {d.limit:#x}")
    elif d.kind == "data":
        p += ["type: data", f"dpl: {d.dpl}", f"present: {str(d.present).lower()}", f"writable: {str(d.writable).lower()}"]
    elif d.kind == "call_gate":
        p += ["type: call_gate", f"dpl: {d.dpl}", f"present: {str(d.present).lower()}", f"selector: {d.target:#x}",
              f"offset: {d.offset:#x}", f"params: {d.params}"]
    elif d.kind == "task_gate":
        p += ["type: task_gate", f"dpl: {d.dpl}", f"present: {str(d.present).lower()}", f"tss: {d.target:#x}"]
    elif d.kind == "tss":
        p += ["type: tss32", f"dpl: {d.dpl}", f"present: {str(d.present).lower()}", f"busy: {str(d.busy).lower()}",
              f"limit: {d.limit:#x}", "eflags: 0x202"] + [f"{k}: {v:#x}" for k, v in d.tss.items()]
    elif d.kind == "ldt":
        p += ["type: ldt", f"dpl: {d.dpl}"]
    return "{" + ", ".join(p) + "}"


def fault_yaml(f: Fault) -> str:
    return f"{{vector: {VECTOR_NAMES[f.vector]}, error_code: {f.code:#x}}}"


def state_yaml(m: Machine, with_ip: bool) -> str:
    regs = [f"{r}: {m.segs[r].sel:#x}" for r in ("cs", "ss", "ds", "es", "fs", "gs")]
    if with_ip:
        regs += [f"eip: {m.eip:#x}", f"esp: {m.esp:#x}"]
    return f"{{fault: none, cpl: {m.cpl}, regs: {{{', '.join(regs)}}}}}"


def scenario(gen: Gen, sid: str) -> str:
    r = gen.r
    top = r.randint(FIRST_RANDOM + 2, 40)
    gdt = fixed_gdt()
    ldt = None
    ldt_index = None
    if r.random() < 0.4:
        ldt_len = r.randint(1, 6)
        ldt_index = r.randint(FIRST_RANDOM, top)
    else:
        ldt_len = 0
    for i in range(FIRST_RANDOM, top + 1):
        if i == ldt_index:
            gdt[i] = Desc("ldt", dpl=r.randint(0, 3))
        else:
            gdt[i] = gen.table_entry(top, ldt_len, False)
    if ldt_index is not None:
        ldt = [gen.table_entry(top, ldt_len, True) for _ in range(ldt_len)]
    # Task gates with no target get a TSS slot of this GDT (or anything).
    tss_slots = [i for i, d in gdt.items() if d.kind == "tss"]
    for d in list(gdt.values()) + (ldt or []):
        if d.kind == "task_gate" and d.target is None:
            d.target = (r.choice(tss_slots) << 3 if tss_slots and r.random() < 0.8 else gen.selector(top, ldt_len)) | r.randint(0, 3)
    cpl = r.choice([0, 1, 2, 3, 3])
    # The TSS's ring stacks: usually right, sometimes any selector (ring 0 stays right so that faults deliver).
    stacks = {0: ((KDS << 3), TSS_STACKS[0])}
    for n in (1, 2):
        ss = (DATA_OF_CPL[n] << 3) | n if r.random() < 0.6 else gen.selector(top, ldt_len)
        stacks[n] = (ss, TSS_STACKS[n])

    def ctx_sel() -> int:
        roll = r.random()
        if roll < 0.2:
            return r.randint(0, 3)
        cands = [i for i, d in gdt.items() if d.kind in ("code", "data")]
        return (r.choice(cands) << 3) | r.randint(0, 3)

    segs = {"cs": (CODE_OF_CPL[cpl] << 3) | cpl, "ss": (DATA_OF_CPL[cpl] << 3) | cpl, "ds": (UDS << 3) | 3,
            "es": ctx_sel(), "fs": ctx_sel(), "gs": ctx_sel()}
    ldt_limit = len(ldt) * 8 - 1 if ldt else 0
    gdt_limit = (max(31, top) + 1) * 8 - 1
    m = Machine(gdt=gdt, gdt_limit=gdt_limit, ldt=ldt, ldt_limit=ldt_limit, cpl=cpl,
                segs={k: SegReg(v, None if is_null(v) else (gdt.get(v >> 3) if not (v & 4) else None)) for k, v in segs.items()},
                eip=EIP0, esp=ESP0_USER, tss_stacks=stacks)

    steps: list[str] = []
    faulted = False

    def run(text: str, length: int, op, with_ip: bool) -> bool:
        """Predicts one step; returns False when it faults or switches tasks (the scenario ends)."""
        nonlocal faulted
        try:
            res = op()
        except Fault as f:
            steps.append(f"  - exec: \"{text}\"\n    expect: {{fault: {fault_yaml(f)}}}  # {f.rule}")
            faulted = True
            return False
        if res == "task":
            steps.append(f"  - exec: \"{text}\"\n    expect: {state_yaml(m, True)}  # task switch")
            return False
        if not with_ip:
            m.eip = (m.eip + length) & 0xFFFF_FFFF
        steps.append(f"  - exec: \"{text}\"\n    expect: {state_yaml(m, with_ip)}")
        return True

    def random_loads(k: int, regs: tuple) -> bool:
        for _ in range(k):
            reg = r.choice(regs)
            if r.random() < 0.5:
                s = gen.selector(top, ldt_len)
            elif reg == "ss":
                s = gen.pick(gdt, ("data",), gen.near_valid_rpl(m.cpl))
            else:
                s = gen.pick(gdt, ("data", "code"), gen.near_valid_rpl(m.cpl))
            if not run(f"mov {reg}, {s:#x}", 2, lambda: m.mov_sreg(reg, s), False):
                return False
        return True

    def store(addr: int, value: int) -> None:
        steps.append(f"  - exec: \"mov eax, {value:#x}\"")
        steps.append(f"  - exec: \"mov [{addr:#x}], eax\"\n    expect: {{fault: none}}")
        m.write32(addr, value)
        m.eip = (m.eip + 11) & 0xFFFF_FFFF

    kind = r.choice(["loads", "far", "far", "retf"])
    if kind == "loads":
        random_loads(r.randint(1, 5), ("ds", "es", "fs", "gs", "ss", "ds", "es"))
    elif kind == "far":
        for i in range(3):                               # parameters a call gate may copy
            store(ESP0_USER + 4 * i, 0x1111 * (i + 1))
        ok = random_loads(r.randint(0, 1), ("ds", "es", "fs", "gs"))
        if ok:
            op = r.choice(["call", "call", "jmp"])
            roll = r.random()
            if roll < 0.3:
                s = gen.selector(top, ldt_len)
            elif roll < 0.75:
                s = gen.pick(gdt, ("call_gate",), gen.near_valid_rpl(m.cpl))
            elif roll < 0.9:
                s = gen.pick(gdt, ("code",), gen.near_valid_rpl(m.cpl))
            else:
                s = gen.pick(gdt, ("tss", "task_gate"), gen.near_valid_rpl(m.cpl))
            off = r.choice([0x100, 0x2000, 0x0804_8000])
            before_cpl = m.cpl
            if run(f"{op} far {s:#x}:{off:#x}", 7, lambda: m.far(op, s, off), True) and op == "call":
                if random_loads(r.randint(0, 2), ("ds", "es", "fs", "gs")):
                    gate = m.lookup(s)
                    n = 4 * gate.params if gate is not None and gate.kind == "call_gate" and m.cpl < before_cpl else r.choice([0, 4])
                    run(f"retf {n}" if n else "retf", 3 if n else 1, lambda: m.retf(n), True)
    else:
        n = r.choice([0, 0, 4, 8])
        roll = r.random()
        if roll < 0.3:
            rcs = gen.selector(top, ldt_len)
        elif roll < 0.6:
            rcs = gen.pick(gdt, ("code",), r.randint(m.cpl, 3) if r.random() < 0.8 else r.randint(0, 3))
        else:
            rpl = r.randint(m.cpl, 3)
            rcs = (CODE_OF_CPL[rpl] << 3) | rpl
        roll = r.random()
        if roll < 0.25:
            rss = gen.selector(top, ldt_len)
        elif roll < 0.5:
            rss = gen.pick(gdt, ("data",), rcs & 3 if r.random() < 0.8 else r.randint(0, 3))
        else:
            rss = (DATA_OF_CPL[rcs & 3] << 3) | (rcs & 3)
        rip = r.choice([0x100, 0x2000, 0x0804_8010])
        store(ESP0_USER, rip)
        store(ESP0_USER + 4, rcs)
        store(ESP0_USER + 8 + n, 0xBFFFF800)
        store(ESP0_USER + 12 + n, rss)
        if random_loads(r.randint(0, 2), ("ds", "es", "fs", "gs")):
            run(f"retf {n}" if n else "retf", 3 if n else 1, lambda: m.retf(n), True)

    # The YAML document.
    out = [f"scenario: {sid}", "machine:", "  mode: ia32",
           f"  tss: {{name: tss, ss0: {stacks[0][0]:#x}, esp0: {stacks[0][1]:#x}, ss1: {stacks[1][0]:#x}, "
           f"esp1: {stacks[1][1]:#x}, ss2: {stacks[2][0]:#x}, esp2: {stacks[2][1]:#x}}}",
           "  gdt:"]
    for i in sorted(gdt):
        if i < R1CS or gdt[i].kind == "empty":
            continue
        out.append(f"    {i}: {yaml_desc(f'g{i}', gdt[i])}")
    if ldt is not None:
        out.append("  ldt:")
        for i, d in enumerate(ldt):
            out.append(f"    - {yaml_desc(f'l{i}', d) if d.kind != 'empty' else 'null'}")
    out += ["kernel: none", "processes:", "  - name: t", "    state: running",
            f"    context: {{{', '.join(f'{k}: {v:#x}' for k, v in segs.items())}, eip: {EIP0:#x}, esp: {ESP0_USER:#x}}}",
            "steps:"]
    out += steps
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--engine", default=None, help="the ringspec binary (default .build/debug/ringspec)")
    ap.add_argument("--keep", default=None, help="keep the generated files in this folder")
    ap.add_argument("--max-report", type=int, default=20)
    a = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    engine = a.engine or os.path.join(root, ".build", "debug", "ringspec")
    rng = random.Random(a.seed)
    gen = Gen(rng)
    docs = {f"seg-{a.seed}-{i}": scenario(gen, f"seg-{a.seed}-{i}") for i in range(a.count)}
    folder = a.keep or tempfile.mkdtemp(prefix="segdiff-")
    os.makedirs(folder, exist_ok=True)
    files = []
    ids = list(docs)
    for k in range(0, len(ids), 200):
        path = os.path.join(folder, f"gen-{a.seed}-{k // 200}.yaml")
        with open(path, "w") as fh:
            fh.write("---\n".join(docs[i] for i in ids[k:k + 200]))
        files.append(path)
    p = subprocess.run([engine, "run", "--format", "json", *files], capture_output=True, text=True)
    try:
        report = json.loads(p.stdout)
    except json.JSONDecodeError:
        print(p.stdout[:2000], p.stderr[:2000], file=sys.stderr)
        return 2
    bad = [s for s in report["scenarios"] if s["status"] != "passed"]
    for s in bad[:a.max_report]:
        print(f"== {s['id']} ({s['status']})")
        for f in s["failures"]:
            print(f"   {f['path']}: oracle {f['expected']}, engine {f['actual']}")
        for d in s["diagnostics"]:
            print(f"   {d['severity']}: {d['message']} (line {d['line']})")
    if a.keep and bad:
        with open(os.path.join(folder, "failing.yaml"), "w") as fh:
            fh.write("---\n".join(docs[s["id"]] for s in bad if s["id"] in docs))
    print(f"seed {a.seed}: {len(docs)} scenarios, {len(docs) - len(bad)} agree, {len(bad)} disagree")
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
