"""Cost from LLM spans only, the Pareto frontier and its bootstrap, paired tool deltas."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maestro.analysis import failures_df, llm_calls_df, runs_df, spans_df
from maestro.analysis.cost import (
    config_summary,
    paired_tool_deltas,
    pareto_bootstrap,
    pareto_frontier,
    run_costs,
    tool_delta_summary,
)

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert


def test_run_cost_sums_llm_spans_without_double_counting(tmp_path):
    r1 = run_row("c", "r1", backend="sim/a", cost_usd=(1000 * 1 + 100 * 2 + 3000 * 1 + 300 * 2) / 1e6)
    r2 = run_row("c", "r2", backend="sim/b", cost_usd=(10 * 10 + 1 * 20) / 1e6)
    b = SpanBuilder(r1)
    root = b.add("run", input_tokens=4000, output_tokens=400)  # parents carrying sums are never charged
    agent = b.add("agent", root, agent_name="x", input_tokens=4000, output_tokens=400)
    chain = b.add("other", agent, agent_name="x", input_tokens=1000, output_tokens=100)
    b.add("llm", chain, agent_name="x", input_tokens=1000, output_tokens=100)
    inner = b.add("llm", agent, agent_name="x", input_tokens=3000, output_tokens=300)
    b.add("other", inner, input_tokens=3000, output_tokens=300)  # e.g. an HTTP child span
    b2 = SpanBuilder(r2)
    b2.add("llm", b2.add("run"), input_tokens=10, output_tokens=1)
    study = write_study(tmp_path / "c", [r1, r2], {"r1": b.rows, "r2": b2.rows})
    costs = run_costs(llm_calls_df(study)).set_index("run_id")
    assert costs.loc["r1", "cost_usd"] == pytest.approx(0.0048) and costs.loc["r1", "llm_calls"] == 2
    assert costs.loc["r1", "input_tokens"] == 4000 and costs.loc["r2", "cost_usd"] == pytest.approx(0.00012)
    stored = runs_df(study).set_index("run_id")["cost_usd"]
    assert costs["cost_usd"].to_dict() == pytest.approx(stored.to_dict())
    # a whole spans frame gives the same: only span_type == llm is charged
    sp = spans_df(study)
    sp = sp.assign(cost_usd=np.where(sp.span_type == "llm", 1.0, 100.0))
    assert run_costs(sp).set_index("run_id").loc["r1", "cost_usd"] == 2.0


def test_unpriced_calls_make_cost_unknown(tmp_path):
    r = run_row("u", "r1", backend="sim/unknown")
    b = SpanBuilder(r)
    b.add("llm", b.add("run"), input_tokens=5, output_tokens=5)
    costs = run_costs(llm_calls_df(write_study(tmp_path / "u", [r], {"r1": b.rows})))
    assert np.isnan(costs.cost_usd.iloc[0]) and costs.unpriced_calls.iloc[0] == 1


def test_pareto_frontier_by_hand():
    df = pd.DataFrame({"name": list("ABCDEF"), "cost_usd": [1, 2, 2, 3, 0.5, np.nan],
                       "accuracy": [0.5, 0.8, 0.7, 0.8, 0.2, 0.99]})
    on = pareto_frontier(df).set_index("name")["on_frontier"]
    # C: same cost as B, worse; D: same accuracy as B, dearer; F: unknown cost
    assert on.to_dict() == {"A": True, "B": True, "C": False, "D": False, "E": True, "F": False}


def _grid_runs():
    rows = []
    for task in range(6):
        for rep in range(2):
            # cheap-good dominates dear-bad on every task; mixed is cheap but worse on half the tasks
            rows.append({"cfg": "cheap-good", "task_id": f"t{task}", "repeat": rep, "cost_usd": 1.0, "correct": 1.0,
                         "tools_enabled": True, "duration_s": 2.0})
            rows.append({"cfg": "dear-bad", "task_id": f"t{task}", "repeat": rep, "cost_usd": 5.0, "correct": 0.0,
                         "tools_enabled": False, "duration_s": 1.0})
            rows.append({"cfg": "mixed", "task_id": f"t{task}", "repeat": rep, "cost_usd": 0.5,
                         "correct": float(task % 2), "tools_enabled": True, "duration_s": 3.0})
    return pd.DataFrame(rows)


def test_pareto_bootstrap_frequencies():
    out = pareto_bootstrap(_grid_runs(), by="cfg", n=300, seed=2).set_index("cfg")
    # cheap-good leaves the frontier only in draws of odd tasks alone, where mixed is right every time
    draws = np.random.default_rng(2).integers(0, 6, size=(300, 6))
    only_odd = np.mean((draws % 2 == 1).all(1))
    assert 0 < only_odd < 0.05
    assert out.loc["cheap-good", "frontier_freq"] == pytest.approx(1 - only_odd)
    assert out.loc["dear-bad", "frontier_freq"] == 0.0
    assert out.loc["mixed", "accuracy"] == pytest.approx(0.5) and out.loc["mixed", "cost_usd"] == 0.5
    # mixed is the cheapest configuration, so nothing can dominate it
    assert out.loc["mixed", "frontier_freq"] == 1.0
    assert out.loc["mixed", "accuracy_low"] < 0.5 < out.loc["mixed", "accuracy_high"]
    assert out.loc["cheap-good", "cost_usd_low"] == out.loc["cheap-good", "cost_usd_high"] == 1.0
    assert list(out.on_frontier) == [True, False, True] and (out.n_runs == 12).all()


def test_pareto_bootstrap_matches_a_loop_reference():
    runs = _grid_runs()
    rng = np.random.default_rng(0)
    runs["cost_usd"] = rng.uniform(0.5, 1.5, len(runs))
    out = pareto_bootstrap(runs, by="cfg", n=50, seed=7).set_index("cfg")
    draws = np.random.default_rng(7).integers(0, 6, size=(50, 6))
    tasks = sorted(runs.task_id.unique())
    freq = {c: 0 for c in out.index}
    for d in draws:
        sample = pd.concat([runs[runs.task_id == tasks[i]] for i in d])
        pts = sample.groupby("cfg").agg(cost_usd=("cost_usd", "mean"), accuracy=("correct", "mean")).reset_index()
        for c, f in zip(pts.cfg, pareto_frontier(pts).on_frontier):
            freq[c] += bool(f)
    assert {c: v / 50 for c, v in freq.items()} == pytest.approx(out.frontier_freq.to_dict())


def test_paired_tool_deltas_by_hand():
    rows = [
        ("crag", "m", True, "t1", 0, 1.0, 0.30, 10.0), ("crag", "m", False, "t1", 0, 0.0, 0.10, 8.0),
        ("crag", "m", True, "t2", 0, 1.0, 0.20, 9.0), ("crag", "m", False, "t2", 0, 1.0, 0.20, 12.0),
        ("crag", "m", True, "t3", 0, 0.0, 0.40, 5.0),  # no tools-off twin: unpaired
        ("lats", "m", True, "t1", 0, 0.0, 1.00, 20.0), ("lats", "m", False, "t1", 0, 1.0, 0.50, 10.0),
    ]
    runs = pd.DataFrame(rows, columns=["instance", "backend", "tools_enabled", "task_id", "repeat", "correct",
                                       "cost_usd", "duration_s"])
    d = paired_tool_deltas(runs)
    assert len(d) == 3
    crag = d[d.instance == "crag"].set_index("task_id")
    assert crag.loc["t1", "delta_correct"] == 1.0 and crag.loc["t1", "delta_cost_usd"] == pytest.approx(0.2)
    assert crag.loc["t2", "delta_duration_s"] == -3.0
    s = tool_delta_summary(d).set_index("instance")
    assert s.loc["crag", "median_delta_correct"] == 0.5 and s.loc["crag", "share_up_correct"] == 0.5
    assert s.loc["lats", "median_delta_cost_usd"] == pytest.approx(0.5) and s.loc["lats", "n_pairs"] == 1
    c = config_summary(runs).set_index(["instance", "tools_enabled"])
    assert c.loc[("crag", True), "accuracy"] == pytest.approx(2 / 3) and c.loc[("crag", True), "n_runs"] == 3


@pytest.mark.slow
def test_real_crag_study_cost_and_analysis(analysis_study):
    """The session's small real study (LangGraph CRAG against the simulated service, see
    conftest.py): the analysis layer reproduces the runner's per-run cost from the LLM
    spans and classifies every failure with an evidence span."""
    from maestro.analysis.callgraph import similarity_within
    from maestro.analysis.frames import edges_df

    path = analysis_study
    runs = runs_df(path)
    assert len(runs) == 16 and runs.simulated.all()
    costs = run_costs(llm_calls_df(path)).set_index("run_id")["cost_usd"]
    assert costs.to_dict() == pytest.approx(runs.set_index("run_id")["cost_usd"].to_dict(), rel=1e-9)
    assert (runs.llm_calls == run_costs(llm_calls_df(path)).set_index("run_id").loc[runs.run_id].llm_calls
            .to_numpy()).all()
    failed = runs[(runs.status != "success") | (runs.judgement != "correct")]
    f = failures_df(path)
    assert set(f.run_id) == set(failed.run_id) and f.evidence_span_id.notna().all()
    sim = similarity_within(runs, edges_df(path))
    assert sim.n_runs.sum() == 16 and ((sim.lcs_mean >= 0) & (sim.lcs_mean <= 1)).all()
