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
import json
import os
import random
import subprocess
import sys
import tempfile

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
        if mode == "4level":
            c.pke = self.chance(0.4)
            if c.pke:
                c.pkru = self.r.choice([0, 0x55555554, self.r.getrandbits(32), 1 << self.r.randrange(32)])
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
        if leaf and self.chance(0.3):
            f["global"] = True   # upper levels take present/writable/user/nx/accessed/reserved only
        if self.chance(0.2):
            f["accessed"] = True
        if leaf and self.chance(0.2):
            f["dirty"] = True
        if leaf and ctl.mode == "4level" and self.chance(0.5):
            f["pkey"] = self.r.randrange(16)
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

    def mapping(self, ctl: O.Control) -> tuple[dict, O.Mapping]:
        mode = ctl.mode
        sizes = {"32bit": ["4k"] + (["4m"] if ctl.pse else []), "pae": ["4k", "2m"],
                 "4level": ["4k", "2m", "1g"]}[mode]
        size = self.r.choice(sizes)
        virt, phys = self.virt(mode, size), self.phys(mode, size)
        levels = O.levels_for(mode, size)
        spec = {"virt": virt, "phys": phys}
        if size != "4k":
            spec["size"] = size
        leaf = self.flags(True, ctl, levels[-1], size != "4k")
        spec.update({k: leaf[k] for k in FLAG_ORDER if k in leaf})
        entries = []
        for level in levels[:-1]:
            ov = self.flags(False, ctl, level, False) if self.chance(0.5) else None
            if ov is not None:
                spec[level] = ov
            entries.append(O.upper_value(ov, mode, level))
        entries.append(O.leaf_value(leaf, mode, size, phys))
        return spec, O.Mapping(virt=virt, size=size, phys=phys, entries=entries, levels=levels)

    def access(self, mapping: O.Mapping, kernel_task: bool) -> tuple[dict, O.Access, int]:
        op = self.r.choice(["read", "write", "fetch"])
        cpl = 0 if kernel_task else self.r.choice([0, 3])
        implicit = op != "fetch" and self.chance(0.15)
        size = 1 if op == "fetch" else self.r.choice([1, 2, 4, 8])
        page = O.SIZES[mapping.size]
        off = self.r.randrange(0, page - size + 1)
        if self.chance(0.3):
            off &= ~0xFFF & (page - 1)
        addr = mapping.virt + off
        step = {"op": op, "addr": addr}
        if op != "fetch":
            step["size"] = size
        if not kernel_task:
            step["cpl"] = cpl
        if implicit:
            step["implicit"] = True
        return step, O.Access(op=op, cpl=cpl, implicit=implicit), addr


def machine_yaml(ctl: O.Control, mode_name: str) -> list[str]:
    lines = [f"  mode: {mode_name}", f"  paging: {ctl.mode}"]
    lines.append(f"  cr0: {yflow({'wp': ctl.wp})}")
    cr4 = {"pge": ctl.pge, "smep": ctl.smep, "smap": ctl.smap}
    if ctl.mode == "32bit":
        cr4["pse"] = ctl.pse
    if ctl.mode == "4level":
        cr4["pke"] = ctl.pke
    lines.append(f"  cr4: {yflow(cr4)}")
    lines.append(f"  efer: {yflow({'nxe': ctl.nxe})}")
    lines.append(f"  rflags: {yflow({'ac': ctl.ac})}")
    if ctl.pke:
        lines.append(f"  pkru: {hex(ctl.pkru)}")
    return lines


def expect_of(out: O.Outcome, leaf_ad: tuple[bool, bool]) -> dict:
    if out.fault is not None:
        return {"fault": {"vector": "PF", "error_code": out.fault, "cr2": out.cr2}}
    return {"fault": "none", "physical": out.physical, "accessed": leaf_ad[0], "dirty": leaf_ad[1]}


def single_case(g: Gen, name: str) -> tuple[str, list[str]]:
    mode = g.r.choice(["32bit", "pae", "4level"])
    ctl = g.control(mode)
    spec, mapping = g.mapping(ctl)
    m = O.Machine(ctl=ctl, mapping=mapping)
    step, acc, addr = g.access(mapping, kernel_task=False)
    out = m.access(addr, acc)
    exp = expect_of(out, m.leaf_ad())
    lines = [f"scenario: {name}", f"description: \"oracle: {out.why or 'allowed'}\"", "machine:"]
    lines += machine_yaml(ctl, "x86_64" if mode == "4level" else "ia32")
    lines += ["  pages:", f"    - {yflow(spec)}", "kernel: none", "steps:",
              f"  - access: {yflow(step)}", f"    expect: {yflow(exp)}"]
    return "\n".join(lines), [out.why or "allowed"]


