#!/usr/bin/env python3
"""Differential test of ringspec's scheduler and process model against sched_oracle.py.

Generates random scenarios (1-5 tasks with random states, priorities, nice values and parents,
a policy, 5-20 random steps: timer, sched_yield/nanosleep/getpid/fork/exit/wait4/kill system
calls through the mode's entry, wait, exit, irq with wakes, schedule), whose `expect` is the
oracle's prediction, runs them through `ringspec run --format json`, and prints every scenario
where the engine disagrees.

    python3 Fuzz/diff/sched_diff.py --seed 1 --count 500 [--keep DIR] [-v]
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sched_oracle import Oracle, Task  # noqa: E402
import rundocs  # noqa: E402

NAMES = ["A", "B", "C", "D", "E"]
SIGNAMES = {9: "SIGKILL", 15: "SIGTERM", 17: "SIGCHLD", 2: "SIGINT", 18: "SIGCONT"}
MAX_TASKS = 9


def y(v):
    """A value as YAML flow text (JSON is YAML)."""
    return json.dumps(v)


def gen(rng, sid):
    mode = rng.choice(["x86_64", "ia32"])
    if mode == "x86_64":
        # int 0x80 from a 64-bit task goes through the i386 table (names are looked up there)
        via = "syscall" if rng.random() < 0.75 else "int80"
    else:
        via = rng.choice(["int80", "sysenter"])
    bits32 = mode == "x86_64" and via == "int80" and rng.random() < 0.5   # some 32-bit (compat) tasks
    policy = rng.choice(["fifo", "rr", "priority", "cfs"])
    ts = rng.choice([None, 1, 2, 3, 4])
    preempt = rng.random() >= 0.12
    sched = {"policy": policy}
    if ts is not None:
        sched["timeslice"] = ts
    if not preempt:
        sched["preempt"] = False
    o = Oracle(policy, ts if ts is not None else 3, preempt)

    n = rng.randint(1, 5)
    pids = list(range(1, n + 1))
    if rng.random() < 0.3:
        pids = rng.sample(range(1, 12), n)
    running = rng.randrange(n) if rng.random() < 0.8 else None
    procs = []
    for i in range(n):
        name = NAMES[i]
        if i == running:
            state = "running"
        else:
            state = rng.choices(["ready", "sleeping", "blocked", "zombie"], [55, 15, 15, 15])[0]
        p = {"name": name, "state": state}
        if pids[i] != i + 1:
            p["pid"] = pids[i]
        if bits32 and rng.random() < 0.6:
            p["bits"] = 32
        parent = None
        if i > 0 and rng.random() < 0.45:
            parent = NAMES[rng.randrange(i)]
            if procs[NAMES.index(parent)]["state"] == "zombie":
                parent = None         # a zombie has no children: exit gave them to init (an error to declare)
            else:
                p["parent"] = parent
        prio = nice = 0
        if policy == "priority" or rng.random() < 0.2:
            prio = rng.randint(0, 3) + (2 if state in ("blocked", "sleeping") and rng.random() < 0.5 else 0)
            if rng.random() < 0.1:
                prio = rng.randint(-3, 99)
            p["priority"] = prio
        if policy == "cfs" or rng.random() < 0.2:
            nice = rng.choice([0, 0, -5, 5, -3, 3, rng.randint(-20, 19)])
            p["nice"] = nice
        procs.append(p)
        t = Task(name, pids[i], parent, state, prio, nice)
        if state == "zombie":
            t.exit_code = 0
        o.add(t)
    o.start()

    steps = []
    for _ in range(rng.randint(5, 20)):
        o.switches = []
        cur = o.cur()
        sleepers = [t.name for t in o.tasks if t.state in ("sleeping", "blocked")]
        kinds = ["timer", "timer", "irq", "schedule"] + (["irq"] if sleepers else [])
        if cur is not None:
            kinds += ["yield", "nanosleep", "getpid", "fork", "exit", "wait", "kill", "yield", "fork", "getppid"]
        kind = rng.choice(kinds)
        killed = None
        if cur is not None and rng.random() < 0.05:
            # IF = 0: timer requests are held at the interrupt controller, one per vector (docs/format.md),
            # and taken when IF is set again: one tick, whatever the number of requests.
            before = {"current": o.current, "states": o.states(), "switch": "none"}
            steps.append({"set": {"rflags": {"if": False}}, "expect": before})
            pending = []              # [vector, [wakes...]] in the order first requested
            for _ in range(rng.randint(1, 3)):
                if rng.random() < 0.6:
                    k = rng.randint(1, 4)
                    steps.append({"timer": k, "expect": before})
                    vec, w = 0x20, None
                else:
                    vec = rng.choice([0x21, 0x22])
                    w = rng.choice(sleepers) if sleepers and rng.random() < 0.8 else None
                    steps.append({"irq": {"vector": vec, "wakes": w} if w else vec, "expect": before})
                entry = next((e for e in pending if e[0] == vec), None)
                if entry is None:
                    entry = [vec, []]
                    pending.append(entry)
                if w:
                    entry[1].append(w)
            o.switches = []
            o.resumed = None
            for vec, wakes in pending:
                if vec == 0x20:
                    o.tick()
                else:
                    for w in wakes:
                        if o.task(w).state in ("sleeping", "blocked"):
                            o.task(w).ret = -4
                    o.irq_many(wakes)
            exp = {"current": o.current, "states": o.states()}
            exp["switch"] = ({"from": o.switches[-1][0], "to": o.switches[-1][1], "reason": o.switches[-1][2]}
                             if o.switches else "none")
            steps.append({"set": {"rflags": {"if": True}}, "expect": exp})
            continue
        step = {}
        ret = None
        o.resumed = None
        o.schedule_calls = []
        if kind == "timer":
            k = rng.randint(1, 4) if rng.random() < 0.85 else rng.choice([rng.randint(5, 12), rng.randint(13, 200)])
            step["timer"] = k
            for _ in range(k):
                o.tick()
        elif kind == "irq":
            vec = rng.randint(0x21, 0x2f)
            live = [t.name for t in o.tasks]
            if (sleepers or live) and rng.random() < 0.8:
                # mostly a sleeping or blocked task; sometimes one that is not (no effect)
                w = rng.choice(sleepers) if sleepers and rng.random() < 0.85 else rng.choice(live)
                step["irq"] = {"vector": vec, "wakes": w}
                if o.task(w).state in ("sleeping", "blocked"):
                    o.task(w).ret = -4
                o.irq(w)
            else:
                step["irq"] = vec
                o.irq(None)
        elif kind == "schedule":
            step["schedule"] = {}
            o.explicit_schedule()
        elif kind == "yield":
            step["syscall"] = {"via": via, "nr": "sched_yield"}
            ret = o.sched_yield()
        elif kind == "nanosleep":
            k = rng.randint(1, 5) if rng.random() < 0.9 else 0
            step["syscall"] = {"via": via, "nr": "nanosleep", "args": [k, 0]}
            ret = o.nanosleep(k)
        elif kind == "getpid":
            step["syscall"] = {"via": via, "nr": "getpid"}
            ret = o.getpid()
        elif kind == "getppid":
            step["syscall"] = {"via": via, "nr": "getppid"}
            ret = o.getppid()
        elif kind == "fork":
            if len(o.tasks) >= MAX_TASKS:
                step["syscall"] = {"via": via, "nr": "getpid"}
                ret = o.getpid()
            else:
                step["syscall"] = {"via": via, "nr": "fork"}
                ret = o.fork()
        elif kind == "exit":
            code = rng.choice([0, 1, 3, 255, 256, 263, -1])
            if rng.random() < 0.5:
                step["exit"] = code
            else:
                step["syscall"] = {"via": via, "nr": rng.choice(["exit", "exit", "exit_group"]), "args": [code]}
            o.exit(code)
        elif kind == "wait":
            kids = [t.pid for t in o.tasks if t.parent == cur.name]
            pid = rng.choice([-1, -1, 0] + kids + [99])
            r = rng.random()
            nohang = rng.random() < 0.15
            opts = 1 if nohang else 0
            if r < 0.3 and not nohang:
                step["wait"] = {"pid": pid}
            elif via != "syscall" and r < 0.6:
                step["syscall"] = {"via": via, "nr": "waitpid", "args": [pid, 0, opts]}
            else:
                step["syscall"] = {"via": via, "nr": "wait4", "args": [pid, 0, opts, 0]}
            ret = o.wait4(pid, nohang)
        elif kind == "kill":
            pids = [t.pid for t in o.tasks] + [42]
            # often a child whose parent waits for it: the parent wakes in the middle of kill
            orphaning = [t.pid for t in o.tasks if t.parent is not None and t.state != "zombie"
                         and o.task(t.parent).state == "blocked" and o.task(t.parent).waiting is not None]
            pid = rng.choice(orphaning) if orphaning and rng.random() < 0.6 else rng.choice(pids)
            sig = rng.choice([9, 15, 15, 17, 2, 0, 18])
            step["syscall"] = {"via": via, "nr": "kill", "args": [pid, sig]}
            target = o.task_by_pid(pid)
            alive = target is not None and target.state != "zombie"
            ret = o.kill(pid, sig)
            if ret == 0 and alive and target.state == "zombie":
                killed = SIGNAMES[sig]
            if ret is None:
                killed = SIGNAMES[sig]
        if cur is not None and ret is not None and o.current != cur.name and "syscall" in step:
            cur.resume = ret          # switched away on the system call's return: RAX = its result
        if cur is not None and any(k in step for k in ("syscall", "wait", "exit")) and rng.random() < 0.2:
            step["as"] = cur.name
        exp = {"current": o.current, "states": o.states()}
        if killed:
            exp["signal"] = killed
        if o.resumed is not None and o.resumed[0] == o.current:
            exp["regs"] = {"rax" if via == "syscall" else "eax": o.resumed[1]}
        if o.schedule_calls and len(o.schedule_calls) <= 8:
            # every schedule() call, with its reason, in order (a call that picks the same task too)
            exp["trace"] = ["schedule %s" % r for r in o.schedule_calls]
        if o.switches:
            f, t, r = o.switches[-1]
            exp["switch"] = {"from": f, "to": t, "reason": r}
        else:
            exp["switch"] = "none"
        if ret is not None:
            exp["returns"] = ret
        step["expect"] = exp
        steps.append(step)
        if o.cur() is None and not any(t.state in ("ready", "sleeping", "blocked") for t in o.tasks):
            break

    lines = ["scenario: %s" % sid,
             "tags: [sched-diff, %s]" % policy,
             "machine: {mode: %s}" % mode,
             "kernel:",
             "  scheduler: %s" % y(sched),
             "processes:"]
    lines += ["  - %s" % y(p) for p in procs]
    lines.append("steps:")
    for s in steps:
        lines.append("  - %s" % y(s))
    procs_exp = {}
    for t in o.tasks:
        e = {"state": t.state, "ticks": t.ticks}
        if t.exit_code is not None and t.signal is None and t.state == "zombie":
            e["exit_code"] = t.exit_code
        if t.signal is not None:
            e["signal"] = SIGNAMES[t.signal]
        procs_exp[t.name] = e
    lines.append("expect:")
    lines.append("  schedule: %s" % y(o.schedule_list))
    lines.append("  switches: %d" % (len(o.schedule_list) - 1))
    lines.append("  processes: %s" % y(procs_exp))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    rundocs.common_args(ap, count=300)
    ap.add_argument("--show", type=int, default=1000, help="print at most this many disagreements")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = rundocs.work_dir(a, "sched_diff_")
    docs, sources = [], {}
    for i in range(a.count):
        sid = "sched-%d-%d" % (a.seed, i)
        text = gen(rng, sid)
        docs.append(text)
        sources[sid] = text
    rundocs.write_docs(out, docs, per_file=200)
    report = rundocs.run_json(a.ringspec, out)
    if report is None:
        return 2
    bad = rundocs.count_disagreements(report, sources, a.verbose, show=a.show)
    return rundocs.finish(a, out, report, bad)


if __name__ == "__main__":
    sys.exit(main())
