"""The analysis DataFrames on a hand-made study: every number is computed by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

import maestro
from maestro.analysis import (
    describe,
    duckdb_connection,
    edges_df,
    llm_calls_df,
    resources_df,
    runs_df,
    spans_df,
    tool_calls_df,
)
from maestro.analysis.columns import FRAME_SPECS

sys.path.insert(0, str(Path(__file__).parent))
from handmade import SpanBuilder, run_row, write_study  # noqa: E402 - after the sys.path insert


def _study(root: Path, sid: str = "hand") -> Path:
    r1 = run_row(sid, "r1", backend="sim/a", tools_enabled=True, llm_request_bytes=300, llm_response_bytes=700,
                 a2a_bytes=30, cost_usd=0.006, input_tokens=3000, output_tokens=1500, total_tokens=4500,
                 rss_peak_bytes=300_000_000, rss_mean_bytes=200_000_000)
    r2 = run_row(sid, "r2", backend="sim/b", tools_enabled=False, status="failure", outcome="failure",
                 judgement="wrong", exact_match=0.0, f1=0.5, answer="Lyon", cost_usd=0.0012, repeat=1, seed=2)
    b1 = SpanBuilder(r1)
    root_id = b1.add("run", name="invoke_workflow crag")
    b1.message("__start__", "planner", root_id, nbytes=5)
    # an agent span that (wrongly) carries its children's token sum: never charged
    planner = b1.add("agent", root_id, agent_name="planner", input_tokens=1000, output_tokens=500)
    b1.add("llm", planner, dur_ms=250, agent_name="planner", request_model="sim-a", response_model="sim-a-2",
           input_tokens=1000, output_tokens=500, total_tokens=1500, input_bytes=100, output_bytes=300, total_bytes=400)
    b1.message("planner", "solver", root_id, nbytes=20)
    solver = b1.add("agent", root_id, agent_name="solver", status_code="ERROR", retry_attempt=2)
    b1.add("llm", solver, dur_ms=500, agent_name="solver", request_model="sim-a", input_tokens=2000,
           output_tokens=1000, total_tokens=3000, input_bytes=200, output_bytes=400, total_bytes=600)
    b1.add("tool", solver, dur_ms=40, agent_name="solver", tool_name="search", input_bytes=7, output_bytes=70)
    b1.message("solver", "__end__", root_id, nbytes=5)
    b2 = SpanBuilder(r2)
    root2 = b2.add("run")
    b2.message("__start__", "solver", root2)
    s2 = b2.add("agent", root2, agent_name="solver")
    b2.add("llm", s2, agent_name="solver", request_model="sim-b", input_tokens=100, output_tokens=10, total_tokens=110)
    b2.message("solver", "__end__", root2)
    # stored out of time order: the edges frame orders by start time
    b2.rows = [b2.rows[i] for i in (0, 4, 2, 3, 1)]
    res = [{"study_id": sid, "run_id": "r1", "time_ns": t, "cpu_percent": c, "rss_bytes": m, "num_processes": 1}
           for t, c, m in [(5_000_000_000, 10.0, 100_000_000), (5_500_000_000, 30.0, 300_000_000),
                           (6_000_000_000, 20.0, 200_000_000)]]
    return write_study(root / sid, [r1, r2], {"r1": b1.rows, "r2": b2.rows}, {"r1": res})


@pytest.fixture
def study(tmp_path):
    return _study(tmp_path)


def test_runs_df_by_hand(study):
    r = runs_df(study).set_index("run_id")
    assert list(runs_df(study).columns) == [s.name for s in FRAME_SPECS["runs"]]
    assert r.loc["r1", "n_agents"] == 2 and r.loc["r1", "n_edges"] == 3 and r.loc["r2", "n_edges"] == 2
    assert r.loc["r1", "bytes"] == 1030 and r.loc["r2", "bytes"] == 0
    assert r.loc["r1", "correct"] == 1.0 and r.loc["r2", "correct"] == 0.0
    assert r.loc["r1", "n_error_spans"] == 1 and r.loc["r1", "max_retry_attempt"] == 2
    assert r.loc["r2", "max_retry_attempt"] == 1
    assert r.loc["r1", "config"] == "crag | sim/a | tools on" and r.loc["r2", "config"] == "crag | sim/b | tools off"
    assert r.loc["r1", "rss_peak_mb"] == 300.0 and r.loc["r1", "rss_mean_mb"] == 200.0
    assert str(r["repeat"].dtype) == "Int64" and str(r["tools_enabled"].dtype) == "boolean"


def test_columns_selects_specs_and_skips_span_files(study):
    df = runs_df(study, columns=["run_id", "cost_usd"])
    assert list(df.columns) == ["run_id", "cost_usd"] and df["cost_usd"].sum() == pytest.approx(0.0072)
    with pytest.raises(ValueError, match="unknown column.*'nope'"):
        runs_df(study, columns=["run_id", "nope"])
    assert "cost_usd" in set(describe("llm_calls")["column"])


def test_llm_calls_cost_from_price_snapshot(study):
    llm = llm_calls_df(study)
    assert len(llm) == 3  # LLM spans only, never the agent span that carries a token sum
    by_run = llm.groupby("run_id")["cost_usd"].sum()
    assert by_run["r1"] == pytest.approx((3000 * 1.0 + 1500 * 2.0) / 1e6)
    assert by_run["r2"] == pytest.approx((100 * 10.0 + 10 * 20.0) / 1e6)
    runs = runs_df(study).set_index("run_id")
    assert by_run.to_dict() == pytest.approx(runs["cost_usd"].to_dict())
    first = llm[llm.agent_name == "planner"].iloc[0]
    assert first.model == "sim-a-2" and first.latency_s == pytest.approx(0.25) and first.total_bytes == 400
    assert llm[llm.agent_name == "solver"].iloc[0].model == "sim-a"  # no response model: the requested one
    assert bool(first.simulated)


def test_tool_edges_and_resources(study):
    tools = tool_calls_df(study)
    assert list(tools.tool_name) == ["search"] and tools.latency_s.iloc[0] == pytest.approx(0.04)
    e = edges_df(study)
    seq = e[e.run_id == "r2"].sort_values("order")
    assert list(zip(seq.message_source, seq.message_target)) == [("__start__", "solver"), ("solver", "__end__")]
    assert list(seq.order) == [0, 1]
    e1 = e[e.run_id == "r1"]
    assert list(e1.order) == [0, 1, 2] and list(e1.bytes) == [5, 20, 5]
    res = resources_df(study)
    assert list(res.t_s) == [0.0, 0.5, 1.0] and list(res.rss_mb) == [100.0, 300.0, 200.0]
    assert set(res.instance) == {"crag"} and res.tools_enabled.all()
    sp = spans_df(study)
    assert len(sp) == 14 and sp.is_error.sum() == 1 and set(sp[sp.span_type == "agent"].attempt) == {1, 2}


def test_list_of_studies_and_study_objects(tmp_path):
    a, b = _study(tmp_path, "sa"), _study(tmp_path, "sb")
    both = runs_df([a, maestro.load_study(b)])
    assert len(both) == 4 and both.groupby("study_id").size().to_dict() == {"sa": 2, "sb": 2}
    pd.testing.assert_frame_equal(llm_calls_df(maestro.load_study(a)), llm_calls_df(a))
    assert len(edges_df([a, b])) == 10


def test_strict_and_lenient_errors(study, tmp_path):
    bad = study / "spans" / "r2.parquet"
    bad.write_bytes(bad.read_bytes()[:40])  # truncated
    with pytest.raises(maestro.TraceFormatError, match="r2.parquet"):
        spans_df(study)
    df, errors = spans_df([study, tmp_path / "not-a-study"], strict=False)
    assert set(df.run_id) == {"r1"}
    paths = [p for p, _ in errors]
    assert paths == [str(tmp_path / "not-a-study"), str(bad)]
    runs, errors = runs_df(study, strict=False)
    assert len(runs) == 2 and [p for p, _ in errors] == [str(bad)]  # span-derived columns skip the bad file
    counts = runs.set_index("run_id")["n_agents"]
    assert counts["r1"] == 2 and pd.isna(counts["r2"])  # unknown, not 0


def test_empty_study_has_typed_columns(tmp_path):
    root = write_study(tmp_path / "empty", [])
    df = llm_calls_df(root)
    assert len(df) == 0 and list(df.columns) == [s.name for s in FRAME_SPECS["llm_calls"]]
    assert len(runs_df(root)) == 0 and len(edges_df(root)) == 0


def test_duckdb_views_match_pandas(study):
    con = duckdb_connection(study)
    sql = con.sql("select run_id, sum(input_tokens) as tin, count(*) as n from spans "
                  "where span_type = 'llm' group by run_id order by run_id").df()
    llm = llm_calls_df(study).groupby("run_id").agg(tin=("input_tokens", "sum"), n=("span_id", "size")).reset_index()
    assert sql["run_id"].tolist() == llm["run_id"].tolist()
    assert sql["tin"].astype(int).tolist() == llm["tin"].astype(int).tolist() == [3000, 100]
    assert sql["n"].tolist() == llm["n"].tolist()
    assert con.sql("select count(*) from runs").fetchall()[0][0] == 2
    assert con.sql("select max(rss_bytes) from resources").fetchall()[0][0] == 300_000_000
