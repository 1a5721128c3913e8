#!/usr/bin/env python3
"""Differential testing of ringspec's paging model against Fuzz/paging_oracle.py.

Generates random scenarios (32-bit, PAE and 4-level paging; 4 KiB, 4 MiB, 2 MiB, 1 GiB pages;
random leaf and upper-level flags; CR0.WP, CR4.PSE/PGE/SMEP/SMAP/PKE, EFER.NXE, EFLAGS.AC, PKRU;
reads, writes, fetches at CPL 0 and 3, implicit supervisor accesses), writes them with the
oracle's prediction as `expect`, runs the engine on them and reports every scenario whose
outcome differs. Two kinds of scenario:

  single   one access on a fresh machine: fault none (physical, A, D) or #PF (error code, CR2)
  tlb      a kernel task (CPL 0) makes several accesses while `set: pages` edits the entries,
           with INVLPG and CR3 writes in between (stale TLB entries, global pages, PAE PDPTEs)

Usage:
  python3 Fuzz/paging_diff.py --seed 1 --count 500            # runs .build/debug/ringspec
  python3 Fuzz/paging_diff.py --seed 1 --count 500 --keep out/ # keep the generated files
  python3 Fuzz/paging_diff.py --seed 7 --count 1 --kind tlb --print   # show one scenario

Exit status 0 when the engine agrees with the oracle on every scenario, 1 otherwise.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import paging_oracle as O  # noqa: E402

FLAG_ORDER = ["present", "writable", "user", "nx", "global", "accessed", "dirty", "pkey", "reserved"]


def yflow(d: dict) -> str:
    """A flow-style YAML map (numbers in hex where they are addresses)."""
    parts = []
    for k, v in d.items():
        if isinstance(v, bool):
            s = "true" if v else "false"
        elif isinstance(v, int):
            s = hex(v) if k in ("virt", "phys", "addr", "cr2", "physical", "pkru", "error_code") else str(v)
        elif isinstance(v, dict):
            s = yflow(v)
        else:
            s = str(v)
        parts.append(f"{k}: {s}")
    return "{" + ", ".join(parts) + "}"


class Gen:
    """Random cases. Each case knows its machine settings, mapping and steps."""

    def __init__(self, rng: random.Random):
        self.r = rng

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def control(self, mode: str) -> O.Control:
        c = O.Control(mode=mode)
        c.wp = self.chance(0.6)
        c.pge = self.chance(0.3)
        c.smep = self.chance(0.35)
        c.smap = self.chance(0.35)
        c.ac = self.chance(0.4)
        c.nxe = self.chance(0.7) if mode != "32bit" else self.chance(0.2)
        c.pse = mode == "32bit" and self.chance(0.6)
        # CR4.PKE may be set in any mode; keys only count in 4-level paging (SDM §4.6.2).
        c.pke = self.chance(0.5 if mode == "4level" else 0.2)
        if c.pke:
            c.pkru = self.r.choice([0x55555554, self.r.getrandbits(32), self.r.getrandbits(32) & self.r.getrandbits(32),
                                    1 << self.r.randrange(32), 0xFFFFFFFF, 0xAAAAAAAA])
        return c

    def flags(self, leaf: bool, ctl: O.Control, level: str, large: bool) -> dict:
        """Random flags; only those the format accepts for this entry."""
        f = {}
        pae_pdpte = ctl.mode == "pae" and level == "pdpte"
        if self.chance(0.08 if leaf else 0.04):
            f["present"] = False
        if pae_pdpte:
            return f
        if self.chance(0.7):
            f["writable"] = self.chance(0.6 if leaf else 0.85)
        if self.chance(0.7):
            f["user"] = self.chance(0.6 if leaf else 0.85)
        if ctl.mode != "32bit" and self.chance(0.25 if leaf else 0.1):
            f["nx"] = True
        if self.chance(0.3 if leaf else 0.1):
            f["global"] = True   # ignored in a non-leaf entry
        if self.chance(0.2):
            f["accessed"] = True
        if self.chance(0.2 if leaf else 0.1):
            f["dirty"] = True    # ignored in a non-leaf entry
        if ctl.mode == "4level" and self.chance(0.5 if leaf else 0.15):   # only the leaf's key counts
            f["pkey"] = self.r.randrange(4) if self.chance(0.5) else self.r.randrange(16)
        can_reserve = ctl.mode != "32bit" or (leaf and large)
        if can_reserve and self.chance(0.05 if leaf else 0.03):
            f["reserved"] = True
        return f

    def virt(self, mode: str, size: str) -> int:
        align = O.SIZES[size]
        if mode == "32bit":
            lo, hi = 0x10000000, 0xB0000000        # clear of text (0x08048000), stack, kernel (0xC0000000)
        elif mode == "pae":
            lo, hi = 0x40000000, 0x80000000        # PDPTE 1: no other mapping shares it
        else:
            pml4 = self.r.randrange(1, 255)        # clear of PML4E 0 (text) and 255 (stack)
            lo, hi = pml4 << 39, (pml4 + 1) << 39
        return self.r.randrange(lo // align, hi // align) * align

    def phys(self, mode: str, size: str) -> int:
        align = O.SIZES[size]
        if size == "4k" and (mode == "32bit" or self.chance(0.5)):
            return self.r.randrange(0x100000 // align, 0x2000000 // align) * align   # explicit pool
        return self.r.randrange((0x80 << 32) // align, (1 << O.MAXPHYADDR) // align) * align

    def spec(self, ctl: O.Control, near: dict | None = None) -> dict:
        """A random `pages` entry; `near` puts it next to (or over the tables of) another one."""
        mode = ctl.mode
        sizes = {"32bit": ["4k"] + (["4m"] if ctl.pse else []), "pae": ["4k", "2m"],
                 "4level": ["4k", "2m", "1g"]}[mode]
        size = self.r.choice(sizes)
        align = O.SIZES[size]
        if near is None:
            virt = self.virt(mode, size)
        else:
            span = O.SIZES[near.get("size", "4k")] * near.get("count", 1)
            virt = self.r.choice([near["virt"] + span, near["virt"] - align, near["virt"] + 2 * span,
                                  (near["virt"] & ~0x3FFFFF) + self.r.randrange(0, 1024) * 0x1000])
            virt &= ~(align - 1)
        spec = {"virt": virt, "phys": self.phys(mode, size)}
        if size != "4k":
            spec["size"] = size
        if size == "4k" and self.chance(0.3):
            spec["count"] = self.r.randrange(2, 4)
        levels = O.levels_for(mode, size)
        leaf = self.flags(True, ctl, levels[-1], size != "4k")
        spec.update({k: leaf[k] for k in FLAG_ORDER if k in leaf})
        for level in levels[:-1]:
            if self.chance(0.4):
                spec[level] = self.flags(False, ctl, level, False)
        return spec

    def space(self, ctl: O.Control, n: int) -> tuple[list[dict], O.AddressSpace]:
        """Up to `n` mappings that the format accepts together (conflicting ones are dropped)."""
        sp = O.AddressSpace(ctl.mode)
        specs: list[dict] = []
        for _ in range(50):
            if len(specs) >= n:
                break
            spec = self.spec(ctl, self.r.choice(specs) if specs and self.chance(0.7) else None)
            if not in_range(ctl.mode, spec):
                continue
            trial = copy.deepcopy(sp)
            try:
                trial.map(spec)
            except O.MappingError:
                continue
            sp = trial
            specs.append(spec)
        return specs, sp

    def access(self, specs: list[dict], kernel_task: bool) -> tuple[dict, O.Access, int, int]:
        op = self.r.choice(["read", "write", "fetch"])
        cpl = 0 if kernel_task else self.r.choice([0, 3])
        implicit = op != "fetch" and self.chance(0.15)
        size = 1 if op == "fetch" else self.r.choice([1, 2, 4, 8])
        spec = self.r.choice(specs)
        page = O.SIZES[spec.get("size", "4k")]
        first = spec["virt"] + page * self.r.randrange(spec.get("count", 1))
        k = self.r.random()
        if k < 0.3:
            off = self.r.randrange(0, page // 0x1000) * 0x1000
        elif k < 0.45:
            off = page - self.r.randrange(1, size + 1)      # the last bytes: may cross into the next page
        elif k < 0.5:
            off = page + self.r.randrange(0, 0x1000)        # just past the mapping
        else:
            off = self.r.randrange(0, page - size + 1)
        addr = first + off
        step = {"op": op, "addr": addr}
        if op != "fetch":
            step["size"] = size
        if not kernel_task:
            step["cpl"] = cpl
        if implicit:
            step["implicit"] = True
        return step, O.Access(op=op, cpl=cpl, implicit=implicit), addr, size


def in_range(mode: str, spec: dict) -> bool:
    """Keeps mappings clear of the preset's (text, stack, kernel) and of the kernel task's stack."""
    span = O.SIZES[spec.get("size", "4k")] * spec.get("count", 1)
    lo, hi = spec["virt"], spec["virt"] + span
    if mode == "32bit":
        return 0x10000000 <= lo and hi <= 0xB0000000
    if mode == "pae":
        return 0x40000000 <= lo and hi <= 0x80000000
    return (1 << 39) <= lo and hi <= (255 << 39)


def machine_yaml(ctl: O.Control, mode_name: str) -> list[str]:
    lines = [f"  mode: {mode_name}", f"  paging: {ctl.mode}"]
    lines.append(f"  cr0: {yflow({'wp': ctl.wp})}")
    cr4 = {"pge": ctl.pge, "smep": ctl.smep, "smap": ctl.smap}
    if ctl.mode == "32bit":
        cr4["pse"] = ctl.pse
    cr4["pke"] = ctl.pke
    lines.append(f"  cr4: {yflow(cr4)}")
    lines.append(f"  efer: {yflow({'nxe': ctl.nxe})}")
    lines.append(f"  rflags: {yflow({'ac': ctl.ac})}")
    if ctl.pke:
        lines.append(f"  pkru: {hex(ctl.pkru)}")
    return lines


def expect_of(out: O.Outcome, ad: tuple[bool, bool] | None) -> dict:
    if out.fault is not None and out.fault >= 0:
        return {"fault": {"vector": "PF", "error_code": out.fault, "cr2": out.cr2}}
    e = {"fault": "none", "physical": out.physical}
    if ad is not None:
        e.update({"accessed": ad[0], "dirty": ad[1]})
    return e


def emit_access(g: Gen, m: O.Machine, specs: list[dict], kernel_task: bool, indent: str = "  ") -> tuple[list[str], O.Outcome]:
    """One access, written as an `access` step, or as the instruction `mov REG, [ADDR]` /
    `mov [ADDR], REG` when it is a plain data access at the CPU's own CPL (a second path through
    the engine), or (4-level) at a non-canonical address, which is #GP(0) and never #PF (PG-3)."""
    step, acc, addr, size = g.access(specs, kernel_task)
    mode = m.ctl.mode
    if mode == "4level" and g.chance(0.04):
        bad = addr ^ (1 << g.r.randrange(48, 63))
        step["addr"] = bad
        return ([f"{indent}- access: {yflow(step)}",
                 f"{indent}  expect: {{fault: {{vector: GP, error_code: 0x0}}}}"], O.Outcome(fault=-1, why="non-canonical"))
    same_cpl = kernel_task or acc.cpl == 3
    if same_cpl and not acc.implicit and acc.op != "fetch" and g.chance(0.3):
        size = 8 if mode == "4level" and g.chance(0.5) else 4
        reg = "rax" if size == 8 else "eax"
        out = m.access(addr, acc, size)
        text = f"mov {reg}, [{hex(addr)}]" if acc.op == "read" else f"mov [{hex(addr)}], {reg}"
        exp = expect_of(out, None)
        exp = {"fault": exp["fault"]}
        return [f"{indent}- exec: \"{text}\"", f"{indent}  expect: {yflow(exp)}"], out
    out = m.access(addr, acc, size)
    return [f"{indent}- access: {yflow(step)}", f"{indent}  expect: {yflow(expect_of(out, m.leaf_ad(addr)))}"], out


