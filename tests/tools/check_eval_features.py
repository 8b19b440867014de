#!/usr/bin/env python3
"""Recomputes clgan eval's figures from its --features files with NumPy and SciPy, and checks
them against its --json to 1e-3 relative.

usage: check_eval_features.py FEATURES_DIR EVAL_JSON

FID as pytorch-fid computes it (scipy.linalg.sqrtm of the product of the covariances);
precision / recall (k = 3) and density / coverage (k = 5) as the prdc package defines them (strict: distance < radius);
KID (cubic polynomial kernel, unbiased MMD^2) only where clgan's subsets held the whole sets,
since its random subsets come from clgan's own Philox stream. The floor too, when present.
"""
import json
import sys

import numpy as np
from scipy import linalg


def fid(a, b):
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def sqdist(x, y):
    d = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2 * x @ y.T
    return np.maximum(d, 0)


def radii(x, k):
    d = sqdist(x, x)
    return np.sqrt(np.partition(d, k, axis=1)[:, k])


def prdc(real, fake, k_pr, k_dc):
    d = np.sqrt(sqdist(real, fake))
    r_pr, f_pr, r_dc = radii(real, k_pr), radii(fake, k_pr), radii(real, k_dc)
    precision = (d < r_pr[:, None]).any(0).mean()
    recall = (d < f_pr[None, :]).any(1).mean()
    density = (1.0 / k_dc) * (d < r_dc[:, None]).sum(0).mean()
    coverage = (d.min(1) < r_dc).mean()
    return precision, recall, density, coverage


def kid_whole(a, b):
    n = a.shape[1]
    k = lambda x, y: (x @ y.T / n + 1) ** 3
    m = a.shape[0]
    kxx, kyy, kxy = k(a, a), k(b, b), k(a, b)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1))
            - 2 * kxy.mean())


def check(name, got, want, failures):
    ok = abs(got - want) <= 1e-3 * max(abs(want), 1e-6)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: clgan {got:.9g}, SciPy {want:.9g}")
    if not ok:
        failures.append(name)


def main():
    folder, path = sys.argv[1], sys.argv[2]
    doc = json.load(open(path))
    real = np.load(f"{folder}/real.npy").astype(np.float64)
    failures = []
    for part, file in (("metrics", "samples"), ("floor", "test")):
        if part not in doc:
            continue
        m = doc[part]
        fake = np.load(f"{folder}/{file}.npy").astype(np.float64)
        check(f"{part} FID", m["fid"], fid(real, fake), failures)
        p, r, d, c = prdc(real, fake, m["k_pr"], m["k_dc"])
        check(f"{part} precision", m["precision"], p, failures)
        check(f"{part} recall", m["recall"], r, failures)
        check(f"{part} density", m["density"], d, failures)
        check(f"{part} coverage", m["coverage"], c, failures)
        kid = m["kid"]
        if kid["subset_size"] == len(real) == len(fake):
            check(f"{part} KID (whole sets)", kid["mean"], kid_whole(real, fake), failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
