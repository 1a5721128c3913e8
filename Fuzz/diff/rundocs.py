"""Shared by the differential drivers in this folder (fast_diff, idt_diff, sched_diff, task_diff): write the
generated scenario documents into files and run ringspec over them with the JSON report."""

import json
import os
import subprocess


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
