#!/usr/bin/env python3
"""Differential test of the kernel model's memory rules against mem_oracle.py.

Generates random scenarios (ia32 with 32-bit or PAE paging, x86_64; 1-3 tasks with random VMAs of
every segment kind and perms r--/rw-/r-x/rwx/---/-w-/--x/-wx, populated or not, adjacent or with gaps, sometimes
explicit `pages` in a gap or over a page of a VMA (read-only in a VMA with w: write-protect faults),
sometimes the default layout; steps: `access` read/write/fetch of 1-8 bytes
(page-crossing too) at CPL 3 or `cpl: 0`, inside VMAs, outside every VMA, on explicit pages, in the
kernel half, non-canonical; read/write with buffers that are unmapped, not present inside a VMA,
read-only, crossing into the kernel half; brk; anonymous mmap (hints, MAP_FIXED, MAP_FIXED_NOREPLACE,
MAP_SHARED, MAP_POPULATE, bad types); fork, then accesses by the child (policy fifo: the child runs
when its parent waits, exits or dies); exit; wait4), whose `expect` is the oracle's prediction, runs
them through `ringspec run --format json`, and prints every scenario where the engine disagrees.

    python3 Fuzz/diff/mem_diff.py --seed 1 --count 500 [--keep DIR] [--show N] [-v]
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sched_oracle import Oracle, Task  # noqa: E402
from mem_oracle import (MAP_32BIT, MAP_ANON, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_POPULATE, MAP_PRIVATE,  # noqa: E402
                        MAP_SHARED, PAGE, Frames, MemOracle, Mode, Space, VMA)
import rundocs  # noqa: E402

NAMES = ["A", "B", "C"]
PERMS = ["r--", "rw-", "r-x", "rwx", "---", "-w-", "--x", "-wx"]
SEGS = ["text", "data", "bss", "heap", "mmap"]
MAX_TASKS = 6


def y(v):
    return json.dumps(v)


def h(v):
    return "0x%x" % v if v >= 0 else str(v)


def gen_layout(rng, mode):
    """VMAs (as scenario entries) and explicit pages of one task, or None for the default layout."""
    if rng.random() < 0.15:
        return None, []
    base = mode.text + rng.choice([0, 0, 0x10000, 0x200000])
    vmas = []
    a = base
    heap_done = False
    for i in range(rng.randint(1, 5)):
        seg = "text" if i == 0 and rng.random() < 0.7 else rng.choice(SEGS)
        if seg == "heap":
            if heap_done:
                seg = "bss"
            heap_done = True
        n = rng.randint(1, 3)
        perm = rng.choice(PERMS)
        e = {"segment": seg, "start": a, "perm": perm}
        if rng.random() < 0.5:
            e["pages"] = n
        else:
            e["size"] = n * PAGE - rng.choice([0, 0, 1, 0x800])
        if rng.random() < 0.45:
            e["populate"] = True
        vmas.append((e, n))
        a += n * PAGE + (0 if rng.random() < 0.4 else rng.randint(1, 3) * PAGE)
    # The heap (brk's VMA) is the highest non-stack region, as in a real process image.
    vmas.sort(key=lambda t: (t[0]["segment"] == "heap", t[0]["start"]))
    starts = sorted(t[0]["start"] for t in vmas)
    out = []
    for (e, n), s in zip(vmas, starts):
        e["start"] = s
        out.append(e)
    # keep the order of addresses consistent with the sizes: lay them out again
    a = base
    for e in out:
        n = e.get("pages") or (e["size"] + 0xFFF) // PAGE
        e["start"] = a
        a += n * PAGE + (0 if rng.random() < 0.4 else rng.randint(1, 3) * PAGE)
    pages = []
    if rng.random() < 0.3:
        pages.append({"virt": a + PAGE * rng.randint(1, 2), "user": rng.random() < 0.7,
                      "writable": rng.random() < 0.5})
    elif rng.random() < 0.35:
        # an explicit page over a page of a (non-heap) VMA: the explicit mapping is in force; read-only in a
        # VMA with w, a write is a write-protect fault the kernel fixes
        inside = [e for e in out if e["segment"] != "heap"]
        if inside:
            e = rng.choice(inside)
            n = e.get("pages") or (e["size"] + 0xFFF) // PAGE
            pages.append({"virt": e["start"] + PAGE * rng.randrange(n), "user": rng.random() < 0.8,
                          "writable": rng.random() < 0.3})
    if rng.random() < 0.85:
        n = rng.randint(1, 3)
        top = mode.task_size if mode.name == "x86_64" else 0xC0000000
        out.append({"segment": "stack", "start": top - n * PAGE - (0 if rng.random() < 0.7 else PAGE),
                    "pages": n, "perm": "rw-", "populate": rng.random() < 0.7,
                    "grows_down": rng.random() < 0.6})
    return out, pages


def build_space(mode, layout, pages, frames):
    sp = Space(mode, frames)
    if layout is None:
        t = VMA("text", mode.text, mode.text + PAGE, True, False, True)
        st = VMA("stack", mode.task_size - 2 * PAGE, mode.task_size, True, True, False)
        sp.vmas = [t, st]
        sp.populate(t)
        sp.populate(st)
    else:
        for e in layout:
            size = e["pages"] * PAGE if "pages" in e else (e["size"] + 0xFFF) & ~0xFFF
            p = e["perm"]
            v = VMA(e["segment"], e["start"], e["start"] + size, p[0] == "r", p[1] == "w", p[2] == "x",
                    grows=e.get("grows_down", False))
            sp.vmas.append(v)
            if e.get("populate"):
                sp.populate(v)
    for p in pages:
        sp.ptes[p["virt"]] = (p["writable"], p["user"], False)
        sp.declared[p["virt"]] = sp.ptes[p["virt"]]
        sp.frame_of[p["virt"]] = frames.new()
        sp.explicit.append((p["virt"], p["virt"] + PAGE))
    ends = [v.end for v in sp.vmas if v.seg not in ("stack", "mmap")]
    sp.brk = ((max(ends) if ends else 0) + 0xFFF) & ~0xFFF
    heap_starts = [v.start for v in sp.vmas if v.seg == "heap"]
    sp.start_brk = min(heap_starts) if heap_starts else sp.brk
    return sp


def pick_addr(rng, mo, user_only=False):
    """An interesting address for the current task."""
    sp = mo.space()
    m = mo.mode
    r = rng.random()
    if sp.vmas and r < 0.5:
        v = rng.choice(sp.vmas)
        if v.end == v.start:
            return v.start
        page = v.start + PAGE * rng.randrange(max(1, (v.end - v.start) // PAGE))
        off = rng.choice([0, rng.randrange(PAGE), PAGE - rng.randint(1, 8), 0x10])
        return page + off
    if sp.explicit and r < 0.6:
        return sp.explicit[0][0] + rng.choice([0, 8, PAGE - 4])
    if r < 0.8:
        # outside every VMA: just above or below one, or a far address
        if sp.vmas and rng.random() < 0.7:
            v = rng.choice(sp.vmas)
            # (a heap that brk grew from a break of 0 starts at 0: no address below it)
            return max(0, rng.choice([v.end, v.end + rng.randrange(PAGE), v.start - rng.randint(1, 8)]))
        return rng.choice([0x10000000, 0x20000, 0x1000, 0])
    if m.compat:
        # 32-bit addresses only: above TASK_SIZE nothing is mapped (no crossing of 4 GiB: a segment limit)
        return rng.choice([m.task_size - rng.randint(1, 8), m.task_size, 0xFFFFF000, 0xFFFFFFF0])
    if user_only:
        return m.access_top - rng.randint(1, 8)
    k = rng.random()
    if k < 0.3:
        return m.access_top - rng.randint(1, 8)            # crossing into the kernel half
    if k < 0.6:
        return m.kernel[0][0] + rng.randrange(0x100000)       # direct map
    if m.name == "x86_64":
        return rng.choice([0xffffc90000000000, 0x0000800000000000, 0x00007ffffffffffc, 0xffff800000001000])
    return rng.choice([0xE0000000, 0xD0001000])


def fault_items(faults):
    items = []
    for vec, code, cr2 in faults:
        if cr2 is None:
            items.append({"vector": vec, "error_code": code})
        else:
            items.append({"vector": vec, "error_code": code, "cr2": cr2})
    return items


def gen(rng, sid):
    mode_name = rng.choice(["x86_64", "ia32"])
    paging = None
    if mode_name == "ia32" and rng.random() < 0.3:
        paging = "pae"
    compat = mode_name == "x86_64" and rng.random() < 0.25
    mode = Mode(mode_name, paging, compat)
    via = "syscall" if mode_name == "x86_64" and not compat else "int80"
    o = Oracle("fifo")
    mo = MemOracle(mode, o)
    if rng.random() < 0.6:
        mo.stdin = "x" * rng.choice([0, 5, 100, 3000, 9000])
    n = rng.randint(1, 3)
    frames = Frames()
    procs = []
    for i in range(n):
        name = NAMES[i]
        p = {"name": name, "state": "running" if i == 0 else "ready"}
        if compat:
            p["bits"] = 32
        layout, pages = gen_layout(rng, mode)
        if layout is not None:
            p["memory"] = layout
        if pages:
            p["pages"] = pages
        procs.append(p)
        o.add(Task(name, i + 1, None, p["state"]))
        mo.spaces[name] = build_space(mode, layout, pages, frames)
    o.start()

    steps = []
    for _ in range(rng.randint(4, 14)):
        c = o.cur()
        if c is None:
            break
        o.switches = []
        o.schedule_calls = []
        kind = rng.choices(["access", "write", "read", "brk", "mmap", "fork", "exit", "wait", "store", "load", "munmap"],
                           [35, 8, 8, 8, 8, 10, 3, 6, 15, 22, 5])[0]
        step = {}
        exp = {}
        ret = None
        faults = []
        killed = False
        if kind in ("store", "load"):
            # `exec: mov` through DS at CPL 3: the same faults as an `access`; a completed store's value is
            # remembered per frame, a load of known bytes checks the register (fork copies, MAP_SHARED and
            # explicit pages share).
            w = 8 if via == "syscall" else 4
            sp = mo.space()
            known = [a for f_page, f in sp.frame_of.items()
                     for a in [f_page + o for o in sp.store.data[f] if o % w == 0]] if kind == "load" else []
            addr = rng.choice(known) if known and rng.random() < 0.7 else pick_addr(rng, mo, user_only=True) & ~(w - 1)
            ra, rb = ("rax", "rbx") if w == 8 else ("eax", "ebx")
            if kind == "store":
                val = rng.getrandbits(8 * w)
                steps.append({"set": {"regs": {ra: val}}})
                step["exec"] = "mov [0x%x], %s" % (addr, ra)
                faults, killed = mo.access("write", addr, w, 3)
                if not killed:
                    for i in range(w):
                        sp.set_byte(addr + i, (val >> (8 * i)) & 0xFF)
            else:
                step["exec"] = "mov %s, [0x%x]" % (rb, addr)
                faults, killed = mo.access("read", addr, w, 3)
                if not killed:
                    v = sp.get_bytes(addr, w)
                    if v is not None:
                        exp["regs"] = {rb: v}
            exp["faults"] = fault_items(faults)
            exp["signal"] = mo.last_signal if killed else "none"
        elif kind == "access":
            op = rng.choice(["read", "write", "fetch"])
            cpl = 0 if rng.random() < 0.25 else 3
            addr = pick_addr(rng, mo)
            if cpl == 0 and addr >= mode.access_top and mode.canonical(addr):
                # the kernel's own memory: reads only (a write could corrupt the model's tables)
                op = "read"
            size = rng.choice([1, 2, 4, 8])
            if op == "fetch":
                size = rng.choice([1, 2, 4, 8])
            acc = {"op": op, "addr": addr, "size": size}
            if cpl == 0:
                acc["cpl"] = 0
            step["access"] = acc
            faults, killed = mo.access(op, addr, size, cpl)
            if op == "write" and not killed:
                for i in range(size):        # what an `access` writes is not specified
                    mo.space().set_byte(addr + i, None)
        elif kind in ("write", "read"):
            buf = pick_addr(rng, mo, user_only=True)
            count = rng.choice([1, 8, 100, PAGE, PAGE + 10, 2048, 2 * PAGE + 5, 3000, 0])
            if kind == "write":
                step["syscall"] = {"via": via, "nr": "write", "args": [1, buf, count]}
                ret, faults = mo.sys_write(buf, count)
            else:
                step["syscall"] = {"via": via, "nr": "read", "args": [0, buf, count]}
                ret, faults = mo.sys_read(buf, count)
        elif kind == "brk":
            sp = mo.space()
            cur = sp.brk
            req = rng.choice([0, cur, cur + rng.randint(1, 4) * PAGE, cur + rng.randrange(3 * PAGE),
                              max(0, cur - PAGE), max(0, cur - rng.randrange(2 * PAGE)),
                              cur + 0x200000, mode.task_size - 0x80000, mode.task_size + PAGE])
            step["syscall"] = {"via": via, "nr": "brk", "args": [req]}
            ret = mo.sys_brk(req)
        elif kind == "mmap":
            length = rng.choice([PAGE, 2 * PAGE, 3 * PAGE, 100, PAGE + 1, 0])
            prot = rng.choice([0, 1, 3, 3, 5, 7, 2])
            typ = rng.choices([MAP_PRIVATE, MAP_SHARED, 0, 3], [70, 20, 5, 5])[0]
            flags = typ | MAP_ANON
            if rng.random() < 0.2:
                flags |= MAP_POPULATE
            if rng.random() < 0.1:
                flags |= MAP_32BIT
            addr = 0
            r = rng.random()
            sp = mo.space()
            if r < 0.25:
                flags |= rng.choice([MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_FIXED | MAP_FIXED_NOREPLACE])
                cands = [v.start for v in sp.vmas if v.seg != "stack"] + [0x10000000, 0x8000, 0x10000000 + 0x10]
                addr = rng.choice(cands)
                if any(addr < e and s < addr + length + PAGE for s, e in sp.explicit):
                    addr = 0x10000000
            elif r < 0.45:
                # hints just below a stack: inside its guard gap (not taken) or just below it (taken)
                near = [v.start - d for v in sp.vmas if v.seg == "stack"
                        for d in (0x2000, 0x80000, 0x100000, 0x100000 + 0x2000 * 4) if v.start >= d + 0x10000]
                addr = rng.choice([0x10000000, 0x1000, 0x20000000 + 0x123] + [v.start for v in sp.vmas] + near)
            args = [addr, length, prot, flags, -1, 0]
            step["syscall"] = {"via": via, "nr": "mmap" if via == "syscall" else "mmap2", "args": args}
            ret = mo.sys_mmap(addr, length, prot, flags)
        elif kind == "munmap":
            sp = mo.space()
            cands = [v.start for v in sp.vmas if v.seg != "stack"] + [v.end - PAGE for v in sp.vmas if v.seg != "stack"]
            addr = rng.choice(cands + [0x10000000, 0x10000010]) if cands else 0x10000000
            length = rng.choice([PAGE, 2 * PAGE, PAGE + 1, 0, 0x100000])
            if any(addr < e and s < addr + length + PAGE for s, e in sp.explicit):
                addr = 0x10000000
            step["syscall"] = {"via": via, "nr": "munmap", "args": [addr, length]}
            ret = mo.sys_munmap(addr, length)
        elif kind == "fork":
            if len(o.tasks) >= MAX_TASKS:
                continue
            step["syscall"] = {"via": via, "nr": "fork"}
            parent = c.name
            ret = o.fork()
            mo.fork_space(parent, o.tasks[-1].name)
        elif kind == "exit":
            code = rng.choice([0, 1, 7])
            step["exit"] = code
            o.exit(code)
        elif kind == "wait":
            if via == "syscall":
                step["syscall"] = {"via": via, "nr": "wait4", "args": [-1, 0, 0, 0]}
            else:
                step["syscall"] = {"via": via, "nr": "waitpid", "args": [-1, 0, 0]}
            ret = o.wait4(-1)
        if kind in ("access", "write", "read"):
            exp["faults"] = fault_items(faults)
        if kind == "access":
            exp["signal"] = mo.last_signal if killed else "none"
        if ret is not None:
            exp["returns"] = ret
        exp["current"] = o.current
        exp["states"] = o.states()
        step["expect"] = exp
        steps.append(step)

    sched = {"policy": "fifo"}
    kern = {"scheduler": sched}
    if mo.stdin:
        kern["stdin"] = mo.stdin
    machine = {"mode": mode_name}
    if paging:
        machine["paging"] = paging
    lines = ["scenario: %s" % sid,
             "tags: [mem-diff, %s]" % mode_name,
             "machine: %s" % y(machine),
             "kernel: %s" % y(kern),
             "processes:"]
    lines += ["  - %s" % y(p) for p in procs]
    lines.append("steps:")
    for s in steps:
        lines.append("  - %s" % y(s))
    procs_exp = {}
    for t in o.tasks:
        e = {"state": t.state}
        if t.signal is not None:
            e["signal"] = "SIGKILL" if t.signal == 9 else "SIGSEGV"
        elif t.state == "zombie" and t.exit_code is not None:
            e["exit_code"] = t.exit_code
        procs_exp[t.name] = e
    lines.append("expect:")
    lines.append("  processes: %s" % y(procs_exp))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rundocs.common_args(ap, count=300)
    ap.add_argument("--show", type=int, default=1000, help="print at most this many disagreements")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = rundocs.work_dir(a, "mem_diff_")
    docs, sources = [], {}
    for i in range(a.count):
        sid = "mem-%d-%d" % (a.seed, i)
        text = gen(rng, sid)
        docs.append(text)
        sources[sid] = text
    rundocs.write_docs(out, docs, per_file=100)
    report = rundocs.run_json(a.ringspec, out)
    if report is None:
        return 2
    bad = rundocs.count_disagreements(report, sources, a.verbose, show=a.show)
    return rundocs.finish(a, out, report, bad)


if __name__ == "__main__":
    sys.exit(main())
