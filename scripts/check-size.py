#!/usr/bin/env python3
"""check-size.py — no C file over 900 lines, no function over 100 lines.

A function is counted from the line that holds its name at column 0 (the style of the tree:
return type on the line before) to its closing brace at column 0. The one exception is the
JSON validator's state machine, a single loop over a byte-driven state table that reads worse
cut in pieces (EXCEPT below). Exit 0 when clean, 1 with one line per problem.

Usage: scripts/check-size.py [--root DIR]
"""
import argparse
import os
import re
import sys

FOLDERS = ["base", "store", "drivers", "reconcile", "report", "web", "src"]
MAX_FILE = 900
MAX_FUNC = 100
EXCEPT = set()

START = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\(")


def functions(lines):
    name, start = None, 0
    for i, line in enumerate(lines, 1):
        m = START.match(line)
        if m and not line.rstrip().endswith(";"):
            name, start = m.group(1), i
        elif line.startswith("}") and name:
            yield name, start, i - start + 1
            name = None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    a = ap.parse_args()
    problems, files, funcs = [], 0, 0
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(a.root, folder)):
            for f in sorted(names):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, a.root)
                with open(path, errors="replace") as fh:
                    lines = fh.read().split("\n")
                files += 1
                if len(lines) - 1 > MAX_FILE:
                    problems.append(f"{rel}: {len(lines) - 1} lines (at most {MAX_FILE})")
                for name, start, n in functions(lines):
                    funcs += 1
                    if n > MAX_FUNC and (rel, name) not in EXCEPT:
                        problems.append(f"{rel}:{start}: {name}: {n} lines "
                                        f"(at most {MAX_FUNC})")
    for p in problems:
        print("check-size: " + p)
    if problems:
        print(f"check-size: {len(problems)} problem(s)")
        return 1
    print(f"check-size: clean ({files} files, {funcs} functions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
