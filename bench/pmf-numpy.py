#!/usr/bin/python3
"""The numpy reference for `npm run bench -- pmf`: the base case (random
restarts) and the block bootstrap of a PMF problem, as meridian does them,
with straightforward numpy (single-threaded BLAS) on a multiprocessing pool.

    pmf-numpy.py CONC UNC FACTORS REPLICATES PROCS METHOD [BLOCK]

METHOD is "mu" (ESAT's LS-NMF multiplicative updates) or "als" (meridian's
default: alternating non-negative least squares, each k-variable problem
solved by coordinate descent, vectorised over species or samples). Both in
robust mode (alpha = 4, weights α/s for |r/u| = s > α), ESAT's convergence
(Q fell by less than 0.1 over 100 iterations, at most 20000). All species
strong. Bootstrap: circular blocks, warm start from the base F and the base
G's resampled rows, factors mapped by optimal assignment of contribution
correlations (r ≥ 0.6). Prints one JSON line.
"""
import json
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
from multiprocessing import Pool  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402

ALPHA = 4.0


def load(path):
    import pandas as pd
    return pd.read_csv(path, sep=None, engine="python", index_col=0).dropna(how="all").values.astype(float)


def measure(X, U, G, F):
    s = np.abs(X - G @ F) / U
    out = s > ALPHA
    w = np.where(out, ALPHA / np.where(out, s, 1), 1.0) / (U * U)
    q = np.where(out, ALPHA * s, s * s).sum()
    return q, w


def nnls(M, b, v, tol=1e-6):
    """min ½vᵀMv − bᵀv, v ≥ 0, for many problems at once (M: p×k×k, b, v: p×k)."""
    k = v.shape[1]
    for _ in range(100):
        change = np.zeros(v.shape[0])
        for c in range(k):
            d = M[:, c, c]
            s = b[:, c] - np.einsum("pe,pe->p", M[:, c, :], v)
            new = np.where(d > 0, np.maximum(0, v[:, c] + s / np.where(d > 0, d, 1)), v[:, c])
            change = np.maximum(change, np.abs(new - v[:, c]))
            v[:, c] = new
        if np.all(change <= tol * v.max(axis=1)):
            break
    return v


def step_als(X, G, F, w):
    k = G.shape[1]
    wx = w * X
    M = np.einsum("ij,ic,ie->jce", w, G, G)  # per species
    F[:] = nnls(M, (wx.T @ G), F.T.copy()).T
    C = np.einsum("ij,cj,ej->ice", w, F, F)  # per sample
    G[:] = nnls(C, wx @ F.T, G.copy())
    return G, F


def step_mu(X, G, F, w):
    wx = w * X
    F *= (G.T @ wx) / (G.T @ (w * (G @ F)))
    G *= (wx @ F.T) / ((w * (G @ F)) @ F.T)
    return G, F


def solve(X, U, G, F, method, max_iter=20000, delta=0.1, window=100):
    step = step_als if method == "als" else step_mu
    history = []
    it = 0
    for it in range(max_iter):
        q, w = measure(X, U, G, F)
        history.append(q)
        if it >= window and history[-window] - q < delta:
            return G, F, q, it, True
        G, F = step(X, G, F, w)
    return G, F, measure(X, U, G, F)[0], max_iter, False


def base_case(X, U, k, method, procs, runs=20):
    """The best of `runs` restarts by Q(robust), among the converged ones; every run's (Q(robust), iterations, converged)."""
    with Pool(procs) as pool:
        out = pool.map(base_run, [(X, U, k, s, method) for s in range(runs)], chunksize=1)
    return min((r for r in out if r[2]) or out, key=lambda r: r[0]), [(float(r[0]), r[1], r[2]) for r in out]


def base_run(args):
    X, U, k, seed, method = args
    rng = np.random.default_rng(seed)
    n, m = X.shape
    F = np.maximum(np.sqrt(X.mean(0) / k) * np.abs(rng.standard_normal((k, m))), 1e-12)
    G = np.maximum(np.sqrt(X.mean(1, keepdims=True) / k) * np.abs(rng.standard_normal((n, k))), 1e-12)
    G, F, q, it, ok = solve(X, U, G, F, method)
    return q, it, ok, G, F


def replicate(args):
    X, U, G0, F0, block, seed, r, method = args
    rng = np.random.default_rng([seed, r])
    n, k = G0.shape
    starts = rng.integers(0, n, size=-(-n // block))
    rows = ((starts[:, None] + np.arange(block)[None, :]) % n).ravel()[:n]
    gb = G0[rows].copy()
    G, F, q, it, ok = solve(X[rows], U[rows], gb.copy(), F0.copy(), method)
    corr = np.corrcoef(gb.T, G.T)[:k, k:]
    base, mine = linear_sum_assignment(-np.nan_to_num(corr))
    mapped = corr[base, mine] >= 0.6
    return q, it, ok, F, mine, mapped


def main():
    conc, unc, k, B, procs, method = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    block = int(sys.argv[7]) if len(sys.argv) > 7 else 4
    X, U = load(conc), load(unc)
    U = np.maximum(U, 1e-12)
    with Pool(procs) as pool:
        t0 = time.perf_counter()
        runs = pool.map(base_run, [(X, U, k, s, method) for s in range(20)], chunksize=1)
        t1 = time.perf_counter()
        best = min((r for r in runs if r[2]) or runs, key=lambda r: r[0])
        reps = pool.map(replicate, [(X, U, best[3], best[4], block, 42, r, method) for r in range(B)], chunksize=max(1, B // (8 * procs)))
        t2 = time.perf_counter()
    iters = np.array([r[1] for r in reps])
    mapped = np.array([r[5] for r in reps]).mean(0)
    # per-iteration time, measured on one process: a few replicates again, serially
    t3 = time.perf_counter()
    few = [replicate((X, U, best[3], best[4], block, 42, r, method)) for r in range(min(B, 5))]
    per_iter = (time.perf_counter() - t3) / sum(r[1] for r in few)
    print(json.dumps({
        "method": method, "replicates": B, "procs": procs, "base_seconds": t1 - t0, "bootstrap_seconds": t2 - t1,
        "Q_robust_base": float(best[0]), "iterations_median": float(np.median(iters)), "iterations_max": int(iters.max()),
        "us_per_iteration": per_iter * 1e6, "mapped": mapped.tolist(), "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
