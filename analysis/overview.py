"""Overview figures of a study, straight from its parquet files.

Reads the store only (``maestro.store.load_study``). Figures of studies that used a
simulated backend say so in their titles.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from maestro.store.reader import Study, load_study

__all__ = ["overview_figures", "cell_table"]

CELL = ["instance", "backend", "tools_enabled"]


def cell_table(study: Study) -> pd.DataFrame:
    """Per (instance, backend, tools) cell: runs, accuracy, median latency, mean cost and tokens."""
    runs = study.runs
    judged = runs[runs["judgement"].isin(["correct", "wrong"])]
    acc = judged.groupby(CELL)["judgement"].apply(lambda s: (s == "correct").mean()).rename("accuracy")
    g = runs.groupby(CELL)
    table = pd.concat(
        [g.size().rename("runs"), acc, g["duration_s"].median().rename("median_s"),
         g["cost_usd"].mean().rename("mean_cost_usd"), g["total_tokens"].mean().rename("mean_tokens"),
         g["llm_calls"].mean().rename("mean_llm_calls")],
        axis=1,
    )
    return table.reset_index()


def _label(row) -> str:
    return f"{row['instance']}\n{row['backend']}\ntools {'on' if row['tools_enabled'] else 'off'}"


def overview_figures(study: str | os.PathLike[str] | Study, out: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write overview PNGs for a study; returns their paths.

    * ``accuracy_cost.png``: accuracy and mean cost per cell;
    * ``latency_tokens.png``: run duration and token distributions per cell.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    study = study if isinstance(study, Study) else load_study(study, spans=False, resources=False)
    out_dir = Path(out) if out is not None else study.path / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = " (SIMULATED backend)" if study.info.get("simulated") else ""
    cells = cell_table(study)
    labels = [_label(r) for _, r in cells.iterrows()]
    written = []

    fig, axes = plt.subplots(1, 2, figsize=(max(8, 2.2 * len(cells)), 4.5))
    axes[0].bar(labels, cells["accuracy"].fillna(0), color="#4c72b0")
    axes[0].set_ylim(0, 1)
    axes[0].set_ylabel("accuracy (correct / judged runs)")
    axes[1].bar(labels, cells["mean_cost_usd"].fillna(0), color="#dd8452")
    axes[1].set_ylabel("mean cost per run (USD)")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(f"{study.study_id}: accuracy and cost per configuration{suffix}")
    fig.tight_layout()
    written.append(out_dir / "accuracy_cost.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    runs = study.runs
    groups = [g for _, g in runs.groupby(CELL)]
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 2.2 * len(cells)), 4.5))
    axes[0].boxplot([g["duration_s"].dropna() for g in groups], tick_labels=labels)
    axes[0].set_ylabel("run duration (s)")
    axes[1].boxplot([g["total_tokens"].dropna() for g in groups], tick_labels=labels)
    axes[1].set_ylabel("tokens per run")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle(f"{study.study_id}: latency and tokens per configuration{suffix}")
    fig.tight_layout()
    written.append(out_dir / "latency_tokens.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written
