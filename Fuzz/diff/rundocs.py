"""Shared by the differential drivers in this folder (fast_diff, idt_diff, sched_diff, task_diff, mem_diff):
their common command-line options, writing the generated scenario documents into files, running ringspec
over them with the JSON report, printing every disagreement and the closing summary."""

import json
import os
import shutil
import subprocess
import tempfile


def common_args(ap, count):
    """--seed, --count (default `count`), --ringspec, --keep and -v, which every driver takes."""
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=count)
    ap.add_argument("--ringspec", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                        "..", "..", ".build", "debug", "ringspec"))
    ap.add_argument("--keep", help="write the scenarios to this folder and keep them")
    ap.add_argument("-v", "--verbose", action="store_true")


def work_dir(args, prefix):
    """The folder the documents go to: --keep, or a new temporary one."""
    out = args.keep or tempfile.mkdtemp(prefix=prefix)
    os.makedirs(out, exist_ok=True)
    return out


def write_docs(out, docs, per_file):
    """Writes `docs` into OUT/gen-NNNN.yaml, `per_file` documents a file."""
    for k in range(0, len(docs), per_file):
        with open(os.path.join(out, "gen-%04d.yaml" % (k // per_file)), "w") as f:
            f.write("\n---\n".join(docs[k:k + per_file]) + "\n")


def run_json(ringspec, out):
    """The report of `ringspec run --format json OUT`; None, with what ringspec printed, when its
    output is not JSON."""
    p = subprocess.run([ringspec, "run", "--format", "json", out], capture_output=True, text=True)
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError:
        print(p.stdout[:3000], p.stderr[:3000])
        return None


def failures(s):
    """A scenario's failed checks, with its diagnostics (an invalid scenario) as failures of no path."""
    return s["failures"] + [{"path": "", "actual": d} for d in s.get("diagnostics", [])]


def count_disagreements(report, sources, verbose, show=None, judge=None):
    """Prints every scenario of `report` that did not pass (at most `show` of them) and returns how many
    there were. `judge(s, fails)`, when given, decides a scenario itself (printing what it wants): True
    agrees, False disagrees, None leaves it to the default (passed agrees)."""
    bad = 0
    for s in report["scenarios"]:
        fails = failures(s)
        verdict = judge(s, fails) if judge else None
        if verdict is not None:
            bad += 0 if verdict else 1
            continue
        if s["status"] == "passed":
            continue
        bad += 1
        if show is not None and bad > show:
            continue
        print("DISAGREE %s (%s)" % (s["id"], s["status"]))
        for f in fails:
            print("   %s: expected %s, got %s %s" % (f.get("path"), f.get("expected"), f.get("actual"),
                                                   f.get("note", "") or ""))
        if verbose:
            print(sources.get(s["id"], ""))
    return bad


def finish(args, out, report, bad):
    """The closing line; removes the folder unless kept or needed; the exit status (0: every scenario ran
    and agreed)."""
    total = len(report["scenarios"])
    kept = args.keep or bad
    print("%d scenarios, %d disagreements (seed %d)%s" % (total, bad, args.seed, "; files in " + out if kept else ""))
    if not args.keep and bad == 0:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if bad == 0 and total == args.count else 1