def single_case(g: Gen, name: str) -> tuple[str, list[str]]:
    """A fresh machine, one to three mappings, one access by the user task (CPL 3, or `cpl: 0`)."""
    mode = g.r.choice(["32bit", "pae", "4level"])
    ctl = g.control(mode)
    specs, sp = g.space(ctl, g.r.randrange(1, 4))
    m = O.Machine(ctl, sp)
    steps, out = emit_access(g, m, specs, kernel_task=False)
    lines = [f"scenario: {name}", f"description: \"oracle: {out.why or 'allowed'}\"", "machine:"]
    lines += machine_yaml(ctl, "x86_64" if mode == "4level" else "ia32")
    lines += ["  pages:"] + [f"    - {yflow(s)}" for s in specs]
    lines += ["kernel: none", "steps:"] + steps
    return "\n".join(lines), [out.why or "allowed"]


def tlb_case(g: Gen, name: str, user: bool = False) -> tuple[str, list[str]]:
    """A CPL-0 kernel task: accesses, `set: pages` edits, INVLPG, CR3 writes and control edits.
    With `user`, the default CPL-3 task instead, with accesses at CPL 3 and `cpl: 0` (no INVLPG or
    CR3 writes, which need CPL 0)."""
    mode = g.r.choice(["32bit", "pae", "4level"])
    ctl = g.control(mode)
    specs, sp = g.space(ctl, g.r.randrange(1, 3))
    m = O.Machine(ctl, sp)
    lines = [f"scenario: {name}", "machine:"]
    lines += machine_yaml(ctl, "x86_64" if mode == "4level" else "ia32")
    if user:
        lines += ["  pages:"] + [f"    - {yflow(s)}" for s in specs] + ["kernel: none", "steps:"]
    # A supervisor stack of its own, so that a #PF is delivered without a second fault.
    stack = STACK[mode]
    sp_reg = "rsp" if mode == "4level" else "esp"
    ctx = "{cs: kernel_cs, ss: kernel_ds" + (", ds: kernel_ds" if mode != "4level" else "") + f", {sp_reg}: {hex(stack + 0xff0)}}}"
    lines += [] if user else ["kernel: none", "processes:", "  - name: k", f"    context: {ctx}", "    pages:"]
    if not user:
        lines += [f"      - {yflow(s)}" for s in specs] + [f"      - {{virt: {hex(stack)}, writable: true}}", "steps:"]
    whys = []
    reg = "rax" if mode == "4level" else "eax"
    n = g.r.randrange(3, 10)
    for i in range(n):
        k = 0.0 if i == n - 1 else g.r.random()   # always end with an access
        if k < 0.45:
            steps, out = emit_access(g, m, specs, kernel_task=not user)
            whys.append(out.why or "allowed")
            lines += steps
            if out.fault is not None:
                break   # the CPU now sits at the #PF handler's entry
        elif k < 0.7:
            # Rewrite one mapping with new flags (same frame or a new one): memory only, not the TLB.
            old = g.r.choice(specs)
            levels = O.levels_for(mode, old.get("size", "4k"))
            leaf = g.flags(True, ctl, levels[-1], old.get("size", "4k") != "4k")
            new = {"virt": old["virt"], "phys": g.phys(mode, old.get("size", "4k")) if g.chance(0.5) else old["phys"],
                   **({"size": old["size"]} if "size" in old else {}),
                   **({"count": old["count"]} if "count" in old else {}),
                   **{kk: leaf[kk] for kk in FLAG_ORDER if kk in leaf}}
            for level in levels[:-1]:
                if g.chance(0.3):
                    new[level] = g.flags(False, ctl, level, False)
            trial = copy.deepcopy(sp)
            try:
                trial.map(new, overwrite=True)
            except O.MappingError:
                continue
            sp = m.space = trial
            lines += [f"  - set: {{pages: [{yflow(new)}]}}"]
        elif k < 0.9 and user:
            continue
        elif k < 0.8:
            s0 = g.r.choice(specs)
            addr = s0["virt"] + g.r.randrange(0, O.SIZES[s0.get("size", "4k")] * s0.get("count", 1) + 0x1000)
            m.invlpg(addr)
            lines += [f"  - exec: \"invlpg [{hex(addr)}]\""]
        elif k < 0.9:
            m.write_cr3()
            lines += [f"  - exec: \"mov {reg}, cr3\"", f"  - exec: \"mov cr3, {reg}\""]
        else:
            # A control edit through MOV to CR0/CR4 or a flag write. SDM §4.10.4.1 requires a full flush
            # for a PGE change; the engine also flushes on WP, SMEP, SMAP and PKE changes (and on EFER
            # edits), which §4.10.4.1 permits ("always free to invalidate additional entries").
            # NXE only for the kernel task: clearing it makes the XD bits of the preset's stacks
            # reserved, so a delivery from CPL 3 would double-fault (see Fuzz/README.md).
            what = g.r.choice(["wp", "smep", "smap", "pge", "ac", "pke"] + ([] if user else ["nxe"]))
            if user and what == "ac" and g.chance(0.5):
                what = "pge"
            if what == "wp":
                ctl.wp = not ctl.wp
                m.flush_all()
                lines += [f"  - set: {{cr0: {{wp: {str(ctl.wp).lower()}}}}}"]
            elif what == "nxe":
                ctl.nxe = not ctl.nxe
                m.flush_all()   # the engine flushes on EFER edits
                lines += [f"  - set: {{efer: {{nxe: {str(ctl.nxe).lower()}}}}}"]
            elif what == "ac":
                ctl.ac = not ctl.ac
                lines += [f"  - set: {{rflags: {{ac: {str(ctl.ac).lower()}}}}}"]
            else:
                setattr(ctl, what, not getattr(ctl, what))
                m.flush_all()
                if what in ("smep", "pge"):
                    m.load_pdptes()   # PG-2: MOV to CR4 changing PGE, PSE or SMEP reloads the PDPTEs
                lines += [f"  - set: {{cr4: {{{what}: {str(getattr(ctl, what)).lower()}}}}}"]
    return "\n".join(lines), whys