def tlb_case(g: Gen, name: str) -> tuple[str, list[str]]:
    """A CPL-0 kernel task: accesses, `set: pages` edits, INVLPG, CR3 writes, on one mapping."""
    mode = g.r.choice(["32bit", "pae", "4level"])
    ctl = g.control(mode)
    ctl.smap = ctl.smap and g.chance(0.3)
    spec, mapping = g.mapping(ctl)
    # The first mapping should work more often than not, so that something is cached.
    m = O.Machine(ctl=ctl, mapping=mapping)
    lines = [f"scenario: {name}", "machine:"]
    lines += machine_yaml(ctl, "x86_64" if mode == "4level" else "ia32")
    # A supervisor stack of its own, so that a #PF is delivered without a second fault.
    stack = STACK[mode]
    sp = "rsp" if mode == "4level" else "esp"
    ctx = "{cs: kernel_cs, ss: kernel_ds" + (", ds: kernel_ds" if mode != "4level" else "") + f", {sp}: {hex(stack + 0xff0)}}}"
    lines += ["kernel: none", "processes:", "  - name: k", f"    context: {ctx}",
              "    pages:", f"      - {yflow(spec)}", f"      - {{virt: {hex(stack)}, writable: true}}", "steps:"]
    whys = []
    reg = "rax" if mode == "4level" else "eax"
    for _ in range(g.r.randrange(3, 9)):
        k = g.r.random()
        if k < 0.5:
            step, acc, addr = g.access(mapping, kernel_task=True)
            out = m.access(addr, acc)
            whys.append(out.why or "allowed")
            lines += [f"  - access: {yflow(step)}", f"    expect: {yflow(expect_of(out, m.leaf_ad()))}"]
            if out.fault is not None:
                break   # the CPU now sits at the #PF handler's entry
        elif k < 0.75:
            # Rewrite the same page with new flags (same frame, or a new one): memory only.
            new_phys = g.phys(mode, mapping.size)
            new_spec = {"virt": mapping.virt, "phys": new_phys if g.chance(0.5) else mapping.phys}
            if mapping.size != "4k":
                new_spec["size"] = mapping.size
            leaf = g.flags(True, ctl, mapping.levels[-1], mapping.size != "4k")
            new_spec.update({kk: leaf[kk] for kk in FLAG_ORDER if kk in leaf})
            if new_spec["phys"] % O.SIZES[mapping.size] != 0:
                new_spec["phys"] = mapping.phys
            entries = []
            for i, level in enumerate(mapping.levels[:-1]):
                if g.chance(0.3):
                    ov = g.flags(False, ctl, level, False)
                    new_spec[level] = ov
                    entries.append(O.upper_value(ov, mode, level))
                else:
                    entries.append(mapping.entries[i])   # kept as it is (A bits included)
            entries.append(O.leaf_value(leaf, mode, mapping.size, new_spec["phys"]))
            mapping.entries = entries
            mapping.phys = new_spec["phys"]
            lines += [f"  - set: {{pages: [{yflow(new_spec)}]}}"]
        elif k < 0.88:
            addr = mapping.virt + g.r.randrange(0, O.SIZES[mapping.size]) if g.chance(0.8) else mapping.virt + O.SIZES[mapping.size]
            m.invlpg(addr)
            lines += [f"  - exec: \"invlpg [{hex(addr)}]\""]
        else:
            m.write_cr3()
            lines += [f"  - exec: \"mov {reg}, cr3\"", f"  - exec: \"mov cr3, {reg}\""]
            if mode == "pae" and m.pdpte_register & P_RESERVED_PDPTE:
                break
    return "\n".join(lines), whys


P_RESERVED_PDPTE = 1 << 51
# Kernel-task stack pages, outside the ranges `Gen.virt` draws from (PAE: PDPTE 0, next to the text).
STACK = {"32bit": 0x0A000000, "pae": 0x0A000000, "4level": 0x7F_0000_0000_00}


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
    ap.add_argument("--kind", choices=["single", "tlb", "mixed"], default="mixed")
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "debug", "ringspec"))
    ap.add_argument("--keep", help="folder to keep the generated scenario files in")
    ap.add_argument("--print", action="store_true", help="print the scenarios instead of running them")
    ap.add_argument("--show", type=int, default=10, help="disagreements to print in full")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    g = Gen(rng)
    docs = []
    for i in range(args.count):
        kind = args.kind if args.kind != "mixed" else ("tlb" if rng.random() < 0.3 else "single")
        name = f"s{args.seed}-{i}-{kind}"
        text, _ = (tlb_case if kind == "tlb" else single_case)(g, name)
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
    print(f"{total} scenarios, {bad} disagreements (seed {args.seed}, files in {folder})")
    return 1 if bad else 0


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


P = O.P

if __name__ == "__main__":
    sys.exit(main())
