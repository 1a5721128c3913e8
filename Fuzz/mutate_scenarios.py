#!/usr/bin/env python3
"""Mutation pass over the shipped scenarios: small edits, run through `ringspec run`.

Every shipped scenario file (scenarios/ and Tests/Fixtures by default) is copied into a scratch
tree and mutated a few times, one small edit per mutant:

  delete    delete one line
  dup       duplicate one line
  number    change one number to 0, -1, 2^64-1 or 2^63
  swap      swap the values of two `key: value` pairs
  truncate  cut the file at a random byte

Each mutant is run alone as `ringspec run --format json --jobs 1 --root SCRATCH MUTANT` with a
CPU-time and a wall-time limit. A finding is:

  signal    the process died of a signal (a crash: trap, segfault, abort)
  hang      it used more than --timeout seconds of CPU time (default 10), or ran past --wall
            seconds of wall time (default 120; then it is stopped)
  exit      an exit status other than 0, 1 or 2
  report    exit 0-2 but no JSON report on standard output
  noloc     an invalid scenario whose error has no FILE:LINE:COLUMN

Python 3 standard library only. Exit status 1 when there is a finding, else 0.

    swift build                                        # the engine: .build/debug/ringspec
    python3 Fuzz/mutate_scenarios.py --seed 1 --per-file 12
    python3 Fuzz/mutate_scenarios.py --seed 2 --kinds number,swap --keep /tmp/mut scenarios/kernel
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

KINDS = ("delete", "dup", "number", "swap", "truncate")
NUMBERS = ("0", "-1", "18446744073709551615", "9223372036854775808")

# A number standing on its own: decimal, hex, octal or binary, not part of a word or a version.
NUMBER = re.compile(r"(?<![\w.\-])(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*)(?![\w.])")
# `key: value` in block or flow style; the value runs to a comma, closing bracket, `#` or the end.
PAIR = re.compile(r"(?:^|[{,\s])([A-Za-z_][\w.-]*):[ \t]+([^,{}\[\]#\n]*[^,{}\[\]#\s])")


def in_comment(text: str, at: int) -> bool:
    """Whether `at` is inside a `#` comment (roughly: a `#` at the line's start or after a blank)."""
    start = text.rfind("\n", 0, at) + 1
    prefix = text[start:at]
    return prefix.lstrip().startswith("#") or " #" in prefix or "\t#" in prefix


def mutate(data: bytes, kind: str, rng: random.Random):
    """One mutant of `data` of the given kind, and a short description; None when none applies."""
    text = data.decode("utf-8", errors="surrogateescape")
    lines = text.splitlines(keepends=True)
    if kind in ("delete", "dup"):
        if not lines:
            return None
        i = rng.randrange(len(lines))
        if kind == "delete":
            out = lines[:i] + lines[i + 1:]
        else:
            out = lines[:i + 1] + [lines[i] if lines[i].endswith("\n") else lines[i] + "\n"] + lines[i + 1:]
        return "".join(out), f"{kind} line {i + 1}"
    if kind == "number":
        spans = [m.span(1) for m in NUMBER.finditer(text) if not in_comment(text, m.start(1))]
        if not spans:
            return None
        a, b = rng.choice(spans)
        value = rng.choice(NUMBERS)
        line = text.count("\n", 0, a) + 1
        return text[:a] + value + text[b:], f"number at line {line}: {text[a:b]!r} -> {value}"
    if kind == "swap":
        pairs = [m.span(2) for m in PAIR.finditer(text)]
        if len(pairs) < 2:
            return None
        # Prefer nearby pairs (same scenario), so the swap lands in one document.
        i = rng.randrange(len(pairs))
        j = min(len(pairs) - 1, max(0, i + rng.choice((-3, -2, -1, 1, 2, 3))))
        if i == j:
            return None
        (a1, b1), (a2, b2) = sorted((pairs[i], pairs[j]))
        v1, v2 = text[a1:b1], text[a2:b2]
        if v1 == v2:
            return None
        out = text[:a1] + v2 + text[b1:a2] + v1 + text[b2:]
        l1, l2 = text.count("\n", 0, a1) + 1, text.count("\n", 0, a2) + 1
        return out, f"swap values at lines {l1} and {l2}: {v1!r} <-> {v2!r}"
    if kind == "truncate":
        if len(data) < 2:
            return None
        cut = rng.randrange(1, len(data))
        # Truncation works on bytes (it may cut a UTF-8 sequence in two).
        return data[:cut], f"truncate at byte {cut} of {len(data)}"
    raise ValueError(kind)


def located(diag) -> bool:
    return diag.get("file") is not None and diag.get("line") is not None and diag.get("column") is not None


def check(binary: str, root: str, path: str, timeout: float, wall: float):
    """Run one mutant; a list of (kind, detail) findings, and the run's CPU time.

    A hang is judged by the CPU time the run used (user + system), so that a loaded machine (other
    builds beside a debug engine) does not report slow runs as hangs; a run still going after `wall`
    seconds of wall time is stopped and reported too."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        proc = subprocess.run(
            [binary, "run", "--format", "json", "--jobs", "1", "--root", root, path],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=wall)
    except subprocess.TimeoutExpired:
        return [("hang", f"still running after {wall} s of wall time")], wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    findings = []
    if cpu > timeout:
        findings.append(("hang", f"{cpu:.1f} s of CPU time, more than {timeout} s"))
    if proc.returncode < 0:
        findings.append(("signal", f"killed by signal {-proc.returncode}; stderr: {proc.stderr[-600:].decode(errors='replace')}"))
        return findings, cpu
    if proc.returncode not in (0, 1, 2):
        findings.append(("exit", f"exit status {proc.returncode}; stderr: {proc.stderr[-600:].decode(errors='replace')}"))
        return findings, cpu
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        findings.append(("report", f"exit {proc.returncode} without a JSON report; stderr: {proc.stderr[-600:].decode(errors='replace')}"))
        return findings, cpu
    for scenario in report.get("scenarios", []):
        if scenario.get("status") != "invalid":
            continue
        for diag in scenario.get("diagnostics", []):
            if diag.get("severity") == "error" and not located(diag):
                findings.append(("noloc", f"{scenario.get('id')!r}: {diag.get('message')}"))
    return findings, cpu


def shipped_files(paths):
    files = []
    for p in paths:
        if os.path.isfile(p):
            files.append(p)
            continue
        for dirpath, dirnames, filenames in os.walk(p):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith((".yaml", ".yml")) and not name.startswith("_"):
                    files.append(os.path.join(dirpath, name))
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", default=["scenarios", "Tests/Fixtures"])
    parser.add_argument("--ringspec", default=".build/debug/ringspec")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-file", type=int, default=10, help="mutants per file (kinds taken in turn)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--timeout", type=float, default=10.0, help="CPU-time limit per run, seconds (a hang beyond it)")
    parser.add_argument("--wall", type=float, default=120.0, help="wall-time limit per run, seconds (stopped beyond it)")
    parser.add_argument("--keep", help="keep the scratch tree and the findings' mutants in this folder")
    parser.add_argument("--show", type=int, default=20, help="findings printed in full")
    parser.add_argument("--limit-files", type=int, default=0, help="only the first N files (0: all)")
    args = parser.parse_args()

    kinds = [k for k in args.kinds.split(",") if k]
    for k in kinds:
        if k not in KINDS:
            parser.error(f"unknown kind {k!r} (kinds: {', '.join(KINDS)})")
    binary = os.path.abspath(args.ringspec)
    if not os.access(binary, os.X_OK):
        parser.error(f"{binary} is not an executable; build the engine first (swift build)")
    rng = random.Random(args.seed)
    files = shipped_files(args.paths)
    if args.limit_files:
        files = files[:args.limit_files]

    scratch = args.keep or tempfile.mkdtemp(prefix="ringspec-mutate-")
    os.makedirs(scratch, exist_ok=True)
    tree = os.path.join(scratch, "tree")
    findings_dir = os.path.join(scratch, "findings")
    os.makedirs(findings_dir, exist_ok=True)
    # The scratch tree holds a copy of every given path, so `extends` of a neighbour still resolves.
    for p in args.paths:
        src = os.path.abspath(p)
        dst = os.path.join(tree, os.path.relpath(src, os.getcwd()).lstrip("./"))
        if os.path.isdir(src):
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(src, dst)

    runs = 0
    found = []
    slowest = (0.0, "")
    started = time.monotonic()
    for f in files:
        data = open(f, "rb").read()
        rel = os.path.relpath(os.path.abspath(f), os.getcwd())
        folder = os.path.join(tree, os.path.dirname(rel))
        os.makedirs(folder, exist_ok=True)
        for n in range(args.per_file):
            kind = kinds[n % len(kinds)]
            result = None
            for _ in range(5):
                result = mutate(data, kind, rng)
                if result is not None:
                    break
            if result is None:
                continue
            body, what = result
            mutant = os.path.join(folder, f"zz-mutant-{os.path.basename(f)}")
            with open(mutant, "wb") as out:
                out.write(body if isinstance(body, bytes) else body.encode("utf-8", errors="surrogateescape"))
            problems, elapsed = check(binary, tree, mutant, args.timeout, args.wall)
            runs += 1
            if elapsed > slowest[0]:
                slowest = (elapsed, f"{rel} ({what})")
            if problems:
                keep = os.path.join(findings_dir, f"{len(found):04d}-{os.path.basename(f)}")
                shutil.copy(mutant, keep)
                for kind_found, detail in problems:
                    found.append((kind_found, rel, what, detail, keep))
            os.remove(mutant)

    for kind_found, rel, what, detail, keep in found[:args.show]:
        print(f"{kind_found}: {rel}: {what}\n    {detail}\n    mutant: {keep}")
    counts = {}
    for kind_found, *_ in found:
        counts[kind_found] = counts.get(kind_found, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"
    print(f"{len(files)} files, {runs} mutants in {time.monotonic() - started:.0f} s; "
          f"slowest {slowest[0]:.2f} s of CPU: {slowest[1]}; findings: {summary}")
    if not args.keep:
        if found:
            print(f"(mutants of the findings kept in {findings_dir})")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