def deliver_case(g: Gen, name: str) -> tuple[str, list[str]]:
    """`int 0x80` from CPL 3 with TSS.RSP0/ESP0 on one of the fuzzed pages: the frame's pushes are
    explicit supervisor writes at CPL 0 (SDM §4.6.1), so WP, SMAP with AC, keys and not-present or
    reserved entries decide them. A push that faults raises #PF; its own delivery faults the same way,
    which is a double fault: x86_64 delivers #DF on its IST stack, ia32 on the same stack (a triple
    fault)."""
    mode = g.r.choice(["32bit", "pae", "4level"])
    ctl = g.control(mode)
    specs, sp = g.space(ctl, g.r.randrange(1, 3))
    m = O.Machine(ctl, sp)
    spec = g.r.choice(specs)
    page = O.SIZES[spec.get("size", "4k")]
    top = spec["virt"] + page * g.r.randrange(spec.get("count", 1)) + g.r.randrange(0, min(page, 0x2000) // 16 + 1) * 16
    width = 8 if mode == "4level" else 4
    lines = [f"scenario: {name}", "machine:"] + machine_yaml(ctl, "x86_64" if mode == "4level" else "ia32")
    lines += ["  tss: " + (f"{{name: tss, rsp0: {hex(top)}}}" if mode == "4level" else f"{{name: tss, esp0: {hex(top)}, ss0: kernel_ds}}")]
    lines += ["  pages:"] + [f"    - {yflow(s)}" for s in specs] + ["kernel: none", "steps:", '  - exec: "int 0x80"']
    acc = O.Access(op="write", cpl=0)
    out = O.Outcome()
    for i in range(1, 6):    # SS, SP, FLAGS, CS, IP
        out = m.access(top - i * width, acc, width)
        if out.fault is not None:
            break
    if out.fault is None:
        sp_reg = "rsp" if mode == "4level" else "esp"
        exp = f"{{fault: none, gate: {{vector: 0x80, to_cpl: 0, stack_switch: true}}, regs: {{{sp_reg}: {hex(top - 5 * width)}}}}}"
    else:
        first = yflow({"vector": "PF", "error_code": out.fault, "cr2": out.cr2})
        exp = (f"{{faults: [{first}, PF, DF], shutdown: false}}" if mode == "4level"
               else f"{{faults: [{first}, PF, DF, PF], shutdown: true}}")
    lines += [f"    expect: {exp}"]
    return "\n".join(lines), [("push: " + out.why) if out.fault is not None else "allowed"]


# Kernel-task stack pages, outside the ranges `in_range` allows (PAE: PDPTE 0, next to the text).
STACK = {"32bit": 0x0A000000, "pae": 0x0A000000, "4level": 0x7F_0000_0000}   # PML4E 0, next to the text


def run_engine(binary: str, path: str) -> dict:
    p = subprocess.run([binary, "run", "--format", "json", path], capture_output=True, text=True)
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-2000:])
        raise


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--kind", choices=["single", "tlb", "utlb", "deliver", "mixed"], default="mixed")
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "debug", "ringspec"))
    ap.add_argument("--keep", help="folder to keep the generated scenario files in")
    ap.add_argument("--print", action="store_true", help="print the scenarios instead of running them")
    ap.add_argument("--show", type=int, default=10, help="disagreements to print in full")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    g = Gen(rng)
    docs = []
    for i in range(args.count):
        kind = args.kind if args.kind != "mixed" else rng.choice(["single", "single", "tlb", "utlb", "deliver"])
        name = f"s{args.seed}-{i}-{kind}"
        if kind == "single":
            text, _ = single_case(g, name)
        elif kind == "deliver":
            text, _ = deliver_case(g, name)
        else:
            text, _ = tlb_case(g, name, user=kind == "utlb")
        docs.append((name, text))
    if args.print:
        print("\n---\n".join(t for _, t in docs))
        return 0

    folder = args.keep or tempfile.mkdtemp(prefix="paging-diff-")
    os.makedirs(folder, exist_ok=True)
    files = []
    for start in range(0, len(docs), 500):   # at most 1,000 documents per file
        path = os.path.join(folder, f"diff-{args.seed}-{start // 500}.yaml")
        with open(path, "w") as f:
            f.write("\n---\n".join(t for _, t in docs[start:start + 500]) + "\n")
        files.append(path)
    texts = dict(docs)
    bad = 0
    total = 0
    for path in files:
        report = run_engine(args.binary, path)
        for sc in iter_scenarios(report):
            total += 1
            if sc.get("status") != "passed":
                bad += 1
                if bad <= args.show:
                    print("=" * 72)
                    print(texts.get(sc.get("id") or sc.get("scenario"), "?"))
                    print("--- engine:", json.dumps(sc, indent=1)[:3000])
    if bad or args.keep:
        print(f"{total} scenarios, {bad} disagreements (seed {args.seed}, files in {folder})")
    else:
        shutil.rmtree(folder, ignore_errors=True)
        print(f"{total} scenarios, {bad} disagreements (seed {args.seed})")
    return 1 if bad or total != len(docs) else 0


def iter_scenarios(report):
    """The per-scenario results of a JSON report, whatever its nesting."""
    if isinstance(report, dict):
        if "status" in report and ("id" in report or "scenario" in report):
            yield report
            return
        for v in report.values():
            yield from iter_scenarios(v)
    elif isinstance(report, list):
        for v in report:
            yield from iter_scenarios(v)


if __name__ == "__main__":
    sys.exit(main())
