"""Overview figures and the per-cell table from a stored study (no runner involved)."""

from __future__ import annotations

import pytest

from maestro import semconv as sc
from maestro.analysis import cell_table, overview_figures
from maestro.store import RunIndex, atomic_write_json, load_study


@pytest.fixture
def study(layout):
    atomic_write_json({"format": "maestro.study", "schema_version": sc.SCHEMA_VERSION, "study_id": layout.study_id,
                       "simulated": True}, layout.study_json)
    index = RunIndex(layout)
    rows = [("a", True, "correct", 1.0, 100, 0.002), ("b", True, "wrong", 3.0, 300, 0.004),
            ("c", False, "correct", 2.0, 200, 0.001), ("d", False, "unknown", 5.0, 50, 0.003)]
    for run_id, tools, judgement, dur, tokens, cost in rows:
        index.upsert({"schema_version": 1, "study_id": layout.study_id, "run_id": run_id, "instance": "crag",
                      "backend": "sim/strong", "tools_enabled": tools, "status": "success", "judgement": judgement,
                      "duration_s": dur, "total_tokens": tokens, "cost_usd": cost, "llm_calls": 2}, write=False)
    index.write()
    return layout


def test_cell_table_by_hand(study):
    t = cell_table(load_study(study.root)).set_index("tools_enabled")
    assert t.loc[True, "runs"] == 2 and t.loc[True, "accuracy"] == 0.5 and t.loc[True, "median_s"] == 2.0
    assert t.loc[False, "accuracy"] == 1.0  # the unknown judgement is not counted
    assert t.loc[False, "mean_cost_usd"] == pytest.approx(0.002)


def test_figures_written_and_labelled_simulated(study, tmp_path):
    paths = overview_figures(study.root, tmp_path / "figs")
    assert [p.name for p in paths] == ["accuracy_cost.png", "latency_tokens.png"]
    for p in paths:
        assert p.stat().st_size > 10_000 and p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the study folder itself stays loadable with figures beside the data
    overview_figures(study.root)
    assert len(load_study(study.root).runs) == 4
