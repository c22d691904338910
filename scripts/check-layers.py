#!/usr/bin/env python3
"""check-layers.py — the folders are the architecture; this keeps them honest.

The layers, bottom up, and what each may use (its own folder is always allowed):

    base       config loading, util, the record model, link tokens   -> nothing
    store      the only code that knows LMDB                          -> base
    drivers    HTTP core, JSON, OAuth grants, one file per platform   -> base
    reconcile  the engine: runs, identity, prompts, outbox, events    -> base store drivers
    report     people table, exports, metrics                         -> base store reconcile
    web        the serve endpoint: pages, sessions, handlers          -> base store drivers
                                                                         reconcile report
    src        front ends: main, options, one cmd_*.c per family      -> everything

Two kinds of arrow are checked:
  * includes: a file in folder F (or a header of include/ that belongs to F) may include only
    headers of the layers F may use. A header include/X.h belongs to the folder that holds X.c,
    unless HEADER_LAYER below says otherwise; a header that belongs nowhere is an error.
  * calls: with --objects DIR (the build's object tree, e.g. build/test), every undefined
    symbol of an object is matched to the object that defines it (nm), and the same rule
    applies to those arrows.
Any cycle between files, of either kind, is an error (Tarjan's strongly connected
components). Exit 0 when clean, 1 with one line per problem, 2 on usage errors.

Usage: scripts/check-layers.py [--root DIR] [--objects DIR]
"""
import argparse
import os
import re
import subprocess
import sys

# The allowed directions: layer -> the layers it may include or call (besides itself).
ALLOWED = {
    "base": [],
    "store": ["base"],
    "drivers": ["base"],
    "reconcile": ["base", "store", "drivers"],
    "report": ["base", "store", "reconcile"],
    "web": ["base", "store", "drivers", "reconcile", "report"],
    "src": ["base", "store", "drivers", "reconcile", "report", "web"],
}
LAYERS = list(ALLOWED)

# Headers of include/ whose layer is not the folder of a same-named .c file.
HEADER_LAYER = {
    "store.h": "store",
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_of_source(rel):
    top = rel.split("/", 1)[0]
    return top if top in ALLOWED else None


def header_layers(root):
    """include/X.h -> layer."""
    out = {}
    problems = []
    inc = os.path.join(root, "include")
    if not os.path.isdir(inc):
        return out, problems
    impl = {}
    for layer in LAYERS:
        d = os.path.join(root, layer)
        if os.path.isdir(d):
            for f in os.listdir(d):
                if f.endswith(".c"):
                    impl.setdefault(f[:-2] + ".h", layer)
    for h in sorted(os.listdir(inc)):
        if not h.endswith(".h"):
            continue
        layer = HEADER_LAYER.get(h) or impl.get(h)
        if layer is None:
            problems.append(f"include/{h}: belongs to no layer: name it after the .c that "
                            f"implements it, or add it to HEADER_LAYER in scripts/check-layers.py")
            continue
        out[h] = layer
    return out, problems


def sources(root):
    for layer in LAYERS:
        d = os.path.join(root, layer)
        if not os.path.isdir(d):
            continue
        for dirpath, _, files in os.walk(d):
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    p = os.path.join(dirpath, f)
                    yield os.path.relpath(p, root), layer
    inc = os.path.join(root, "include")
    if os.path.isdir(inc):
        for f in sorted(os.listdir(inc)):
            if f.endswith(".h"):
                yield "include/" + f, None


def resolve(root, rel, name, hlayers):
    """The file an include "name" in rel points at, and its layer (None: system or outside)."""
    here = os.path.join(os.path.dirname(rel), name)
    if os.path.exists(os.path.join(root, here)):
        here = os.path.normpath(here)
        if here.startswith("include/"):
            return here, hlayers.get(here[len("include/"):])
        return here, layer_of_source(here)
    if os.path.exists(os.path.join(root, "include", name)):
        return "include/" + name, hlayers.get(name)
    return None, None


def allowed(src_layer, dst_layer):
    return dst_layer == src_layer or dst_layer in ALLOWED[src_layer]


def sccs(graph):
    """Tarjan, iterative: the strongly connected components with more than one node."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on.add(start)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph.get(nxt, ())))))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def nm_symbols(path):
    p = subprocess.run(["nm", "--defined-only", "-g", path], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    defined = {l.split()[-1] for l in p.stdout.splitlines() if len(l.split()) == 3}
    p = subprocess.run(["nm", "-u", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    undefined = {l.split()[-1] for l in p.stdout.splitlines() if l.split()}
    return defined, undefined


def call_graph(root, objdir):
    """source file -> set of source files whose functions or data it uses."""
    objs = {}
    for layer in LAYERS:
        d = os.path.join(objdir, layer)
        if not os.path.isdir(d):
            continue
        for dirpath, _, files in os.walk(d):
            for f in files:
                if f.endswith(".o"):
                    o = os.path.join(dirpath, f)
                    src = os.path.relpath(o, objdir)[:-2] + ".c"
                    if os.path.exists(os.path.join(root, src)):
                        objs[src] = nm_symbols(o)
    owner = {}
    for src, (defined, _) in objs.items():
        for s in defined:
            owner[s] = src
    graph = {}
    for src, (_, undefined) in objs.items():
        graph[src] = {owner[s] for s in undefined if s in owner and owner[s] != src}
    return graph


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--objects", help="object tree to read symbols from (nm), e.g. build/test")
    a = ap.parse_args()
    root = a.root
    hlayers, problems = header_layers(root)

    inc_graph = {}
    for rel, layer in sources(root):
        if layer is None:
            layer = hlayers.get(rel[len("include/"):])
            if layer is None:
                continue
        with open(os.path.join(root, rel), errors="replace") as f:
            text = f.read()
        edges = inc_graph.setdefault(rel, set())
        for m in INCLUDE_RE.finditer(text):
            name = m.group(1)
            target, tlayer = resolve(root, rel, name, hlayers)
            if target is None:
                continue
            edges.add(target)
            if tlayer is not None and not allowed(layer, tlayer):
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{line}: includes {target} ({layer} -> {tlayer}): "
                                f"{layer} may use {', '.join(ALLOWED[layer]) or 'nothing'}")
    for comp in sccs(inc_graph):
        problems.append("include cycle: " + " <-> ".join(comp))

    if a.objects:
        graph = call_graph(root, a.objects)
        if not graph:
            problems.append(f"{a.objects}: no objects of the layers found (build first)")
        for src in sorted(graph):
            sl = layer_of_source(src)
            for dst in sorted(graph[src]):
                dl = layer_of_source(dst)
                if not allowed(sl, dl):
                    problems.append(f"{src}: calls into {dst} ({sl} -> {dl}): "
                                    f"{sl} may use {', '.join(ALLOWED[sl]) or 'nothing'}")
        for comp in sccs(graph):
            problems.append("call cycle between files: " + " <-> ".join(comp))

    for p in problems:
        print("check-layers: " + p)
    if problems:
        print(f"check-layers: {len(problems)} problem(s)")
        return 1
    print("check-layers: clean (%d files%s)" % (len(inc_graph), ", calls checked" if a.objects else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
