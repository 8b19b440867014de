#!/usr/bin/env python3
"""Compares the float tensors of two safetensors checkpoints (standard library only): prints
the largest absolute difference over the tensors whose names start with one of the prefixes
(default: every tensor), and exits 1 when it is above the tolerance given, 2 when the files do
not hold the same tensors.
usage: st_diff.py A B [--tol T] [--prefix P ...]"""
import array
import json
import struct
import sys


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        a = array.array("f")
        a.frombytes(data[t["data_offsets"][0]:t["data_offsets"][1]])
        out[name] = a
    return out


def main(argv):
    tol, prefixes, files = None, [], []
    i = 0
    while i < len(argv):
        if argv[i] == "--tol":
            tol = float(argv[i + 1]); i += 2
        elif argv[i] == "--prefix":
            prefixes.append(argv[i + 1]); i += 2
        else:
            files.append(argv[i]); i += 1
    a, b = load(files[0]), load(files[1])
    names = [k for k in a if not prefixes or any(k.startswith(p) for p in prefixes)]
    if not names or set(names) - set(b):
        print("st_diff: the files do not hold the same tensors")
        return 2
    worst, where, scale = 0.0, "", 0.0
    for k in names:
        if len(a[k]) != len(b[k]):
            print("st_diff: %s has %d values in one file, %d in the other" % (k, len(a[k]), len(b[k])))
            return 2
        for x, y in zip(a[k], b[k]):
            d = abs(x - y)
            scale = max(scale, abs(x))
            if d > worst or d != d:
                worst, where = d, k
    print("max |a - b| = %.3g (%s) over %d tensors, max |a| = %.3g" % (worst, where or "-", len(names), scale))
    return 1 if tol is not None and not worst <= tol else 0


sys.exit(main(sys.argv[1:]))
