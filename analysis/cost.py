"""Cost, latency and accuracy: run costs from LLM spans, the cost-accuracy Pareto frontier
with bootstrap uncertainty, and paired tool on/off deltas (the paper's figures 9, 10, 12).

Cost is charged on LLM-call spans only (``llm_calls_df``: tokens x the study's price
snapshot), never on agent or workflow spans, so nesting cannot double-count it: a run's
cost is the sum over its LLM spans, which is what ``runs.parquet`` stores as ``cost_usd``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "run_costs",
    "config_summary",
    "pareto_frontier",
    "pareto_bootstrap",
    "paired_tool_deltas",
    "tool_delta_summary",
]

CONFIG = ("instance", "backend", "tools_enabled")
"""Columns that identify a configuration cell."""


def _cols(by) -> list[str]:
    return [] if by is None else ([by] if isinstance(by, str) else list(by))


def run_costs(llm_calls: pd.DataFrame) -> pd.DataFrame:
    """Per-run cost and tokens summed over the run's LLM spans (an ``llm_calls_df`` frame).

    Columns: ``study_id`` (when present), ``run_id``, ``cost_usd`` (NaN when any call is
    unpriced), ``input_tokens``, ``output_tokens``, ``llm_calls``, ``unpriced_calls``.
    """
    if "span_type" in llm_calls.columns:
        llm_calls = llm_calls[llm_calls["span_type"] == "llm"]  # a spans frame: keep LLM spans only
    keys = ["study_id", "run_id"] if "study_id" in llm_calls.columns else ["run_id"]
    g = llm_calls.assign(_unpriced=llm_calls["cost_usd"].isna()).groupby(keys, sort=True)
    out = pd.DataFrame({
        "cost_usd": g["cost_usd"].sum(min_count=1),
        "input_tokens": g["input_tokens"].sum(),
        "output_tokens": g["output_tokens"].sum(),
        "llm_calls": g.size(),
        "unpriced_calls": g["_unpriced"].sum(),
    })
    out.loc[out["unpriced_calls"] > 0, "cost_usd"] = np.nan
    return out.reset_index()


def config_summary(runs: pd.DataFrame, by: str | Sequence[str] = CONFIG, *, quality: str = "correct",
                   cost: str = "cost_usd", latency: str = "duration_s") -> pd.DataFrame:
    """Per configuration: ``n_runs``, ``accuracy`` (mean of ``quality``), mean and median
    cost and latency (figure 9a/10 points)."""
    cols = _cols(by)
    g = runs.groupby(cols, dropna=False, sort=True)
    out = pd.DataFrame({
        "n_runs": g.size(),
        "accuracy": g[quality].mean(),
        "cost_usd": g[cost].mean(),
        "median_cost_usd": g[cost].median(),
        "duration_s": g[latency].mean(),
        "median_duration_s": g[latency].median(),
    })
    return out.reset_index()


def _dominated(cost: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """Boolean mask over the last axis: some other point is at most as costly and at least
    as good, and strictly better in one of the two. Works on (m,) or (draws, m)."""
    c_le = cost[..., None, :] <= cost[..., :, None]
    q_ge = quality[..., None, :] >= quality[..., :, None]
    strict = (cost[..., None, :] < cost[..., :, None]) | (quality[..., None, :] > quality[..., :, None])
    valid = ~(np.isnan(cost) | np.isnan(quality))
    dom = c_le & q_ge & strict & valid[..., None, :]
    return dom.any(-1) | ~valid


def pareto_frontier(df: pd.DataFrame, cost: str = "cost_usd", quality: str = "accuracy") -> pd.DataFrame:
    """``df`` with a boolean ``on_frontier`` column: no other row is both cheaper-or-equal
    and better-or-equal (strictly better in one). Rows with a missing value are never on it."""
    c = pd.to_numeric(df[cost], errors="coerce").to_numpy(float)
    q = pd.to_numeric(df[quality], errors="coerce").to_numpy(float)
    return df.assign(on_frontier=~_dominated(c, q))


def pareto_bootstrap(runs: pd.DataFrame, by: str | Sequence[str] = CONFIG, *, n: int = 1000, seed: int = 0,
                     cost: str = "cost_usd", quality: str = "correct", cluster: str = "task_id",
                     ci: float = 0.95) -> pd.DataFrame:
    """Cost-accuracy Pareto frontier with task-clustered bootstrap uncertainty.

    Each of ``n`` draws resamples tasks with replacement (the same tasks for every
    configuration, since they share the task set), recomputes every configuration's mean
    cost and accuracy over the drawn tasks' runs, and finds that draw's frontier.
    One row per configuration: point estimates, percentile CIs, ``on_frontier`` (on the
    full data) and ``frontier_freq`` (share of draws on the frontier).
    """
    cols = _cols(by)
    df = runs.assign(_c=pd.to_numeric(runs[cost], errors="coerce"), _q=pd.to_numeric(runs[quality], errors="coerce"))
    grouped = df.groupby(cols, dropna=False, sort=True)
    ccodes = grouped.ngroup().to_numpy()
    sizes = grouped.size()
    configs = [k if isinstance(k, tuple) else (k,) for k in sizes.index]
    tasks, tcodes = np.unique(df[cluster].astype(str).to_numpy(), return_inverse=True)
    m, t = len(configs), len(tasks)

    def table(col: str) -> tuple[np.ndarray, np.ndarray]:
        ok = df[col].notna().to_numpy()
        s, c = np.zeros((m, t)), np.zeros((m, t))
        np.add.at(s, (ccodes[ok], tcodes[ok]), df[col].to_numpy(float)[ok])
        np.add.at(c, (ccodes[ok], tcodes[ok]), 1.0)
        return s, c

    sc, cc = table("_c")
    sq, cq = table("_q")
    with np.errstate(invalid="ignore", divide="ignore"):
        point_c, point_q = sc.sum(1) / cc.sum(1), sq.sum(1) / cq.sum(1)
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, t, size=(n, t))
        w = np.stack([np.bincount(d, minlength=t) for d in draws]).astype(float)  # (n, t) task multiplicities
        bc = (w @ sc.T) / (w @ cc.T)
        bq = (w @ sq.T) / (w @ cq.T)
    on = ~_dominated(bc, bq)
    alpha = (1 - ci) / 2
    out = pd.DataFrame(configs, columns=cols)
    out["n_runs"] = sizes.to_numpy()
    out[cost] = point_c
    out["accuracy"] = point_q
    with warnings.catch_warnings():
        # a configuration with no priced or no judged run has no interval: NaN, said by the figure
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        out[f"{cost}_low"], out[f"{cost}_high"] = np.nanquantile(bc, alpha, axis=0), np.nanquantile(bc, 1 - alpha, axis=0)
        out["accuracy_low"], out["accuracy_high"] = np.nanquantile(bq, alpha, axis=0), np.nanquantile(bq, 1 - alpha, axis=0)
    out = out[[*cols, "n_runs", cost, f"{cost}_low", f"{cost}_high", "accuracy", "accuracy_low", "accuracy_high"]]
    out = out.assign(on_frontier=~_dominated(point_c, point_q), frontier_freq=on.mean(0))
    return out


def paired_tool_deltas(runs: pd.DataFrame, *, by: str | Sequence[str] = ("instance", "backend"),
                       match: Sequence[str] = ("task_id", "repeat"),
                       metrics: Sequence[str] = ("correct", "cost_usd", "duration_s")) -> pd.DataFrame:
    """Tools on minus tools off, per matched pair of runs (figure 12 data).

    Runs are paired within each ``by`` group on ``match`` (same task and repeat, or
    ``("task_id", "seed")`` where seeds are shared). One row per pair: the group and match
    columns, ``<metric>_on``, ``<metric>_off`` and ``delta_<metric>`` for each metric. A
    study without both tool settings (one of them, or tools unknown) has no pairs: the
    frame is empty, with those columns.
    """
    keys = _cols(by) + list(match)
    if "study_id" in runs.columns and runs["study_id"].nunique() > 1 and "study_id" not in keys:
        keys = ["study_id", *keys]  # several studies: pair runs within a study
    need = keys + ["tools_enabled"] + list(metrics)
    missing = [c for c in need if c not in runs.columns]
    if missing:
        raise ValueError(f"paired_tool_deltas: runs frame lacks {missing}")
    on = runs[runs["tools_enabled"] == True][keys + list(metrics)]  # noqa: E712 - nullable booleans
    off = runs[runs["tools_enabled"] == False][keys + list(metrics)]  # noqa: E712
    if on.empty or off.empty:
        on, off = on.iloc[:0], off.iloc[:0]  # nothing to pair: no duplicate to complain about
    for name, side in (("tools on", on), ("tools off", off)):
        if side.duplicated(keys).any():
            raise ValueError(f"paired_tool_deltas: several {name} runs share {keys}; add a column to match on")
    pairs = on.merge(off, on=keys, suffixes=("_on", "_off"))
    for mtr in metrics:
        pairs[f"delta_{mtr}"] = pd.to_numeric(pairs[f"{mtr}_on"], errors="coerce") - \
            pd.to_numeric(pairs[f"{mtr}_off"], errors="coerce")
    return pairs.sort_values(keys, kind="stable").reset_index(drop=True)


def tool_delta_summary(deltas: pd.DataFrame, by: str | Sequence[str] = "instance",
                       metrics: Sequence[str] = ("correct", "cost_usd", "duration_s")) -> pd.DataFrame:
    """Per group: pairs, median and mean delta and the share of pairs that went up, per metric."""
    cols = _cols(by)
    rows = []
    for key, g in deltas.groupby(cols, dropna=False, sort=True):
        row = dict(zip(cols, key if isinstance(key, tuple) else (key,)))
        row["n_pairs"] = len(g)
        for mtr in metrics:
            d = g[f"delta_{mtr}"].dropna()
            row[f"median_delta_{mtr}"] = float(d.median()) if len(d) else np.nan
            row[f"mean_delta_{mtr}"] = float(d.mean()) if len(d) else np.nan
            row[f"share_up_{mtr}"] = float((d > 0).mean()) if len(d) else np.nan
        rows.append(row)
    return pd.DataFrame(rows)
