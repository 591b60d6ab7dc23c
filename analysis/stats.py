"""Statistics over repeated runs: task-clustered bootstrap CIs, pass@k and pass^k, flip
rates, paired tests between two configurations. numpy only (no scipy needed).

Definitions:

* **Task-clustered bootstrap** (:func:`bootstrap_ci`): resample *tasks* with replacement
  (all runs of a drawn task come along), recompute the mean over the drawn runs; the CI is
  the percentile interval. Repeats of one task are correlated, so resampling runs would
  understate the uncertainty.
* **pass@k** (:func:`pass_at_k`): probability that at least one of k runs drawn without
  replacement from n runs with c successes succeeds, ``1 - C(n-c, k) / C(n, k)`` (the
  unbiased estimator of Chen et al. 2021).
* **pass^k** (:func:`pass_hat_k`): probability that all k drawn runs succeed,
  ``C(c, k) / C(n, k)`` (reliability across repeats, as in tau-bench).
* **Flip rate** (:func:`flip_rate`): for one task in one configuration, the fraction of
  its repeats whose outcome differs from the task's majority outcome (a tie counts half
  the repeats); 0 = every repeat agrees, 0.5 = a coin toss. ``any_flip`` is the share of
  tasks whose repeats do not all agree.
* **Paired test** (:func:`paired_test`): runs of two configurations matched on
  ``match`` columns (same task and repeat/seed); the mean paired difference, a bootstrap
  CI over pairs, and a two-sided sign-flip permutation p-value (exact when 2^n is at most
  the permutation budget).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "bootstrap_ci",
    "pass_at_k",
    "pass_hat_k",
    "pass_k_table",
    "flip_rate",
    "paired_test",
    "sign_flip_pvalue",
]

DEFAULT_CONFIG = ("instance", "backend", "tools_enabled")
"""Columns that identify a configuration cell."""


def _cols(by: str | Sequence[str] | None) -> list[str]:
    return [] if by is None else ([by] if isinstance(by, str) else list(by))


def _groups(df: pd.DataFrame, by: list[str]):
    return df.groupby(by, dropna=False, sort=True) if by else [((), df)]


def _keydict(by: list[str], key) -> dict[str, Any]:
    return dict(zip(by, key if isinstance(key, tuple) else (key,)))


def _clustered(values: np.ndarray, clusters: np.ndarray, n: int, seed: int, ci: float) -> dict[str, float]:
    codes, uniq = pd.factorize(clusters, sort=True)
    k = len(uniq)
    sums = np.bincount(codes, weights=values, minlength=k)
    counts = np.bincount(codes, minlength=k).astype(float)
    rng = np.random.default_rng(seed)
    # n x k draws of cluster indices; the chunking keeps memory bounded for many clusters
    stats = np.empty(n)
    step = max(1, 2_000_000 // max(k, 1))
    for lo in range(0, n, step):
        idx = rng.integers(0, k, size=(min(step, n - lo), k))
        stats[lo:lo + len(idx)] = sums[idx].sum(1) / counts[idx].sum(1)
    alpha = (1 - ci) / 2
    return {"estimate": float(values.mean()), "low": float(np.quantile(stats, alpha)),
            "high": float(np.quantile(stats, 1 - alpha)), "n_clusters": k, "n_obs": len(values)}


def bootstrap_ci(df: pd.DataFrame, value: str, *, cluster: str | None = "task_id", n: int = 2000, seed: int = 0,
                 ci: float = 0.95, by: str | Sequence[str] | None = None) -> pd.Series | pd.DataFrame:
    """Mean of ``value`` with a task-clustered percentile bootstrap CI.

    Rows with a missing ``value`` are dropped. ``cluster=None`` resamples rows. Returns a
    Series (``estimate``, ``low``, ``high``, ``n_clusters``, ``n_obs``), or with ``by`` a
    DataFrame with one such row per group.
    """
    if not 0 < ci < 1:
        raise ValueError(f"ci must be in (0, 1), got {ci}")
    for c in [value, *( [cluster] if cluster else [])]:
        if c not in df.columns:
            raise ValueError(f"bootstrap_ci: no column {c!r} in the frame")
    by_cols = _cols(by)
    rows = []
    for key, g in _groups(df, by_cols):
        g = g[pd.to_numeric(g[value], errors="coerce").notna()]
        vals = pd.to_numeric(g[value]).to_numpy(dtype=float)
        if len(vals) == 0:
            res = {"estimate": np.nan, "low": np.nan, "high": np.nan, "n_clusters": 0, "n_obs": 0}
        else:
            clusters = g[cluster].to_numpy() if cluster else np.arange(len(vals))
            res = _clustered(vals, clusters, n, seed, ci)
        rows.append({**_keydict(by_cols, key), **res})
    if not by_cols:
        return pd.Series(rows[0])
    return pd.DataFrame(rows)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k: P(at least one success among k of n runs with c successes)."""
    _check_nck(n, c, k)
    if n - c < k:
        return 1.0
    # 1 - C(n-c, k)/C(n, k) as a product, stable for large n
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k: P(all k of n runs with c successes succeed) = C(c, k) / C(n, k)."""
    _check_nck(n, c, k)
    if c < k:
        return 0.0
    # C(c,k)/C(n,k) = prod_{i<k} (c-i)/(n-i)
    i = np.arange(k)
    return float(np.prod((c - i) / (n - i)))


def _check_nck(n: int, c: int, k: int) -> None:
    if not (0 <= c <= n) or k < 1 or k > n:
        raise ValueError(f"need 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")


def pass_k_table(runs: pd.DataFrame, k: int | Sequence[int] = (1, 2, 3), *,
                 by: str | Sequence[str] | None = DEFAULT_CONFIG, task: str = "task_id",
                 success: str = "correct") -> pd.DataFrame:
    """pass@k and pass^k per configuration: per task from its n repeats and c successes,
    averaged over the tasks that have at least k repeats.

    ``success``: a column that is true/1 for a successful run (default ``correct``; runs
    with a missing value count as failures).
    """
    ks = [k] if isinstance(k, int) else list(k)
    by_cols = _cols(by)
    ok = pd.to_numeric(runs[success], errors="coerce").fillna(0).astype(float) > 0
    per_task = runs.assign(_ok=ok).groupby(by_cols + [task], dropna=False)["_ok"].agg(["size", "sum"])
    rows = []
    for key, g in (per_task.groupby(level=list(range(len(by_cols))), dropna=False) if by_cols else [((), per_task)]):
        for kk in ks:
            eligible = g[g["size"] >= kk]
            at = [pass_at_k(int(n), int(c), kk) for n, c in zip(eligible["size"], eligible["sum"])]
            hat = [pass_hat_k(int(n), int(c), kk) for n, c in zip(eligible["size"], eligible["sum"])]
            rows.append({**_keydict(by_cols, key), "k": kk, "n_tasks": len(eligible),
                         "pass_at_k": float(np.mean(at)) if at else np.nan,
                         "pass_hat_k": float(np.mean(hat)) if hat else np.nan})
    return pd.DataFrame(rows, columns=[*by_cols, "k", "n_tasks", "pass_at_k", "pass_hat_k"])


def flip_rate(runs: pd.DataFrame, by: str | Sequence[str] | None = DEFAULT_CONFIG, *, task: str = "task_id",
              value: str = "correct", per_task: bool = False) -> pd.DataFrame:
    """Run-to-run instability of outcomes (see the module docstring for the definition).

    Per configuration: ``flip_rate`` (mean over tasks with >= 2 repeats of the fraction of
    repeats disagreeing with the task's majority outcome), ``any_flip`` (share of those
    tasks whose repeats disagree at all), ``n_tasks``. ``per_task=True`` returns the
    per-task values instead. Runs with a missing ``value`` are left out.
    """
    by_cols = _cols(by)
    df = runs[runs[value].notna()]
    rows = []
    for key, g in df.groupby(by_cols + [task], dropna=False):
        counts = g[value].astype(str).value_counts()
        n = int(counts.sum())
        if n < 2:
            continue
        top = counts.iloc[0]
        # with a tie between the two most common outcomes there is no majority: half disagree
        minority = n - top if len(counts) == 1 or counts.iloc[1] < top else n / 2
        rows.append({**_keydict(by_cols + [task], key), "n_repeats": n, "flip_rate": minority / n,
                     "any_flip": len(counts) > 1})
    tasks = pd.DataFrame(rows, columns=[*by_cols, task, "n_repeats", "flip_rate", "any_flip"])
    if per_task:
        return tasks
    if not by_cols:
        return pd.DataFrame([{"flip_rate": tasks["flip_rate"].mean() if len(tasks) else np.nan,
                              "any_flip": tasks["any_flip"].mean() if len(tasks) else np.nan,
                              "n_tasks": len(tasks)}])
    out = tasks.groupby(by_cols, dropna=False).agg(flip_rate=("flip_rate", "mean"), any_flip=("any_flip", "mean"),
                                                   n_tasks=(task, "size"))
    return out.reset_index()


def sign_flip_pvalue(diffs: np.ndarray, *, n: int = 10000, seed: int = 0) -> float:
    """Two-sided sign-flip permutation p-value for mean(diffs) = 0.

    Exact (all 2^m sign vectors) when 2^m <= n, else ``n`` random sign vectors with the
    (count + 1) / (n + 1) correction.
    """
    d = np.asarray(diffs, dtype=float)
    m = len(d)
    if m == 0:
        return float("nan")
    observed = abs(d.mean())
    tol = 1e-12 * max(1.0, observed)
    if 2 ** m <= n:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=m)))
        return float(np.mean(np.abs(signs @ d) / m >= observed - tol))
    rng = np.random.default_rng(seed)
    hits = 0
    step = max(1, 2_000_000 // m)
    for lo in range(0, n, step):
        signs = rng.choice((-1.0, 1.0), size=(min(step, n - lo), m))
        hits += int(np.sum(np.abs(signs @ d) / m >= observed - tol))
    return (hits + 1) / (n + 1)


def _select(runs: pd.DataFrame, config: Mapping[str, Any], name: str) -> pd.DataFrame:
    mask = np.ones(len(runs), dtype=bool)
    for col, val in config.items():
        if col not in runs.columns:
            raise ValueError(f"paired_test: {name} names column {col!r}, which the runs frame lacks")
        mask &= (runs[col] == val).fillna(False).to_numpy(dtype=bool)
    return runs[mask]


def paired_test(runs: pd.DataFrame, config_a: Mapping[str, Any], config_b: Mapping[str, Any], *,
                value: str = "correct", match: Sequence[str] = ("task_id", "repeat"), n: int = 10000,
                seed: int = 0, ci: float = 0.95) -> pd.Series:
    """Compare two configurations on matched runs: ``diff = value(a) - value(b)`` per pair.

    ``config_a``/``config_b`` select runs by column values, e.g.
    ``{"backend": "sim/strong", "tools_enabled": True}``. Pairs are matched on ``match``
    (same task and repeat, or ``("task_id", "seed")``); unmatched runs and missing values
    are dropped. Returns ``n_pairs``, ``mean_a``, ``mean_b``, ``mean_diff``, ``ci_low``/
    ``ci_high`` (bootstrap over pairs, clustered by task when ``task_id`` is matched),
    ``p_permutation`` (two-sided sign flip) and ``p_wilcoxon`` (only when scipy is
    installed, else NaN).
    """
    a, b = _select(runs, config_a, "config_a"), _select(runs, config_b, "config_b")
    match = list(match)
    for side, d in (("config_a", a), ("config_b", b)):
        dup = d.duplicated(match)
        if dup.any():
            raise ValueError(f"paired_test: {side} has {int(dup.sum())} runs sharing {match}; add columns to match "
                             "or narrow the config")
    pairs = a[match + [value]].merge(b[match + [value]], on=match, suffixes=("_a", "_b"))
    va = pd.to_numeric(pairs[f"{value}_a"], errors="coerce")
    vb = pd.to_numeric(pairs[f"{value}_b"], errors="coerce")
    keep = va.notna() & vb.notna()
    pairs, va, vb = pairs[keep], va[keep].to_numpy(float), vb[keep].to_numpy(float)
    diffs = va - vb
    out = {"n_pairs": len(diffs), "mean_a": float(va.mean()) if len(va) else np.nan,
           "mean_b": float(vb.mean()) if len(vb) else np.nan,
           "mean_diff": float(diffs.mean()) if len(diffs) else np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "p_permutation": sign_flip_pvalue(diffs, n=n, seed=seed), "p_wilcoxon": np.nan}
    if len(diffs):
        clusters = pairs["task_id"].to_numpy() if "task_id" in match else np.arange(len(diffs))
        boot = _clustered(diffs, clusters, 2000, seed, ci)
        out.update(ci_low=boot["low"], ci_high=boot["high"])
        try:  # optional: scipy is not a dependency
            from scipy.stats import wilcoxon

            if np.any(diffs != 0):
                out["p_wilcoxon"] = float(wilcoxon(diffs).pvalue)
        except ImportError:
            pass
    return pd.Series(out)
