#!/usr/bin/env python3
"""Validates scenario files against docs/ringspec.schema.json with a real JSON Schema validator.

Usage: .ci/validate-schema.py [PATH...]   (default: scenarios/ and the submissions in examples/)
Files whose name starts with `_` are fragments (extends) and are skipped, as ringspec does;
so are exercise handouts (their blanks, `~` and TODO, are not valid values until filled in).
"""
import glob
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError:
    sys.exit("validate-schema: needs the jsonschema and PyYAML packages (pip install jsonschema pyyaml)")

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def files(paths):
    for p in paths:
        if os.path.isdir(p):
            for f in sorted(glob.glob(os.path.join(p, "**", "*.y*ml"), recursive=True)):
                name = os.path.basename(f)
                if name.startswith("_") or "/handout/" in f or name == "exercise.yaml" or "/hidden/" in f:
                    continue
                yield f
        else:
            yield p


def main():
    paths = sys.argv[1:] or [os.path.join(ROOT, "scenarios"), os.path.join(ROOT, "examples")]
    with open(os.path.join(ROOT, "docs", "ringspec.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    bad = 0
    count = 0
    for path in files(paths):
        with open(path) as f:
            docs = list(yaml.safe_load_all(f))
        for i, doc in enumerate(docs):
            if doc is None:
                continue
            count += 1
            # JSON has only string keys (YAML's `0x80:` is the integer 128): go through JSON.
            doc = json.loads(json.dumps(doc, default=str))
            for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
                bad += 1
                where = "/".join(str(p) for p in err.path) or "(document)"
                print(f"{path}: document {i + 1}: {where}: {err.message}")
    print(f"validate-schema: {count} documents, {bad} errors")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
