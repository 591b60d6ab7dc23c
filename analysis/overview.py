"""Overview figures of a study, straight from its parquet files.

Reads the store only (``maestro.store.load_study``). Figures of studies that used a
simulated backend say so in their titles.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from maestro.analysis.columns import key_label
from maestro.store.reader import Study, load_study

__all__ = ["overview_figures", "cell_table"]

CELL = ["instance", "backend", "tools_enabled"]


def cell_table(study: Study) -> pd.DataFrame:
    """Per (instance, backend, tools) cell (a missing tool setting is a cell of its own):
    runs, accuracy, median latency, mean cost and tokens."""
    runs = study.runs
    judged = runs[runs["judgement"].isin(["correct", "wrong"])]
    acc = judged.groupby(CELL, dropna=False)["judgement"].apply(lambda s: (s == "correct").mean()).rename("accuracy")
    g = runs.groupby(CELL, dropna=False)
    table = pd.concat(
        [g.size().rename("runs"), acc, g["duration_s"].median().rename("median_s"),
         g["cost_usd"].mean().rename("mean_cost_usd"), g["total_tokens"].mean().rename("mean_tokens"),
         g["llm_calls"].mean().rename("mean_llm_calls")],
        axis=1,
    )
    return table.reset_index()


def _label(row) -> str:
    from maestro.analysis.figures import wrap_label

    return wrap_label("\n".join(key_label(k, row[k]) for k in CELL))


def overview_figures(study: str | os.PathLike[str] | Study, out: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write overview PNGs for a study; returns their paths.

    * ``accuracy_cost.png``: accuracy and mean cost per cell;
    * ``latency_tokens.png``: run duration and token distributions per cell.
    """
    import matplotlib

    from maestro.analysis.figure_data import time_label, time_note

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    study = study if isinstance(study, Study) else load_study(study, spans=False, resources=False)
    if out is None and not isinstance(study.path, Path):
        raise ValueError(f"{study.path} is in object storage: give the figures a local folder (out=)")
    out_dir = Path(out) if out is not None else study.path / "figures"
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = " (SIMULATED backend)" if study.info.get("simulated") else ""
    cells = cell_table(study)
    labels = [_label(r) for _, r in cells.iterrows()]
    written = []

    def save(name: str, title: str, draw_left, draw_right) -> None:
        # stacked, at most 16 inches wide (2,400 px at 150 dpi); labels wrap (figures.wrap_label)
        fig, axes = plt.subplots(2, 1, figsize=(min(16.0, max(8.0, 1.05 * len(cells) + 1.5)), 8.5))
        draw_left(axes[0])
        draw_right(axes[1])
        for ax in axes:
            ax.tick_params(axis="x", labelsize=7)
        fig.suptitle(f"{study.study_id}: {title}{suffix}")
        fig.tight_layout()
        fig.savefig(out_dir / name, dpi=150)
        plt.close(fig)
        written.append(out_dir / name)

    def bars(column: str, ylabel: str, color: str, ylim=None):
        def draw(ax):
            ax.bar(labels, cells[column].fillna(0), color=color)
            ax.set_ylabel(ylabel)
            if ylim:
                ax.set_ylim(*ylim)
        return draw

    groups = [g for _, g in study.runs.groupby(CELL, dropna=False)]

    def boxes(column: str, ylabel: str):
        def draw(ax):
            ax.boxplot([g[column].dropna() for g in groups], tick_labels=labels)
            ax.set_ylabel(ylabel)
        return draw

    save("accuracy_cost.png", "accuracy and cost per configuration",
         bars("accuracy", "accuracy (correct / judged runs)", "#4c72b0", (0, 1)),
         bars("mean_cost_usd", "mean cost per run (USD)", "#dd8452"))
    save("latency_tokens.png", "latency and tokens per configuration",
         boxes("duration_s", time_label("run duration", time_note({study.study_id: study.info}))),
         boxes("total_tokens", "tokens per run (count)"))
    return written
