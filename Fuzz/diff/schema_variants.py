#!/usr/bin/env python3
"""Checks that the JSON Schema (docs/ringspec.schema.json, `ringspec schema`) agrees with what the engine
accepts, so that an editor never flags a file ringspec runs and flags what ringspec refuses where a
schema can say it.

1. Variants: every shipped scenario (scenarios/) is rewritten with the equivalent spellings of
   spell_diff.py (each transform on its own, then its combinations). Every rewritten document that
   `ringspec check` accepts must validate against the schema (a mismatch: "engine accepts, schema rejects").
2. Mutations: small invalid edits of the shipped documents: an unknown key in a mapping, a value
   outside an enum, a list or a mapping where a scalar is, a word where an integer is. Each is run
   through `ringspec check` and the schema; every disagreement is a mismatch, except the few kinds a
   JSON Schema cannot state (listed in INEXPRESSIBLE below, printed with -v): those are reported as
   known and do not fail the run.

Validation is as .ci/validate-schema.py does it: PyYAML (YAML 1.1), through JSON, jsonschema Draft 7.

    python3 Fuzz/diff/schema_variants.py [--ringspec PATH] [--seed N] [--mutations N] [--keep DIR] [-v]

Exit status 0 when there is no mismatch, 1 otherwise. About 40 s on two cores (debug build).
"""

import argparse
import concurrent.futures
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

try:
    import jsonschema
    import yaml
except ImportError:
    sys.exit("schema_variants: needs the jsonschema and PyYAML packages (pip install jsonschema pyyaml)")

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import spell_diff as SD  # noqa: E402
import yamlsub as Y  # noqa: E402
from yamlsub import Map, Scalar, Seq  # noqa: E402

# Keys whose value is one of a closed list (the schema has an enum for each): a mutation writes a
# value outside the list.
ENUM_KEYS = {"mode", "vendor", "preset", "paging", "policy", "granularity", "default_size", "bits", "op", "size",
             "via", "segment", "state", "reason", "ti"}
# Keys whose value is a number in a small range (the schema has the range): a mutation writes the next
# value above it, in one of the format's spellings.
RANGED = {"dpl": 3, "cpl": 3, "rpl": 3, "iopl": 3, "from_cpl": 3, "to_cpl": 3, "ist": 7, "params": 31}
# Keys whose value is free text (any string is valid): a mutation there proves nothing.
TEXT_KEYS = {"scenario", "description", "output", "stdout", "stdin", "exec", "name", "as", "parent", "current",
             "from", "to", "wakes", "extends", "tss", "trace", "tags", "syscalls", "files"}

# What a JSON Schema cannot state; a mutation of these kinds that the engine refuses and the schema
# accepts is known, not a mismatch. (kind, path test, why)
INEXPRESSIBLE = [
    ("word-for-int", lambda p: any(k in p for k in ("selector", "cs", "ss", "ds", "es", "fs", "gs", "ldt", "link",
                                                       "ss0", "ss1", "ss2", "tr", "ldtr",
                                                       "IA32_SYSENTER_CS", "ia32_sysenter_cs", "0x174", "372")),
     "a selector may be a descriptor's name: which names exist depends on the scenario's tables"),
    ("word-for-int", lambda p: any(k in p for k in ("vector", "fault", "faults", "idt", "nr", "args", "signal",
                                                       "returns")),
     "an exception, system call, signal or errno name: the schema takes any string, the engine knows the list"),
    ("word-for-int", lambda p: "msrs" in p,
     "an MSR name key: the schema cannot list every spelling the engine resolves"),
    ("unknown-key", lambda p: len(p) >= 2 and p[-2] in ("msrs", "states", "processes", "regs", "idt", "files",
                                                          "context"),
     "a map keyed by names (MSRs, tasks, registers, vectors, descriptors): the keys depend on the scenario"),
]


def inexpressible(kind, path):
    for k, test, why in INEXPRESSIBLE:
        if k == kind and test(path):
            return why
    return None


# ---------------------------------------------------------------------------------------------
# Engine and schema


