"""Synthetic studies for the store tests, written through the store's own writers
(``benchmarks/scale.py``'s builder: ~24 spans and 5 resource samples per run)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def _scale():
    spec = importlib.util.spec_from_file_location("maestro_bench_scale", ROOT / "benchmarks" / "scale.py")
    assert spec and spec.loader
    mod = sys.modules.get("maestro_bench_scale")
    if mod is None:
        mod = importlib.util.module_from_spec(spec)
        sys.modules["maestro_bench_scale"] = mod
        spec.loader.exec_module(mod)
    return mod


def build_study(out: Path, n_runs: int, study_id: str = "synth", seed: int = 0, first: int = 0):
    """A study of ``n_runs`` runs (run ids ``run-<first>`` ...); returns its layout."""
    layout, _ = _scale().build_study(out, n_runs * 24, seed=seed, study_id=study_id, first=first)
    return layout


def canonical(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``df`` sorted by ``keys`` with a fresh index (order-free comparison)."""
    return df.sort_values(keys, kind="stable").reset_index(drop=True)
