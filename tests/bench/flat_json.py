"""flat_json.py: rewrites a benchmark's JSON file as one flat object (name -> number, string or
boolean; nested names joined with '_', list items numbered from 1), the form tools read.

    /usr/bin/python3 tests/bench/flat_json.py FILE.json
"""
import json
import sys


def flat(value, prefix="", out=None):
    out = {} if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            flat(v, f"{prefix}_{k}" if prefix else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flat(v, f"{prefix}_{i + 1}", out)
    else:
        out[prefix] = value
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: flat_json.py FILE.json")
    path = sys.argv[1]
    with open(path) as f:
        data = json.load(f)
    with open(path, "w") as f:
        json.dump(flat(data), f, indent=1, ensure_ascii=False)
        f.write("\n")