def load_schema():
    p = subprocess.run([ARGS.ringspec, "schema"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("schema_variants: `ringspec schema` failed: " + p.stderr[:500])
    schema = json.loads(p.stdout)
    with open(os.path.join(REPO, "docs", "ringspec.schema.json")) as f:
        if json.load(f) != schema:
            print("schema_variants: docs/ringspec.schema.json differs from `ringspec schema` (regenerate it)")
            SCHEMA_STALE[0] = True
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


SCHEMA_STALE = [False]


def schema_errors(validator, doc, cache=None):
    # JSON has only string keys (YAML's `0x80:` is the integer 128): go through JSON, as validate-schema does
    doc = json.loads(json.dumps(doc, default=str))
    text = json.dumps(doc, sort_keys=True)
    if cache is not None and text in cache:
        return cache[text]
    errs = []
    for e in validator.iter_errors(doc):
        e = jsonschema.exceptions.best_match([e])   # the deepest reason of an anyOf
        errs.append("%s: %s" % ("/".join(str(p) for p in e.path) or "(document)", e.message[:200]))
    if cache is not None:
        cache[text] = errs
    return errs


def engine_check(root, files):
    """(file relative to root, scenario id) -> (status, first diagnostic)."""
    out = {}
    chunks = [files[i:i + 400] for i in range(0, len(files), 400)]

    def one(chunk):
        p = subprocess.run([ARGS.ringspec, "check", "--format", "json", "--root", root] + chunk,
                           capture_output=True, text=True)
        try:
            return json.loads(p.stdout)["scenarios"]
        except (ValueError, KeyError):
            raise SystemExit("schema_variants: ringspec check failed:\n" + (p.stdout + p.stderr)[:2000])

    with concurrent.futures.ThreadPoolExecutor(max_workers=ARGS.jobs) as pool:
        for scen in pool.map(one, chunks):
            for s in scen:
                d = s.get("diagnostics") or []
                msg = d[0]["message"] if d else ""
                out[(os.path.relpath(s["file"], root), s["id"])] = (s["status"], msg)
    return out


def yaml_docs(path):
    with open(path) as f:
        try:
            return list(yaml.load_all(f, Loader=LOADER))
        except yaml.YAMLError as e:
            return e


# ---------------------------------------------------------------------------------------------
# 1. Variants


def variants(validator, work):
    src_root = os.path.join(REPO, "scenarios")
    files = SD.suite_files(src_root)
    rels = [os.path.relpath(f, src_root) for f in files]
    named = dict(SD.TRANSFORMS)
    in_combo = {p for _, parts in SD.COMBOS for p in parts}
    # As spell_diff's default run: the combinations, and the transforms none of them holds; --each
    # adds every transform on its own.
    plans = [(n, f) for n, f in SD.TRANSFORMS if ARGS.each or n not in in_combo]
    plans += [(n, SD.combine([named[p] for p in parts])) for n, parts in SD.COMBOS]
    root = os.path.join(work, "variants")
    os.makedirs(root)
    trees = []
    for name, fn in plans:
        troot = os.path.join(root, name)
        shutil.copytree(src_root, troot)
        changed = [os.path.join(troot, rel) for f, rel in zip(files, rels)
                   if not os.path.basename(rel).startswith("_") and SD.rewrite_file(f, rel, fn, troot)]
        trees.append((troot, changed))
    # ids are unique within a suite: one check per rewritten suite
    with concurrent.futures.ThreadPoolExecutor(max_workers=ARGS.jobs) as pool:
        checks = list(pool.map(lambda t: engine_check(t[0], t[1]) if t[1] else {}, trees))
    mismatches, docs, accepted, seen = [], 0, 0, {}
    for (troot, changed), results in zip(trees, checks):
        for path in changed:
            rel = os.path.relpath(path, troot)
            parsed = yaml_docs(path)
            shown = os.path.relpath(path, root)
            if isinstance(parsed, Exception):
                mismatches.append("%s: PyYAML cannot read the rewritten file: %s" % (shown, str(parsed)[:200]))
                continue
            for doc in parsed:
                if not isinstance(doc, dict) or "scenario" not in doc:
                    continue
                docs += 1
                st = results.get((rel, str(doc["scenario"])))
                if st is None or st[0] == "invalid":
                    continue   # the engine refuses it: spell_diff reports that
                accepted += 1
                errs = schema_errors(validator, doc, seen)
                if errs:
                    mismatches.append("%s %s: engine accepts, schema rejects: %s" % (shown, doc["scenario"], "; ".join(errs[:3])))
    print("variants: %d rewritten documents (%d suites), %d accepted by ringspec (%d distinct), %d rejected by the schema"
          % (docs, len(plans), accepted, len(seen), len(mismatches)))
    return mismatches


# ---------------------------------------------------------------------------------------------
# 2. Mutations (on the yamlsub tree, so that the rest of the document keeps its spelling)


def walk(node, path):
    """Yields (container, index, path, node) for every node below `node`."""
    if isinstance(node, Map):
        for i, it in enumerate(node.items):
            k = it[0].text() if isinstance(it[0], Scalar) else "?"
            if k == "<<":
                continue
            yield node, i, path + [k], it[1]
            yield from walk(it[1], path + [k])
    elif isinstance(node, Seq):
        for i, v in enumerate(node.items):
            yield node, i, path + [i], v
            yield from walk(v, path + [i])


def _set(container, i, value):
    if isinstance(container, Map):
        container.items[i][1] = value
    else:
        container.items[i] = value


def mutations(tree, rng, per_doc):
    """Yields (kind, path, mutate) for a document; mutate(tree) edits a fresh copy."""
    sites = list(walk(tree, []))
    cands = []
    maps = [([], tree)] + [(p, n) for _, _, p, n in sites if isinstance(n, Map)]
    for p, _ in maps:
        cands.append(("unknown-key", p + ["bogus_key"]))
    for c, i, p, n in sites:
        key = next((x for x in reversed(p) if isinstance(x, str)), "")
        if not isinstance(n, Scalar):
            continue
        if key in TEXT_KEYS:
            # any scalar is text (`output: 42` is "42"); a list or a mapping is not
            if key not in ("files", "tss"):
                cands.append(("list-for-scalar", p))
            continue
        if key in ENUM_KEYS and isinstance(p[-1], str):
            cands.append(("bad-enum", p))
        if key in RANGED and isinstance(p[-1], str):
            cands.append(("out-of-range", p))
        cands.append(("list-for-scalar", p))
        cands.append(("map-for-scalar", p))
        if SD.to_int(n.raw) is not None and key not in ("trap", "if") and n.text() not in ("0", "1"):
            cands.append(("word-for-int", p))
    # an `x-` anchor's contents count only where an alias uses them, and a merge key can override them
    # under another spelling of the key (`PF:` over `14:`), which the schema cannot follow
    cands = [c for c in cands if not (c[1] and (str(c[1][0]).startswith("x-") or c[1] == ["scenario"]))]
    rng.shuffle(cands)
    return cands[:per_doc]


def locate(tree, path):
    node, parent, idx = tree, None, None
    for k in path:
        parent = node
        if isinstance(node, Map):
            idx = next((j for j, it in enumerate(node.items) if isinstance(it[0], Scalar) and it[0].text() == k), None)
            if idx is None:
                return None, None, None
            node = node.items[idx][1]
        elif isinstance(node, Seq) and isinstance(k, int) and k < len(node.items):
            idx = k
            node = node.items[k]
        else:
            return None, None, None
    return parent, idx, node


def above_range(path):
    """The first value above the key's range, in a spelling chosen by the path (decimal, hex, binary, quoted)."""
    v = RANGED[path[-1]] + 1
    return random.Random(str(path)).choice([str(v), hex(v), bin(v), '"%d"' % v])


def apply(tree, kind, path):
    if kind == "unknown-key":
        _, _, m = locate(tree, path[:-1]) if path[:-1] else (None, None, tree)
        if not isinstance(m, Map) or m.get("bogus_key") is not None:
            return False
        m.items.append([Scalar("bogus_key"), Scalar("1")])
        return True
    parent, idx, node = locate(tree, path)
    if parent is None:
        return False
    value = {"bad-enum": lambda: Scalar("bogus"),
             "list-for-scalar": lambda: Seq([Scalar("1"), Scalar("2")]),
             "map-for-scalar": lambda: Map([[Scalar("bogus_key"), Scalar("1")]]),
             "word-for-int": lambda: Scalar("bogus"),
             "out-of-range": lambda: Scalar(above_range(path))}[kind]()
    _set(parent, idx, value)
    return True


def mutate_suite(validator, work, rng):
    src_root = os.path.join(REPO, "scenarios")
    root = os.path.join(work, "mutations", "scenarios")
    shutil.copytree(src_root, root)
    plans = []   # (file, kind, path)
    for f in SD.suite_files(src_root):
        rel = os.path.relpath(f, src_root)
        if os.path.basename(rel).startswith("_"):
            continue
        with open(f) as fh:
            try:
                parts = Y.split_documents(fh.read())
            except Y.Unsupported:
                continue
        for n, (_, text) in enumerate(parts):
            if n % ARGS.every:
                continue
            try:
                tree = Y.parse(text)
            except Y.Unsupported:
                continue
            if not isinstance(tree, Map) or tree.get("scenario") is None:
                continue
            for m, (kind, path) in enumerate(mutations(tree, rng, ARGS.mutations)):
                t = Y.copy(tree)
                if not apply(t, kind, path):
                    continue
                t.set("scenario", Scalar("mut-%d" % len(plans)))
                dst = os.path.join(root, os.path.dirname(rel), "m%d-%d-%s" % (n, m, os.path.basename(rel)))
                with open(dst, "w") as fh:
                    fh.write(Y.dump(t) + "\n")
                plans.append((dst, kind, path))
    results = engine_check(root, [p for p, _, _ in plans])
    mismatches, known, counts = [], {}, {"both": 0, "neither": 0}
    for dst, kind, path in plans:
        rel = os.path.relpath(dst, root)
        parsed = yaml_docs(dst)
        if isinstance(parsed, Exception) or not parsed or not isinstance(parsed[0], dict):
            continue
        doc = parsed[0]
        st = results.get((rel, str(doc.get("scenario"))))
        if st is None:
            st = next((v for (r, _), v in results.items() if r == rel), ("invalid", "?"))
        engine_ok = st[0] != "invalid"
        errs = schema_errors(validator, doc)
        where = "/".join(str(p) for p in path)
        if engine_ok and errs:
            mismatches.append("%s (%s at %s): engine accepts, schema rejects: %s" % (rel, kind, where, errs[0]))
        elif not engine_ok and not errs:
            why = inexpressible(kind, path)
            if why:
                known.setdefault(why, []).append("%s (%s at %s): %s" % (rel, kind, where, st[1][:160]))
            else:
                mismatches.append("%s (%s at %s): engine refuses (%s), schema accepts" % (rel, kind, where, st[1][:200]))
        else:
            counts["both" if engine_ok else "neither"] += 1
            if engine_ok and ARGS.verbose:
                print("    accepted by both: %s (%s at %s)" % (rel, kind, where))
    print("mutations: %d documents, %d refused by both, %d accepted by both, %d known gaps, %d mismatches"
          % (len(plans), counts["neither"], counts["both"], sum(len(v) for v in known.values()), len(mismatches)))
    for why, items in sorted(known.items()):
        print("    known (%d): %s" % (len(items), why))
        if ARGS.verbose:
            for it in items[:5]:
                print("        " + it)
    return mismatches


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ringspec", default=os.path.join(REPO, ".build", "debug", "ringspec"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--mutations", type=int, default=6, help="mutations per document")
    ap.add_argument("--every", type=int, default=1, help="mutate one document in N")
    ap.add_argument("--each", action="store_true", help="every spell_diff transform on its own too (slower)")
    ap.add_argument("--keep", help="write the rewritten files under this folder and keep them")
    ap.add_argument("--show", type=int, default=30)
    ap.add_argument("-j", "--jobs", type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument("-v", "--verbose", action="store_true")
    ARGS = ap.parse_args()
    validator = load_schema()
    work = args_work = ARGS.keep or tempfile.mkdtemp(prefix="schema-variants-")
    if ARGS.keep and os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work, exist_ok=True)
    rng = random.Random(ARGS.seed)
    bad = variants(validator, work) + mutate_suite(validator, work, rng)
    for m in bad[:ARGS.show]:
        print("    " + m)
    if len(bad) > ARGS.show:
        print("    ... %d more" % (len(bad) - ARGS.show))
    if not ARGS.keep:
        shutil.rmtree(args_work, ignore_errors=True)
    print("schema_variants: %d mismatches%s" % (len(bad), ", docs/ringspec.schema.json is stale" if SCHEMA_STALE[0] else ""))
    return 1 if bad or SCHEMA_STALE[0] else 0


ARGS = None

if __name__ == "__main__":
    sys.exit(main())
